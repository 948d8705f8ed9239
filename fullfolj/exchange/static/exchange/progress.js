// The progress of a file import in the background: ask its status every two seconds, move
// the bar and its text (announced politely), and show the outcome once it is done.
(function () {
  "use strict";
  var card = document.getElementById("progress-card");
  if (!card) { return; }
  var bar = document.getElementById("progress");
  var text = document.getElementById("progress-text");
  var url = card.getAttribute("data-status-url");
  var number = new Intl.NumberFormat(document.documentElement.lang || "sv");
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (state) {
        if (!state.running) { window.location.reload(); return; }
        bar.value = state.percent;
        var said = state.label;
        if (state.rows_total) {
          said += ": " + number.format(state.rows_done) + " / " + number.format(state.rows_total);
        }
        if (text.textContent !== said) { text.textContent = said; }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1000);
})();
