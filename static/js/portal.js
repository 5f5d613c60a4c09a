// Small helpers shared by every page. No inline script anywhere: the CSP forbids it.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  // At phone width the main menu folds behind a button.
  document.addEventListener("click", function (event) {
    var toggle = event.target.closest && event.target.closest(".menu-toggle");
    if (!toggle) { return; }
    var open = toggle.closest(".topbar").classList.toggle("open");
    toggle.setAttribute("aria-expanded", open ? "true" : "false");
  });
  // A table or block wider than its box scrolls inside itself: make it reachable by keyboard
  // (tabindex, a named region) and give it the edge-shadow cue (.scroll-x).
  function markScrollers(root) {
    var boxes = root.querySelectorAll(".table-wrap, .table, pre, .diff, .markdown table");
    Array.prototype.forEach.call(boxes, function (box) {
      var outer = box.parentElement && box.parentElement.closest("[data-scroll-region]");
      if (outer || box.scrollWidth <= box.clientWidth + 1) { return; }
      if (getComputedStyle(box).overflowX === "visible") { return; }
      var heading = box.closest("section, .card, details");
      var title = heading && heading.querySelector("h2, h3, summary");
      box.classList.add("scroll-x");
      box.setAttribute("data-scroll-region", "");
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", (title ? title.textContent.trim() + ": " : "") + "scrolls sideways");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { markScrollers(document); });
  window.addEventListener("resize", function () { markScrollers(document); });
  document.addEventListener("htmx:afterSwap", function (event) { markScrollers(event.target); });
  // Ask before a form marked data-confirm submits (e.g. revoking a token).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
  // A form that was refused shows its error summary first: move focus there, so a keyboard or
  // screen-reader user lands on what to fix; each entry links to its field.
  function focusErrorSummary(root) {
    var summary = (root || document).querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { focusErrorSummary(document); });
  document.addEventListener("htmx:afterSwap", function (event) { focusErrorSummary(event.target); });
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-error-summary] a[href^='#']");
    var field = link && document.getElementById(link.getAttribute("href").slice(1));
    if (field) { event.preventDefault(); field.focus(); field.scrollIntoView({block: "center"}); }
  });
  // Never lose typed text silently: leaving a page whose [data-guard-unsaved] form was edited
  // and not submitted asks first (the browser shows its own "leave page?" prompt).
  var dirty = new Set();
  document.addEventListener("input", function (event) {
    var form = event.target.closest && event.target.closest("form[data-guard-unsaved]");
    if (form) { dirty.add(form); }
  });
  document.addEventListener("submit", function (event) {
    if (!event.defaultPrevented) { dirty.delete(event.target); }
  });
  window.addEventListener("beforeunload", function (event) {
    if (dirty.size) { event.preventDefault(); event.returnValue = ""; }
  });
  // Copy the text of the element a [data-copy] button names (a new token's key).
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      button.textContent = "Copied";
    });
  });
})();
