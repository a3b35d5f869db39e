import Foundation
import ReflectionsModel
import ReflectionsTestSupport
import Testing

/// The authorization matrix: owner / other member / no token / logged-out token × private reflection /
/// community reflection / comment / tombstone, on read (pull), write (push).
@Suite struct AuthorizationTests {
    struct World {
        var owner: SessionResponse
        var other: SessionResponse
        var loggedOut: String
        var ownerDevice: MutationFactory
        var otherDevice: MutationFactory
        var privateID = UUID()
        var communityID = UUID()
        var commentID = UUID()
        var deletedSharedID = UUID()
        var deletedPrivateID = UUID()
    }

    /// Amara writes one private and one community reflection, a reflection she shared and then deleted, and
    /// a private one she deleted; Bo comments on the community one.
    func makeWorld(_ client: TestHTTPClient) async throws -> World {
        let owner = try await client.member("amara")
        let other = try await client.member("bo.k")
        let third = try await client.member("cy.r")
        _ = try await client.send(.DELETE, "/v1/sessions/current", token: third.token)
        var world = World(
            owner: owner, other: other, loggedOut: third.token, ownerDevice: MutationFactory(),
            otherDevice: MutationFactory())
        _ = try await client.push(
            [
                world.ownerDevice.createReflection(id: world.privateID, title: "Private", body: "Only mine.\n"),
                world.ownerDevice.createReflection(
                    id: world.communityID, title: "Shared", body: "For all.\n", visibility: .community),
                world.ownerDevice.createReflection(id: world.deletedSharedID, body: "Gone.\n", visibility: .community),
                world.ownerDevice.createReflection(id: world.deletedPrivateID, body: "Gone too.\n"),
            ], client: world.ownerDevice.clientID, token: owner.token)
        _ = try await client.push(
            [world.otherDevice.createComment(id: world.commentID, on: world.communityID, body: "Thank you.")],
            client: world.otherDevice.clientID, token: other.token)
        _ = try await client.push(
            [
                world.ownerDevice.delete(.reflection, world.deletedSharedID, base: 1),
                world.ownerDevice.delete(.reflection, world.deletedPrivateID, base: 1),
            ], client: world.ownerDevice.clientID, token: owner.token)
        return world
    }

