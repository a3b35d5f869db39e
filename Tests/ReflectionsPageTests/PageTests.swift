import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ReflectionsClient
import ReflectionsModel
import ReflectionsPage
import ReflectionsServer
import ReflectionsTestSupport
import Synchronization
import Testing

/// The member's page over real HTTP on a random loopback port, on a real home store (and a real `reflectd` where
/// it syncs): who may open it, what another site or another name for the address can do (nothing), that a
/// member's text is never markup, and that what is written on the page offline reaches another device.
@Suite struct PageTests {
    /// A running page and an HTTP client that does not follow redirects.
    final class RunningPage: Sendable {
        let server: PageServer
        let port: Int
        let task: Task<Void, any Error>
        let http = HTTPClient(configuration: .init(redirectConfiguration: .disallow))

        init(server: PageServer, port: Int, task: Task<Void, any Error>) {
            self.server = server
            self.port = port
            self.task = task
        }

        static func start(_ home: Home, watch: Bool = false) async throws -> RunningPage {
            let server = try PageServer(home: home)
            let ready = AsyncStream.makeStream(of: String.self)
            let task = Task { try await server.run(port: 0, watch: watch) { ready.continuation.yield($0) } }
            var iterator = ready.stream.makeAsyncIterator()
            guard let address = await iterator.next(), let port = URLComponents(string: address)?.port else {
                throw TestFailure("the page did not start")
            }
            #expect(
                address == "http://127.0.0.1:\(port)/p/\(server.security.pathToken)/open?key=\(server.security.secret)")
            return RunningPage(server: server, port: port, task: task)
        }

        var cookie: String { "\(PageSecurity.cookieName)=\(server.security.secret)" }
        /// Where the page lives.
        var base: String { server.security.base }
        var origin: String { "http://127.0.0.1:\(port)" }

        struct Answer {
            var status: Int
            var headers: [(String, String)]
            var body: String
            func header(_ name: String) -> String? { headers.first { $0.0.lowercased() == name.lowercased() }?.1 }
        }

