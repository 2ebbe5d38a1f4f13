/*
 * netpol-viz matrix view: namespace × namespace, drilling down to workload ×
 * workload and then to the flow of one pair and the rules that allow it.
 *
 * It reads the diagram's data (NV.view from core.js, the #view-data island
 * built by webapp/render.py) and its escaping helpers, and counts over the whole analysis, never over what the
 * diagram draws: view.groups are nodes that every policy treats alike and
 * view.flows go from every member of one group to every other member of
 * another. A namespace cell's counts are arithmetic over the groups' members
 * per namespace, so 4,000 workloads in 50 namespaces cost a few thousand
 * multiplications, not 16 million pairs.
 *
 * A pair of nodes is "allowed by policy" when a flow without defaultAllow
 * covers it, "open by default" when a defaultAllow flow does (neither side
 * isolated), "denied" when no flow does; external addresses to external
 * addresses are not analysed. A cell is one of those when all its pairs are,
 * "partly" when they are mixed, and always shows the three counts.
 *
 * Rows and columns are the diagram's clusters: namespaces, one for external
 * address blocks, one for inferred pods with no namespace.
 *
 * Address bar: ?view=matrix|graph, &cell=<row>|<column> (namespace names, or
 * "(external)" and "(inferred)", which no namespace can be called) and
 * &pair=<source node id>|<target node id>, kept with history.replaceState
 * alongside every other parameter.
 *
 * Every uploaded string reaches the page through textContent or a title
 * property, with control and bidi characters shown as <U+XXXX>.
 */
