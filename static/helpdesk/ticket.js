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

  // Tell the presence poll whether this agent is typing a reply.
  function updateState() {
    var field = document.getElementById("presence-state");
    var body = document.getElementById("reply_body");
    if (!field || !body) return;
    var replying = document.activeElement === body || body.value.trim() !== "";
    field.value = replying ? "replying" : "viewing";
  }
  document.addEventListener("input", updateState);
  document.addEventListener("focusin", updateState);
  document.addEventListener("focusout", updateState);

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
