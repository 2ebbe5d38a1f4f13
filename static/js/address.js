/*
 * netpol-viz diagram page, the address bar (CONTRACT §5 deep links): the
 * page's own query parameters say what is focused (node), selected (select),
 * filtered (q, namespace, hideDefault, hideUnchanged) and asked (from, to,
 * port, protocol). NV.restoreAddress reads them into the state before the
 * first render and NV.applyAddress selects and asks once it is drawn;
 * NV.syncAddress writes them back (history.replaceState) after every change,
 * and into the share link, so a copied link opens exactly this view. Every
 * other parameter (view=graph|matrix, which matrix.js reads) is kept as it
 * is. Uses core; filters (NV.showFocus), draw (NV.network, NV.reveal), the
 * panel (NV.showNode) and why (NV.why) at run time.
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var state = NV.state, details = NV.details, clusters = NV.clusters, byId = NV.byId;

  var OWN = ["node", "select", "q", "namespace", "hideDefault", "hideUnchanged", "from", "to", "port", "protocol"];
  var shareInput = byId("share-url");
  var shareBase = shareInput ? shareInput.value : null;
  var restoring = false;

  function queryString(params) {
    // A node id's slashes are allowed in a query; %2F would only make links harder to read.
    return params.toString().replace(/%2F/gi, "/");
  }

  /** Write the state into the address bar and the share link, keeping others' parameters. */
  function syncAddress() {
    if (restoring) return;
    var params = new URLSearchParams(window.location.search);
    OWN.forEach(function (key) { params.delete(key); });
    if (state.focus !== null) params.set("node", details[state.focus].id);
    if (state.selected !== null && state.selected !== state.focus) params.set("select", details[state.selected].id);
    var search = byId("search");
    if (state.search && search) params.set("q", search.value.trim());
    if (state.namespace !== null) params.set("namespace", clusters[state.namespace].title);
    if (state.hideDefault) params.set("hideDefault", "1");
    if (state.hideUnchanged) params.set("hideUnchanged", "1");
    var asked = NV.why && NV.why.asked();
    if (asked) {
      params.set("from", asked.from);
      params.set("to", asked.to);
      if (asked.port) params.set("port", asked.port);
      if (asked.protocol) params.set("protocol", asked.protocol);
    }
    var query = queryString(params);
    var url = window.location.pathname + (query ? "?" + query : "") + window.location.hash;
    try {
      window.history.replaceState(window.history.state, "", url);
    } catch (ignored) { /* a file:// page (the offline export) may not change its address */ }
    if (shareInput) {
      shareInput.value = shareBase + (query ? (shareBase.indexOf("?") < 0 ? "?" : "&") + query : "");
    }
  }

  /**
   * Read the address into the state and the toolbar, before the first render.
   * Returns what to do once drawn: {select, focus, why, unknown} (vis ids or null,
   * the why question or null, the parameters naming nothing in this analysis).
   */
  function restoreAddress() {
    var params = new URLSearchParams(window.location.search);
    var unknown = [];
    function nodeParam(name) {
      var value = params.get(name);
      if (value === null || value === "") return null;
      var id = NV.visIdOf.get(value);
      if (id === undefined) unknown.push(name + "=" + value);
      return id === undefined ? null : id;
    }
    var q = params.get("q");
    var search = byId("search");
    if (q && search) {
      search.value = q;
      state.search = q.trim().toLowerCase();
    }
    var namespace = params.get("namespace");
    if (namespace !== null) {
      var index = clusters.findIndex(function (cluster) { return cluster.title === namespace; });
      var filter = byId("namespace-filter");
      if (index >= 0 && filter) {
        state.namespace = index;
        filter.value = String(index);
      } else {
        unknown.push("namespace=" + namespace);
      }
    }
    [["hideDefault", "hide-default"], ["hideUnchanged", "hide-unchanged"]].forEach(function (pair) {
      var box = byId(pair[1]);
      if (params.get(pair[0]) === "1" && box) {
        state[pair[0]] = true;
        box.checked = true;
      }
    });
    var focus = nodeParam("node");
    if (focus !== null) {
      state.focus = focus;
      state.expanded.add(details[focus].cluster);
      NV.showFocus();
    }
    var select = nodeParam("select");
    var from = params.get("from"), to = params.get("to");
    return {
      focus: focus,
      select: select !== null ? select : focus,
      why: from && to ? { from: from, to: to, port: params.get("port"), protocol: params.get("protocol") } : null,
      unknown: unknown,
    };
  }

  /** Once drawn: select the linked node and ask the linked question. */
  function applyAddress(wanted) {
    restoring = true;
    if (wanted.select !== null && wanted.select === wanted.focus) {
      NV.network.selectNodes([wanted.select]);
      NV.showNode(wanted.select);
    } else if (wanted.select !== null) {
      NV.reveal(wanted.select);
    }
    if (wanted.unknown.length && wanted.select === null) {
      var panel = byId("details");
      panel.appendChild(NV.el("p", "notice link-unknown",
        "This link names what this analysis does not have: " + wanted.unknown.join(", ") + "."));
    }
    restoring = false;
    if (wanted.why && NV.why) NV.why.askFor(wanted.why.from, wanted.why.to, wanted.why.port, wanted.why.protocol);
    syncAddress();
  }

  Object.assign(NV, {
    syncAddress: syncAddress,
    restoreAddress: restoreAddress,
    applyAddress: applyAddress,
  });
})();
