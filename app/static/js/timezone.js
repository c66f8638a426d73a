// The browser's time zone, so the server shows times in it: kept in the `tz` cookie for every
// visitor, and stored on a signed-in account that has no zone yet (the server ignores the
// report otherwise, and ignores a name it does not know). Loaded as a file: the CSP forbids
// inline scripts.
(function () {
  "use strict";
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!zone || zone.length > 64) { return; }
  var script = document.currentScript;
  var secure = window.location.protocol === "https:" ? "; Secure" : "";
  document.cookie = "tz=" + encodeURIComponent(zone) + "; Path=/; Max-Age=31536000; SameSite=Lax" + secure;
  // The page says when the signed-in account has no zone yet (data-store="1").
  if (!script || script.getAttribute("data-store") !== "1") { return; }
  var token = document.querySelector('meta[name="csrf-token"]');
  var form = new FormData();
  form.append("timezone", zone);
  fetch(script.getAttribute("data-url"), {
    method: "POST",
    body: form,
    credentials: "same-origin",
    headers: token ? { "X-CSRFToken": token.content } : {}
  }).catch(function () { /* the cookie alone still shows this visit's times in the zone */ });
})();
