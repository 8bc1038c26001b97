/* The delivery board and the driver's phone view, on top of live.js (the pages work without
   this script):
   - a visible cue when live.js brought a change (and a short vibration on a driver's phone);
   - what the person was typing survives the change: live.js replaces the board's content, so the
     values chosen or typed in its forms (a driver, a payment method, the amount received) and
     the focus are put back into the new content, matched by the fields' ids. */
(function () {
  "use strict";

  var typed = {};

  document.addEventListener("input", remember, true);
  document.addEventListener("change", remember, true);
  document.addEventListener("submit", function (event) {
    // Once sent, the form's values are the server's business: forget them.
    Array.prototype.forEach.call(event.target.elements || [], function (field) {
      if (field.id) delete typed[field.id];
    });
  }, true);

  function remember(event) {
    var field = event.target;
    if (field.id && field.closest && field.closest(".delivery-live")) typed[field.id] = field.value;
  }

  document.addEventListener("live:updated", function (event) {
    var live = event.target;
    if (!live.classList || !live.classList.contains("delivery-live")) return;
    Object.keys(typed).forEach(function (id) {
      var field = document.getElementById(id);
      if (field && live.contains(field)) field.value = typed[id];
      else delete typed[id]; // the order left the page
    });
    var focused = focusedId && document.getElementById(focusedId);
    if (focused && live.contains(focused)) focused.focus();
    live.classList.remove("updated");
    void live.offsetWidth; // restart the animation
    live.classList.add("updated");
    if (navigator.vibrate && document.body.classList.contains("delivery-phone")) navigator.vibrate(200);
  });

  // The field that has the focus, kept while live.js swaps the content (the old field, removed,
  // may report losing the focus then: only a field still on the page really lost it).
  var focusedId = null;
  document.addEventListener("focusin", function (event) {
    if (event.target.id && event.target.closest && event.target.closest(".delivery-live")) {
      focusedId = event.target.id;
    }
  });
  document.addEventListener("focusout", function (event) {
    if (event.target.isConnected) focusedId = null;
  });
})();
