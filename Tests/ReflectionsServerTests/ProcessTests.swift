import Foundation
import GRDB
import ReflectionsModel
import ReflectionsTestSupport
import Testing

/// reflectd as an operator runs it: a real process.
@Suite(.serialized) struct ProcessTests {
    @Test func theFirstStartPrintsTheFingerprintAndTheInitLine() async throws {
        let data = TemporaryDirectory.make(prefix: "reflectd-proc")
        let server = try await ServerProcess.start(dataDirectory: data)
        let printed = server.printed
        _ = await server.stop()
        #expect(printed.contains("(new, self-signed)"))
        #expect(printed.contains("reflect init --server https://127.0.0.1:\(server.port) --pin \(server.fingerprint)"))
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("tls-key.pem").path))
        let attributes = try FileManager.default.attributesOfItem(
            atPath: data.appendingPathComponent("tls-key.pem").path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
    }

    @Test func sigtermStopsGracefullyAndTheDatabaseIsIntact() async throws {
        let data = TemporaryDirectory.make(prefix: "reflectd-proc")
        let server = try await ServerProcess.start(dataDirectory: data)
        let client = try TestHTTPClient(baseURL: server.baseURL, certificatePEM: server.certificatePEM)
        let registered = try await client.send(
            .POST, "/v1/accounts", json: RegisterRequest(handle: "amara", password: "a long enough password"))
        try await client.shutdown()
        #expect(registered.status == 201)
        let status = await server.stop()
        #expect(status == 0, "\(server.printed)")
        let queue = try DatabaseQueue(path: data.appendingPathComponent("reflectd.sqlite").path)
        let check = try await queue.read { try String.fetchOne($0, sql: "PRAGMA integrity_check") }
        let members = try await queue.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM members") }
        #expect(check == "ok")
        #expect(members == 1)
    }

    @Test func userCommandsManageMembers() async throws {
        let data = TemporaryDirectory.make(prefix: "reflectd-users").path
        let add = try await CLIRunner.run(
            "reflectd",
            ["user", "add", "--data", data, "--handle", "amara", "--role", "moderator", "--password-stdin"],
            stdin: "a long enough password\n")
        #expect(add.status == 0, "\(add.stderr)")
        let short = try await CLIRunner.run(
            "reflectd", ["user", "add", "--data", data, "--handle", "bo.k", "--password-stdin"], stdin: "short\n")
        #expect(short.status != 0)
        #expect(short.stderr.contains("at least 10"))
        let list = try await CLIRunner.run("reflectd", ["user", "list", "--data", data, "--json"])
        #expect(list.status == 0)
        #expect(list.stdout.contains("\"handle\" : \"amara\""))
        #expect(list.stdout.contains("\"role\" : \"moderator\""))
        let disable = try await CLIRunner.run("reflectd", ["user", "disable", "--data", data, "amara"])
        #expect(disable.status == 0)
        #expect(disable.stdout.contains("disabled"))
    }
}
