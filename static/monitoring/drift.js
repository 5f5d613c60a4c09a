// A drift report's column rows: the "Histogram" button opens and closes the row below it;
// htmx loads the histograms on the first open, and plots.js draws them.
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
})();
