// Ticket page: canned responses and the presence state reported to others.
(function () {
  "use strict";

  // Insert the chosen canned response (already rendered for this ticket) at
  // the cursor, then reset the picker so the same one can be inserted again.
  document.addEventListener("change", function (event) {
    var select = event.target;
    if (!select.matches || !select.matches("select[data-canned-target]")) return;
    var option = select.options[select.selectedIndex];
    var text = option && option.getAttribute("data-body");
    var target = document.querySelector(select.getAttribute("data-canned-target"));
    if (!text || !target) return;
    var start = target.selectionStart || 0;
    var end = target.selectionEnd || 0;
    var before = target.value.slice(0, start);
    var after = target.value.slice(end);
    target.value = before + text + after;
    target.focus();
    target.selectionStart = target.selectionEnd = before.length + text.length;
    target.dispatchEvent(new Event("input", { bubbles: true }));
    select.selectedIndex = 0;
  });

  // Tell the presence poll whether this agent is typing a reply, and report a
  // change at once (a "presence-change" event the poll also listens to): the
  // others see "is replying" on their next poll, not after this page's.
  function updateState() {
    var field = document.getElementById("presence-state");
    var body = document.getElementById("reply_body");
    if (!field || !body) return;
    var replying = document.activeElement === body || body.value.trim() !== "";
    var state = replying ? "replying" : "viewing";
    if (field.value === state) return;
    field.value = state;
    var presence = document.getElementById("presence");
    if (presence) presence.dispatchEvent(new CustomEvent("presence-change"));
  }
  document.addEventListener("input", updateState);
  document.addEventListener("focusin", updateState);
  document.addEventListener("focusout", updateState);

  // The properties panel saves each change in place (htmx). A change made
  // while a save is on its way must not be lost: the save's answer replaces
  // the fields with the server's state (which may hold routing's decisions),
  // so a value the agent chose meanwhile is remembered, put back after the
  // swap, and saved by a request of its own. htmx drops triggers while a save
  // is in flight (hx-sync="this:drop" on the form); this is what re-sends them.
  var pending = {};
  var saving = false;
  // The change that started the save in flight: it is being saved, so it is
  // not pending (recording it re-sent every save once more, and a change made
  // during that needless second flight could be lost).
  var trigger = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.target.id !== "properties") return;
    saving = true;
    var config = event.detail && event.detail.requestConfig;
    trigger = config ? config.triggeringEvent : null;
  });
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!saving || event === trigger) return;
    if (!field.form || field.form.id !== "properties" || !field.name) return;
    pending[field.name] = field.value;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    if (event.target.id !== "properties") return;
    saving = false;
    var names = Object.keys(pending);
    if (!names.length) return;
    var form = event.target;
    names.forEach(function (name) {
      var field = form.elements[name];
      if (field) field.value = pending[name];
    });
    pending = {};
    // Saving again from here: a change made before that request starts is
    // pending too, not dropped by hx-sync.
    saving = true;
    form.dispatchEvent(new Event("change", { bubbles: true }));
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    // A failed save (network, 5xx) ends the flight too; what was pending is
    // sent now rather than forgotten.
    if (event.target.id === "properties" && !event.detail.successful) saving = false;
  });

  // Leave the ticket: others stop seeing this agent at once.
  window.addEventListener("pagehide", function () {
    var presence = document.getElementById("presence");
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (!presence || !token || !navigator.sendBeacon) return;
    var data = new FormData();
    data.append("state", "left");
    data.append("csrfmiddlewaretoken", token.value);
    navigator.sendBeacon(presence.getAttribute("hx-post"), data);
  });
})();

// Queue page: the header checkbox selects every row.
document.addEventListener("change", function (event) {
  var box = event.target;
  if (!box.matches || !box.matches("input[data-select-all]")) return;
  var form = box.closest("form");
  if (!form) return;
  form.querySelectorAll("input[name=ticket]").forEach(function (row) {
    row.checked = box.checked;
  });
});

// Queue page: the bulk bar shows only the control of the chosen action (none
// before one is chosen, none for a merge). Without this script every control
// shows, and the server still reads only the chosen one.
(function () {
  "use strict";
  var CONTROLS = ["assign", "status", "priority", "tag"];

  function showChosen(select) {
    var bar = select.closest(".bulkbar");
    if (!bar) return;
    CONTROLS.forEach(function (name) {
      var control = bar.querySelector("[name=" + name + "]");
      if (control) control.hidden = select.value !== name;
    });
  }

  function init() {
    var select = document.getElementById("bulk-action");
    if (select) showChosen(select);
  }

  document.addEventListener("change", function (event) {
    if (event.target.id !== "bulk-action") return;
    showChosen(event.target);
    var bar = event.target.closest(".bulkbar");
    if (!bar || CONTROLS.indexOf(event.target.value) === -1) return;
    var chosen = bar.querySelector("[name=" + event.target.value + "]");
    if (chosen && chosen.tagName === "INPUT") chosen.focus();
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
