import Foundation

/// The validation rules for everything a member writes.
///
/// Every function normalises first and then checks, and returns the normalised value:
/// - `\r\n` becomes `\n`, then the text is normalised to Unicode NFC;
/// - no control characters except newline (`\n`) and tab (`\t`): C0 controls, DEL and C1 controls are refused,
///   so a lone `\r` is refused too;
/// - the limits are those of ``Limits``.
///
/// ```swift
/// let title = try Validation.title("  Allyship on the ward ")   // "Allyship on the ward"
/// try Validation.title("")                                       // throws .titleEmpty
/// ```
public enum Validation {
    /// Normalises line endings and Unicode form (NFC); does not check anything.
    ///
    /// Fast paths, since this runs on every pushed body: text without `\r` skips the line-ending pass, and text
    /// whose scalars are all below U+0300 is already NFC (every such scalar is NFC_QC=Yes with combining class 0),
    /// which covers ASCII and the precomposed Latin letters of most writing.
    public static func normalise(_ text: String) -> String {
        var result = text
        if text.utf8.contains(13) { result = result.replacingOccurrences(of: "\r\n", with: "\n") }
        if result.unicodeScalars.contains(where: { $0.value >= 0x300 }) {
            result = result.precomposedStringWithCanonicalMapping
        }
        return result
    }

    /// What one pass over the bytes says of text that is printable ASCII, newlines and tabs only (most writing):
    /// such text is already normalised and holds no forbidden control. `nil` for any other text, which then takes
    /// the general (slower) path. The push profile showed the general path's three passes over Unicode scalars at
    /// a seventh of the server's work.
    enum PlainASCII { case blank, visible }

    static func plainASCII(_ text: String) -> PlainASCII? {
        var visible = false
        for byte in text.utf8 {
            switch byte {
            case 0x09, 0x0A, 0x20: continue
            case 0x21...0x7E: visible = true
            default: return nil
            }
        }
        return visible ? .visible : .blank
    }

    /// Whether the text holds nothing but white space.
    static func isBlank(_ text: String) -> Bool {
        text.unicodeScalars.allSatisfy { $0.properties.isWhitespace }
    }

    /// A reflection's title: trimmed, 1–200 characters and at most 1 KiB of UTF-8, one line.
    public static func title(_ raw: String) throws(ValidationError) -> String {
        let plain = plainASCII(raw)
        let text = (plain == nil ? normalise(raw) : raw).trimmingCharacters(in: .whitespaces)
        if plain == nil { try checkControls(text, field: "title") }
        if text.utf8.contains(0x0A) {
            throw ValidationError(
                .titleMultiline, field: "title", "The title must fit on one line: remove the line breaks.")
        }
        if text.isEmpty {
            throw ValidationError(
                .titleEmpty, field: "title", "The title is empty: give it 1 to \(Limits.titleMaxCharacters) characters."
            )
        }
        if text.utf8.count > Limits.titleMaxBytes {
            throw ValidationError(
                .titleTooLong, field: "title",
                "The title is \(text.utf8.count) bytes; the limit is \(Limits.titleMaxBytes) bytes (1 KiB) of UTF-8."
            )
        }
        // Plain ASCII has one character per byte.
        let characters = plain == nil ? text.count : text.utf8.count
        if characters > Limits.titleMaxCharacters {
            throw ValidationError(
                .titleTooLong, field: "title",
                "The title has \(characters) characters; shorten it to at most \(Limits.titleMaxCharacters)."
            )
        }
        return text
    }

    /// A reflection's body: at least one visible character, at most 64 KiB of UTF-8.
    public static func reflectionBody(_ raw: String) throws(ValidationError) -> String {
        try body(
            raw, maxBytes: Limits.reflectionBodyMaxBytes, empty: .bodyEmpty, tooLong: .bodyTooLong,
            emptyMessage: "The reflection's text is empty: write something first.", what: "The reflection's text",
            limit: "64 KiB")
    }

    /// A comment's body: at least one visible character, at most 8 KiB of UTF-8.
    public static func commentBody(_ raw: String) throws(ValidationError) -> String {
        try body(
            raw, maxBytes: Limits.commentBodyMaxBytes, empty: .commentEmpty, tooLong: .commentTooLong,
            emptyMessage: "The comment is empty: write at least one character.", what: "The comment", limit: "8 KiB")
    }

    /// The rules every body shares: normalised, no control characters, not blank, at most `maxBytes` of UTF-8.
    private static func body(
        _ raw: String, maxBytes: Int, empty: ValidationError.Code, tooLong: ValidationError.Code, emptyMessage: String,
        what: String, limit: String
    ) throws(ValidationError) -> String {
        let plain = plainASCII(raw)
        let text = plain == nil ? normalise(raw) : raw
        if plain == nil { try checkControls(text, field: "body") }
        if plain == .blank || (plain == nil && isBlank(text)) {
            throw ValidationError(empty, field: "body", emptyMessage)
        }
        let bytes = text.utf8.count
        if bytes > maxBytes {
            throw ValidationError(
                tooLong, field: "body", "\(what) is \(bytes) bytes; the limit is \(maxBytes) bytes (\(limit)) of UTF-8."
            )
        }
        return text
    }

