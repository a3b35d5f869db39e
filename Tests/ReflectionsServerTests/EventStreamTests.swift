import Foundation
import ReflectionsModel
import ReflectionsServer
import ReflectionsTestSupport
import Testing

/// `GET /v1/sync/events` over real HTTPS: what arrives, what never does, resuming, ending and limits.
@Suite struct EventStreamTests {
    /// Heartbeats every half second, so that "nothing arrived" is measured against a stream known to be alive.
    static let fast = EventHub.Configuration(heartbeat: .milliseconds(500))
    /// No heartbeat within a test: what arrives was woken by the commit itself (the heartbeat also re-checks).
    static let quiet = EventHub.Configuration(heartbeat: .seconds(120))

    static func withServer(
        _ events: EventHub.Configuration = fast, _ body: (LiveServer, TestHTTPClient) async throws -> Void
    ) async throws {
        let server = try await LiveServer.start(events: events)
        do {
            try await TestHTTPClient.with(server) { client in try await body(server, client) }
            try await server.stop()
        } catch {
            try? await server.stop()
            throw error
        }
    }

    static func cursor(_ event: ServerSentEvent) throws -> Int64 {
        try JSONDecoder().decode(EventCursor.self, from: Data(event.data.utf8)).cursor
    }

    @Test func anEventArrivesAfterAnotherDevicesPushAndCarriesOnlyTheCursor() async throws {
        try await Self.withServer(Self.quiet) { server, client in
            let laptop = try await client.member("amara")
            let login = try await client.send(
                .POST, "/v1/sessions", json: LoginRequest(handle: "amara", password: "a long enough password"))
            let phone = try login.decode(SessionResponse.self)
            let stream = try await client.openEvents(token: phone.token)
            #expect(stream.status == 200)
            #expect(stream.headers.first(name: "Content-Type")?.hasPrefix("text/event-stream") == true)
            #expect(stream.headers.first(name: "Cache-Control") == "no-store")
            // Nothing has been written: the stream opens with its comment and stays quiet.
            #expect(await stream.next("changes", within: .seconds(1)) == nil)
            #expect(stream.events.first?.comments == ["connected"], "\(stream.debugError ?? "-")")

            var device = MutationFactory()
            let results = try await client.push(
                [device.createReflection(title: "On the train", body: "Private words.\n")], client: device.clientID,
                token: laptop.token)
            let event = try #require(await stream.next("changes", within: .seconds(3)))
            let cursor = try Self.cursor(event.event)
            #expect(cursor >= results[0].sequence!)
            #expect(event.event.id == String(cursor))
            // Only the cursor travels: no title, text, id or author.
            let keys = try JSONSerialization.jsonObject(with: Data(event.event.data.utf8)) as? [String: Any]
            #expect(keys.map { Set($0.keys) } == ["cursor"])
            #expect(!event.event.data.contains("train"))
            await stream.close()
        }
    }

