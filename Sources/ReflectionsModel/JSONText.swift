import Foundation

/// A small JSON object writer for the values written once per pushed or pulled record, and for pull pages.
///
/// The profiler (BENCHMARKS.md, session 4) showed Foundation's `JSONEncoder` at a fifth of the server's push work,
/// most of it escaping a body one character at a time, and at a fifth of serving a pull (session 4). This writer
/// produces the same JSON that the types' `Codable` conformances read (`nil` left out), copying runs of plain
/// UTF-8 at once.
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

    /// Adds `"key":"UUID"` (upper-case, as `uuidString` spells it) when `value` is not nil.
    public mutating func add(_ key: String, uuid value: UUID?) {
        guard let value else { return }
        self.key(key)
        bytes.append(UInt8(ascii: "\""))
        UUIDText.append(value, to: &bytes)
        bytes.append(UInt8(ascii: "\""))
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

    /// Adds `"key":{…}` with the fields `write` adds, written straight into this buffer (no copy of the nested
    /// object), when `value` is not nil.
    public mutating func add<T>(_ key: String, object value: T?, _ write: (T, inout JSONText) -> Void) {
        guard let value else { return }
        self.key(key)
        nested(value, write)
    }

    /// Adds `"key":[{…},…]`, each element's fields added by `write`, straight into this buffer, when `elements`
    /// is not nil.
    public mutating func add<T>(_ key: String, objects elements: [T]?, _ write: (T, inout JSONText) -> Void) {
        guard let elements else { return }
        self.key(key)
        bytes.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            nested(element, write)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Adds `"key":[…]` with each element's JSON copied in as it is. Only for text this program wrote itself
    /// (``EncodedPush``: a device's own outbox); nothing here checks that it is JSON.
    mutating func add(_ key: String, rawObjects elements: [String]) {
        self.key(key)
        bytes.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: element.utf8)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    private mutating func nested<T>(_ value: T, _ write: (T, inout JSONText) -> Void) {
        bytes.append(UInt8(ascii: "{"))
        first = true
        write(value, &self)
        bytes.append(UInt8(ascii: "}"))
        first = false
    }

    /// Ends the object and hands over its bytes (without copying them).
    public consuming func finish() -> [UInt8] {
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }

    /// The finished object, as UTF-8.
    public var utf8: [UInt8] {
        var closed = bytes
        closed.append(UInt8(ascii: "}"))
        return closed
    }

    /// The finished object.
    public var text: String { String(decoding: utf8, as: UTF8.self) }

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
        write(to: &json)
        return json.text
    }
}

extension MutationResult {
    /// This result as the JSON that `Codable` reads (see ``JSONText``).
    public var jsonText: String {
        var json = JSONText()
        write(to: &json)
        return json.text
    }

    /// Adds this result's fields.
    public func write(to json: inout JSONText) {
        json.add("mutationID", uuid: mutationID)
        json.add("outcome", outcome.rawValue)
        json.add("originalOutcome", originalOutcome?.rawValue)
        json.add("version", version)
        json.add("sequence", sequence)
        json.add("code", code)
        json.add("reason", reason)
    }
}

extension PushResponse {
    /// This answer as the JSON that `Codable` reads (see ``JSONText``): how the server answers every push
    /// (`JSONEncoder` took about 1.3 ms of a 360-record push's critical path).
    public var jsonUTF8: [UInt8] {
        var json = JSONText()
        json.add("protocolVersion", protocolVersion)
        json.add("results", objects: results) { $0.write(to: &$1) }
        json.add("epoch", epoch)
        return json.finish()
    }
}

extension HLCTimestamp {
    /// This stamp as the JSON that `Codable` reads (see ``JSONText``).
    public var jsonUTF8: [UInt8] {
        var json = JSONText()
        write(to: &json)
        return json.finish()
    }

