/*
 * netpol-viz diagram page, finding nodes by text: NV.matchNodes ranks every
 * node of the analysis (not only the drawn ones) against `ns/name`, a name,
 * a namespace or a label `k=v`, and NV.picker turns a text input into a
 * combobox with that result list under it (up/down, Enter, click, Escape).
 * The toolbar's search box (#search) is one: typing filters the diagram and
 * lists every match with their count; Enter or a click selects one. The why
 * tool's From and To are others. Uses core; draw (NV.render, NV.reveal,
 * NV.network) and address (NV.syncAddress) at run time. Loaded before
 * why.js, which builds its pickers with NV.picker.
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var details = NV.details, state = NV.state, el = NV.el, nameOf = NV.nameOf;
  var searchText = NV.searchText;

  function lower(value) {
    return String(value === null || value === undefined ? "" : value).toLowerCase();
  }

  var qualified = details.map(function (_, i) { return lower(nameOf(i)); });
  var nsNames = details.map(function (d) {
    return d.namespace === null || d.namespace === undefined ? null : lower(d.namespace + "/" + d.name);
  });

  /** The label `k=v` of node d that equals query, or null. */
  function labelMatching(d, query) {
    var labels = d.labels || {};
    var keys = Object.keys(labels);
    for (var i = 0; i < keys.length; i++) {
      if (lower(keys[i] + "=" + labels[keys[i]]) === query) return keys[i] + "=" + labels[keys[i]];
    }
    return null;
  }

  /**
   * How well node i matches query (lower case): 0 its id or ns/name, 1 its name,
   * 2 one of its labels k=v, 3 its namespace, 4 the start of its name, 5 any of
   * its text (what the diagram's filter keeps); -1 no match.
   */
  function rankOf(i, query) {
    var d = details[i];
    if (lower(d.id) === query || qualified[i] === query || nsNames[i] === query) return 0;
    if (lower(d.name) === query) return 1;
    if (labelMatching(d, query) !== null) return 2;
    if (d.type !== "ipblock" && lower(d.namespace) === query) return 3;
    if (lower(d.name).indexOf(query) === 0 || qualified[i].indexOf(query) === 0) return 4;
    return searchText[i].indexOf(query) >= 0 ? 5 : -1;
  }

  /** Every node that text matches, best first (then by name): vis ids. */
  function matchNodes(text) {
    var query = lower(text).trim();
    if (!query) return [];
    var found = [];
    details.forEach(function (_, i) {
      var rank = rankOf(i, query);
      if (rank >= 0) found.push({ id: i, rank: rank });
    });
    found.sort(function (a, b) {
      if (a.rank !== b.rank) return a.rank - b.rank;
      var left = qualified[a.id], right = qualified[b.id];
      return left < right ? -1 : left > right ? 1 : a.id - b.id;
    });
    return found.map(function (f) { return f.id; });
  }

  /** The node a search means: the best of matchNodes, or null. */
  function bestMatch(text) {
    var found = matchNodes(text);
    return found.length ? found[0] : null;
  }

  /** A node's name with what it is, as the pickers list it. */
  function optionText(id) {
    var d = details[id];
    if (d.type === "ipblock") return nameOf(id) + " (external)";
    if (d.type === "inferred") return nameOf(id) + " (inferred)";
    if (d.type === "domain") return nameOf(id) + " (domain name)";
    if (d.type === "node") return nameOf(id) + " (Kubernetes nodes)";
    return nameOf(id);
  }

  var pickers = 0;

  /**
   * Make `input` a combobox listing matchNodes(its text) below it. options:
   * limit (how many to list; the count always says how many match), onPick(id),
   * onType(text) (each change, debounced), fill (put the picked node's name in
   * the input and its id in data-node-id), none (what to say when nothing matches).
   */
  function picker(input, options) {
    var number = ++pickers;
    var limit = options.limit || Infinity;
    var box = el("span", "picker");
    input.parentNode.insertBefore(box, input);
    box.appendChild(input);
    var results = el("div", "picker-results");
    results.hidden = true;
    var count = el("p", "picker-count");
    count.setAttribute("aria-live", "polite");
    var list = el("ul", "picker-list");
    list.id = (input.id || "picker-" + number) + "-list";
    list.setAttribute("role", "listbox");
    results.appendChild(count);
    results.appendChild(list);
    box.appendChild(results);
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", list.id);
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("autocomplete", "off");

    var matches = [];
    var active = -1;
    var timer = null;

    function close() {
      results.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function setActive(index) {
      var items = list.children;
      if (active >= 0 && items[active]) items[active].setAttribute("aria-selected", "false");
      active = index;
      if (active < 0 || !items[active]) {
        input.removeAttribute("aria-activedescendant");
        return;
      }
      items[active].setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", items[active].id);
      items[active].scrollIntoView({ block: "nearest" });
    }

    function update() {
      clearTimeout(timer);
      timer = null;
      var text = input.value;
      matches = matchNodes(text);
      NV.clear(list);
      active = -1;
      if (!text.trim()) {
        close();
        return;
      }
      var shownCount = Math.min(matches.length, limit);
      count.textContent = matches.length === 0 ? options.none || "no node matches"
        : matches.length + (matches.length === 1 ? " match" : " matches") +
          (shownCount < matches.length ? ", the first " + shownCount + " listed: type more" : "");
      var query = text.trim().toLowerCase();
      var fragment = document.createDocumentFragment();
      matches.slice(0, shownCount).forEach(function (id, index) {
        var d = details[id];
        var item = el("li", "picker-option");
        item.id = list.id + "-" + index;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", "false");
        item.dataset.node = String(id);
        item.appendChild(el("span", "picker-name", optionText(id)));
        var label = labelMatching(d, query);
        var about = d.type === "workload" ? d.kind : d.type === "inferred" ? "inferred"
          : d.type === "domain" ? "domain name" : d.type === "node" ? "Kubernetes nodes" : "external addresses";
        item.appendChild(el("span", "picker-about", label ? about + " · " + label : about));
        fragment.appendChild(item);
      });
      list.appendChild(fragment);
      results.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    /** Show node id in the input, its id in data-node-id. */
    function fillWith(id) {
      close();
      input.value = NV.shown(optionText(id));
      input.dataset.nodeId = details[id].id;
    }

    function pick(id) {
      if (options.fill) fillWith(id);
      else close();
      if (options.onPick) options.onPick(id);
    }

    input.addEventListener("input", function () {
      delete input.dataset.nodeId;
      clearTimeout(timer);
      timer = setTimeout(function () {
        update(); // sets timer back to null
        if (options.onType) options.onType(input.value);
      }, 150);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (results.hidden) update();
        var size = list.children.length;
        if (!size) return;
        var step = event.key === "ArrowDown" ? 1 : -1;
        setActive(active < 0 ? (step > 0 ? 0 : size - 1) : (active + step + size) % size);
      } else if (event.key === "Enter") {
        // A node picked already, or nothing to pick (an IP address): Enter submits the form.
        if (results.hidden && input.dataset.nodeId) return;
        if (timer !== null || results.hidden) {
          update(); // typed faster than the list: Enter still means the best match
          if (options.onType) options.onType(input.value);
        }
        var id = active >= 0 ? Number(list.children[active].dataset.node) : matches[0];
        if (id === undefined) return;
        event.preventDefault();
        pick(id);
      } else if (event.key === "Escape") {
        close();
      }
    });
    // mousedown, not click: the input would lose focus (and close the list) first;
    // kept on the input for the list's scrollbar too.
    results.addEventListener("mousedown", function (event) {
      event.preventDefault();
      var item = event.target.closest(".picker-option");
      if (item) pick(Number(item.dataset.node));
    });
    input.addEventListener("blur", close);
    input.addEventListener("focus", function () { if (input.value.trim()) update(); });

    return {
      input: input,
      /** Set the input to node id, as a pick would, without the onPick call. */
      set: fillWith,
      /** What the input names: the picked node's id, else its text. */
      value: function () {
        return input.dataset.nodeId || input.value.trim();
      },
      clear: function () {
        close();
        input.value = "";
        delete input.dataset.nodeId;
      },
    };
  }

  // The toolbar's search: filters the diagram as you type, lists every match.
  var searchInput = NV.byId("search");
  var search = searchInput && picker(searchInput, {
    onType: function (text) {
      state.search = text.trim().toLowerCase();
      NV.render();
      if (state.search) NV.network.fit({ animation: false });
      NV.syncAddress();
    },
    onPick: function (id) {
      NV.reveal(id);
    },
  });

  /** Empty the search box and its filter (the caller renders). */
  function clearSearch() {
    if (search) search.clear();
    state.search = "";
  }

  Object.assign(NV, {
    clearSearch: clearSearch,
    matchNodes: matchNodes,
    bestMatch: bestMatch,
    optionText: optionText,
    picker: picker,
    search: search,
  });
})();