    @Test func anotherMembersPrivateWritingSendsNothingNotEvenTiming() async throws {
        try await Self.withServer { server, client in
            let amara = try await client.member("amara")
            let bo = try await client.member("bo.k")
            let stream = try await client.openEvents(token: bo.token)
            var device = MutationFactory()
            // Private writing: Bo's stream sees heartbeats, never an event.
            let secret = UUID()
            _ = try await client.push(
                [device.createReflection(id: secret, body: "Not for Bo.\n")], client: device.clientID,
                token: amara.token)
            let before = stream.events.count
            #expect(await stream.next("changes", within: .seconds(2)) == nil)
            #expect(stream.events.dropFirst(before).contains { $0.comments == ["heartbeat"] })

            // Shared: Bo hears of it.
            let shared = UUID()
            let created = try await client.push(
                [device.createReflection(id: shared, body: "For everyone.\n", visibility: .community)],
                client: device.clientID, token: amara.token)
            let first = try #require(await stream.next("changes"))
            #expect(try Self.cursor(first.event) >= created[0].sequence!)

            // Editing the private one again, and deleting it: still nothing for Bo.
            _ = try await client.push(
                [device.update(.reflection, secret, base: 1, changes: FieldChanges(body: "Still mine.\n"))],
                client: device.clientID, token: amara.token)
            _ = try await client.push(
                [device.delete(.reflection, secret, base: 2)], client: device.clientID, token: amara.token)
            #expect(await stream.next("changes", after: first.index + 1, within: .seconds(2)) == nil)

            // The shared one made private: Bo may hold it, so he is told (his pull then removes it).
            _ = try await client.push(
                [device.update(.reflection, shared, base: 1, changes: FieldChanges(visibility: .private))],
                client: device.clientID, token: amara.token)
            let removal = try #require(await stream.next("changes", after: first.index + 1))
            let (changes, _) = try await client.pullAll(token: bo.token, since: try Self.cursor(first.event))
            #expect(changes.map(\.id) == [shared])
            #expect(changes.first?.reflection == nil)
            #expect(try Self.cursor(removal.event) > (try Self.cursor(first.event)))
            await stream.close()
        }
    }

    /// Many changes Bo may not see, ahead of one he may: the stream steps over them in the same check (no
    /// heartbeat needed), and the event's cursor is the visible change's own sequence number.
    @Test func invisibleChangesDoNotHoldBackAVisibleOne() async throws {
        try await Self.withServer(Self.quiet) { server, client in
            let amara = try await client.member("amara")
            let bo = try await client.member("bo.k")
            let stream = try await client.openEvents(token: bo.token, query: "?since=\(try await server.store.head())")
            var device = MutationFactory()
            let hidden = UUID()
            var batch = [device.createReflection(id: hidden, body: "Shared for a moment.\n", visibility: .community)]
            for n in 0..<40 { batch.append(device.createComment(on: hidden, body: "Note \(n).")) }
            batch.append(device.update(.reflection, hidden, base: 1, changes: FieldChanges(visibility: .private)))
            _ = try await client.push(batch, client: device.clientID, token: amara.token)
            let shared = try await client.push(
                [device.createReflection(body: "For everyone.\n", visibility: .community)], client: device.clientID,
                token: amara.token)
            let event = try #require(await stream.next("changes", within: .seconds(3)))
            #expect(try Self.cursor(event.event) == shared[0].sequence)
            await stream.close()
        }
    }

    /// A stream ends cleanly after its lifetime; the client reconnects.
    @Test func aStreamEndsCleanlyAfterItsLifetime() async throws {
        let short = EventHub.Configuration(heartbeat: .milliseconds(200), maxLifetime: .seconds(1))
        try await Self.withServer(short) { server, client in
            let amara = try await client.member("amara")
            let stream = try await client.openEvents(token: amara.token)
            #expect(await stream.waitUntilEnded(within: .seconds(5)))
            #expect(stream.events.allSatisfy { $0.event != "unauthorized" && $0.event != "error" })
        }
    }

    @Test func aStreamResumesFromLastEventIDWithoutAGap() async throws {
        try await Self.withServer { server, client in
            let amara = try await client.member("amara")
            var device = MutationFactory()
            let first = try await client.openEvents(token: amara.token)
            _ = try await client.push([device.createReflection()], client: device.clientID, token: amara.token)
            let seen = try #require(await first.next("changes"))
            await first.close()

            // Written while no stream was open: announced at once on reconnecting.
            _ = try await client.push([device.createReflection()], client: device.clientID, token: amara.token)
            let head = try await server.store.head()
            let resumed = try await client.openEvents(
                token: amara.token, headers: [("Last-Event-ID", seen.event.id ?? "")])
            let caughtUp = try #require(await resumed.next("changes", within: .seconds(2)))
            #expect(try Self.cursor(caughtUp.event) == head)
            await resumed.close()

            // From the head, `?since=` and `Last-Event-ID` alike: nothing to announce.
            let quiet = try await client.openEvents(token: amara.token, query: "?since=\(head)")
            #expect(await quiet.next("changes", within: .seconds(1)) == nil)
            await quiet.close()
            let wins = try await client.openEvents(
                token: amara.token, query: "?since=0", headers: [("Last-Event-ID", "\(head)")])
            #expect(await wins.next("changes", within: .seconds(1)) == nil)
            await wins.close()

            for bad in ["?since=-1", "?since=abc", "?since=99999999999999999999"] {
                let refused = try await client.openEvents(token: amara.token, query: bad)
                #expect(refused.status == 400)
                #expect(refused.errorCode == "invalid_parameter")
            }
            let badHeader = try await client.openEvents(token: amara.token, headers: [("Last-Event-ID", "x")])
            #expect(badHeader.status == 400)
        }
    }

