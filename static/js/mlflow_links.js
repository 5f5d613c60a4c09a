// The MLflow client prints links into its own UI ("View run at http://handoff/#/experiments/4/runs/19");
// on Handoff's home page such a link opens the same experiment, run or model here.
(function () {
  "use strict";
  var routes = [
    [/^#\/experiments\/\d+\/runs\/(\d+)/, function (m) { return "/experiments/runs/" + m[1] + "/"; }],
    [/^#\/experiments\/(\d+)/, function (m) { return "/experiments/" + m[1] + "/"; }],
    [/^#\/models\/([a-z0-9-]+)/, function (m) { return "/models/" + m[1] + "/"; }],
  ];
  function follow() {
    for (var i = 0; i < routes.length; i++) {
      var found = routes[i][0].exec(window.location.hash);
      if (found) {
        window.location.replace(routes[i][1](found));
        return;
      }
    }
  }
  follow();
  window.addEventListener("hashchange", follow);
})();
