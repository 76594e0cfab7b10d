/*
 * Agent workspace behaviour: keyboard shortcuts, reply drafts, Ctrl+Enter to send.
 *
 * Plain JS on purpose: pages are server-rendered and work without this file;
 * it only adds speed for people who work tickets all day. Every feature looks
 * its elements up when it needs them and does nothing when they are absent,
 * so a template change or a customer page never turns into a script error.
 */
(function () {
  "use strict";

  // Per tab (sessionStorage): j/k on a ticket page should follow the queue
  // this tab came from, not whichever queue another tab opened last.
  var QUEUE_KEY = "helpdesk:queue";
  var DRAFT_PREFIX = "draft:";
  var DRAFT_SAVE_DELAY_MS = 300;
  // Drafts of tickets nobody came back to would otherwise pile up forever.
  var DRAFT_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;
  // How long "g" waits for its second key.
  var PREFIX_TIMEOUT_MS = 1500;
  var QUEUE_HOME = "/tickets/";
  // The ticket's status select: #prop_status in the properties panel, or
  // #id_status in a plain status form. The queue's filter form has an
  // #id_status too, but it is a GET form: only the ticket page's one posts.
  var TICKET_STATUS = 'select#prop_status, form[method="post"] select#id_status';

  // --- small helpers ----------------------------------------------------------

  function $(selector) {
    return document.querySelector(selector);
  }

  // Storage can throw (private browsing, quota, disabled by policy): a lost
  // convenience must never break the page.
  function storageGet(store, key) {
    try {
      return store.getItem(key);
    } catch (e) {
      return null;
    }
  }

  function storageSet(store, key, value) {
    try {
      store.setItem(key, value);
    } catch (e) {
      /* see storageGet */
    }
  }

  function storageRemove(store, key) {
    try {
      store.removeItem(key);
    } catch (e) {
      /* see storageGet */
    }
  }

  function readJSON(store, key) {
    var raw = storageGet(store, key);
    if (!raw) return null;
    try {
      return JSON.parse(raw);
    } catch (e) {
      return null;
    }
  }

  // Only same-site paths are followed: stored values come from our own pages,
  // but a tampered entry must not send the agent off-site.
  function isLocalPath(href) {
    return typeof href === "string" && href.charAt(0) === "/" && href.charAt(1) !== "/";
  }

  // Inputs that take no typed text (a queue row's bulk-select checkbox, say)
  // keep the shortcuts working: clicking one must not silence j/k.
  var NON_TEXT_INPUTS = ["checkbox", "radio", "button", "submit", "reset", "image", "file"];

  function isEditable(el) {
    if (!el || el === document.body) return false;
    if (el.isContentEditable) return true;
    var tag = el.tagName;
    if (tag === "INPUT") return NON_TEXT_INPUTS.indexOf((el.type || "").toLowerCase()) === -1;
    return tag === "TEXTAREA" || tag === "SELECT";
  }

  // Enter on a focused link or button must keep its native meaning.
  function isActivatable(el) {
    if (!el || el === document.body) return false;
    return el.matches("a[href], button, summary, [role=button], [tabindex]");
  }

  var toastTimer = null;

  // A short, polite message for a shortcut that had nothing to do, so the
  // agent knows the key was heard.
  function toast(text) {
    var el = document.getElementById("workspace-toast");
    if (!el) {
      el = document.createElement("div");
      el.id = "workspace-toast";
      el.className = "workspace-toast";
      el.setAttribute("role", "status");
      document.body.appendChild(el);
    }
    el.textContent = text;
    el.classList.add("is-visible");
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () {
      el.classList.remove("is-visible");
    }, 2000);
  }

  // --- queue page: row selection ----------------------------------------------

  function queueRows() {
    return Array.prototype.slice.call(document.querySelectorAll("table.tickets tr[data-row]"));
  }

  function selectedIndex(rows) {
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].classList.contains("is-selected")) return i;
    }
    return -1;
  }

  function selectRow(rows, index) {
    rows.forEach(function (row, i) {
      var on = i === index;
      row.classList.toggle("is-selected", on);
      if (on) row.setAttribute("aria-selected", "true");
      else row.removeAttribute("aria-selected");
    });
    if (rows[index]) rows[index].scrollIntoView({ block: "nearest" });
  }

  function moveSelection(step) {
    var rows = queueRows();
    if (!rows.length) return false;
    var current = selectedIndex(rows);
    var next = current === -1 ? 0 : Math.min(rows.length - 1, Math.max(0, current + step));
    selectRow(rows, next);
    return true;
  }

  function openSelectedRow() {
    var rows = queueRows();
    var row = rows[selectedIndex(rows)];
    if (!row || !isLocalPath(row.getAttribute("data-href"))) return false;
    window.location.assign(row.getAttribute("data-href"));
    return true;
  }

  // Remember the page's order so j/k keep working from inside a ticket, and
  // mark the ticket the agent just came back from so "u" lands where they were.
  function rememberQueue() {
    var rows = queueRows();
    if (!rows.length) return;
    var hrefs = rows
      .map(function (row) {
        return row.getAttribute("data-href");
      })
      .filter(isLocalPath);
    var previous = readJSON(window.sessionStorage, QUEUE_KEY);
    var lastTicket = previous && previous.last;
    storageSet(
      window.sessionStorage,
      QUEUE_KEY,
      JSON.stringify({ url: location.pathname + location.search, hrefs: hrefs, last: lastTicket })
    );
    var index = hrefs.indexOf(lastTicket);
    if (index !== -1 && selectedIndex(rows) === -1) selectRow(rows, index);
  }

  // --- ticket page: queue neighbours -------------------------------------------

  function storedQueue() {
    var queue = readJSON(window.sessionStorage, QUEUE_KEY);
    if (!queue || !Array.isArray(queue.hrefs)) return null;
    return queue;
  }

  function noteCurrentTicket() {
    var queue = storedQueue();
    if (!queue || queue.hrefs.indexOf(location.pathname) === -1) return;
    queue.last = location.pathname;
    storageSet(window.sessionStorage, QUEUE_KEY, JSON.stringify(queue));
  }

  function goToNeighbour(step) {
    var queue = storedQueue();
    var index = queue ? queue.hrefs.indexOf(location.pathname) : -1;
    if (index === -1) {
      toast("This ticket is not in the last queue you opened");
      return;
    }
    var target = queue.hrefs[index + step];
    if (!isLocalPath(target)) {
      toast(step > 0 ? "Last ticket of the queue page" : "First ticket of the queue page");
      return;
    }
    window.location.assign(target);
  }

  function backToQueue() {
    var queue = storedQueue();
    var url = queue && isLocalPath(queue.url) ? queue.url : QUEUE_HOME;
    window.location.assign(url);
  }

  // --- ticket page: reply form ---------------------------------------------------

  function focusReply(internal) {
    var body = $("#reply-form #reply_body") || $("#reply_body");
    if (!body) return false;
    var box = $("#reply_is_internal");
    if (box && box.checked !== internal) {
      box.checked = internal;
      // Let the draft code (and anything else) see the change like a click.
      box.dispatchEvent(new Event("change", { bubbles: true }));
    }
    body.focus();
    return true;
  }

  function focusElement(selector) {
    var el = $(selector);
    if (!el) return false;
    el.focus();
    if (typeof el.select === "function" && el.tagName === "INPUT") el.select();
    return true;
  }

  function clickAssignToMe() {
    var button = $('[data-shortcut="assign-me"]');
    if (!button || button.disabled) return false;
    button.click();
    return true;
  }

  function submitReply(form) {
    if (typeof form.requestSubmit === "function") {
      // Fires the submit event, so the draft is cleared like on a click.
      form.requestSubmit();
    } else {
      form.dispatchEvent(new Event("submit", { cancelable: true, bubbles: true }));
      form.submit();
    }
  }

  // --- help overlay ----------------------------------------------------------

  function helpDialog() {
    return document.getElementById("shortcuts-help");
  }

  function helpIsOpen() {
    var dialog = helpDialog();
    return !!(dialog && dialog.open);
  }

  function toggleHelp() {
    var dialog = helpDialog();
    if (!dialog) return false;
    if (dialog.open) dialog.close();
    else if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    return true;
  }

  function bindHelp() {
    var dialog = helpDialog();
    if (!dialog || dialog.hasAttribute("data-bound")) return;
    dialog.setAttribute("data-bound", "");
    dialog.addEventListener("click", function (event) {
      // A click on the backdrop targets the dialog itself; the content sits in
      // an inner box, so this is "clicked outside".
      if (event.target === dialog || event.target.closest("[data-shortcuts-close]")) {
        dialog.close();
      }
    });
  }

  // --- keyboard ----------------------------------------------------------------

  var pendingPrefix = null;
  var prefixTimer = null;

  function setPrefix(key) {
    pendingPrefix = key;
    clearTimeout(prefixTimer);
    if (key) {
      prefixTimer = setTimeout(function () {
        pendingPrefix = null;
      }, PREFIX_TIMEOUT_MS);
    }
  }

  function onKeydown(event) {
    if (event.defaultPrevented || event.isComposing) return;
    var key = event.key;
    var active = document.activeElement;

    if (key === "Escape") {
      setPrefix(null);
      if (helpIsOpen()) {
        helpDialog().close();
        event.preventDefault();
      } else if (isEditable(active)) {
        // Leaves the field so the single-key shortcuts work again.
        active.blur();
      } else {
        selectRow(queueRows(), -1);
      }
      return;
    }

    // Single keys are reserved for pages that show the help overlay (people
    // who work tickets); elsewhere a stray "a" or "j" should do nothing.
    if (!helpDialog()) return;
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (isEditable(active)) return;

    var letter = key.length === 1 ? key.toLowerCase() : key;

    if (letter === "?") {
      setPrefix(null);
      toggleHelp();
      event.preventDefault();
      return;
    }
    // While the help is open the page behind it is inert: no shortcuts.
    if (helpIsOpen()) return;

    if (pendingPrefix === "g") {
      setPrefix(null);
      if (letter === "q") {
        backToQueue();
        event.preventDefault();
      }
      return;
    }

    var onQueue = queueRows().length > 0;
    var onTicket = !onQueue && (!!$("#reply-form") || !!$(TICKET_STATUS));
    var handled = false;

    switch (letter) {
      case "j":
      case "ArrowDown":
      case "k":
      case "ArrowUp": {
        var step = letter === "j" || letter === "ArrowDown" ? 1 : -1;
        if (onQueue) handled = moveSelection(step);
        // Arrows keep scrolling the ticket page; only j/k walk the queue.
        else if (onTicket && (letter === "j" || letter === "k")) {
          goToNeighbour(step);
          handled = true;
        }
        break;
      }
      case "Enter":
      case "o":
        if (onQueue && !(letter === "Enter" && isActivatable(active))) handled = openSelectedRow();
        break;
      case "r":
        handled = focusReply(false);
        break;
      case "n":
        handled = focusReply(true);
        break;
      case "a":
        handled = clickAssignToMe();
        break;
      case "s":
        handled = focusElement(TICKET_STATUS);
        break;
      case "u":
        if (onTicket) {
          backToQueue();
          handled = true;
        }
        break;
      case "g":
        setPrefix("g");
        handled = true;
        break;
      case "/":
        handled = focusElement("input[name=q]");
        break;
    }
    // Only swallow keys we acted on, so the browser keeps everything else.
    if (handled) event.preventDefault();
  }

  // --- drafts --------------------------------------------------------------------

  function pruneOldDrafts() {
    var now = Date.now();
    var stale = [];
    try {
      for (var i = 0; i < localStorage.length; i++) {
        var key = localStorage.key(i);
        if (key && key.indexOf(DRAFT_PREFIX) === 0) {
          var draft = readJSON(localStorage, key);
          if (!draft || !draft.savedAt || now - draft.savedAt > DRAFT_MAX_AGE_MS) stale.push(key);
        }
      }
    } catch (e) {
      return;
    }
    stale.forEach(function (key) {
      storageRemove(localStorage, key);
    });
  }

  function bindDraft(form) {
    if (form.hasAttribute("data-draft-bound")) return;
    var key = form.getAttribute("data-draft-key");
    var body = form.querySelector("#reply_body") || form.querySelector("textarea");
    if (!key || !body) return;
    form.setAttribute("data-draft-bound", "");
    var box = form.querySelector("#reply_is_internal");
    var saveTimer = null;
    // Set on submit: the pagehide flush must not write back a sent reply.
    var submitted = false;

    function save() {
      clearTimeout(saveTimer);
      saveTimer = null;
      if (submitted) return;
      if (!body.value.trim()) {
        storageRemove(localStorage, key);
        return;
      }
      var draft = { body: body.value, internal: !!(box && box.checked), savedAt: Date.now() };
      storageSet(localStorage, key, JSON.stringify(draft));
    }

    function scheduleSave() {
      submitted = false;
      clearTimeout(saveTimer);
      saveTimer = setTimeout(save, DRAFT_SAVE_DELAY_MS);
    }

    function removeNote() {
      var note = form.querySelector(".draft-note");
      if (note) note.remove();
    }

    function showRestoredNote() {
      removeNote();
      var note = document.createElement("p");
      note.className = "draft-note";
      note.setAttribute("role", "status");
      var label = document.createElement("span");
      label.textContent = "Draft restored";
      var discard = document.createElement("button");
      discard.type = "button";
      discard.className = "draft-discard";
      discard.textContent = "Discard draft";
      discard.addEventListener("click", function () {
        clearTimeout(saveTimer);
        storageRemove(localStorage, key);
        body.value = "";
        if (box) box.checked = false;
        removeNote();
        body.focus();
      });
      note.appendChild(label);
      note.appendChild(discard);
      var title = form.querySelector("h2");
      if (title) title.insertAdjacentElement("afterend", note);
      else form.insertBefore(note, form.firstChild);
    }

    if (body.value.trim()) {
      // The server re-rendered the form (a validation error) with what was
      // typed: that text is the draft now, since the submit cleared the old one.
      save();
    } else {
      var draft = readJSON(localStorage, key);
      if (draft && typeof draft.body === "string" && draft.body.trim()) {
        body.value = draft.body;
        if (box && typeof draft.internal === "boolean") box.checked = draft.internal;
        showRestoredNote();
      }
    }

    body.addEventListener("input", scheduleSave);
    if (box) box.addEventListener("change", scheduleSave);
    form.addEventListener("submit", function () {
      clearTimeout(saveTimer);
      submitted = true;
      storageRemove(localStorage, key);
    });
    // Typing and leaving within the debounce window must not lose the last words.
    window.addEventListener("pagehide", function () {
      if (saveTimer) save();
    });

    body.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && !event.isComposing) {
        event.preventDefault();
        submitReply(form);
      }
    });
  }

  // --- start ---------------------------------------------------------------------

  function init() {
    bindHelp();
    document.querySelectorAll("form[data-draft-key]").forEach(bindDraft);
    if (queueRows().length) rememberQueue();
    else if ($("#reply-form") || $(TICKET_STATUS)) noteCurrentTicket();
  }

  var started = false;

  function start() {
    if (started) return;
    started = true;
    pruneOldDrafts();
    init();
    document.addEventListener("keydown", onKeydown);
    // Content swapped in by htmx may bring a reply form or queue rows along.
    document.addEventListener("htmx:afterSettle", init);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
