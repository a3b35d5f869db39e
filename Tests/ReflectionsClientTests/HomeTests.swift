import Foundation
import ReflectionsClient
import ReflectionsModel
import ReflectionsTestSupport
import Testing

/// The library's facade for every front end: the account steps, with their rules, in one place.
@Suite struct HomeTests {
    @Test func aHomeBelongsToOneMemberAndLogoutSaysWhatItCouldDo() async throws {
        let server = try await LiveServer.start()
        let laptop = try await Device.make(server, handle: "amara", register: true)
        let stranger = try await Device.make(server, handle: "cyrus", register: true)
        do {
            try await Self.check(server, laptop, stranger)
        } catch {
            Issue.record(error)
        }
        for device in [laptop, stranger] { try await device.close() }
    }

    static func check(_ server: LiveServer, _ laptop: Device, _ stranger: Device) async throws {
        #expect(try laptop.store.settings().member?.handle == "amara")

        // Another member's account is refused here before it is made.
        do {
            try await laptop.client.register(handle: "bo.k", password: Device.password)
            Issue.record("a second member registered in amara's home")
        } catch let error as ClientError {
            #expect(error.code == .wrongMember)
        }
        // Nor is a login as another member started on the server from a home that is not theirs.
        do {
            try await stranger.client.login(handle: "amara", password: Device.password)
            Issue.record("amara logged in to cyrus's home")
        } catch let error as ClientError {
            #expect(error.code == .wrongMember && error.next == .useAnotherHome)
        }
        // No account "bo.k" was made.
        let fresh = try Home.open(TemporaryDirectory.make(prefix: "fresh-home"))
        try fresh.setUp(serverURL: server.baseURL, trust: try laptop.store.settings().trust!)
        do {
            try await fresh.login(handle: "bo.k", password: Device.password)
            Issue.record("bo.k exists")
        } catch let error as ClientError {
            #expect(error.code == .server)
        }
        try await fresh.close()

        // A display name changed through the facade is the server's and the store's.
        let renamed = try await laptop.client.updateDisplayName("Amara O.")
        #expect(renamed.displayName == "Amara O.")
        #expect(try laptop.store.settings().member?.displayName == "Amara O.")

        // Logout while the server is away: forgotten here, said not to have ended there; writing stays.
        _ = try laptop.store.write(title: "Kept", body: "Written before logging out.\n")
        try await server.stop()
        let logout = try await laptop.client.logout()
        #expect(logout.serverSessionEnded == false)
        #expect(logout.pending == 1)
        #expect(try laptop.store.settings().token == nil)
        do {
            _ = try laptop.client.token()
            Issue.record("a token after logout")
        } catch let error as ClientError {
            #expect(error.code == .notLoggedIn && error.next == .logIn)
        }
        #expect(try laptop.store.reflections().count == 1)
    }
}
