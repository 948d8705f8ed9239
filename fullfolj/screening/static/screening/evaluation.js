// The rule page while an evaluation runs: ask for its progress every few seconds, show it,
// and load the page again when the figures are done (no inline scripts: CSP).
(function () {
  "use strict";
  var box = document.querySelector("[data-evaluation-status]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  function ask() {
    fetch(box.getAttribute("data-evaluation-status"), {credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (bar) { bar.value = state.progress; }
        if (text) { text.textContent = state.text; }
        if (state.status === "queued" || state.status === "running") {
          window.setTimeout(ask, 3000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(ask, 10000); });
  }
  window.setTimeout(ask, 3000);
}());