    @Test func aStreamEndsWhenItsTokenDies() async throws {
        try await Self.withServer(Self.quiet) { server, client in
            let amara = try await client.member("amara")
            let bo = try await client.member("bo.k")
            for token in [nil, "not-a-token", String(repeating: "x", count: 300)] {
                let refused = try await client.openEvents(token: token)
                #expect(refused.status == 401)
            }

            // Logging out ends the stream of that session at once.
            let stream = try await client.openEvents(token: amara.token)
            #expect(await stream.next("changes", within: .milliseconds(300)) == nil)
            #expect(try await client.send(.DELETE, "/v1/sessions/current", token: amara.token).status == 204)
            #expect(await stream.next("unauthorized", within: .seconds(3)) != nil)
            #expect(await stream.waitUntilEnded(within: .seconds(3)))

            // An operator disabling a member (another process, here the store itself) ends theirs too.
            let boStream = try await client.openEvents(token: bo.token)
            _ = try await server.store.setDisabled(handle: "bo.k", disabled: true)
            #expect(await boStream.next("unauthorized", within: .seconds(3)) != nil)
            #expect(await boStream.waitUntilEnded(within: .seconds(3)))
        }
    }

    @Test func streamsAreLimitedPerMemberAndPerServer() async throws {
        let limits = EventHub.Configuration(maxStreams: 3, maxStreamsPerMember: 2, heartbeat: .milliseconds(300))
        try await Self.withServer(limits) { server, client in
            let amara = try await client.member("amara")
            let bo = try await client.member("bo.k")
            let one = try await client.openEvents(token: amara.token)
            let two = try await client.openEvents(token: amara.token)
            let three = try await client.openEvents(token: amara.token)
            #expect(one.status == 200 && two.status == 200)
            #expect(three.status == 429)
            #expect(three.errorCode == "too_many_streams")
            #expect(three.headers.first(name: "Retry-After") != nil)
            let bos = try await client.openEvents(token: bo.token)
            #expect(bos.status == 200)
            let full = try await client.openEvents(token: bo.token)
            #expect(full.status == 429)

            // A closed stream gives its place back (noticed at the latest by the next heartbeat).
            await one.close()
            var again = try await client.openEvents(token: amara.token)
            for _ in 0..<20 where again.status != 200 {
                try await Task.sleep(for: .milliseconds(200))
                again = try await client.openEvents(token: amara.token)
            }
            #expect(again.status == 200)
            for stream in [two, bos, again] { await stream.close() }
        }
    }

    @Test func aGracefulStopEndsOpenStreams() async throws {
        let server = try await LiveServer.start(events: EventHub.Configuration(heartbeat: .seconds(60)))
        let client = try TestHTTPClient(server: server)
        let amara = try await client.member("amara")
        let streams = [
            try await client.openEvents(token: amara.token), try await client.openEvents(token: amara.token),
        ]
        #expect(streams.allSatisfy { $0.status == 200 })
        let started = ContinuousClock.now
        try await server.stop()
        #expect(ContinuousClock.now - started < .seconds(10))
        for stream in streams { #expect(await stream.waitUntilEnded(within: .seconds(5))) }
        try await client.shutdown()
    }
}
