/*
 * netpol-viz diagram page, findings: a click on a finding highlights its
 * nodes and the flows between them (the rest dimmed, see draw.js); a second
 * click or "clear" removes it. Uses core; draw (NV.render, NV.nodes,
 * NV.network) at run time. Provides NV.highlightFinding, NV.clearHighlight.
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var view = NV.view, state = NV.state, details = NV.details;

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
    NV.groupFlows.forEach(function (flow, k) {
      if (litGroups.has(flow.source) && litGroups.has(flow.target)) litFlows.add(k);
    });
    state.highlight = { finding: index, nodes: members, edges: lit, flows: litFlows };
    members.forEach(function (id) { state.expanded.add(details[id].cluster); });
    NV.render();
    var drawn = Array.from(members).filter(function (id) { return NV.nodes.get(id); });
    if (drawn.length) NV.network.fit({ nodes: drawn, animation: false });
    showFindingState();
  }

  function clearHighlight() {
    state.highlight = null;
    NV.render();
    showFindingState();
  }

  function showFindingState() {
    var active = state.highlight ? state.highlight.finding : null;
    findingButtons.forEach(function (node) {
      var on = Number(node.dataset.finding) === active;
      node.setAttribute("aria-pressed", on ? "true" : "false");
      node.parentNode.classList.toggle("active", on);
    });
    var clearButton = NV.byId("clear-highlight");
    if (clearButton) clearButton.hidden = active === null;
    document.body.dataset.highlight = active === null ? "" : String(active);
  }

  findingButtons.forEach(function (node) {
    node.addEventListener("click", function () { highlightFinding(Number(node.dataset.finding)); });
  });
  NV.bind("clear-highlight", "click", clearHighlight);

  Object.assign(NV, {
    highlightFinding: highlightFinding,
    clearHighlight: clearHighlight,
  });
})();