    /// Adds this stamp's fields.
    public func write(to json: inout JSONText) {
        json.add("physical", physical)
        json.add("counter", counter)
        json.add("node", node)
    }
}

extension RecordFields {
    /// Adds these fields' fields (see ``jsonText``).
    public func write(to json: inout JSONText) {
        json.add("title", title)
        json.add("body", body)
        json.add("visibility", visibility?.rawValue)
        json.add("promptID", promptID)
        json.add("deleted", deleted)
        json.add("hidden", hidden)
    }
}

extension ConflictRevision {
    /// This revision as the JSON that `Codable` reads (see ``JSONText``).
    public var jsonUTF8: [UInt8] {
        var json = JSONText()
        write(to: &json)
        return json.finish()
    }

    /// Adds this revision's fields.
    public func write(to json: inout JSONText) {
        json.add("id", uuid: id)
        json.add("entity", entity.rawValue)
        json.add("recordID", uuid: recordID)
        json.add("kind", kind.rawValue)
        json.add("fields", object: fields) { $0.write(to: &$1) }
        json.add("base", object: base) { $0.write(to: &$1) }
        json.add("baseVersion", baseVersion)
        json.add("clientID", uuid: clientID)
        json.add("deviceName", deviceName)
        json.add("hlc", object: hlc) { $0.write(to: &$1) }
        json.add("createdAt", createdAt)
    }
}

extension Reflection {
    /// This reflection as the JSON that `Codable` reads (see ``JSONText``).
    public var jsonUTF8: [UInt8] {
        var json = JSONText()
        write(to: &json)
        return json.finish()
    }

    /// Adds this reflection's fields.
    public func write(to json: inout JSONText) {
        json.add("id", uuid: id)
        json.add("authorID", uuid: authorID)
        json.add("promptID", promptID)
        json.add("title", title)
        json.add("body", body)
        json.add("visibility", visibility.rawValue)
        json.add("createdAt", createdAt)
        json.add("writtenAt", writtenAt)
        json.add("updatedAt", updatedAt)
        json.add("deleted", deleted)
        json.add("version", version)
        json.add("conflicted", conflicted)
        json.add("authorName", authorName)
    }
}

extension Comment {
    /// This comment as the JSON that `Codable` reads (see ``JSONText``).
    public var jsonUTF8: [UInt8] {
        var json = JSONText()
        write(to: &json)
        return json.finish()
    }

    /// Adds this comment's fields.
    public func write(to json: inout JSONText) {
        json.add("id", uuid: id)
        json.add("reflectionID", uuid: reflectionID)
        json.add("authorID", uuid: authorID)
        json.add("body", body)
        json.add("createdAt", createdAt)
        json.add("writtenAt", writtenAt)
        json.add("updatedAt", updatedAt)
        json.add("deleted", deleted)
        json.add("hidden", hidden)
        json.add("version", version)
        json.add("conflicted", conflicted)
        json.add("authorName", authorName)
    }
}

extension Change {
    /// Adds this change's fields, its record and revisions written in place.
    public func write(to json: inout JSONText) {
        json.add("sequence", sequence)
        json.add("entity", entity.rawValue)
        json.add("id", uuid: id)
        json.add("kind", kind.rawValue)
        json.add("reflection", object: reflection) { $0.write(to: &$1) }
        json.add("comment", object: comment) { $0.write(to: &$1) }
        json.add("revisions", objects: revisions) { $0.write(to: &$1) }
    }
}

extension PullResponse {
    /// This page as the JSON that `Codable` reads (see ``JSONText``): how the server writes every pull, into one
    /// buffer from start to end.
    public var jsonUTF8: [UInt8] {
        var json = JSONText()
        json.add("protocolVersion", protocolVersion)
        json.add("changes", objects: changes) { $0.write(to: &$1) }
        json.add("nextCursor", nextCursor)
        json.add("hasMore", hasMore)
        json.add("epoch", epoch)
        json.add("horizon", horizon)
        return json.finish()
    }
}
