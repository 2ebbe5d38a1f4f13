/*
 * netpol-viz diagram page, drawing: the vis-network canvas, which nodes and
 * arrows are drawn (render), namespaces collapsed into one box with arrows
 * aggregated in pairs of nodes, the packing of namespace blocks, a finding's
 * highlight (the rest dimmed), the status line, and expand / collapse /
 * reveal. With a focus, only the focused node's own flows are drawn (every
 * pair, made from the groups where the budget left its arrow out), never the
 * flows among its peers. Uses core; filters (NV.visibleNodes, NV.filtered,
 * NV.focusPeers) and the panel (NV.showNode, NV.changeClass) at run time.
 * Provides NV.network, NV.nodes, NV.edges, NV.render, NV.representative,
 * NV.drawn, NV.expand, NV.collapse, NV.reveal, NV.unfold, NV.openGroup,
 * NV.startLevel, NV.showLabels.
 *
 * Levels of detail: the first view is the most detailed one whose text is
 * readable once fitted (LEGIBLE_PX): every namespace expanded, else every
 * namespace as one box, else the biggest namespaces as boxes and the rest
 * folded into one "more" box that says how many it holds. In an expanded
 * namespace, a large group of alike nodes is one "×N" box until opened. Arrows that end
 * in a collapsed namespace or the fold are summed (pairs of nodes, ports).
 * When arrows are dense their port labels show only on hover and for what
 * is selected, so they never pile on each other.
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var view = NV.view, state = NV.state, details = NV.details, clusters = NV.clusters;
  var groups = NV.groups, groupFlows = NV.groupFlows, container = NV.container;
  var shown = NV.shown, plural = NV.plural, labelOf = NV.labelOf, hiddenFlow = NV.hiddenFlow;

  var nodes = new vis.DataSet();
  var edges = new vis.DataSet();
  var network = new vis.Network(container, { nodes: nodes, edges: edges }, view.options);
  // What the last render drew: the visible nodes, the aggregated arrows and the
  // focus's arrows that view.edges lacks (both by vis edge id), the clusters drawn
  // expanded.
  var drawn = { visible: new Set(), aggregates: new Map(), pairs: new Map(), clusters: new Set(),
                open: new Map(), folded: [], labels: new Map(), dense: false,
                boxOf: new Map(), boxes: new Map() };

  var MORE = NV.MORE;
  /** Text at least this tall on screen, once fitted, counts as readable. */
  var LEGIBLE_PX = 10;
  /** With more arrows than this drawn, their labels show only on hover and selection. */
  var DENSE_ARROWS = 30;
  var MAX_ROUTED = 800; // arrows checked against the nodes they cross (routing below)

  function isExpanded(clusterIndex, visible) {
    if (state.expanded.has(clusterIndex)) return true;
    // A filter that leaves few nodes shows them, not their namespaces.
    return NV.filtered() && visible.size <= view.collapseThreshold;
  }

  function isFolded(clusterIndex, visible) {
    return state.fold.has(clusterIndex) && !isExpanded(clusterIndex, visible);
  }

  /** The drawn node that stands for node id: itself, its group's box, its collapsed cluster, or the fold. */
  function representative(id, visible) {
    var c = details[id].cluster;
    if (isExpanded(c, visible)) return drawn.boxOf.get(id) || id;
    return isFolded(c, visible) ? MORE : clusters[c].id;
  }

  // --- large groups as one box: nodes that every policy treats alike -------------

  /** A group with at least this many nodes in an expanded namespace is drawn as one box. */
  var GROUP_BOX = 6;

  function groupKey(id) {
    return "grp:" + details[id].g + ":" + details[id].cluster;
  }

  /**
   * Which visible nodes are drawn inside a group's box (drawn.boxOf: id -> key) and each
   * box's nodes (drawn.boxes: key -> ids). None while focused: the focus is about one node.
   */
  function findBoxes(visible) {
    drawn.boxOf = new Map();
    drawn.boxes = new Map();
    if (state.focus !== null) return;
    var byKey = new Map();
    visible.forEach(function (id) {
      if (!isExpanded(details[id].cluster, visible)) return;
      var key = groupKey(id);
      if (state.openGroups.has(key)) return;
      if (!byKey.has(key)) byKey.set(key, []);
      byKey.get(key).push(id);
    });
    byKey.forEach(function (ids, key) {
      if (ids.length < GROUP_BOX) return;
      drawn.boxes.set(key, ids);
      ids.forEach(function (id) { drawn.boxOf.set(id, key); });
    });
  }

  /** The box of a group's nodes, where its first node would be: a count and what they share. */
  function groupBoxNode(key, ids, at) {
    var first = NV.nodeById.get(ids[0]);
    var d = details[ids[0]];
    var pods = ids.reduce(function (n, id) { return n + (details[id].pods || 0); }, 0);
    var names = ids.slice(0, 2).map(function (id) { return details[id].name; }).join(", ") +
      (ids.length > 2 ? " +" + (ids.length - 2) : "");
    var kind = d.type === "ipblock" ? "address blocks" : d.type === "inferred" ? "inferred nodes" : "workloads";
    var lines = ["×" + ids.length + " alike " + kind, shown(names)];
    if (d.type === "workload") lines[0] += " · " + plural(pods, "pod");
    // Alike for every policy, so they share their isolation: the first node's lines say it.
    var own = first.label.split("\n").filter(function (line) { return /^(ingress|egress): /.test(line); });
    return Object.assign({}, first, {
      id: key,
      label: lines.concat(own).join("\n"),
      title: plural(ids.length, "node") + " that every policy treats alike, drawn as one box:\n" +
        ids.slice(0, 12).map(function (id) { return shown(NV.nameOf(id)); }).join("\n") +
        (ids.length > 12 ? "\n… and " + (ids.length - 12) + " more" : "") + "\nDouble-click to draw them one by one.",
      x: at.x,
      y: at.y,
      borderWidth: 3,
      shapeProperties: { borderDashes: false, borderRadius: 4 },
    });
  }

  /** Draw a group's nodes one by one (double-click on its box). */
  function openGroup(key) {
    state.openGroups.add(key);
    render();
  }

  /** The distinct port labels of flows `ks`: the first two, then how many more. */
  function portSummary(ks) {
    var labels = [];
    ks.forEach(function (k) {
      var label = groupFlows[k].label;
      if (labels.indexOf(label) < 0) labels.push(label);
    });
    return labels.slice(0, 2).join("; ") + (labels.length > 2 ? " +" + (labels.length - 2) : "");
  }

  function aggregateEdge(from, to, group) {
    var allDefault = group.defaultAllow === group.pairs;
    var style = view.edgeStyles[allDefault ? "aggregateDefault" : "aggregate"];
    var ports = portSummary(group.flows);
    var label = plural(group.pairs, "pair") + " · " + ports;
    var title = plural(group.pairs, "pair") + " of nodes from " + shown(labelOf(from)) + " to " +
      shown(labelOf(to)) + "\n" + ports;
    if (group.defaultAllow) title += "\n" + group.defaultAllow + " open by default";
    if (NV.diffMode) {
      var c = group.changes;
      var changed = group.pairs - c.added - c.removed - c.unchanged;
      var status = c.unchanged === group.pairs ? "unchanged"
        : c.added === group.pairs ? "added"
        : c.removed === group.pairs ? "removed" : "changed";
      style = Object.assign({}, style, view.edgeStyles["diff-" + status]);
      var parts = [];
      if (c.added) parts.push("+" + c.added);
      if (c.removed) parts.push("−" + c.removed);
      if (changed) parts.push("~" + changed);
      if (parts.length) label += " (" + parts.join(" ") + ")";
      title += "\n" + c.added + " added, " + c.removed + " removed, " + changed + " changed";
    }
    var edge = { id: "agg:" + from + ">" + to, from: from, to: to, label: label, title: title };
    return Object.assign(edge, style);
  }

  // --- highlight: a finding's nodes and the flows between them; the rest dimmed ------

  // Blue like the selection: red means removed and denied.
  var HIGHLIGHT = "#1565c0";
  var HIGHLIGHT_SHADOW = { enabled: true, color: "rgba(21,101,192,0.85)", size: 18, x: 0, y: 0 };
  var NO_SHADOW = { enabled: false };
  var DIMMED = 0.2;

  function nodeLit(id) {
    var lit = state.highlight.nodes;
    if (typeof id === "number") return lit.has(id);
    if (drawn.boxes.has(id)) return drawn.boxes.get(id).some(function (member) { return lit.has(member); });
    if (id === MORE) return Array.from(state.fold).some(function (c) { return clusterLit(c, lit); });
    return clusterLit(NV.clusterOfId(id), lit);
  }

  function clusterLit(c, lit) {
    return clusters[c].members.some(function (member) { return lit.has(member); });
  }

  /** Opacity, border and glow set on every drawn node, so that clearing a highlight resets them. */
  function decorateNode(node) {
    var base = typeof node.borderWidth === "number" ? node.borderWidth : view.options.nodes.borderWidth;
    var lit = state.highlight !== null && nodeLit(node.id);
    node.opacity = state.highlight !== null && !lit ? DIMMED : 1;
    node.borderWidth = lit ? Math.max(base, 4) : base;
    node.shadow = lit ? HIGHLIGHT_SHADOW : NO_SHADOW;
    return node;
  }

  function edgeLit(edge) {
    var lit = state.highlight.edges;
    if (typeof edge.id === "number") return lit.has(edge.id);
    var pair = drawn.pairs.get(edge.id);
    if (pair) return nodeLit(pair.from) && nodeLit(pair.to) && state.highlight.flows.has(pair.flow);
    var group = drawn.aggregates.get(edge.id) || drawn.open.get(edge.id);
    if (!group) return false; // a denied pair
    return nodeLit(group.from) && nodeLit(group.to) &&
      group.flows.some(function (k) { return state.highlight.flows.has(k); });
  }

  function decorateEdge(edge) {
    if (state.highlight === null) return edge;
    if (edgeLit(edge)) {
      return Object.assign({}, edge, {
        color: { color: HIGHLIGHT, highlight: HIGHLIGHT, hover: HIGHLIGHT },
        width: 4,
      });
    }
    var base = edge.color && typeof edge.color === "object" ? edge.color : view.options.edges.color;
    return Object.assign({}, edge, { color: Object.assign({}, base, { opacity: DIMMED }) });
  }

  // Layout: Python placed each cluster's nodes on a grid inside its box;
  // here the visible clusters (expanded: their box; collapsed: one node) are
  // packed in rows, so collapsing a namespace also closes up the space it took.
  var blockOrigin = new Map(); // cluster index -> top-left of its block in the last packing
  var moved = new Map(); // node id -> offset in its block where the user dragged it

  function pack(visible) {
    var gap = view.layout.gap;
    var blocks = [];
    var folded = { c: MORE, members: [], clusters: [], expanded: false,
                   w: view.layout.collapsed[0], h: view.layout.collapsed[1] };
    clusters.forEach(function (cluster, c) {
      var members = cluster.members.filter(function (id) { return visible.has(id); });
      if (!members.length) return;
      if (isFolded(c, visible)) {
        if (!folded.members.length) blocks.push(folded); // where the first folded one was
        folded.members = folded.members.concat(members);
        folded.clusters.push(c);
        return;
      }
      var expanded = isExpanded(c, visible);
      blocks.push({
        c: c,
        members: members,
        expanded: expanded,
        w: expanded ? cluster.box[2] - cluster.box[0] : view.layout.collapsed[0],
        h: expanded ? cluster.box[3] - cluster.box[1] : view.layout.collapsed[1],
      });
    });
    var area = 0, widest = 0;
    blocks.forEach(function (b) {
      area += (b.w + gap) * (b.h + gap);
      widest = Math.max(widest, b.w);
    });
    // Expanded namespaces leave room above for their open-traffic hub (open.js).
    var hubRoom = state.showOpen ? 60 : 0;
    blocks.forEach(function (b) { b.h += b.expanded ? hubRoom : 0; });
    // Rows about as wide as the canvas's shape asks for; of a few such widths, the one
    // that "fit" shows largest (greedy rows can leave a ragged, tall drawing).
    var aspect = Math.min(3, Math.max(0.8, container.clientWidth / Math.max(1, container.clientHeight)));
    var best = null;
    [0.8, 0.95, 1.1, 1.3, 1.55, 1.85].forEach(function (factor) {
      var rowLimit = Math.max(Math.sqrt(area * aspect) * factor, widest);
      rows(blocks, rowLimit, gap, hubRoom);
      var scale = fitScale(blocks);
      if (best === null || scale > best.scale + 1e-9) best = { scale: scale, rowLimit: rowLimit };
    });
    rows(blocks, best.rowLimit, gap, hubRoom);
    return blocks;
  }

  /** Place `blocks` in rows at most `rowLimit` wide (a wider block has a row to itself). */
  function rows(blocks, rowLimit, gap, hubRoom) {
    var x = 0, y = 0, rowHeight = 0;
    blocks.forEach(function (b) {
      if (x > 0 && x + b.w > rowLimit) {
        x = 0;
        y += rowHeight + gap;
        rowHeight = 0;
      }
      // b.y is where its nodes start; b.top and b.h take in the hub's room above them.
      b.x = x;
      b.top = y;
      b.y = y + (b.expanded ? hubRoom : 0);
      x += b.w + gap;
      rowHeight = Math.max(rowHeight, b.h);
    });
  }

  /** The box of the namespaces folded away: how many, and what they hold. */
  function foldNode(b) {
    var workloads = 0, pods = 0;
    b.clusters.forEach(function (c) {
      workloads += clusters[c].workloads;
      pods += clusters[c].pods;
    });
    var counts = plural(b.members.length, "node") + " · " + plural(workloads, "workload") + " · " + plural(pods, "pod");
    return {
      id: MORE,
      // Two short lines, so the box fits its block like a namespace's.
      label: "+" + plural(b.clusters.length, "more namespace") + "\n" + plural(b.members.length, "node"),
      title: plural(b.clusters.length, "namespace") + " not drawn one by one, to keep the text readable:\n" + counts +
        "\nDouble-click to draw them, or pick one in the legend or the search.",
      shape: "box",
      x: b.x + b.w / 2,
      y: b.top + b.h / 2,
      borderWidth: 3,
      margin: 14,
      font: { size: 18 },
      shapeProperties: { borderDashes: [8, 5], borderRadius: 4 },
      color: { background: "#eceff1", border: "#546e7a",
               highlight: { background: "#eceff1", border: "#1565c0" },
               hover: { background: "#eceff1", border: "#1565c0" } },
    };
  }

  /** Draw what the state asks for: the visible nodes, their clusters and arrows. */
  function render() {
    var visible = NV.visibleNodes();
    drawn.visible = visible;
    findBoxes(visible);
    var wantNodes = new Map();
    drawn.clusters = new Set();
    drawn.folded = [];
    blockOrigin = new Map();
    var blocks = pack(visible);
    blocks.forEach(function (b) {
      if (b.c === MORE) {
        drawn.folded = b.clusters;
        wantNodes.set(MORE, foldNode(b));
        return;
      }
      var cluster = clusters[b.c];
      blockOrigin.set(b.c, { x: b.x, y: b.y });
      if (!b.expanded) {
        wantNodes.set(cluster.id, Object.assign({}, cluster.node, { x: b.x + b.w / 2, y: b.top + b.h / 2 }));
        return;
      }
      drawn.clusters.add(b.c);
      b.members.forEach(function (id) {
        var node = NV.nodeById.get(id);
        var offset = moved.get(id) || { x: node.x - cluster.box[0], y: node.y - cluster.box[1] };
        var at = { x: b.x + offset.x, y: b.y + offset.y };
        var key = drawn.boxOf.get(id);
        if (!key) wantNodes.set(id, Object.assign({}, node, at));
        else if (!wantNodes.has(key)) wantNodes.set(key, groupBoxNode(key, drawn.boxes.get(key), at));
      });
    });

    var wantEdges = [];
    drawn.pairs = new Map();
    if (state.focus !== null) {
      drawn.aggregates = focusEdges(visible, wantEdges);
    } else {
      view.edges.forEach(function (edge, index) {
        if (!visible.has(edge.from) || !visible.has(edge.to)) return;
        if (hiddenFlow(view.edgeDetails[index])) return;
        if (representative(edge.from, visible) === edge.from && representative(edge.to, visible) === edge.to) {
          wantEdges.push(edge);
        }
      });
      drawn.aggregates = aggregate(visible);
    }
    drawn.aggregates.forEach(function (group) {
      wantEdges.push(aggregateEdge(group.from, group.to, group));
    });
    // Open-by-default traffic by namespace (open.js), and a denied pair picked (denied.js).
    drawn.open = NV.openTraffic ? NV.openTraffic(visible, blocks, wantNodes, wantEdges) : new Map();
    if (NV.deniedEdges) NV.deniedEdges(wantNodes, wantEdges);
    if (NV.clusterEdges) NV.clusterEdges(visible, wantNodes, wantEdges); // Admin and Baseline denials (cluster.js)

    drawn.labels = new Map();
    drawn.dense = wantEdges.length > DENSE_ARROWS;
    if (drawn.dense) {
      wantEdges = wantEdges.map(function (edge) {
        if (!edge.label || edge.keepLabel) return edge;
        drawn.labels.set(edge.id, edge.label);
        return Object.assign({}, edge, { label: "" });
      });
    }

    var leaving = nodes.getIds().filter(function (id) { return !wantNodes.has(id); });
    nodes.remove(leaving);
    edges.clear();
    nodes.update(Array.from(wantNodes.values()).map(decorateNode));
    edges.add(wantEdges.map(decorateEdge));
    showLabels();
    updateStatus();
    routePending = true; // bend arrows round nodes once this drawing is sized
  }

  // --- port labels of dense arrows: on hover, and for what is selected ------------

  var hovered = null;

  /** Give the arrows that are hovered, selected or touch a selected node their labels. */
  function showLabels() {
    if (!drawn.labels || !drawn.labels.size) return;
    var want = new Set(network.getSelectedEdges());
    network.getSelectedNodes().forEach(function (id) {
      if (nodes.get(id)) network.getConnectedEdges(id).forEach(function (edgeId) { want.add(edgeId); });
    });
    if (hovered !== null) want.add(hovered);
    var changes = [];
    drawn.labels.forEach(function (label, id) {
      var edge = edges.get(id);
      if (!edge) return;
      var wanted = want.has(id) ? label : "";
      if (edge.label !== wanted) changes.push({ id: id, label: wanted });
    });
    if (changes.length) edges.update(changes);
  }

  network.on("hoverEdge", function (params) { hovered = params.edge; showLabels(); });
  network.on("blurEdge", function () { hovered = null; showLabels(); });
  ["select", "deselectNode", "deselectEdge"].forEach(function (event) {
    network.on(event, function () { showLabels(); });
  });

  /**
   * Arrows with a collapsed namespace at one end or both, counted in pairs of nodes from
   * the groups: a flow from group G to H adds |G's members behind one end| times |H's
   * behind the other|. Ends are disjoint, so no node is paired with itself.
   */
  function aggregate(visible) {
    var sums = aggregator();
    var ends = groups.map(function (members) {
      var single = [], merged = new Map();
      members.forEach(function (id) {
        if (!visible.has(id)) return;
        var rep = representative(id, visible);
        if (rep === id) single.push(id);
        else merged.set(rep, (merged.get(rep) || 0) + 1);
      });
      return { single: single, merged: merged };
    });
    var add = sums.add;
    groupFlows.forEach(function (flow, k) {
      if (hiddenFlow(flow)) return;
      var source = ends[flow.source], target = ends[flow.target];
      source.merged.forEach(function (sourceCount, from) {
        target.merged.forEach(function (targetCount, to) {
          if (from !== to) add(from, to, sourceCount * targetCount, k); // else inside one namespace
        });
        target.single.forEach(function (to) { add(from, to, sourceCount, k); });
      });
      source.single.forEach(function (from) {
        target.merged.forEach(function (targetCount, to) { add(from, to, targetCount, k); });
      });
    });
    return sums.found;
  }

  /** Aggregated arrows by vis edge id, and add(from, to, pairs, flow index) to sum into them. */
  function aggregator() {
    var found = new Map();
    function add(from, to, pairs, k) {
      var key = "agg:" + from + ">" + to;
      var group = found.get(key);
      if (!group) {
        group = { from: from, to: to, pairs: 0, defaultAllow: 0, flows: [],
                  changes: { added: 0, removed: 0, unchanged: 0 } };
        found.set(key, group);
      }
      var flow = groupFlows[k];
      group.pairs += pairs;
      if (flow.defaultAllow) group.defaultAllow += pairs;
      if (flow.change in group.changes) group.changes[flow.change] += pairs;
      if (group.flows.indexOf(k) < 0) group.flows.push(k);
    }
    return { found: found, add: add };
  }

  /**
   * The focused node's own arrows: one per peer and direction (into `want`), or
   * summed into an aggregated arrow where the peer's namespace is collapsed.
   */
  function focusEdges(visible, want) {
    var sums = aggregator();
    var focus = state.focus;
    if (!visible.has(focus)) return sums.found;
    [true, false].forEach(function (forward) {
      NV.focusPeers(forward, function (peer, k) {
        if (!visible.has(peer)) return;
        var from = forward ? focus : peer, to = forward ? peer : focus;
        var ends = [representative(from, visible), representative(to, visible)];
        if (ends[0] === from && ends[1] === to) want.push(pairEdge(from, to, k));
        else if (ends[0] !== ends[1]) sums.add(ends[0], ends[1], 1, k);
      });
    });
    return sums.found;
  }

  /** The arrow of pair from -> to (flow k): view's own if drawn there, else made here. */
  function pairEdge(from, to, k) {
    var listed = NV.outEdges[from].filter(function (edgeId) { return NV.edgeById.get(edgeId).edge.to === to; });
    if (listed.length) return NV.edgeById.get(listed[0]).edge;
    var flow = groupFlows[k];
    var id = "pair:" + from + ">" + to;
    drawn.pairs.set(id, { from: from, to: to, flow: k });
    var style = view.edgeStyles[flow.defaultAllow ? "default" : "rule"];
    if (NV.diffMode && flow.change) {
      style = Object.assign({}, style, view.edgeStyles["diff-" + NV.changeClass(flow.change)]);
    }
    var policies = [];
    ["egress", "ingress"].forEach(function (direction) {
      (flow[direction] || []).forEach(function (ref) {
        var name = view.policies[ref[0]].id;
        if (policies.indexOf(name) < 0) policies.push(name);
      });
    });
    var why = flow.defaultAllow ? "open by default: neither side is isolated"
      : "allowed by " + policies.slice(0, 2).join(", ") + (policies.length > 2 ? " +" + (policies.length - 2) : "");
    var title = shown(NV.nameOf(from)) + " → " + shown(NV.nameOf(to)) + "\n" + flow.label + "\n" + why;
    return Object.assign({ id: id, from: from, to: to, label: flow.label, title: title }, style);
  }

  function updateStatus() {
    var ids = nodes.getIds();
    var drawnCollapsed = ids.filter(function (id) { return typeof id === "string" && id.indexOf("cluster:") === 0; }).length;
    var boxed = 0;
    drawn.boxes.forEach(function (members) { boxed += members.length; });
    var drawnNodes = ids.filter(function (id) { return typeof id === "number"; }).length;
    var parts = [];
    if (state.focus !== null) {
      parts.push("Focus: only the flows of " + shown(NV.nameOf(state.focus)) + " are drawn.");
    }
    if (drawn.visible.size < details.length) {
      parts.push(drawn.visible.size + " of " + plural(details.length, "node") + " match the filters.");
    }
    parts.push("Drawn: " + plural(drawnNodes, "node") +
      (drawn.boxes.size ? ", " + plural(drawn.boxes.size, "box", "boxes") + " of alike nodes" : "") +
      (drawnCollapsed ? " and " + plural(drawnCollapsed, "collapsed namespace") : "") +
      ", " + plural(edges.length, "arrow") + ".");
    if (drawn.folded.length) {
      var held = drawn.folded.reduce(function (n, c) { return n + clusters[c].members.length; }, 0);
      parts.push("The “+" + drawn.folded.length + " more” box holds " + plural(drawn.folded.length, "namespace") +
        " (" + plural(held, "node") + "): double-click it to draw them.");
    }
    if (drawn.boxes.size) {
      parts.push("The “×N” boxes hold " + plural(boxed, "node") + ": double-click one to draw its nodes.");
    }
    if (drawnCollapsed) parts.push("Double-click a namespace to expand it.");
    // Counted in pairs of nodes (from the flows' "pairs"), not from what is drawn.
    var omitted = view.omitted;
    if (view.openByNamespace && omitted.defaultAllow) {
      parts.push(plural(omitted.defaultAllow, "pair") + " open by default (neither side isolated) " +
        (state.showOpen ? "drawn by namespace, dashed." : "not drawn: see the nodes' markers, or “show open traffic”."));
    }
    var rulePairs = view.openByNamespace ? omitted.rules : omitted.flows;
    if (rulePairs && state.focus === null) {
      parts.push(rulePairs + " more flows between pairs of nodes" +
        (view.openByNamespace ? "" : " (" + omitted.defaultAllow + " open by default)") +
        " are too many to draw one by one; counts, reach lists and search include them.");
    }
    NV.byId("status-line").textContent = parts.join(" ");
    document.body.dataset.nodeCount = String(nodes.length);
    document.body.dataset.edgeCount = String(edges.length);
  }

  // Namespace boxes behind expanded clusters, and a white background so the
  // PNG download is not transparent.
  network.on("beforeDrawing", function (ctx) {
    ctx.save();
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, ctx.canvas.width, ctx.canvas.height);
    ctx.restore();
    var onCanvas = new Set(nodes.getIds());
    drawn.clusters.forEach(function (c) {
      var cluster = clusters[c];
      var box = null;
      cluster.members.map(function (id) { return drawn.boxOf.get(id) || id; }).forEach(function (id) {
        if (!onCanvas.has(id)) return;
        var b = network.getBoundingBox(id);
        if (!b) return;
        box = box
          ? { left: Math.min(box.left, b.left), top: Math.min(box.top, b.top),
              right: Math.max(box.right, b.right), bottom: Math.max(box.bottom, b.bottom) }
          : b;
      });
      if (!box) return;
      var pad = 18;
      var x = box.left - pad, y = box.top - pad - 16;
      var w = box.right - box.left + 2 * pad, h = box.bottom - box.top + 2 * pad + 16;
      ctx.save();
      ctx.globalAlpha = 0.22;
      ctx.fillStyle = cluster.color;
      roundRect(ctx, x, y, w, h, 10);
      ctx.fill();
      ctx.globalAlpha = 0.9;
      ctx.strokeStyle = cluster.border;
      ctx.lineWidth = 1.5;
      ctx.setLineDash([]);
      roundRect(ctx, x, y, w, h, 10);
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.fillStyle = "#263238";
      ctx.font = "bold 14px sans-serif";
      ctx.textBaseline = "top";
      ctx.fillText(shown(cluster.title), x + 10, y + 6, w - 20);
      ctx.restore();
    });
  });

  function roundRect(ctx, x, y, w, h, r) {
    ctx.beginPath();
    ctx.moveTo(x + r, y);
    ctx.arcTo(x + w, y, x + w, y + h, r);
    ctx.arcTo(x + w, y + h, x, y + h, r);
    ctx.arcTo(x, y + h, x, y, r);
    ctx.arcTo(x, y, x + w, y, r);
    ctx.closePath();
  }

  // A node's tooltip goes beside the node, not over it (vis puts it at the pointer).
  network.on("showPopup", function (id) {
    var tip = container.querySelector("div.vis-tooltip");
    if (!tip || !network.body.nodes[id]) return;
    var box = network.getBoundingBox(id);
    var topLeft = network.canvasToDOM({ x: box.left, y: box.top });
    var bottomRight = network.canvasToDOM({ x: box.right, y: box.bottom });
    var gap = 12, width = tip.offsetWidth, height = tip.offsetHeight;
    var left = bottomRight.x + gap;
    if (left + width > container.clientWidth) left = topLeft.x - gap - width;
    if (left < 0) {
      // No room on either side: above the node, or below it.
      left = Math.max(0, Math.min(topLeft.x, container.clientWidth - width));
      var above = topLeft.y - gap - height;
      tip.style.top = (above >= 0 ? above : bottomRight.y + gap) + "px";
    } else {
      tip.style.top = Math.max(0, Math.min(topLeft.y, container.clientHeight - height)) + "px";
    }
    tip.style.left = left + "px";
  });

  network.on("dragEnd", function (params) {
    var where = network.getPositions(params.nodes);
    params.nodes.forEach(function (id) {
      var origin = typeof id === "number" ? blockOrigin.get(details[id].cluster) : null;
      if (origin) moved.set(id, { x: where[id].x - origin.x, y: where[id].y - origin.y });
    });
  });

  function expand(c) {
    state.expanded.add(c);
    render();
    network.fit({ nodes: clusters[c].members.filter(function (id) { return nodes.get(id); }), animation: false });
  }

  /** Draw the folded namespaces one by one (each as its collapsed box). */
  function unfold() {
    state.fold.clear();
    render();
    network.fit({ animation: false });
  }

  // --- the starting level: the most detailed whose text is readable at fit ------------

  /**
   * The scale vis's fit() gives to `blocks` (the nodes' range and 10% more, at most 1). A
   * node box is at most about 200 × 90 in a cell of 215 × 110, and a namespace's 228 × 72
   * in its 240 × 110: the range is the blocks less a little of the margin they leave.
   */
  function fitScale(blocks) {
    var left = Infinity, top = Infinity, right = -Infinity, bottom = -Infinity;
    blocks.forEach(function (b) {
      left = Math.min(left, b.x);
      top = Math.min(top, b.y);
      right = Math.max(right, b.x + b.w);
      bottom = Math.max(bottom, b.top + b.h);
    });
    var width = Math.max(1, right - left - 10), height = Math.max(1, bottom - top - 30);
    var canvas = [Math.max(1, container.clientWidth), Math.max(1, container.clientHeight)];
    return Math.min(1, canvas[0] / (1.1 * width), canvas[1] / (1.1 * height));
  }

  function fontOf(b) {
    return b.expanded ? view.options.nodes.font.size : 18;
  }

  function legible(blocks) {
    var scale = fitScale(blocks);
    // 5% to spare: the prediction is close to vis's fit, not exact.
    return blocks.every(function (b) { return fontOf(b) * scale >= LEGIBLE_PX * 1.05; });
  }

  /**
   * Pick state.expanded and state.fold for the first view: every namespace expanded if
   * that is readable at fit, else each as one box, else as many boxes as stay readable
   * (the namespaces with the most nodes; external addresses always) and one box for the rest.
   */
  function startLevel() {
    var all = new Set(details.map(function (_, id) { return id; }));
    state.fold = new Set();
    state.expanded = new Set(clusters.map(function (_, c) { return c; }));
    if (legible(pack(all))) return;
    state.expanded = new Set();
    if (legible(pack(all))) return;
    // Kept: the namespaces that the most rule-allowed flows touch (a DNS namespace that
    // everything reaches, say), then the biggest; external addresses always.
    var touched = clusters.map(function (cluster) {
      return cluster.members.reduce(function (n, id) {
        var g = details[id].g;
        return n + NV.flowsFrom[g].concat(NV.flowsTo[g]).filter(function (k) {
          return !groupFlows[k].defaultAllow;
        }).length;
      }, 0);
    });
    var order = clusters.map(function (_, c) { return c; }).sort(function (a, b) {
      var external = Number(clusters[b].key === "external") - Number(clusters[a].key === "external");
      return external || touched[b] - touched[a] || clusters[b].members.length - clusters[a].members.length || a - b;
    });
    // Keep the first `keep` of that order; the fold is one more box.
    var low = 1, high = order.length - 1;
    while (low < high) {
      var keep = Math.ceil((low + high) / 2);
      state.fold = new Set(order.slice(keep));
      if (legible(pack(all))) low = keep;
      else high = keep - 1;
    }
    state.fold = new Set(order.slice(low));
  }

  function collapse(c) {
    state.expanded.delete(c);
    render();
  }

  /** Show node `id`, expanding its namespace if needed, and select it. */
  function reveal(id) {
    if (!nodes.get(id)) {
      state.expanded.add(details[id].cluster);
      state.openGroups.add(groupKey(id));
      render();
    }
    if (nodes.get(id)) {
      network.selectNodes([id]);
      network.focus(id, { scale: Math.max(network.getScale(), 0.8), animation: false });
      showLabels();
    }
    NV.showNode(id);
  }

  // --- routing: an arrow bends round the nodes it would cross, where a bend clears them ------
  // vis-network draws "curvedCW"/"curvedCCW" edges as quadratic curves through a via point
  // (BezierEdgeStatic._getViaCoordinates); the same formula here tests a curve before it is
  // chosen. Runs once per render, after the first draw has sized the nodes.
  var ROUTES = [
    { type: "curvedCW", roundness: 0.12 }, // the default of view.options.edges.smooth
    { type: "curvedCW", roundness: 0.35 },
    { type: "curvedCCW", roundness: 0.35 },
    { type: "curvedCW", roundness: 0.6 },
    { type: "curvedCCW", roundness: 0.6 },
    { type: "curvedCW", roundness: 1 }, // into the gap beside a column of nodes
    { type: "curvedCCW", roundness: 1 },
  ];
  var routePending = false;

  function via(from, to, route) {
    var o = to.x - from.x, r = from.y - to.y;
    var length = Math.sqrt(o * o + r * r);
    var k = route.roundness;
    var turn = route.type === "curvedCW" ? 0.5 * k + 0.5 : -0.5 * k + 0.5;
    var angle = (Math.atan2(r, o) + turn * Math.PI) % (2 * Math.PI);
    return { x: from.x + (0.5 * k + 0.5) * length * Math.sin(angle),
             y: from.y + (0.5 * k + 0.5) * length * Math.cos(angle) };
  }

  function crosses(from, to, route, boxes, skip) {
    var mid = via(from, to, route);
    for (var step = 1; step < 12; step++) {
      var t = step / 12, u = 1 - t;
      var x = u * u * from.x + 2 * t * u * mid.x + t * t * to.x;
      var y = u * u * from.y + 2 * t * u * mid.y + t * t * to.y;
      for (var i = 0; i < boxes.length; i++) {
        var b = boxes[i];
        if (skip.has(b.id)) continue;
        if (x > b.left && x < b.right && y > b.top && y < b.bottom) return true;
      }
    }
    return false;
  }

  function route() {
    var ids = nodes.getIds();
    var boxes = ids.map(function (id) {
      var box = network.getBoundingBox(id);
      return box && { id: id, left: box.left, right: box.right, top: box.top, bottom: box.bottom };
    }).filter(function (b) { return b && b.right > b.left; });
    if (!boxes.length) return;
    var positions = network.getPositions(ids);
    var changes = [];
    edges.forEach(function (edge) {
      if (edge.from === edge.to || edge.smooth === false) return;
      var from = positions[edge.from], to = positions[edge.to];
      if (!from || !to) return;
      var skip = new Set([edge.from, edge.to]);
      var current = (edge.smooth && edge.smooth.type) ? edge.smooth : ROUTES[0];
      if (!crosses(from, to, current, boxes, skip)) return;
      for (var i = 1; i < ROUTES.length; i++) {
        if (!crosses(from, to, ROUTES[i], boxes, skip)) {
          changes.push({ id: edge.id, smooth: { enabled: true, type: ROUTES[i].type, roundness: ROUTES[i].roundness } });
          return;
        }
      }
    });
    if (changes.length) edges.update(changes);
    drawn.rerouted = changes.length; // for the browser tests
  }

  network.on("afterDrawing", function () {
    if (!routePending) return;
    routePending = false;
    // Boxes above MAX_ROUTED cost more than they are worth: the drawing is dense anyway.
    if (edges.length <= MAX_ROUTED) route();
  });

  Object.assign(NV, {
    network: network,
    nodes: nodes,
    edges: edges,
    drawn: drawn,
    render: render,
    representative: representative,
    expand: expand,
    collapse: collapse,
    reveal: reveal,
    unfold: unfold,
    openGroup: openGroup,
    groupKey: groupKey,
    startLevel: startLevel,
    showLabels: showLabels,
    route: route,
  });
})();
