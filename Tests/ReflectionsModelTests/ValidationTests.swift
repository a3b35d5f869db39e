import Foundation
import ReflectionsModel
import Testing

@Suite struct ValidationTests {
    @Test(arguments: [
        ("", ValidationError.Code.titleEmpty),
        ("   ", .titleEmpty),
        (String(repeating: "a", count: 201), .titleTooLong),
        ("two\nlines", .titleMultiline),
        ("bell\u{07}", .controlCharacter),
        ("nul\u{0}", .controlCharacter),
        ("c1\u{85}", .controlCharacter),
        ("cr\ralone", .controlCharacter),
    ])
    func badTitlesAreRefusedWithTheirOwnCode(title: String, code: ValidationError.Code) {
        #expect(throws: ValidationError.self) { try Validation.title(title) }
        do {
            _ = try Validation.title(title)
        } catch {
            #expect(error.code == code)
            #expect(error.field == "title")
            #expect(!error.message.isEmpty)
        }
    }

    @Test func titlesAreTrimmedAndNormalisedToNFC() throws {
        let decomposed = "Cafe\u{301} talk"
        let title = try Validation.title("  \(decomposed)  ")
        #expect(title == "Caf\u{E9} talk")
        #expect(title.unicodeScalars.count == 9)
        #expect(try Validation.title(String(repeating: "é", count: 200)).count == 200)
    }

    @Test func bodyLimitIs64KiBOfUTF8() throws {
        let exact = String(repeating: "a", count: Limits.reflectionBodyMaxBytes)
        #expect(try Validation.reflectionBody(exact) == exact)
        // 'é' is two bytes in UTF-8: 32,769 of them are 65,538 bytes.
        let over = String(repeating: "é", count: Limits.reflectionBodyMaxBytes / 2 + 1)
        do {
            _ = try Validation.reflectionBody(over)
            Issue.record("a body over 64 KiB was accepted")
        } catch {
            #expect(error.code == .bodyTooLong)
            #expect(error.message.contains("65538"))
        }
    }

    @Test func bodiesKeepNewlinesAndTabsAndTurnCRLFIntoLF() throws {
        #expect(try Validation.reflectionBody("a\r\nb\tc\n") == "a\nb\tc\n")
        #expect(throws: ValidationError.self) { try Validation.reflectionBody("a\u{1B}[31m") }
        #expect(throws: ValidationError.self) { try Validation.reflectionBody(" \n\t ") }
    }

    @Test func commentsHoldOneCharacterTo8KiB() throws {
        #expect(try Validation.commentBody("!") == "!")
        #expect(try Validation.commentBody(String(repeating: "x", count: 8192)).utf8.count == 8192)
        for (text, code) in [
            ("", ValidationError.Code.commentEmpty), (String(repeating: "x", count: 8193), .commentTooLong),
        ] {
            do {
                _ = try Validation.commentBody(text)
                Issue.record("accepted \(text.count) characters")
            } catch {
                #expect(error.code == code)
            }
        }
    }

    @Test func idsMustBeUUIDs() throws {
        let id = UUID()
        #expect(try Validation.id(id.uuidString.lowercased()) == id)
        for bad in ["", "42", "../../etc/passwd", "6F9619FF-8B86-D011-B42D-00C04FC964F"] {
            do {
                _ = try Validation.id(bad)
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.code == .invalidID)
            }
        }
    }

    @Test func handlesAndPasswords() throws {
        #expect(try Validation.handle(" Amara_O ") == "amara_o")
        #expect(throws: ValidationError.self) { try Validation.handle("ab") }
        #expect(throws: ValidationError.self) { try Validation.handle("has space") }
        #expect(try Validation.password("0123456789") == "0123456789")
        #expect(throws: ValidationError.self) { try Validation.password("short") }
        #expect(throws: ValidationError.self) { try Validation.password(String(repeating: "p", count: 1025)) }
    }

    @Test func theSixDiscussionQuestionsAreTheDefaultPrompts() {
        #expect(Prompt.defaults.count == 6)
        #expect(Prompt.defaults.map(\.id) == [1, 2, 3, 4, 5, 6])
        #expect(Prompt.defaults[0].text == "What does great allyship look like?")
        #expect(Prompt.defaults[5].text == "What has delayed improvement work addressing racial inequity?")
    }
}

/// The plain-ASCII fast path of ``Validation`` must give what the rules (written out again here, the slow way)
/// give, for ASCII and non-ASCII text alike.
@Suite struct ValidationFastPathTests {
    enum Expected: Equatable {
        case value(String)
        case error(ValidationError.Code)
    }

    static func reference(body raw: String, empty: ValidationError.Code) -> Expected {
        let text = Validation.normalise(raw)
        if text.unicodeScalars.contains(where: Validation.isForbiddenControl) { return .error(.controlCharacter) }
        if text.unicodeScalars.allSatisfy({ $0.properties.isWhitespace }) { return .error(empty) }
        return .value(text)
    }

    static func reference(title raw: String) -> Expected {
        let text = Validation.normalise(raw).trimmingCharacters(in: .whitespaces)
        if text.unicodeScalars.contains(where: Validation.isForbiddenControl) { return .error(.controlCharacter) }
        if text.contains("\n") { return .error(.titleMultiline) }
        if text.isEmpty { return .error(.titleEmpty) }
        if text.count > Limits.titleMaxCharacters { return .error(.titleTooLong) }
        return .value(text)
    }

    static func outcome(_ check: (String) throws(ValidationError) -> String, _ text: String) -> Expected {
        do throws(ValidationError) {
            return .value(try check(text))
        } catch {
            return .error(error.code)
        }
    }

    @Test func plainAndGeneralPathsAgreeWithTheRules() {
        var random = SeededGenerator(seed: 11)
        let alphabet: [String] = [
            "a", "Z", " ", "\t", "\n", "\r", ".", "\u{7F}", "\u{1}", "\u{E9}", "e\u{301}", "\u{85}",
        ]
        for round in 0..<5_000 {
            let length = round == 0 ? 201 : Int.random(in: 0...12, using: &random)
            let text = (0..<length).map { _ in round == 0 ? "a" : alphabet.randomElement(using: &random)! }.joined()
            #expect(Self.outcome(Validation.reflectionBody, text) == Self.reference(body: text, empty: .bodyEmpty))
            #expect(Self.outcome(Validation.commentBody, text) == Self.reference(body: text, empty: .commentEmpty))
            #expect(Self.outcome(Validation.title, text) == Self.reference(title: text))
        }
    }
}
