/// The page's only script, hand-written and served from the page itself (`script-src 'self'`; no build step, no
/// library). Every form works without it; with it:
/// - **Drafts**: every few seconds, an editor (`form[data-draft]`) whose fields changed is kept in the store
///   (`POST …/draft`, with the form's own token), and once more when the tab is hidden or closed. The next visit
///   to that editor brings the text back.
/// - **Live updates**: an event stream (`GET …/events`) says when what the page shows changed (a sync brought
///   something, another tab saved a form) and how the sync stands. The page then reads itself again and puts
///   the new banner and content in place (no reload, so the place on the page stays), unless the member is
///   typing or the page answered a problem (it holds what was typed): then a line offers to, and keeps the
///   typed text as a draft before it does. A hidden tab closes its stream (browsers allow about six connections
///   to one address) and opens it again, from the generation it had seen, when it is shown.
///
/// It only ever sets `textContent` (never markup), and reads nothing but the page's own attributes and answers.
enum PageScript {
    /// How often an editor's text is kept, in milliseconds.
    static let draftInterval = 3000

    static let source = """
        "use strict";
        (function () {
          var body = document.body;
          var base = body.getAttribute("data-base");
          var generation = body.getAttribute("data-generation");
          var typing = false;
          var editors = [];

          function fields(form) { return new URLSearchParams(new FormData(form)).toString(); }
          function clock() { return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); }

          // One entry per editor on the page; listeners on the document are added once, not per editor.
          function watchEditors(root) {
            Array.prototype.forEach.call(root.querySelectorAll("form[data-draft]"), function (form) {
              var editor = { form: form, kept: fields(form), sending: null };
              editor.status = form.querySelector(".draft-status");
              form.addEventListener("input", function () { typing = true; });
              editors.push(editor);
            });
          }

          function say(editor, text) { if (editor.status) { editor.status.textContent = text; } }

          // Keeps an editor's text if it changed since it was last kept; the promise ends when it is kept.
          function keep(editor, closing) {
            var now = fields(editor.form);
            if (editor.sent || now === editor.kept || !editor.form.isConnected) { return Promise.resolve(); }
            if (editor.sending) { return editor.sending; }
            var data = new URLSearchParams(new FormData(editor.form));
            data.set("slot", editor.form.getAttribute("data-draft"));
            // A request made as the tab closes may carry at most 64 KiB; longer texts rely on the last kept copy.
            var options = { method: "POST", body: data, credentials: "same-origin",
                            keepalive: closing && data.toString().length < 60000 };
            editor.sending = fetch(base + "/draft", options).then(function (answer) {
              editor.sending = null;
              if (answer.ok) {
                editor.kept = now;
                say(editor, "Draft kept on this device at " + clock() + ".");
              } else {
                say(editor, "The draft could not be kept (" + answer.status + "). Your text is still here.");
              }
            }, function () {
              editor.sending = null;
              say(editor, "The draft could not be kept: is reflect ui still running? Your text is still here.");
            });
            return editor.sending;
          }

          function keepAll(closing) {
            editors = editors.filter(function (editor) { return editor.form.isConnected; });
            return Promise.all(editors.map(function (editor) { return keep(editor, closing); }));
          }

          watchEditors(document);
          setInterval(function () { keepAll(false); }, \(draftInterval));
          // Once a form is sent, its text is being saved: a draft of it sent afterwards would bring it back as
          // unsaved. Every other editor keeps its text now (the page is about to go).
          document.addEventListener("submit", function (event) {
            editors.forEach(function (editor) { if (editor.form === event.target) { editor.sent = true; } });
            keepAll(true);
          });
          window.addEventListener("pagehide", function () { keepAll(true); });

          // Reads this page again and puts its new sync banner and content in place (no reload: the scroll
          // position and the address stay). A page that answered a problem is never replaced: it holds what the
          // member typed.
          function refresh() {
            if (body.hasAttribute("data-hold")) { return showLive(); }
            fetch(window.location.href, { credentials: "same-origin" })
              .then(function (answer) { return answer.ok ? answer.text() : null; })
              .then(function (html) {
                if (html === null || typing) { return; }
                var next = new DOMParser().parseFromString(html, "text/html");
                ["header .sync", "main"].forEach(function (where) {
                  var now = document.querySelector(where);
                  var fresh = next.querySelector(where);
                  if (now && fresh) { now.replaceWith(document.importNode(fresh, true)); }
                });
                document.title = next.title;
                watchEditors(document.querySelector("main"));
              }, function () {});
          }

          function showLive() {
            var live = document.getElementById("live");
            if (live) { live.hidden = false; }
          }

          // "Show it": the text being typed is kept first, then the page is read again — a page that answered a
          // form (with a problem) at its own address, with that draft, never by sending the form again.
          document.addEventListener("click", function (event) {
            var link = event.target.closest && event.target.closest("#live a");
            if (!link) { return; }
            event.preventDefault();
            var self = body.getAttribute("data-self");
            keepAll(false).then(function () {
              if (self) { window.location.assign(self); } else { window.location.reload(); }
            });
          });

          if (!window.EventSource) { return; }
          var stream = null;
          // A tab holds its stream only while it is shown: browsers allow about six connections to one address,
          // and tabs left open in the background must not take them all.
          function listen() {
            if (stream || document.visibilityState === "hidden") { return; }
            stream = new EventSource(base + "/events?since=" + encodeURIComponent(generation));
            stream.addEventListener("open", function () { body.setAttribute("data-live", "open"); });
            stream.addEventListener("error", function () { body.setAttribute("data-live", "retrying"); });
            stream.addEventListener("changed", function (event) {
              generation = event.data;
              body.setAttribute("data-changed", event.data);
              var active = document.activeElement;
              var editing = active && /^(TEXTAREA|INPUT|SELECT)$/.test(active.tagName) && active.type !== "hidden";
              if (!typing && !editing) { refresh(); } else { showLive(); }
            });
            stream.addEventListener("state", function (event) {
              var state = JSON.parse(event.data);
              var shown = document.querySelector(".sync .state");
              if (shown && /^[a-z]+$/.test(state.state)) {
                shown.className = "state state-" + state.state;
                shown.textContent = state.text;
              }
            });
          }
          document.addEventListener("visibilitychange", function () {
            if (document.visibilityState === "hidden") {
              keepAll(true);
              if (stream) { stream.close(); stream = null; body.setAttribute("data-live", "paused"); }
            } else {
              listen();
            }
          });
          listen();
        })();
        """
}
