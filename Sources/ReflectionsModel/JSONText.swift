import Foundation

/// A small JSON object writer for the few values written once per pushed or pulled record.
///
/// The profiler (BENCHMARKS.md, session 4) showed Foundation's `JSONEncoder` at a fifth of the server's push work,
/// most of it escaping a body one character at a time. This writer produces the same JSON that the types'
/// `Codable` conformances read (keys in declaration order, `nil` left out), copying runs of plain UTF-8 at once.
/// `JSONTextTests` checks every writer against `JSONDecoder`, so the two cannot drift apart.
public struct JSONText: Sendable {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]
    private var first = true

    public init() {}

    /// Adds `"key":"value"` (escaped) when `value` is not nil.
    public mutating func add(_ key: String, _ value: String?) {
        guard let value else { return }
        self.key(key)
        Self.appendString(value, to: &bytes)
    }

    /// Adds `"key":number` when `value` is not nil.
    public mutating func add<N: BinaryInteger>(_ key: String, _ value: N?) {
        guard let value else { return }
        self.key(key)
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Adds `"key":true|false` when `value` is not nil.
    public mutating func add(_ key: String, _ value: Bool?) {
        guard let value else { return }
        self.key(key)
        bytes.append(contentsOf: (value ? "true" : "false").utf8)
    }

    /// The finished object.
    public var text: String {
        var closed = bytes
        closed.append(UInt8(ascii: "}"))
        return String(decoding: closed, as: UTF8.self)
    }

    private mutating func key(_ key: String) {
        if !first { bytes.append(UInt8(ascii: ",")) }
        first = false
        Self.appendString(key, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    /// Appends a JSON string: runs of bytes that need no escape are copied whole.
    static func appendString(_ string: String, to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { append($0, to: &bytes) }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func append(_ buffer: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        var runStart = 0
        for index in 0..<buffer.count {
            let byte = buffer[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<index]))
            runStart = index + 1
            switch byte {
            case UInt8(ascii: "\""): bytes.append(contentsOf: [0x5C, 0x22])
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [0x5C, 0x5C])
            case 0x0A: bytes.append(contentsOf: [0x5C, UInt8(ascii: "n")])
            case 0x0D: bytes.append(contentsOf: [0x5C, UInt8(ascii: "r")])
            case 0x09: bytes.append(contentsOf: [0x5C, UInt8(ascii: "t")])
            default:
                let hex = Array("0123456789abcdef".utf8)
                bytes.append(contentsOf: [
                    0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)],
                ])
            }
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<buffer.count]))
    }
}

extension RecordFields {
    /// These fields as the JSON that `Codable` reads (see ``JSONText``).
    public var jsonText: String {
        var json = JSONText()
        json.add("title", title)
        json.add("body", body)
        json.add("visibility", visibility?.rawValue)
        json.add("promptID", promptID)
        json.add("deleted", deleted)
        json.add("hidden", hidden)
        return json.text
    }
}

extension MutationResult {
    /// This result as the JSON that `Codable` reads (see ``JSONText``).
    public var jsonText: String {
        var json = JSONText()
        json.add("mutationID", mutationID.uuidString)
        json.add("outcome", outcome.rawValue)
        json.add("originalOutcome", originalOutcome?.rawValue)
        json.add("version", version)
        json.add("sequence", sequence)
        json.add("code", code)
        json.add("reason", reason)
        return json.text
    }
}
