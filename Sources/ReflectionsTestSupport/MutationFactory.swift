import Foundation
import ReflectionsModel

/// Builds mutations for one test device, with its own client id and hybrid logical clock.
public struct MutationFactory: Sendable {
    public let clientID: UUID
    private var clock: HybridLogicalClock
    private var wall: Int64

    public init(clientID: UUID = UUID(), wall: Int64 = 1_800_000_000_000) {
        self.clientID = clientID
        self.clock = HybridLogicalClock(node: String(clientID.uuidString.prefix(8)))
        self.wall = wall
    }

    mutating func stamp() -> HLCTimestamp {
        wall += 1
        return clock.tick(now: wall)
    }

    public mutating func createReflection(
        id: UUID = UUID(), title: String = "A reflection", body: String = "Some words.\n",
        visibility: Visibility = .private, prompt: Int? = 1
    ) -> Mutation {
        Mutation(
            clientID: clientID, target: .init(entity: .reflection, id: id), operation: .create,
            changes: FieldChanges(title: title, body: body, visibility: visibility, promptID: prompt), hlc: stamp())
    }

    public mutating func createComment(id: UUID = UUID(), on reflection: UUID, body: String = "Thank you.") -> Mutation
    {
        Mutation(
            clientID: clientID, target: .init(entity: .comment, id: id), operation: .create,
            changes: FieldChanges(body: body, reflectionID: reflection), hlc: stamp())
    }

    public mutating func update(
        _ entity: EntityKind = .reflection, _ id: UUID, base: Int64, changes: FieldChanges
    ) -> Mutation {
        Mutation(
            clientID: clientID, target: .init(entity: entity, id: id), operation: .update, baseVersion: base,
            changes: changes, hlc: stamp())
    }

    public mutating func delete(_ entity: EntityKind = .reflection, _ id: UUID, base: Int64) -> Mutation {
        Mutation(
            clientID: clientID, target: .init(entity: entity, id: id), operation: .delete, baseVersion: base,
            hlc: stamp())
    }

    public mutating func resolve(
        _ entity: EntityKind = .reflection, _ id: UUID, base: Int64, resolution: Resolution,
        changes: FieldChanges = FieldChanges()
    ) -> Mutation {
        Mutation(
            clientID: clientID, target: .init(entity: entity, id: id), operation: .resolve, baseVersion: base,
            changes: changes, resolution: resolution, hlc: stamp())
    }
}
