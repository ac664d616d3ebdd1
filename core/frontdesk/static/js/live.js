// Live agent desk over Socket.IO (namespace /desk). Pages work without it: it only adds notices,
// never edits a form or reloads by itself, so nothing an agent typed is lost.
//
// Queue view: a table[data-live-queue] (or [data-queue-table]) whose rows carry data-ticket-id
// (and data-ticket-version if they have it): changed rows get the class "live-changed" and a
// notice counts the changed tickets.
// Ticket page: an element with data-ticket-id, data-ticket-version and data-last-message-id, an
// optional #presence element, and the public reply form (form[data-reply-form] or #reply-form)
// whose textarea, once it holds text, tells the others that this agent is writing a reply.
(function () {
  "use strict";
  var body = document.body;
  if (!body || !body.classList.contains("desk") || typeof window.io !== "function") { return; }
  window.frontdesk = window.frontdesk || {};
  if (window.frontdesk.live) { return; }  // loaded twice: one connection is enough

  var queueTable = document.querySelector("table[data-live-queue], table[data-queue-table]");
  var ticketEl = queueTable ? null :
    document.querySelector("[data-ticket-id][data-ticket-version]");
  if (!queueTable && !ticketEl) { return; }

  var RENEW_MS = 30000;  // the server forgets a viewer not renewed for 90 s
  var socket = window.io("/desk", { reconnectionDelayMax: 30000 });
  var live = window.frontdesk.live = { socket: socket, me: null, text: null };
  var whenReady = [];

  function number(value) {
    var n = parseInt(value, 10);
    return isNaN(n) ? 0 : n;
  }

  function ready(callback) {
    if (live.text) { callback(); } else { whenReady.push(callback); }
  }

  function listOf(names) {
    var lang = document.documentElement.getAttribute("lang") || undefined;
    try {
      return new Intl.ListFormat(lang, { style: "long", type: "conjunction" }).format(names);
    } catch (err) {
      return names.join(", ");
    }
  }

  function fill(template, names) {
    return template.split("%(names)s").join(listOf(names));
  }

  // One notice per key, shown above the page's content; its text is set, never parsed as HTML.
  function notice(key, text, isWarning) {
    var el = document.querySelector('[data-live-notice="' + key + '"]');
    if (!el) {
      el = document.createElement("div");
      el.setAttribute("data-live-notice", key);
      el.setAttribute("role", isWarning ? "alert" : "status");
      el.className = "flash live-notice" + (isWarning ? " flash-error live-warning" : "");
      var label = document.createElement("span");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.textContent = live.text.reload;
      button.addEventListener("click", function () { window.location.reload(); });
      el.appendChild(label);
      el.appendChild(document.createTextNode(" "));
      el.appendChild(button);
      var anchor = document.querySelector(".desk-main .page-head");
      if (anchor) { anchor.insertAdjacentElement("afterend", el); } else { body.prepend(el); }
    }
    el.firstChild.textContent = text;
    el.hidden = false;
  }

  function byMe(person) {
    return Boolean(person && live.me && person.id === live.me.id);
  }

  socket.on("connect", function () {
    socket.emit("hello", {}, function (reply) {
      if (!reply || !reply.ok) { return; }
      live.me = reply.user;
      live.text = reply.text;
      whenReady.splice(0).forEach(function (callback) { callback(); });
    });
  });

  // --- queue view -------------------------------------------------------------------------
  function queueView() {
    var changed = {};
    var count = 0;

    function mark(event) {
      var id = number(event.ticket_id);
      if (!id) { return; }
      var row = queueTable.querySelector('tr[data-ticket-id="' + id + '"]');
      if (row) {
        var shown = number(row.getAttribute("data-ticket-version"));
        if (shown && number(event.version) <= shown) { return; }  // the row already shows it
        row.classList.add("live-changed");
      }
      if (changed[id]) { return; }
      changed[id] = true;
      count += 1;
      var asked = count;
      socket.emit("changed_label", { count: asked }, function (reply) {
        if (!reply || !reply.ok || asked !== count) { return; }  // a later count is coming
        ready(function () { notice("queue", reply.text); });
      });
    }

    socket.on("connect", function () {
      live.watching = false;  // until the server says this page is in the queue's rooms
      socket.emit("watch_queue", {}, function (reply) { live.watching = !!(reply && reply.ok); });
    });
    socket.on("ticket_changed", mark);
    socket.on("message_added", mark);
  }

  // --- ticket page ------------------------------------------------------------------------
  function ticketPage() {
    var ticketId = number(ticketEl.getAttribute("data-ticket-id"));
    var version = number(ticketEl.getAttribute("data-ticket-version"));
    var lastMessageId = number(ticketEl.getAttribute("data-last-message-id"));
    var presenceEl = document.getElementById("presence");
    var replying = false;
    var state = null;

    function editor() {
      return document.querySelector(
        'form[data-reply-form] textarea, #reply-form textarea[name="body"]'
      ) || document.querySelector('textarea[name="body"]');
    }

    function writing() {
      var el = editor();
      return Boolean(el && el.value.trim() !== "");
    }

    function others(people) {
      return (people || []).filter(function (p) { return !byMe(p); })
        .map(function (p) { return p.name; });
    }

    function renderPresence() {
      if (!presenceEl || !state || !live.text) { return; }
      var viewing = others(state.viewers);
      var answering = others(state.replying);
      presenceEl.textContent = "";
      if (viewing.length) {
        var line = document.createElement("p");
        line.className = "presence-viewing";
        line.textContent = fill(live.text.viewing, viewing);
        presenceEl.appendChild(line);
      }
      if (answering.length) {
        var warn = document.createElement("p");
        warn.className = "presence-replying";
        warn.textContent = fill(live.text.replying, answering);
        presenceEl.appendChild(warn);
      }
      presenceEl.hidden = !viewing.length && !answering.length;
    }

    // The server handles each event in its own thread: "typing" sent before "view_ticket" is
    // acknowledged could arrive first and be dropped, so it waits for the acknowledgement.
    var viewed = false;

    function view() {
      socket.emit("view_ticket", { ticket_id: ticketId }, function (reply) {
        if (reply && reply.ok) {
          viewed = true;
          state = reply;
          ready(renderPresence);
          if (replying) { socket.emit("typing", { ticket_id: ticketId, replying: true }); }
        }
      });
    }

    function setReplying(value) {
      if (value === replying) { return; }
      replying = value;
      if (viewed) { socket.emit("typing", { ticket_id: ticketId, replying: value }); }
    }

    socket.on("connect", function () {
      view();  // rooms are per connection: join again after a reconnect
    });
    socket.on("disconnect", function () { viewed = false; });
    window.setInterval(function () { if (socket.connected) { view(); } }, RENEW_MS);

    document.addEventListener("input", function (event) {
      if (event.target === editor()) { setReplying(writing()); }
    });

    socket.on("presence", function (event) {
      if (number(event.ticket_id) !== ticketId) { return; }
      state = event;
      ready(renderPresence);
    });

    socket.on("message_added", function (event) {
      if (number(event.ticket_id) !== ticketId) { return; }
      if (number(event.message_id) <= lastMessageId) { return; }
      ready(function () {
        if (byMe(event.author)) { return; }
        var answer = event.kind === "agent" || event.kind === "customer";
        if (answer && writing()) {
          notice("reply", live.text.new_message, true);
        } else {
          notice("ticket", live.text.changed);
        }
      });
    });

    socket.on("ticket_changed", function (event) {
      if (number(event.ticket_id) !== ticketId || number(event.version) <= version) { return; }
      ready(function () { if (!byMe(event.by)) { notice("ticket", live.text.changed); } });
    });
  }

  if (queueTable) { queueView(); } else { ticketPage(); }
})();
