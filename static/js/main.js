/*
 * netpol-viz diagram page, start: wires the network's clicks to the panel
 * and the why tool, draws the first view as the address asks, signals
 * readiness (body[data-ready="1"]) and publishes the read-only hooks for the
 * browser tests and the benchmark (window.netpolViz). Loaded last; uses
 * every module.
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var network = NV.network;

  network.on("click", function (params) {
    var source = params.event && params.event.srcEvent;
    if (source && source.shiftKey && params.nodes.length && typeof params.nodes[0] === "number") {
      // Two nodes picked: the why tool asks (denied.js draws a denied answer); offline, denied.js.
      if (NV.why) NV.why.pick(params.nodes[0]);
      else if (NV.denied) NV.denied.shiftPick(params.nodes[0]);
      return;
    }
    if (params.nodes.length) {
      NV.select(params.nodes[0]);
    } else if (params.edges.length) {
      NV.showEdge(params.edges[0]);
    }
  });

  network.on("doubleClick", function (params) {
    if (!params.nodes.length) return;
    var id = params.nodes[0];
    if (id === NV.MORE) {
      NV.unfold();
    } else if (typeof id === "string" && id.indexOf("grp:") === 0) {
      NV.openGroup(id);
    } else if (typeof id === "string" && id.indexOf("hub:") === 0) {
      return; // an open-traffic hub: its namespace is already expanded
    } else if (typeof id === "string") {
      NV.expand(NV.clusterById.get(id));
    } else {
      NV.collapse(NV.details[id].cluster);
    }
  });

  // The address's focus and filters shape the first view; selection and the why
  // question need it drawn. All before the first paint, so "ready" means restored.
  NV.startLevel(); // the level of detail readable at fit, before the address's focus
  var wanted = NV.restoreAddress();
  // Readiness signal for tests and the benchmark: drawn, nothing simulating. Listened
  // for only now, just before the first render: the browser may paint the empty
  // canvas between two of the page's scripts.
  network.once("afterDrawing", function () {
    document.body.dataset.readyMs = String(Math.round(performance.now()));
    document.body.dataset.ready = "1";
  });
  NV.render();
  network.fit({ animation: false });
  NV.applyAddress(wanted);

  // Hooks for the browser tests and the benchmark (read-only use).
  window.netpolViz = {
    network: network,
    nodes: NV.nodes,
    edges: NV.edges,
    view: NV.view,
    state: NV.state,
    expand: NV.expand,
    collapse: NV.collapse,
    reveal: NV.reveal,
    highlightFinding: NV.highlightFinding,
    /** The PNG / SVG export's layout of the current view (export.js). */
    exportSheet: NV.exportSheet,
    svgOfView: NV.svgOfView,
    clearHighlight: NV.clearHighlight,
    /** What a finding click lit: {finding, nodes, edges} (vis ids), or null. */
    highlighted: function () {
      var h = NV.state.highlight;
      return h && { finding: h.finding, nodes: Array.from(h.nodes), edges: Array.from(h.edges) };
    },
    why: NV.why,
    setFocus: NV.setFocus,
    /** Every node a search for `text` lists, best first (vis ids). */
    matchNodes: NV.matchNodes,
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
