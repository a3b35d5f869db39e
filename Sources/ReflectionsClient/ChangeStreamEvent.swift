import Foundation
import ReflectionsModel

/// What a change stream (``ServerConnection/changeEvents(since:token:)``) tells the client.
public enum ChangeStreamEvent: Sendable, Hashable {
    /// The stream is open.
    case connected
    /// Nothing new; the connection is alive.
    case heartbeat
    /// Something this member may see committed: pull until the cursor reaches `cursor`.
    case changes(cursor: Int64)

    /// Decodes one server-sent event; nil for a kind this client does not know (newer servers may add some).
    init?(_ event: ServerSentEvent) throws {
        switch event.event {
        case "changes":
            guard let body = try? JSONDecoder().decode(EventCursor.self, from: Data(event.data.utf8)) else {
                throw ClientError(.server, "The server's change stream sent an event this client cannot read.")
            }
            self = .changes(cursor: body.cursor)
        case "unauthorized":
            throw ClientError(
                .notLoggedIn, "Your session has ended: log in again.", next: .logIn, status: 401,
                serverCode: "unauthorized")
        case "error":
            let detail = try? JSONDecoder().decode(ErrorBody.self, from: Data(event.data.utf8))
            throw ClientError(
                .server, detail?.error.message ?? "The server ended the change stream.",
                serverCode: detail?.error.code)
        case "message" where event.data.isEmpty:
            if event.comments.contains("connected") {
                self = .connected
            } else if event.comments.contains("heartbeat") {
                self = .heartbeat
            } else {
                return nil
            }
        default:
            return nil
        }
    }
}
