/*
 * netpol-viz diagram page, findings: the panel groups them by severity
 * (server-side, templates/_diagram.html) and a select shows one severity
 * only. A click on a finding shows it in the details panel (message, rule
 * id, nodes, policies with file:line) and, when it concerns nodes,
 * highlights them and the flows between them (the rest dimmed, see
 * draw.js); a second click or "clear" removes the highlight. Uses core;
 * draw (NV.render, NV.nodes, NV.network, NV.reveal) and the panel
 * (NV.clearPanel, NV.addFacts) at run time. Provides NV.highlightFinding,
 * NV.clearHighlight, NV.showFinding.
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var view = NV.view, state = NV.state, details = NV.details;
  var el = NV.el, plural = NV.plural;

  var findingButtons = Array.prototype.slice.call(document.querySelectorAll(".finding-toggle[data-finding]"));
  /** A finding's panel lists this many nodes, then says how many more. */
  var NODE_LIMIT = 100;

  function where(file, line) {
    return file ? file + (line ? ":" + line : "") : null;
  }

  /** The finding in the details panel: what it says, where, and what it concerns. */
  function showFinding(index) {
    var finding = (view.findings || [])[index];
    if (!finding) return;
    var panel = NV.clearPanel("Finding: " + finding.rule);
    var box = el("div", "finding-details severity-" + finding.severity);
    box.setAttribute("data-testid", "finding-details");
    box.setAttribute("data-finding", String(index));
    box.appendChild(el("p", "message", finding.message));
    panel.appendChild(box);
    var source = finding.source || {};
    NV.addFacts([
      ["Severity", finding.severity],
      ["Rule id", finding.rule],
      ["Where", where(source.file, source.line)],
    ]);

    var nodes = el("section", "finding-nodes");
    nodes.appendChild(el("h3", null, plural(finding.nodes.length, "node")));
    if (finding.nodes.length) {
      var list = el("ul", "peers");
      finding.nodes.slice(0, NODE_LIMIT).forEach(function (id) {
        var item = el("li", "peer");
        item.appendChild(NV.button(NV.nameOf(id), function () { NV.reveal(id); }));
        list.appendChild(item);
      });
      if (finding.nodes.length > NODE_LIMIT) {
        list.appendChild(el("li", "hint", "and " + (finding.nodes.length - NODE_LIMIT) + " more"));
      }
      nodes.appendChild(list);
    } else {
      nodes.appendChild(el("p", "hint", "It is about the upload as a whole, not particular nodes."));
    }
    panel.appendChild(nodes);

    var policies = el("section", "finding-policies");
    policies.appendChild(el("h3", null, finding.policies.length === 1 ? "1 policy" : finding.policies.length + " policies"));
    var policyList = el("ul", "tags");
    finding.policies.forEach(function (id) {
      var policy = view.policies[NV.policyIndex.get(id)];
      var at = policy ? where(policy.file, policy.line) : null;
      policyList.appendChild(el("li", "policy", at ? id + " (" + at + ")" : id));
    });
    if (finding.policies.length) policies.appendChild(policyList);
    panel.appendChild(policies);
  }

  /** Show finding `index` and light its nodes; a second click on a lit finding unlights it. */
  function highlightFinding(index) {
    var finding = (view.findings || [])[index];
    if (!finding) return;
    if (state.highlight && state.highlight.finding === index) {
      clearHighlight();
      return;
    }
    if (finding.nodes.length) {
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
    } else if (state.highlight) {
      state.highlight = null;
      NV.render();
    }
    showFindingState(index);
    showFinding(index);
  }

  function clearHighlight() {
    state.highlight = null;
    NV.render();
    showFindingState(null);
  }

  /** Mark the finding last clicked (`shown`) and the lit one; show "clear" while one is lit. */
  function showFindingState(shown) {
    var active = state.highlight ? state.highlight.finding : null;
    findingButtons.forEach(function (node) {
      var index = Number(node.dataset.finding);
      node.setAttribute("aria-pressed", index === active ? "true" : "false");
      node.parentNode.classList.toggle("active", index === active || index === shown);
    });
    var clearButton = NV.byId("clear-highlight");
    if (clearButton) clearButton.hidden = active === null;
    document.body.dataset.highlight = active === null ? "" : String(active);
  }

  findingButtons.forEach(function (node) {
    node.addEventListener("click", function () { highlightFinding(Number(node.dataset.finding)); });
  });
  NV.bind("clear-highlight", "click", clearHighlight);

  // The severity filter: one option per group the page has, with its count.
  var filter = NV.byId("finding-severity");
  var groupsBySeverity = Array.prototype.slice.call(document.querySelectorAll(".finding-group[data-severity]"));
  if (filter && groupsBySeverity.length) {
    groupsBySeverity.forEach(function (group) {
      var option = el("option", null, group.dataset.severity + " (" + group.dataset.count + ")");
      option.value = group.dataset.severity;
      filter.appendChild(option);
    });
    filter.addEventListener("change", function () {
      groupsBySeverity.forEach(function (group) {
        group.hidden = filter.value !== "" && group.dataset.severity !== filter.value;
      });
    });
    filter.closest(".finding-filter").hidden = false;
  }

  Object.assign(NV, {
    highlightFinding: highlightFinding,
    clearHighlight: clearHighlight,
    showFinding: showFinding,
  });
})();
