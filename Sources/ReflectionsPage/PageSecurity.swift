import Crypto
import Foundation
import Synchronization

/// What keeps the member's page theirs on a shared machine: a random secret per launch (in the printed address,
/// then in a cookie the page's scripts cannot read), a separate random token in every form, and the one origin
/// the page answers for (`127.0.0.1` or `localhost` at the bound port — anything else is a DNS-rebinding attempt or
/// another site).
public final class PageSecurity: Sendable {
    /// The secret the printed address carries (`/open?key=…`); never logged.
    public let secret: String
    /// The token every form sends back (`csrf`), so that another site cannot post a form here.
    public let formToken: String
    /// The page lives under `/p/<pathToken>/`, and its cookie is scoped to that path: browsers scope cookies by
    /// host, not by port, so a cookie at `/` would also go to any other server on 127.0.0.1 (another user's, or a
    /// development server), which cannot know this path.
    public let pathToken: String
    private let boundPort = Mutex<Int?>(nil)

    /// The cookie that carries the secret after the first visit.
    public static let cookieName = "reflect_page"

    public init(
        secret: String = PageSecurity.randomToken(), formToken: String = PageSecurity.randomToken(),
        pathToken: String = PageSecurity.randomToken()
    ) {
        self.secret = secret
        self.formToken = formToken
        self.pathToken = pathToken
    }

    /// Where every page lives (no trailing slash).
    public var base: String { "/p/\(pathToken)" }

    /// 32 random bytes, as URL-safe base64 without padding.
    public static func randomToken() -> String {
        let key = SymmetricKey(size: .bits256)
        return key.withUnsafeBytes { Data($0) }.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The port the page listens on, once bound.
    public var port: Int? { boundPort.withLock { $0 } }

    func bound(to port: Int) { boundPort.withLock { $0 = port } }

    /// The `Host` values the page answers: the loopback address or `localhost`, at its own port.
    func allows(host: String?) -> Bool {
        guard let port, let host = host?.lowercased() else { return false }
        return host == "127.0.0.1:\(port)" || host == "localhost:\(port)"
    }

    /// The `Origin` a form of this page sends.
    func allows(origin: String?) -> Bool {
        guard let port, let origin = origin?.lowercased() else { return false }
        return origin == "http://127.0.0.1:\(port)" || origin == "http://localhost:\(port)"
    }

    /// Compares in time that does not depend on where the strings differ.
    static func same(_ a: String?, _ b: String) -> Bool {
        guard let a else { return false }
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}
