/* OC Pizza live views: the customer's order page and the staff boards follow changes without a
   reload. An element marked `data-live` polls `data-status-url` every `data-poll-ms` (1500 by
   default) with its ETag; the server answers 304 while nothing changed (at most 3 queries), and
   only then is `data-fragment-url` fetched: the element of the same `data-live` name in it
   replaces this one's content and attributes `data-etag`, `data-final` and any listed in
   `data-live-attrs`. After each replacement the element fires `live:updated` (bubbling), for a
   board's cue. Without JavaScript the pages still work (reload). No inline script: the CSP
   forbids it. */
(function () {
  "use strict";

  function follow(live) {
    var name = live.getAttribute("data-live");
    var etag = live.getAttribute("data-etag");
    var statusUrl = live.getAttribute("data-status-url");
    var fragmentUrl = live.getAttribute("data-fragment-url");
    var delay = parseInt(live.getAttribute("data-poll-ms") || "1500", 10);
    var extra = (live.getAttribute("data-live-attrs") || "").split(/\s+/).filter(Boolean);
    var timer = null;

    function schedule() {
      timer = null;
      if (live.hasAttribute("data-final")) return;
      timer = window.setTimeout(poll, delay);
    }
    function replace(html) {
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var fresh = holder.querySelector('[data-live="' + name + '"]');
      if (!fresh) return;
      live.innerHTML = fresh.innerHTML;
      ["data-etag", "data-final"].concat(extra).forEach(function (attr) {
        if (fresh.hasAttribute(attr)) live.setAttribute(attr, fresh.getAttribute(attr));
        else live.removeAttribute(attr);
      });
      etag = live.getAttribute("data-etag") || etag;
      live.dispatchEvent(new CustomEvent("live:updated", { bubbles: true }));
    }
    function poll() {
      if (document.hidden) { schedule(); return; }
      fetch(statusUrl, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { "If-None-Match": etag, Accept: "application/json" },
      })
        .then(function (response) {
          if (response.status !== 200) return null;
          etag = response.headers.get("ETag") || etag;
          return fetch(fragmentUrl, { credentials: "same-origin", cache: "no-store" }).then(function (page) {
            return page.ok ? page.text() : null;
          });
        })
        .then(function (html) { if (html) replace(html); })
        .catch(function () { /* network hiccup: try again at the next tick */ })
        .finally(schedule);
    }
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && timer === null) schedule();
    });
    schedule();
  }

  function start() {
    document.querySelectorAll("[data-live]").forEach(follow);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
