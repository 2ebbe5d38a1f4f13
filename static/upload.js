/*
 * netpol-viz upload page: drag and drop onto the file picker, then send the
 * files and the pasted text to the JSON API and open the returned share link,
 * which shows the delete token once (handed over in sessionStorage).
 * Without JavaScript the same form posts to /upload and the server redirects.
 * Names and messages are put into the page with textContent only.
 */
(function () {
  "use strict";

  var form = document.getElementById("upload-form");
  var input = document.getElementById("manifests");
  if (!form || !input) return;
  var zone = document.getElementById("drop-zone");
  var fileList = document.getElementById("file-list");
  var text = document.getElementById("text");
  var errorBox = document.getElementById("upload-error");
  var submit = document.getElementById("analyse");

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content !== undefined && content !== null) node.textContent = String(content);
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  function listFiles() {
    clear(fileList);
    Array.prototype.forEach.call(input.files, function (file) {
      fileList.appendChild(el("li", null, file.name + " (" + Math.max(1, Math.round(file.size / 1024)) + " KiB)"));
    });
  }

  function showError(message, problems) {
    clear(errorBox);
    errorBox.appendChild(el("p", "error-message", message));
    if (problems && problems.length) {
      var list = el("ul", "problem-list");
      problems.forEach(function (p) {
        var where = [p.file, p.line ? "line " + p.line : null, p.path].filter(Boolean).join(", ");
        list.appendChild(el("li", "problem", (where ? where + ": " : "") + p.message));
      });
      errorBox.appendChild(list);
    }
    errorBox.hidden = false;
    errorBox.scrollIntoView({ block: "nearest" });
  }

  input.addEventListener("change", listFiles);

  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  });
  ["dragleave", "dragend"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("dragging");
    var files = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (file) { files.items.add(file); });
    Array.prototype.forEach.call(event.dataTransfer.files, function (file) { files.items.add(file); });
    input.files = files.files;
    listFiles();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = new FormData();
    Array.prototype.forEach.call(input.files, function (file) { body.append("manifests", file, file.name); });
    if (text.value.trim()) {
      body.append("manifests", new Blob([text.value], { type: "application/yaml" }), "pasted.yaml");
    }
    if (!body.has("manifests")) {
      showError("Choose or drop files, or paste manifests, first.");
      return;
    }
    errorBox.hidden = true;
    submit.disabled = true;
    var label = submit.textContent;
    submit.textContent = "Analysing…";
    fetch(form.dataset.api, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(
          function (answer) { return { response: response, answer: answer }; },
          function () { return { response: response, answer: {} }; }
        );
      })
      .then(function (result) {
        var answer = result.answer;
        if (result.response.status === 201 && typeof answer.url === "string") {
          var target = new URL(answer.url, window.location.href);
          if (target.origin !== window.location.origin) {
            throw new Error("the server answered with a link to another site");
          }
          try {
            // For the diagram page (static/js/share.js): the token for this tab's Delete
            // button, and a mark that it should show the token once.
            if (answer.deleteToken) {
              sessionStorage.setItem("netpol-viz:delete:" + answer.id, answer.deleteToken);
              sessionStorage.setItem("netpol-viz:show-token:" + answer.id, "1");
            }
          } catch (ignored) { /* storage disabled: the token is simply not kept */ }
          window.location.assign(target.href);
          return;
        }
        showError(answer.error || "The server answered " + result.response.status + ".", answer.problems);
      })
      .catch(function (error) {
        showError("The upload failed: " + error.message);
      })
      .finally(function () {
        submit.disabled = false;
        submit.textContent = label;
      });
  });
})();
