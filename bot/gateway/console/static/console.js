/*
 * The agent console's only script (no build step). The pages work without it (plain forms, redirects); with it:
 *  - live updates: an EventSource on the page's data-stream URL; the server sends rendered, escaped HTML
 *    fragments (new messages and notes by id, and the status, actions, account panel and queue as a whole);
 *  - replies and notes go by fetch, so the page stays put and a blocked reply shows its rule IDs next to the
 *    text the agent can still edit;
 *  - a canned reply fills the reply box for editing.
 */
(function () {
  "use strict";

  var body = document.body;

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

  // --- live updates -------------------------------------------------------------------------------------------
  var streamUrl = body.getAttribute("data-stream");
  if (streamUrl && window.EventSource) {
    var source = new EventSource(streamUrl);
    function on(name, handle) {
      source.addEventListener(name, function (event) {
        var data;
        try { data = JSON.parse(event.data); } catch (e) { return; }
        handle(data);
      });
    }
    on("queue", function (data) { swap("queue", data.html); });
    on("message", function (data) { append("transcript", data); });
    on("note", function (data) { append("notes", data); });
    on("status", function (data) { swap("status", data.html); });
    on("panel", function (data) { swap("panel", data.html); });
    on("actions", function (data) {
      var before = canReplyNow();
      swap("actions", data.html);
      // Ownership changed (taken, reassigned, handed back): the reply box comes or goes with a fresh page.
      var composing = !!document.getElementById("compose");
      if (before !== null && canReplyNow() !== composing) location.reload();
    });
    on("logout", function (data) { source.close(); location.href = data.url || "/agent/login"; });
    on("gone", function (data) {
      source.close();
      var note = document.createElement("p");
      note.className = "notice";
      note.textContent = data.error || "This conversation is no longer yours to see.";
      document.querySelector("main").prepend(note);
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
        if (error) { error.hidden = true; error.textContent = ""; }
        if (text) text.focus();
      } else if (error) {
        var why = result.data.reasons && result.data.reasons.length ? " (" + result.data.reasons.join("; ") + ")" : "";
        error.textContent = (result.data.error || "Not sent.") + why;
        error.hidden = false;
        if (result.status === 401) location.href = "/agent/login";
      }
    }).catch(function () {
      if (error) { error.textContent = "Could not reach the server. Try again."; error.hidden = false; }
    }).then(function () {
      if (button) button.disabled = false;
    });
  });

  // Ctrl/Cmd+Enter sends the reply.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.id === "reply-text") {
      event.preventDefault();
      var form = document.getElementById("compose");
      if (form.requestSubmit) form.requestSubmit(); else form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });

  // --- canned replies -----------------------------------------------------------------------------------------
  document.addEventListener("change", function (event) {
    if (event.target.id !== "canned") return;
    var option = event.target.selectedOptions[0];
    var text = option && option.getAttribute("data-text");
    var box = document.getElementById("reply-text");
    if (text && box) { box.value = text; box.focus(); }
  });
})();
