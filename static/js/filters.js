/*
 * netpol-viz diagram page, filters: which nodes are visible (focus on one
 * node, a namespace, the search text), the toolbar's search box, namespace
 * filter, checkboxes and buttons. Uses core; draw (NV.render, NV.reveal,
 * NV.network) at run time. Provides NV.visibleNodes, NV.filtered,
 * NV.setFocus, NV.bestMatch.
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var state = NV.state, details = NV.details, clusters = NV.clusters;
  var groups = NV.groups, groupFlows = NV.groupFlows, searchText = NV.searchText;
  var bind = NV.bind, nameOf = NV.nameOf;

  /** `keep` plus every member of the groups that `groupSet`'s flows reach or come from. */
  function addPeers(keep, groupSet, skip) {
    groupSet.forEach(function (g) {
      NV.flowsFrom[g].concat(NV.flowsTo[g]).forEach(function (k) {
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

  function setFocus(id) {
    state.focus = id;
    NV.byId("focus-status").hidden = id === null;
    NV.byId("focus-name").textContent = id === null ? "" : NV.shown(nameOf(id));
    NV.render();
    NV.network.fit({ animation: false });
  }

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

  var searchTimer = null;
  bind("search", "input", function (event) {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      state.search = event.target.value.trim().toLowerCase();
      NV.render();
      if (state.search) NV.network.fit({ animation: false });
    }, 200);
  });
  bind("search", "keydown", function (event) {
    if (event.key !== "Enter") return;
    event.preventDefault();
    clearTimeout(searchTimer);
    state.search = event.target.value.trim().toLowerCase();
    var best = bestMatch(event.target.value);
    NV.render();
    if (best !== null) NV.reveal(best);
  });
  bind("namespace-filter", "change", function (event) {
    state.namespace = event.target.value === "" ? null : Number(event.target.value);
    NV.render();
    NV.network.fit({ animation: false });
  });
  bind("hide-default", "change", function (event) {
    state.hideDefault = event.target.checked;
    NV.render();
  });
  bind("hide-unchanged", "change", function (event) {
    state.hideUnchanged = event.target.checked;
    NV.render();
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
    bestMatch: bestMatch,
  });
})();
