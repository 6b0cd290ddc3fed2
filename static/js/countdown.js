/* Live countdown to a call's deadline; the server-rendered text stays if scripts are off. */
(function () {
  "use strict";
  var nodes = document.querySelectorAll(".countdown[data-deadline]");
  if (!nodes.length) { return; }
  function plural(n, word) { return n + " " + word + (n > 1 ? "s" : ""); }
  function render() {
    nodes.forEach(function (node) {
      var left = new Date(node.getAttribute("data-deadline")) - new Date();
      if (left <= 0) { node.textContent = "0 minute : l'appel est clos"; return; }
      var minutes = Math.floor(left / 60000);
      var days = Math.floor(minutes / 1440);
      var hours = Math.floor((minutes % 1440) / 60);
      var mins = minutes % 60;
      node.textContent = days > 0 ? plural(days, "jour") + " et " + plural(hours, "heure")
        : plural(hours, "heure") + " et " + plural(mins, "minute");
    });
  }
  render();
  window.setInterval(render, 30000);
})();
