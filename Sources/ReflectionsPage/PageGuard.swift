import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Every request to the page passes here first. A request is refused unless it names the page's own host (DNS
/// rebinding), carries the launch's secret in its cookie (another user of the machine, or a page that guessed the
/// port), and — for a form — comes from the page's own origin; the form's token is checked where the form is read.
/// Every answer forbids framing, sniffing, caching and anything not from the page itself (CSP).
struct PageGuard<Context: RequestContext>: RouterMiddleware {
    let security: PageSecurity

    static var contentSecurityPolicy: String {
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        var response: Response
        let path = request.uri.path
        if !security.allows(host: request.head.authority) {
            // Another name for this address (DNS rebinding) or a proxy: nothing is served.
            response = Self.refusal(.misdirectedRequest, "This page answers only at the address reflect ui printed.")
        } else if !path.hasPrefix(security.base + "/") {
            response = Self.refusal(.notFound, "Open the address that reflect ui printed.")
        } else if path != security.base + "/open",
            !PageSecurity.same(Self.cookie(PageSecurity.cookieName, in: request), security.secret)
        {
            response = Self.refusal(
                .forbidden, "Open the address that reflect ui printed (it carries this launch's key).")
        } else if request.method != .get && request.method != .head
            && !security.allows(origin: request.headers[.origin])
        {
            response = Self.refusal(.forbidden, "A form from another page was refused.")
        } else {
            do {
                response = try await next(request, context)
            } catch let error as HTTPError {
                // A form without its token, an unknown path: a short page, with the headers below.
                response = Self.refusal(error.status, error.body ?? "This request was refused.")
            } catch let error as any HTTPResponseError {
                response = Self.refusal(error.status, "This request was refused.")
            } catch is NIOTooManyBytesError {
                response = Self.refusal(.contentTooLarge, "This form is larger than the page reads (1 MiB).")
            } catch {
                // The store failed (disk full, say): nothing of the error's detail is shown.
                response = Self.refusal(.internalServerError, "This could not be done; nothing was changed.")
            }
        }
        response.headers[HTTPField.Name("Content-Security-Policy")!] = Self.contentSecurityPolicy
        response.headers[HTTPField.Name("X-Content-Type-Options")!] = "nosniff"
        response.headers[HTTPField.Name("X-Frame-Options")!] = "DENY"
        // Not `no-referrer`: under it browsers send `Origin: null` with a form, and every form would be refused.
        // Same-origin requests keep their referrer; nothing leaves the page.
        response.headers[HTTPField.Name("Referrer-Policy")!] = "same-origin"
        response.headers[HTTPField.Name("Cross-Origin-Opener-Policy")!] = "same-origin"
        response.headers[HTTPField.Name("Cross-Origin-Resource-Policy")!] = "same-origin"
        response.headers[.cacheControl] = "no-store"
        return response
    }

    /// A cookie's value from the request's `Cookie` headers.
    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if pair.count == 2 && pair[0] == name { return pair[1] }
            }
        }
        return nil
    }

    /// Text for HTML, one Unicode scalar at a time (so that a quote followed by a combining mark is escaped too).
    static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// A short page that says why the request was refused (no member data in it).
    static func refusal(_ status: HTTPResponse.Status, _ message: String) -> Response {
        let html =
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Refused</title></head>"
            + "<body><main><h1>Refused</h1><p>\(escaped(message))</p></main></body></html>"
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}