    /// A member's handle: 3–32 of `a-z 0-9 . _ -`, lower-cased.
    public static func handle(_ raw: String) throws(ValidationError) -> String {
        let text = raw.trimmingCharacters(in: .whitespaces).lowercased()
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        guard (Limits.handleMinCharacters...Limits.handleMaxCharacters).contains(text.count),
            text.allSatisfy({ allowed.contains($0) })
        else {
            throw ValidationError(
                .invalidHandle, field: "handle",
                "A handle is \(Limits.handleMinCharacters) to \(Limits.handleMaxCharacters) characters of a-z, 0-9, '.', '_' and '-'."
            )
        }
        return text
    }

    /// A member's display name: trimmed, 1–100 characters and at most 512 bytes of UTF-8, one line, with no tab
    /// and no invisible formatting character (bidirectional overrides, zero-width characters: Unicode category
    /// Cf), and not one of the words the client shows for people ("you", "another member"), so that a name can
    /// neither pass for the reader's own writing nor render as something else.
    public static func displayName(_ raw: String) throws(ValidationError) -> String {
        try name(
            raw, field: "displayName", code: .invalidDisplayName, maxCharacters: Limits.displayNameMaxCharacters,
            maxBytes: Limits.displayNameMaxBytes, reserved: ["you", "another member", "a moderator", "its author"],
            what: "A display name", example: "")
    }

    /// A device name: as a display name (see ``displayName(_:)``), 1–40 characters and at most 160 bytes.
    public static func deviceName(_ raw: String) throws(ValidationError) -> String {
        try name(
            raw, field: "deviceName", code: .invalidDeviceName, maxCharacters: Limits.deviceNameMaxCharacters,
            maxBytes: Limits.deviceNameMaxBytes, reserved: ["this device", "other device", "your other device"],
            what: "A device name", example: ", such as 'laptop'")
    }

    /// A clock stamp's node: 1–``Limits/hlcNodeMaxBytes`` printable ASCII characters (no space, no control).
    public static func hlcNode(_ node: String) throws(ValidationError) -> String {
        let bytes = Array(node.utf8)
        guard !bytes.isEmpty, bytes.count <= Limits.hlcNodeMaxBytes, bytes.allSatisfy({ (0x21...0x7E).contains($0) })
        else {
            throw ValidationError(
                .invalidClock, field: "hlc",
                "A mutation's clock must name its device in 1 to \(Limits.hlcNodeMaxBytes) printable ASCII characters.")
        }
        return node
    }

    private static func name(
        _ raw: String, field: String, code: ValidationError.Code, maxCharacters: Int, maxBytes: Int,
        reserved: Set<String>, what: String, example: String
    ) throws(ValidationError) -> String {
        let text = normalise(raw).trimmingCharacters(in: .whitespaces)
        try checkControls(text, field: field)
        if text.unicodeScalars.contains(where: { $0 == "\t" || $0.properties.generalCategory == .format }) {
            throw ValidationError(
                code, field: field, "\(what) may not hold tabs or invisible formatting characters.")
        }
        if reserved.contains(text.lowercased()) {
            throw ValidationError(code, field: field, "'\(text)' is a word the app itself uses: choose another name.")
        }
        guard !text.isEmpty, text.utf8.count <= maxBytes, text.count <= maxCharacters, !text.contains("\n") else {
            throw ValidationError(
                code, field: field,
                "\(what) is 1 to \(maxCharacters) characters (at most \(maxBytes) bytes) on one line\(example).")
        }
        return text
    }

    /// A password: at least 10 characters, at most 1,024 bytes. It is not normalised beyond NFC.
    public static func password(_ raw: String) throws(ValidationError) -> String {
        let text = raw.precomposedStringWithCanonicalMapping
        if text.count < Limits.passwordMinCharacters {
            throw ValidationError(
                .passwordTooShort, field: "password",
                "The password is too short: use at least \(Limits.passwordMinCharacters) characters."
            )
        }
        if text.utf8.count > Limits.passwordMaxBytes {
            throw ValidationError(
                .passwordTooLong, field: "password",
                "The password is too long: use at most \(Limits.passwordMaxBytes) bytes."
            )
        }
        return text
    }

    /// An id given as text (a command-line argument or a URL path segment): must be a UUID.
    public static func id(_ raw: String, field: String = "id") throws(ValidationError) -> UUID {
        guard let id = UUID(uuidString: raw.trimmingCharacters(in: .whitespaces)) else {
            let shown = raw.count > 40 ? String(raw.prefix(40)) + "…" : raw
            throw ValidationError(
                .invalidID, field: field,
                "'\(shown)' is not an id: ids are UUIDs such as 6F9619FF-8B86-D011-B42D-00C04FC964FF."
            )
        }
        return id
    }

    /// Whether a Unicode scalar is a control character that text may not hold.
    public static func isForbiddenControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A: false
        case 0x00...0x1F, 0x7F, 0x80...0x9F: true
        default: false
        }
    }

    private static func checkControls(_ text: String, field: String) throws(ValidationError) {
        if let bad = text.unicodeScalars.first(where: isForbiddenControl) {
            let hex = String(bad.value, radix: 16, uppercase: true)
            throw ValidationError(
                .controlCharacter, field: field,
                "The \(field) holds the control character U+\(String(repeating: "0", count: max(0, 4 - hex.count)))\(hex); only newline and tab are allowed."
            )
        }
    }
}
