/// The page's only script, hand-written and served from the page itself (`script-src 'self'`; no build step, no
/// library). Every form works without it; with it:
/// - **Drafts**: every few seconds, an editor (`form[data-draft]`) whose fields changed is kept in the store
///   (`POST …/draft`, with the form's own token), and once more when the tab is hidden or closed. The next visit
///   to that editor brings the text back.
/// - **Live updates**: an event stream (`GET …/events`) says when what the page shows changed (a sync brought
///   something, another tab saved a form) and how the sync stands. The page then reads itself again and puts
///   the new banner and content in place (no reload, so the place on the page stays), unless the member is
///   typing: then a line offers to.
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
          var typing = false;

          function fields(form) { return new URLSearchParams(new FormData(form)).toString(); }
          function clock() { return new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }); }

          function keepDrafts(root) {
            Array.prototype.forEach.call(root.querySelectorAll("form[data-draft]"), function (form) {
              var kept = fields(form);
              var sending = false;
              var submitting = false;
              var status = form.querySelector(".draft-status");
              function say(text) { if (status) { status.textContent = text; } }
              function keep(leaving) {
                var now = fields(form);
                if (submitting || sending || now === kept || !form.isConnected) { return; }
                var data = new URLSearchParams(new FormData(form));
                data.set("slot", form.getAttribute("data-draft"));
                sending = !leaving;
                fetch(base + "/draft", { method: "POST", body: data, credentials: "same-origin", keepalive: leaving })
                  .then(function (answer) {
                    sending = false;
                    if (answer.ok) {
                      kept = now;
                      say("Draft kept on this device at " + clock() + ".");
                    } else {
                      say("The draft could not be kept (" + answer.status + "). Your text is still here.");
                    }
                  }, function () {
                    sending = false;
                    say("The draft could not be kept: is reflect ui still running? Your text is still here.");
                  });
              }
              form.addEventListener("input", function () { typing = true; });
              form.addEventListener("submit", function () { submitting = true; });
              setInterval(keep, \(draftInterval));
              document.addEventListener("visibilitychange", function () {
                if (document.visibilityState === "hidden") { keep(true); }
              });
              window.addEventListener("pagehide", function () { keep(true); });
            });
          }
          keepDrafts(document);

          // Reads this page again and puts its new sync banner and content in place (no reload: the scroll
          // position and the address stay).
          function refresh() {
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
                keepDrafts(document.querySelector("main"));
              }, function () {});
          }

          if (!window.EventSource) { return; }
          var stream = new EventSource(base + "/events?since=" + encodeURIComponent(body.getAttribute("data-generation")));
          stream.addEventListener("open", function () { body.setAttribute("data-live", "open"); });
          stream.addEventListener("error", function () { body.setAttribute("data-live", "retrying"); });
          stream.addEventListener("changed", function (event) {
            body.setAttribute("data-changed", event.data);
            var active = document.activeElement;
            var editing = active && /^(TEXTAREA|INPUT|SELECT)$/.test(active.tagName) && active.type !== "hidden";
            if (!typing && !editing) {
              refresh();
            } else {
              var live = document.getElementById("live");
              if (live) { live.hidden = false; }
            }
          });
          stream.addEventListener("state", function (event) {
            var state = JSON.parse(event.data);
            var shown = document.querySelector(".sync .state");
            if (shown && /^[a-z]+$/.test(state.state)) {
              shown.className = "state state-" + state.state;
              shown.textContent = state.text;
            }
          });
        })();
        """
}
