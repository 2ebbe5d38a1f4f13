/*
 * netpol-viz diagram page, sharing: copy the share link, delete the analysis
 * (for whoever uploaded it from this tab, which holds the delete token), and
 * download the canvas as PNG. Uses core and NV.container.
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var byId = NV.byId, bind = NV.bind;

  bind("copy-link", "click", function () {
    var input = byId("share-url");
    var status = byId("copy-status");
    var url = new URL(input.value, window.location.href).href;
    input.value = url;
    function done(text) { if (status) status.textContent = text; }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(function () { done("copied"); }, function () {
        input.select();
        done("press Ctrl+C to copy");
      });
    } else {
      input.select();
      done(document.execCommand("copy") ? "copied" : "press Ctrl+C to copy");
    }
  });

  // Whoever uploaded from this tab has the delete token (kept by upload.js).
  var deleteButton = byId("delete-analysis");
  var deleteToken = null;
  try {
    deleteToken = deleteButton && sessionStorage.getItem("netpol-viz:delete:" + deleteButton.dataset.analysisId);
  } catch (ignored) { /* storage disabled */ }
  if (deleteButton && deleteToken) {
    deleteButton.hidden = false;
    var armed = false;
    deleteButton.addEventListener("click", function () {
      if (!armed) {
        armed = true;
        deleteButton.textContent = "Delete for everyone? Click again";
        return;
      }
      fetch(deleteButton.dataset.url, {
        method: "DELETE",
        credentials: "same-origin",
        headers: { "X-Delete-Token": deleteToken },
      }).then(function (response) {
        if (response.status === 204) {
          sessionStorage.removeItem("netpol-viz:delete:" + deleteButton.dataset.analysisId);
          window.location.assign(new URL("/", window.location.href).href);
        } else {
          deleteButton.textContent = "Delete failed (" + response.status + ")";
        }
      });
    });
  }

  bind("download-png", "click", function () {
    var canvas = NV.container.querySelector("canvas");
    if (!canvas) return;
    canvas.toBlob(function (blob) {
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "netpol-viz.png";
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(link.href); }, 10000);
    }, "image/png");
  });
})();
