/*
 * Settle web chat widget. Embed with one tag, no build step:
 *   <script src="https://chat.example.com/widget.js" async></script>
 * Optional attributes on that tag: data-title="Help with your account" (the header's title), data-colour="#1f5f4a"
 * (or data-color; #rgb or #rrggbb, used only if white text on it keeps WCAG's 4.5:1, else the default),
 * data-position="left" (or "right", the default), data-language="es" (a page in one language; else the browser's).
 * It finds the gateway from its own src, draws itself inside a shadow root (the host page's CSS cannot break it,
 * and its CSS cannot leak into the page), and talks to the gateway over a WebSocket with a session token that
 * the server issued. Bot text is only ever put in the page as text nodes, never parsed as HTML: no XSS.
 * Its own words are in English and Spanish (bot/gateway/texts/<language>.json, put in below by the gateway): the
 * browser's language until the server says the conversation's, then the conversation's (it switches with it).
 */
(function () {
  "use strict";
  if (window.__settleWidgetLoaded) return;
  window.__settleWidgetLoaded = true;

  // --- where the gateway is ---------------------------------------------------------------------------------
  var script = document.currentScript;
  if (!script) {
    var tags = document.querySelectorAll("script[src]");
    for (var i = tags.length - 1; i >= 0; i--) {
      if (/\/widget\.js(\?|#|$)/.test(tags[i].src)) { script = tags[i]; break; }
    }
  }
  var ORIGIN = new URL(script ? script.src : "/widget.js", location.href).origin;
  var WS_ORIGIN = ORIGIN.replace(/^http/, "ws");
  var KEY = "settle.widget:" + ORIGIN + ":";

  // --- the embedding page's options -------------------------------------------------------------------------
  function attr(name) { return script ? script.getAttribute(name) : null; }
  function luminance(hex) {
    return [0, 2, 4].reduce(function (sum, at, i) {
      var c = parseInt(hex.substr(at, 2), 16) / 255;
      c = c <= 0.04045 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
      return sum + c * [0.2126, 0.7152, 0.0722][i];
    }, 0);
  }
  // "#abc" or "#aabbcc" -> "#aabbcc"; anything else -> null.
  function hexColour(value) {
    var m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(value || "").trim());
    if (!m) return null;
    var h = m[1].toLowerCase();
    return "#" + (h.length === 3 ? h.replace(/./g, "$&$&") : h);
  }
  function darker(hex) { // the hover shade: 25% towards black, which only raises white text's contrast
    return "#" + [0, 2, 4].map(function (at) {
      return ("0" + Math.round(parseInt(hex.substr(at, 2), 16) * 0.75).toString(16)).slice(-2);
    }).join("");
  }
  var options = (function () {
    var raw = attr("data-colour") || attr("data-color");
    var colour = hexColour(raw);
    // White text sits on the colour (header, launcher, the person's bubbles, Send): below 4.5:1 it is not used.
    if (colour && 1.05 / (luminance(colour.slice(1)) + 0.05) < 4.5) {
      if (window.console) console.warn("Settle chat: data-colour " + colour + " is too light for white text; using the default.");
      colour = null;
    } else if (raw && !colour && window.console) {
      console.warn("Settle chat: data-colour must be #rgb or #rrggbb; using the default.");
    }
    var titleText = String(attr("data-title") || "").replace(/\s+/g, " ").trim().slice(0, 60);
    return { colour: colour, title: titleText || null, left: String(attr("data-position") || "").trim().toLowerCase() === "left" };
  })();

  // localStorage may be off (privacy modes): the widget then lives as long as the page.
  var memoryStore = {};
  function load(name) {
    try { return JSON.parse(localStorage.getItem(KEY + name)); } catch (e) { return memoryStore[name] || null; }
  }
  function save(name, value) {
    memoryStore[name] = value;
    try {
      // Nothing kept is not kept as an empty value: after "End chat" the device holds nothing of ours.
      if (value === null || (Array.isArray(value) && !value.length)) localStorage.removeItem(KEY + name);
      else localStorage.setItem(KEY + name, JSON.stringify(value));
    } catch (e) { /* memory only */ }
  }
  function loadSession(name) { try { return sessionStorage.getItem(KEY + name); } catch (e) { return null; } }
  function saveSession(name, value) {
    try { if (value) sessionStorage.setItem(KEY + name, value); else sessionStorage.removeItem(KEY + name); }
    catch (e) { /* ignore */ }
  }

  // --- words -------------------------------------------------------------------------------------------------
  // {"en": {key: text}, "es": {...}}: every label, placeholder, button, status and error shown, one place per language.
  var TEXTS = /*@texts*/{};
  function supported(tag) {
    var primary = String(tag || "").toLowerCase().split("-")[0];
    return Object.prototype.hasOwnProperty.call(TEXTS, primary) ? primary : null;
  }
  function browserLanguage() { // the page's own (data-language), else the first of the person's that we write in
    if (supported(attr("data-language"))) return supported(attr("data-language"));
    var tags = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language];
    for (var i = 0; i < tags.length; i++) { if (supported(tags[i])) return supported(tags[i]); }
    return "en";
  }
  // What the server last said this conversation speaks wins over the browser's setting (kept for a reload).
  var lang = supported(load("lang")) || browserLanguage();
  function T(key, values) {
    var text = (TEXTS[lang] || {})[key] || (TEXTS.en || {})[key] || key;
    Object.keys(values || {}).forEach(function (name) { text = text.split("{" + name + "}").join(String(values[name])); });
    return text;
  }

  // Letters only (22 of them, about 100 random bits): a UUID's digit runs look like a card number 1 time in 200,
  // and the id is stored with the message (PCI-3).
  function newClientId() {
    var bytes = new Uint8Array(22);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return String.fromCharCode(97 + (b % 26)); }).join("");
  }

  // --- DOM ----------------------------------------------------------------------------------------------------
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      if (name === "text") node.textContent = attrs[name];
      else if (name === "hidden") node.hidden = !!attrs[name];
      else node.setAttribute(name, attrs[name]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }

  function chatIcon() {
    // Inline, not an emoji: a browser without an emoji font would draw a missing-glyph box.
    var NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("class", "launcher-icon");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var path = document.createElementNS(NS, "path");
    path.setAttribute("fill", "currentColor");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H10l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z" +
                           "M7 8.5h10v1.5H7zM7 11.5h7V13H7z");
    path.setAttribute("fill-rule", "evenodd");
    svg.appendChild(path);
    return svg;
  }

  var host = el("div", { id: "settle-chat-widget" });
  if (options.left) host.setAttribute("data-position", "left");
  if (options.colour) {
    // Custom properties cross into the shadow root, and the host's own style beats the sheet's :host rule.
    host.style.setProperty("--accent", options.colour);
    host.style.setProperty("--accent-dark", darker(options.colour.slice(1)));
  }
  host.style.display = "none"; // until the stylesheet is in, so nothing flashes unstyled
  var root = host.attachShadow ? host.attachShadow({ mode: "open" }) : host;
  var css = el("link", { rel: "stylesheet", href: ORIGIN + "/widget.css" });
  css.addEventListener("load", function () { host.style.display = ""; });
  css.addEventListener("error", function () { host.style.display = ""; });

  var launcher = el("button", {
    type: "button", "class": "launcher", "aria-label": T("open_chat"), "aria-expanded": "false",
    "aria-controls": "settle-panel"
  }, [chatIcon(),
      el("span", { "class": "launcher-label", text: T("launcher") }),
      el("span", { "class": "badge", hidden: true, "aria-hidden": "true" })]);
  var badge = launcher.querySelector(".badge");
  var launcherLabel = launcher.querySelector(".launcher-label");

  var serverName = null; // the business's name, from the server: the header's title unless the page set one
  var title = el("h2", { id: "settle-title", "class": "title", text: options.title || T("title") });
  var endButton = el("button", { type: "button", "class": "end-chat", text: T("end_chat") });
  var closeButton = el("button", { type: "button", "class": "close", "aria-label": T("close_chat") },
                       [el("span", { "aria-hidden": "true", text: "\u00D7" })]);
  var header = el("header", { "class": "header" }, [
    el("div", { "class": "heading" }, [
      title,
      // DISC-4: it says it is automated, up front.
      el("p", { "class": "subtitle", text: T("subtitle") })
    ]),
    endButton,
    closeButton
  ]);
  // "End chat" asks first: it cannot be undone on this device.
  var keepButton = el("button", { type: "button", "class": "confirm-keep", text: T("keep_chatting") });
  var confirmEndButton = el("button", { type: "button", "class": "confirm-end", text: T("confirm_end") });
  var confirmText = el("p", { id: "settle-confirm-text", text: T("confirm_text") });
  var confirmBox = el("div", {
    "class": "confirm", role: "alertdialog", "aria-labelledby": "settle-confirm-text", hidden: true
  }, [
    confirmText,
    el("div", { "class": "confirm-actions" }, [keepButton, confirmEndButton])
  ]);
  // Stays in the page when empty (CSS collapses it): a live region that appears with its text is often not read.
  var status = el("div", { "class": "status", role: "status", "aria-live": "polite" });
  var log = el("div", {
    "class": "messages", role: "log", "aria-live": "polite", "aria-relevant": "additions",
    "aria-label": T("messages"), tabindex: "0"
  });
  // DISC-3: shown before anyone is verified, so it says nothing about a balance, a plan or a payment.
  var intro = el("p", { "class": "intro", text: T("intro") });
  log.appendChild(intro);
  var typing = el("div", { "class": "typing", hidden: true }, [
    el("span", { "class": "sr-only", text: T("typing") }),
    el("span", { "class": "dot", "aria-hidden": "true" }),
    el("span", { "class": "dot", "aria-hidden": "true" }),
    el("span", { "class": "dot", "aria-hidden": "true" })
  ]);
  var choices = el("div", { "class": "choices", role: "group", "aria-label": T("suggested"), hidden: true });
  var input = el("textarea", {
    id: "settle-input", "class": "input", rows: "1", maxlength: "2000", autocomplete: "off",
    placeholder: T("placeholder"), "aria-label": T("input_label")
  });
  var sendText = el("span", { text: T("send") });
  var sendButton = el("button", { type: "submit", "class": "send", "aria-label": T("send_label") }, [sendText]);
  var inputLabel = el("label", { "for": "settle-input", "class": "sr-only", text: T("input_label") });
  var form = el("form", { "class": "composer" }, [inputLabel, input, sendButton]);
  var panel = el("section", {
    id: "settle-panel", "class": "panel", role: "dialog", "aria-modal": "false",
    "aria-labelledby": "settle-title", hidden: true
  }, [header, confirmBox, status, log, typing, choices, form]);

  launcher.setAttribute("lang", lang);
  panel.setAttribute("lang", lang);
  root.appendChild(css);
  root.appendChild(launcher);
  root.appendChild(panel);

  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);

  // --- rendering ----------------------------------------------------------------------------------------------
  // Only https links become links, and only as href set on an <a> built here; the rest is text.
  var LINK = /https:\/\/[^\s<>"']+/g;
  function appendLinked(parent, text) {
    var last = 0, match;
    LINK.lastIndex = 0;
    while ((match = LINK.exec(text)) !== null) {
      var url = match[0].replace(/[.,;:!?)\]]+$/, "");
      if (match.index > last) parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      var a = el("a", { href: url, target: "_blank", rel: "noopener noreferrer", text: url });
      parent.appendChild(a);
      last = match.index + url.length;
      LINK.lastIndex = last;
    }
    if (last < text.length) parent.appendChild(document.createTextNode(text.slice(last)));
  }

  var WHO = { debtor: "who_debtor", bot: "who_bot", system: "who_system" };
  function who(node) { // the visible "Agent Ana" or the screen reader's "You: ", in the current language
    var role = node.getAttribute("data-role");
    if (role === "agent") {
      var name = node.getAttribute("data-agent");
      return name ? T("agent_named", { name: name }) : T("agent");
    }
    return T(WHO[role] || "who_bot") + ": ";
  }
  function bubble(message, pending) {
    var role = message.role || "bot";
    var node = el("div", { "class": "msg msg-" + role + (pending ? " pending" : ""), "data-role": role });
    if (message.agent_name) node.setAttribute("data-agent", message.agent_name);
    if (message.key) node.setAttribute("data-key", message.key); // a notice of the widget's own, said again on a switch
    if (message.id != null) node.setAttribute("data-id", String(message.id));
    if (message.client_id) node.setAttribute("data-client-id", message.client_id);
    if (role === "agent") {
      // A person has taken over: say who, visibly (DISC-4: the bot never passes for a person, nor a person for a bot).
      node.appendChild(el("span", { "class": "who", text: who(node) }));
    } else {
      node.appendChild(el("span", { "class": "sr-only", text: who(node) }));
    }
    var body = el("p", { "class": "text" });
    appendLinked(body, String(message.key ? T(message.key) : message.text || ""));
    node.appendChild(body);
    if (pending) node.appendChild(el("span", { "class": "state", text: T("sending") }));
    return node;
  }

  function showChoices(buttons) {
    while (choices.firstChild) choices.removeChild(choices.firstChild);
    (buttons || []).forEach(function (b) {
      var button = el("button", { type: "button", "class": "choice", text: b.title || b.payload });
      button.addEventListener("click", function (event) {
        send(b.payload || b.title, b.title || null);
        // The choices are gone now: a keyboard user (detail 0) carries on in the composer, not on <body>.
        if (event.detail === 0) input.focus();
      });
      choices.appendChild(button);
    });
    choices.hidden = !(buttons && buttons.length);
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }
  function firstPendingNode() { return log.querySelector(".msg.pending"); }

  // --- state --------------------------------------------------------------------------------------------------
  var token = load("token");
  var pending = load("pending") || []; // messages not yet echoed by the server, in order: resent until they are
  var seen = {};                       // server message ids on screen
  var ws = null, ready = false, attempt = 0, retryTimer = null, unread = 0, everConnected = false;
  var sessionNotice = null;            // the key of what is shown above a new chat when the previous one ended
  var heartbeat = null, pongDue = 0, creating = false;
  var isOpen = false;
  var generation = 0;                  // bumped by "End chat": a session asked for before it is not used
  var waitingForPerson = false;        // after "End chat": no new session until the person writes or reopens

  function addServerMessage(message) {
    if (message.id != null && seen[message.id]) return false;
    if (message.id != null) seen[message.id] = true;
    if (intro.parentNode) intro.parentNode.removeChild(intro);
    var mine = message.client_id ? log.querySelector('.msg.pending[data-client-id="' + cssEscape(message.client_id) + '"]') : null;
    var node = bubble(message, false);
    if (mine) {
      log.replaceChild(node, mine); // the stored (redacted) text replaces what was typed
      dropPending(message.client_id);
    } else {
      log.insertBefore(node, firstPendingNode()); // server order first; our unsent messages stay last
    }
    if (message.role !== "debtor") {
      setTyping(false);
      if (!isOpen) { unread += 1; updateBadge(); }
    }
    showChoices(message.buttons);
    scrollDown();
    return true;
  }

  function cssEscape(value) { return window.CSS && CSS.escape ? CSS.escape(value) : value.replace(/"/g, '\\"'); }

  function dropPending(clientId) {
    pending = pending.filter(function (p) { return p.client_id !== clientId; });
    save("pending", pending);
  }

  function renderHistory(messages) {
    log.setAttribute("aria-busy", "true"); // one rebuild, not an announcement per old message
    Array.prototype.slice.call(log.querySelectorAll(".msg")).forEach(function (n) { n.parentNode.removeChild(n); });
    seen = {};
    var lastButtons = null;
    if (sessionNotice) log.appendChild(bubble({ role: "system", key: sessionNotice }, false));
    messages.forEach(function (m) {
      if (m.id != null) seen[m.id] = true;
      log.appendChild(bubble(m, false));
      lastButtons = m.buttons || null;
    });
    if (messages.length && intro.parentNode) intro.parentNode.removeChild(intro);
    // What the server already has is delivered; the rest is shown as still sending and goes out again.
    var stored = {};
    messages.forEach(function (m) { if (m.client_id) stored[m.client_id] = true; });
    pending = pending.filter(function (p) { return !stored[p.client_id]; });
    save("pending", pending);
    pending.forEach(function (p) { log.appendChild(bubble({ role: "debtor", text: p.title || p.text, client_id: p.client_id }, true)); });
    if (!log.querySelector(".msg") && !intro.parentNode) log.appendChild(intro);
    showChoices(pending.length ? null : lastButtons);
    log.removeAttribute("aria-busy");
    scrollDown();
  }

  function setTyping(on) { typing.hidden = !on; if (on) scrollDown(); }
  var statusKey = null;
  function setStatus(key) { // a key of TEXTS, or null for none
    statusKey = key || null;
    var text = statusKey ? T(statusKey) : "";
    if (status.textContent !== text) status.textContent = text;
  }
  function updateBadge() {
    badge.textContent = unread > 9 ? "9+" : String(unread);
    badge.hidden = unread === 0;
    launcher.setAttribute("aria-label", unread ? T("open_chat_unread", { n: unread }) : T("open_chat"));
  }

  // --- the language ---------------------------------------------------------------------------------------------
  function relabel() { // every text of the widget's own, again, in `lang`; the conversation's messages stay as said
    launcher.setAttribute("lang", lang);
    panel.setAttribute("lang", lang);
    launcherLabel.textContent = T("launcher");
    updateBadge();
    title.textContent = options.title || serverName || T("title");
    header.querySelector(".subtitle").textContent = T("subtitle");
    endButton.textContent = T("end_chat");
    closeButton.setAttribute("aria-label", T("close_chat"));
    confirmText.textContent = T("confirm_text");
    keepButton.textContent = T("keep_chatting");
    confirmEndButton.textContent = T("confirm_end");
    log.setAttribute("aria-label", T("messages"));
    intro.textContent = T("intro");
    typing.querySelector(".sr-only").textContent = T("typing");
    choices.setAttribute("aria-label", T("suggested"));
    input.setAttribute("placeholder", T("placeholder"));
    input.setAttribute("aria-label", T("input_label"));
    inputLabel.textContent = T("input_label");
    sendButton.setAttribute("aria-label", T("send_label"));
    sendText.textContent = T("send");
    Array.prototype.forEach.call(log.querySelectorAll(".msg"), function (node) {
      var label = node.querySelector(".who, .sr-only");
      if (label) label.textContent = who(node);
      var key = node.getAttribute("data-key");
      if (key) node.querySelector(".text").textContent = T(key);
      var state = node.querySelector(".state");
      if (state) state.textContent = T(state.getAttribute("data-key") || "sending");
    });
    setStatus(statusKey);
  }

  function setLanguage(next) { // the server says what the conversation speaks now
    next = supported(next);
    if (!next) return;
    save("lang", next);
    if (next !== lang) { lang = next; relabel(); }
  }

  // --- the connection ----------------------------------------------------------------------------------------
  function createSession() {
    var asked = generation;
    // The browser's language (or the one the server last said): the bot starts in it until the person's words say
    // otherwise. Sent as text/plain, a simple request: no CORS preflight before the first message.
    return fetch(ORIGIN + "/widget/session", { method: "POST", credentials: "omit", cache: "no-store",
                                               body: JSON.stringify({ language: lang }) })
      .then(function (r) { if (!r.ok) throw new Error("session " + r.status); return r.json(); })
      .then(function (body) { if (asked === generation) { token = body.token; save("token", token); } });
  }

  function scheduleReconnect() {
    if (retryTimer) return;
    // Backoff with jitter, so a restarted gateway is not hit by every widget at the same instant.
    var delay = Math.min(15000, 500 * Math.pow(2, attempt)) * (0.75 + Math.random() * 0.5);
    attempt += 1;
    retryTimer = setTimeout(function () { retryTimer = null; connect(); }, delay);
  }

  function startHeartbeat(socket) {
    stopHeartbeat();
    // A socket can die without a close event (a laptop asleep, a dropped network): ping, and give up on silence.
    heartbeat = setInterval(function () {
      if (ws !== socket || socket.readyState !== WebSocket.OPEN) { stopHeartbeat(); return; }
      if (pongDue && Date.now() > pongDue) {
        // Do not wait for a closing handshake that may never finish: treat it as dropped now.
        socket.onclose = null;
        try { socket.close(); } catch (e) { /* already closing */ }
        closed(socket, 1006);
        return;
      }
      if (!pongDue) { pongDue = Date.now() + 10000; socket.send(JSON.stringify({ type: "ping" })); }
    }, 25000);
  }
  function stopHeartbeat() { if (heartbeat) clearInterval(heartbeat); heartbeat = null; pongDue = 0; }

  function connect() {
    if (ws && (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING)) return;
    if (!token) {
      if (creating) return;
      creating = true;
      var asked = generation;
      createSession().then(function () { creating = false; if (asked === generation) connect(); },
                           function () { creating = false; setStatus("offline"); scheduleReconnect(); });
      return;
    }
    var socket = new WebSocket(WS_ORIGIN + "/widget/ws?token=" + encodeURIComponent(token));
    ws = socket;
    socket.onmessage = function (event) {
      if (ws !== socket) return; // a socket already given up on
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      onFrame(frame);
    };
    socket.onopen = function () { startHeartbeat(socket); };
    socket.onclose = function (event) { closed(socket, event.code); };
  }

  function closed(socket, code) {
    if (ws !== socket) return;
    ws = null; ready = false;
    stopHeartbeat();
    setTyping(false);
    if (code === 4410) {
      // Ended in another tab (or from another copy of this session): forget it here too, and wait for the person.
      forget("ended_elsewhere");
      return;
    }
    if (code === 4403) {
      setStatus("not_available"); // WIDGET_ORIGINS leaves this page out: no retries
      return;
    }
    if (code === 4401) {
      // The session is over (expired, or unknown to the server): start a new one; the old chat is not shown.
      var hadChat = !!log.querySelector(".msg:not(.pending)");
      token = null; save("token", null);
      if (hadChat) notice("new_chat");
      attempt = Math.max(attempt, 1);
    } else if (isOpen || pending.length) {
      setStatus("offline");
    }
    scheduleReconnect();
  }

  function notice(key) {
    sessionNotice = key;
    renderHistory([]);
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "session":
        token = frame.token; save("token", token);
        if (frame.name) serverName = frame.name;
        if (frame.name && !options.title) title.textContent = frame.name; // the embedding page's title wins
        break;
      case "history":
        if (frame.language) setLanguage(frame.language); // null: nothing said yet, the browser's language stands
        renderHistory(frame.messages || []);
        ready = true; attempt = 0; everConnected = true;
        setStatus(null);
        flush();
        break;
      case "message":
        addServerMessage(frame);
        break;
      case "language": // the debtor wrote in, or asked for, another language: the widget follows the conversation
        setLanguage(frame.language);
        break;
      case "typing":
        setTyping(!!frame.on);
        break;
      case "pong":
        pongDue = 0;
        break;
      case "error":
        if (frame.code === "busy" && frame.client_id) {
          setTimeout(function () { resend(frame.client_id); }, 3000);
        } else if (frame.code === "rate_limited" && frame.client_id) {
          // Too many messages in this conversation just now: send it again once the limit allows.
          setTimeout(function () { resend(frame.client_id); }, 1000 * Math.max(1, frame.retry_after || 5));
        } else if (frame.code === "bad_message" && frame.client_id) {
          dropPending(frame.client_id); // it would be refused again; say why instead of retrying forever
          var node = log.querySelector('.msg.pending[data-client-id="' + cssEscape(frame.client_id) + '"] .state');
          if (node) { node.setAttribute("data-key", "not_sent"); node.textContent = T("not_sent"); }
        }
        break;
      default:
        break;
    }
  }

  function transmit(item) {
    if (!ws || !ready || ws.readyState !== WebSocket.OPEN) return false;
    var frame = { type: "message", text: item.text, client_id: item.client_id };
    if (item.title) frame.title = item.title;
    ws.send(JSON.stringify(frame));
    return true;
  }

  function resend(clientId) {
    pending.forEach(function (p) { if (p.client_id === clientId) transmit(p); });
  }

  function flush() {
    // At least once: everything not yet echoed goes (again); the server ignores a client_id it has stored.
    pending.forEach(function (p) { transmit(p); });
    if (pending.length && ws && ready) setTyping(true);
  }

  function send(text, titleText) {
    text = String(text || "");
    if (!text.trim()) return;
    waitingForPerson = false;
    var item = { client_id: newClientId(), text: text, title: titleText || null };
    pending.push(item);
    save("pending", pending);
    if (intro.parentNode) intro.parentNode.removeChild(intro);
    log.appendChild(bubble({ role: "debtor", text: titleText || text, client_id: item.client_id }, true));
    showChoices(null);
    scrollDown();
    if (transmit(item)) setTyping(true);
    else { setStatus(everConnected ? "offline" : "connecting"); connect(); }
  }

  // --- "End chat" -------------------------------------------------------------------------------------------------
  function clearStored() {
    memoryStore = {};
    [window.localStorage, window.sessionStorage].forEach(function (store) {
      try {
        for (var i = store.length - 1; i >= 0; i--) {
          var name = store.key(i);
          if (name && name.indexOf(KEY) === 0) store.removeItem(name);
        }
      } catch (e) { /* storage off: nothing was kept */ }
    });
  }

  function forget(noticeText) {
    // Drop the session and everything kept of it on this device; a new one starts when the person next writes.
    generation += 1;
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
    stopHeartbeat();
    if (ws) {
      var socket = ws;
      ws = null;
      socket.onclose = null; socket.onmessage = null;
      try { socket.close(1000); } catch (e) { /* already closed */ }
    }
    ready = false; creating = false; attempt = 0; everConnected = false; waitingForPerson = true;
    token = null; pending = []; unread = 0;
    clearStored();
    setTyping(false);
    setStatus(null);
    updateBadge();
    sessionNotice = noticeText;
    renderHistory([]);
    log.appendChild(intro); // a fresh start: the greeting again, under the notice
  }

  function endChat() {
    var ended = token;
    forget("ended_here");
    hideConfirm();
    if (ended) {
      // keepalive: the server hears it even if the page is being left. If it does not (offline), nothing on this
      // device holds the token any more, and it expires on its own (WIDGET_TOKEN_TTL_MINUTES).
      fetch(ORIGIN + "/widget/session/end", {
        method: "POST", headers: { "Authorization": "Bearer " + ended }, credentials: "omit", cache: "no-store",
        keepalive: true
      }).catch(function () { /* see above */ });
    }
    input.focus();
  }

  function showConfirm() { confirmBox.hidden = false; keepButton.focus(); }
  function hideConfirm() { confirmBox.hidden = true; }

  // --- opening and closing --------------------------------------------------------------------------------------
  function open() {
    isOpen = true;
    waitingForPerson = false;
    panel.hidden = false;
    launcher.hidden = true;
    launcher.setAttribute("aria-expanded", "true");
    unread = 0; updateBadge();
    saveSession("open", "1");
    if (!ws) { if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; } connect(); }
    if (!ready) setStatus(everConnected ? "offline" : "connecting");
    scrollDown();
    input.focus();
  }

  function close() {
    isOpen = false;
    hideConfirm();
    panel.hidden = true;
    launcher.hidden = false;
    launcher.setAttribute("aria-expanded", "false");
    saveSession("open", null);
    launcher.focus(); // focus returns to what opened it
  }

  launcher.addEventListener("click", open);
  closeButton.addEventListener("click", close);
  endButton.addEventListener("click", showConfirm);
  keepButton.addEventListener("click", function () { hideConfirm(); endButton.focus(); });
  confirmEndButton.addEventListener("click", endChat);
  panel.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    event.preventDefault();
    // Escape backs out of the question first, then closes the panel.
    if (!confirmBox.hidden) { hideConfirm(); endButton.focus(); } else close();
  });
  input.addEventListener("keydown", function (event) {
    // Enter sends, Shift+Enter is a new line; not while an input method is composing a character.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
  function submit() {
    var text = input.value;
    if (!text.trim()) return;
    input.value = "";
    send(text, null);
    input.focus();
  }
  window.addEventListener("online", function () {
    if (ws || waitingForPerson) return;
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
    attempt = 0; connect();
  });

  // A returning visitor with a session reconnects at once (an agent's reply can arrive while the panel is
  // closed); a first-time visitor gets a session only when they open the chat.
  if (token) connect();
  if (loadSession("open")) {
    if (document.body) open(); else document.addEventListener("DOMContentLoaded", open);
  }
})();
