/* OC Pizza ordering: progressive enhancement only. Every form here works without this file
   (plain POST, redirect, message); with it, the cart changes in place and the order page
   follows the kitchen without a reload. No inline script or style: the CSP forbids them. */
(function () {
  "use strict";

  function updateCount(count) {
    document.querySelectorAll("[data-cart-count]").forEach(function (badge) {
      badge.textContent = String(count);
      badge.hidden = !count;
    });
  }

  function postForm(form, submitter, extra) {
    var data = submitter ? new FormData(form, submitter) : new FormData(form);
    Object.keys(extra || {}).forEach(function (key) { data.append(key, extra[key]); });
    return fetch(form.action, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      return response.json();
    });
  }

  /* Add to cart from a menu card or a product page. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("[data-cart-add]")) return;
    event.preventDefault();
    var status = form.querySelector("[data-add-status]");
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    postForm(form, event.submitter)
      .then(function (data) {
        updateCount(data.count);
        if (status) {
          status.textContent = [data.message].concat(data.changes || []).join(" ");
          status.classList.toggle("is-error", !data.ok);
          status.classList.toggle("is-ok", !!data.ok);
        }
      })
      .catch(function () { form.submit(); })
      .finally(function () { if (button) button.disabled = false; });
  });

  /* The cart page: each change re-renders the cart's lines and totals. */
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var body = form.closest("[data-cart-body]");
    if (!form.matches("[data-cart-form]") || !body) return;
    event.preventDefault();
    postForm(form, event.submitter, { fragment: "cart" })
      .then(function (data) {
        if (data.html) body.innerHTML = data.html;
        updateCount(data.count);
        var status = body.querySelector("[data-cart-status]");
        if (status) status.textContent = [data.message].concat(data.changes || []).join(" ");
        if (!data.ok || (data.changes || []).length) {
          var box = document.createElement("p");
          box.className = "message" + (data.ok ? "" : " message-error");
          box.setAttribute("role", "alert");
          box.textContent = [data.message].concat(data.changes || []).join(" ");
          body.insertBefore(box, body.firstChild);
        }
      })
      .catch(function () { form.submit(); });
  });
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches("[data-cart-quantity]")) return;
    var form = input.form;
    if (form && form.closest("[data-cart-body]")) form.requestSubmit();
  });

  /* Checkout: the address is asked only for delivery. */
  function showAddress() {
    var chosen = document.querySelector("input[name=fulfilment]:checked");
    document.querySelectorAll("[data-delivery-only]").forEach(function (block) {
      block.hidden = !!chosen && chosen.value !== "delivery";
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches("input[name=fulfilment]")) showAddress();
  });

  /* Order page: poll a cheap endpoint (304 while nothing changed), then fetch the new fragment. */
  function follow(live) {
    var etag = live.getAttribute("data-etag");
    var statusUrl = live.getAttribute("data-status-url");
    var fragmentUrl = live.getAttribute("data-fragment-url");
    var delay = parseInt(live.getAttribute("data-poll-ms") || "1500", 10);
    var timer = null;

    function schedule() {
      if (live.hasAttribute("data-final")) return;
      timer = window.setTimeout(poll, delay);
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
        .then(function (html) {
          if (html === null || html === undefined) return;
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.querySelector("[data-order-live]");
          if (!fresh) return;
          live.innerHTML = fresh.innerHTML;
          ["data-etag", "data-final"].forEach(function (name) {
            if (fresh.hasAttribute(name)) live.setAttribute(name, fresh.getAttribute(name));
            else live.removeAttribute(name);
          });
          etag = live.getAttribute("data-etag") || etag;
        })
        .catch(function () { /* network hiccup: try again at the next tick */ })
        .finally(schedule);
    }
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden && timer === null) schedule();
    });
    schedule();
  }

  function start() {
    showAddress();
    document.querySelectorAll("[data-order-live]").forEach(follow);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
