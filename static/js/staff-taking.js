// Order taking (/equipe/<store>/prise-de-commande/): every button posts the whole form and the
// page comes back from the server. So that adding a pizza at the bottom of the menu does not send
// the équipier back to the top, the scroll position is kept across that round trip — unless the
// page comes back with an error, shown at the top. Without JavaScript the screen works the same.
(function () {
  "use strict";
  var form = document.querySelector(".taking-form");
  if (!form) {
    return;
  }
  var key = "taking-scroll:" + window.location.pathname;
  var saved = null;
  try {
    saved = window.sessionStorage.getItem(key);
    window.sessionStorage.removeItem(key);
  } catch (error) {
    return; // storage refused (private mode): nothing to keep
  }
  if (saved !== null && !document.querySelector(".taking-errors")) {
    window.scrollTo(0, parseInt(saved, 10) || 0);
  }
  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (button && button.name === "place") {
      return; // the confirmation, or the errors at the top
    }
    try {
      window.sessionStorage.setItem(key, String(Math.round(window.scrollY)));
    } catch (error) {
      // nothing to keep
    }
  });
})();
