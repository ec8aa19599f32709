/*
 * The agent console's only script (no build step). The pages work without it (plain forms, redirects); with it:
 *  - live updates: an EventSource on the page's data-stream URL; the server sends rendered, escaped HTML
 *    fragments (new messages and notes by id, and the status, actions, account panel and queue as a whole);
 *  - when the person ends the web chat, a line says so and the reply box turns off, without a reload;
 *  - replies and notes go by fetch, so the page stays put and a blocked reply shows its rule IDs next to the
 *    text the agent can still edit;
 *  - a canned reply fills the reply box for editing;
 *  - new-conversation alerts: the tab title counts arrivals in the queue the agent has not looked at yet
 *    ("(2) Queue · Settle agent console"); a sound and a desktop notification are opt-in (localStorage);
 *  - keyboard shortcuts (t take, c reply box, Ctrl/Cmd+Enter send or resolve, r resolve, q queue, ? help); single
 *    keys never fire while the agent types in a field;
 *  - a reply or note typed when the session ended is kept (this tab only) and is back after logging in again;
 *  - a page answering a form's POST says its own GET address (data-address), which replaces the POST's.
 */
(function () {
  "use strict";

  var body = document.body;

  // A result shown in answer to a form's POST (a campaign's dry run or run): the address bar shows the page's own
  // GET address, so a reload or a bookmark opens that page rather than sending the form again.
  if (body.dataset.address && window.history && window.history.replaceState) {
    window.history.replaceState(null, "", body.dataset.address);
  }

  // The session ended: log in again, then back to this conversation, where the draft is kept (below).
  function toLogin(url) {
    try { sessionStorage.setItem("settle-return", location.pathname); } catch (e) { /* not kept */ }
    location.href = url + (url.indexOf("?") < 0 ? "?ended=1" : "");  // the login page says why it is shown
  }

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  }

  function swap(id, html) {
    var target = document.getElementById(id);
    if (target && target.innerHTML !== html) target.innerHTML = html;
  }

  function append(listId, item) {
    var list = document.getElementById(listId);
    if (!list || list.querySelector('[data-id="' + item.id + '"]')) return; // already shown (reconnects resend)
    var node = fragment(item.html);
    if (!node) return;
    list.appendChild(node);
    node.scrollIntoView({ block: "nearest" });
  }

  function canReplyNow() {
    var actions = document.querySelector("#actions .actions");
    return actions ? actions.getAttribute("data-can-reply") === "1" : null;
  }

  function resolveTyped(kept) {
    // Without `kept`: read the resolve form; with it: put those values back into the (redrawn) form.
    var form = document.getElementById("resolve-form");
    if (!form) return null;
    var outcome = form.querySelector('[name="outcome"]');
    var when = form.querySelector('[name="callback_at"]');
    var zone = form.querySelector('[name="callback_zone"]');
    var error = document.getElementById("resolve-error");
    if (!kept) return { outcome: outcome.value, when: when.value, zone: zone ? zone.value : "",
                        error: error ? error.outerHTML : "" };
    if (kept.outcome) outcome.value = kept.outcome;
    if (kept.when) when.value = kept.when;
    if (kept.zone && zone) zone.value = kept.zone;
    if (kept.error && !document.getElementById("resolve-error")) form.insertAdjacentHTML("afterbegin", kept.error);
    return null;
  }

  function showEnded() {
    // The person ended the web chat: the reply box goes off (what is typed stays), and says why. The server
    // refuses such a reply anyway (bot/agents/replies.py); this keeps the agent from writing one.
    var over = !!document.querySelector("#ended [data-ended]");
    var fields = document.getElementById("compose-fields");
    var why = document.getElementById("compose-ended");
    if (fields) fields.disabled = over;
    if (why) why.hidden = !over;
  }

  // --- live updates -------------------------------------------------------------------------------------------
  var streamUrl = body.getAttribute("data-stream");
  // A form this page submitted (Take, Hand back) is on its way: its answer brings the fresh page and its notice,
  // which a reload of our own would cancel.
  var leaving = false;
  window.addEventListener("beforeunload", function () { leaving = true; });
  window.addEventListener("pageshow", function () { leaving = false; });  // back to this page from the cache
  if (streamUrl && window.EventSource) {
    var source = new EventSource(streamUrl);
    function on(name, handle) {
      source.addEventListener(name, function (event) {
        var data;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        handle(data);
      });
    }
    on("queue", function (data) { swap("queue", data.html); checkArrivals(); });
    on("mine", function (data) { swap("mine", data.html); checkArrivals(); });
    on("message", function (data) { append("transcript", data); });
    on("notice", function (data) { append("transcript", data); });  // a rule the debtor's words put in force
    on("note", function (data) { append("notes", data); });
    on("status", function (data) { swap("status", data.html); });
    on("ended", function (data) { swap("ended", data.html); showEnded(); });
    on("panel", function (data) { swap("panel", data.html); });
    on("actions", function (data) {
      var before = canReplyNow();
      var kept = resolveTyped();
      swap("actions", data.html);
      resolveTyped(kept); // what the person typed in the resolve form (and why it was refused) survives a redraw
      // Ownership changed (taken, reassigned, handed back): the reply box comes or goes with a fresh page.
      var composing = !!document.getElementById("compose");
      if (before !== null && canReplyNow() !== composing && !leaving) location.reload();
    });
    on("logout", function (data) { source.close(); toLogin(data.url || "/agent/login"); });
    on("gone", function (data) {
      source.close();
      var note = document.createElement("p");
      note.className = "notice";
      note.textContent = data.error || "This conversation is no longer yours to see.";
      document.querySelector("main").prepend(note);
    });
  }

  // --- drafts: a reply or note typed when the session ended is not lost -----------------------------------------
  // Kept in this tab's sessionStorage only (never sent anywhere, gone with the tab), under the form's action; put
  // back when the form shows again empty (after logging in again, which returns here), forgotten once sent and on
  // logging out.
  var DRAFT_PREFIX = "settle-draft:";
  var RETURN_KEY = "settle-return";  // toLogin's note

  function draftKey(form) { return DRAFT_PREFIX + form.getAttribute("action"); }
  function forgetDraft(form) { try { sessionStorage.removeItem(draftKey(form)); } catch (e) { /* not kept */ } }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-fetch]"), function (form) {
    var text = form.querySelector("textarea");
    if (!text) return;
    try {
      var kept = sessionStorage.getItem(draftKey(form));
      if (kept && !text.value) text.value = kept;
    } catch (e) { /* private mode: drafts are not kept */ }
    text.addEventListener("input", function () {
      try { sessionStorage.setItem(draftKey(form), text.value); } catch (e) { /* not kept */ }
    });
  });

  try {
    // Back to the conversation whose send found the session ended (this tab's own note; only a console path).
    var back = sessionStorage.getItem(RETURN_KEY);
    if (back && location.pathname === "/agent") {
      sessionStorage.removeItem(RETURN_KEY);
      if (/^\/agent\/h\/[A-Za-z0-9_-]+$/.test(back)) location.replace(back);
    }
  } catch (e) { /* not kept */ }

  var logoutForm = document.querySelector('form[action="/agent/logout"]');
  if (logoutForm) {
    logoutForm.addEventListener("submit", function () {
      try {
        for (var i = sessionStorage.length - 1; i >= 0; i--) {
          var key = sessionStorage.key(i);
          if (key && (key.indexOf(DRAFT_PREFIX) === 0 || key === RETURN_KEY)) sessionStorage.removeItem(key);
        }
      } catch (e) { /* not kept */ }
    });
  }

  // --- forms sent by fetch (reply, note) ----------------------------------------------------------------------
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.getAttribute || !form.getAttribute("data-fetch") || !window.fetch) return;
    event.preventDefault();
    var button = form.querySelector('button[type="submit"]');
    var error = form.querySelector(".error");
    if (button) button.disabled = true;
    fetch(form.action, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (result) {
      if (result.data.ok) {
        var text = form.querySelector("textarea");
        if (text) text.value = "";
        forgetDraft(form);
        if (error) { error.hidden = true; error.textContent = ""; }
        if (text) text.focus();
      } else if (error) {
        var why = result.data.reasons && result.data.reasons.length ? " (" + result.data.reasons.join("; ") + ")" : "";
        error.textContent = (result.data.error || "Not sent.") + why;
        error.hidden = false;
        if (result.status === 401) toLogin("/agent/login");
      }
    }).catch(function () {
      if (error) { error.textContent = "Could not reach the server. Try again."; error.hidden = false; }
    }).then(function () {
      if (button) button.disabled = false;
    });
  });

  // --- keyboard shortcuts (listed in the "?" dialog, base.html, and in the README) ------------------------------
  var dialog = document.getElementById("shortcuts");
  var helpButton = document.getElementById("help-button");

  function toggleHelp() {
    if (!dialog || !dialog.showModal) return;
    if (dialog.open) dialog.close(); else dialog.showModal();
  }
  if (dialog && helpButton) {
    helpButton.hidden = false;
    helpButton.addEventListener("click", toggleHelp);
  }

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function submit(form) {
    if (form.requestSubmit) form.requestSubmit(); else form.dispatchEvent(new Event("submit", { cancelable: true }));
  }

  function clickFirst(selector) {
    var element = document.querySelector(selector);
    if (!element) return false;
    element.click();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      // The one shortcut that works while typing: it sends what was typed (or resolves with the chosen outcome).
      var form = event.target.closest ? event.target.closest("form") : null;
      if (form && (form.id === "compose" || form.id === "resolve-form")) { event.preventDefault(); submit(form); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || event.isComposing || typing(event.target)) return;
    if (dialog && dialog.open && event.key !== "?") return; // Esc closes the dialog by itself
    if (event.key === "?") {
      event.preventDefault();
      toggleHelp();
    } else if (event.key === "t") {
      // This conversation's "Take" button, or on the queue the first waiting row's (highest priority).
      if (clickFirst("#claim") || clickFirst('[data-section="waiting"] button.claim')) event.preventDefault();
    } else if (event.key === "c") {
      var box = document.getElementById("reply-text");
      if (box) { event.preventDefault(); box.focus(); }
    } else if (event.key === "r") {
      var outcome = document.querySelector('#resolve-form select[name="outcome"]');
      if (outcome) { event.preventDefault(); outcome.scrollIntoView({ block: "center" }); outcome.focus(); }
    } else if (event.key === "q" && body.getAttribute("data-page") !== "queue") {
      location.href = "/agent";
    }
  });

  // --- new-conversation alerts ----------------------------------------------------------------------------------
  var baseTitle = document.title;
  var known = null; // ids seen waiting since this page loaded
  var unseen = {}; // arrivals since the agent last touched the page, while they still wait
  var PREFS = { sound: "settle.console.alert.sound", desktop: "settle.console.alert.desktop" };
  var audio = null;

  function pref(name) {
    try { return localStorage.getItem(PREFS[name]) === "on"; } catch (e) { return false; }
  }

  function setPref(name, on) {
    try { localStorage.setItem(PREFS[name], on ? "on" : "off"); } catch (e) { /* private mode: not kept */ }
  }

  function showCount() {
    var count = Object.keys(unseen).length;
    document.title = count ? "(" + count + ") " + baseTitle : baseTitle;
  }

  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      audio = audio || new Context();
      if (audio.state === "suspended") audio.resume();
      var tone = audio.createOscillator();
      var gain = audio.createGain();
      tone.frequency.value = 880;
      gain.gain.value = 0.08;
      tone.connect(gain);
      gain.connect(audio.destination);
      tone.start();
      tone.stop(audio.currentTime + 0.18);
    } catch (e) { /* no audio device: the title still counts */ }
  }

  function alertAgent(count) {
    if (pref("sound")) beep();
    if (pref("desktop") && window.Notification && Notification.permission === "granted") {
      // Only a count: nothing about the debtor leaves the page for the operating system's notification centre.
      var notice = new Notification("New conversation waiting",
                                    { body: count + " new in the queue", tag: "settle-queue" });
      notice.onclick = function () { window.focus(); notice.close(); };
    }
  }

  function checkArrivals() {
    var holder = document.querySelector("[data-waiting]");
    if (!holder) return;
    var ids = holder.getAttribute("data-waiting").split(" ").filter(Boolean);
    var waitingNow = {};
    ids.forEach(function (id) { waitingNow[id] = true; });
    Object.keys(unseen).forEach(function (id) { if (!waitingNow[id]) delete unseen[id]; }); // taken meanwhile
    if (known === null) { known = waitingNow; showCount(); return; }
    var fresh = ids.filter(function (id) { return !known[id]; });
    fresh.forEach(function (id) { known[id] = true; unseen[id] = true; });
    showCount();
    if (fresh.length) alertAgent(Object.keys(unseen).length);
  }

  function looked() {
    if (Object.keys(unseen).length) { unseen = {}; showCount(); }
  }

  checkArrivals();
  document.addEventListener("pointerdown", looked);
  document.addEventListener("keydown", looked);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) looked(); });

  var alerts = document.getElementById("alerts");
  if (alerts) {
    alerts.hidden = false; // without the script there are no alerts to set
    var sound = document.getElementById("alert-sound");
    var desktop = document.getElementById("alert-desktop");
    sound.checked = pref("sound");
    desktop.checked = pref("desktop") && !!window.Notification && Notification.permission === "granted";
    sound.addEventListener("change", function () {
      setPref("sound", sound.checked);
      if (sound.checked) beep(); // a sample, and the click unlocks audio for this page
    });
    desktop.addEventListener("change", function () {
      if (!desktop.checked || !window.Notification) { desktop.checked = false; setPref("desktop", false); return; }
      Notification.requestPermission().then(function (permission) {
        desktop.checked = permission === "granted";
        setPref("desktop", desktop.checked);
      });
    });
  }

  // --- canned replies -----------------------------------------------------------------------------------------
  document.addEventListener("change", function (event) {
    if (event.target.id !== "canned") return;
    var option = event.target.selectedOptions[0];
    var text = option && option.getAttribute("data-text");
    var box = document.getElementById("reply-text");
    if (text && box) { box.value = text; box.focus(); }
  });

  // --- login: the username stays after a wrong password ------------------------------------------------------
  // Kept in this tab's sessionStorage, not echoed by the server: an error answer never shows what was sent
  // (tests/test_fuzz_edges.py). Only the name; never the password.
  var loginForm = document.getElementById("login-form");
  if (loginForm) {
    var name = document.getElementById("username");
    try {
      var kept = window.sessionStorage.getItem("settle-login-name");
      if (kept && !name.value && document.querySelector(".login .error")) {
        name.value = kept;
        document.getElementById("password").focus();
      }
      loginForm.addEventListener("submit", function () {
        window.sessionStorage.setItem("settle-login-name", name.value);
      });
    } catch (e) { /* storage off: the form works as before */ }
  }
})();
