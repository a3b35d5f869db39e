import Foundation

/// Strict decoding of request bodies: well-formed UTF-8 JSON, nesting at most ``maxDepth`` deep, no duplicate
/// keys, and no fields the target type does not know.
///
/// Foundation's `JSONDecoder` ignores unknown keys and keeps one of two duplicate keys; a sync protocol that
/// accepted either could silently drop what a newer or buggy client meant, so both are refused.
enum StrictJSON {
    /// The deepest nesting of arrays and objects a body may have.
    static let maxDepth = 32

    /// Decodes `data` as `T`, or throws a 400 ``ServerError`` that says what is wrong.
    static func decode<T: Codable>(_ type: T.Type, from data: Data) throws -> T {
        try scan(data)
        let value: T
        do {
            value = try JSONDecoder().decode(T.self, from: data)
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            throw ServerError.badRequest("malformed_json", "The body is not valid JSON.")
        } catch let error as DecodingError {
            throw ServerError.badRequest("invalid_body", describe(error))
        } catch {
            throw ServerError.badRequest("malformed_json", "The body is not valid JSON.")
        }
        // Unknown fields: every key of the input that holds a value must survive a round trip through T.
        let input = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
        let echoed = try? JSONSerialization.jsonObject(with: JSONEncoder().encode(value), options: [.fragmentsAllowed])
        if let input, let echoed, let path = unknownKey(input, echoed, path: "") {
            throw ServerError.badRequest("unknown_field", "The body has a field this server does not know: '\(path)'.")
        }
        return value
    }

    private static func unknownKey(_ input: Any, _ echoed: Any, path: String) -> String? {
        if let object = input as? [String: Any] {
            let known = echoed as? [String: Any] ?? [:]
            for (key, value) in object.sorted(by: { $0.key < $1.key }) {
                let here = path.isEmpty ? key : "\(path).\(key)"
                guard let echoedValue = known[key] else {
                    if value is NSNull { continue }
                    return here
                }
                if let found = unknownKey(value, echoedValue, path: here) { return found }
            }
        } else if let array = input as? [Any], let echoedArray = echoed as? [Any] {
            for (index, value) in array.enumerated() where index < echoedArray.count {
                if let found = unknownKey(value, echoedArray[index], path: "\(path)[\(index)]") { return found }
            }
        }
        return nil
    }

    /// One pass over the bytes: checks UTF-8, nesting depth and duplicate keys without building values.
    static func scan(_ data: Data) throws {
        guard String(data: data, encoding: .utf8) != nil else {
            throw ServerError.badRequest("invalid_utf8", "The body is not valid UTF-8.")
        }
        let bytes = [UInt8](data)
        var index = 0
        var stack: [Set<[UInt8]>?] = []  // per open container: keys seen (nil for arrays)
        var expectingKey = false
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if stack.count >= maxDepth {
                    throw ServerError.badRequest(
                        "too_deep", "The body nests deeper than \(maxDepth) levels of arrays and objects.")
                }
                stack.append(byte == UInt8(ascii: "{") ? Set() : nil)
                expectingKey = byte == UInt8(ascii: "{")
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                _ = stack.popLast()
                expectingKey = false
                index += 1
            case UInt8(ascii: ","):
                expectingKey = (stack.last ?? nil) != nil
                index += 1
            case UInt8(ascii: ":"):
                expectingKey = false
                index += 1
            case UInt8(ascii: "\""):
                let start = index + 1
                index += 1
                while index < bytes.count && bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                if expectingKey, var keys = stack.last ?? nil {
                    let key = Array(bytes[start..<min(index, bytes.count)])
                    if !keys.insert(key).inserted {
                        let name = String(decoding: key, as: UTF8.self)
                        throw ServerError.badRequest("duplicate_key", "The body names the key '\(name)' twice.")
                    }
                    stack[stack.count - 1] = keys
                    expectingKey = false
                }
                index += 1
            default:
                index += 1
            }
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let text = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            return text.isEmpty ? "the body" : "'\(text)'"
        }
        switch error {
        case .typeMismatch(_, let context): return "Wrong type at \(path(context)): \(context.debugDescription)"
        case .valueNotFound(_, let context): return "Missing value at \(path(context))."
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : " in \(path(context))"
            return "Missing field '\(key.stringValue)'\(parent)."
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty ? "The body is not valid JSON." : "Invalid value at \(path(context))."
        @unknown default: return "The body does not match what this endpoint expects."
        }
    }
}
