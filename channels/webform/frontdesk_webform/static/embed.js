// Frontdesk web form for other sites. Include it where the form should appear:
//   <script src="https://help.example.com/webform/embed.js" data-locale="it" async></script>
// Optional attributes: data-locale (a language of the help center; default: the visitor's),
// data-queue (the queue chosen in advance), data-title (the frame's accessible name).
// The site must be listed in the help center's PLUGINS_CONFIG.webform.allowed_origins.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) { return; }
  var origin = new URL(script.src).origin;
  var locale = script.getAttribute("data-locale");
  var path = locale ? "/" + encodeURIComponent(locale) + "/portal/webform/embed" : "/portal/webform/embed";
  var url = new URL(path, origin);
  var queue = script.getAttribute("data-queue");
  if (queue) { url.searchParams.set("queue", queue); }

  var frame = document.createElement("iframe");
  frame.src = url.href;
  frame.title = script.getAttribute("data-title") || "Contact form";
  frame.setAttribute("loading", "lazy");
  frame.style.display = "block";
  frame.style.width = "100%";
  frame.style.minHeight = "32rem";
  frame.style.border = "0";
  script.parentNode.insertBefore(frame, script.nextSibling);

  window.addEventListener("message", function (event) {
    if (event.origin !== origin || event.source !== frame.contentWindow) { return; }
    var data = event.data;
    if (data && data.type === "frontdesk-webform:height" && typeof data.height === "number") {
      frame.style.height = Math.min(Math.max(data.height, 200), 20000) + "px";
    }
  });
})();
