// Care loop: clear the chat box once a message has been sent (no inline scripts under the CSP).
(function () {
  "use strict";
  document.body.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (form && form.classList && form.classList.contains("care-chat-form") && event.detail.successful) {
      form.reset();
      var box = form.querySelector("textarea");
      if (box) { box.focus(); }
    }
  });
  // Enter sends, Shift+Enter makes a new line.
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (event.key === "Enter" && !event.shiftKey && box.closest && box.closest(".care-chat-form")) {
      event.preventDefault();
      box.closest("form").requestSubmit();
    }
  });
})();
