import AsyncHTTPClient
import Foundation
import NIOSSL
import ReflectionsServer
import ReflectionsTestSupport
import Testing

@Suite struct TLSTests {
    @Test func plainHTTPGetsNothingServed() async throws {
        try await LiveServer.with { server in
            let http = HTTPClient(eventLoopGroupProvider: .singleton)
            var served = false
            do {
                let response = try await http.execute(
                    HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/healthz"), timeout: .seconds(5))
                served = response.status == .ok
            } catch {
                served = false
            }
            try await http.shutdown()
            #expect(!served)
        }
    }

    @Test func tls11IsRefusedAndTLS12Works() async throws {
        try await LiveServer.with { server in
            var old = TLSConfiguration.makeClientConfiguration()
            old.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(server.certificatePEM.utf8)))
            old.minimumTLSVersion = .tlsv1
            old.maximumTLSVersion = .tlsv11
            let oldClient = try TestHTTPClient(server: server, tlsOverride: old)
            var refused = false
            do {
                _ = try await oldClient.send(.GET, "/healthz")
            } catch {
                refused = true
            }
            try await oldClient.shutdown()
            #expect(refused)

            try await TestHTTPClient.with(server) { client in
                let answer = try await client.send(.GET, "/healthz")
                #expect(answer.status == 200)
            }
        }
    }

    @Test func anUntrustedCertificateIsRefusedByTheClient() async throws {
        try await LiveServer.with { server in
            var other = TLSConfiguration.makeClientConfiguration()
            let stranger = try SelfSignedCertificate.generate(hostnames: [])
            other.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(stranger.certificatePEM.utf8)))
            let client = try TestHTTPClient(server: server, tlsOverride: other)
            var refused = false
            do {
                _ = try await client.send(.GET, "/healthz")
            } catch {
                refused = true
            }
            try await client.shutdown()
            #expect(refused)
        }
    }

    @Test func theGeneratedCertificateIsReusedOnRestart() async throws {
        let first = try await LiveServer.start()
        try await first.stop()
        let second = try await LiveServer.start(dataDirectory: first.dataDirectory)
        try await second.stop()
        #expect(first.fingerprint == second.fingerprint)
        #expect(first.fingerprint.hasPrefix("sha256:") && first.fingerprint.count == 7 + 64)
    }
}
