/* The delivery board and the driver's phone view: a visible cue when live.js brought a change
   (and a short vibration on a phone that allows it). The pages work without this script. */
(function () {
  "use strict";
  document.addEventListener("live:updated", function (event) {
    var live = event.target;
    if (!live.classList || !live.classList.contains("delivery-live")) return;
    live.classList.remove("updated");
    void live.offsetWidth; // restart the animation
    live.classList.add("updated");
    if (navigator.vibrate && document.body.classList.contains("delivery-phone")) navigator.vibrate(200);
  });
})();
