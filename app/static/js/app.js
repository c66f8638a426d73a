// Site-wide behaviour. Loaded as a file: the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="csrf-token"]');
  // Every htmx request carries the CSRF token, like every form does. An element marked
  // data-background (a poll, a live fetch) says its requests are checks, not a person's
  // activity: they do not keep the session from its idle sign-out (app/web/session_rules.py).
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (token) { event.detail.headers["X-CSRFToken"] = token.content; }
    if (event.detail.elt.hasAttribute("data-background")) { event.detail.headers["X-Background-Check"] = "1"; }
  });
  // Buttons with data-confirm ask before acting (htmx's hx-confirm would need no extra code,
  // but plain forms need this too).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
