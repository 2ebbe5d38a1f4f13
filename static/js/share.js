/*
 * netpol-viz diagram page, sharing: copy the share link; right after an
 * upload, the delete token shown once (upload.js leaves it for this page in
 * sessionStorage, and this page takes the "show once" mark away before
 * showing it, so a reload does not show it again); delete the analysis, from
 * this tab (which keeps the token for the session) or from any browser with
 * a pasted token. Uses core. The PNG and SVG downloads are export.js.
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var byId = NV.byId, bind = NV.bind;

  /** Put `text` on the clipboard; else select what `select()` selects and ask for Ctrl+C. */
  function copy(text, status, select) {
    function done(message) { if (status) status.textContent = message; }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done("copied"); }, function () {
        select();
        done("press Ctrl+C to copy");
      });
    } else {
      select();
      done(document.execCommand("copy") ? "copied" : "press Ctrl+C to copy");
    }
  }

  bind("copy-link", "click", function () {
    var input = byId("share-url");
    input.value = new URL(input.value, window.location.href).href;
    copy(input.value, byId("copy-status"), function () { input.select(); });
  });

  // --- the delete token -------------------------------------------------------------

  var meta = byId("analysis-meta");
  var analysisId = meta && meta.dataset.analysisId;
  var deleteUrl = meta && meta.dataset.deleteUrl;
  var TOKEN_KEY = "netpol-viz:delete:" + analysisId;
  var SHOW_KEY = "netpol-viz:show-token:" + analysisId;

  function stored(key) {
    try {
      return sessionStorage.getItem(key);
    } catch (ignored) { /* storage disabled */ }
    return null;
  }

  function forget(key) {
    try {
      sessionStorage.removeItem(key);
    } catch (ignored) { /* storage disabled */ }
  }

  /** DELETE the analysis with `token`; 204 sends the browser home, anything else is said in `status`. */
  function deleteWith(token, status) {
    function say(text) { if (status) status.textContent = text; }
    say("deleting…");
    fetch(deleteUrl, {
      method: "DELETE",
      credentials: "same-origin",
      headers: { "X-Delete-Token": token },
    }).then(function (response) {
      if (response.status === 204) {
        forget(TOKEN_KEY);
        say("deleted: the share link no longer works");
        document.body.dataset.deleted = "1";
        window.location.assign(new URL("/", window.location.href).href);
      } else if (response.status === 403) {
        say("this token does not delete this analysis");
      } else if (response.status === 404) {
        say("this analysis does not exist any more");
      } else {
        say("the delete failed (the server answered " + response.status + ")");
      }
    }, function (error) {
      say("the delete failed: " + error.message);
    });
  }

  var token = analysisId ? stored(TOKEN_KEY) : null;
  var box = byId("token-box");
  if (box && token && stored(SHOW_KEY)) {
    forget(SHOW_KEY); // once: a reload of this page finds no mark
    var apiUrl = new URL(deleteUrl, window.location.href).href;
    byId("delete-token").textContent = token;
    byId("delete-command").textContent =
      "curl -X DELETE -H 'X-Delete-Token: " + token + "' '" + apiUrl + "'";
    box.hidden = false;
    bind("copy-token", "click", function () {
      copy(token, byId("token-status"), function () {
        var range = document.createRange();
        range.selectNodeContents(byId("delete-token"));
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
      });
    });
    bind("dismiss-token", "click", function () { box.hidden = true; });
  }

  // This tab's Delete button: for whoever uploaded from it (upload.js keeps the token).
  var deleteButton = byId("delete-analysis");
  if (deleteButton && token) {
    deleteButton.hidden = false;
    var armed = false;
    deleteButton.addEventListener("click", function () {
      if (!armed) {
        armed = true;
        deleteButton.textContent = "Delete for everyone? Click again";
        return;
      }
      deleteWith(token, byId("copy-status"));
    });
  }

  // From any browser: paste the token.
  var form = byId("delete-form");
  if (form && deleteUrl) {
    form.closest(".delete-with-token").hidden = false;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var pasted = byId("delete-token-input").value.trim();
      if (!pasted) {
        byId("delete-status").textContent = "paste the delete token first";
        return;
      }
      deleteWith(pasted, byId("delete-status"));
    });
  }
})();
