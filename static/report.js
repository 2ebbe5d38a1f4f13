/*
 * netpol-viz review report: the Print button (the page itself needs no script).
 */
(function () {
  "use strict";
  var button = document.getElementById("print-report");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }
})();
