import Foundation
import ReflectionsModel
import ReflectionsTestSupport
import Testing

/// `GET /metrics` on its own TLS listener: the figures move with what members do, and say nothing of who.
@Suite struct MetricsTests {
    @Test func metricsCountWhatHappensAndNameNobody() async throws {
        let server = try await LiveServer.start(metrics: true)
        let port = try #require(server.metricsPort)
        #expect(port != server.port)
        let client = try TestHTTPClient(server: server)
        let scraper = try TestHTTPClient(baseURL: "https://127.0.0.1:\(port)", certificatePEM: server.certificatePEM)
        let amara = try await client.member("amara")
        let wrong = try await client.send(
            .POST, "/v1/sessions", json: LoginRequest(handle: "amara", password: "not the password at all"))
        #expect(wrong.status == 401)
        var device = MutationFactory()
        let batch = [device.createReflection(title: "Secret title"), device.createReflection()]
        _ = try await client.push(batch, client: device.clientID, token: amara.token)
        _ = try await client.push([batch[0]], client: device.clientID, token: amara.token)
        _ = try await client.pullAll(token: amara.token)
        let stream = try await client.openEvents(token: amara.token)

        let scrape = try await scraper.send(.GET, "/metrics")
        #expect(scrape.status == 200)
        #expect(scrape.headers.first(name: "Content-Type")?.hasPrefix("text/plain") == true)
        let text = String(decoding: scrape.body, as: UTF8.self)
        let expected = [
            #"reflect_sync_mutations_total{outcome="applied"} 2"#,
            #"reflect_sync_mutations_total{outcome="duplicate"} 1"#,
            "reflect_auth_failed_logins_total 1",
            "reflect_sync_event_streams_open 1",
            "reflect_sync_records_pulled_total 2",
            "reflect_store_change_log_head 2",
            #"reflect_http_requests_total{route="/v1/sync/push",method="POST",status="200"} 2"#,
            #"reflect_http_requests_total{route="/v1/sessions",method="POST",status="401"} 1"#,
            #"reflect_http_request_duration_seconds_count{route="/v1/sync/pull",method="GET"} 1"#,
        ]
        for line in expected { #expect(text.contains(line), "missing '\(line)' in:\n\(text)") }
        let size = text.split(separator: "\n").first { $0.hasPrefix("reflect_store_database_size_bytes ") }
        #expect(size.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0 > 0)
        // Nobody is named: no handle, title, token or id.
        for secret in ["amara", "Secret title", amara.token, amara.member.id.uuidString, batch[0].target.id.uuidString]
        {
            #expect(!text.contains(secret))
        }
        #expect(text.range(of: "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-", options: .regularExpression) == nil)

        // Never on the members' port.
        #expect(try await client.send(.GET, "/metrics").status == 404)
        await stream.close()
        try await scraper.shutdown()
        try await client.shutdown()
        try await server.stop()
    }
}
