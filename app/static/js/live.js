// Live updates without inline scripts (CSP). An element with data-stream is an htmx fetcher
// triggered by `live-nudge`: a server-sent event named data-stream-event fires it at once, and
// while the stream is down (or EventSource missing) it fires every data-fallback-ms instead.
// The stream only says "something new"; the fetch goes through the ordinary, access-checked
// endpoint. EventSource reconnects by itself after a drop or the stream's planned end, and each
// (re)opening fetches whatever arrived in the gap. data-live ("stream" or "polling") on the
// data-live-status element says which is in use.
(function () {
  "use strict";
  var watched = {};

  function watch(first) {
    var id = first.id, source = null, timer = null;
    if (!id || watched[id]) { return; }
    watched[id] = true;
    var statusSelector = first.dataset.liveStatus || "#" + id;
    var current = function () {  // htmx replaces the element after every fetch
      var element = document.getElementById(id);
      return element && element.dataset.stream ? element : null;
    };
    var streaming = function () { return source !== null && source.readyState === 1; };
    var mark = function () {  // looked up each time: a swap may have replaced the status element
      var status = document.querySelector(statusSelector);
      if (status) { status.dataset.live = streaming() ? "stream" : "polling"; }
    };
    var stop = function () {
      if (source) { source.close(); }
      window.clearInterval(timer);
      document.body.removeEventListener("htmx:load", mark);
      delete watched[id];
    };
    var nudge = function () {
      var element = current();
      if (element) { htmx.trigger(element, "live-nudge"); } else { stop(); }  // finished: no more news
    };
    if (window.EventSource) {
      source = new EventSource(first.dataset.stream);
      source.addEventListener("open", function () { mark(); nudge(); });
      source.addEventListener(first.dataset.streamEvent, nudge);
      source.addEventListener("error", mark);
    }
    mark();
    document.body.addEventListener("htmx:load", mark);
    timer = window.setInterval(function () { mark(); if (!streaming()) { nudge(); } },
                               parseInt(first.dataset.fallbackMs || "2000", 10));
    window.addEventListener("pagehide", stop);
  }

  function scan(root) {
    if (root.matches && root.matches("[data-stream]")) { watch(root); }
    if (root.querySelectorAll) { Array.prototype.forEach.call(root.querySelectorAll("[data-stream]"), watch); }
  }
  scan(document);
  document.body.addEventListener("htmx:load", function (event) { scan(event.detail.elt); });
})();
