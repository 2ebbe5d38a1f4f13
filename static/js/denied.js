/*
 * netpol-viz diagram page, denied pairs: "denied" is more than a missing
 * arrow. Picking two nodes (the panel's "Compare with…" and then a click on
 * the other node, or shift-clicking two nodes) draws a pair that no flow
 * allows as a red dotted edge, labelled with the side that refuses. On the
 * served page the reason is the query API's answer, through the why tool
 * (which side refuses, the policies that isolate it, why no rule matched);
 * the offline export has no API, so there the reason says which side is
 * isolated, from the node data, and that the served page names the rules.
 * A pair that a flow allows shows that flow's rules instead. Uses core;
 * draw (NV.render, NV.nodes, NV.network), panel (NV.showPair, NV.showNode)
 * and why (NV.why, its "netpol:why" event) at run time. Provides NV.denied
 * and NV.deniedEdges (called by render).
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var details = NV.details, groupFlows = NV.groupFlows, state = NV.state;
  var el = NV.el, shown = NV.shown, nameOf = NV.nameOf, sentence = NV.sentence;

  var DENIED = "#c62828";
  var current = null; // {from, to, label, title, lines: [text], answer} of the pair drawn
  var waiting = null; // "compare with…": the first node, until the second is clicked
  var shiftFirst = null; // offline shift-click: the first node

  function edgeId(pair) {
    return "denied:" + pair.from + ">" + pair.to;
  }

  /** The flow (index) from node a's group to node b's, or -1: the pair is denied. */
  function flowBetween(a, b) {
    var target = details[b].g;
    var found = -1;
    NV.flowsFrom[details[a].g].some(function (k) {
      if (groupFlows[k].target === target) found = k;
      return found >= 0;
    });
    return found;
  }

  function policiesOf(id, direction) {
    var ids = (details[id].policies || {})[direction] || [];
    return ids.length ? ids.join(", ") : "a policy";
  }

  /** Offline: which side is isolated, from the nodes (the API says which rule is missing). */
  function fromNodes(from, to) {
    var egress = !!(details[from].isolated || {}).egress;
    var ingress = !!(details[to].isolated || {}).ingress;
    var lines = [];
    if (ingress) lines.push(nameOf(to) + " is isolated for ingress by " + policiesOf(to, "ingress") + ", and no ingress rule admits " + nameOf(from) + ".");
    if (egress) lines.push(nameOf(from) + " is isolated for egress by " + policiesOf(from, "egress") + ", and no egress rule lets it reach " + nameOf(to) + ".");
    if (ingress && egress) {
      lines[0] = nameOf(to) + " is isolated for ingress by " + policiesOf(to, "ingress") + ".";
      lines[1] = nameOf(from) + " is isolated for egress by " + policiesOf(from, "egress") + ".";
      lines.push("No pair of rules on both sides allows it; the served page's why tool names the rules that do not match.");
    }
    if (!lines.length) lines.push("Neither side is isolated, yet no flow joins them: such traffic is not analysed.");
    var refuses = ingress && egress ? "isolated on both sides" : ingress ? nameOf(to) + " refuses ingress" : egress ? nameOf(from) + " refuses egress" : "not analysed";
    return { label: "✕ denied: " + refuses, lines: lines };
  }

  function sideAllows(side) {
    if (NV.cluster && NV.cluster.sideDenied && NV.cluster.sideDenied(side)) return false;
    return !side.isolated || side.rules.some(function (check) { return check.reason === "matched"; });
  }

  /** From the query API's answer: the refusing side(s), the isolating policies and the rules. */
  function fromAnswer(from, to, answer) {
    var lines = [sentence(answer.sentence)];
    var refusing = [];
    [["egress", from], ["ingress", to]].forEach(function (pair) {
      var side = answer[pair[0]];
      if (!side || sideAllows(side)) return;
      refusing.push(pair[0] === "ingress" ? nameOf(to) + " refuses ingress" : nameOf(from) + " refuses egress");
      if (!side.isolated) return; // a cluster-wide Deny (its chain is the answer's sentence), not a NetworkPolicy
      lines.push(sentence((pair[0] === "ingress" ? "Ingress to " + nameOf(to) : "Egress from " + nameOf(from)) +
        " is isolated by " + side.policies.join(", ")));
      side.rules.forEach(function (check) {
        var head = check.rule === null ? check.policy + " (no " + check.direction + " rules)"
          : check.policy + " · spec." + check.direction + "[" + check.rule + "]";
        lines.push(head + ": " + sentence(check.reasonText));
      });
    });
    return { label: "✕ denied: " + (refusing.length ? refusing.join(", ") : "no rule allows it"), lines: lines };
  }

  /** Draw pair from -> to as denied, both ends drawn (their namespaces expanded). */
  function draw(from, to, reason, answer) {
    current = { from: from, to: to, label: reason.label, lines: reason.lines, answer: answer || null };
    current.title = nameOf(from) + " → " + nameOf(to) + "\n" + reason.lines.join("\n");
    [from, to].forEach(function (id) {
      if (NV.nodes.get(id)) return;
      state.expanded.add(details[id].cluster);
      state.openGroups.add(NV.groupKey(id)); // drawn as itself, not inside a box of alike nodes
    });
    if (state.focus !== null && state.focus !== from && state.focus !== to) NV.setFocus(null);
    NV.render();
    document.body.dataset.denied = edgeId(current);
  }

  function clearDenied() {
    if (current === null) return;
    current = null;
    delete document.body.dataset.denied;
    NV.render();
  }

  /** Two nodes picked: the flow's rules if one allows the pair, else the denied edge. */
  function compare(from, to) {
    if (from === to) {
      NV.showNode(from);
      return;
    }
    var k = flowBetween(from, to);
    if (k >= 0) {
      clearDenied();
      NV.showPair(from, to, k);
      return;
    }
    if (NV.why) {
      // The why tool asks the API; its answer ("netpol:why") draws the edge with the reason.
      NV.why.set("from", from, true);
      NV.why.set("to", to);
      return;
    }
    draw(from, to, fromNodes(from, to));
    show(NV.byId("details"), null);
  }

  document.addEventListener("netpol:why", function (event) {
    var answer = event.detail.answer;
    var from = NV.visIdOf.get(answer.source && answer.source.id);
    var to = NV.visIdOf.get(answer.target && answer.target.id);
    if (from === undefined || to === undefined || from === to) return;
    if (answer.analysed === false || answer.allowed) {
      if (current && current.from === from && current.to === to) clearDenied();
      return;
    }
    draw(from, to, fromAnswer(from, to, answer), answer);
  });

  /** Render's hook: the denied pair's edge, when both its ends are drawn. */
  function deniedEdges(wantNodes, wantEdges) {
    if (current === null || !wantNodes.has(current.from) || !wantNodes.has(current.to)) return;
    wantEdges.push({
      id: edgeId(current),
      from: current.from,
      to: current.to,
      label: current.label,
      title: current.title,
      keepLabel: true,
      dashes: [2, 6],
      width: 2.5,
      arrows: { to: { enabled: true, type: "bar", scaleFactor: 0.8 } },
      color: { color: DENIED, highlight: DENIED, hover: DENIED },
      font: { color: "#b71c1c", strokeWidth: 4, strokeColor: "#ffffff" },
      smooth: { enabled: true, type: "curvedCCW", roundness: 0.2 },
    });
  }

  /** The side panel of the denied pair; `clearPanel(title)` empties it (null: the panel's own). */
  function show(panel, clearPanel) {
    if (current === null) return;
    var title = nameOf(current.from) + " ✕ " + nameOf(current.to);
    if (clearPanel) {
      clearPanel(title);
    } else {
      NV.clear(panel);
      panel.appendChild(el("h2", "panel-title", title));
    }
    var verdict = el("p", "why-verdict denied");
    verdict.appendChild(el("strong", null, "Denied"));
    verdict.appendChild(el("span", null, " " + current.label.replace(/^✕ denied: /, "") + "."));
    panel.appendChild(verdict);
    var list = el("ul", "denied-reasons");
    current.lines.forEach(function (line) { list.appendChild(el("li", null, line)); });
    panel.appendChild(list);
    if (!current.answer && !NV.why) {
      panel.appendChild(el("p", "hint", "This offline copy cannot ask the server; open the served page for the rules that do not match."));
    }
  }

  NV.denied = {
    compareFrom: function (id) {
      waiting = id;
      var panel = NV.byId("details");
      var note = el("p", "compare-hint", "Now click the node to compare " + shown(nameOf(id)) + " with.");
      panel.insertBefore(note, panel.children[1] || null);
    },
    /** Whether a click on node id completed a "compare with…" (and was used for it). */
    picked: function (id) {
      if (waiting === null || typeof id !== "number") return false;
      var from = waiting;
      waiting = null;
      compare(from, id);
      return true;
    },
    shiftPick: function (id) {
      if (shiftFirst === null) {
        shiftFirst = id;
        NV.network.selectNodes([id]);
        return;
      }
      var from = shiftFirst;
      shiftFirst = null;
      compare(from, id);
    },
    compare: compare,
    clear: clearDenied,
    isDenied: function (id) { return current !== null && id === edgeId(current); },
    show: show,
    /** The denied pair drawn: {from, to, label, lines} or null (for tests). */
    current: function () { return current && { from: current.from, to: current.to, label: current.label, lines: current.lines.slice() }; },
  };
  NV.deniedEdges = deniedEdges;
})();
