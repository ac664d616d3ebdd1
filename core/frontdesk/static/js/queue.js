// Queue view: keyboard shortcuts (j/k move, o/Enter open, x select, / search, ? help),
// "select all", and the bulk bar showing only the value field of the chosen action.
// Everything works without this script; it only adds speed.
(function () {
  "use strict";
  var table = document.querySelector("[data-queue-table]");
  var help = document.getElementById("shortcut-help");
  var current = -1;

  // The shortcuts exist only with this script: so do the button and hint that mention them.
  Array.prototype.forEach.call(
    document.querySelectorAll("[data-shortcut-help-open], [data-shortcut-hint]"),
    function (el) { el.hidden = !help; }
  );

  function rows() {
    return table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-href]")) : [];
  }

  function focusRow(index) {
    var list = rows();
    if (!list.length) { return; }
    index = Math.max(0, Math.min(list.length - 1, index));
    if (current >= 0 && list[current]) { list[current].classList.remove("is-current"); }
    current = index;
    var row = list[current];
    row.classList.add("is-current");
    var link = row.querySelector("a.ticket-link");
    if (link) { link.focus({ preventScroll: true }); }
    row.scrollIntoView({ block: "nearest" });
  }

  function toggleHelp(show) {
    if (!help) { return; }
    var visible = typeof show === "boolean" ? show : help.hidden;
    help.hidden = !visible;
    if (visible) {
      var close = help.querySelector("[data-shortcut-help-close]");
      if (close) { close.focus(); }
    }
  }

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || tag === "BUTTON" ||
      Boolean(target && target.isContentEditable);
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "Escape" && help && !help.hidden) { toggleHelp(false); return; }
    if (typing(event.target)) { return; }
    var list = rows();
    var row = list[current];
    switch (event.key) {
      case "j": focusRow(current + 1); break;
      case "k": focusRow(current < 0 ? 0 : current - 1); break;
      case "Enter":
        // On a focused link or control Enter keeps its own meaning (j/k focus the ticket link).
        if (event.target !== document.body) { return; }
        // falls through
      case "o":
        if (!row) { return; }
        window.location.assign(row.getAttribute("data-href"));
        break;
      case "x":
        if (!row) { return; }
        var box = row.querySelector('input[type="checkbox"]');
        if (box) {
          box.checked = !box.checked;
          box.dispatchEvent(new Event("change", { bubbles: true }));
        }
        break;
      case "/":
        var search = document.querySelector("[data-shortcut-search]");
        if (!search) { return; }
        search.focus();
        search.select();
        break;
      case "?": toggleHelp(); break;
      default: return;
    }
    event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target.closest("[data-shortcut-help-open]")) { toggleHelp(true); }
    else if (target.closest("[data-shortcut-help-close]")) { toggleHelp(false); }
    else if (help && target === help) { toggleHelp(false); }
  });

  if (table) {
    var all = table.querySelector("[data-select-all]");
    if (all) {
      all.addEventListener("change", function () {
        rows().forEach(function (row) {
          var box = row.querySelector('input[name="ticket"]');
          if (box) { box.checked = all.checked; }
          row.classList.toggle("is-selected", all.checked);
        });
      });
    }
    table.addEventListener("change", function (event) {
      var row = event.target.closest("tr");
      if (row && event.target.name === "ticket") {
        row.classList.toggle("is-selected", event.target.checked);
      }
    });
    rows().forEach(function (row, index) {
      var box = row.querySelector('input[name="ticket"]');
      if (box && box.checked) { row.classList.add("is-selected"); }
      row.addEventListener("click", function () {
        if (current >= 0 && rows()[current]) { rows()[current].classList.remove("is-current"); }
        current = index;
        row.classList.add("is-current");
      });
    });
  }

  // The bulk bar shows the value field of the chosen action only (all show without script).
  var action = document.getElementById("bulk-action");
  if (action) {
    var fields = Array.prototype.slice.call(document.querySelectorAll("[data-bulk-for]"));
    var sync = function () {
      fields.forEach(function (el) {
        var wanted = el.getAttribute("data-bulk-for").split(" ");
        el.hidden = wanted.indexOf(action.value) === -1;
      });
    };
    action.addEventListener("change", sync);
    sync();
  }
})();
