// SLA countdowns: every <time data-countdown datetime="..."> shows how long is
// left ("in 2 h 05") or how late it is ("3 min late"), and its colour follows
// (ok / soon within the due-soon window the server puts in data-soon, the same
// as the Breaching soon queue's / breached), updated every 20 seconds. The
// server renders the same text, so the page is right without JavaScript too.
(function () {
  "use strict";
  var SOON_SECONDS = 4 * 3600; // when the page gives none

  function span(seconds) {
    seconds = Math.abs(seconds);
    if (seconds < 3600) return Math.max(1, Math.floor(seconds / 60)) + " min";
    if (seconds < 86400) {
      var hours = Math.floor(seconds / 3600);
      var minutes = Math.floor((seconds % 3600) / 60);
      return hours + " h " + (minutes < 10 ? "0" : "") + minutes;
    }
    return Math.floor(seconds / 86400) + " d";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var due = Date.parse(el.getAttribute("datetime"));
      if (isNaN(due)) return;
      var left = (due - now) / 1000;
      var soon = Number(el.getAttribute("data-soon")) || SOON_SECONDS;
      el.textContent = left < 0 ? span(left) + " late" : "in " + span(left);
      el.classList.toggle("sla-breached", left < 0);
      el.classList.toggle("sla-soon", left >= 0 && left < soon);
      el.classList.toggle("sla-ok", left >= soon);
    });
  }

  tick();
  setInterval(tick, 20000);
  document.addEventListener("htmx:afterSwap", tick);
})();
