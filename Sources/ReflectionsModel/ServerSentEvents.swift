/// One message of a Server-Sent Events stream (the parts reflectd uses).
public struct ServerSentEvent: Hashable, Sendable {
    /// `event:`; "message" when the block names none.
    public var event: String
    /// `id:`, if the block has one.
    public var id: String?
    /// The `data:` lines, joined by newlines.
    public var data: String
    /// Comment lines (`: text`), without the colon and the space after it.
    public var comments: [String]

    public init(event: String = "message", id: String? = nil, data: String = "", comments: [String] = []) {
        self.event = event
        self.id = id
        self.data = data
        self.comments = comments
    }
}

/// Splits bytes as they arrive into ``ServerSentEvent``s, as the WHATWG "event stream" rules say: blocks end
/// with a blank line; lines end with LF, CRLF or CR; a field is `name: value` (one optional space); unknown
/// fields are ignored. A block of only comments is returned too (reflectd's heartbeats are comments).
///
/// Bounded: a line longer than ``maxLineBytes``, or an event (all its lines) longer than ``maxEventBytes``, is a
/// protocol error (reflectd's are a few dozen bytes), so a hostile or broken server cannot make the client buffer
/// without end.
public struct ServerSentEventParser: Sendable {
    public static let maxLineBytes = 64 * 1024
    public static let maxEventBytes = 64 * 1024

    /// The text was not an event stream within the bounds above.
    public struct Malformed: Error, Hashable, Sendable {}

    private var line: [UInt8] = []
    private var current = ServerSentEvent()
    private var hasData = false
    private var hasContent = false
    private var lastWasCR = false
    private var eventBytes = 0

    public init() {}

    /// Feeds `bytes`; returns the events they complete.
    public mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [ServerSentEvent] {
        var events: [ServerSentEvent] = []
        for byte in bytes {
            if byte == 0x0A && lastWasCR {
                lastWasCR = false
                continue
            }
            lastWasCR = byte == 0x0D
            if byte == 0x0A || byte == 0x0D {
                if let event = endLine() { events.append(event) }
            } else {
                eventBytes += 1
                guard line.count < Self.maxLineBytes, eventBytes <= Self.maxEventBytes else { throw Malformed() }
                line.append(byte)
            }
        }
        return events
    }

    private mutating func endLine() -> ServerSentEvent? {
        defer { line.removeAll(keepingCapacity: true) }
        if line.isEmpty {
            guard hasContent else { return nil }
            let event = current
            current = ServerSentEvent()
            eventBytes = 0
            hasData = false
            hasContent = false
            return event
        }
        hasContent = true
        let text = String(decoding: line, as: UTF8.self)
        if text.hasPrefix(":") {
            var comment = text.dropFirst()
            if comment.hasPrefix(" ") { comment = comment.dropFirst() }
            current.comments.append(String(comment))
            return nil
        }
        let name: Substring
        var value: Substring
        if let colon = text.firstIndex(of: ":") {
            name = text[..<colon]
            value = text[text.index(after: colon)...]
            if value.hasPrefix(" ") { value = value.dropFirst() }
        } else {
            name = Substring(text)
            value = ""
        }
        switch name {
        case "event": current.event = String(value)
        case "id": current.id = String(value)
        case "data":
            current.data += hasData ? "\n" + value : String(value)
            hasData = true
        default: break
        }
        return nil
    }
}
