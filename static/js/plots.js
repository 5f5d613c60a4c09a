// Draws every Plotly chart on the page from its JSON data island (see portal/plots.py).
(function () {
  "use strict";
  function draw(root) {
    root.querySelectorAll("[data-plotly]").forEach(function (el) {
      if (el.dataset.plotted) { return; }
      var island = document.getElementById(el.dataset.plotly);
      if (!island || !window.Plotly) { return; }
      var figure = JSON.parse(island.textContent);
      var layout = Object.assign({ autosize: true, margin: { t: 30, r: 10, b: 40, l: 50 } }, figure.layout || {});
      window.Plotly.newPlot(el, figure.data || [], layout, { responsive: true, displaylogo: false });
      el.dataset.plotted = "1";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  // Charts htmx swaps in: the event, not htmx.onLoad, as htmx loads deferred, after this.
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail && event.detail.elt;
    if (root && root.querySelectorAll) { draw(root); }
  });
})();
