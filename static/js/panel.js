/*
 * netpol-viz diagram page, the side panel (#details): a node (its facts and
 * every node it reaches and is reached by, with ports, over the whole
 * analysis), a pair of nodes with the rules that allow it, an aggregated
 * arrow, a namespace, a box of alike nodes, the fold of namespaces not
 * drawn, an open-traffic arrow (open.js) and a denied pair (denied.js, whose
 * "Compare with…" takes the next node clicked). Showing a node makes it the selected one
 * (state.selected, which the address bar follows). Uses core; draw
 * (NV.nodes, NV.drawn, NV.representative, NV.reveal, NV.expand,
 * NV.collapse), filters (NV.setFocus), why (NV.why) and address
 * (NV.syncAddress) at run time. Provides NV.select, NV.showNode,
 * NV.showEdge, NV.showPair, NV.showCluster, NV.changeClass, and for other
 * modules' panels (findings.js) NV.clearPanel, NV.addFacts.
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var view = NV.view, details = NV.details, clusters = NV.clusters;
  var groups = NV.groups, groupFlows = NV.groupFlows;
  var el = NV.el, button = NV.button, plural = NV.plural, shown = NV.shown;
  var nameOf = NV.nameOf, labelOf = NV.labelOf, sentence = NV.sentence;

  var panel = NV.byId("details");

  /** Empty the panel for something new; `selected` is the node it shows, or null. The panel. */
  function clearPanel(title, selected) {
    while (panel.firstChild) panel.removeChild(panel.firstChild);
    panel.appendChild(el("h2", "panel-title", title));
    NV.state.selected = selected === undefined ? null : selected;
    NV.syncAddress();
    return panel;
  }

  function addFacts(pairs) {
    var list = el("dl", "facts");
    pairs.forEach(function (pair) {
      if (pair[1] === null || pair[1] === undefined || pair[1] === "") return;
      list.appendChild(el("dt", null, pair[0]));
      var value = pair[1] instanceof Node ? pair[1] : el("span", null, pair[1]);
      var dd = el("dd");
      dd.appendChild(value);
      list.appendChild(dd);
    });
    panel.appendChild(list);
  }

  function tagList(items) {
    var list = el("ul", "tags");
    items.forEach(function (item) { list.appendChild(el("li", null, item)); });
    return list;
  }

  var LIST_LIMIT = 100;
  /** A node's reach lists show this many peers, then "show all". */
  var REACH_FOLD = 25;

  function select(id) {
    if (NV.denied && NV.denied.picked(id)) return; // "compare with…" was waiting for this node
    if (id === NV.MORE) {
      showFold();
    } else if (typeof id === "string" && NV.drawn.boxes.has(id)) {
      showBox(id);
    } else if (typeof id === "string") {
      showCluster(NV.clusterOfId(id));
    } else {
      showNode(id);
    }
  }

  /** A box of alike nodes: what they share, and each node (its own panel on click). */
  function showBox(key) {
    var members = NV.drawn.boxes.get(key);
    clearPanel("×" + members.length + " alike nodes in " + clusters[details[members[0]].cluster].title);
    panel.appendChild(el("p", null, "Every policy treats these nodes alike: each reaches, and is reached by, " +
      "the same nodes on the same ports. Select one for its reach lists."));
    var actions = el("p", "actions");
    actions.appendChild(button("Draw them one by one", function () { NV.openGroup(key); }, "small"));
    panel.appendChild(actions);
    var list = el("ul", "peers");
    members.slice(0, LIST_LIMIT).forEach(function (id) {
      var item = el("li", "peer");
      item.appendChild(button(nameOf(id), function () { NV.reveal(id); }));
      list.appendChild(item);
    });
    if (members.length > LIST_LIMIT) list.appendChild(el("li", "hint", "and " + (members.length - LIST_LIMIT) + " more"));
    panel.appendChild(list);
  }

  /** The namespaces folded into the "more" box, each with its counts. */
  function showFold() {
    var folded = NV.drawn.folded;
    clearPanel("+" + plural(folded.length, "more namespace"));
    panel.appendChild(el("p", null, "Not drawn one by one, so that the text of the drawing stays readable. " +
      "Every count, reach list and search includes them."));
    var actions = el("p", "actions");
    actions.appendChild(button("Draw them all", function () { NV.unfold(); }, "small"));
    panel.appendChild(actions);
    var list = el("ul", "peers");
    folded.forEach(function (c) {
      var item = el("li", "peer");
      item.appendChild(button(clusters[c].title, function () { showCluster(c); }));
      item.appendChild(el("span", "legend-count", " " + plural(clusters[c].members.length, "node")));
      list.appendChild(item);
    });
    panel.appendChild(list);
  }

  /**
   * Every node node id reaches (forward) or is reached by, with the ports, over the
   * whole analysis: flows that a rule allows first, then those open by default;
   * folded after REACH_FOLD behind "show all".
   */
  function peerList(title, id, forward) {
    var count = NV.reachCountOf(id, forward);
    var section = el("section", "reach");
    section.setAttribute("data-testid", forward ? "reach-out" : "reach-in");
    section.setAttribute("data-count", String(count));
    section.appendChild(el("h3", null, title + " (" + count + ")"));
    panel.appendChild(section);
    if (!count) {
      section.appendChild(el("p", "hint", "nothing"));
      return;
    }
    var peers = NV.peersOf(id, forward, Infinity);
    peers.sort(function (a, b) {
      var byDefault = (groupFlows[a.flow].defaultAllow ? 1 : 0) - (groupFlows[b.flow].defaultAllow ? 1 : 0);
      if (byDefault) return byDefault;
      var left = nameOf(a.peer), right = nameOf(b.peer);
      return left < right ? -1 : left > right ? 1 : 0;
    });
    var list = el("ul", "peers");
    function addItems(from, to) {
      var fragment = document.createDocumentFragment();
      peers.slice(from, to).forEach(function (found) { fragment.appendChild(peerItem(id, forward, found)); });
      list.appendChild(fragment);
    }
    addItems(0, REACH_FOLD);
    section.appendChild(list);
    if (peers.length > REACH_FOLD) {
      var more = button("show all " + peers.length, function () {
        more.remove();
        addItems(REACH_FOLD, peers.length);
      }, "link-button show-all");
      section.appendChild(more);
    }
  }

  function peerItem(id, forward, found) {
    var flow = groupFlows[found.flow];
    var from = forward ? id : found.peer, to = forward ? found.peer : id;
    var item = el("li", flow.defaultAllow ? "peer by-default" : "peer");
    item.appendChild(button(nameOf(found.peer), function () { NV.reveal(found.peer); }));
    item.appendChild(el("span", "ports", " " + (flow.ports || [flow.label]).join(", ")));
    if (flow.defaultAllow) item.appendChild(el("span", "by-default-tag", " open by default"));
    if (flow.change && flow.change !== "unchanged") {
      item.appendChild(el("span", "diff-tag diff-" + changeClass(flow.change), " " + flow.change));
    }
    item.appendChild(button("why?", function () { showPair(from, to, found.flow); }, "link-button why"));
    return item;
  }

  function showNode(id) {
    var d = details[id];
    clearPanel(d.name, id);
    var isolated = d.isolated || {};
    var policies = d.policies || {};
    var labels = Object.keys(d.labels || {}).map(function (k) { return k + "=" + d.labels[k]; });
    var source = d.source && d.source.file ? d.source.file + (d.source.line ? ":" + d.source.line : "") : null;
    var kind = d.type === "workload" ? d.kind : d.type === "inferred" ? "inferred (no uploaded object describes these pods)"
      : (NV.cluster && NV.cluster.kindText(d)) || "external addresses";
    var external = d.type === "ipblock" || !!(NV.cluster && NV.cluster.symbolic(d));
    addFacts([
      ["Namespace", external ? null : (d.namespace === null || d.namespace === undefined ? "any" : d.namespace)],
      ["Kind", kind],
      ["Pods", d.type === "workload" ? String(d.pods) : null],
      ["Addresses", d.cidrs && d.cidrs.length ? tagList(d.cidrs) : null],
      ["Selector", d.selector || null],
      ["Labels", labels.length ? tagList(labels) : (external ? null : "none")],
      ["Ports", d.ports && d.ports.length ? tagList(d.ports.map(function (p) {
        return (p.name ? p.name + " " : "") + p.protocol + " " + p.port;
      })) : null],
      ["Ingress", external ? null : isolationText(isolated.ingress, policies.ingress, "ingress")],
      ["Egress", external ? null : isolationText(isolated.egress, policies.egress, "egress")],
    ].concat(NV.cluster && NV.cluster.nodeFacts ? NV.cluster.nodeFacts(d) : [], [["Source", source]]));
    if (d.change) {
      panel.appendChild(el("p", "diff-note diff-" + d.change, d.change === "added"
        ? "Added: only the after version has it."
        : "Removed: only the before version had it."));
    }
    var actions = el("p", "actions");
    if (NV.state.focus === id) {
      actions.appendChild(button("Show everything again", function () { NV.setFocus(null); }, "small"));
    } else {
      actions.appendChild(button("Focus on its neighbourhood", function () { NV.setFocus(id); }, "small"));
    }
    if (NV.nodes.get(id)) {
      actions.appendChild(button("Collapse its namespace", function () { NV.collapse(d.cluster); }, "small"));
    }
    if (NV.denied) {
      actions.appendChild(button("Compare with…", function () { NV.denied.compareFrom(id); }, "small"));
    }
    if (NV.why) {
      actions.appendChild(button("Why / why not from here", function () { NV.why.set("from", id); }, "small"));
      actions.appendChild(button("… to here", function () { NV.why.set("to", id); }, "small"));
    }
    panel.appendChild(actions);
    peerList("Can reach", id, true);
    peerList("Can be reached by", id, false);
    panel.appendChild(el("p", "hint",
      "In any number of hops it reaches " + plural(NV.reachCount(id, true), "node") +
      " and is reached from " + plural(NV.reachCount(id, false), "node") + "."));
  }

  function isolationText(isolated, policyIds, direction) {
    if (!isolated) {
      return "not isolated: " + (direction === "ingress" ? "open to every pod and address" : "may reach anything");
    }
    var ids = policyIds || [];
    return "isolated by " + (ids.length ? ids.join(", ") : "a policy") + ": only what a rule allows";
  }

  /** One allowing rule: ref is [policy index, rule index, line] (see render._rule_refs). */
  function ruleBlock(ref, direction) {
    var policy = view.policies[ref[0]];
    var rules = policy.rules[direction] || [];
    var rule = rules[ref[1]] || null;
    var block = el("div", "rule");
    block.appendChild(el("p", "rule-head", NV.cluster && NV.cluster.ruleHead ? NV.cluster.ruleHead(ref[0], ref[1], direction)
      : policy.id + " · spec." + direction + "[" + ref[1] + "]"));
    var line = ref[2] || (rule && rule.line);
    if (policy.file) {
      block.appendChild(el("p", "rule-where", policy.file + (line ? ":" + line : "") +
        (rule && rule.endLine && rule.endLine !== line ? "-" + rule.endLine : "")));
    }
    if (rule && rule.text) {
      var pre = el("pre", "yaml");
      pre.textContent = NV.shownBlock(rule.text);
      block.appendChild(pre);
    }
    return block;
  }

  function showEdge(edgeId) {
    var open = NV.drawn.open.get(edgeId);
    if (open) {
      clearPanel(labelOf(open.from) + " → " + labelOf(open.to));
      NV.showOpenArrow(panel, open);
      return;
    }
    if (NV.cluster && NV.cluster.showEdge && NV.cluster.showEdge(edgeId, clearPanel)) return; // a tier's denial
    if (NV.denied && NV.denied.isDenied(edgeId)) {
      NV.denied.show(panel, clearPanel);
      return;
    }
    var pair = NV.drawn.pairs.get(edgeId);
    if (pair) {
      showPair(pair.from, pair.to, pair.flow);
      return;
    }
    if (typeof edgeId === "string") {
      showAggregate(edgeId);
      return;
    }
    var entry = NV.edgeById.get(edgeId);
    if (entry) showFlow(entry);
  }

  /** The pair from -> to that flow k allows: its drawn arrow if there is one. */
  function showPair(from, to, k) {
    var arrows = NV.outEdges[from].filter(function (edgeId) { return NV.edgeById.get(edgeId).edge.to === to; });
    if (arrows.length) {
      showEdge(arrows[0]);
      return;
    }
    var flow = groupFlows[k];
    showFlow({ edge: { from: from, to: to, label: flow.label }, info: flow });
  }

  /** The side panel of one pair of nodes: entry is {edge: {from, to, label}, info}. */
  function showFlow(entry) {
    var edge = entry.edge, info = entry.info;
    clearPanel(nameOf(edge.from) + " → " + nameOf(edge.to));
    if (info.change) panel.appendChild(diffNote(entry));
    addFacts([["Ports", tagList(NV.portsOf(entry))]]);
    if (NV.why) {
      var ask = el("p", "actions");
      ask.appendChild(button("Why / why not, for one port", function () {
        NV.why.set("from", edge.from, true);
        NV.why.set("to", edge.to, true);
        NV.byId("why-port").focus();
      }, "small"));
      panel.appendChild(ask);
    }
    if (info.defaultAllow) {
      panel.appendChild(el("p", "by-default-note",
        "Open by default: no policy isolates " + shown(nameOf(edge.from)) + " for egress or " +
        shown(nameOf(edge.to)) + " for ingress, and Kubernetes allows all traffic between pods that are not isolated."));
      return;
    }
    [["egress", edge.from], ["ingress", edge.to]].forEach(function (pair) {
      var direction = pair[0], end = pair[1];
      panel.appendChild(el("h3", null, direction === "egress"
        ? "Egress from " + nameOf(end) : "Ingress to " + nameOf(end)));
      var refs = info[direction];
      if (!refs.length) {
        panel.appendChild(el("p", "hint", nameOf(end) + " is not isolated for " + direction + ": all " + direction + " is allowed."));
        return;
      }
      var chain = NV.cluster && NV.cluster.chain && NV.cluster.chain(refs, direction); // through a Pass
      if (chain) panel.appendChild(chain);
      refs.forEach(function (ref) { panel.appendChild(ruleBlock(ref, direction)); });
    });
  }

  function changeClass(change) {
    return change === "widened" || change === "narrowed" ? "changed" : change;
  }

  function diffNote(entry) {
    var info = entry.info;
    var text = {
      added: "Added: the after version allows this flow; the before version did not.",
      removed: "Removed: the before version allowed this flow; the after version does not.",
      unchanged: "Unchanged: both versions allow it on the same ports.",
    }[info.change];
    if (info.external) {
      // An address block's edge: which addresses this workload gained or lost behind it.
      text = sentence("External access " + info.change + ": " + info.external.join("; "));
    } else if (!text) {
      var after = (info.ports || [entry.edge.label.split(" → ").pop()]).join(", ");
      text = sentence(info.change + ": before " + (info.before || []).join(", ") + " → after " + after);
    }
    return el("p", "diff-note diff-" + changeClass(info.change), text);
  }

  function showAggregate(key) {
    var group = NV.drawn.aggregates.get(key);
    if (!group) return;
    clearPanel(labelOf(group.from) + " → " + labelOf(group.to));
    panel.appendChild(el("p", null, plural(group.pairs, "flow") + " between pairs of nodes" +
      (group.defaultAllow ? ", " + group.defaultAllow + " open by default" : "") + "."));
    var visible = NV.drawn.visible;
    function behind(rep) {
      return function (id) { return visible.has(id) && NV.representative(id, visible) === rep; };
    }
    var list = el("ul", "peers");
    var listed = 0;
    group.flows.some(function (k) {
      var flow = groupFlows[k];
      var targets = groups[flow.target].filter(behind(group.to));
      return groups[flow.source].filter(behind(group.from)).some(function (from) {
        return targets.some(function (to) {
          if (from === to) return false;
          var item = el("li", flow.defaultAllow ? "peer by-default" : "peer");
          item.appendChild(button(nameOf(from) + " → " + nameOf(to), function () { showPair(from, to, k); }));
          item.appendChild(el("span", "ports", " " + (flow.ports || [flow.label]).join(", ")));
          list.appendChild(item);
          listed += 1;
          return listed >= LIST_LIMIT;
        });
      });
    });
    if (group.pairs > listed) list.appendChild(el("li", "hint", "and " + (group.pairs - listed) + " more"));
    panel.appendChild(list);
  }

  function showCluster(c) {
    var cluster = clusters[c];
    clearPanel(cluster.title);
    addFacts([
      ["Workloads", String(cluster.workloads)],
      ["Pods", String(cluster.pods)],
      ["Nodes", String(cluster.members.length)],
    ]);
    var actions = el("p", "actions");
    actions.appendChild(button("Expand", function () { NV.expand(c); }, "small"));
    panel.appendChild(actions);
    var list = el("ul", "peers");
    cluster.members.slice(0, LIST_LIMIT).forEach(function (id) {
      var item = el("li", "peer");
      item.appendChild(button(details[id].name, function () { NV.reveal(id); }));
      list.appendChild(item);
    });
    if (cluster.members.length > LIST_LIMIT) list.appendChild(el("li", "hint", "and " + (cluster.members.length - LIST_LIMIT) + " more"));
    panel.appendChild(list);
  }

  Object.assign(NV, {
    select: select,
    showNode: showNode,
    showEdge: showEdge,
    showPair: showPair,
    showCluster: showCluster,
    changeClass: changeClass,
    clearPanel: clearPanel,
    addFacts: addFacts,
  });
})();
