/*
 * netpol-viz diagram page, the why / why not tool (#why): From and To node
 * pickers, port and protocol; asks the query API (the form's data-query-url)
 * and shows the verdict, each side's isolation and every rule checked. Only
 * on the served analysis page (the offline export has no API). Uses core;
 * draw (NV.network, NV.nodes, NV.edges) at run time. Provides NV.why
 * ({ask, set, pick}) or null.
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var view = NV.view, details = NV.details;
  var byId = NV.byId, bind = NV.bind, el = NV.el, clear = NV.clear, shown = NV.shown;
  var nameOf = NV.nameOf, sentence = NV.sentence;

  /** The why / why not tool: two node lists, port and protocol, and the query API's answer. */
  function whyTool(section, form) {
    var fromList = byId("why-from");
    var toList = byId("why-to");
    var result = byId("why-result");
    var nextPick = "from";
    var asked = 0;

    function optionText(id) {
      var d = details[id];
      if (d.type === "ipblock") return nameOf(id) + " (external)";
      if (d.type === "inferred") return nameOf(id) + " (inferred)";
      return nameOf(id);
    }

    var order = details.map(function (_, i) { return i; }).sort(function (a, b) {
      var left = optionText(a), right = optionText(b);
      return left < right ? -1 : left > right ? 1 : 0;
    });
    [fromList, toList].forEach(function (list) {
      var fragment = document.createDocumentFragment();
      order.forEach(function (id) {
        var option = document.createElement("option");
        option.value = details[id].id;
        option.textContent = shown(optionText(id));
        fragment.appendChild(option);
      });
      list.appendChild(fragment);
    });
    section.hidden = false;

    function say(className, text) {
      clear(result);
      result.appendChild(el("p", className, text));
    }

    function nodeName(ref) {
      var index = NV.visIdOf.get(ref.id);
      return index !== undefined ? nameOf(index) : ref.name;
    }

    function excerpt(check) {
      var index = NV.policyIndex.get(check.policy);
      if (index === undefined || check.rule === null) return null;
      var rule = (view.policies[index].rules[check.direction] || [])[check.rule];
      if (!rule || !rule.text) return null;
      var box = el("details", "why-excerpt");
      box.appendChild(el("summary", null, "YAML"));
      var pre = el("pre", "yaml");
      pre.textContent = NV.shownBlock(rule.text);
      box.appendChild(pre);
      return box;
    }

    function ruleItem(check) {
      var matched = check.reason === "matched";
      var item = el("li", "why-rule " + (matched ? "matched" : "unmatched"));
      var head = check.rule === null
        ? check.policy + " (no " + check.direction + " rules)"
        : check.policy + " · spec." + check.direction + "[" + check.rule + "]";
      item.appendChild(el("span", "rule-head", head));
      var where = check.source && check.source.file
        ? check.source.file + (check.source.line ? ":" + check.source.line : "") : null;
      if (where) item.appendChild(el("span", "rule-where", where));
      var text = matched ? "Allows " + check.portsText + "." : sentence(check.reasonText);
      if (check.missingPorts && check.missingPorts.length) {
        text += " Missing: " + check.missingPorts.join(", ") + ".";
      } else if (check.reason === "port-not-matched") {
        text += " It allows " + check.portsText + ".";
      }
      item.appendChild(el("span", "why-reason", text));
      item.appendChild(el("code", "reason-code", check.reason));
      var yaml = excerpt(check);
      if (yaml) item.appendChild(yaml);
      return item;
    }

    function sideBlock(answer, key) {
      var side = answer[key];
      var node = key === "egress" ? answer.source : answer.target;
      var box = el("div", "why-side why-" + key + (side.isolated ? " isolated" : " open"));
      box.appendChild(el("h3", null, (key === "egress" ? "Egress from " : "Ingress to ") + nodeName(node)));
      if (!side.isolated) {
        box.appendChild(el("p", "why-open", sentence(side.reasonText)));
        return box;
      }
      box.appendChild(el("p", null, "Isolated by " + side.policies.join(", ") +
        "; its rules allow " + side.portsText + "."));
      var list = el("ul", "why-rules");
      side.rules.forEach(function (check) { list.appendChild(ruleItem(check)); });
      box.appendChild(list);
      return box;
    }

    /** Remarks that hold whatever the verdict (a hostNetwork end uses its node's address). */
    function notesBlock(answer) {
      var ends = {};
      ends[answer.source.id] = answer.source;
      ends[answer.target.id] = answer.target;
      var list = el("ul", "why-notes");
      (answer.notes || []).forEach(function (note) {
        var item = el("li", "why-note", nodeName(ends[note.node] || { id: note.node, name: note.node }) +
          ": " + sentence(note.text));
        item.dataset.code = note.code;
        list.appendChild(item);
      });
      return list.childNodes.length ? list : null;
    }

    function show(answer) {
      clear(result);
      // Traffic between external addresses is not analysed: say so rather than "denied".
      var state = answer.analysed === false ? "not-analysed" : answer.allowed ? "allowed" : "denied";
      var verdict = el("p", "why-verdict " + state);
      if (answer.self) verdict.dataset.self = answer.self;
      verdict.appendChild(el("strong", null,
        { allowed: "Allowed", denied: "Denied", "not-analysed": "Not analysed" }[state]));
      verdict.appendChild(el("span", null, " " + sentence(answer.sentence)));
      result.appendChild(verdict);
      var notes = notesBlock(answer);
      if (notes) result.appendChild(notes);
      result.appendChild(sideBlock(answer, "egress"));
      result.appendChild(sideBlock(answer, "ingress"));
      document.body.dataset.why = state;
    }

    function refused(answer, status) {
      say("error-message", answer.error || "The server answered " + status + ".");
      if (answer.candidates && answer.candidates.length) {
        result.appendChild(el("p", "hint", "Close names: " + answer.candidates.join(", ")));
      }
      document.body.dataset.why = "error";
    }

    function selectPair(from, to) {
      var pair = [NV.visIdOf.get(from), NV.visIdOf.get(to)].filter(function (id) {
        return id !== undefined && NV.nodes.get(id);
      });
      var between = NV.outEdges[NV.visIdOf.get(from)] || [];
      var edge = between.filter(function (edgeId) {
        return NV.edgeById.get(edgeId).edge.to === NV.visIdOf.get(to) && NV.edges.get(edgeId);
      });
      NV.network.setSelection({ nodes: pair, edges: edge }, { unselectAll: true, highlightEdges: false });
    }

    function ask() {
      var from = fromList.value, to = toList.value;
      if (!from || !to) {
        say("hint", "Choose a From and a To node first (or shift-click two nodes).");
        return;
      }
      var params = new URLSearchParams({ from: from, to: to });
      var port = byId("why-port").value.trim();
      var protocol = byId("why-protocol").value;
      if (port) params.set("port", port);
      if (protocol) params.set("protocol", protocol);
      var ticket = ++asked;
      say("hint", "Asking…");
      document.body.dataset.why = "asking";
      selectPair(from, to);
      fetch(form.dataset.queryUrl + "?" + params.toString(), {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      })
        .then(function (response) {
          return response.json().then(
            function (answer) { return { response: response, answer: answer }; },
            function () { return { response: response, answer: {} }; }
          );
        })
        .then(function (reply) {
          if (ticket !== asked) return; // a newer question was asked meanwhile
          if (reply.response.ok) show(reply.answer);
          else refused(reply.answer, reply.response.status);
        })
        .catch(function (error) {
          if (ticket === asked) refused({ error: "The question failed: " + error.message }, 0);
        });
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      ask();
    });
    bind("why-swap", "click", function () {
      var from = fromList.value;
      fromList.value = toList.value;
      toList.value = from;
      if (fromList.value && toList.value) ask();
    });

    return {
      ask: ask,
      /** Set one end; with both set, ask (unless `quiet`). */
      set: function (end, id, quiet) {
        (end === "from" ? fromList : toList).value = details[id].id;
        nextPick = end === "from" ? "to" : "from";
        section.scrollIntoView({ block: "nearest" });
        if (!quiet && fromList.value && toList.value) ask();
      },
      /** Shift-click: the first node picked is From, the second To, then ask. */
      pick: function (id) {
        if (nextPick === "from") {
          fromList.value = details[id].id;
          toList.value = "";
          nextPick = "to";
          say("hint", "From: " + shown(nameOf(id)) + ". Now shift-click the To node.");
          NV.network.selectNodes([id]);
        } else {
          toList.value = details[id].id;
          nextPick = "from";
          ask();
        }
      },
    };
  }

  var whySection = byId("why");
  var whyForm = byId("why-form");
  var why = whySection && whyForm && whyForm.dataset.queryUrl ? whyTool(whySection, whyForm) : null;
  NV.why = why;
})();
