/* OpenCX web chat widget. Embed with:
   <script src="https://host/chat/widget.js" data-org="your-org" async></script>
   No build step, no dependencies. It keeps its look to itself (shadow DOM), speaks the page's
   language (en, nl, pl), keeps the visitor's signed token in localStorage so a reload continues
   the chat, and resends unacknowledged messages after a reconnect (the server stores each once). */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector('script[src*="/chat/widget.js"][data-org]');
  if (!script || !script.dataset.org || window.__opencxChat) return;
  window.__opencxChat = true;
  var org = script.dataset.org;
  var origin = new URL(script.src, location.href).origin;
  var socketUrl = origin.replace(/^http/, "ws") + "/chat/ws/" + encodeURIComponent(org);
  var TEXTS = {
    en: { title: "Chat with us", open: "Chat with us", close: "Close chat", message: "Your message",
      send: "Send", online: "We are online and will answer in a moment.",
      offline: "No one is online right now. Leave your email address and we will answer by email.",
      email: "Your email address", save: "Save", saved: "Thank you. We will answer at {email}.",
      connecting: "Connecting…", sending: "Sending…", you: "You", agent: "Support",
      tooLong: "This message is too long (at most 4000 characters).",
      tooMany: "You are sending messages very fast. Wait a moment and send it again.",
      failed: "Not sent: {reason}", empty: "Write your question; we usually answer within minutes." },
    nl: { title: "Chat met ons", open: "Chat met ons", close: "Chat sluiten", message: "Uw bericht",
      send: "Versturen", online: "We zijn online en antwoorden zo.",
      offline: "Er is nu niemand online. Laat uw e-mailadres achter, dan antwoorden we per e-mail.",
      email: "Uw e-mailadres", save: "Opslaan", saved: "Dank u. We antwoorden op {email}.",
      connecting: "Verbinden…", sending: "Versturen…", you: "U", agent: "Klantenservice",
      tooLong: "Dit bericht is te lang (hoogstens 4000 tekens).",
      tooMany: "U verstuurt erg snel berichten. Wacht even en verstuur het opnieuw.",
      failed: "Niet verstuurd: {reason}", empty: "Stel uw vraag; meestal antwoorden we binnen enkele minuten." },
    pl: { title: "Czat z nami", open: "Czat z nami", close: "Zamknij czat", message: "Twoja wiadomość",
      send: "Wyślij", online: "Jesteśmy dostępni i zaraz odpowiemy.",
      offline: "Nikt nie jest teraz dostępny. Zostaw swój adres e-mail, a odpowiemy mailowo.",
      email: "Twój adres e-mail", save: "Zapisz", saved: "Dziękujemy. Odpowiemy na adres {email}.",
      connecting: "Łączenie…", sending: "Wysyłanie…", you: "Ty", agent: "Obsługa klienta",
      tooLong: "Ta wiadomość jest za długa (najwyżej 4000 znaków).",
      tooMany: "Wysyłasz wiadomości bardzo szybko. Poczekaj chwilę i wyślij ponownie.",
      failed: "Nie wysłano: {reason}", empty: "Zadaj pytanie; zwykle odpowiadamy w ciągu kilku minut." }
  };
  var lang = (script.dataset.lang || document.documentElement.lang || navigator.language || "en").slice(0, 2).toLowerCase();
  var t = TEXTS[lang] || TEXTS.en;
  var storeKey = "opencx-chat:" + origin + ":" + org;
  var state = load();

  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(storeKey, JSON.stringify(state)); } catch (e) { /* private mode */ }
  }
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    for (var name in attrs || {}) node.setAttribute(name, attrs[name]);
    if (text) node.textContent = text;
    return node;
  }

  var host = el("div", { id: "opencx-chat" });
  var root = host.attachShadow({ mode: "open" });
  var style = el("style");
  style.textContent = [
    ":host{all:initial;font:15px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1f2933}",
    "*{box-sizing:border-box;font:inherit}",
    ".launcher{position:fixed;right:16px;bottom:16px;z-index:2147483000;border:0;border-radius:24px;padding:12px 18px;background:#1d4ed8;color:#fff;font-weight:600;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".panel{position:fixed;right:16px;bottom:16px;z-index:2147483001;width:360px;max-width:calc(100vw - 32px);height:520px;max-height:calc(100vh - 32px);display:flex;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}",
    ".panel[hidden],.launcher[hidden],[hidden]{display:none}",
    "header{display:flex;align-items:center;justify-content:space-between;padding:12px 14px;background:#1d4ed8;color:#fff}",
    "h2{margin:0;font-size:16px;font-weight:600}",
    ".close{border:0;background:transparent;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:4px 8px;border-radius:6px}",
    ".status{padding:8px 14px;font-size:13px;background:#eef2ff;color:#1e3a8a}",
    ".log{flex:1;overflow-y:auto;padding:12px 14px;display:flex;flex-direction:column;gap:8px;margin:0;list-style:none}",
    ".msg{max-width:85%;padding:8px 12px;border-radius:14px;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".inbound{align-self:flex-end;background:#1d4ed8;color:#fff;border-bottom-right-radius:4px}",
    ".outbound{align-self:flex-start;background:#f1f5f9;border-bottom-left-radius:4px}",
    ".who{display:block;font-size:11px;opacity:.8}",
    ".pending{opacity:.7}.error{color:#b91c1c;font-size:13px;padding:0 14px}",
    ".empty{color:#52606d;font-size:14px}",
    "form{display:flex;gap:8px;padding:10px 14px;border-top:1px solid #e4e7eb;align-items:flex-end}",
    "textarea,input{flex:1;min-width:0;border:1px solid #9aa5b1;border-radius:8px;padding:8px 10px;resize:none;color:#1f2933;background:#fff}",
    "textarea{height:44px;max-height:120px}",
    "form button{border:0;border-radius:8px;padding:10px 14px;background:#1d4ed8;color:#fff;font-weight:600;cursor:pointer}",
    ".offline{padding:10px 14px;border-top:1px solid #e4e7eb;background:#fffbeb;color:#713f12;font-size:14px}",
    ".offline form{padding:8px 0 0;border:0}",
    "label.hide{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}",
    "button:focus-visible,textarea:focus-visible,input:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}",
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;max-width:100vw;height:100%;max-height:100%;border-radius:0}}"
  ].join("\n");
  root.appendChild(style);

  var launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "opencx-panel" }, t.open);
  var panel = el("section", { id: "opencx-panel", class: "panel", role: "dialog", "aria-labelledby": "opencx-title", hidden: "" });
  var header = el("header");
  header.appendChild(el("h2", { id: "opencx-title" }, t.title));
  var close = el("button", { type: "button", class: "close", "aria-label": t.close }, "×");
  header.appendChild(close);
  var status = el("p", { class: "status", role: "status" }, t.connecting);
  var log = el("ol", { class: "log", role: "log", "aria-live": "polite", "aria-label": t.title });
  var empty = el("li", { class: "empty" }, t.empty);
  log.appendChild(empty);
  var problem = el("p", { class: "error", role: "alert" });
  var offline = el("div", { class: "offline", hidden: "" });
  var offlineText = el("p", { style: "margin:0" }, t.offline);
  var emailForm = el("form", { novalidate: "" });
  emailForm.appendChild(el("label", { for: "opencx-email", class: "hide" }, t.email));
  var emailInput = el("input", { id: "opencx-email", type: "email", autocomplete: "email", placeholder: t.email, required: "" });
  emailForm.appendChild(emailInput);
  emailForm.appendChild(el("button", { type: "submit" }, t.save));
  offline.appendChild(offlineText);
  offline.appendChild(emailForm);
  var form = el("form");
  form.appendChild(el("label", { for: "opencx-message", class: "hide" }, t.message));
  var input = el("textarea", { id: "opencx-message", rows: "1", maxlength: "4000", placeholder: t.message });
  form.appendChild(input);
  form.appendChild(el("button", { type: "submit" }, t.send));
  [header, status, log, problem, offline, form].forEach(function (n) { panel.appendChild(n); });
  root.appendChild(launcher);
  root.appendChild(panel);

  function open(show) {
    panel.hidden = !show;
    launcher.hidden = show;
    launcher.setAttribute("aria-expanded", String(show));
    state.open = show;
    save();
    if (show) { input.focus(); log.scrollTop = log.scrollHeight; connect(); } else { launcher.focus(); }
  }
  launcher.addEventListener("click", function () { open(true); });
  close.addEventListener("click", function () { open(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") open(false); });

  var shown = {};
  function show(message, pending) {
    var key = message.client_id || ("m" + message.id);
    var item = shown[key];
    if (!item) {
      item = el("li", { class: "msg " + message.direction });
      item.appendChild(el("span", { class: "who" }, message.direction === "inbound" ? t.you : t.agent));
      item.appendChild(document.createTextNode(message.body));
      if (empty.parentNode) empty.remove();
      log.appendChild(item);
      shown[key] = item;
      log.scrollTop = log.scrollHeight;
    }
    item.classList.toggle("pending", !!pending);
    if (pending) item.setAttribute("aria-busy", "true"); else item.removeAttribute("aria-busy");
  }

  var socket = null, ready = false, retry = 1000;
  state.outbox = state.outbox || [];
  function send(frame) {
    if (ready && socket.readyState === 1) socket.send(JSON.stringify(frame));
  }
  function connect() {
    if (socket) return;
    socket = new WebSocket(socketUrl);
    socket.onopen = function () { socket.send(JSON.stringify({ type: "hello", token: state.token || null })); };
    socket.onmessage = function (e) {
      var frame = JSON.parse(e.data);
      if (frame.type === "welcome") {
        ready = true; retry = 1000;
        state.token = frame.token; save();
        frame.messages.forEach(function (m) { show(m, false); });
        presence(frame.agents_online);
        state.outbox.forEach(function (m) { show(m, true); send({ type: "message", id: m.client_id, body: m.body }); });
      } else if (frame.type === "ack") {
        state.outbox = state.outbox.filter(function (m) { return m.client_id !== frame.id; }); save();
        show(frame.message, false);
      } else if (frame.type === "message") {
        show(frame.message, false);
      } else if (frame.type === "presence") {
        presence(frame.agents_online);
      } else if (frame.type === "email_saved") {
        offlineText.textContent = t.saved.replace("{email}", frame.email);
        emailForm.hidden = true;
        input.focus(); // the focused form is gone: keep focus inside the chat
      } else if (frame.type === "error") {
        if (frame.id) { state.outbox = state.outbox.filter(function (m) { return m.client_id !== frame.id; }); save(); }
        var item = frame.id && shown[frame.id];
        if (item) { item.remove(); delete shown[frame.id]; }
        problem.textContent = /minute/.test(frame.reason) ? t.tooMany
          : frame.field === "body" && /4000/.test(frame.reason) ? t.tooLong
          : t.failed.replace("{reason}", frame.reason);
      }
    };
    socket.onclose = function () {
      socket = null; ready = false;
      status.textContent = t.connecting;
      status.hidden = false;
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 15000);
    };
  }
  function presence(online) {
    status.textContent = online ? t.online : "";
    status.hidden = !online;
    offline.hidden = !!online;
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var body = input.value.trim();
    if (!body) return;
    problem.textContent = "";
    var message = { client_id: newId(), body: body, direction: "inbound" };
    state.outbox.push(message); save();
    show(message, true);
    send({ type: "message", id: message.client_id, body: body });
    input.value = "";
    input.focus();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
  });
  emailForm.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!emailInput.value.trim()) { emailInput.focus(); return; }
    send({ type: "email", email: emailInput.value.trim() });
  });

  function start() {
    document.body.appendChild(host);
    if (state.open) open(true); else if (state.token) connect();
  }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
