// A drift report's column rows: the "Histogram" button opens and closes the row below it;
// htmx loads the histograms on the first open, and they are drawn here.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-drift-toggle]");
    if (!button) { return; }
    var detail = document.getElementById(button.getAttribute("aria-controls"));
    if (!detail) { return; }
    var open = button.getAttribute("aria-expanded") !== "true";
    button.setAttribute("aria-expanded", open ? "true" : "false");
    detail.hidden = !open;
    if (open && window.Plotly) {
      // A chart laid out while its row was closed has no width: size it now.
      detail.querySelectorAll("[data-plotted]").forEach(function (chart) {
        window.Plotly.Plots.resize(chart);
      });
    }
  });
  // plots.js draws swapped-in charts only when htmx was loaded before it, and base.html loads
  // htmx deferred, after plots.js: draw a column's charts here once htmx has swapped them in
  // (each once: both mark a drawn chart data-plotted).
  document.addEventListener("htmx:load", function (event) {
    var root = event.detail && event.detail.elt;
    if (!root || !root.querySelectorAll || !window.Plotly) { return; }
    root.querySelectorAll("[data-plotly]").forEach(function (el) {
      var island = document.getElementById(el.dataset.plotly);
      if (el.dataset.plotted || !island) { return; }
      var figure = JSON.parse(island.textContent);
      window.Plotly.newPlot(el, figure.data || [], figure.layout || {}, { responsive: true, displaylogo: false });
      el.dataset.plotted = "1";
    });
  });
})();
