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
 * NV.drawn, NV.expand, NV.collapse, NV.reveal.
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
  var drawn = { visible: new Set(), aggregates: new Map(), pairs: new Map(), clusters: new Set() };

  function isExpanded(clusterIndex, visible) {
    if (state.expanded.has(clusterIndex)) return true;
    // A filter that leaves few nodes shows them, not their namespaces.
    return NV.filtered() && visible.size <= view.collapseThreshold;
  }

  /** The drawn node that stands for node id: itself, or its collapsed cluster. */
  function representative(id, visible) {
    var c = details[id].cluster;
    return isExpanded(c, visible) ? id : clusters[c].id;
  }

  function aggregateEdge(from, to, group) {
    var allDefault = group.defaultAllow === group.pairs;
    var style = view.edgeStyles[allDefault ? "aggregateDefault" : "aggregate"];
    var label = plural(group.pairs, "flow");
    var title = label + " (pairs of nodes) from " + shown(labelOf(from)) + " to " + shown(labelOf(to));
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

  var HIGHLIGHT = "#d32f2f";
  var HIGHLIGHT_SHADOW = { enabled: true, color: "rgba(211,47,47,0.85)", size: 18, x: 0, y: 0 };
  var NO_SHADOW = { enabled: false };
  var DIMMED = 0.2;

  function nodeLit(id) {
    var lit = state.highlight.nodes;
    if (typeof id === "number") return lit.has(id);
    return clusters[NV.clusterById.get(id)].members.some(function (member) { return lit.has(member); });
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
    var group = drawn.aggregates.get(edge.id);
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
    clusters.forEach(function (cluster, c) {
      var members = cluster.members.filter(function (id) { return visible.has(id); });
      if (!members.length) return;
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
    // Rows as wide as the canvas's shape asks for, so "fit" fills it.
    var aspect = Math.min(3, Math.max(0.8, container.clientWidth / Math.max(1, container.clientHeight)));
    var rowLimit = Math.max(Math.sqrt(area * aspect) * 1.1, widest);
    var x = 0, y = 0, rowHeight = 0;
    blocks.forEach(function (b) {
      if (x > 0 && x + b.w > rowLimit) {
        x = 0;
        y += rowHeight + gap;
        rowHeight = 0;
      }
      b.x = x;
      b.y = y;
      x += b.w + gap;
      rowHeight = Math.max(rowHeight, b.h);
    });
    return blocks;
  }

  /** Draw what the state asks for: the visible nodes, their clusters and arrows. */
  function render() {
    var visible = NV.visibleNodes();
    drawn.visible = visible;
    var wantNodes = new Map();
    drawn.clusters = new Set();
    blockOrigin = new Map();
    pack(visible).forEach(function (b) {
      var cluster = clusters[b.c];
      blockOrigin.set(b.c, { x: b.x, y: b.y });
      if (!b.expanded) {
        wantNodes.set(cluster.id, Object.assign({}, cluster.node, { x: b.x + b.w / 2, y: b.y + b.h / 2 }));
        return;
      }
      drawn.clusters.add(b.c);
      b.members.forEach(function (id) {
        var node = NV.nodeById.get(id);
        var offset = moved.get(id) || { x: node.x - cluster.box[0], y: node.y - cluster.box[1] };
        wantNodes.set(id, Object.assign({}, node, { x: b.x + offset.x, y: b.y + offset.y }));
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

    var leaving = nodes.getIds().filter(function (id) { return !wantNodes.has(id); });
    nodes.remove(leaving);
    edges.clear();
    nodes.update(Array.from(wantNodes.values()).map(decorateNode));
    edges.add(wantEdges.map(decorateEdge));
    updateStatus();
  }

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
    var drawnCollapsed = nodes.getIds().filter(function (id) { return typeof id === "string"; }).length;
    var parts = [];
    if (state.focus !== null) {
      parts.push("Focus: only the flows of " + shown(NV.nameOf(state.focus)) + " are drawn.");
    }
    if (drawn.visible.size < details.length) {
      parts.push(drawn.visible.size + " of " + plural(details.length, "node") + " match the filters.");
    }
    parts.push("Drawn: " + plural(nodes.length - drawnCollapsed, "node") +
      (drawnCollapsed ? " and " + plural(drawnCollapsed, "collapsed namespace") : "") +
      ", " + plural(edges.length, "arrow") + ".");
    parts.push(drawnCollapsed
      ? "Double-click a namespace to expand it."
      : "Double-click a node to collapse its namespace.");
    if (view.omitted.flows && state.focus === null) {
      // Counted in pairs of nodes (from the flows' "pairs"), not from what is drawn.
      parts.push(
        view.omitted.flows + " more flows between pairs of nodes (" + view.omitted.defaultAllow +
        " open by default) are too many to draw one by one; counts, reach lists and search include them."
      );
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
      cluster.members.forEach(function (id) {
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

  function collapse(c) {
    state.expanded.delete(c);
    render();
  }

  /** Show node `id`, expanding its namespace if needed, and select it. */
  function reveal(id) {
    if (!nodes.get(id)) {
      state.expanded.add(details[id].cluster);
      render();
    }
    if (nodes.get(id)) {
      network.selectNodes([id]);
      network.focus(id, { scale: Math.max(network.getScale(), 0.8), animation: false });
    }
    NV.showNode(id);
  }

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
  });
})();
