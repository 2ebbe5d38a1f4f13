/*
 * netpol-viz diagram page, open traffic. A flow open only because neither
 * side is isolated is not drawn pair by pair: the nodes' isolation markers
 * say it ("open to all", "may reach anything"). The toolbar's "show open
 * traffic" draws it summed by namespace: one dashed arrow per pair of
 * namespaces, counted in pairs of nodes over the whole analysis (from the
 * groups). An expanded namespace gets a small hub box above it for these
 * arrows; a collapsed namespace, or the fold of namespaces, is its own box.
 * Open traffic inside one namespace is counted in its hub's tooltip. Uses
 * core; draw (NV.representative, NV.render) at run time. Provides
 * NV.openTraffic (called by render) and NV.showOpenArrow (the side panel).
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  if (!NV.view.openByNamespace) return;
  var state = NV.state, details = NV.details, clusters = NV.clusters;
  var groups = NV.groups, groupFlows = NV.groupFlows;
  var plural = NV.plural, shown = NV.shown, el = NV.el;

  var STYLE = {
    dashes: [6, 5],
    color: { color: "#8d9aa3", highlight: "#1565c0", hover: "#1565c0" },
    arrows: "to",
  };

  /** The drawn end of node id's open arrows: its collapsed namespace, the fold, or its namespace's hub. */
  function endOf(id, visible) {
    var rep = NV.representative(id, visible);
    var drawnInside = rep === id || String(rep).indexOf("grp:") === 0; // itself or its group's box
    return drawnInside ? "hub:" + details[id].cluster : rep;
  }

  /**
   * Into wantNodes and wantEdges: the open arrows between namespaces and the hubs they
   * need. Returns them by edge id: {from, to, pairs, flows} (flow indexes).
   */
  function openTraffic(visible, blocks, wantNodes, wantEdges) {
    var found = new Map();
    if (!state.showOpen || state.focus !== null) return found;
    var inside = new Map(); // hub -> open pairs inside its namespace
    var ends = groups.map(function (members) {
      var counts = new Map();
      members.forEach(function (id) {
        if (!visible.has(id)) return;
        var end = endOf(id, visible);
        counts.set(end, (counts.get(end) || 0) + 1);
      });
      return counts;
    });
    groupFlows.forEach(function (flow, k) {
      if (!flow.defaultAllow) return;
      var same = flow.source === flow.target;
      ends[flow.source].forEach(function (a, from) {
        ends[flow.target].forEach(function (b, to) {
          if (from === to) {
            inside.set(from, (inside.get(from) || 0) + (same ? a * (a - 1) : a * b));
            return;
          }
          var key = "open:" + from + ">" + to;
          var arrow = found.get(key);
          if (!arrow) {
            arrow = { from: from, to: to, pairs: 0, flows: [] };
            found.set(key, arrow);
          }
          arrow.pairs += a * b;
          if (arrow.flows.indexOf(k) < 0) arrow.flows.push(k);
        });
      });
    });
    var origin = new Map();
    blocks.forEach(function (b) { origin.set(b.c, b); });
    function hub(end) {
      if (end.indexOf("hub:") !== 0 || wantNodes.has(end)) return;
      var c = Number(end.slice(4));
      var b = origin.get(c);
      var within = inside.get(end) || 0;
      wantNodes.set(end, {
        id: end,
        label: "open traffic · " + shown(clusters[c].title),
        title: "Open-by-default traffic of namespace " + shown(clusters[c].title) + " starts and ends here." +
          (within ? "\n" + plural(within, "pair") + " of its nodes are open to each other." : ""),
        shape: "box",
        x: b.x + b.w / 2,
        y: b.y - 32,
        font: { size: 13, color: "#37474f" },
        margin: 6,
        borderWidth: 1.5,
        shapeProperties: { borderDashes: [4, 3], borderRadius: 10 },
        color: { background: "#ffffff", border: clusters[c].border,
                 highlight: { background: "#ffffff", border: "#1565c0" },
                 hover: { background: "#ffffff", border: "#1565c0" } },
      });
    }
    found.forEach(function (arrow, key) {
      hub(arrow.from);
      hub(arrow.to);
      wantEdges.push(Object.assign({
        id: key,
        from: arrow.from,
        to: arrow.to,
        label: plural(arrow.pairs, "open pair"),
        title: plural(arrow.pairs, "pair") + " of nodes open by default from " + shown(NV.labelOf(arrow.from)) +
          " to " + shown(NV.labelOf(arrow.to)) + ": neither side is isolated",
        width: Math.min(6, 1 + Math.log10(arrow.pairs + 1)),
      }, STYLE));
    });
    inside.forEach(function (_, end) { hub(end); });
    return found;
  }

  /** The side panel of an open arrow: what it sums, and some of its pairs. */
  function showOpenArrow(panel, arrow) {
    panel.appendChild(el("p", "by-default-note", plural(arrow.pairs, "pair") + " of nodes from " +
      shown(NV.labelOf(arrow.from)) + " to " + shown(NV.labelOf(arrow.to)) + " are open by default: " +
      "no policy isolates the source for egress or the target for ingress, and Kubernetes allows " +
      "all traffic between pods that are not isolated."));
    panel.appendChild(el("p", "hint", "Select a node to list every node it reaches, with ports."));
  }

  NV.bind("show-open", "change", function (event) {
    state.showOpen = event.target.checked;
    NV.render();
    NV.network.fit({ animation: false });
  });

  Object.assign(NV, { openTraffic: openTraffic, showOpenArrow: showOpenArrow });
})();