(function () {
  "use strict";

  var NV = window.NetpolViz; // core.js: the data and the helpers every module shares
  if (!NV) return;
  var root = document.getElementById("matrix-view");
  var switcher = document.getElementById("view-switch");
  if (!root || !switcher) return;
  var column = root.parentNode;
  var view = NV.view;
  if (view.mode === "diff" || !view.groups || !view.flows) return;

  var PAGE = 40; // rows and columns of a workload matrix shown at once
  var STATUS_TEXT = {
    policy: "allowed by policy",
    open: "open by default",
    partly: "partly",
    denied: "denied",
    na: "not analysed",
    none: "no pairs",
    self: "itself",
  };
  var CELL_WORD = { policy: "policy", open: "open", partly: "partly", denied: "denied", na: "n/a", none: "–", self: "self" };

  // --- helpers: escaping and elements from core.js; numbers formatted once ------------

  var shown = NV.shown;
  var shownBlock = NV.shownBlock;
  var el = NV.el;
  var button = NV.button;

  // One formatter: toLocaleString makes a new one per call, which costs a second per 2,500 cells.
  var digits = new Intl.NumberFormat("en-US");

  function number(count) {
    return digits.format(count);
  }

  function plural(count, word) {
    return number(count) + " " + word + (count === 1 ? "" : "s");
  }

  // --- the data ------------------------------------------------------------------

  var details = view.nodeDetails;
  var clusters = view.clusters;
  var groups = view.groups;
  var flows = view.flows;
  var C = clusters.length;
  var G = groups.length;

  /** The address-bar token of cluster c: its namespace, or "(external)" / "(inferred)". */
  function tokenOf(c) {
    var key = clusters[c].key;
    return key.indexOf("ns:") === 0 ? key.slice(3) : "(" + key + ")";
  }
  var clusterByToken = new Map(clusters.map(function (_, c) { return [tokenOf(c), c]; }));
  var nodeById = new Map(details.map(function (d, id) { return [d.id, id]; }));
  var external = clusters.map(function (cluster) { return cluster.key === "external"; });
  var allInferred = clusters.map(function (cluster) {
    return cluster.members.length > 0 && cluster.members.every(function (id) { return details[id].type === "inferred"; });
  });

  function clusterName(c) {
    return clusters[c].title + (allInferred[c] && clusters[c].key.indexOf("ns:") === 0 ? " (inferred)" : "");
  }

  function nodeName(id) {
    var d = details[id];
    return d.type === "workload" && d.namespace !== null && d.namespace !== undefined
      ? d.namespace + "/" + d.name : d.name;
  }

  /** Flow index by (source group, target group): at most one flow joins two groups. */
  var flowOf = new Map();
  flows.forEach(function (flow, k) { flowOf.set(flow.source * G + flow.target, k); });

  function flowBetween(a, b) {
    var k = flowOf.get(details[a].g * G + details[b].g);
    return k === undefined ? null : k;
  }

  /**
   * Per pair of clusters, the pairs of nodes allowed by policy, open by default, and in all.
   * Each group is spread over the clusters its members are in; each flow adds, per pair of
   * those clusters, the product of the member counts (less a node's pair with itself).
   */
  function countCells() {
    var size = clusters.map(function (cluster) { return cluster.members.length; });
    var spread = groups.map(function (members) {
      var counts = new Map();
      members.forEach(function (id) {
        var c = details[id].cluster;
        counts.set(c, (counts.get(c) || 0) + 1);
      });
      return Array.from(counts);
    });
    var policy = new Float64Array(C * C);
    var open = new Float64Array(C * C);
    flows.forEach(function (flow) {
      var into = flow.defaultAllow ? open : policy;
      var same = flow.source === flow.target;
      spread[flow.source].forEach(function (s) {
        spread[flow.target].forEach(function (t) {
          into[s[0] * C + t[0]] += s[1] * t[1] - (same && s[0] === t[0] ? s[1] : 0);
        });
      });
    });
    var cells = [];
    for (var a = 0; a < C; a++) {
      for (var b = 0; b < C; b++) {
        var total = size[a] * size[b] - (a === b ? size[a] : 0);
        var cell = { from: a, to: b, policy: policy[a * C + b], open: open[a * C + b], total: total };
        cell.denied = total - cell.policy - cell.open;
        cell.status = cellStatus(cell, external[a] && external[b]);
        cells.push(cell);
      }
    }
    return cells;
  }

  function cellStatus(cell, unanalysed) {
    if (cell.total === 0) return "none";
    if (unanalysed) return "na";
    if (cell.denied === cell.total) return "denied";
    if (cell.policy === cell.total) return "policy";
    if (cell.open === cell.total) return "open";
    return "partly";
  }

  // Counted when the matrix is first shown, not at load: on a big upload counting every
  // cell costs the graph view half a second it does not need.
  var cells = null, rowSums = null, colSums = null, countMs = null;

  function counted() {
    if (cells !== null) return;
    var started = performance.now();
    cells = countCells();
    countTiers(cells);
    rowSums = clusters.map(function (_, c) { return axisSums(c, true); });
    colSums = clusters.map(function (_, c) { return axisSums(c, false); });
    countMs = performance.now() - started;
  }

  function cellAt(a, b) {
    return cells[a * C + b];
  }

  /** Sums of a row (outgoing) or column (incoming) over every cluster, for sorting. */
  function axisSums(c, outgoing) {
    var sum = { policy: 0, open: 0, denied: 0, total: 0 };
    for (var other = 0; other < C; other++) {
      var cell = outgoing ? cellAt(c, other) : cellAt(other, c);
      if (cell.status === "na") continue;
      sum.policy += cell.policy;
      sum.open += cell.open;
      sum.denied += cell.denied;
      sum.total += cell.total;
    }
    return sum;
  }

  // --- state and the address bar ------------------------------------------------------

  var state = {
    shown: false,
    sort: "name",
    fromFilter: "",
    toFilter: "",
    only: "",
    cell: null, // [row cluster, column cluster]
    pair: null, // [source vis id, target vis id]
    rowPage: 0,
    colPage: 0,
  };

  /** Sorting and filters in the address bar: [parameter, state key, default]. */
  var SETTINGS = [["msort", "sort", "name"], ["mfrom", "fromFilter", ""], ["mto", "toFilter", ""], ["monly", "only", ""]];

  function readAddress() {
    var params = new URLSearchParams(window.location.search);
    state.shown = params.get("view") === "matrix";
    SETTINGS.forEach(function (s) { state[s[1]] = params.get(s[0]) || s[2]; });
    if (!SORTS.some(function (o) { return o[0] === state.sort; })) state.sort = "name";
    if (!ONLY.some(function (o) { return o[0] === state.only; })) state.only = "";
    state.cell = parseCell(params.get("cell"));
    state.pair = state.cell ? parsePair(params.get("pair"), state.cell) : null;
    if (state.pair) {
      // The pages that hold the pair, in the order the table shows.
      state.rowPage = Math.floor(byName(clusters[state.cell[0]].members).indexOf(state.pair[0]) / PAGE);
      state.colPage = Math.floor(byName(clusters[state.cell[1]].members).indexOf(state.pair[1]) / PAGE);
    }
  }

  /** "<row>|<column>": no namespace name nor "(external)" contains "|". */
  function parseCell(value) {
    if (!value) return null;
    var parts = value.split("|");
    if (parts.length !== 2 || !clusterByToken.has(parts[0]) || !clusterByToken.has(parts[1])) return null;
    return [clusterByToken.get(parts[0]), clusterByToken.get(parts[1])];
  }

  /** "<source id>|<target id>", split where both halves are nodes of the cell's clusters. */
  function parsePair(value, cell) {
    if (!value) return null;
    for (var at = value.indexOf("|"); at >= 0; at = value.indexOf("|", at + 1)) {
      var a = nodeById.get(value.slice(0, at)), b = nodeById.get(value.slice(at + 1));
      if (a !== undefined && b !== undefined && details[a].cluster === cell[0] && details[b].cluster === cell[1]) {
        return [a, b];
      }
    }
    return null;
  }

  function writeAddress() {
    var url = new URL(window.location.href);
    var params = url.searchParams;
    params.set("view", state.shown ? "matrix" : "graph");
    if (state.shown) {
      SETTINGS.forEach(function (s) {
        if (state[s[1]] === s[2]) params.delete(s[0]);
        else params.set(s[0], state[s[1]]);
      });
      if (state.cell) params.set("cell", tokenOf(state.cell[0]) + "|" + tokenOf(state.cell[1]));
      else params.delete("cell");
      if (state.pair) params.set("pair", details[state.pair[0]].id + "|" + details[state.pair[1]].id);
      else params.delete("pair");
    }
    try {
      history.replaceState(history.state, "", url.href);
    } catch (error) {
      // An offline copy (file:) may refuse; the view still works.
    }
  }

  // --- switching views -------------------------------------------------------------------

  var graphSeen = new URLSearchParams(window.location.search).get("view") !== "matrix";

  function show(matrix) {
    state.shown = matrix;
    column.classList.toggle("showing-matrix", matrix);
    root.hidden = !matrix;
    switcher.querySelectorAll("button[data-view]").forEach(function (b) {
      b.setAttribute("aria-pressed", String((b.dataset.view === "matrix") === matrix));
    });
    if (matrix) {
      render();
    } else {
      clear(root);
      if (!graphSeen && window.netpolViz && window.netpolViz.network) {
        // The diagram was laid out while hidden: fit it once it has a size again.
        graphSeen = true;
        requestAnimationFrame(function () { window.netpolViz.network.fit(); });
      }
    }
    writeAddress();
  }

  // At the end of the page head, where its last row has room: a row of its own would push the
  // diagram down, past the bottom of a 1000-pixel window (the toolbar's row is full).
  var head = document.querySelector(".analysis-head");
  if (head) head.appendChild(switcher);
  switcher.hidden = false;
  switcher.querySelectorAll("button[data-view]").forEach(function (b) {
    b.addEventListener("click", function () { show(b.dataset.view === "matrix"); });
  });

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  // --- rendering ---------------------------------------------------------------------------

  function render() {
    counted();
    clear(root);
    root.appendChild(breadcrumb());
    if (state.cell) {
      renderPairs(state.cell[0], state.cell[1]);
    } else {
      renderNamespaces();
    }
    root.appendChild(legend());
  }

  function go(cell, pair) {
    if (!cell || !state.cell || cell[0] !== state.cell[0] || cell[1] !== state.cell[1]) {
      state.rowPage = 0;
      state.colPage = 0;
    }
    state.cell = cell;
    state.pair = pair;
    render();
    writeAddress();
  }

  /**
   * A cell's drill-down: a link to its own address (so it can be opened in a new tab or
   * copied), followed in place by one listener per table. Links, not buttons: a table of
   * 2,500 buttons takes a second to lay out.
   */
  var targets = new WeakMap();

  function drill(cell, pair) {
    var params = new URLSearchParams(window.location.search);
    params.set("view", "matrix");
    params.set("cell", tokenOf(cell[0]) + "|" + tokenOf(cell[1]));
    if (pair) params.set("pair", details[pair[0]].id + "|" + details[pair[1]].id);
    else params.delete("pair");
    var link = el("a", "nm-go");
    link.href = "?" + params.toString();
    targets.set(link, [cell, pair]);
    return link;
  }

  function followCells(table) {
    table.addEventListener("click", function (event) {
      var link = event.target.closest("a.nm-go");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
      event.preventDefault();
      var where = targets.get(link);
      go(where[0], where[1]);
    });
  }

  function breadcrumb() {
    var nav = el("nav", "nm-breadcrumb");
    nav.setAttribute("aria-label", "Matrix level");
    nav.dataset.testid = "matrix-breadcrumb";
    var steps = [["All namespaces", state.cell ? function () { go(null, null); } : null]];
    if (state.cell) {
      var cell = state.cell;
      steps.push([clusterName(cell[0]) + " → " + clusterName(cell[1]), state.pair ? function () { go(cell, null); } : null]);
    }
    if (state.pair) steps.push([nodeName(state.pair[0]) + " → " + nodeName(state.pair[1]), null]);
    steps.forEach(function (step, index) {
      if (index) nav.appendChild(el("span", "nm-sep", "›"));
      if (step[1]) {
        nav.appendChild(button(step[0], step[1]));
      } else {
        var here = el("span", "nm-here", step[0]);
        here.setAttribute("aria-current", "page");
        nav.appendChild(here);
      }
    });
    return nav;
  }

  function countsText(cell) {
    return number(cell.policy) + " · " + number(cell.open) + " · " + number(cell.denied);
  }

  function cellSentence(cell, from, to) {
    var head = from + " → " + to + ": ";
    if (cell.status === "na") return head + "external addresses to external addresses are not analysed";
    if (cell.status === "none") return head + "no pairs of nodes (a node's traffic to itself is not listed)";
    return head + STATUS_TEXT[cell.status] + ": " + plural(cell.policy, "pair") + " allowed by policy, " +
      number(cell.open) + " open by default, " + number(cell.denied) + " denied, of " +
      plural(cell.total, "pair") + " of nodes";
  }

  // --- level 1: namespaces ---------------------------------------------------------------------

  var SORTS = [
    ["name", "name"],
    ["open", "most open (share allowed)"],
    ["default", "most open by default"],
    ["policy", "most allowed by policy"],
    ["denied", "most denied"],
    ["size", "most nodes"],
  ];
  var ONLY = [
    ["", "every cell"],
    ["denied", "cells with denied pairs"],
    ["open", "cells with open-by-default pairs"],
    ["policy", "cells with pairs allowed by policy"],
  ];

  function sortKey(c, sums) {
    var s = sums[c];
    switch (state.sort) {
      case "open": return s.total ? -(s.policy + s.open) / s.total : 1;
      case "default": return -s.open;
      case "policy": return -s.policy;
      case "denied": return -s.denied;
      case "size": return -clusters[c].members.length;
      default: return 0;
    }
  }

  /** Clusters in order: by the chosen key, then by name; external and inferred last by name. */
  function ordered(sums, filter) {
    var needle = filter.trim().toLowerCase();
    return clusters.map(function (_, c) { return c; })
      .filter(function (c) { return !needle || clusterName(c).toLowerCase().indexOf(needle) >= 0; })
      .sort(function (a, b) {
        var ka = sortKey(a, sums), kb = sortKey(b, sums);
        if (ka !== kb) return ka - kb;
        var sa = clusters[a].key.indexOf("ns:") === 0 ? 0 : 1, sb = clusters[b].key.indexOf("ns:") === 0 ? 0 : 1;
        if (sa !== sb) return sa - sb;
        var na = clusterName(a), nb = clusterName(b);
        return na < nb ? -1 : na > nb ? 1 : 0;
      });
  }

  /** Whether a cell holds pairs of the kind the "Show" filter asks for (never a cell not analysed). */
  function matches(cell) {
    return !state.only || (cell.status !== "na" && cell[state.only] > 0);
  }

  function renderNamespaces() {
    counted();
    root.appendChild(controls());
    var rows = ordered(rowSums, state.fromFilter);
    var cols = ordered(colSums, state.toFilter);
    if (state.only) {
      rows = rows.filter(function (a) { return cols.some(function (b) { return matches(cellAt(a, b)); }); });
      cols = cols.filter(function (b) { return rows.some(function (a) { return matches(cellAt(a, b)); }); });
    }
    var note = el("p", "nm-status", plural(rows.length, "row") + " of " + C + ", " +
      plural(cols.length, "column") + " of " + C + ". Rows send, columns receive; " +
      "each cell counts pairs of nodes: allowed by policy · open by default · denied.");
    note.dataset.testid = "matrix-status";
    root.appendChild(note);
    if (!rows.length || !cols.length) {
      root.appendChild(el("p", "hint", "No namespace matches the filters."));
      return;
    }
    var wrap = el("div", "nm-wrap");
    var table = el("table", "nm-table nm-namespaces");
    table.dataset.testid = "matrix";
    table.dataset.level = "namespaces";
    followCells(table);
    table.dataset.countMs = String(Math.round(countMs));
    table.appendChild(el("caption", "nm-caption", "Namespace × namespace: from (rows) to (columns)"));
    var head = el("tr");
    head.appendChild(el("th", "nm-corner", "from \\ to"));
    cols.forEach(function (b) {
      var th = el("th", "nm-col");
      th.scope = "col";
      th.appendChild(el("span", "nm-col-name", clusterName(b)));
      th.title = shown(clusterName(b)) + "\n" + plural(clusters[b].members.length, "node");
      th.dataset.cluster = tokenOf(b);
      head.appendChild(th);
    });
    table.appendChild(el("thead")).appendChild(head);
    var body = el("tbody");
    rows.forEach(function (a) {
      var tr = el("tr");
      var th = el("th", "nm-row", clusterName(a));
      th.scope = "row";
      th.dataset.cluster = tokenOf(a);
      th.appendChild(el("span", "nm-size", plural(clusters[a].members.length, "node")));
      tr.appendChild(th);
      cols.forEach(function (b) { tr.appendChild(namespaceCell(cellAt(a, b))); });
      body.appendChild(tr);
    });
    table.appendChild(body);
    wrap.appendChild(table);
    root.appendChild(wrap);
  }

  function namespaceCell(cell) {
    var td = el("td", "nm-cell nm-" + cell.status);
    var data = td.dataset;
    data.from = tokenOf(cell.from);
    data.to = tokenOf(cell.to);
    data.status = cell.status;
    data.policy = String(cell.policy);
    data.open = String(cell.open);
    data.denied = String(cell.denied);
    data.total = String(cell.total);
    if (state.only && !matches(cell)) {
      td.classList.add("nm-dim");
      td.title = "left out by the filter";
      return td;
    }
    var sentence = cellSentence(cell, clusterName(cell.from), clusterName(cell.to));
    var body = cell.total ? drill([cell.from, cell.to], null) : el("span");
    // One text node of three lines (CSS white-space: pre), the first in bold: a cell is
    // two elements, so 2,500 of them lay out quickly.
    body.textContent = CELL_WORD[cell.status] +
      (cell.total && cell.status !== "na" ? "\n" + countsText(cell) : "") +
      (cell.total ? "\nof " + number(cell.total) : "");
    body.title = shown(sentence) + (cell.total ? "\nclick for its workloads" : "");
    body.setAttribute("aria-label", shown(sentence));
    markTier(td, body, cell);
    td.appendChild(body);
    return td;
  }

  function controls() {
    var bar = el("div", "nm-controls toolbar");
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", "Matrix sorting and filters");
    function labelled(text, control) {
      var label = el("label", "control", text + " ");
      label.appendChild(control);
      bar.appendChild(label);
    }
    var sort = el("select");
    sort.dataset.testid = "matrix-sort";
    SORTS.forEach(function (s) {
      var option = el("option", null, s[1]);
      option.value = s[0];
      sort.appendChild(option);
    });
    sort.value = state.sort;
    sort.addEventListener("change", function () { state.sort = sort.value; render(); writeAddress(); });
    labelled("Sort", sort);
    [["From", "fromFilter", "matrix-filter-from"], ["To", "toFilter", "matrix-filter-to"]].forEach(function (f) {
      var input = el("input");
      input.type = "search";
      input.placeholder = "namespace name";
      input.value = state[f[1]];
      input.dataset.testid = f[2];
      input.addEventListener("input", function () {
        state[f[1]] = input.value;
        render();
        writeAddress();
        var again = root.querySelector('[data-testid="' + f[2] + '"]');
        again.focus();
        again.setSelectionRange(again.value.length, again.value.length);
      });
      labelled(f[0], input);
    });
    var only = el("select");
    only.dataset.testid = "matrix-only";
    ONLY.forEach(function (o) {
      var option = el("option", null, o[1]);
      option.value = o[0];
      only.appendChild(option);
    });
    only.value = state.only;
    only.addEventListener("change", function () { state.only = only.value; render(); writeAddress(); });
    labelled("Show", only);
    return bar;
  }

  // --- level 2: the workloads of two namespaces ------------------------------------------------

  function byName(ids) {
    return ids.slice().sort(function (a, b) {
      var na = nodeName(a), nb = nodeName(b);
      return na < nb ? -1 : na > nb ? 1 : a - b;
    });
  }

  function pairStatus(a, b) {
    if (a === b) return { status: "self", flow: null };
    var k = flowBetween(a, b);
    if (k !== null) return { status: flows[k].defaultAllow ? "open" : "policy", flow: k };
    // Address blocks, domain names and Kubernetes nodes: all in the external cluster.
    if (external[details[a].cluster] && external[details[b].cluster]) return { status: "na", flow: null };
    return { status: "denied", flow: null };
  }

  function pager(what, page, count, set) {
    var box = el("span", "nm-pager");
    var first = page * PAGE, last = Math.min(count, first + PAGE);
    box.appendChild(el("span", null, what + " " + number(first + 1) + "–" + number(last) + " of " + number(count) +
      " (" + number(count - (last - first)) + " not shown)"));
    box.appendChild(button("previous " + PAGE, function () { set(page - 1); }, "small")).disabled = page === 0;
    box.appendChild(button("next " + PAGE, function () { set(page + 1); }, "small")).disabled = last >= count;
    return box;
  }

  function renderPairs(a, b) {
    counted();
    var cell = cellAt(a, b);
    var summary = el("p", "nm-status", cellSentence(cell, clusterName(a), clusterName(b)) + ".");
    summary.dataset.testid = "matrix-status";
    root.appendChild(summary);
    var rows = byName(clusters[a].members), cols = byName(clusters[b].members);
    var rowPage = Math.max(0, Math.min(state.rowPage, Math.ceil(rows.length / PAGE) - 1));
    var colPage = Math.max(0, Math.min(state.colPage, Math.ceil(cols.length / PAGE) - 1));
    if (rows.length > PAGE || cols.length > PAGE) {
      var pages = el("p", "nm-pages");
      pages.dataset.testid = "matrix-pages";
      if (rows.length > PAGE) {
        pages.appendChild(pager("rows", rowPage, rows.length, function (p) { state.rowPage = p; state.pair = null; render(); writeAddress(); }));
      }
      if (cols.length > PAGE) {
        pages.appendChild(pager("columns", colPage, cols.length, function (p) { state.colPage = p; state.pair = null; render(); writeAddress(); }));
      }
      root.appendChild(pages);
    }
    rows = rows.slice(rowPage * PAGE, rowPage * PAGE + PAGE);
    cols = cols.slice(colPage * PAGE, colPage * PAGE + PAGE);

    var wrap = el("div", "nm-wrap");
    var table = el("table", "nm-table nm-workloads");
    table.dataset.testid = "matrix";
    table.dataset.level = "workloads";
    followCells(table);
    table.appendChild(el("caption", "nm-caption", clusterName(a) + " → " + clusterName(b) + ": from (rows) to (columns)"));
    var head = el("tr");
    head.appendChild(el("th", "nm-corner", "from \\ to"));
    cols.forEach(function (id) {
      var th = el("th", "nm-col");
      th.scope = "col";
      th.appendChild(el("span", "nm-col-name", details[id].name));
      th.title = shown(nodeName(id));
      th.dataset.node = details[id].id;
      head.appendChild(th);
    });
    table.appendChild(el("thead")).appendChild(head);
    var body = el("tbody");
    rows.forEach(function (source) {
      var tr = el("tr");
      var th = el("th", "nm-row", details[source].name);
      th.scope = "row";
      th.title = shown(nodeName(source));
      th.dataset.node = details[source].id;
      tr.appendChild(th);
      cols.forEach(function (target) { tr.appendChild(pairCell(source, target)); });
      body.appendChild(tr);
    });
    table.appendChild(body);
    wrap.appendChild(table);
    root.appendChild(wrap);
    if (state.pair) root.appendChild(pairDetails(state.pair[0], state.pair[1]));
  }

  function pairCell(source, target) {
    var found = pairStatus(source, target);
    var td = el("td", "nm-cell nm-" + found.status);
    td.dataset.source = details[source].id;
    td.dataset.target = details[target].id;
    td.dataset.status = found.status;
    var selected = state.pair && state.pair[0] === source && state.pair[1] === target;
    if (selected) td.classList.add("nm-selected");
    var sentence = nodeName(source) + " → " + nodeName(target) + ": " + STATUS_TEXT[found.status] +
      (found.flow !== null ? ", " + flows[found.flow].label : "");
    if (found.status === "self") {
      td.appendChild(el("span", null, "–"));
      td.title = "a node's traffic to itself is not listed";
      return td;
    }
    var body = drill(state.cell, [source, target]);
    body.textContent = CELL_WORD[found.status] + (found.flow !== null ? "\n" + flows[found.flow].label : "");
    body.title = shown(sentence) + "\nclick for the rules";
    body.setAttribute("aria-label", shown(sentence));
    markPairTier(td, body, source, target);
    if (selected) body.setAttribute("aria-current", "true");
    td.appendChild(body);
    return td;
  }

  // --- level 3: one pair, its flow and rules ----------------------------------------------------

  /** One rule: ref is [policy index, rule index, line] (see render._rule_refs). */
  function ruleBlock(ref, direction) {
    var policy = view.policies[ref[0]];
    var rule = (policy.rules[direction] || [])[ref[1]] || null;
    var block = el("div", "rule");
    block.dataset.testid = "matrix-rule";
    block.appendChild(el("p", "rule-head", tierHead(policy, ref[1], direction)));
    var line = ref[2] || (rule && rule.line);
    if (policy.file) {
      var where = el("p", "rule-where", policy.file + (line ? ":" + line : "") +
        (rule && rule.endLine && rule.endLine !== line ? "-" + rule.endLine : ""));
      where.dataset.testid = "matrix-rule-where";
      block.appendChild(where);
    }
    if (rule && rule.text) {
      var pre = el("pre", "yaml");
      pre.textContent = shownBlock(rule.text);
      block.appendChild(pre);
    }
    return block;
  }

  function isolatedBy(id, direction) {
    var d = details[id];
    if (!d.isolated || !d.isolated[direction]) return null;
    var ids = (d.policies && d.policies[direction]) || [];
    return ids.length ? ids.join(", ") : "a policy";
  }

  function pairDetails(source, target) {
    var found = pairStatus(source, target);
    var box = el("section", "nm-pair");
    box.dataset.testid = "matrix-pair";
    box.dataset.status = found.status;
    box.appendChild(el("h3", "nm-pair-title", nodeName(source) + " → " + nodeName(target)));
    var verdict = el("p", "nm-verdict nm-" + found.status, STATUS_TEXT[found.status]);
    box.appendChild(verdict);
    if (found.status === "na") {
      box.appendChild(el("p", "hint", "External addresses to external addresses are not analysed."));
      return box;
    }
    var denying = tierDenials(source, target);
    if (denying.length) {
      box.appendChild(el("h4", null, "Denied by a cluster-wide policy"));
      denying.forEach(function (d) { box.appendChild(ruleBlock(d.rule, d.direction)); });
    }
    if (found.flow === null && denying.length) {
      box.appendChild(whyLink(source, target));
      return box;
    }
    if (found.flow === null) {
      var sides = [];
      var egress = isolatedBy(source, "egress"), ingress = isolatedBy(target, "ingress");
      if (egress) sides.push(nodeName(source) + " is isolated for egress by " + egress);
      if (ingress) sides.push(nodeName(target) + " is isolated for ingress by " + ingress);
      box.appendChild(el("p", null, "No flow: denied. " + sides.join("; ") + (sides.length ? ". " : "") +
        (sides.length > 1 ? "No rule of these allows this pair on both sides."
          : "No rule of these allows this pair.")));
      box.appendChild(whyLink(source, target));
      return box;
    }
    var flow = flows[found.flow];
    var ports = el("ul", "tags");
    (flow.ports || [flow.label]).forEach(function (p) { ports.appendChild(el("li", null, p)); });
    var facts = el("p", "nm-ports-line", "Ports: ");
    facts.appendChild(ports);
    box.appendChild(facts);
    if (flow.defaultAllow) {
      box.appendChild(el("p", "by-default-note", "Open by default: no policy isolates " + nodeName(source) +
        " for egress or " + nodeName(target) + " for ingress, and Kubernetes allows all traffic between pods that are not isolated."));
      return box;
    }
    [["egress", source, "Egress from "], ["ingress", target, "Ingress to "]].forEach(function (side) {
      var direction = side[0], end = side[1];
      box.appendChild(el("h4", null, side[2] + nodeName(end)));
      var refs = flow[direction] || [];
      if (!refs.length) {
        box.appendChild(el("p", "hint", "Open by default: " + nodeName(end) + " is not isolated for " +
          direction + ", so all " + direction + " is allowed."));
        return;
      }
      refs.forEach(function (ref) { box.appendChild(ruleBlock(ref, direction)); });
    });
    box.appendChild(whyLink(source, target));
    return box;
  }

  /** The page's why / why not deep link for this pair (CONTRACT §5), in the diagram view. */
  function whyLink(source, target) {
    var url = new URL(window.location.href);
    ["cell", "pair", "node"].forEach(function (key) { url.searchParams.delete(key); });
    url.searchParams.set("view", "graph");
    url.searchParams.set("from", details[source].id);
    url.searchParams.set("to", details[target].id);
    var p = el("p", "hint");
    var link = el("a", null, "Ask why / why not for one port");
    link.href = url.pathname + url.search;
    p.appendChild(link);
    return p;
  }

  // --- cluster-wide policy tiers (issue 10): cells the Admin tier decides ----------------------

  /** view.denials, or none (read when first asked: countTiers runs before this part of the file). */
  function tierDenialList() {
    return view.denials || [];
  }

  function isAdminAccept(ref, direction) {
    var policy = view.policies[ref[0]];
    var rule = policy.tier === "Admin" && (policy.rules[direction] || [])[ref[1]];
    return !!rule && rule.action === "Accept";
  }

  /**
   * Per cell: pairs an Admin Deny rule drops (on some port at least), pairs a flow allows through
   * an Admin Accept rule, and pairs a Baseline Deny drops; from the groups, like countCells. A
   * pair denied on both sides is counted once.
   */
  function countTiers(all) {
    var denials = tierDenialList();
    if (!denials.length && !view.policies.some(function (p) { return p.tier; })) return;
    var spread = groups.map(function (members) {
      var counts = new Map();
      members.forEach(function (id) { counts.set(details[id].cluster, (counts.get(details[id].cluster) || 0) + 1); });
      return Array.from(counts);
    });
    function add(key, source, target) {
      spread[source].forEach(function (s) {
        spread[target].forEach(function (t) {
          all[s[0] * C + t[0]][key] += s[1] * t[1] - (source === target && s[0] === t[0] ? s[1] : 0);
        });
      });
    }
    all.forEach(function (cell) { cell.adminDeny = 0; cell.adminAccept = 0; cell.baselineDeny = 0; });
    var seen = new Set();
    denials.forEach(function (d) {
      var key = d.tier === "Admin" ? "adminDeny" : "baselineDeny";
      var pairKey = key + ":" + (d.source * G + d.target);
      if (seen.has(pairKey)) return;
      seen.add(pairKey);
      add(key, d.source, d.target);
    });
    flows.forEach(function (flow) {
      var accepted = (flow.egress || []).some(function (r) { return isAdminAccept(r, "egress"); }) ||
        (flow.ingress || []).some(function (r) { return isAdminAccept(r, "ingress"); });
      if (accepted) add("adminAccept", flow.source, flow.target);
    });
  }

  /** What the Admin tier decides in a cell: "admin-deny", "admin-accept" (all pairs), "admin" (some). */
  function tierOf(cell) {
    if (!cell.adminDeny && !cell.adminAccept) return "";
    if (cell.adminDeny === cell.total) return "admin-deny";
    if (cell.adminAccept === cell.total) return "admin-accept";
    return "admin";
  }

  function markTier(td, body, cell) {
    if (cell.adminDeny === undefined || cell.status === "na") return;
    td.dataset.adminDeny = String(cell.adminDeny);
    td.dataset.adminAccept = String(cell.adminAccept);
    td.dataset.baselineDeny = String(cell.baselineDeny);
    var tier = tierOf(cell);
    if (!tier && !cell.baselineDeny) return;
    var words = [];
    if (cell.adminDeny) words.push("Admin ✕ " + number(cell.adminDeny));
    if (cell.adminAccept) words.push("Admin ✓ " + number(cell.adminAccept));
    if (cell.baselineDeny) words.push("Baseline ✕ " + number(cell.baselineDeny));
    if (tier) {
      td.dataset.tier = tier;
      td.classList.add("nm-tier-" + tier);
    }
    if (tier === "admin-deny") body.textContent = body.textContent.replace(/^denied/, "denied by Admin");
    body.textContent += "\n" + words.join(" · ");
    body.title += "\nCluster-wide tiers: " + plural(cell.adminDeny, "pair") + " denied by an Admin rule, " +
      number(cell.adminAccept) + " accepted by an Admin rule, " + number(cell.baselineDeny) + " denied by a Baseline rule";
  }

  /** The denials (view.denials entries) that cover pair source -> target. */
  function tierDenials(source, target) {
    var a = details[source].g, b = details[target].g;
    var found = [], keys = new Set();
    tierDenialList().forEach(function (d) {
      var key = d.rule.join(",") + d.direction;
      if (d.source === a && d.target === b && !keys.has(key)) {
        keys.add(key);
        found.push(d);
      }
    });
    return found;
  }

  function markPairTier(td, body, source, target) {
    if (!view.denials) return;
    var denying = tierDenials(source, target);
    var k = flowBetween(source, target);
    var accepted = k !== null && ((flows[k].egress || []).some(function (r) { return isAdminAccept(r, "egress"); }) ||
      (flows[k].ingress || []).some(function (r) { return isAdminAccept(r, "ingress"); }));
    var tier = denying.some(function (d) { return d.tier === "Admin"; }) ? "admin-deny" : accepted ? "admin-accept"
      : denying.length ? "baseline-deny" : "";
    if (!tier) return;
    td.dataset.tier = tier;
    td.classList.add("nm-tier-" + tier);
    body.textContent += "\n" + { "admin-deny": "Admin deny", "admin-accept": "Admin accept", "baseline-deny": "Baseline deny" }[tier];
    body.title += "\n" + denying.map(function (d) { return tierHead(view.policies[d.rule[0]], d.rule[1], d.direction); }).join("\n");
  }

  /** A rule's head: a cluster rule says its tier, priority, name and action. */
  function tierHead(policy, index, direction) {
    if (!policy.tier) return policy.id + " · spec." + direction + "[" + index + "]";
    var rule = (policy.rules[direction] || [])[index] || {};
    return policy.tier + " · " + policy.id + " · priority " + policy.priority + " · spec." + direction + "[" + index + "]" +
      (rule.name ? " '" + rule.name + "'" : "") + (rule.action ? " · " + rule.action : "");
  }

  function tierLegend(list) {
    if (!view.denials) return;
    [
      ["admin-deny", "Admin ✕", "denied by an Admin rule of a cluster-wide policy, before any NetworkPolicy"],
      ["admin-accept", "Admin ✓", "accepted by an Admin rule"],
    ].forEach(function (entry) {
      var li = el("li");
      li.appendChild(el("span", "nm-swatch nm-tier-" + entry[0], entry[1]));
      li.appendChild(document.createTextNode(entry[2]));
      list.appendChild(li);
    });
  }

  // --- legend ------------------------------------------------------------------------------------

  function legend() {
    var box = el("div", "legend nm-legend");
    box.setAttribute("aria-label", "Matrix legend");
    var list = el("ul", "legend-symbols");
    [
      ["policy", "allowed by policy: a rule allows every pair"],
      ["open", "open by default: neither side is isolated"],
      ["partly", "partly: some pairs allowed, some denied or open by default (see the counts)"],
      ["denied", "denied: no flow covers any pair"],
      ["na", "not analysed: external addresses to external addresses"],
    ].forEach(function (entry) {
      var li = el("li");
      li.appendChild(el("span", "nm-swatch nm-" + entry[0], CELL_WORD[entry[0]]));
      li.appendChild(document.createTextNode(entry[1]));
      list.appendChild(li);
    });
    tierLegend(list);
    box.appendChild(list);
    box.appendChild(el("p", "hint", "Counts are pairs of nodes (workloads, inferred pods, external address blocks): " +
      "allowed by policy · open by default · denied, of all pairs. Traffic of a node to itself is not counted."));
    return box;
  }

  // --- start -------------------------------------------------------------------------------------

  readAddress();
  if (state.shown) {
    show(true);
    if (document.body.dataset.ready !== "1") {
      // The matrix is the first view: it is drawn and usable now.
      document.body.dataset.readyMs = String(Math.round(performance.now()));
      document.body.dataset.ready = "1";
    }
  }
  window.netpolVizMatrix = {
    state: state,
    show: show,
    get cells() { counted(); return cells; },
    get countMs() { counted(); return countMs; },
  };
})();
