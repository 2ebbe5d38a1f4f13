/*
 * netpol-viz diagram page: reads the JSON data island (#view-data, built by
 * webapp/render.py) and drives vis-network: clusters that collapse and expand,
 * filters, the side panel, copy link and PNG download.
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

  var HIDDEN_CHARS = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

  function shown(value) {
    return String(value === null || value === undefined ? "" : value).replace(HIDDEN_CHARS, function (c) {
      return "<U+" + c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0") + ">";
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

  // --- the data ---------------------------------------------------------------

  var details = view.nodeDetails;
  var clusters = view.clusters;
  var edgeById = new Map();
  var outEdges = details.map(function () { return []; });
  var inEdges = details.map(function () { return []; });
  view.edges.forEach(function (edge, index) {
    edgeById.set(edge.id, { edge: edge, info: view.edgeDetails[index] });
    outEdges[edge.from].push(edge.id);
    inEdges[edge.to].push(edge.id);
  });
  var nodeById = new Map(view.nodes.map(function (node) { return [node.id, node]; }));
  var clusterById = new Map(clusters.map(function (cluster, index) { return [cluster.id, index]; }));
  var searchText = details.map(function (d) {
    var parts = [d.name, d.namespace, d.kind, d.id, d.selector].concat(d.cidrs || []);
    Object.keys(d.labels || {}).forEach(function (key) { parts.push(key + "=" + d.labels[key]); });
    return parts.filter(function (p) { return p !== null && p !== undefined; }).join("\n").toLowerCase();
  });

  function portsOf(entry) {
    return entry.info.ports || [entry.edge.label];
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
  };
  var visibleCount = 0;

  function focusSet() {
    var keep = new Set([state.focus]);
    outEdges[state.focus].concat(inEdges[state.focus]).forEach(function (edgeId) {
      var edge = edgeById.get(edgeId).edge;
      if (state.hideDefault && edgeById.get(edgeId).info.defaultAllow) return;
      keep.add(edge.from);
      keep.add(edge.to);
    });
    return keep;
  }

  function namespaceSet() {
    var keep = new Set(clusters[state.namespace].members);
    clusters[state.namespace].members.forEach(function (id) {
      outEdges[id].concat(inEdges[id]).forEach(function (edgeId) {
        var edge = edgeById.get(edgeId).edge;
        keep.add(edge.from);
        keep.add(edge.to);
      });
    });
    return keep;
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
    var allDefault = group.defaultAllow === group.ids.length;
    var style = view.edgeStyles[allDefault ? "aggregateDefault" : "aggregate"];
    var label = plural(group.ids.length, "flow");
    var title = label + " from " + shown(labelOf(from)) + " to " + shown(labelOf(to));
    if (group.defaultAllow) title += "\n" + group.defaultAllow + " open by default";
    var edge = { id: "agg:" + from + ">" + to, from: from, to: to, label: label, title: title };
    return Object.assign(edge, style);
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
    aggregates = new Map();
    view.edges.forEach(function (edge, index) {
      if (!visible.has(edge.from) || !visible.has(edge.to)) return;
      var info = view.edgeDetails[index];
      if (state.hideDefault && info.defaultAllow) return;
      var from = representative(edge.from, visible);
      var to = representative(edge.to, visible);
      if (from === edge.from && to === edge.to) {
        wantEdges.push(edge);
        return;
      }
      if (from === to) return; // inside one collapsed namespace
      var key = "agg:" + from + ">" + to;
      var group = aggregates.get(key);
      if (!group) {
        group = { from: from, to: to, ids: [], defaultAllow: 0 };
        aggregates.set(key, group);
      }
      group.ids.push(edge.id);
      if (info.defaultAllow) group.defaultAllow += 1;
    });
    aggregates.forEach(function (group) {
      wantEdges.push(aggregateEdge(group.from, group.to, group));
    });

    var leaving = nodes.getIds().filter(function (id) { return !wantNodes.has(id); });
    nodes.remove(leaving);
    edges.clear();
    nodes.update(Array.from(wantNodes.values()));
    edges.add(wantEdges);
    updateStatus();
  }

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
      parts.push(
        view.omitted.flows + " more flows (" + view.omitted.defaultAllow +
        " open by default) are too many to draw; the downloads list every flow."
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

  function peerList(title, edgeIds, end) {
    panel.appendChild(el("h3", null, title + " (" + edgeIds.length + ")"));
    if (!edgeIds.length) {
      panel.appendChild(el("p", "hint", "nothing"));
      return;
    }
    var list = el("ul", "peers");
    edgeIds.slice(0, LIST_LIMIT).forEach(function (edgeId) {
      var entry = edgeById.get(edgeId);
      var peer = entry.edge[end];
      var item = el("li", entry.info.defaultAllow ? "peer by-default" : "peer");
      item.appendChild(button(nameOf(peer), function () { reveal(peer); }));
      item.appendChild(el("span", "ports", " " + portsOf(entry).join(", ")));
      item.appendChild(button("why?", function () { showEdge(edgeId); }, "link-button why"));
      list.appendChild(item);
    });
    if (edgeIds.length > LIST_LIMIT) {
      list.appendChild(el("li", "hint", "and " + (edgeIds.length - LIST_LIMIT) + " more"));
    }
    panel.appendChild(list);
  }

  function reachCount(start, forward) {
    var seen = new Set([start]);
    var queue = [start];
    while (queue.length) {
      var id = queue.pop();
      (forward ? outEdges[id] : inEdges[id]).forEach(function (edgeId) {
        var edge = edgeById.get(edgeId).edge;
        var next = forward ? edge.to : edge.from;
        if (!seen.has(next)) {
          seen.add(next);
          queue.push(next);
        }
      });
    }
    return seen.size - 1;
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
    var actions = el("p", "actions");
    actions.appendChild(button("Focus on its neighbourhood", function () { setFocus(id); }, "small"));
    if (nodes.get(id)) {
      actions.appendChild(button("Collapse its namespace", function () { collapse(d.cluster); }, "small"));
    }
    panel.appendChild(actions);
    peerList("Can reach", outEdges[id], "to");
    peerList("Can be reached by", inEdges[id], "from");
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
    if (!entry) return;
    var edge = entry.edge, info = entry.info;
    clearPanel(nameOf(edge.from) + " → " + nameOf(edge.to));
    addFacts([["Ports", tagList(portsOf(entry))]]);
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

  function showAggregate(key) {
    var group = aggregates.get(key);
    if (!group) return;
    clearPanel(labelOf(group.from) + " → " + labelOf(group.to));
    panel.appendChild(el("p", null, plural(group.ids.length, "flow") +
      (group.defaultAllow ? ", " + group.defaultAllow + " open by default" : "") + "."));
    var list = el("ul", "peers");
    group.ids.slice(0, LIST_LIMIT).forEach(function (edgeId) {
      var entry = edgeById.get(edgeId);
      var item = el("li", entry.info.defaultAllow ? "peer by-default" : "peer");
      item.appendChild(button(nameOf(entry.edge.from) + " → " + nameOf(entry.edge.to), function () { showEdge(edgeId); }));
      item.appendChild(el("span", "ports", " " + portsOf(entry).join(", ")));
      list.appendChild(item);
    });
    if (group.ids.length > LIST_LIMIT) list.appendChild(el("li", "hint", "and " + (group.ids.length - LIST_LIMIT) + " more"));
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
  bind("namespace-filter", "change", function (event) {
    state.namespace = event.target.value === "" ? null : Number(event.target.value);
    render();
    network.fit({ animation: false });
  });
  bind("hide-default", "change", function (event) {
    state.hideDefault = event.target.checked;
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
