// Customer portal: check attachments against the server's limits before a reply is sent, so
// an oversized file is reported at once and the typed message stays in the form.
// The server enforces the same limits; this only saves a useless upload.
(function () {
  "use strict";

  function problem(form) {
    var input = form.querySelector('input[type="file"]');
    if (!input || !input.files) { return ""; }
    var maxBytes = parseInt(form.getAttribute("data-max-bytes"), 10) || 0;
    var maxFiles = parseInt(form.getAttribute("data-max-files"), 10) || 0;
    var maxRequest = parseInt(form.getAttribute("data-max-request"), 10) || 0;
    var total = 0;
    if (maxFiles && input.files.length > maxFiles) { return form.getAttribute("data-too-many"); }
    for (var i = 0; i < input.files.length; i++) {
      var size = input.files[i].size;
      if (maxBytes && size > maxBytes) { return form.getAttribute("data-too-large"); }
      total += size;
    }
    // The message text and form fields travel in the same request: keep some room for them.
    if (maxRequest && total > maxRequest - 2 * 1024 * 1024) { return form.getAttribute("data-too-much"); }
    return "";
  }

  function show(form, text) {
    var box = form.querySelector("[data-upload-error]");
    if (!box) { return; }
    box.textContent = text;
    box.hidden = !text;
    var input = form.querySelector('input[type="file"]');
    if (input) {
      if (text) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
    }
  }

  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-upload-limits") && event.target.type === "file") {
      show(form, problem(form));
    }
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute || !form.hasAttribute("data-upload-limits")) { return; }
    var text = problem(form);
    show(form, text);
    if (text) { event.preventDefault(); }
  });
})();
