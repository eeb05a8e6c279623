/* The agent inbox: live refresh over /inbox/live, keyboard shortcuts, macros into the reply box. */
(function () {
  "use strict";
  var inbox = document.querySelector(".inbox");
  if (!inbox) return;
  var current = inbox.dataset.conversation;

  // Live: the server names what changed; refresh the list, and the open conversation when it
  // is the one. Events in a burst refresh once.
  var pending = { list: false, conversation: false }, timer = null, retry = 1000;
  function refresh() {
    timer = null;
    var here = location.pathname + location.search;
    if (pending.list) htmx.ajax("GET", here, { target: "#inbox-list", select: "#inbox-list", swap: "outerHTML" });
    if (pending.conversation) {
      htmx.ajax("GET", here, { target: "#conversation-messages", select: "#conversation-messages", swap: "outerHTML" });
      htmx.ajax("GET", here, { target: "#conversation-head", select: "#conversation-head", swap: "outerHTML" });
    }
    pending = { list: false, conversation: false };
  }
  function connect() {
    var socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/inbox/live");
    var ping = null;
    socket.onopen = function () { retry = 1000; ping = setInterval(function () { socket.send("ping"); }, 25000); };
    socket.onmessage = function (e) {
      if (e.data === "pong") return;
      var change = JSON.parse(e.data);
      pending.list = true;
      if (String(change.conversation_id) === current) pending.conversation = true;
      if (!timer) timer = setTimeout(refresh, 100);
    };
    socket.onclose = function () {
      clearInterval(ping);
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    };
    window.opencxInbox = socket;
  }
  connect();

  // SLA countdowns tick between live events: "due in 4 min" becomes "overdue 1 min" on time.
  function span(minutes) {
    if (minutes < 60) return minutes + " min";
    if (minutes < 2880) return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
    return Math.floor(minutes / 1440) + " d";
  }
  setInterval(function () {
    document.querySelectorAll("[data-sla-due]").forEach(function (badge) {
      var seconds = (Date.parse(badge.dataset.slaDue) - Date.now()) / 1000;
      var minutes = Math.floor(Math.abs(seconds) / 60);
      var target = badge.dataset.slaTarget;
      if (seconds <= 0) {
        badge.classList.remove("sla-ok", "sla-warning");
        badge.classList.add("sla-breached");
        badge.textContent = target + " overdue " + span(minutes);
      } else {
        badge.textContent = target + " due in " + span(minutes);
      }
    });
  }, 30000);

  function rows() { return Array.prototype.slice.call(document.querySelectorAll(".conversation-row")); }
  function move(step) {
    var all = rows();
    if (!all.length) return;
    var at = all.findIndex(function (a) { return a.hasAttribute("aria-current"); });
    var next = all[Math.max(0, Math.min(all.length - 1, at + step))];
    if (at === -1) next = all[0];
    if (next && (at === -1 || next !== all[at])) location.href = next.href;
  }
  function submit(action) {
    var form = document.querySelector('form[data-action="' + action + '"]');
    if (form) form.requestSubmit();
  }
  var dialog = document.getElementById("shortcuts");
  document.addEventListener("click", function (e) {
    if (e.target.closest("[data-shortcuts]")) dialog.showModal();
  });
  document.addEventListener("keydown", function (e) {
    var typing = e.target.closest("input, textarea, select, [contenteditable]");
    if (e.key === "Escape" && typing) { e.target.blur(); return; }
    if (typing || e.ctrlKey || e.metaKey || e.altKey || dialog.open) return;
    var actions = {
      j: function () { move(1); },
      k: function () { move(-1); },
      r: function () { var box = document.getElementById("reply-body"); if (box) box.focus(); },
      e: function () { submit("resolve"); },
      a: function () { submit("assign"); },
      "?": function () { dialog.showModal(); }
    };
    if (actions[e.key]) { e.preventDefault(); actions[e.key](); }
  });

  // The presence switcher takes effect when chosen (its button serves without JavaScript).
  document.addEventListener("change", function (e) {
    if (e.target.id === "presence-select") e.target.form.requestSubmit();
  });

  // A macro comes back in the customer's language; it goes in at the cursor.
  document.addEventListener("change", function (e) {
    var select = e.target.closest("#macro-select");
    if (!select || !select.value) return;
    fetch(select.dataset.macroBase + select.value, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (text) {
        var box = document.getElementById("reply-body");
        var start = box.selectionStart || 0, end = box.selectionEnd || 0;
        box.value = box.value.slice(0, start) + text + box.value.slice(end);
        box.focus();
        box.selectionStart = box.selectionEnd = start + text.length;
        select.value = "";
      });
  });
})();
