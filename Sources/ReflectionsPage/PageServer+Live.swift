import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ReflectionsClient
import ReflectionsModel
import ServiceLifecycle

/// The page's two uses of script (`page.js`; every form works without it): drafts kept every few seconds, and
/// live updates from an event stream.
///
/// What a hostile caller could do, and why it cannot: another site cannot read the stream (the cookie is
/// `SameSite=Strict`, and an `EventSource` to another origin sends none) nor post a draft (Origin and form token,
/// as for every form); a tab left open holds one of ``PageEvents/maxStreams`` streams, released when its
/// connection closes; the stream carries no member text, only "changed" and the sync banner's words; a draft is
/// bounded by the form limit and only ever returns to its own editor (``EditorDraft/Slot``).
extension PageServer {
    /// How often an open stream sends a comment, so that a tab whose connection died is noticed.
    static let heartbeat: Duration = .seconds(15)

    /// The editor a draft form names (`slot`) and the showing in its field `key`, or 400.
    static func draftEditor(_ form: [String: String], _ key: String) throws -> (EditorDraft.Slot, String) {
        guard let slot = form["slot"].flatMap(EditorDraft.Slot.init), let name = form[key],
            ClientStore.isEditorName(name)
        else {
            throw HTTPError(.badRequest, message: "This is not an editor of this page.")
        }
        return (slot, name)
    }

    /// `POST …/draft`: keeps what an editor holds now (204). `slot` names the editor.
    func keepDraft(_ request: Request) async throws -> Response {
        let form = try await checkedForm(request)
        let (slot, editor) = try Self.draftEditor(form, "editor")
        // Its form was saved already: this is a late copy of saved text, not unsaved text.
        if closedEditors.withLock({ $0.contains(editor) }) { return Response(status: .noContent) }
        let kept = try home.store.draftCount(slot: slot, editor: editor)
        guard closedEditors.withLock({ $0.count }) < Self.maxClosedEditors, kept.all < Self.maxDrafts || kept.this
        else {
            throw HTTPError(.conflict, message: "Too many unsaved texts are kept: save or discard some.")
        }
        let text = form["body"] ?? form["merged"] ?? ""
        do {
            try home.store.saveDraft(
                EditorDraft(
                    slot: slot.text, editor: editor, title: form["title"], body: text,
                    visibility: form["visibility"].flatMap(Visibility.init(rawValue:)),
                    promptID: form["prompt"].flatMap(Int.init)))
        } catch let error as ClientError {
            throw HTTPError(.unprocessableContent, message: error.message)
        }
        // The draft this editor was opened on is now a copy of older text: this editor's draft replaces it.
        if let restored = form["restored"], restored != editor, ClientStore.isEditorName(restored) {
            try home.store.discardDraft(slot, editor: restored)
        }
        return Response(status: .noContent)
    }

    /// `POST …/draft/discard`: forgets the draft shown in an editor (`restored`), and goes back to that editor,
    /// empty or as saved (or with another kept draft).
    func discardDraft(_ request: Request) async throws -> Response {
        let form = try await checkedForm(request)
        let (slot, shown) = try Self.draftEditor(form, "restored")
        try home.store.discardDraft(slot, editor: shown)
        if let editor = form["editor"], ClientStore.isEditorName(editor) {
            closedEditors.withLock { _ = $0.insert(editor) }
            try home.store.discardDraft(slot, editor: editor)
        }
        let back =
            switch slot {
            case .write: "/write"
            case .edit(let id): "/r/\(id.uuidString)/edit"
            case .comment(let id): "/r/\(id.uuidString)"
            case .commentEdit(let id): (try? home.store.comment(id: id)).map { "/r/\($0.comment.reflectionID)" } ?? "/"
            case .merge(let id): "/conflicts/\(id.uuidString)"
            }
        return Response(status: .seeOther, headers: [.location: "\(security.base)\(back)"])
    }

    /// The most drafts kept at once, and editors remembered as saved: only the member can add to either, but
    /// neither grows without bound.
    public static let maxDrafts = 1000
    static let maxClosedEditors = 100_000

    /// Forgets the drafts of the form just saved — its editor's and the one it was opened on (another tab's
    /// draft in the same slot stays) — and drops any late copy from that editor. With `all`, every draft of the
    /// slot goes (a resolved conflict).
    func saved(_ slot: EditorDraft.Slot, _ form: [String: String], all: Bool = false) {
        for key in ["editor", "restored"] {
            guard let name = form[key], ClientStore.isEditorName(name) else { continue }
            if key == "editor" { closedEditors.withLock { _ = $0.insert(name) } }
            try? home.store.discardDraft(slot, editor: name)
        }
        if all { try? home.store.discardDraft(slot) }
    }

