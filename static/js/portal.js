// Small helpers shared by every page. No inline script anywhere: the CSP forbids it.
(function () {
  "use strict";
  // Ask before a form marked data-confirm submits (e.g. revoking a token).
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute && event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
