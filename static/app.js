/*
 * netpol-viz diagram page: reads the JSON data island (#view-data, built by
 * webapp/render.py) and drives vis-network: clusters that collapse and expand,
 * filters, the side panel, findings that highlight their part of the diagram,
 * the why / why not tool (asks the query API), copy link and PNG download.
 * The diff page uses the same script: its view has mode "diff", edges
 * coloured by change and `change` in the node and edge details.
 *
 * Only some pairs of nodes are drawn as arrows (view.edges, a budget). Every
 * count, reach list, search and focus works from the whole analysis instead:
 * view.groups (nodes that every policy treats alike) and view.flows (from
 * every member of one group to every other member of another), so a node's
 * reach is arithmetic over groups, never a list of all pairs.
 *
 * Every uploaded string goes into the page with textContent or as a vis
 * string title (vis 9 sets those with innerText); nothing here parses text
 * as HTML, and nothing from an upload becomes a link. Control and bidi
 * characters are shown as <U+XXXX> so a name cannot reorder what is beside it.
 */
(function () {
  "use strict";

  var island = document.getElementById("view-data");
  var container = document.getElementById("network");
  if (!island || !container || typeof vis === "undefined") {
    return;
  }
  var view = JSON.parse(island.textContent);

  // --- helpers --------------------------------------------------------------

  // The same characters as webapp.core.text.is_hidden: control, format (bidi, zero-width,
  // tags), surrogate, private-use and unassigned characters, line and paragraph separators.
  var HIDDEN_CHARS = /[\p{C}\p{Zl}\p{Zp}]/gu;

  function shown(value) {
    return String(value === null || value === undefined ? "" : value).replace(HIDDEN_CHARS, function (c) {
      return "<U+" + c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0") + ">";
    });
  }

  /** Like shown() but keeps line breaks and tabs: for multi-line YAML excerpts. */
  function shownBlock(value) {
    return String(value).replace(/\r\n/g, "\n").split("\n").map(function (line) {
      return line.split("\t").map(shown).join("\t");
    }).join("\n");
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = shown(text);
    return node;
  }

  function button(text, onClick, className) {
    var node = el("button", className || "link-button", text);
    node.type = "button";
    node.addEventListener("click", onClick);
    return node;
  }

  function plural(count, word) {
    return count + " " + word + (count === 1 ? "" : "s");
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  /** A reason or sentence from the API as a sentence: capital first letter, final period. */
  function sentence(text) {
    var value = String(text === null || text === undefined ? "" : text);
    value = value.charAt(0).toUpperCase() + value.slice(1);
    return /[.!?]$/.test(value) ? value : value + ".";
  }

  // --- the data ---------------------------------------------------------------

  var details = view.nodeDetails;
  var clusters = view.clusters;
  var diffMode = view.mode === "diff";
  var visIdOf = new Map(details.map(function (d, index) { return [d.id, index]; }));
  var policyIndex = new Map(view.policies.map(function (p, index) { return [p.id, index]; }));
  var edgeById = new Map();
  var outEdges = details.map(function () { return []; });
  var inEdges = details.map(function () { return []; });
  view.edges.forEach(function (edge, index) {
    edgeById.set(edge.id, { edge: edge, info: view.edgeDetails[index] });
    outEdges[edge.from].push(edge.id);
    inEdges[edge.to].push(edge.id);
  });
  var groups = view.groups;
  var groupFlows = view.flows;
  var flowsFrom = groups.map(function () { return []; });
  var flowsTo = groups.map(function () { return []; });
  groupFlows.forEach(function (flow, k) {
    flowsFrom[flow.source].push(k);
    flowsTo[flow.target].push(k);
  });
  var nodeById = new Map(view.nodes.map(function (node) { return [node.id, node]; }));
  var clusterById = new Map(clusters.map(function (cluster, index) { return [cluster.id, index]; }));
  var searchText = details.map(function (d) {
    var parts = [d.name, d.namespace, d.kind, d.id, d.selector].concat(d.cidrs || []);
    if (d.namespace !== null && d.namespace !== undefined) parts.push(d.namespace + "/" + d.name);
    Object.keys(d.labels || {}).forEach(function (key) { parts.push(key + "=" + d.labels[key]); });
    return parts.filter(function (p) { return p !== null && p !== undefined; }).join("\n").toLowerCase();
  });

  function portsOf(entry) {
    return entry.info.ports || [entry.edge.label];
  }

  // --- reach, over the whole analysis (groups and their flows) ---------------------

  /** The flows (indexes) that leave (forward) or enter node id's group. */
  function flowsOf(id, forward) {
    return (forward ? flowsFrom : flowsTo)[details[id].g];
  }

  function otherEnd(k, forward) {
    return forward ? groupFlows[k].target : groupFlows[k].source;
  }

  /** How many other nodes node id has a flow to (forward) or from: one hop. */
  function reachCountOf(id, forward) {
    var own = details[id].g;
    return flowsOf(id, forward).reduce(function (count, k) {
      var other = otherEnd(k, forward);
      return count + groups[other].length - (other === own ? 1 : 0);
    }, 0);
  }

  /** The first `limit` of those nodes, each with its flow: [{peer, flow}]. */
  function peersOf(id, forward, limit) {
    var found = [];
    flowsOf(id, forward).some(function (k) {
      return groups[otherEnd(k, forward)].some(function (peer) {
        if (peer !== id) found.push({ peer: peer, flow: k });
        return found.length >= limit;
      });
    });
    return found;
  }

  /** Nodes reached in one or more hops (forward) or reaching it; the node itself not counted. */
  function reachCount(start, forward) {
    var own = details[start].g;
    var reached = new Set();
    var queue = [own];
    while (queue.length) {
      (forward ? flowsFrom : flowsTo)[queue.pop()].forEach(function (k) {
        var next = otherEnd(k, forward);
        if (!reached.has(next)) {
          reached.add(next);
          queue.push(next);
        }
      });
    }
    var total = 0;
    reached.forEach(function (g) { total += groups[g].length - (g === own ? 1 : 0); });
    return total;
  }

  function hiddenFlow(info) {
    return (state.hideDefault && info.defaultAllow) || (state.hideUnchanged && info.change === "unchanged");
  }

  function nameOf(id) {
    var d = details[id];
    return d.namespace !== null && d.namespace !== undefined && d.type === "workload"
      ? d.namespace + "/" + d.name
      : d.name;
  }

  // --- state ------------------------------------------------------------------

  var state = {
    expanded: new Set(view.collapsed ? [] : clusters.map(function (_, i) { return i; })),
    hideDefault: false,
    search: "",
    namespace: null,
    focus: null,
    hideUnchanged: false,
    highlight: null, // {finding, nodes: Set of vis ids, edges: Set of vis edge ids}
  };
  var visibleCount = 0;

  /** `keep` plus every member of the groups that `groupSet`'s flows reach or come from. */
  function addPeers(keep, groupSet, skip) {
    groupSet.forEach(function (g) {
      flowsFrom[g].concat(flowsTo[g]).forEach(function (k) {
        var flow = groupFlows[k];
        if (skip && skip(flow)) return;
        groups[flow.source].concat(groups[flow.target]).forEach(function (id) { keep.add(id); });
      });
    });
    return keep;
  }

  function focusSet() {
    return addPeers(new Set([state.focus]), [details[state.focus].g], function (flow) {
      return state.hideDefault && flow.defaultAllow;
    });
  }

  function namespaceSet() {
    var members = clusters[state.namespace].members;
    var own = new Set(members.map(function (id) { return details[id].g; }));
    return addPeers(new Set(members), own, null);
  }

  function visibleNodes() {
    var focus = state.focus !== null ? focusSet() : null;
    var namespace = state.namespace !== null ? namespaceSet() : null;
    var visible = new Set();
    details.forEach(function (_, id) {
      if (focus && !focus.has(id)) return;
      if (namespace && !namespace.has(id)) return;
      if (state.search && searchText[id].indexOf(state.search) < 0) return;
      visible.add(id);
    });
    return visible;
  }

  function filtered() {
    return state.focus !== null || state.namespace !== null || state.search !== "";
  }

  // --- drawing ----------------------------------------------------------------

  var nodes = new vis.DataSet();
  var edges = new vis.DataSet();
  var network = new vis.Network(container, { nodes: nodes, edges: edges }, view.options);
  var shownClusters = new Set(); // clusters currently drawn expanded

  function isExpanded(clusterIndex, visible) {
    if (state.expanded.has(clusterIndex)) return true;
    // A filter that leaves few nodes shows them, not their namespaces.
    return filtered() && visible.size <= view.collapseThreshold;
  }

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
    if (diffMode) {
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
    return clusters[clusterById.get(id)].members.some(function (member) { return lit.has(member); });
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
    var group = aggregates.get(edge.id);
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

  function labelOf(nodeId) {
    return typeof nodeId === "string" ? clusters[clusterById.get(nodeId)].title : nameOf(nodeId);
  }

  var aggregates = new Map();

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

  function render() {
    var visible = visibleNodes();
    lastVisible = visible;
    visibleCount = visible.size;
    var wantNodes = new Map();
    shownClusters = new Set();
    blockOrigin = new Map();
    pack(visible).forEach(function (b) {
      var cluster = clusters[b.c];
      blockOrigin.set(b.c, { x: b.x, y: b.y });
      if (!b.expanded) {
        wantNodes.set(cluster.id, Object.assign({}, cluster.node, { x: b.x + b.w / 2, y: b.y + b.h / 2 }));
        return;
      }
      shownClusters.add(b.c);
      b.members.forEach(function (id) {
        var node = nodeById.get(id);
        var offset = moved.get(id) || { x: node.x - cluster.box[0], y: node.y - cluster.box[1] };
        wantNodes.set(id, Object.assign({}, node, { x: b.x + offset.x, y: b.y + offset.y }));
      });
    });

    var wantEdges = [];
    view.edges.forEach(function (edge, index) {
      if (!visible.has(edge.from) || !visible.has(edge.to)) return;
      if (hiddenFlow(view.edgeDetails[index])) return;
      if (representative(edge.from, visible) === edge.from && representative(edge.to, visible) === edge.to) {
        wantEdges.push(edge);
      }
    });
    aggregates = aggregate(visible);
    aggregates.forEach(function (group) {
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
    var found = new Map();
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
      if (group.flows[group.flows.length - 1] !== k) group.flows.push(k);
    }
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
    return found;
  }

  var lastVisible = new Set();

  function updateStatus() {
    var drawnCollapsed = nodes.getIds().filter(function (id) { return typeof id === "string"; }).length;
    var parts = [];
    if (visibleCount < details.length) {
      parts.push(visibleCount + " of " + plural(details.length, "node") + " match the filters.");
    }
    parts.push("Drawn: " + plural(nodes.length - drawnCollapsed, "node") +
      (drawnCollapsed ? " and " + plural(drawnCollapsed, "collapsed namespace") : "") +
      ", " + plural(edges.length, "arrow") + ".");
    parts.push(drawnCollapsed
      ? "Double-click a namespace to expand it."
      : "Double-click a node to collapse its namespace.");
    if (view.omitted.flows) {
      // Counted in pairs of nodes (from the flows' "pairs"), not from what is drawn.
      parts.push(
        view.omitted.flows + " more flows between pairs of nodes (" + view.omitted.defaultAllow +
        " open by default) are too many to draw one by one; counts, reach lists and search include them."
      );
    }
    byId("status-line").textContent = parts.join(" ");
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
    var drawn = new Set(nodes.getIds());
    shownClusters.forEach(function (c) {
      var cluster = clusters[c];
      var box = null;
      cluster.members.forEach(function (id) {
        if (!drawn.has(id)) return;
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

  network.once("afterDrawing", function () {
    // Readiness signal for tests and the benchmark: drawn, nothing simulating.
    document.body.dataset.readyMs = String(Math.round(performance.now()));
    document.body.dataset.ready = "1";
  });

  network.on("dragEnd", function (params) {
    var where = network.getPositions(params.nodes);
    params.nodes.forEach(function (id) {
      var origin = typeof id === "number" ? blockOrigin.get(details[id].cluster) : null;
      if (origin) moved.set(id, { x: where[id].x - origin.x, y: where[id].y - origin.y });
    });
  });

  network.on("click", function (params) {
    var source = params.event && params.event.srcEvent;
    if (source && source.shiftKey && why && params.nodes.length && typeof params.nodes[0] === "number") {
      why.pick(params.nodes[0]);
      return;
    }
    if (params.nodes.length) {
      select(params.nodes[0]);
    } else if (params.edges.length) {
      showEdge(params.edges[0]);
    }
  });

  network.on("doubleClick", function (params) {
    if (!params.nodes.length) return;
    var id = params.nodes[0];
    if (typeof id === "string") {
      expand(clusterById.get(id));
    } else {
      collapse(details[id].cluster);
    }
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

  function select(id) {
    if (typeof id === "string") {
      showCluster(clusterById.get(id));
    } else {
      showNode(id);
    }
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
    showNode(id);
  }

  // --- side panel -------------------------------------------------------------

  var panel = byId("details");

  function clearPanel(title) {
    while (panel.firstChild) panel.removeChild(panel.firstChild);
    panel.appendChild(el("h2", "panel-title", title));
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

  /** The nodes node id reaches (forward) or is reached by, over the whole analysis. */
  function peerList(title, id, forward) {
    var count = reachCountOf(id, forward);
    var section = el("section", "reach");
    section.setAttribute("data-testid", forward ? "reach-out" : "reach-in");
    section.setAttribute("data-count", String(count));
    section.appendChild(el("h3", null, title + " (" + count + ")"));
    panel.appendChild(section);
    if (!count) {
      section.appendChild(el("p", "hint", "nothing"));
      return;
    }
    var list = el("ul", "peers");
    peersOf(id, forward, LIST_LIMIT).forEach(function (found) {
      var flow = groupFlows[found.flow];
      var from = forward ? id : found.peer, to = forward ? found.peer : id;
      var item = el("li", flow.defaultAllow ? "peer by-default" : "peer");
      item.appendChild(button(nameOf(found.peer), function () { reveal(found.peer); }));
      item.appendChild(el("span", "ports", " " + (flow.ports || [flow.label]).join(", ")));
      if (flow.change && flow.change !== "unchanged") {
        item.appendChild(el("span", "diff-tag diff-" + changeClass(flow.change), " " + flow.change));
      }
      item.appendChild(button("why?", function () { showPair(from, to, found.flow); }, "link-button why"));
      list.appendChild(item);
    });
    if (count > LIST_LIMIT) {
      list.appendChild(el("li", "hint", "and " + (count - LIST_LIMIT) + " more"));
    }
    section.appendChild(list);
  }

  function showNode(id) {
    var d = details[id];
    clearPanel(d.name);
    var isolated = d.isolated || {};
    var policies = d.policies || {};
    var labels = Object.keys(d.labels || {}).map(function (k) { return k + "=" + d.labels[k]; });
    var source = d.source && d.source.file ? d.source.file + (d.source.line ? ":" + d.source.line : "") : null;
    var kind = d.type === "workload" ? d.kind : d.type === "inferred" ? "inferred (no uploaded object describes these pods)" : "external addresses";
    addFacts([
      ["Namespace", d.type === "ipblock" ? null : (d.namespace === null || d.namespace === undefined ? "any" : d.namespace)],
      ["Kind", kind],
      ["Pods", d.type === "workload" ? String(d.pods) : null],
      ["Addresses", d.cidrs && d.cidrs.length ? tagList(d.cidrs) : null],
      ["Selector", d.selector || null],
      ["Labels", labels.length ? tagList(labels) : (d.type === "ipblock" ? null : "none")],
      ["Ports", d.ports && d.ports.length ? tagList(d.ports.map(function (p) {
        return (p.name ? p.name + " " : "") + p.protocol + " " + p.port;
      })) : null],
      ["Ingress", d.type === "ipblock" ? null : isolationText(isolated.ingress, policies.ingress, "ingress")],
      ["Egress", d.type === "ipblock" ? null : isolationText(isolated.egress, policies.egress, "egress")],
      ["Source", source],
    ]);
    if (d.change) {
      panel.appendChild(el("p", "diff-note diff-" + d.change, d.change === "added"
        ? "Added: only the after version has it."
        : "Removed: only the before version had it."));
    }
    var actions = el("p", "actions");
    actions.appendChild(button("Focus on its neighbourhood", function () { setFocus(id); }, "small"));
    if (nodes.get(id)) {
      actions.appendChild(button("Collapse its namespace", function () { collapse(d.cluster); }, "small"));
    }
    if (why) {
      actions.appendChild(button("Why / why not from here", function () { why.set("from", id); }, "small"));
      actions.appendChild(button("… to here", function () { why.set("to", id); }, "small"));
    }
    panel.appendChild(actions);
    peerList("Can reach", id, true);
    peerList("Can be reached by", id, false);
    panel.appendChild(el("p", "hint",
      "In any number of hops it reaches " + plural(reachCount(id, true), "node") +
      " and is reached from " + plural(reachCount(id, false), "node") + "."));
  }

  function isolationText(isolated, policyIds, direction) {
    if (!isolated) return "not isolated: all " + direction + " allowed";
    var ids = policyIds || [];
    return "isolated by " + (ids.length ? ids.join(", ") : "a policy") + ": only what a rule allows";
  }

  /** One allowing rule: ref is [policy index, rule index, line] (see render._rule_refs). */
  function ruleBlock(ref, direction) {
    var policy = view.policies[ref[0]];
    var rules = policy.rules[direction] || [];
    var rule = rules[ref[1]] || null;
    var block = el("div", "rule");
    block.appendChild(el("p", "rule-head", policy.id + " · spec." + direction + "[" + ref[1] + "]"));
    var line = ref[2] || (rule && rule.line);
    if (policy.file) {
      block.appendChild(el("p", "rule-where", policy.file + (line ? ":" + line : "") +
        (rule && rule.endLine && rule.endLine !== line ? "-" + rule.endLine : "")));
    }
    if (rule && rule.text) {
      var pre = el("pre", "yaml");
      pre.textContent = shownBlock(rule.text);
      block.appendChild(pre);
    }
    return block;
  }

  function showEdge(edgeId) {
    if (typeof edgeId === "string") {
      showAggregate(edgeId);
      return;
    }
    var entry = edgeById.get(edgeId);
    if (entry) showFlow(entry);
  }

  /** The pair from -> to that flow k allows: its drawn arrow if there is one. */
  function showPair(from, to, k) {
    var drawn = outEdges[from].filter(function (edgeId) { return edgeById.get(edgeId).edge.to === to; });
    if (drawn.length) {
      showEdge(drawn[0]);
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
    addFacts([["Ports", tagList(portsOf(entry))]]);
    if (why) {
      var ask = el("p", "actions");
      ask.appendChild(button("Why / why not, for one port", function () {
        why.set("from", edge.from, true);
        why.set("to", edge.to, true);
        byId("why-port").focus();
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
    var group = aggregates.get(key);
    if (!group) return;
    clearPanel(labelOf(group.from) + " → " + labelOf(group.to));
    panel.appendChild(el("p", null, plural(group.pairs, "flow") + " between pairs of nodes" +
      (group.defaultAllow ? ", " + group.defaultAllow + " open by default" : "") + "."));
    function behind(rep) {
      return function (id) { return lastVisible.has(id) && representative(id, lastVisible) === rep; };
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
    actions.appendChild(button("Expand", function () { expand(c); }, "small"));
    panel.appendChild(actions);
    var list = el("ul", "peers");
    cluster.members.slice(0, LIST_LIMIT).forEach(function (id) {
      var item = el("li", "peer");
      item.appendChild(button(details[id].name, function () { reveal(id); }));
      list.appendChild(item);
    });
    if (cluster.members.length > LIST_LIMIT) list.appendChild(el("li", "hint", "and " + (cluster.members.length - LIST_LIMIT) + " more"));
    panel.appendChild(list);
  }

  // --- filters ----------------------------------------------------------------

  function setFocus(id) {
    state.focus = id;
    byId("focus-status").hidden = id === null;
    byId("focus-name").textContent = id === null ? "" : shown(nameOf(id));
    render();
    network.fit({ animation: false });
  }

  function bind(id, event, handler) {
    var node = byId(id);
    if (node) node.addEventListener(event, handler);
  }

  var searchTimer = null;
  bind("search", "input", function (event) {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      state.search = event.target.value.trim().toLowerCase();
      render();
      if (state.search) network.fit({ animation: false });
    }, 200);
  });
  /** The node a search means: ns/name or id, then name, label k=v, namespace, then any match. */
  function bestMatch(text) {
    var query = text.trim().toLowerCase();
    if (!query) return null;
    function lower(value) { return String(value === null || value === undefined ? "" : value).toLowerCase(); }
    var tests = [
      function (d, i) { return lower(d.id) === query || lower(nameOf(i)) === query; },
      function (d) { return lower(d.name) === query; },
      function (d) {
        return Object.keys(d.labels || {}).some(function (k) { return lower(k + "=" + d.labels[k]) === query; });
      },
      function (d) { return d.type !== "ipblock" && lower(d.namespace) === query; },
      function (d, i) { return searchText[i].indexOf(query) >= 0; },
    ];
    for (var t = 0; t < tests.length; t++) {
      for (var i = 0; i < details.length; i++) {
        if (tests[t](details[i], i)) return i;
      }
    }
    return null;
  }

  bind("search", "keydown", function (event) {
    if (event.key !== "Enter") return;
    event.preventDefault();
    clearTimeout(searchTimer);
    state.search = event.target.value.trim().toLowerCase();
    var best = bestMatch(event.target.value);
    render();
    if (best !== null) reveal(best);
  });
  bind("namespace-filter", "change", function (event) {
    state.namespace = event.target.value === "" ? null : Number(event.target.value);
    render();
    network.fit({ animation: false });
  });
  bind("hide-default", "change", function (event) {
    state.hideDefault = event.target.checked;
    render();
  });
  bind("hide-unchanged", "change", function (event) {
    state.hideUnchanged = event.target.checked;
    render();
  });
  bind("clear-focus", "click", function () { setFocus(null); });
  bind("expand-all", "click", function () {
    clusters.forEach(function (_, i) { state.expanded.add(i); });
    render();
    network.fit({ animation: false });
  });
  bind("collapse-all", "click", function () {
    state.expanded.clear();
    render();
    network.fit({ animation: false });
  });
  bind("fit", "click", function () { network.fit({ animation: false }); });

  // --- legend -----------------------------------------------------------------

  var legend = byId("legend-namespaces");
  if (legend) {
    clusters.forEach(function (cluster, i) {
      var item = el("li", "legend-item");
      var swatch = el("span", "swatch");
      swatch.style.backgroundColor = cluster.color; // CSSOM, which the CSP allows
      swatch.style.borderColor = cluster.border;
      item.appendChild(swatch);
      var name = button(cluster.title, function () { showCluster(i); });
      item.appendChild(name);
      item.appendChild(el("span", "legend-count",
        cluster.workloads ? plural(cluster.workloads, "workload") + ", " + plural(cluster.pods, "pod")
          : plural(cluster.members.length, "node")));
      legend.appendChild(item);
    });
  }

  // --- share and download -----------------------------------------------------

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
    var canvas = container.querySelector("canvas");
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

  // --- findings ---------------------------------------------------------------

  var findingButtons = Array.prototype.slice.call(document.querySelectorAll(".finding-toggle[data-finding]"));

  function highlightFinding(index) {
    var finding = (view.findings || [])[index];
    if (!finding) return;
    if (state.highlight && state.highlight.finding === index) {
      clearHighlight();
      return;
    }
    var members = new Set(finding.nodes);
    var lit = new Set();
    view.edges.forEach(function (edge) {
      if (members.has(edge.from) && members.has(edge.to)) lit.add(edge.id);
    });
    var litGroups = new Set(finding.nodes.map(function (id) { return details[id].g; }));
    var litFlows = new Set();
    groupFlows.forEach(function (flow, k) {
      if (litGroups.has(flow.source) && litGroups.has(flow.target)) litFlows.add(k);
    });
    state.highlight = { finding: index, nodes: members, edges: lit, flows: litFlows };
    members.forEach(function (id) { state.expanded.add(details[id].cluster); });
    render();
    var drawn = Array.from(members).filter(function (id) { return nodes.get(id); });
    if (drawn.length) network.fit({ nodes: drawn, animation: false });
    showFindingState();
  }

  function clearHighlight() {
    state.highlight = null;
    render();
    showFindingState();
  }

  function showFindingState() {
    var active = state.highlight ? state.highlight.finding : null;
    findingButtons.forEach(function (node) {
      var on = Number(node.dataset.finding) === active;
      node.setAttribute("aria-pressed", on ? "true" : "false");
      node.parentNode.classList.toggle("active", on);
    });
    var clearButton = byId("clear-highlight");
    if (clearButton) clearButton.hidden = active === null;
    document.body.dataset.highlight = active === null ? "" : String(active);
  }

  findingButtons.forEach(function (node) {
    node.addEventListener("click", function () { highlightFinding(Number(node.dataset.finding)); });
  });
  bind("clear-highlight", "click", clearHighlight);

  // --- why / why not -------------------------------------------------------------

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
      var index = visIdOf.get(ref.id);
      return index !== undefined ? nameOf(index) : ref.name;
    }

    function excerpt(check) {
      var index = policyIndex.get(check.policy);
      if (index === undefined || check.rule === null) return null;
      var rule = (view.policies[index].rules[check.direction] || [])[check.rule];
      if (!rule || !rule.text) return null;
      var box = el("details", "why-excerpt");
      box.appendChild(el("summary", null, "YAML"));
      var pre = el("pre", "yaml");
      pre.textContent = shownBlock(rule.text);
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
      var pair = [visIdOf.get(from), visIdOf.get(to)].filter(function (id) {
        return id !== undefined && nodes.get(id);
      });
      var between = outEdges[visIdOf.get(from)] || [];
      var edge = between.filter(function (edgeId) {
        return edgeById.get(edgeId).edge.to === visIdOf.get(to) && edges.get(edgeId);
      });
      network.setSelection({ nodes: pair, edges: edge }, { unselectAll: true, highlightEdges: false });
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
          network.selectNodes([id]);
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

  // --- start ------------------------------------------------------------------

  render();
  network.fit({ animation: false });

  // Hooks for the browser tests and the benchmark (read-only use).
  window.netpolViz = {
    network: network,
    nodes: nodes,
    edges: edges,
    view: view,
    state: state,
    expand: expand,
    collapse: collapse,
    reveal: reveal,
    highlightFinding: highlightFinding,
    clearHighlight: clearHighlight,
    /** What a finding click lit: {finding, nodes, edges} (vis ids), or null. */
    highlighted: function () {
      var h = state.highlight;
      return h && { finding: h.finding, nodes: Array.from(h.nodes), edges: Array.from(h.edges) };
    },
    why: why,
    domPointOfNode: function (id) {
      return network.canvasToDOM(network.getPositions([id])[id]);
    },
    /** A point on edge `id` where a click selects that edge and nothing else, even nearby. */
    domPointOfEdge: function (id) {
      var edge = network.body.edges[id];
      var around = [[0, 0], [4, 0], [-4, 0], [0, 4], [0, -4]];
      for (var step = 0; step <= 16; step++) {
        var t = 0.5 + (step % 2 ? 1 : -1) * Math.ceil(step / 2) * 0.05;
        var point = network.canvasToDOM(edge.edgeType.getPoint(t));
        var clear = around.every(function (d) {
          var near = { x: point.x + d[0], y: point.y + d[1] };
          return network.getNodeAt(near) === undefined && network.getEdgeAt(near) === id;
        });
        if (clear) return point;
      }
      return network.canvasToDOM(edge.edgeType.getPoint(0.5));
    },
  };
})();
