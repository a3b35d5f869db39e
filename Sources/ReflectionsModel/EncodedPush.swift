import Foundation

/// A push whose mutations are already JSON: the text a device stored in its outbox when the member wrote (as
/// `Mutation`'s `Codable` wrote it), sent as it is.
///
/// Profiled (BENCHMARKS.md, session 9): decoding each outbox entry and encoding the batch again took about 15 ms
/// of the device's time per 360-record batch, on the push's critical path (the server waits for the body). The
/// body written here is the JSON of the ``PushRequest`` that ``request()`` gives, which `EncodedPushTests`
/// checks with `JSONDecoder`.
public struct EncodedPush: Sendable, Hashable {
    public var protocolVersion: Int
    public var clientID: UUID
    /// Each one mutation's JSON object, in the order they were made.
    public var mutations: [String]
    public var deviceName: String?
    public var epoch: String?
    public var cursor: Int64?

    public init(
        protocolVersion: Int = SyncProtocol.version, clientID: UUID, mutations: [String], deviceName: String? = nil,
        epoch: String? = nil, cursor: Int64? = nil
    ) {
        self.protocolVersion = protocolVersion
        self.clientID = clientID
        self.mutations = mutations
        self.deviceName = deviceName
        self.epoch = epoch
        self.cursor = cursor
    }

    /// The request body, the mutations' text copied in unchanged.
    public var jsonUTF8: [UInt8] {
        var json = JSONText()
        json.add("protocolVersion", protocolVersion)
        json.add("clientID", uuid: clientID)
        json.add("mutations", rawObjects: mutations)
        json.add("deviceName", deviceName)
        json.add("epoch", epoch)
        json.add("cursor", cursor)
        return json.finish()
    }

    /// The same push, typed (for transports that hand it to a store in-process, and for tests); throws when a
    /// mutation's text is not a mutation.
    public func request() throws -> PushRequest {
        let decoder = JSONDecoder()
        return PushRequest(
            protocolVersion: protocolVersion, clientID: clientID,
            mutations: try mutations.map { try decoder.decode(Mutation.self, from: Data($0.utf8)) },
            deviceName: deviceName, epoch: epoch, cursor: cursor)
    }
}
