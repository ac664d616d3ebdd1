// Web form: show only the custom fields of the chosen queue, and, inside an iframe, tell the
// embedding page how tall the form is. Without this script every queue's fields show and the
// server reads the chosen queue's only.
(function () {
  "use strict";

  function syncQueueFields(form) {
    var select = form.querySelector('select[name="queue"]');
    var groups = form.querySelectorAll("[data-queue-fields]");
    if (!select || !groups.length) { return; }
    for (var i = 0; i < groups.length; i++) {
      var shown = groups[i].getAttribute("data-queue-fields") === select.value;
      groups[i].hidden = !shown;
      groups[i].disabled = !shown;
      var legend = groups[i].querySelector("legend");
      if (legend) { legend.hidden = true; }
    }
  }

  function reportHeight() {
    if (window.parent === window) { return; }
    var height = Math.ceil(document.documentElement.scrollHeight);
    window.parent.postMessage({ type: "frontdesk-webform:height", height: height }, "*");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var forms = document.querySelectorAll("form[data-webform]");
    for (var i = 0; i < forms.length; i++) { syncQueueFields(forms[i]); }
    if (document.body.classList.contains("webform-embed")) {
      reportHeight();
      if (window.ResizeObserver) { new ResizeObserver(reportHeight).observe(document.body); }
      window.addEventListener("load", reportHeight);
    }
  });

  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-webform") && event.target.name === "queue") {
      syncQueueFields(form);
    }
  });
})();
