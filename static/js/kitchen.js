/* The kitchen board (/equipe/<store>/cuisine/): a cue when a new order appears, and taps that do
   not reload the page.

   live.js refreshes the board (data-live="kitchen") and fires `live:updated`; tickets whose id the
   page had not seen yet are highlighted for a while and, once the sound is on, a beep is played
   (Web Audio API, generated here: no audio file). Browsers play sound only after a tap on the
   page: the « Activer le son » button gives it. The ticket buttons are plain forms (they work
   without JavaScript); here they are sent with fetch() and the board is swapped in place, so the
   sound stays allowed. No inline script or style: the CSP forbids them. */
(function () {
  "use strict";

  var HIGHLIGHT_MS = 30000;
  var board = document.querySelector('[data-live="kitchen"]');
  if (!board) return;
  var soundButton = document.querySelector("[data-sound-toggle]");
  var audio = null;
  var soundOn = false;
  var seen = {};
  var newSince = {};

  function ticketIds() {
    return Array.prototype.map.call(board.querySelectorAll("[data-ticket]"), function (ticket) {
      return ticket.getAttribute("data-ticket");
    });
  }
  ticketIds().forEach(function (id) { seen[id] = true; });

  function beep() {
    if (!soundOn || !audio) return;
    var start = audio.currentTime;
    [0, 0.25].forEach(function (offset, index) {
      var oscillator = audio.createOscillator();
      var gain = audio.createGain();
      oscillator.type = "square";
      oscillator.frequency.value = index ? 1320 : 880;
      gain.gain.setValueAtTime(0.0001, start + offset);
      gain.gain.exponentialRampToValueAtTime(0.3, start + offset + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + 0.2);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(start + offset);
      oscillator.stop(start + offset + 0.22);
    });
  }

  function wakeAudio() {
    if (!soundOn) return;
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    if (!audio) audio = new Context();
    if (audio.state === "suspended") audio.resume();
  }

  if (soundButton && (window.AudioContext || window.webkitAudioContext)) {
    soundButton.hidden = false;
    soundButton.addEventListener("click", function () {
      soundOn = !soundOn;
      soundButton.setAttribute("aria-pressed", soundOn ? "true" : "false");
      soundButton.textContent = soundOn ? soundButton.getAttribute("data-on-label") : soundButton.getAttribute("data-off-label");
      wakeAudio();
      beep();
    });
  }

  function highlight() {
    var now = Date.now();
    var fresh = [];
    ticketIds().forEach(function (id) {
      if (!seen[id]) {
        seen[id] = true;
        newSince[id] = now;
        fresh.push(id);
      }
    });
    Object.keys(newSince).forEach(function (id) {
      var ticket = board.querySelector('[data-ticket="' + id + '"]');
      if (now - newSince[id] > HIGHLIGHT_MS) delete newSince[id];
      else if (ticket) ticket.classList.add("is-new");
    });
    board.setAttribute("data-new-tickets", String(fresh.length));
    if (fresh.length) beep();
  }
  board.addEventListener("live:updated", highlight);

  function swap(html) {
    var page = new DOMParser().parseFromString(html, "text/html");
    var fresh = page.querySelector('[data-live="kitchen"]');
    if (!fresh) return false;
    board.innerHTML = fresh.innerHTML;
    board.setAttribute("data-etag", fresh.getAttribute("data-etag"));
    var main = document.querySelector("main");
    var old = main.querySelector(".staff-messages");
    if (old) old.remove();
    var notes = page.querySelector(".staff-messages");
    if (notes) main.insertBefore(document.importNode(notes, true), main.firstChild);
    board.dispatchEvent(new CustomEvent("live:updated", { bubbles: true }));
    return true;
  }

  board.addEventListener("submit", function (event) {
    var form = event.target.closest("[data-kitchen-form]");
    if (!form) return;
    event.preventDefault();
    wakeAudio();
    board.classList.add("is-busy");
    // form.action would be the input named "action": read the attribute.
    fetch(form.getAttribute("action"), { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        board.classList.remove("is-busy");
        if (!html || !swap(html)) form.submit();
      })
      .catch(function () { form.submit(); });
  });
})();
