import AsyncHTTPClient
import Foundation
import ReflectionsModel
import ReflectionsTestSupport
import Testing

/// TLS checked with the system's `openssl s_client`, slow clients, and a bounded load of 50 clients.
@Suite(.serialized) struct NetworkTests {
    func openssl(_ arguments: [String], stdin: String = "", port: Int) async throws -> CLIRunner.Output {
        try await CLIRunner.runSystem(
            "/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-servername", "localhost"] + arguments,
            stdin: stdin)
    }

    @Test func oldTLSVersionsAreRefusedAndTLS12And13Work() async throws {
        try await LiveServer.with { server in
            // SECLEVEL=0 lets the client offer the old versions: a refusal then comes from the server. A refusal
            // counts only if the TCP connection was made ("CONNECTED(") and the handshake then failed without a
            // certificate: a closed port is not a refusal.
            var figures: [String: Int] = [:]
            for (version, name) in [("-tls1", "tls10_refused"), ("-tls1_1", "tls11_refused")] {
                let output = try await openssl(
                    [version, "-cipher", "DEFAULT:@SECLEVEL=0"], stdin: "Q\n", port: server.port)
                let refusedByTLS =
                    output.status != 0 && output.stdout.contains("CONNECTED(")
                    && (!output.stdout.contains("BEGIN CERTIFICATE") || output.stdout.contains("Cipher is (NONE)"))
                #expect(refusedByTLS, "\(version): \(output.stdout.prefix(200)) \(output.stderr.prefix(200))")
                figures[name] = refusedByTLS ? 1 : 0
            }
            for (version, name) in [("-tls1_2", "tls12_ok"), ("-tls1_3", "tls13_ok")] {
                let output = try await openssl([version], stdin: "Q\n", port: server.port)
                let ok = output.stdout.contains("BEGIN CERTIFICATE")
                #expect(ok, "\(version): \(output.stderr)")
                figures[name] = ok ? 1 : 0
            }
            Reliability.record("tls: versions", figures)
        }
    }

    @Test func aStalledClientIsClosedAndOthersAreServedMeanwhile() async throws {
        let server = try await LiveServer.start(idleTimeoutSeconds: 2)
        // A client that starts a request and never finishes it.
        let started = ContinuousClock.now
        async let stalled = openssl(
            ["-quiet", "-ign_eof"], stdin: "GET /healthz HTTP/1.1\r\nHost: local", port: server.port)
        try await Task.sleep(for: .milliseconds(300))
        let served = try await TestHTTPClient.with(server) { client in
            var served = 0
            for _ in 0..<20 where try await client.send(.GET, "/healthz").status == 200 { served += 1 }
            return served
        }
        #expect(served == 20)
        _ = try await stalled
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .seconds(15), "the stalled connection stayed open for \(elapsed)")
        try await server.stop()
        Reliability.record(
            "slow client", ["closed_within_s": Int(elapsed.components.seconds) + 1, "others_served": served])
    }

    @Test func fiftyClientsSyncingAtOnceSeeNoErrors() async throws {
        let seconds = Int(ProcessInfo.processInfo.environment["REFLECT_LOAD_SECONDS"] ?? "") ?? 10
        let data = TemporaryDirectory.make(prefix: "load")
        let server = try await ServerProcess.start(dataDirectory: data)
        let setup = try TestHTTPClient(baseURL: server.baseURL, certificatePEM: server.certificatePEM)
        var tokens: [String] = []
        for m in 0..<10 { tokens.append(try await setup.member("load\(m)").token) }
        try await setup.shutdown()
        let rssStart = Self.rssMiB(server.process.processIdentifier)
        let deadline = ContinuousClock.now + .seconds(seconds)
        let latencies = LockedBox<[Double]>([])
        let errors = LockedBox(0)
        let acknowledged = LockedBox<Set<UUID>>([])
        let rssMid = LockedBox(0.0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in 0..<50 {
                let token = tokens[c % tokens.count]
                group.addTask {
                    let client = try TestHTTPClient(baseURL: server.baseURL, certificatePEM: server.certificatePEM)
                    var device = MutationFactory()
                    var cursor: Int64 = 0
                    while ContinuousClock.now < deadline {
                        let start = ContinuousClock.now
                        let batch = [device.createReflection(body: "Load.\n", visibility: .community)]
                        do {
                            let push = try await client.send(
                                .POST, "/v1/sync/push", json: PushRequest(clientID: device.clientID, mutations: batch),
                                token: token)
                            let pull = try await client.send(
                                .GET, "/v1/sync/pull?since=\(cursor)&limit=1000", token: token)
                            if push.status == 200 && pull.status == 200 {
                                if try push.decode(PushResponse.self).results.first?.outcome == .applied {
                                    acknowledged.update { _ = $0.insert(batch[0].target.id) }
                                }
                                cursor = try pull.decode(PullResponse.self).nextCursor
                            } else {
                                errors.update { $0 += 1 }
                            }
                        } catch {
                            errors.update { $0 += 1 }
                        }
                        let elapsed = ContinuousClock.now - start
                        latencies.update {
                            $0.append(
                                Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds)
                                    * 1000)
                        }
                    }
                    try await client.shutdown()
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(max(1, seconds / 2)))
                rssMid.update { $0 = Self.rssMiB(server.process.processIdentifier) }
            }
            try await group.waitForAll()
        }
        let rssEnd = Self.rssMiB(server.process.processIdentifier)
        _ = await server.stop()
        let all = latencies.value.sorted()
        let p99 = all.isEmpty ? 0 : all[min(all.count - 1, Int(Double(all.count) * 0.99))]
        let stored = try await GRDBCount.reflections(data.appendingPathComponent("reflectd.sqlite").path)
        #expect(errors.value == 0)
        #expect(!acknowledged.value.isEmpty)
        #expect(acknowledged.value.isSubset(of: stored))
        Reliability.record(
            "load: 50 clients",
            [
                "seconds": seconds, "syncs": all.count, "errors": errors.value, "p99_ms": Int(p99),
                "rss_start_mib": Int(rssStart), "rss_mid_mib": Int(rssMid.value), "rss_end_mib": Int(rssEnd),
                "lost": acknowledged.value.subtracting(stored).count,
            ])
    }

    static func rssMiB(_ pid: Int32) -> Double {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return 0 }
        return (line.split(separator: " ").compactMap { Double($0) }.first ?? 0) / 1024
    }
}
