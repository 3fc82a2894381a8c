/* The badge of `renderer serve` (added with the reload script, never by `build`): the
   number of problems the background check found, linking to /_renderer/. It asks
   /_renderer/status.json every second, so it changes without a reload; on /_renderer/
   itself it swaps in the check's section when the check's findings change. */
(function () {
  var STATUS = "/_renderer/status.json", PREVIEW = "/_renderer/", shown = null;
  var host = document.createElement("renderer-badge");
  host.setAttribute("data-renderer-badge", "");
  host.style.cssText = "position:fixed;right:12px;bottom:12px;z-index:2147483647;";
  var root = host.attachShadow ? host.attachShadow({mode: "open"}) : host;
  root.innerHTML = "<style>a{display:inline-block;font:12px/1.6 system-ui,sans-serif;" +
    "padding:2px 9px;border-radius:11px;text-decoration:none;color:#fff;background:#2b7a3d;" +
    "box-shadow:0 1px 4px rgba(0,0,0,.25);opacity:.75}a:hover{opacity:1}" +
    "a.bad{background:#b3261e;opacity:.95}a.busy{background:#5b6570}</style>" +
    "<a href=\"" + PREVIEW + "\" title=\"renderer serve: background check\">…</a>";
  var link = root.querySelector("a");
  function show(status) {
    var text, kind = "";
    if (status.problems > 0) {
      text = status.problems + (status.problems == 1 ? " problem" : " problems");
      kind = "bad";
    } else if (status.running || !status.started) {
      text = status.started ? "checking " + status.checked + "/" + status.total : "…";
      kind = "busy";
    } else {
      text = "\u2713";
    }
    if (status.running && status.problems > 0) text += " \u2026";
    link.textContent = text;
    link.className = kind;
    link.title = "renderer serve: " + status.checked + " of " + status.total + " pages checked";
    host.setAttribute("data-problems", String(status.problems));
  }
  var last = null, lastAt = 0;
  function refreshPreview(status) {
    /* Fetched again when what it lists may differ, and for the progress every 5 s at
       most: /_renderer/ lists every URL, and the check counts pages one by one. */
    var section = document.getElementById("renderer-check"), now = Date.now();
    if (!section || section.getAttribute("data-version") == String(status.version)) return;
    var same = last && last.problems == status.problems && last.running == status.running;
    if (same && now - lastAt < 5000) return;
    last = status; lastAt = now;
    fetch(location.href, {cache: "no-store"}).then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html")
          .getElementById("renderer-check");
        var now = document.getElementById("renderer-check");
        if (fresh && now) now.replaceWith(fresh);
      }).catch(function () {});
  }
  function poll() {
    fetch(STATUS, {cache: "no-store"}).then(function (r) { return r.json(); })
      .then(function (status) {
        if (status.version !== shown) { shown = status.version; show(status); }
        refreshPreview(status);
      }).catch(function () {}).then(function () { setTimeout(poll, 1000); });
  }
  function attach() {
    if (location.pathname.indexOf(PREVIEW) !== 0) (document.body || document.documentElement).appendChild(host);
    poll();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", attach);
  else attach();
})();
