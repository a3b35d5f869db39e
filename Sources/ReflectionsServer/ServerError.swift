import Foundation
import Hummingbird
import ReflectionsModel

/// An error the server answers with: an HTTP status, a stable code and a message, sent as
/// `{"error": {"code": …, "message": …}}`.
public struct ServerError: Error, HTTPResponseError, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// A stable, machine-readable code.
    public var code: String
    /// What went wrong, for a person. Never holds a password or token.
    public var message: String
    /// Extra headers, such as `Retry-After`.
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Self.response(status: status, code: code, message: message, headers: headers)
    }

    /// The JSON error response for these parts.
    static func response(status: HTTPResponse.Status, code: String, message: String, headers: HTTPFields = [:])
        -> Response
    {
        let data = (try? JSONEncoder().encode(ErrorBody(code: code, message: message))) ?? Data()
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func badRequest(_ code: String, _ message: String) -> ServerError { ServerError(.badRequest, code, message) }
    static let unauthorized = ServerError(
        .unauthorized, "unauthorized", "Log in first: send 'Authorization: Bearer TOKEN' from POST /v1/sessions.")
    /// The client named an epoch the database no longer has: it was restored from a backup.
    static let serverRestored = ServerError(
        .conflict, "server_restored",
        "This server was restored from a backup since your last sync: resync (your device re-sends what it lacks).")
    /// The client's cursor is older than the compaction horizon: it may have missed a delete.
    static let cursorExpired = ServerError(
        .gone, "cursor_expired",
        "This device has not synced since changes it may hold were compacted away: resync (download everything again; your own pending changes are kept)."
    )
    static let badCredentials = ServerError(.unauthorized, "bad_credentials", "Unknown handle or wrong password.")
    static func notFound(_ what: String = "That") -> ServerError {
        ServerError(.notFound, "not_found", "\(what) does not exist, or you may not see it.")
    }
    static func tooLarge(_ limit: Int) -> ServerError {
        ServerError(.contentTooLarge, "too_large", "The request body is larger than the limit of \(limit) bytes.")
    }
    static func validation(_ error: ValidationError) -> ServerError {
        ServerError(.badRequest, "validation.\(error.code.rawValue)", error.message)
    }
}
