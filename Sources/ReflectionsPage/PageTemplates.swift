import Mustache

/// The page's templates and style sheet, reviewed as code (no build step, nothing fetched from elsewhere).
/// `{{name}}` is HTML-escaped (`< > & " '`) one Unicode scalar at a time (``ScalarHTML``, declared by every
/// template and partial), so a member's text can never become markup, in text or in a quoted attribute; no
/// template uses `{{{name}}}` (unescaped).
enum PageTemplates {
    static let head = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} · Reflections</title>
        <link rel="stylesheet" href="{{base}}/style.css">
        <script src="{{base}}/page.js" defer></script>
        </head>
        <body data-base="{{base}}" data-generation="{{generation}}"{{#hold}} data-hold{{/hold}}{{#self}} data-self="{{base}}{{self}}"{{/self}}>
        <a class="skip" href="#main">Skip to the page</a>
        <header>
        <nav aria-label="Main">
        <a href="{{base}}/">Reflections</a>
        <a href="{{base}}/?show=mine">Mine</a>
        <a href="{{base}}/?show=community">Community</a>
        <a href="{{base}}/write">Write</a>
        <a href="{{base}}/log">Sync log</a>
        </nav>
        <section class="sync" aria-label="Sync">
        <p><span class="state state-{{sync.state}}">{{sync.stateText}}</span>
        {{#sync.hasPending}} · {{sync.pending}} change(s) waiting to be sent{{/sync.hasPending}}
        {{#sync.hasLastSync}} · last sync {{sync.lastSync}}{{/sync.hasLastSync}}
        {{#sync.hasConflicts}} · <a href="{{base}}/conflicts">{{sync.conflicts}} open conflict(s)</a>{{/sync.hasConflicts}}</p>
        <form method="post" action="{{base}}/sync"><input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit">Sync now</button></form>
        {{#sync.hasRejected}}
        <details><summary>{{sync.rejectedCount}} change(s) the server refused (kept here)</summary>
        <ul>{{#sync.rejected}}<li>{{operation}} of a {{entity}}: {{reason}}</li>{{/sync.rejected}}</ul>
        </details>
        {{/sync.hasRejected}}
        </section>
        </header>
        <main id="main">
        <p id="live" class="notice" role="status" hidden>Something changed since this page was shown.
        <a href="">Show it</a> (what you are typing is kept as a draft first).</p>
        {{#notice}}<p class="notice" role="status">{{notice}}</p>{{/notice}}
        {{#problem}}<p class="problem" role="alert">{{problem}}</p>{{/problem}}
        """

    static let promptOptions = """
        {{#prompts}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{id}}. {{text}}</option>{{/prompts}}
        """

    /// Under an editor: where the script says when the draft was kept, and a restored draft's note.
    static let draftStatus = """
        <input type="hidden" name="editor" value="{{editor}}">{{#restored}}<input type="hidden" name="restored" value="{{restored}}">{{/restored}}
        <p class="draft-status meta" role="status" aria-live="polite">{{#draft}}Your unsaved text from {{draft}} is back.{{/draft}}</p>
        {{#hasOtherDrafts}}<p class="meta">Other unsaved texts for this: {{#otherDrafts}}<a href="?draft={{editor}}">from {{time}}</a> {{/otherDrafts}}</p>{{/hasOtherDrafts}}
        """

    /// After an editor with a restored draft: a way to drop it.
    static let discardDraft = """
        {{#restored}}<form method="post" action="{{base}}/draft/discard"><input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="slot" value="{{slot}}"><input type="hidden" name="editor" value="{{editor}}">
        <input type="hidden" name="restored" value="{{restored}}">
        <button type="submit" class="secondary">Discard the unsaved text</button></form>{{/restored}}
        """

    static let foot = """
        </main>
        </body>
        </html>
        """

    static let list = """
        {{> head}}
        <h1>{{heading}}</h1>
        <form method="get" action="{{base}}/" class="filter">
        <input type="hidden" name="show" value="{{show}}">
        <label for="prompt">Prompt</label>
        <select id="prompt" name="prompt">
        <option value="">Every prompt</option>
        {{> promptOptions}}
        </select>
        <button type="submit">Show</button>
        </form>
        {{^reflections}}<p>No reflections here yet. <a href="{{base}}/write">Write one</a>.</p>{{/reflections}}
        <ol class="reflections">
        {{#reflections}}
        <li><article>
        <h2><a href="{{base}}/r/{{id}}">{{title}}</a></h2>
        <p class="meta">{{author}} · {{written}} · {{visibility}}{{#pending}} · not sent yet{{/pending}}{{#conflicted}} · <a href="{{base}}/conflicts/{{id}}">in conflict: resolve</a>{{/conflicted}}</p>
        <p>{{excerpt}}</p>
        </article></li>
        {{/reflections}}
        </ol>
        {{> foot}}
        """

    static let write = """
        {{> head}}
        <h1>{{heading}}</h1>
        <form method="post" action="{{base}}{{action}}" class="editor" data-draft="{{slot}}">
        <input type="hidden" name="csrf" value="{{csrf}}">
        {{^editing}}
        <label for="prompt">Prompt</label>
        <select id="prompt" name="prompt">
        <option value="">No prompt</option>
        {{> promptOptions}}
        </select>
        {{/editing}}
        <label for="title">Title</label>
        <input id="title" name="title" required maxlength="200" value="{{form.title}}">
        <label for="body">Your reflection</label>
        <textarea id="body" name="body" required rows="14">{{form.body}}</textarea>
        <fieldset>
        <legend>Who may read it</legend>
        <input type="radio" id="private" name="visibility" value="private"{{^form.community}} checked{{/form.community}}>
        <label for="private">Only me (private)</label>
        <input type="radio" id="community" name="visibility" value="community"{{#form.community}} checked{{/form.community}}>
        <label for="community">The community</label>
        </fieldset>
        {{> draftStatus}}
        <button type="submit">Save</button>
        </form>
        {{> discardDraft}}
        {{> foot}}
        """

    static let confirmDelete = """
        {{> head}}
        <h1>Delete “{{r.title}}”?</h1>
        <p>It is removed from this device now, and from the server and your other devices at the next sync.</p>
        <form method="post" action="{{base}}/r/{{r.id}}/delete">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit">Delete it</button>
        </form>
        <p><a href="{{base}}/r/{{r.id}}">Keep it</a></p>
        {{> foot}}
        """

    static let log = """
        {{> head}}
        <h1>Sync log</h1>
        <p>The newest first: what each sync sent and received, and what the server refused or merged.</p>
        {{^events}}<p>Nothing synced yet.</p>{{/events}}
        <table>
        <thead><tr><th scope="col">When</th><th scope="col">What</th><th scope="col">Outcome</th><th scope="col">Detail</th></tr></thead>
        <tbody>
        {{#events}}<tr><td>{{at}}</td><td>{{direction}} {{entity}}</td><td>{{outcome}}</td><td>{{detail}}</td></tr>{{/events}}
        </tbody>
        </table>
        {{> foot}}
        """

    static let conflicts = """
        {{> head}}
        <h1>Conflicts</h1>
        <p>When two of your devices changed the same words before they synced, both versions are kept until you
        choose. Nothing is lost meanwhile.</p>
        {{^conflicts}}<p>No open conflicts.</p>{{/conflicts}}
        <ul>
        {{#conflicts}}<li><a href="{{base}}/conflicts/{{id}}">{{title}}</a> ({{entity}}, {{count}} other version(s))</li>{{/conflicts}}
        </ul>
        {{> foot}}
        """

    /// Both versions side by side; a run of words in one version only is a `<mark>` (with a visible style that
    /// is not colour alone: it is also underlined).
    static let conflict = """
        {{> head}}
        <h1>Resolve a conflict</h1>
        <p>Two versions of your {{what}} met. Words that are in one version only are <mark>marked</mark>.
        {{#older}}({{olderCount}} older version(s) are kept too; any choice ends them all.){{/older}}</p>
        <div class="sides">
        <section class="side" aria-labelledby="current-heading">
        <h2 id="current-heading">The current version</h2>
        <p class="meta">{{current.from}}</p>
        {{#hasTitle}}<p class="side-title">{{#current.titleDiffers}}<mark>{{current.title}}</mark>{{/current.titleDiffers}}{{^current.titleDiffers}}{{current.title}}{{/current.titleDiffers}}</p>{{/hasTitle}}
        {{#current.deleted}}<p><strong>Deleted.</strong></p>{{/current.deleted}}
        {{^current.deleted}}<div class="side-text">{{#current.segments}}{{#marked}}<mark>{{text}}</mark>{{/marked}}{{^marked}}{{text}}{{/marked}}{{/current.segments}}</div>{{/current.deleted}}
        <form method="post" action="{{base}}/conflicts/{{id}}">
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="revision" value="{{revision}}">
        <input type="hidden" name="shown" value="{{shown}}"><input type="hidden" name="choice" value="current">
        <input type="hidden" name="editor" value="{{editor}}">
        <button type="submit">Keep the current version</button>
        </form>
        </section>
        <section class="side" aria-labelledby="other-heading">
        <h2 id="other-heading">The other version</h2>
        <p class="meta">{{other.from}}, kept {{other.when}}</p>
        {{#other.deleted}}<p><strong>This version deletes the {{what}}.</strong></p>{{/other.deleted}}
        {{^other.deleted}}
        {{#hasTitle}}<p class="side-title">{{#other.titleDiffers}}<mark>{{other.title}}</mark>{{/other.titleDiffers}}{{^other.titleDiffers}}{{other.title}}{{/other.titleDiffers}}</p>{{/hasTitle}}
        <div class="side-text">{{#other.segments}}{{#marked}}<mark>{{text}}</mark>{{/marked}}{{^marked}}{{text}}{{/marked}}{{/other.segments}}</div>
        {{/other.deleted}}
        <form method="post" action="{{base}}/conflicts/{{id}}">
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="revision" value="{{revision}}">
        <input type="hidden" name="shown" value="{{shown}}"><input type="hidden" name="choice" value="other">
        <input type="hidden" name="editor" value="{{editor}}">
        <button type="submit">{{#other.deleted}}Delete it{{/other.deleted}}{{^other.deleted}}Keep the other version{{/other.deleted}}</button>
        </form>
        </section>
        </div>
        <form method="post" action="{{base}}/conflicts/{{id}}" class="editor" data-draft="{{slot}}">
        <input type="hidden" name="csrf" value="{{csrf}}"><input type="hidden" name="revision" value="{{revision}}">
        <input type="hidden" name="shown" value="{{shown}}"><input type="hidden" name="choice" value="merged">
        <label for="merged">Or write the text you want, from both</label>
        <textarea id="merged" name="merged" required rows="10">{{form.merged}}</textarea>
        {{> draftStatus}}
        <button type="submit">Save this text</button>
        </form>
        {{> discardDraft}}
        <p><a href="{{base}}/r/{{reflectionID}}">Back, and decide later</a></p>
        {{> foot}}
        """

    static let reflection = """
        {{> head}}
        <article class="reflection">
        <h1>{{r.title}}</h1>
        <p class="meta">{{r.author}} · {{r.written}} · {{r.visibility}}{{#r.pending}} · not sent yet{{/r.pending}}</p>
        {{#r.conflicted}}<p class="problem">Two versions of this reflection met. <a href="{{base}}/conflicts/{{r.id}}">See both and choose</a>.</p>{{/r.conflicted}}
        {{#r.hasPrompt}}<p class="prompt">Prompt: {{r.prompt}}</p>{{/r.hasPrompt}}
        <div class="body">{{#r.paragraphs}}<p>{{.}}</p>{{/r.paragraphs}}</div>
        {{#r.mine}}<p class="actions"><a href="{{base}}/r/{{r.id}}/edit">Edit</a> <a href="{{base}}/r/{{r.id}}/delete">Delete</a></p>{{/r.mine}}
        </article>
        <section aria-labelledby="comments">
        <h2 id="comments">Comments</h2>
        {{^comments}}<p>No comments yet.</p>{{/comments}}
        <ol class="comments">
        {{#comments}}<li><p class="meta">{{author}} · {{written}}{{#pending}} · not sent yet{{/pending}}</p><p>{{body}}</p>
        {{#mine}}<details{{#open}} open{{/open}}><summary>Change or delete your comment</summary>
        <form method="post" action="{{base}}/c/{{id}}/edit" data-draft="comment-edit:{{id}}">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="edit-{{id}}">Your comment</label>
        <textarea id="edit-{{id}}" name="body" required rows="3">{{editing}}</textarea>
        {{> draftStatus}}
        <button type="submit">Save the change</button>
        </form>
        {{#restored}}<form method="post" action="{{base}}/draft/discard"><input type="hidden" name="csrf" value="{{csrf}}">
        <input type="hidden" name="slot" value="comment-edit:{{id}}"><input type="hidden" name="editor" value="{{editor}}">
        <input type="hidden" name="restored" value="{{restored}}">
        <button type="submit" class="secondary">Discard the unsaved text</button></form>{{/restored}}
        <form method="post" action="{{base}}/c/{{id}}/delete">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit">Delete this comment</button>
        </form>
        </details>{{/mine}}</li>{{/comments}}
        </ol>
        {{#canComment}}
        <form method="post" action="{{base}}/r/{{r.id}}/comment" data-draft="{{slot}}">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <label for="comment">Your comment</label>
        <textarea id="comment" name="body" required rows="4">{{form.comment}}</textarea>
        {{> draftStatus}}
        <button type="submit">Comment</button>
        </form>
        {{> discardDraft}}
        {{/canComment}}
        </section>
        {{> foot}}
        """

    /// Plain, readable at 200 % and on a phone; focus always visible; text and controls above WCAG AA contrast
    /// (#1a1a1a on #ffffff is 17:1, the link blue #0b4f9c on white 8.3:1).
    static let css = """
        :root { color: #1a1a1a; background: #ffffff; font: 1.05rem/1.55 system-ui, sans-serif; }
        body { max-width: 46rem; margin: 0 auto; padding: 0 1rem 3rem; }
        a { color: #0b4f9c; }
        a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible,
        summary:focus-visible { outline: 3px solid #b35c00; outline-offset: 2px; }
        .skip { position: absolute; left: -999px; }
        .skip:focus { left: 1rem; top: 1rem; background: #ffffff; padding: .5rem; }
        header nav { display: flex; flex-wrap: wrap; gap: 1rem; padding: 1rem 0; border-bottom: 1px solid #767676; }
        .sync { font-size: .95rem; }
        .state-live { color: #1d6b2f; } .state-offline { color: #a3111b; }
        label { display: block; margin-top: 1rem; font-weight: 600; }
        fieldset label { display: inline; font-weight: normal; margin-right: 1rem; }
        input[type=text], input:not([type]), select, textarea { width: 100%; box-sizing: border-box;
          font: inherit; padding: .4rem; border: 1px solid #595959; border-radius: 3px; }
        button { font: inherit; margin-top: 1rem; padding: .45rem 1rem; background: #0b4f9c; color: #ffffff;
          border: 0; border-radius: 3px; cursor: pointer; }
        .meta { color: #4a4a4a; font-size: .9rem; }
        .notice { background: #e8f3ea; padding: .5rem; } .problem { background: #fbe9ea; padding: .5rem; }
        ol.reflections, ol.comments { list-style: none; padding: 0; }
        ol.reflections li, ol.comments li { border-bottom: 1px solid #d0d0d0; }
        .actions a { margin-right: 1rem; }
        button.secondary { background: #ffffff; color: #0b4f9c; border: 2px solid #0b4f9c; }
        .sides { display: grid; grid-template-columns: repeat(auto-fit, minmax(17rem, 1fr)); gap: 1.5rem; }
        .side { border: 1px solid #767676; border-radius: 3px; padding: 0 1rem 1rem; }
        .side-title { font-weight: 600; }
        .side-text { white-space: pre-wrap; overflow-wrap: anywhere; }
        mark { background: #fff0a8; color: #1a1a1a; text-decoration: underline; text-decoration-thickness: 2px; }
        table { border-collapse: collapse; width: 100%; font-size: .9rem; }
        th, td { text-align: left; padding: .3rem; border-bottom: 1px solid #d0d0d0; vertical-align: top; }
        """

    /// The content type every template and partial declares (Mustache resets it to its own HTML in each
    /// partial): HTML escaped per Unicode scalar.
    static let contentType = "REFLECT_HTML"

    /// HTML escaping one Unicode scalar at a time. Mustache's own escapes per grapheme cluster, and a cluster
    /// that merely *contains* `<` (a prepended mark such as U+0600 before it, which validation allows) is not `<`
    /// and went out raw: a member could have put markup, a form, on another member's page.
    struct ScalarHTML: MustacheContentType {
        func escapeText(_ text: String) -> String { PageGuard<PageContext>.escaped(text) }
    }

    static func library() throws -> MustacheLibrary {
        MustacheContentTypes.register(ScalarHTML(), named: contentType)
        var library = MustacheLibrary()
        for (name, body) in [
            ("head", head), ("foot", foot), ("draftStatus", draftStatus), ("discardDraft", discardDraft),
            ("promptOptions", promptOptions), ("list", list), ("write", write),
            ("reflection", reflection), ("confirmDelete", confirmDelete), ("log", log),
            ("conflicts", conflicts), ("conflict", conflict),
        ] {
            try library.register("{{% CONTENT_TYPE: \(contentType)}}" + body, named: name)
        }
        return library
    }
}
