/*
 * netpol-viz diagram page, the why / why not tool (#why): From and To are
 * type-ahead pickers (search.js's NV.picker: any node of the analysis; To
 * also takes an IP address), then port and protocol; asks the query API
 * (the form's data-query-url) and shows the verdict, then each side with
 * the rules that decide first and the rules that do not match folded away.
 * Only on the served analysis page (the offline export has no API). Uses
 * core and search (NV.picker, at load time); draw (NV.network, NV.nodes,
 * NV.edges) and address (NV.syncAddress) at run time. Provides NV.why
 * ({ask, askFor, set, pick, asked}) or null.
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var view = NV.view;
  var byId = NV.byId, bind = NV.bind, el = NV.el, clear = NV.clear, shown = NV.shown;
  var nameOf = NV.nameOf, sentence = NV.sentence;

  /** The why / why not tool: two node pickers, port and protocol, and the query API's answer. */
  function whyTool(section, form) {
    var result = byId("why-result");
    var nextPick = "from";
    var asked = 0;
    var question = null; // the last question asked: {from, to, port, protocol}
    var fromPicker = NV.picker(byId("why-from"), { limit: 50, fill: true });
    var toPicker = NV.picker(byId("why-to"), {
      limit: 50,
      fill: true,
      none: "no node matches: an IP address or CIDR is asked as typed",
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

    // A denying side's rules, nearest miss first: the peer matched but not the port.
    var MISS_ORDER = { "port-not-matched": 0, "named-port-missing": 1, "peer-not-matched": 2, "no-rules": 3 };

    function sideAllows(side) {
      if (NV.cluster && NV.cluster.sideDenied && NV.cluster.sideDenied(side)) return false;
      return !side.isolated || side.rules.some(function (check) { return check.reason === "matched"; });
    }

    /**
     * One side's isolation and rules. Where the side allows, the rules that match
     * decide and come first; the others are folded away. Where it denies, every
     * rule decides (none matches), each saying why, nearest miss first.
     */
    function sideBlock(answer, key) {
      var side = answer[key];
      var node = key === "egress" ? answer.source : answer.target;
      var allows = sideAllows(side);
      var box = el("div", "why-side why-" + key + (side.isolated ? " isolated" : " open") +
        (allows ? " allows" : " denies"));
      box.appendChild(el("h3", null, (key === "egress" ? "Egress from " : "Ingress to ") + nodeName(node)));
      var tiers = NV.cluster && NV.cluster.chainsBlock && NV.cluster.chainsBlock(side); // cluster.js
      if (tiers) box.appendChild(tiers);
      if (!side.isolated) {
        box.appendChild(el("p", "why-open", sentence(side.reasonText)));
        return box;
      }
      box.appendChild(el("p", null, "Isolated by " + side.policies.join(", ") +
        "; its rules allow " + side.portsText + "."));
      var list = el("ul", "why-rules");
      box.appendChild(list);
      if (!allows) {
        function miss(check) { return check.reason in MISS_ORDER ? MISS_ORDER[check.reason] : 9; }
        side.rules.slice().sort(function (a, b) { return miss(a) - miss(b); }).forEach(function (check) { list.appendChild(ruleItem(check)); });
        return box;
      }
      var others = [];
      side.rules.forEach(function (check) {
        if (check.reason === "matched") list.appendChild(ruleItem(check));
        else others.push(check);
      });
      if (others.length) {
        var fold = el("details", "why-unmatched");
        fold.appendChild(el("summary", null, others.length === 1
          ? "1 more rule, which does not match" : others.length + " more rules, which do not match"));
        var rest = el("ul", "why-rules");
        others.forEach(function (check) { rest.appendChild(ruleItem(check)); });
        fold.appendChild(rest);
        box.appendChild(fold);
      }
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
      // The side that refuses decides a denial: it comes first.
      var keys = ["egress", "ingress"];
      if (state === "denied" && sideAllows(answer.egress) && !sideAllows(answer.ingress)) keys.reverse();
      keys.forEach(function (key) { result.appendChild(sideBlock(answer, key)); });
      document.body.dataset.why = state;
      // denied.js draws a denied answer's pair in the diagram.
      document.dispatchEvent(new CustomEvent("netpol:why", { detail: { answer: answer } }));
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
      var from = fromPicker.value(), to = toPicker.value();
      if (!from || !to) {
        say("hint", "Choose a From and a To node first (or shift-click two nodes).");
        return;
      }
      var params = new URLSearchParams({ from: from, to: to });
      var port = byId("why-port").value.trim();
      var protocol = byId("why-protocol").value;
      if (port) params.set("port", port);
      if (protocol) params.set("protocol", protocol);
      question = { from: from, to: to, port: port, protocol: protocol };
      NV.syncAddress();
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
    function put(input, text, id) {
      input.value = text;
      if (id) input.dataset.nodeId = id;
      else delete input.dataset.nodeId;
    }

    bind("why-swap", "click", function () {
      var a = fromPicker.input, b = toPicker.input;
      var text = a.value, id = a.dataset.nodeId;
      put(a, b.value, b.dataset.nodeId);
      put(b, text, id);
      if (fromPicker.value() && toPicker.value()) ask();
    });

    /** Put a node (vis id) or a text (an id, ns/name or IP) into a picker. */
    function fill(picker, end) {
      var id = typeof end === "number" ? end : NV.visIdOf.get(end);
      if (id !== undefined) picker.set(id);
      else put(picker.input, end, null);
    }

    return {
      ask: ask,
      /** Ask about from -> to (node ids, or an IP address as `to`), as a deep link does. */
      askFor: function (from, to, port, protocol) {
        fill(fromPicker, from);
        fill(toPicker, to);
        byId("why-port").value = port || "";
        byId("why-protocol").value = protocol || "";
        ask();
      },
      /** The last question asked, for the address bar: {from, to, port, protocol} or null. */
      asked: function () { return question; },
      /** Set one end; with both set, ask (unless `quiet`). */
      set: function (end, id, quiet) {
        (end === "from" ? fromPicker : toPicker).set(id);
        nextPick = end === "from" ? "to" : "from";
        section.scrollIntoView({ block: "nearest" });
        if (!quiet && fromPicker.value() && toPicker.value()) ask();
      },
      /** Shift-click: the first node picked is From, the second To, then ask. */
      pick: function (id) {
        if (nextPick === "from") {
          fromPicker.set(id);
          toPicker.clear();
          nextPick = "to";
          say("hint", "From: " + shown(nameOf(id)) + ". Now shift-click the To node.");
          NV.network.selectNodes([id]);
        } else {
          toPicker.set(id);
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
