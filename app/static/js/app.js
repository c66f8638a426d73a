// Site-wide behaviour. Loaded as a file: the Content-Security-Policy forbids inline scripts.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="csrf-token"]');
  // Every htmx request carries the CSRF token, like every form does.
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (token) { event.detail.headers["X-CSRFToken"] = token.content; }
  });
  // Buttons with data-confirm ask before acting (htmx's hx-confirm would need no extra code,
  // but plain forms need this too).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
