// The warning before an idle sign-out (#idle-warning in base.html). The server keeps the idle
// clock; this page only knows when it last acted itself, so before warning it asks the server
// (a background check, which does not restart the clock) how long is left: another tab may have
// been busy. "Stay signed in" is a real request and restarts the clock. When the time is up the
// page goes to the log-in page, where the server ends the session and says why.
(function () {
  "use strict";
  var box = document.getElementById("idle-warning");
  var text = document.getElementById("idle-warning-text");
  if (!box || !text) { return; }
  var idle = parseInt(box.dataset.idleSeconds, 10) * 1000;
  var lead = Math.min(60000, idle / 2);  // warn a minute ahead, or halfway on a shorter limit
  var deadline = Date.now() + idle;  // this page's own request has just restarted the clock
  var timer = null, before = null;

  function schedule(at) {
    window.clearTimeout(timer);
    timer = window.setTimeout(check, Math.max(0, at - Date.now()));
  }

  function hide() {
    if (!box.firstChild) { return; }
    var hadFocus = box.contains(document.activeElement);
    box.replaceChildren();
    if (hadFocus && before && document.contains(before)) { before.focus(); }
  }

  function show() {
    if (box.firstChild) { return; }
    before = document.activeElement;
    box.appendChild(text.content.cloneNode(true));
    box.querySelector("[data-stay]").addEventListener("click", stay);
    // Take the focus only from nobody: a person typing keeps their place (the button comes
    // right after the skip link in the tab order).
    if (!before || before === document.body) { box.querySelector("[data-stay]").focus(); }
  }

  function signOut() { window.location.assign(box.dataset.loginUrl); }

  function restart(left) {
    deadline = Date.now() + left;
    // Asked again a second after the end, when the server has surely passed it too.
    if (left > lead) { hide(); schedule(deadline - lead); } else { show(); schedule(deadline + 1000); }
  }

  // `redirect: "manual"`: a refusal is not followed, so the log-in page's message is kept for
  // the page this script opens.
  function ask(background) {
    var headers = {"Accept": "application/json"};
    if (background) { headers["X-Background-Check"] = "1"; }
    return window.fetch(box.dataset.checkUrl, {headers: headers, redirect: "manual", cache: "no-store"})
      .then(function (response) {
        if (response.type === "opaqueredirect" || response.status === 401) { signOut(); return; }
        if (!response.ok) { schedule(Date.now() + 15000); return; }  // unsure: ask again soon
        return response.json().then(function (body) { restart(body.idle_seconds_left * 1000); });
      }, function () { schedule(Date.now() + 15000); });  // offline: ask again soon
  }

  function check() { ask(true); }
  function stay() { ask(false); }

  // Whatever this page asks the server for on a person's behalf (not a poll) restarts the clock.
  document.body.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.elt.hasAttribute("data-background") && event.detail.successful) { restart(idle); }
  });
  schedule(deadline - lead);
})();