        func send(
            _ method: HTTPMethod, _ path: String, headers: [(String, String)] = [], form: [String: String]? = nil
        ) async throws -> Answer {
            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
            request.method = method
            for (name, value) in headers { request.headers.replaceOrAdd(name: name, value: value) }
            if let form {
                let body = form.map { key, value in
                    "\(key)=\(value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"
                }.joined(separator: "&")
                request.headers.replaceOrAdd(name: "Content-Type", value: "application/x-www-form-urlencoded")
                request.body = .bytes(ByteBuffer(string: body))
            }
            let response = try await http.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 4 * 1024 * 1024)
            return Answer(
                status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                body: String(buffer: body))
        }

        /// A GET of a page path (under ``base``) as the member's browser sends it (the cookie), optionally with
        /// other headers.
        func get(_ path: String, _ headers: [(String, String)] = []) async throws -> Answer {
            try await send(.GET, base + path, headers: [("Cookie", cookie)] + headers)
        }

        /// A form post as the page's own form sends it (cookie, origin, token), with `fields`.
        func post(_ path: String, _ fields: [String: String], headers: [(String, String)]? = nil) async throws
            -> Answer
        {
            try await send(
                .POST, base + path, headers: headers ?? [("Cookie", cookie), ("Origin", origin)],
                form: fields.merging(["csrf": server.security.formToken]) { mine, _ in mine })
        }

        func stop() async throws {
            task.cancel()
            _ = await task.result
            try await http.shutdown()
        }
    }

    /// A home set up for a server that is never there (port 9), not logged in.
    static func offlineHome() throws -> Home {
        let directory = TemporaryDirectory.make(prefix: "page-home")
        let caFile = directory.appendingPathComponent("ca.pem")
        try SelfSignedCertificate.generate(hostnames: []).certificatePEM.write(
            to: caFile, atomically: true, encoding: .utf8)
        let home = try Home.open(directory)
        try home.setUp(serverURL: "https://127.0.0.1:9", trust: .caFile(caFile.path))
        return home
    }

    @Test func onlyTheKeyOpensThePageAndOnlyAtItsOwnAddress() async throws {
        let home = try Self.offlineHome()
        let page = try await RunningPage.start(home)
        // No key, a wrong key: refused, and nothing of the page is in the answer.
        let bare = try await page.send(.GET, page.base + "/")
        #expect(bare.status == 403)
        #expect(!bare.body.contains("Sync now"))
        #expect(try await page.send(.GET, page.base + "/open?key=not-the-key").status == 403)
        let guessed = try await page.send(
            .GET, page.base + "/", headers: [("Cookie", "\(PageSecurity.cookieName)=guess")])
        #expect(guessed.status == 403)
        // The printed key: a cookie no script reads and no other site sends, and the key leaves the address.
        let opened = try await page.send(.GET, page.base + "/open?key=\(page.server.security.secret)")
        #expect(opened.status == 303)
        #expect(opened.header("Location") == page.base + "/")
        // Scoped to the page's secret path: browsers send cookies to every port of a host, and another server on
        // 127.0.0.1 cannot know this path.
        let cookie = try #require(opened.header("Set-Cookie"))
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"))
        #expect(cookie.contains("Path=\(page.base)/"))
        // Outside that path there is nothing, key or not.
        #expect(try await page.send(.GET, "/", headers: [("Cookie", page.cookie)]).status == 404)
        #expect(try await page.send(.GET, "/open?key=\(page.server.security.secret)").status == 404)
        let listed = try await page.get("/")
        #expect(listed.status == 200)
        #expect(listed.body.contains("Sync now"))
        let policy = try #require(listed.header("Content-Security-Policy"))
        #expect(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"))
        #expect(listed.header("X-Frame-Options") == "DENY")
        #expect(listed.header("Cache-Control") == "no-store")
        #expect(listed.header("X-Content-Type-Options") == "nosniff")
        // Not `no-referrer`: with it, browsers send `Origin: null` on a form and every form would be refused.
        #expect(listed.header("Referrer-Policy") == "same-origin")
        // Only known values of `show` reach the page (it is echoed in an attribute).
        let crafted = try await page.get("/?show=%22%CC%81%20autofocus%20x=%22")
        #expect(crafted.body.contains("name=\"show\" value=\"all\""))
        #expect(!crafted.body.contains("autofocus"))
        // Another name for the address (DNS rebinding) is refused, even with the cookie; localhost is the page.
        let rebound = try await page.get("/", [("Host", "attacker.example:\(page.port)")])
        #expect(rebound.status == 421)
        #expect(!rebound.body.contains("Sync now"))
        #expect(try await page.get("/", [("Host", "localhost:\(page.port)")]).status == 200)
        #expect(try await page.get("/", [("Host", "127.0.0.1:1")]).status == 421)
        try await page.stop()
        try await home.close()
    }

    @Test func formsFromAnotherSiteOrWithoutTheTokenDoNothing() async throws {
        let home = try Self.offlineHome()
        let page = try await RunningPage.start(home)
        let fields = ["title": "Allyship", "body": "Listening first.", "visibility": "private"]
        // Another site's form: its origin is not the page's (the browser sends the cookie only same-site, but
        // the origin is checked as well).
        let foreign = try await page.post(
            "/write", fields, headers: [("Cookie", page.cookie), ("Origin", "http://attacker.example")])
        #expect(foreign.status == 403)
        let noOrigin = try await page.post("/write", fields, headers: [("Cookie", page.cookie)])
        #expect(noOrigin.status == 403)
        // The page's origin but not its form token.
        let forged = try await page.send(
            .POST, page.base + "/write", headers: [("Cookie", page.cookie), ("Origin", page.origin)], form: fields)
        #expect(forged.status == 403)
        #expect(try await page.post("/sync", [:], headers: [("Origin", page.origin)]).status == 403)
        // A form larger than the page reads: refused whole, with the page's headers.
        let huge = try await page.post("/write", ["title": "Huge", "body": String(repeating: "w", count: 1_100_000)])
        #expect(huge.status == 413)
        #expect(huge.header("Content-Security-Policy") != nil)
        #expect(try home.store.reflections().isEmpty)
        // The page's own form: saved.
        let saved = try await page.post("/write", fields)
        #expect(saved.status == 303)
        #expect(try home.store.reflections().map(\.reflection.title) == ["Allyship"])
        try await page.stop()
        try await home.close()
    }

    @Test func aMembersTextIsNeverMarkup() async throws {
        let home = try Self.offlineHome()
        let page = try await RunningPage.start(home)
        let title = "<script>alert('title')</script>"
        let body = "\"><img src=x onerror=alert(1)> & more"
        let saved = try await page.post("/write", ["title": title, "body": body, "visibility": "community"])
        #expect(saved.status == 303)
        let location = try #require(saved.header("Location"))
        for path in ["/", String(location.dropFirst(page.base.count).prefix { $0 != "?" })] {
            let answer = try await page.get(path)
            #expect(answer.status == 200)
            #expect(!answer.body.contains("<script>alert"))
            #expect(!answer.body.contains("<img src=x"))
            #expect(answer.body.contains("&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;"))
        }
        // A mark that joins the next character into its grapheme (U+0600, a prepended mark) must not carry a
        // `<` past the escaping: Mustache's own escaping compares whole graphemes.
        let joined = try await page.post(
            "/write",
            ["title": "\u{600}<b>title", "body": "\u{600}<form action=x>\u{600}<img src=x>", "visibility": "community"])
        let joinedPath = try #require(joined.header("Location")).dropFirst(page.base.count).prefix { $0 != "?" }
        let joinedID = String(joinedPath.dropFirst("/r/".count))
        _ = try await page.post("/r/\(joinedID)/comment", ["body": "\u{600}<form action=y>"])
        for path in ["/", String(joinedPath), String(joinedPath) + "/edit"] {
            let answer = try await page.get(path)
            #expect(answer.status == 200)
            for raw in ["<form action=x", "<form action=y", "<img src=x", "<b>title"] {
                #expect(!answer.body.contains(raw), "\(path) shows \(raw) as markup")
            }
        }
        #expect(try await page.get(String(joinedPath)).body.contains("\u{600}&lt;form action=x&gt;"))
        // A text the store refuses comes back in the form, escaped, with what to fix: nothing typed is lost.
        let tooLong = String(repeating: "t", count: 300)
        let refused = try await page.post("/write", ["title": tooLong, "body": "Kept <b>words</b>."])
        #expect(refused.status == 422)
        #expect(refused.body.contains("Kept &lt;b&gt;words&lt;/b&gt;."))
        #expect(refused.body.contains(tooLong))
        // A quote followed by a combining mark (one grapheme) cannot end the title's attribute.
        let sneaky = "\"\u{301} autofocus onfocus=x " + String(repeating: "t", count: 200)
        let echoed = try await page.post("/write", ["title": sneaky, "body": "Words."])
        #expect(echoed.status == 422)
        #expect(echoed.body.contains("value=\"&quot;\u{301} autofocus onfocus=x "))
        try await page.stop()
        try await home.close()
    }

    /// The sync loop behind the page may stop (here: nobody is logged in); the page stays and says so.
    @Test func thePageOutlivesItsSyncLoop() async throws {
        let home = try Self.offlineHome()
        let page = try await RunningPage.start(home, watch: true)
        var said = ""
        for _ in 0..<50 {
            said = try await page.get("/").body
            if said.contains("Not syncing") { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(said.contains("Not syncing. Not logged in"))
        #expect(try await page.post("/write", ["title": "Still here", "body": "Saved offline."]).status == 303)
        #expect(try home.store.reflections().count == 1)
        try await page.stop()
        try await home.close()
    }

    /// Written on the page while the server is away, listed at once, sent when it is back; a comment from
    /// another device arrives on the page.
    @Test func writtenOfflineOnThePageReachesAnotherDevice() async throws {
        var server = try await LiveServer.start()
        let laptop = try await Device.make(server, handle: "amara", register: true)
        let phone = try await Device.make(server, handle: "amara", register: false)
        let page = try await RunningPage.start(laptop.client)
        let port = server.port
        try await server.stop()

        let saved = try await page.post(
            "/write", ["title": "On the ward", "body": "Written with no signal.", "visibility": "community"])
        #expect(saved.status == 303)
        let mine = try await page.get("/?show=mine")
        #expect(mine.body.contains("On the ward") && mine.body.contains("not sent yet"))
        #expect(mine.body.contains("1 change(s) waiting to be sent"))
        let offline = try await page.post("/sync", [:])
        #expect(offline.header("Location") == page.base + "/?notice=sync-failed")

        server = try await LiveServer.start(dataDirectory: server.dataDirectory, port: port)
        let synced = try await page.post("/sync", [:])
        #expect(synced.header("Location") == page.base + "/?notice=synced")
        try await phone.sync()
        let arrived = try #require(try phone.store.reflections().first { $0.reflection.title == "On the ward" })
        #expect(arrived.reflection.body == "Written with no signal.")

        // The phone comments; after the page's next sync the comment is on the reflection's page.
        _ = try phone.store.comment(on: arrived.reflection.id, body: "Seen on the phone.")
        try await phone.sync()
        #expect(try await page.post("/sync", [:]).header("Location") == page.base + "/?notice=synced")
        let shown = try await page.get("/r/\(arrived.reflection.id.uuidString)")
        #expect(shown.body.contains("Seen on the phone."))
        try await page.stop()
        try await phone.close()
        try await laptop.close()
        try await server.stop()
    }

    /// Edit and delete: only one's own writing, only by the page's forms, never by a GET; the sync log is there.
    @Test func onlyOwnWritingIsChangedAndOnlyByAForm() async throws {
        let server = try await LiveServer.start()
        let laptop = try await Device.make(server, handle: "amara", register: true)
        let bo = try await Device.make(server, handle: "bo.k", register: true)
        let page = try await RunningPage.start(laptop.client)
        let boShared = try bo.store.write(title: "Bo's", body: "Bo's words.\n", visibility: .community)
        try await bo.sync()
        let mine = try laptop.store.write(title: "Mine", body: "First words.\n")
        try await laptop.sync()

        // Edit: the form comes filled, the change is saved and waits to be sent.
        let form = try await page.get("/r/\(mine.id.uuidString)/edit")
        #expect(form.status == 200 && form.body.contains("First words."))
        let edited = try await page.post(
            "/r/\(mine.id.uuidString)/edit", ["title": "Mine", "body": "Second words.", "visibility": "private"])
        #expect(edited.status == 303)
        #expect(try laptop.body(mine.id) == "Second words.")
        // Bo's reflection: no Edit link, and neither form does anything.
        #expect(!(try await page.get("/r/\(boShared.id.uuidString)")).body.contains("/edit\""))
        #expect(try await page.get("/r/\(boShared.id.uuidString)/edit").status == 404)
        let forged = try await page.post(
            "/r/\(boShared.id.uuidString)/edit", ["title": "Changed", "body": "Not Bo's.", "visibility": "private"])
        #expect(forged.status == 404)
        #expect(try await page.post("/r/\(boShared.id.uuidString)/delete", [:]).status == 404)
        #expect(try laptop.body(boShared.id) == "Bo's words.\n")

        // Comments: one's own can be changed and deleted; Bo's cannot.
        let bosComment = try bo.store.comment(on: boShared.id, body: "Bo's comment.")
        try await bo.sync()
        try await laptop.sync()
        let myComment = try laptop.store.comment(on: boShared.id, body: "My comment.")
        let thread = try await page.get("/r/\(boShared.id.uuidString)")
        #expect(thread.body.contains("/c/\(myComment.id.uuidString)/edit"))
        #expect(!thread.body.contains("/c/\(bosComment.id.uuidString)/edit"))
        #expect(
            try await page.post("/c/\(myComment.id.uuidString)/edit", ["body": "My comment, changed."]).status == 303)
        #expect(try laptop.store.comment(id: myComment.id).comment.body == "My comment, changed.")
        #expect(try await page.post("/c/\(bosComment.id.uuidString)/edit", ["body": "Not Bo's."]).status == 404)
        #expect(try await page.post("/c/\(bosComment.id.uuidString)/delete", [:]).status == 404)
        #expect(try laptop.store.comment(id: bosComment.id).comment.body == "Bo's comment.")
        #expect(try await page.post("/c/\(myComment.id.uuidString)/delete", [:]).status == 303)
        #expect((try? laptop.store.comment(id: myComment.id))?.comment.deleted ?? true)
        #expect(
            try laptop.store.reflection(id: boShared.id).comments.allSatisfy {
                $0.comment.id != myComment.id || $0.comment.deleted
            })

        // Delete: a GET only asks; the form deletes.
        let asked = try await page.get("/r/\(mine.id.uuidString)/delete")
        #expect(asked.status == 200 && asked.body.contains("Delete it"))
        #expect(try laptop.store.reflections(mine: true).count == 1)
        #expect(try await page.post("/r/\(mine.id.uuidString)/delete", [:]).status == 303)
        #expect(try laptop.store.reflections(mine: true).isEmpty)

        // The sync log shows what the syncs did.
        #expect(try await page.post("/sync", [:]).header("Location") == page.base + "/?notice=synced")
        let log = try await page.get("/log")
        #expect(log.status == 200 && log.body.contains("Sync log") && log.body.contains("<td>"))
        try await page.stop()
        for device in [laptop, bo] { try await device.close() }
        try await server.stop()
    }

    /// A conflict between two of the member's devices: both versions side by side with the differing words
    /// marked; a bad choice or an empty merged text changes nothing; a choice ends it. Another member's record
    /// has no conflict view.
    @Test func aConflictIsResolvedOnThePage() async throws {
        let server = try await LiveServer.start()
        let laptop = try await Device.make(server, handle: "amara", register: true)
        let phone = try await Device.make(server, handle: "amara", register: false)
        let bo = try await Device.make(server, handle: "bo.k", register: true)
        let bosOwn = try bo.store.write(title: "Bo's", body: "Bo's words.\n", visibility: .community)
        try await bo.sync()
        let mine = try laptop.store.write(title: "Mine", body: "Edited on no device.\n")
        try await laptop.sync()
        try await phone.sync()
        _ = try phone.store.edit(id: mine.id, body: "Edited on the phone.\n")
        _ = try laptop.store.edit(id: mine.id, body: "Edited on the laptop.\n")
        try await phone.sync()
        try await laptop.sync()
        let page = try await RunningPage.start(laptop.client)

        let listed = try await page.get("/conflicts")
        #expect(listed.body.contains("/conflicts/\(mine.id.uuidString)"))
        let view = try await page.get("/conflicts/\(mine.id.uuidString)")
        #expect(view.status == 200)
        #expect(view.body.contains("<mark>laptop</mark>") && view.body.contains("<mark>phone</mark>"))
        #expect(!view.body.contains("<mark>Edited"))

        let pinned = [
            "revision": try #require(Self.hidden("revision", in: view.body)),
            "shown": try #require(Self.hidden("shown", in: view.body)),
        ]
        // A choice about versions the page did not show (a sync changed them meanwhile) decides nothing.
        let stale = try await page.post(
            "/conflicts/\(mine.id.uuidString)", ["choice": "other", "revision": UUID().uuidString, "shown": "x"])
        #expect(stale.status == 409 && stale.body.contains("choose again"))
        #expect(try laptop.store.conflicts().count == 1)
        #expect(
            try await page.post("/conflicts/\(mine.id.uuidString)", pinned.merging(["choice": "both"]) { a, _ in a })
                .status == 400)
        let empty = try await page.post(
            "/conflicts/\(mine.id.uuidString)", pinned.merging(["choice": "merged", "merged": " "]) { a, _ in a })
        #expect(empty.status == 422)
        #expect(
            try await page.post(
                "/conflicts/\(mine.id.uuidString)", pinned.merging(["choice": "other"]) { a, _ in a },
                headers: [
                    ("Cookie", page.cookie), ("Origin", page.origin),
                ]
            ).status == 303)
        #expect(try laptop.store.conflicts().isEmpty)
        let kept = try laptop.body(mine.id)
        #expect(kept == "Edited on the laptop.\n" || kept == "Edited on the phone.\n")
        #expect(try await page.get("/conflicts/\(mine.id.uuidString)").status == 404)
        #expect(try await page.get("/conflicts/\(bosOwn.id.uuidString)").status == 404)
        #expect(try await page.post("/conflicts/\(bosOwn.id.uuidString)", ["choice": "other"]).status == 404)

        // The other device gets the choice and its conflict ends too.
        try await laptop.sync()
        try await phone.sync()
        #expect(try phone.store.conflicts().isEmpty)
        #expect(try phone.body(mine.id) == kept)
        try await page.stop()
        for device in [laptop, phone, bo] { try await device.close() }
        try await server.stop()
    }

    /// Another member's private reflection is on none of the page's views: the server never sends it, so the
    /// store never has it, whatever the address asks for.
    @Test func anotherMembersPrivateWritingIsNeverOnThePage() async throws {
        let server = try await LiveServer.start()
        let laptop = try await Device.make(server, handle: "amara", register: true)
        let bo = try await Device.make(server, handle: "bo.k", register: true)
        let secret = try bo.store.write(title: "Bo alone", body: "Only Bo reads this.\n")
        let madePrivate = try bo.store.write(
            title: "Bo shared once", body: "Shared, then not.\n", visibility: .community)
        try await bo.sync()
        try await laptop.sync()
        #expect(try laptop.store.reflection(id: madePrivate.id).reflection.title == "Bo shared once")
        _ = try bo.store.edit(id: madePrivate.id, visibility: .private)
        try await bo.sync()
        try await laptop.sync()
        let page = try await RunningPage.start(laptop.client)
        var seen = ""
        for path in [
            "/", "/?show=community", "/?show=mine", "/?prompt=1", "/log", "/conflicts",
            "/r/\(secret.id.uuidString)", "/r/\(madePrivate.id.uuidString)", "/conflicts/\(secret.id.uuidString)",
        ] {
            seen += try await page.get(path).body
        }
        #expect(seen.contains("Reflections"))
        for text in ["Bo alone", "Only Bo reads", "Bo shared once", "Shared, then not"] {
            #expect(!seen.contains(text), "\(text) is on the page")
        }
        try await page.stop()
        for device in [laptop, bo] { try await device.close() }
        try await server.stop()
    }

    /// Unsaved text kept by the page's script comes back in its own editor only, goes when its form is saved or
    /// discarded, and only the page's own form can keep one.
    @Test func draftsComeBackToTheirOwnEditorUntilSaved() async throws {
        let home = try Self.offlineHome()
        let page = try await RunningPage.start(home)
        let typed = [
            "title": "Half <b>done</b>", "body": "Not finished yet.", "visibility": "community", "prompt": "2",
        ]
        // The page names each showing of an editor.
        let fresh = try await page.get("/write")
        let first = try #require(Self.hidden("editor", in: fresh.body))
        #expect(ClientStore.isEditorName(first))
        #expect(
            try await page.post("/draft", typed.merging(["slot": "write", "editor": first]) { a, _ in a }).status
                == 204)
        let back = try await page.get("/write")
        #expect(back.body.contains("Not finished yet.") && back.body.contains("is back"))
        #expect(back.body.contains("value=\"Half &lt;b&gt;done&lt;/b&gt;\""))
        #expect(back.body.contains("id=\"community\" name=\"visibility\" value=\"community\" checked"))
        #expect(back.body.contains("<option value=\"2\" selected>"))
        // A new showing has a name of its own, and says which draft it was opened on.
        let reopened = try #require(Self.hidden("editor", in: back.body))
        #expect(reopened != first && Self.hidden("restored", in: back.body) == first)

        // Refused: no token, another origin, an editor that does not exist, an editor without a name.
        #expect(
            try await page.send(
                .POST, page.base + "/draft", headers: [("Cookie", page.cookie), ("Origin", page.origin)],
                form: ["slot": "write", "editor": first, "body": "forged"]
            ).status == 403)
        #expect(
            try await page.post(
                "/draft", ["slot": "write", "editor": first, "body": "forged"],
                headers: [("Cookie", page.cookie), ("Origin", "http://attacker.example")]
            ).status == 403)
        #expect(try await page.post("/draft", ["slot": "../../etc", "editor": first, "body": "x"]).status == 400)
        #expect(try await page.post("/draft", ["slot": "edit:not-an-id", "editor": first, "body": "x"]).status == 400)
        #expect(try await page.post("/draft", ["slot": "write", "body": "x"]).status == 400)
        #expect(try await page.post("/draft", ["slot": "write", "editor": "a b", "body": "x"]).status == 400)
        #expect(try home.store.draft(.write)?.body == "Not finished yet.")

        // A second tab writing at the same time keeps its own draft; saving the first leaves it, and a copy of
        // the first that arrives late (the tab closing) does not come back as unsaved.
        let second = "second-tab"
        #expect(
            try await page.post("/draft", ["slot": "write", "editor": second, "body": "The other tab."]).status == 204)
        let both = try await page.get("/write")
        #expect(both.body.contains("The other tab.") && both.body.contains("?draft=\(first)"))
        #expect(try await page.get("/write?draft=\(first)").body.contains("Not finished yet."))
        #expect(try await page.post("/write", typed.merging(["editor": first]) { a, _ in a }).status == 303)
        #expect(try home.store.drafts(.write).map(\.body) == ["The other tab."])
        #expect(try await page.post("/draft", ["slot": "write", "editor": first, "body": "Late copy."]).status == 204)
        #expect(try home.store.drafts(.write).map(\.body) == ["The other tab."])

        // A comment draft returns to its reflection's comment box only.
        let written = try home.store.write(title: "Shared", body: "Words.", visibility: .community)
        let other = try home.store.write(title: "Other", body: "More words.", visibility: .community)
        #expect(
            try await page.post(
                "/draft", ["slot": "comment:\(written.id.uuidString)", "editor": "c1", "body": "A kept comment"]
            ).status == 204)
        #expect(try await page.get("/r/\(written.id.uuidString)").body.contains(">A kept comment</textarea>"))
        #expect(!(try await page.get("/r/\(other.id.uuidString)")).body.contains("A kept comment"))

        // Discarded: gone, and the editor shows what is left.
        let discard = try await page.post(
            "/draft/discard", ["slot": "comment:\(written.id.uuidString)", "editor": "c2", "restored": "c1"])
        #expect(discard.status == 303 && discard.header("Location") == page.base + "/r/\(written.id.uuidString)")
        // A showing opened on the other tab's draft replaces it with its own once it keeps something.
        let onSecond = try await page.get("/write?draft=\(second)")
        let third = try #require(Self.hidden("editor", in: onSecond.body))
        #expect(Self.hidden("restored", in: onSecond.body) == second)
        #expect(
            try await page.post(
                "/draft", ["slot": "write", "editor": third, "restored": second, "body": "The other tab, more."]
            ).status == 204)
        #expect(try home.store.drafts(.write).map(\.body) == ["The other tab, more."])
        #expect(try await page.post("/draft/discard", ["slot": "write", "restored": third]).status == 303)
        #expect(try home.store.drafts().isEmpty)
        #expect(!(try await page.get("/write")).body.contains("is back"))
        try await page.stop()
        try await home.close()
    }

    /// Text sent to a record a sync removed meanwhile is kept as a new reflection's draft; a refused comment edit
    /// comes back in that comment's editor; a page that answered a problem holds it (no live update replaces it)
    /// and names its own address to come back to.
    @Test func textSentToWhatIsGoneOrRefusedIsKept() async throws {
        let home = try Self.offlineHome()
        let page = try await RunningPage.start(home)
        let mine = try home.store.write(title: "Mine", body: "Words.", visibility: .community)
        let comment = try home.store.comment(on: mine.id, body: "A comment.")
        // Refused: a blank comment edit comes back with what was typed in its own editor.
        let tooLong = String(repeating: "c", count: Limits.commentBodyMaxBytes + 1)
        let refused = try await page.post("/c/\(comment.id.uuidString)/edit", ["body": tooLong, "editor": "e1"])
        #expect(refused.status == 422 && refused.body.contains(">\(tooLong)</textarea>"))
        #expect(
            refused.body.contains("data-hold")
                && refused.body.contains("data-self=\"\(page.base)/r/\(mine.id.uuidString)?draft="))
        // Gone: the reflection was deleted (by a sync, say) while its edit form was open (and had kept a draft).
        try home.store.saveDraft(EditorDraft(slot: EditorDraft.Slot.edit(mine.id).text, editor: "e2", body: "An edit"))
        try home.store.delete(.reflection, id: mine.id)
        let late = try await page.post(
            "/r/\(mine.id.uuidString)/edit", ["title": "Mine", "body": "An edit that came too late.", "editor": "e2"])
        #expect(late.status == 404 && late.body.contains("What you wrote is kept"))
        #expect(try home.store.drafts(.write).map(\.body) == ["An edit that came too late."])
        #expect(try home.store.drafts(.edit(mine.id)).isEmpty)
        #expect(try await page.get("/write").body.contains("An edit that came too late."))
        let lateComment = try await page.post(
            "/r/\(mine.id.uuidString)/comment", ["body": "A comment that came too late.", "editor": "e3"])
        #expect(lateComment.status == 404 && lateComment.body.contains("What you wrote is kept"))
        #expect(try home.store.drafts(.write).count == 2)
        try await page.stop()
        try await home.close()
    }

    /// The value of the first hidden field named `name` in a page.
    static func hidden(_ name: String, in html: String) -> String? {
        guard let start = html.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(html[start.upperBound...].prefix { $0 != "\"" })
    }

    /// Reads a page's event stream in the background (a response body allows one reader only).
    final class EventReader: Sendable {
        final class Text: Sendable { let value = Mutex("") }
        let read = Text()
        let task: Task<Void, any Error>

        init(_ body: HTTPClientResponse.Body) {
            let read = self.read
            task = Task {
                for try await chunk in body { read.value.withLock { $0 += String(buffer: chunk) } }
            }
        }

        /// Everything read so far, once it contains `wanted` (or after 20 seconds).
        func wait(until wanted: String) async throws -> String {
            for _ in 0..<400 {
                let text = read.value.withLock { $0 }
                if text.contains(wanted) { return text }
                try await Task.sleep(for: .milliseconds(50))
            }
            return read.value.withLock { $0 }
        }
    }

    /// The live-updates stream: only with the page's cookie, says "changed" when a form is saved elsewhere or
    /// the sync loop brings something, carries no member text, is bounded, and does not keep the page running.
    @Test func openTabsAreToldWhatChanged() async throws {
        let server = try await LiveServer.start()
        let laptop = try await Device.make(server, handle: "amara", register: true)
        let bo = try await Device.make(server, handle: "bo.k", register: true)
        let page = try await RunningPage.start(laptop.client, watch: true)
        do {
            try await tellTabs(page, laptop: laptop, bo: bo)
        } catch {
            Issue.record(error)
        }
        // Stopping the page ends every stream (it does not wait for the tabs).
        try await page.stop()
        for device in [laptop, bo] { try await device.close() }
        try await server.stop()
    }

    func tellTabs(_ page: RunningPage, laptop: Device, bo: Device) async throws {
        #expect(try await page.send(.GET, page.base + "/events").status == 403)

        var request = HTTPClientRequest(url: "http://127.0.0.1:\(page.port)\(page.base)/events?since=0")
        request.headers.add(name: "Cookie", value: page.cookie)
        let stream = try await page.http.execute(request, timeout: .seconds(60))
        #expect(stream.status == .ok)
        #expect(stream.headers.first(name: "Content-Type")?.hasPrefix("text/event-stream") == true)
        let reader = EventReader(stream.body)
        let opened = try await reader.wait(until: "event: state")
        #expect(opened.contains(": connected") && opened.contains("\"state\""))

        // Another member shares a reflection; the page's sync loop pulls it; the tab is told, without its text.
        _ = try bo.store.write(title: "Bo shares", body: "Secret-free words.", visibility: .community)
        try await bo.sync()
        let told = try await reader.wait(until: "event: changed")
        #expect(told.contains("event: changed"))
        #expect(!told.contains("Bo shares") && !told.contains("Secret-free"))
        #expect(try laptop.store.reflections().contains { $0.reflection.title == "Bo shares" })

        // Bounded: at most PageEvents.maxStreams at once (one is open above).
        var pool = HTTPClient.Configuration.ConnectionPool()
        pool.concurrentHTTP1ConnectionsPerHostSoftLimit = 2 * PageEvents.maxStreams
        let tabs = HTTPClient(configuration: .init(connectionPool: pool))
        var extra: [HTTPClientResponse] = []
        for _ in 1..<PageEvents.maxStreams {
            extra.append(try await tabs.execute(request, timeout: .seconds(60)))
        }
        #expect(extra.allSatisfy { $0.status == .ok })
        #expect(try await tabs.execute(request, timeout: .seconds(60)).status == .tooManyRequests)
        reader.task.cancel()
        try await tabs.shutdown()
    }

    /// The page's limits are the ones README.md states.
    @Test func theReadmeStatesThePagesLimits() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("| `reflect ui` form | \(PageServer.maxFormBytes / 1024 / 1024) MiB"))
        #expect(readme.contains("| `reflect ui` live streams | \(PageEvents.maxStreams) open at once"))
        let characters = ClientStore.maxDraftCharacters.formatted(.number.locale(Locale(identifier: "en_US")))
        #expect(readme.contains("| `reflect ui` draft | one per showing of an editor, up to \(characters) characters"))
        let drafts = PageServer.maxDrafts.formatted(.number.locale(Locale(identifier: "en_US")))
        #expect(readme.contains("| `reflect ui` drafts kept | \(drafts) at most"))
    }
}
