/*
 * netpol-viz diagram page, filters: which nodes are visible (focus on one
 * node: it and its direct peers; a namespace; the search text) and the
 * toolbar's namespace filter, checkboxes and buttons (search.js has the
 * search box). Uses core; draw (NV.render, NV.network) and address
 * (NV.syncAddress) at run time. Provides NV.visibleNodes, NV.filtered,
 * NV.setFocus, NV.focusPeers.
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var state = NV.state, details = NV.details, clusters = NV.clusters;
  var groups = NV.groups, groupFlows = NV.groupFlows, searchText = NV.searchText;
  var bind = NV.bind, nameOf = NV.nameOf;

  /**
   * Each node that the focused node has a flow to (forward) or from, once per flow:
   * calls visit(peer, k). The flows' other ends only: the focused node's group-mates
   * are its peers only through a flow of its group to itself.
   */
  function focusPeers(forward, visit) {
    var id = state.focus;
    (forward ? NV.flowsFrom : NV.flowsTo)[details[id].g].forEach(function (k) {
      var flow = groupFlows[k];
      if (NV.hiddenFlow(flow)) return;
      groups[forward ? flow.target : flow.source].forEach(function (peer) {
        if (peer !== id) visit(peer, k);
      });
    });
  }

  function focusSet() {
    var keep = new Set([state.focus]);
    function add(peer) { keep.add(peer); }
    focusPeers(true, add);
    focusPeers(false, add);
    return keep;
  }

  /** A namespace's nodes and every member of the groups its groups' flows reach or come from. */
  function namespaceSet() {
    var members = clusters[state.namespace].members;
    var keep = new Set(members);
    new Set(members.map(function (id) { return details[id].g; })).forEach(function (g) {
      NV.flowsFrom[g].concat(NV.flowsTo[g]).forEach(function (k) {
        var flow = groupFlows[k];
        groups[flow.source].concat(groups[flow.target]).forEach(function (id) { keep.add(id); });
      });
    });
    return keep;
  }

  /** The vis ids of the nodes that the focus, namespace filter and search leave. */
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

  /** Show the focus (or its absence) in the toolbar; the diagram's is render's. */
  function showFocus() {
    var id = state.focus;
    NV.byId("focus-status").hidden = id === null;
    NV.byId("focus-name").textContent = id === null ? "" : NV.shown(nameOf(id));
  }

  /**
   * Draw only node id, its direct peers and its own flows (null: everything again).
   * The search text that found it is dropped: it would hide the peers.
   */
  function setFocus(id) {
    state.focus = id;
    if (id !== null) {
      state.expanded.add(details[id].cluster);
      if (state.search) NV.clearSearch();
    }
    showFocus();
    NV.render();
    NV.network.fit({ animation: false });
    // The panel's focus button says what a click does now.
    if (state.selected !== null) NV.showNode(state.selected);
    NV.syncAddress();
  }

  bind("namespace-filter", "change", function (event) {
    state.namespace = event.target.value === "" ? null : Number(event.target.value);
    NV.render();
    NV.network.fit({ animation: false });
    NV.syncAddress();
  });
  bind("hide-default", "change", function (event) {
    state.hideDefault = event.target.checked;
    NV.render();
    NV.syncAddress();
  });
  bind("hide-unchanged", "change", function (event) {
    state.hideUnchanged = event.target.checked;
    NV.render();
    NV.syncAddress();
  });
  bind("clear-focus", "click", function () { setFocus(null); });
  bind("expand-all", "click", function () {
    clusters.forEach(function (_, i) { state.expanded.add(i); });
    NV.render();
    NV.network.fit({ animation: false });
  });
  bind("collapse-all", "click", function () {
    state.expanded.clear();
    NV.render();
    NV.network.fit({ animation: false });
  });
  bind("fit", "click", function () { NV.network.fit({ animation: false }); });

  Object.assign(NV, {
    visibleNodes: visibleNodes,
    filtered: filtered,
    setFocus: setFocus,
    showFocus: showFocus,
    focusPeers: focusPeers,
  });
})();
