import Foundation
import Hummingbird
import Logging

/// Turns every error into the JSON error body, so that clients never meet another shape: Hummingbird's own
/// errors (unknown route, wrong method) keep their status; anything unexpected becomes a 500 that is logged
/// with the request id and tells the client nothing internal.
struct ErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as ServerError {
            return ServerError.response(
                status: error.status, code: error.code, message: error.message, headers: error.headers)
        } catch let error as HTTPError {
            let code: String
            switch error.status {
            case .notFound: code = "not_found"
            case .methodNotAllowed: code = "method_not_allowed"
            case .contentTooLarge: code = "too_large"
            case .badRequest: code = "bad_request"
            default: code = "http_\(error.status.code)"
            }
            let message =
                error.body ?? (error.status == .notFound ? "There is no such endpoint." : error.status.reasonPhrase)
            return ServerError.response(status: error.status, code: code, message: message)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            return ServerError.response(
                status: .internalServerError, code: "internal", message: "The server failed; nothing was changed.")
        }
    }
}
