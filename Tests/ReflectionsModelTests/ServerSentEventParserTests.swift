import ReflectionsModel
import Testing

@Suite struct ServerSentEventParserTests {
    @Test func blocksEndAtABlankLineWhateverTheLineEndings() throws {
        var parser = ServerSentEventParser()
        let text = ": connected\nretry: 2000\n\nid: 7\r\nevent: changes\r\ndata: {\"cursor\":7}\r\n\r\n: heartbeat\r\r"
        let events = try parser.feed(Array(text.utf8))
        #expect(
            events == [
                ServerSentEvent(comments: ["connected"]),
                ServerSentEvent(event: "changes", id: "7", data: "{\"cursor\":7}"),
                ServerSentEvent(comments: ["heartbeat"]),
            ])
    }

    @Test func bytesMaySplitAnywhere() throws {
        let text = Array("id: 12\nevent: changes\ndata: a\ndata:b\n\n: heartbeat\n\n".utf8)
        for split in 0...text.count {
            var parser = ServerSentEventParser()
            let events = try parser.feed(text[..<split]) + parser.feed(text[split...])
            #expect(
                events == [
                    ServerSentEvent(event: "changes", id: "12", data: "a\nb"),
                    ServerSentEvent(comments: ["heartbeat"]),
                ], "split at \(split)")
        }
    }

    @Test func anUnfinishedBlockIsNotAnEventAndAHugeLineIsRefused() throws {
        var parser = ServerSentEventParser()
        #expect(try parser.feed(Array("event: changes\ndata: {}\n".utf8)).isEmpty)
        var hostile = ServerSentEventParser()
        #expect(throws: ServerSentEventParser.Malformed.self) {
            _ = try hostile.feed([UInt8](repeating: 0x61, count: ServerSentEventParser.maxLineBytes + 1))
        }
        // Short lines that never end an event are bounded too.
        var endless = ServerSentEventParser()
        #expect(throws: ServerSentEventParser.Malformed.self) {
            for _ in 0..<10_000 { _ = try endless.feed(Array("data: xxxxxxxxxx\n".utf8)) }
        }
        // …while the same lines in many events are fine.
        var many = ServerSentEventParser()
        var count = 0
        for _ in 0..<10_000 { count += try many.feed(Array("data: xxxxxxxxxx\n\n".utf8)).count }
        #expect(count == 10_000)
    }
}
