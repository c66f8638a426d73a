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
  // The chat log: new messages are appended. A reader at the bottom follows them; one who has
  // scrolled back keeps their place and gets a "new messages" marker instead.
  var log = document.getElementById("chat-log"), marker = document.getElementById("chat-new-marker");
  function atBottom() { return log.scrollHeight - log.scrollTop - log.clientHeight < 40; }
  function toBottom() { log.scrollTop = log.scrollHeight; if (marker) { marker.hidden = true; } }
  if (log) {
    var following = true;
    toBottom();
    log.addEventListener("scroll", function () { if (atBottom() && marker) { marker.hidden = true; } });
    if (marker) { marker.addEventListener("click", function () { toBottom(); log.focus(); }); }
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      if (event.detail.target && event.detail.target.id === "chat-messages") { following = atBottom(); }
    });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (!event.detail.target || event.detail.target.id !== "chat-messages") { return; }
      if (!event.detail.xhr.responseText.match(/id="message-/)) { return; }
      var seen = {};  // a send and a poll can both bring the same message: keep it once
      Array.prototype.forEach.call(log.querySelectorAll(".care-message"), function (message) {
        if (seen[message.id]) { message.remove(); } else { seen[message.id] = true; }
      });
      var empty = document.getElementById("chat-empty");
      if (empty) { empty.remove(); }
      var sentByMe = event.detail.requestConfig && event.detail.requestConfig.verb === "post";
      if (following || sentByMe) { toBottom(); } else if (marker) { marker.hidden = false; }
    });
  }

  // Enter sends, Shift+Enter makes a new line.
  document.addEventListener("keydown", function (event) {
    var box = event.target;
    if (event.key === "Enter" && !event.shiftKey && box.closest && box.closest(".care-chat-form")) {
      event.preventDefault();
      box.closest("form").requestSubmit();
    }
  });
})();
