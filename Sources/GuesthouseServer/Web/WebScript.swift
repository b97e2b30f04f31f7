import Hummingbird

/// The web UI's one script, a static file (the Content-Security-Policy allows no inline script):
/// on a page with a `data-state-url` badge (a machine's or a container's) it asks that URL for
/// `{"state": ...}` every 3 s and updates the badge, and shows the "reload" hint once the state
/// differs from the one the page was drawn with. Pages work without it.
enum WebScript {
    static let path = "/static/guesthouse.js"

    static let source = """
    "use strict";
    (function () {
      var badge = document.querySelector("[data-state-url]");
      if (!badge || !window.fetch) { return; }
      var url = badge.getAttribute("data-state-url");
      var drawn = badge.textContent.trim();
      var hint = document.getElementById("state-changed");
      function show(state) {
        if (state === badge.textContent.trim()) { return; }
        badge.textContent = state;
        badge.className = "state-" + state;
        if (hint) { hint.hidden = state === drawn; }
      }
      function poll() {
        fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
          .then(function (r) { return r.ok ? r.json() : null; })
          .then(function (body) { if (body && typeof body.state === "string") { show(body.state); } })
          .catch(function () {})
          .then(function () { window.setTimeout(poll, 3000); });
      }
      window.setTimeout(poll, 3000);
    })();
    """

    /// The script (public, like the style sheet: it holds no data).
    static func register(_ router: Router<GuesthouseContext>) {
        router.get(.init(stringLiteral: path)) { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "max-age=3600"],
                     body: .init(byteBuffer: ByteBuffer(string: source)))
        }
    }
}
