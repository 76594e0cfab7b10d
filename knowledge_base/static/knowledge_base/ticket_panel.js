// Ticket page, knowledge-base panel: "Insert link" puts the article's
// Markdown link into the reply at the cursor (the suggested articles arrive
// later by htmx, so the click is caught on the document).
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-kb-insert]") : null;
    if (!button) return;
    var target = document.querySelector(button.getAttribute("data-kb-target"));
    var link = button.getAttribute("data-kb-insert");
    if (!target || !link) return;
    var start = target.selectionStart || 0;
    var end = target.selectionEnd || 0;
    var before = target.value.slice(0, start);
    var after = target.value.slice(end);
    // A space between the link and the words next to it.
    var text = (before && !/\s$/.test(before) ? " " : "") + link + (after && !/^\s/.test(after) ? " " : "");
    target.value = before + text + after;
    target.focus();
    target.selectionStart = target.selectionEnd = before.length + text.length;
    // The reply's draft and the presence state follow typing.
    target.dispatchEvent(new Event("input", { bubbles: true }));
  });
})();
