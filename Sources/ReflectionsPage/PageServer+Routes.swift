import Foundation
import HTTPTypes
import Hummingbird
import ReflectionsClient
import ReflectionsModel

extension PageServer {
    func router() -> Router<PageContext> {
        let router = Router(context: PageContext.self)
        router.add(middleware: PageGuard(security: security))
        // A saved form (every one answers 303) changes what other tabs show: they are told.
        router.add(
            middleware: PageChanged { [events] in events.changed() })
        let page = router.group(RouterPath(security.base))
        page.get("open") { request, _ in self.open(request) }
        page.get("style.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: PageTemplates.css)))
        }
        page.get("/") { request, _ in try self.list(request) }
        page.get("write") { request, _ in
            try self.writeForm(restoring: true, wanted: request.uri.queryParameters["draft"].map(String.init))
        }
        page.post("write") { request, _ in try await self.write(request) }
        page.get("r/:id") { request, context in
            try self.show(
                context.parameters.get("id") ?? "", notice: Self.notice(request),
                wanted: request.uri.queryParameters["draft"].map(String.init))
        }
        page.post("r/:id/comment") { request, context in
            try await self.comment(request, id: context.parameters.get("id") ?? "")
        }
        page.post("sync") { request, _ in try await self.syncNow(request) }
        page.get("r/:id/edit") { request, context in
            try self.editForm(
                context.parameters.get("id") ?? "", wanted: request.uri.queryParameters["draft"].map(String.init))
        }
        page.post("r/:id/edit") { request, context in
            try await self.edit(request, id: context.parameters.get("id") ?? "")
        }
        page.get("r/:id/delete") { _, context in try self.confirmDelete(context.parameters.get("id") ?? "") }
        page.post("r/:id/delete") { request, context in
            try await self.delete(request, id: context.parameters.get("id") ?? "")
        }
        page.get("log") { _, _ in try self.log() }
        page.get("page.js") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/javascript; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: PageScript.source)))
        }
        page.get("events") { request, context in try self.liveEvents(request, context: context) }
        page.post("draft") { request, _ in try await self.keepDraft(request) }
        page.post("draft/discard") { request, _ in try await self.discardDraft(request) }
        page.get("conflicts") { _, _ in try self.conflicts() }
        page.get("conflicts/:id") { request, context in
            try self.conflictView(
                context.parameters.get("id") ?? "", wanted: request.uri.queryParameters["draft"].map(String.init))
        }
        page.post("conflicts/:id") { request, context in
            try await self.resolve(request, id: context.parameters.get("id") ?? "")
        }
        page.post("c/:id/edit") { request, context in
            try await self.editComment(request, id: context.parameters.get("id") ?? "")
        }
        page.post("c/:id/delete") { request, context in
            try await self.deleteComment(request, id: context.parameters.get("id") ?? "")
        }
        return router
    }

    /// `/open?key=…`: the printed address. The right key becomes a cookie no script can read and no other site
    /// sends (`HttpOnly; SameSite=Strict`), and the key leaves the address bar (a redirect).
    func open(_ request: Request) -> Response {
        guard PageSecurity.same(request.uri.queryParameters["key"].map(String.init), security.secret) else {
            return PageGuard<PageContext>.refusal(
                .forbidden, "This key is not the one reflect ui printed for this launch.")
        }
        return Response(
            status: .seeOther,
            headers: [
                .location: "\(security.base)/",
                .setCookie:
                    "\(PageSecurity.cookieName)=\(security.secret); Path=\(security.base)/; HttpOnly; SameSite=Strict",
            ])
    }

    // MARK: Pages

    func list(_ request: Request) throws -> Response {
        // Only the three known values reach the template (they are echoed in an attribute).
        let show = ["mine", "community"].first { $0 == request.uri.queryParameters["show"].map(String.init) } ?? "all"
        let prompt = request.uri.queryParameters["prompt"].flatMap { Int(String($0)) }
        let mine = show == "mine"
        var listed = try home.store.reflections(mine: mine, promptID: prompt)
        if show == "community" { listed = listed.filter { $0.reflection.visibility == .community } }
        return try page(
            "list",
            [
                "title": "Reflections", "show": show,
                "heading": mine ? "My reflections" : show == "community" ? "Community reflections" : "Reflections",
                "prompts": Self.prompts(selected: prompt),
                "reflections": listed.map(Self.summary),
            ], notice: Self.notice(request))
    }

    func writeForm(
        form: [String: Any] = [:], problem: String? = nil, status: HTTPResponse.Status = .ok,
        heading: String = "Write a reflection", action: String = "/write", slot: EditorDraft.Slot = .write,
        restoring: Bool = false, wanted: String? = nil, editor: String? = nil
    ) throws -> Response {
        var form = form
        // Text kept from an earlier visit comes back in place of the empty (or saved) form; a form sent back
        // with a problem keeps what was just typed, and its editor's name.
        var values: [String: Any] = Self.editorValues(continuing: editor)
        if restoring {
            let (shown, drafts) = try editorDrafts(slot, wanted: wanted)
            values = drafts
            if let shown {
                form = Self.editorFields(
                    title: shown.title ?? "", body: shown.body, community: shown.visibility == .community,
                    prompt: shown.promptID.map(String.init) ?? "")
            }
        }
        let editorName = values["editor"] as? String ?? ""
        return try page(
            "write",
            values.merging([
                "self": "\(action)?draft=\(editorName)",
                "title": heading, "heading": heading, "action": action, "form": form, "editing": action != "/write",
                "prompts": Self.prompts(selected: (form["prompt"] as? String).flatMap(Int.init)), "slot": slot.text,
            ]) { _, new in new }, problem: problem, status: status)
    }

    /// The member's own reflection, or nil (another's, deleted, or not on this device).
    func own(_ id: String) -> LocalReflection? {
        guard let uuid = UUID(uuidString: id), let local = try? home.store.reflection(id: uuid), local.isMine,
            !local.reflection.deleted
        else { return nil }
        return local
    }

    func notHere(_ problem: String = "This is not yours, or not on this device.") throws -> Response {
        try page(
            "list", ["title": "Not here", "heading": "Not here", "prompts": Self.prompts(selected: nil)],
            problem: problem, status: .notFound)
    }

    /// What the editor shows (escaped by the templates, per Unicode scalar, like every text).
    static func editorFields(title: String, body: String, community: Bool, prompt: String = "") -> [String: Any] {
        [
            "title": title, "body": body, "community": community,
            "prompt": prompt,
        ]
    }

    func editForm(_ id: String, wanted: String? = nil) throws -> Response {
        guard let local = own(id) else { return try notHere() }
        let r = local.reflection
        return try writeForm(
            form: Self.editorFields(
                title: r.title, body: r.body, community: r.visibility == .community,
                prompt: r.promptID.map(String.init) ?? ""), heading: "Edit your reflection",
            action: "/r/\(r.id.uuidString)/edit", slot: .edit(r.id), restoring: true, wanted: wanted)
    }

    func edit(_ request: Request, id: String) async throws -> Response {
        let form = try await checkedForm(request)
        guard let local = own(id) else {
            return try keptElsewhere(
                UUID(uuidString: id).map(EditorDraft.Slot.edit), form, text: form["body"] ?? "", title: form["title"],
                what: "This reflection")
        }
        let title = form["title"] ?? ""
        let body = form["body"] ?? ""
        let community = form["visibility"] == "community"
        do {
            _ = try home.store.edit(
                id: local.reflection.id, title: title, body: body, visibility: community ? .community : .private)
        } catch let error as ClientError where error.code != .nothingToDo {
            return try writeForm(
                form: Self.editorFields(title: title, body: body, community: community), problem: error.message,
                status: .unprocessableContent, heading: "Edit your reflection",
                action: "/r/\(local.reflection.id.uuidString)/edit", slot: .edit(local.reflection.id),
                editor: form["editor"])
        } catch is ClientError {
            // Nothing changed: nothing to save.
        }
        saved(.edit(local.reflection.id), form)
        return Response(
            status: .seeOther,
            headers: [.location: "\(security.base)/r/\(local.reflection.id.uuidString)?notice=saved"])
    }

    func confirmDelete(_ id: String) throws -> Response {
        guard let local = own(id) else { return try notHere() }
        return try page("confirmDelete", ["title": "Delete", "r": Self.summary(local)])
    }

    func delete(_ request: Request, id: String) async throws -> Response {
        _ = try await checkedForm(request)
        guard let local = own(id) else { return try notHere() }
        try home.store.delete(.reflection, id: local.reflection.id)
        return Response(status: .seeOther, headers: [.location: "\(security.base)/?show=mine&notice=deleted"])
    }

    /// The member's own live comment, or nil.
    func ownComment(_ id: String) -> LocalComment? {
        guard let uuid = UUID(uuidString: id), let local = try? home.store.comment(id: uuid), local.isMine,
            !local.comment.deleted
        else { return nil }
        return local
    }

    func editComment(_ request: Request, id: String) async throws -> Response {
        let form = try await checkedForm(request)
        guard let local = ownComment(id) else {
            return try keptElsewhere(
                UUID(uuidString: id).map(EditorDraft.Slot.commentEdit), form, text: form["body"] ?? "",
                what: "This comment")
        }
        let body = form["body"] ?? ""
        let reflection = local.comment.reflectionID.uuidString
        do {
            try home.store.editComment(id: local.comment.id, body: body)
        } catch let error as ClientError where error.code != .nothingToDo {
            // The refused text comes back in that comment's own editor, not the stored one.
            return try show(
                reflection, problem: error.message, status: .unprocessableContent,
                failedEdit: (local.comment.id, body, form["editor"]))
        } catch is ClientError {
            // Nothing changed: nothing to save.
        }
        saved(.commentEdit(local.comment.id), form)
        return Response(status: .seeOther, headers: [.location: "\(security.base)/r/\(reflection)?notice=saved"])
    }

    func deleteComment(_ request: Request, id: String) async throws -> Response {
        _ = try await checkedForm(request)
        guard let local = ownComment(id) else { return try notHere() }
        try home.store.delete(.comment, id: local.comment.id)
        return Response(
            status: .seeOther,
            headers: [.location: "\(security.base)/r/\(local.comment.reflectionID.uuidString)?notice=deleted"])
    }

    func log() throws -> Response {
        let events = try home.store.events(limit: 200).map { event -> [String: Any] in
            [
                "at": Self.time(event.at), "direction": event.direction, "entity": event.entity ?? "",
                "outcome": event.outcome, "detail": event.detail ?? "",
            ]
        }
        return try page("log", ["title": "Sync log", "events": events])
    }

    func write(_ request: Request) async throws -> Response {
        let form = try await checkedForm(request)
        let title = form["title"] ?? ""
        let body = form["body"] ?? ""
        let community = form["visibility"] == "community"
        do {
            let written = try home.store.write(
                title: title, body: body, visibility: community ? .community : .private,
                promptID: form["prompt"].flatMap(Int.init))
            saved(.write, form)
            return Response(
                status: .seeOther, headers: [.location: "\(security.base)/r/\(written.id.uuidString)?notice=saved"])
        } catch let error as ClientError {
            // Nothing typed is lost: the form comes back with the text and what to fix.
            return try writeForm(
                form: Self.editorFields(title: title, body: body, community: community, prompt: form["prompt"] ?? ""),
                problem: error.message, status: .unprocessableContent, editor: form["editor"])
        }
    }

    func show(
        _ id: String, comment: String = "", notice: String? = nil, problem: String? = nil,
        status: HTTPResponse.Status = .ok, wanted: String? = nil, editor: String? = nil,
        failedEdit: (id: UUID, text: String, editor: String?)? = nil
    ) throws -> Response {
        guard let uuid = UUID(uuidString: id), let local = try? home.store.reflection(id: uuid),
            !local.reflection.deleted
        else { return try notHere("This reflection is not on this device.") }
        let r = local.reflection
        var view = Self.summary(local)
        view["paragraphs"] = r.body.components(separatedBy: "\n").filter { !$0.isEmpty }
        let prompt = Prompt.defaults.first { $0.id == r.promptID }?.text
        view["prompt"] = prompt ?? ""
        view["hasPrompt"] = prompt != nil
        view["mine"] = local.isMine
        var commentText = comment
        var values: [String: Any] = Self.editorValues(continuing: editor)
        if comment.isEmpty {
            let (shown, drafts) = try editorDrafts(.comment(r.id), wanted: wanted)
            values = drafts
            if let shown { commentText = shown.body }
        }
        return try page(
            "reflection",
            values.merging([
                "title": r.title, "r": view, "form": ["comment": commentText],
                "slot": EditorDraft.Slot.comment(r.id).text,
                "self": "/r/\(r.id.uuidString)?draft=\(values["editor"] as? String ?? "")",
                "canComment": r.visibility == .community,
                "comments": try local.comments.filter { !$0.comment.deleted }.map { c -> [String: Any] in
                    let kept = c.isMine ? try home.store.draft(.commentEdit(c.comment.id)) : nil
                    if let failedEdit, failedEdit.id == c.comment.id {
                        return [
                            "author": "You", "written": Self.time(c.comment.writtenAt ?? c.comment.createdAt),
                            "body": c.comment.body, "pending": c.pendingMutations > 0, "mine": true,
                            "id": c.comment.id.uuidString, "editing": failedEdit.text, "draft": false, "open": true,
                            "editor": failedEdit.editor.flatMap { ClientStore.isEditorName($0) ? $0 : nil }
                                ?? Self.newEditor(),
                            "restored": false, "hasOtherDrafts": false,
                        ]
                    }
                    return [
                        "author": c.isMine ? "You" : (c.comment.authorName ?? "A member"),
                        "written": Self.time(c.comment.writtenAt ?? c.comment.createdAt), "body": c.comment.body,
                        "pending": c.pendingMutations > 0, "mine": c.isMine, "id": c.comment.id.uuidString,
                        "editing": kept?.body ?? c.comment.body, "draft": kept.map { Self.time($0.savedAt) } ?? false,
                        "editor": Self.newEditor(), "restored": kept?.editor ?? false, "hasOtherDrafts": false,
                        "open": kept != nil,
                    ]
                },
            ]) { _, new in new }, notice: notice, problem: problem, status: status)
    }

    func comment(_ request: Request, id: String) async throws -> Response {
        let form = try await checkedForm(request)
        let body = form["body"] ?? ""
        guard let uuid = UUID(uuidString: id) else { return try show(id) }
        do {
            _ = try home.store.comment(on: uuid, body: body)
            saved(.comment(uuid), form)
            return Response(
                status: .seeOther, headers: [.location: "\(security.base)/r/\(uuid.uuidString)?notice=saved"])
        } catch let error as ClientError {
            let gone = (try? home.store.reflection(id: uuid)).map { $0.reflection.deleted } ?? true
            if gone { return try keptElsewhere(.comment(uuid), form, text: body, what: "The reflection you answered") }
            return try show(
                id, comment: body, problem: error.message, status: .unprocessableContent, editor: form["editor"])
        }
    }

    func syncNow(_ request: Request) async throws -> Response {
        _ = try await checkedForm(request)
        let outcome: String
        do {
            try await home.sync()
            outcome = "synced"
            // The server answered: the banner says online now, before the watch loop's next try.
            syncState.withLock { if case .offline = $0 { $0 = .live } }
        } catch let error as ClientError {
            outcome = "sync-failed"
            syncState.withLock { state in
                if case .stopped = state { return }
                state = error.code == .unreachable ? .offline(error.message) : .stopped(Self.advice(error))
            }
        } catch {
            outcome = "sync-failed"
        }
        return Response(status: .seeOther, headers: [.location: "\(security.base)/?notice=\(outcome)"])
    }

    // MARK: Helpers

    /// The page's words for a `notice` in the address (only these known ones: nothing from the address is shown).
    static func notice(_ request: Request) -> String? {
        switch request.uri.queryParameters["notice"].map(String.init) {
        case "saved": "Saved here. It is sent when this device is online."
        case "deleted": "Deleted here. The delete is sent when this device is online."
        case "synced": "Synced."
        case "resolved": "Resolved here. Your other devices get it at the next sync."
        case "sync-failed": "Not synced now: your writing is safe here and is sent later."
        default: nil
        }
    }

    /// The form's fields, once its token proved it came from this page (else 403, and nothing is done).
    func checkedForm(_ request: Request) async throws -> [String: String] {
        let buffer = try await request.body.collect(upTo: Self.maxFormBytes)
        let form = FormBody.parse(String(buffer: buffer))
        guard PageSecurity.same(form["csrf"], security.formToken) else {
            throw HTTPError(.forbidden, message: "This form is not from this page.")
        }
        return form
    }

    /// A page: the template with the sync banner, the form token and an optional notice or problem.
    func page(
        _ template: String, _ values: [String: Any], notice: String? = nil, problem: String? = nil,
        status: HTTPResponse.Status = .ok
    ) throws -> Response {
        var context = values
        // Only a page that holds typed text needs its own address to come back to (see PageScript).
        if problem == nil { context["self"] = nil }
        context["csrf"] = security.formToken
        context["base"] = security.base
        context["generation"] = events.generation
        context["sync"] = try syncBanner()
        if let notice { context["notice"] = notice }
        if let problem {
            context["problem"] = problem
            // The page holds text the member typed: live updates must not replace it.
            context["hold"] = true
        }
        let html = templates.render(context, withTemplate: template) ?? ""
        return Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    func syncBanner() throws -> [String: Any] {
        let status = try home.store.status()
        let (state, text): (String, String) =
            switch syncState.withLock({ $0 }) {
            case .connecting: ("connecting", "Connecting…")
            case .live: ("live", "Online: changes arrive as they happen")
            case .offline: ("offline", "Offline: your writing is kept here and sent later")
            case .stopped(let why): ("offline", "Not syncing. \(why)")
            case .notWatching: ("idle", "Syncs when you press Sync now")
            }
        let last = status.lastSync.map { Self.time($0.finishedAt ?? $0.startedAt) }
        return [
            "state": state, "stateText": text,
            "hasPending": status.pendingMutations > 0, "pending": status.pendingMutations,
            "hasLastSync": last != nil, "lastSync": last ?? "",
            "hasConflicts": status.openConflicts > 0, "conflicts": status.openConflicts,
            "hasRejected": !status.rejectedMutations.isEmpty, "rejectedCount": status.rejectedMutations.count,
            "rejected": status.rejectedMutations.map { entry -> [String: Any] in
                [
                    "operation": entry.operation, "entity": entry.entity.rawValue,
                    "reason": entry.rejectReason ?? "refused",
                ]
            },
        ]
    }

    static func summary(_ local: LocalReflection) -> [String: Any] {
        let r = local.reflection
        let excerpt = r.body.count > 240 ? String(r.body.prefix(240)) + "…" : r.body
        return [
            "id": r.id.uuidString, "title": r.title, "excerpt": excerpt,
            "author": local.isMine ? "You" : (r.authorName ?? "A member"),
            "written": time(r.writtenAt ?? r.createdAt),
            "visibility": r.visibility == .community ? "shared with the community" : "private",
            "pending": local.pendingMutations > 0, "conflicted": r.conflicted,
        ]
    }

    static func prompts(selected: Int?) -> [[String: Any]] {
        Prompt.defaults.map { ["id": $0.id, "text": $0.text, "selected": $0.id == selected] }
    }

    /// A time as the member's clock shows it, to the minute.
    static func time(_ milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }
}
