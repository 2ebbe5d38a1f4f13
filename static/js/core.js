/*
 * netpol-viz diagram page, core: the shared namespace `window.NetpolViz` (NV)
 * that every module of static/js/ adds to, the page data, helpers, the
 * page's state and reach over groups. Loaded first; uses nothing else of ours.
 * The scripts and their order are listed once, in webapp/outputs/offline.py
 * (DIAGRAM_SCRIPTS), for the served pages and the offline export alike.
 *
 * The page: reads the JSON data island (#view-data, built by webapp/render.py)
 * and drives vis-network: clusters that collapse and expand, filters, the side
 * panel, findings that highlight their part of the diagram, the why / why not
 * tool (asks the query API), copy link and PNG download. The diff page uses
 * the same scripts: its view has mode "diff", edges coloured by change and
 * `change` in the node and edge details.
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
 *
 * Each later module starts with `var NV = window.NetpolViz; if (!NV) return;`
 * so that a page without a diagram (or without vis-network) runs none of them.
 * Modules call each other through NV at run time (after every script has
 * loaded), so only core.js must come first, and search.js before why.js
 * (which builds its pickers at load time).
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

  var PLAIN = /^[\x20-\x7e→·–›×]*$/; // printable ASCII and our own signs: quick to tell

  function shown(value) {
    var text = String(value === null || value === undefined ? "" : value);
    if (PLAIN.test(text)) return text; // the matrix shows thousands of cells
    return text.replace(HIDDEN_CHARS, function (c) {
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

  /** "1 pod", "2 pods"; `many` where adding an s is wrong ("boxes"). */
  function plural(count, word, many) {
    return count + " " + (count === 1 ? word : many || word + "s");
  }

  function byId(id) {
    return document.getElementById(id);
  }

  function bind(id, event, handler) {
    var node = byId(id);
    if (node) node.addEventListener(event, handler);
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

  function nameOf(id) {
    var d = details[id];
    return d.namespace !== null && d.namespace !== undefined && d.type === "workload"
      ? d.namespace + "/" + d.name
      : d.name;
  }

  /** The drawn node that stands for the namespaces folded away (draw.js's levels of detail). */
  var MORE = "more";

  /** The cluster index a drawn string id stands for: "cluster:<n>" or an open-traffic "hub:<n>". */
  function clusterOfId(nodeId) {
    return nodeId.indexOf("hub:") === 0 ? Number(nodeId.slice(4)) : clusterById.get(nodeId);
  }

  /** The name of a drawn node: a node's (vis id a number), a collapsed cluster's, the fold's. */
  function labelOf(nodeId) {
    if (nodeId === MORE) return "namespaces not drawn";
    if (typeof nodeId === "string" && nodeId.indexOf("grp:") === 0) {
      // A box of alike nodes in one namespace (draw.js, which fills NV.drawn.boxes).
      var members = window.NetpolViz.drawn.boxes.get(nodeId) || [];
      return "×" + members.length + " like " + (members.length ? nameOf(members[0]) : "these");
    }
    return typeof nodeId === "string" ? clusters[clusterOfId(nodeId)].title : nameOf(nodeId);
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

  // --- state ------------------------------------------------------------------

  var state = {
    // Which namespaces are drawn expanded, and which collapsed ones are folded into one
    // "more" box: draw.js picks both from the size before the first render.
    expanded: new Set(view.collapsed ? [] : clusters.map(function (_, i) { return i; })),
    fold: new Set(),
    openGroups: new Set(), // keys of large groups drawn node by node (draw.js)
    hideDefault: false,
    showOpen: false, // open-by-default traffic drawn by namespace (open.js)
    search: "",
    namespace: null,
    focus: null, // vis id: draw only this node's flows
    selected: null, // vis id of the node the side panel shows
    hideUnchanged: false,
    highlight: null, // {finding, nodes: Set of vis ids, edges: Set of vis edge ids, flows: Set}
  };

  /**
   * Whether a flow's arrows are hidden: by the toolbar's checkboxes, and on the analysis
   * page every flow open only by default, which the nodes' isolation markers show instead
   * (open.js draws it by namespace on request; in focus, "show open traffic" draws the
   * focused node's own open flows, a pair each).
   */
  function hiddenFlow(info) {
    if (view.openByNamespace && info.defaultAllow) return !(state.showOpen && state.focus !== null);
    return (state.hideDefault && info.defaultAllow) || (state.hideUnchanged && info.change === "unchanged");
  }

  window.NetpolViz = {
    container: container,
    view: view,
    state: state,
    // the data, indexed by vis id (nodes), group index, flow index, cluster index
    details: details,
    clusters: clusters,
    groups: groups,
    groupFlows: groupFlows,
    flowsFrom: flowsFrom,
    flowsTo: flowsTo,
    diffMode: view.mode === "diff",
    visIdOf: new Map(details.map(function (d, index) { return [d.id, index]; })),
    policyIndex: new Map(view.policies.map(function (p, index) { return [p.id, index]; })),
    edgeById: edgeById,
    outEdges: outEdges,
    inEdges: inEdges,
    nodeById: new Map(view.nodes.map(function (node) { return [node.id, node]; })),
    clusterById: clusterById,
    searchText: searchText,
    // helpers
    shown: shown,
    shownBlock: shownBlock,
    el: el,
    button: button,
    plural: plural,
    byId: byId,
    bind: bind,
    clear: clear,
    sentence: sentence,
    portsOf: portsOf,
    nameOf: nameOf,
    labelOf: labelOf,
    clusterOfId: clusterOfId,
    MORE: MORE,
    hiddenFlow: hiddenFlow,
    // reach
    reachCountOf: reachCountOf,
    peersOf: peersOf,
    reachCount: reachCount,
  };
})();
