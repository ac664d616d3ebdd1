// The agent ticket page: composer tabs, keyboard shortcuts, attachments (list, checks, drop).
// The page works without it: both forms show, files are checked on the server.
(function () {
  "use strict";
  var composer = document.getElementById("composer");
  if (!composer) { return; }
  var maxBytes = parseInt(composer.getAttribute("data-max-bytes"), 10) || 0;
  var maxFiles = parseInt(composer.getAttribute("data-max-files"), 10) || 0;
  var tooLarge = composer.getAttribute("data-too-large") || "";
  var tooMany = composer.getAttribute("data-too-many") || "";

  // --- Tabs: one editor at a time ------------------------------------------------------------
  var tabs = composer.querySelectorAll("[data-tab]");
  var panels = composer.querySelectorAll("[data-panel]");

  function show(name, focus) {
    tabs.forEach(function (tab) {
      if (tab.getAttribute("data-tab") === name) { tab.setAttribute("aria-current", "true"); }
      else { tab.removeAttribute("aria-current"); }
    });
    panels.forEach(function (panel) { panel.hidden = panel.getAttribute("data-panel") !== name; });
    if (focus) {
      var area = composer.querySelector('[data-panel="' + name + '"] textarea');
      if (area) { area.focus(); }
    }
  }

  tabs.forEach(function (tab) {
    tab.addEventListener("click", function (event) {
      event.preventDefault();
      show(tab.getAttribute("data-tab"), true);
    });
  });
  show(composer.getAttribute("data-composer") || "reply", false);

  // --- Keyboard: r reply, n note, s status, Esc leaves a field, Ctrl+Enter sends --------------
  function typing(el) {
    if (!el) { return false; }
    var tag = el.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || el.isContentEditable;
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) &&
        target.matches && target.matches("textarea[data-submit-on-ctrl-enter]")) {
      event.preventDefault();
      if (target.form) { target.form.requestSubmit(); }
      return;
    }
    if (event.key === "Escape") {
      if (typing(target)) { target.blur(); }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typing(target)) { return; }
    if (event.key === "r") { event.preventDefault(); show("reply", true); }
    else if (event.key === "n") { event.preventDefault(); show("note", true); }
    else if (event.key === "s") {
      var status = document.getElementById("ticket-status");
      if (status) { event.preventDefault(); status.focus(); }
    }
  });

  // --- Attachments: a list with sizes and remove buttons, checked before sending --------------
  function sizeText(bytes) {
    if (bytes >= 1048576) { return (bytes / 1048576).toFixed(1) + " MB"; }
    if (bytes >= 1024) { return (bytes / 1024).toFixed(1) + " KB"; }
    return bytes + " B";
  }

  function problems(input) {
    var found = [];
    if (maxFiles && input.files.length > maxFiles) { found.push(tooMany); }
    Array.prototype.forEach.call(input.files, function (file) {
      if (maxBytes && file.size > maxBytes) { found.push(tooLarge.replace("{name}", file.name)); }
    });
    return found;
  }

  function render(input) {
    var list = document.getElementById(input.getAttribute("data-attach-list"));
    if (!list) { return; }
    list.textContent = "";
    Array.prototype.forEach.call(input.files, function (file, index) {
      var item = document.createElement("li");
      item.textContent = file.name + " (" + sizeText(file.size) + ") ";
      if (maxBytes && file.size > maxBytes) { item.className = "too-large"; }
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove";
      remove.textContent = "×";
      remove.setAttribute("aria-label", file.name);
      remove.addEventListener("click", function () { removeFile(input, index); });
      item.appendChild(remove);
      list.appendChild(item);
    });
    problems(input).forEach(function (text) {
      var item = document.createElement("li");
      item.className = "error";
      item.textContent = text;
      list.appendChild(item);
    });
    input.setCustomValidity(problems(input).join(" "));
  }

  function setFiles(input, files) {
    if (typeof DataTransfer === "undefined") { return false; }
    var transfer = new DataTransfer();
    files.forEach(function (file) { transfer.items.add(file); });
    input.files = transfer.files;
    render(input);
    return true;
  }

  function removeFile(input, index) {
    var kept = Array.prototype.filter.call(input.files, function (_file, i) { return i !== index; });
    setFiles(input, kept);
  }

  var inputs = composer.querySelectorAll("input[type=file][data-attach-list]");
  inputs.forEach(function (input) {
    input.addEventListener("change", function () { render(input); });
  });

  composer.querySelectorAll("form").forEach(function (form) {
    var input = form.querySelector("input[type=file][data-attach-list]");
    form.addEventListener("dragover", function (event) {
      if (!input || !event.dataTransfer || event.dataTransfer.types.indexOf("Files") < 0) { return; }
      event.preventDefault();
      form.classList.add("dragging");
    });
    form.addEventListener("dragleave", function (event) {
      if (!form.contains(event.relatedTarget)) { form.classList.remove("dragging"); }
    });
    form.addEventListener("drop", function (event) {
      form.classList.remove("dragging");
      if (!input || !event.dataTransfer || !event.dataTransfer.files.length) { return; }
      event.preventDefault();
      var all = Array.prototype.slice.call(input.files).concat(
        Array.prototype.slice.call(event.dataTransfer.files));
      setFiles(input, all);
    });
    form.addEventListener("submit", function (event) {
      if (input && problems(input).length) {
        event.preventDefault();
        input.reportValidity();
        return;
      }
      if (event.defaultPrevented) { return; }
      var button = form.querySelector("button[type=submit]");
      // After the browser took the submission: a second click must not send the reply twice.
      if (button) { window.setTimeout(function () { button.disabled = true; }, 0); }
    });
  });
})();
