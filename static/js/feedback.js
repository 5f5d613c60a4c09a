// The feedback inbox: one box ticks or unticks every row of the page.
(function () {
  "use strict";
  // Without script the box would do nothing, so it is hidden until now.
  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-select-all]");
    Array.prototype.forEach.call(boxes, function (box) { box.closest("label").hidden = false; });
  });
  document.addEventListener("change", function (event) {
    var all = event.target.closest && event.target.closest("[data-select-all]");
    if (!all) { return; }
    var form = all.closest("form");
    var boxes = form.querySelectorAll("input[type=checkbox][name='" + all.getAttribute("data-select-all") + "']");
    Array.prototype.forEach.call(boxes, function (box) { box.checked = all.checked; });
  });
})();