    /// Text sent to a record that a sync removed meanwhile (deleted, or its conflict resolved elsewhere): kept as
    /// the draft of a new reflection, so that nothing typed is lost; the page says where it is. The editor's own
    /// drafts in `slot` (which nothing could show any more) go, as after a save.
    func keptElsewhere(
        _ slot: EditorDraft.Slot?, _ form: [String: String], text: String, title: String? = nil, what: String
    ) throws -> Response {
        if !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            try home.store.saveDraft(
                EditorDraft(slot: EditorDraft.Slot.write.text, editor: Self.newEditor(), title: title, body: text))
        }
        if let slot { saved(slot, form) }
        return try notHere(
            "\(what) is no longer here: a sync changed it meanwhile. What you wrote is kept: Write shows it as your "
                + "unsaved text.")
    }

    /// A new editor's name: 16 random bytes, in hex.
    static func newEditor() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// The values of an editor that shows no kept draft: it continues the posted editor `name` (a form sent back
    /// with a problem) or starts a new one.
    static func editorValues(continuing name: String? = nil) -> [String: Any] {
        [
            "editor": name.flatMap { ClientStore.isEditorName($0) ? $0 : nil } ?? newEditor(), "draft": false,
            "hasOtherDrafts": false, "restored": false,
        ]
    }

    /// What an editor shows of its kept drafts: the one `wanted` names (`?draft=`), else the newest, and links to
    /// the others. Every showing gets a new editor name (two tabs never share one); the draft it was opened on is
    /// `restored`, replaced by the new editor's first kept draft and removed when its form is saved.
    func editorDrafts(_ slot: EditorDraft.Slot, wanted: String?) throws -> (shown: EditorDraft?, values: [String: Any])
    {
        let all = try home.store.drafts(slot)
        let shown = all.first { $0.editor == wanted } ?? all.first
        let others = all.filter { $0.editor != shown?.editor }
        return (
            shown,
            [
                "editor": Self.newEditor(), "restored": shown?.editor ?? false,
                "draft": shown.map { Self.time($0.savedAt) } ?? false,
                "hasOtherDrafts": !others.isEmpty,
                "otherDrafts": others.map { ["editor": $0.editor, "time": Self.time($0.savedAt)] },
            ]
        )
    }

    /// `GET …/events?since=N`: `event: changed` once the page has changed after generation N (at once if it
    /// already has), `event: state` with the sync banner's words when they change, a heartbeat comment every
    /// ``heartbeat``. 429 when ``PageEvents/maxStreams`` are open.
    func liveEvents(_ request: Request, context: PageContext) throws -> Response {
        let since = request.uri.queryParameters["since"].flatMap { Int(String($0)) } ?? 0
        guard let (id, wakes) = events.open() else {
            throw HTTPError(.tooManyRequests, message: "Too many tabs of this page are open: close some.")
        }
        let events = self.events
        context.channel.closeFuture.whenComplete { _ in events.close(id) }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream; charset=utf-8", HTTPField.Name("X-Accel-Buffering")!: "no"],
            body: ResponseBody { [self] writer in
                defer { events.close(id) }
                let beat = Task {
                    while !Task.isCancelled {
                        try await Task.sleep(for: Self.heartbeat)
                        events.wake(id)
                    }
                }
                defer { beat.cancel() }
                try await writer.write(ByteBuffer(string: ": connected\nretry: 3000\n\n"))
                var told = since
                var toldState = ""
                var lastWrite = ContinuousClock.now
                var iterator = wakes.makeAsyncIterator()
                try await withGracefulShutdownHandler {
                    repeat {
                        var text = ""
                        let generation = events.generation
                        if generation > told {
                            text += "event: changed\ndata: \(generation)\n\n"
                            told = generation
                        }
                        let state = try self.stateEvent()
                        if state != toldState {
                            text += "event: state\ndata: \(state)\n\n"
                            toldState = state
                        }
                        if text.isEmpty && ContinuousClock.now - lastWrite >= Self.heartbeat * 0.75 {
                            text = ": heartbeat\n\n"
                        }
                        if !text.isEmpty {
                            try await writer.write(ByteBuffer(string: text))
                            lastWrite = .now
                        }
                    } while await iterator.next() != nil
                } onGracefulShutdown: {
                    events.close(id)
                }
                try await writer.finish(nil)
            })
    }

    /// The sync banner's state as one line of JSON: `{"state":"live","text":"Online: …"}`.
    func stateEvent() throws -> String {
        let banner = try syncBanner()
        let data = try JSONEncoder().encode([
            "state": banner["state"] as? String ?? "", "text": banner["stateText"] as? String ?? "",
        ])
        return String(decoding: data, as: UTF8.self)
    }
}
