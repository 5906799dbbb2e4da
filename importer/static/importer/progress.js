// The run page while an import works: poll its progress every 1.5 s, show it, and load the
// page again once the import has finished (the report is rendered by the server) or stalled.
(function () {
  "use strict";
  var box = document.getElementById("run-progress");
  if (!box) { return; }
  var bar = document.getElementById("run-progress-bar");
  var text = document.getElementById("run-progress-text");
  var status = document.getElementById("run-status");
  var url = box.getAttribute("data-url");
  var failures = 0;

  function show(data) {
    bar.max = Math.max(data.total, 1);
    bar.value = data.done;
    bar.textContent = data.done + "/" + data.total;
    text.textContent = data.text;
    // Finished, or stalled since the page was drawn (the page then offers to queue it again).
    if (data.finished || (data.stalled && !box.hasAttribute("data-stalled"))) {
      window.location.reload();
      return;
    }
    window.setTimeout(poll, 1500);
  }

  function poll() {
    fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (data) { failures = 0; show(data); })
      .catch(function () {
        failures += 1;  // the server is restarting, or the network is gone: slow down, keep trying
        window.setTimeout(poll, Math.min(30000, 1500 * Math.pow(2, failures)));
      });
  }

  if (status) { status.setAttribute("aria-live", "polite"); }
  window.setTimeout(poll, 1000);
}());
