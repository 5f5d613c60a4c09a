// Registry pages. No inline script anywhere: the CSP forbids it.
(function () {
  "use strict";
  // A form marked data-autosubmit submits when one of its selects changes (the version
  // switcher); its button stays for people without JavaScript and is hidden otherwise.
  function wire(root) {
    root.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      if (form.dataset.autosubmitWired) { return; }
      form.dataset.autosubmitWired = "1";
      form.querySelectorAll("[data-autosubmit-button]").forEach(function (button) {
        button.hidden = true;
      });
      form.addEventListener("change", function (event) {
        if (event.target && event.target.tagName === "SELECT") { form.requestSubmit(); }
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { wire(document); });
  if (window.htmx) { window.htmx.onLoad(function (element) { wire(element); }); }
})();