    @Test func pullShowsEachMemberOnlyWhatTheyMaySee() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                let world = try await makeWorld(client)
                let (ownerChanges, _) = try await client.pullAll(token: world.owner.token)
                let ownerIDs = Set(ownerChanges.map(\.id))
                #expect(
                    ownerIDs == [
                        world.privateID, world.communityID, world.commentID, world.deletedSharedID,
                        world.deletedPrivateID,
                    ])
                #expect(ownerChanges.first { $0.id == world.deletedPrivateID }?.kind == .tombstone)

                let (otherChanges, _) = try await client.pullAll(token: world.other.token)
                let otherIDs = Set(otherChanges.map(\.id))
                // Bo never sees the private reflection, its id or its tombstone. The shared-then-deleted one was
                // created and deleted before his first pull, so he never held it and gets nothing of it.
                #expect(otherIDs == [world.communityID, world.commentID])
                let raw = try await client.send(.GET, "/v1/sync/pull?since=0", token: world.other.token)
                let text = String(decoding: raw.body, as: UTF8.self)
                #expect(!text.contains(world.privateID.uuidString))
                #expect(!text.contains(world.deletedPrivateID.uuidString))
                #expect(!text.contains("Only mine."))

                for token in [nil, world.loggedOut] as [String?] {
                    let answer = try await client.send(.GET, "/v1/sync/pull?since=0", token: token)
                    #expect(answer.status == 401)
                    #expect(answer.errorCode == "unauthorized")
                    let push = try await client.send(
                        .POST, "/v1/sync/push", json: PushRequest(clientID: UUID(), mutations: []), token: token)
                    #expect(push.status == 401)
                    let log = try await client.send(.GET, "/v1/log", token: token)
                    #expect(log.status == 401)
                }
            }
        }
    }

    @Test func onlyTheAuthorWritesAndOthersCannotTellPrivateRecordsExist() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                var world = try await makeWorld(client)
                let otherClient = world.otherDevice.clientID
                let results = try await client.push(
                    [
                        world.otherDevice.update(
                            .reflection, world.privateID, base: 1, changes: FieldChanges(body: "Mine now.\n")),
                        world.otherDevice.delete(.reflection, world.privateID, base: 1),
                        world.otherDevice.createComment(on: world.privateID),
                        world.otherDevice.update(
                            .reflection, world.communityID, base: 1, changes: FieldChanges(body: "Mine now.\n")),
                        world.otherDevice.delete(.reflection, world.communityID, base: 1),
                        world.otherDevice.update(
                            .reflection, world.deletedPrivateID, base: 1, changes: FieldChanges(body: "x\n")),
                    ], client: otherClient, token: world.other.token)
                #expect(results.map(\.outcome) == Array(repeating: .rejected, count: 6))
                // A private record answers exactly like a missing one: nothing leaks.
                #expect(
                    results.map(\.code) == [
                        "not_found", "not_found", "not_found", "forbidden", "forbidden", "not_found",
                    ])
                #expect(results[0].reason == results[5].reason)

                // The owner cannot edit Bo's comment either; Bo can.
                let ownerEdit = try await client.push(
                    [
                        world.ownerDevice.update(
                            .comment, world.commentID, base: 1, changes: FieldChanges(body: "Changed."))
                    ],
                    client: world.ownerDevice.clientID, token: world.owner.token)
                #expect(ownerEdit.first?.code == "forbidden")
                let boEdit = try await client.push(
                    [
                        world.otherDevice.update(
                            .comment, world.commentID, base: 1, changes: FieldChanges(body: "Thanks!"))
                    ],
                    client: otherClient, token: world.other.token)
                #expect(boEdit.first?.outcome == .applied)
                // Nobody but a moderator may hide a comment.
                let hide = try await client.push(
                    [world.ownerDevice.update(.comment, world.commentID, base: 2, changes: FieldChanges(hidden: true))],
                    client: world.ownerDevice.clientID, token: world.owner.token)
                #expect(hide.first?.code == "forbidden")

                let (ownerChanges, _) = try await client.pullAll(token: world.owner.token)
                #expect(ownerChanges.first { $0.id == world.privateID }?.reflection?.body == "Only mine.\n")
                #expect(ownerChanges.first { $0.id == world.communityID }?.reflection?.body == "For all.\n")
            }
        }
    }

    @Test func makingAReflectionPrivateRemovesItAndItsCommentsFromOthers() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                var world = try await makeWorld(client)
                let (_, cursor) = try await client.pullAll(token: world.other.token)
                _ = try await client.push(
                    [
                        world.ownerDevice.update(
                            .reflection, world.communityID, base: 1, changes: FieldChanges(visibility: .private))
                    ],
                    client: world.ownerDevice.clientID, token: world.owner.token)
                let (changes, _) = try await client.pullAll(token: world.other.token, since: cursor)
                #expect(Set(changes.map(\.id)) == [world.communityID, world.commentID])
                #expect(changes.allSatisfy { $0.kind == .removal })
                #expect(changes.allSatisfy { $0.reflection == nil && $0.comment == nil })
                // A comment on it is now refused, and says why without leaking.
                let comment = try await client.push(
                    [world.otherDevice.createComment(on: world.communityID)], client: world.otherDevice.clientID,
                    token: world.other.token)
                #expect(comment.first?.code == "not_found")
                // The author still sees the comment on her own reflection.
                let (ownerChanges, _) = try await client.pullAll(token: world.owner.token)
                #expect(ownerChanges.first { $0.id == world.commentID }?.kind == .upsert)
                // A fresh device of Bo's gets nothing of the reflection, and only a content-free removal of his own
                // comment (his devices may hold it, having written it).
                let (fresh, _) = try await client.pullAll(token: world.other.token)
                #expect(!fresh.contains { $0.id == world.communityID })
                #expect(fresh.filter { $0.id == world.commentID }.map(\.kind) == [.removal])
                #expect(fresh.allSatisfy { $0.reflection == nil && $0.comment == nil })
            }
        }
    }

    @Test func aModeratorHidesACommentFromEveryoneButItsAuthor() async throws {
        try await LiveServer.with { server in
            try await TestHTTPClient.with(server) { client in
                var world = try await makeWorld(client)
                // Make a moderator through the store, as `reflectd user set-role` does.
                let moderator = try await client.member("mod.erator")
                _ = try await server.store.setRole(handle: "mod.erator", role: .moderator)
                var modDevice = MutationFactory()
                let (_, ownerCursor) = try await client.pullAll(token: world.owner.token)
                let hide = try await client.push(
                    [modDevice.update(.comment, world.commentID, base: 1, changes: FieldChanges(hidden: true))],
                    client: modDevice.clientID, token: moderator.token)
                #expect(hide.first?.outcome == .applied)
                let (ownerChanges, _) = try await client.pullAll(token: world.owner.token, since: ownerCursor)
                #expect(ownerChanges.map(\.kind) == [.removal])
                let (authorChanges, _) = try await client.pullAll(token: world.other.token)
                #expect(authorChanges.first { $0.id == world.commentID }?.comment?.hidden == true)
            }
        }
    }
}
