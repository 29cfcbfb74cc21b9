// The open worklist stays current: it follows /ui/events/stream (server-sent events, the web session's cookie)
// and, when something is recorded, reloads its lists in place (the search box and what is typed in it stay);
// a DeadlineAlertRaised also shows its banner, fetched from /ui/alerts/{id} (a notice carries no payload).
// Plain EventSource: the browser reconnects by itself and resumes after the last id it received.
(function () {
  "use strict";
  var box = document.getElementById("live-alerts");
  if (!box || !window.EventSource || !window.fetch || !window.DOMParser) { return; }
  var pending = null;

  function refresh() {
    pending = null;
    fetch(window.location.href, { credentials: "same-origin" }).then(function (answer) {
      return answer.ok ? answer.text() : null;
    }).then(function (html) {
      if (html === null) { return; }
      var fresh = new DOMParser().parseFromString(html, "text/html");
      document.querySelectorAll("main section[aria-labelledby]").forEach(function (section) {
        var label = section.getAttribute("aria-labelledby");
        var replacement = fresh.querySelector('main section[aria-labelledby="' + CSS.escape(label) + '"]');
        if (replacement) { section.replaceWith(document.adoptNode(replacement)); }
      });
      document.body.setAttribute("data-live-refreshed", String(Date.now()));
    }).catch(function () { /* the next event tries again */ });
  }

  function showAlert(alertId) {
    fetch(box.getAttribute("data-alerts") + encodeURIComponent(alertId), { credentials: "same-origin" })
      .then(function (answer) { return answer.ok ? answer.text() : null; })
      .then(function (html) {
        if (html === null) { return; }
        var banner = new DOMParser().parseFromString(html, "text/html").querySelector(".live-alert");
        if (banner) { box.prepend(document.adoptNode(banner)); }
      }).catch(function () { /* the worklist's own colours still show the deadline */ });
  }

  var stream = new EventSource(box.getAttribute("data-stream"));
  stream.onmessage = function (message) {
    var notice;
    try { notice = JSON.parse(message.data); } catch (error) { return; }
    if (notice.type === "DeadlineAlertRaised") { showAlert(notice.aggregate_id); }
    if (pending === null) { pending = window.setTimeout(refresh, 300); }  // one reload for a burst of events
  };
  box.addEventListener("click", function (event) {
    if (event.target.hasAttribute && event.target.hasAttribute("data-dismiss-alert")) {
      event.target.closest(".live-alert").remove();
    }
  });
  window.addEventListener("pagehide", function () { stream.close(); });
})();
