/*
 * netpol-viz diagram page, cluster-wide policies (ClusterNetworkPolicy,
 * AdminNetworkPolicy, BaselineAdminNetworkPolicy). Only when the upload has
 * them (view.denials, made by render.cluster_view):
 *
 * - Denials: pairs that an Admin or Baseline Deny rule drops are not merely
 *   "not allowed by any NetworkPolicy", so they get their own kind of arrow
 *   (Admin solid purple, Baseline dashed orange, ending in a bar), summed in
 *   pairs of nodes where a namespace is collapsed, like the allowed arrows;
 *   the toolbar's "show cluster denials" hides and shows them. Their panel
 *   names each deny rule: tier, policy, priority, rule index and name,
 *   action, file:line, with its YAML.
 * - Rule references of flows: a cluster rule's head says its tier, priority,
 *   name and action, and a direction decided through a Pass shows the chain
 *   ("Admin … Pass → NetworkPolicy … Accept").
 * - Nodes: which cluster-wide policies select it, per direction, in
 *   evaluation order; the symbolic destinations `domain` and `node`.
 * - The why tool: each side's chains through the tiers, with file:line.
 *
 * Denials are never reach: counts and reach lists (core.js) use flows only.
 * Uses core; draw (NV.representative, NV.render, NV.network) at run time.
 * Provides NV.cluster (null without cluster-wide policies) and, for render,
 * NV.clusterEdges.
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var view = NV.view, state = NV.state, details = NV.details, groups = NV.groups;
  var el = NV.el, plural = NV.plural, shown = NV.shown, nameOf = NV.nameOf;

  var SYMBOLIC = {
    domain: "domain name: a destination named by DNS (domainNames of a cluster-wide policy), resolved at run time",
    node: "Kubernetes nodes: what a cluster-wide policy's nodes peer selects",
  };

  function symbolic(d) {
    return Object.prototype.hasOwnProperty.call(SYMBOLIC, d.type);
  }

  var denials = view.denials;
  if (!denials) {
    NV.cluster = { symbolic: symbolic, kindText: kindText };
    return;
  }

  function kindText(d) {
    return symbolic(d) ? SYMBOLIC[d.type] : null;
  }

  var STYLES = {
    Admin: { color: "#6a1b9a", dashes: false, width: 2.5 },
    Baseline: { color: "#e65100", dashes: [8, 4], width: 2 },
  };
  /** At most this many denial arrows are drawn; the status line says how many more there are. */
  var BUDGET = 2000;

  state.showDenials = true;
  var drawn = new Map(); // edge id -> {from, to, tier, pairs, denials: [index], ports}
  var left = 0; // arrows over the budget in the last render

  // --- the words of a rule ----------------------------------------------------------

  /** "Admin ClusterNetworkPolicy/x priority 20 ingress[0] 'name' Deny", as the query API says it. */
  function ruleText(policyIndex, ruleIndex, direction) {
    var policy = view.policies[policyIndex];
    if (!policy.tier) return "NetworkPolicy " + policy.id + " " + direction + "[" + ruleIndex + "]";
    var rule = (policy.rules[direction] || [])[ruleIndex] || {};
    return policy.tier + " " + policy.id + " priority " + policy.priority + " " + direction + "[" + ruleIndex + "]" +
      (rule.name ? " '" + rule.name + "'" : "") + (rule.action ? " " + rule.action : "");
  }

  /** The head line of a rule block (panel.js, matrix.js): a cluster rule with its tier. */
  function ruleHead(policyIndex, ruleIndex, direction) {
    var policy = view.policies[policyIndex];
    if (!policy.tier) return policy.id + " · spec." + direction + "[" + ruleIndex + "]";
    var rule = (policy.rules[direction] || [])[ruleIndex] || {};
    return policy.tier + " · " + policy.id + " · priority " + policy.priority + " · spec." + direction + "[" +
      ruleIndex + "]" + (rule.name ? " '" + rule.name + "'" : "") + (rule.action ? " · " + rule.action : "");
  }

  /** A flow side's refs ([policy, rule, line]) as one chain, when a cluster rule is among them. */
  function chainText(refs, direction) {
    if (!refs.some(function (ref) { return view.policies[ref[0]].tier; })) return null;
    return refs.map(function (ref) {
      var text = ruleText(ref[0], ref[1], direction);
      return view.policies[ref[0]].tier ? text : text + " Accept";
    }).join(" → ");
  }

  function chain(refs, direction) {
    var text = chainText(refs || [], direction);
    if (!text) return null;
    var p = el("p", "tier-chain", "Decided by: " + text);
    p.dataset.testid = "tier-chain";
    return p;
  }

  function where(policy, rule, line) {
    var at = line || (rule && rule.line);
    return policy.file ? policy.file + (at ? ":" + at : "") +
      (rule && rule.endLine && rule.endLine !== at ? "-" + rule.endLine : "") : null;
  }

  /** One deny rule: head, file:line, YAML. */
  function denyBlock(ref, direction, ports) {
    var policy = view.policies[ref[0]];
    var rule = (policy.rules[direction] || [])[ref[1]] || null;
    var block = el("div", "rule tier-rule tier-" + String(policy.tier).toLowerCase());
    block.dataset.testid = "deny-rule";
    block.appendChild(el("p", "rule-head", ruleHead(ref[0], ref[1], direction)));
    var at = where(policy, rule, ref[2]);
    if (at) block.appendChild(el("p", "rule-where", at));
    if (ports) block.appendChild(el("p", "hint", "Denied: " + ports.join(", ")));
    if (rule && rule.text) {
      var pre = el("pre", "yaml");
      pre.textContent = NV.shownBlock(rule.text);
      block.appendChild(pre);
    }
    return block;
  }

  // --- drawing ---------------------------------------------------------------------

  /** Render's hook: the denial arrows between the drawn ends of their groups' visible members. */
  function clusterEdges(visible, wantNodes, wantEdges) {
    drawn = new Map();
    left = 0;
    if (!state.showDenials) return drawn;
    var focus = state.focus;
    var ends = groups.map(function (members) {
      var counts = new Map();
      members.forEach(function (id) {
        if (!visible.has(id)) return;
        var rep = NV.representative(id, visible);
        if (wantNodes.has(rep)) counts.set(rep, (counts.get(rep) || 0) + 1);
      });
      return counts;
    });
    var focusEnd = focus !== null ? new Map([[focus, 1]]) : null;
    var seen = new Set(); // "edge|source group|target group": a pair denied on both sides counts once
    denials.forEach(function (denial, index) {
      var sources = ends[denial.source], targets = ends[denial.target];
      if (focusEnd) {
        var g = details[focus].g;
        if (denial.source === g) sources = focusEnd;
        else if (denial.target === g) targets = focusEnd;
        else return;
      }
      sources.forEach(function (a, from) {
        targets.forEach(function (b, to) {
          if (from === to) return; // inside one collapsed namespace, or a node with itself
          var key = "cnp:" + denial.tier + ":" + from + ">" + to;
          var arrow = drawn.get(key);
          if (!arrow) {
            if (drawn.size >= BUDGET) { left += 1; return; }
            arrow = { from: from, to: to, tier: denial.tier, pairs: 0, denials: [] };
            drawn.set(key, arrow);
          }
          arrow.denials.push(index);
          var pairKey = key + "|" + denial.source + "|" + denial.target;
          if (!seen.has(pairKey)) {
            seen.add(pairKey);
            arrow.pairs += a * b;
          }
        });
      });
    });
    drawn.forEach(function (arrow, key) {
      var style = STYLES[arrow.tier] || STYLES.Admin;
      var single = typeof arrow.from === "number" && typeof arrow.to === "number";
      var label = "✕ " + arrow.tier + " deny" + (single ? "" : " · " + plural(arrow.pairs, "pair"));
      wantEdges.push({
        id: key,
        from: arrow.from,
        to: arrow.to,
        label: label,
        title: plural(arrow.pairs, "pair") + " of nodes from " + shown(NV.labelOf(arrow.from)) + " to " +
          shown(NV.labelOf(arrow.to)) + " denied by the " + arrow.tier + " tier:\n" +
          unique(arrow.denials.map(function (i) {
            var d = denials[i];
            return ruleText(d.rule[0], d.rule[1], d.direction);
          })).slice(0, 4).join("\n"),
        dashes: style.dashes,
        width: style.width,
        arrows: { to: { enabled: true, type: "bar", scaleFactor: 0.7 } },
        color: { color: style.color, highlight: "#1565c0", hover: "#1565c0" },
        font: { color: style.color, strokeWidth: 4, strokeColor: "#ffffff" },
        smooth: { enabled: true, type: "curvedCCW", roundness: 0.18 },
      });
    });
    return drawn;
  }

  function unique(items) {
    return items.filter(function (item, i) { return items.indexOf(item) === i; });
  }

  // --- panels ----------------------------------------------------------------------

  /** The side panel of a denial arrow; false when edgeId is not one. */
  function showEdge(edgeId, clearPanel) {
    var arrow = drawn.get(edgeId);
    if (!arrow) return false;
    var panel = clearPanel(NV.labelOf(arrow.from) + " ✕ " + NV.labelOf(arrow.to));
    var verdict = el("p", "why-verdict denied tier-verdict");
    verdict.dataset.testid = "tier-verdict";
    verdict.appendChild(el("strong", null, "Denied by the " + arrow.tier + " tier"));
    verdict.appendChild(el("span", null, " " + (arrow.tier === "Admin"
      ? "before any NetworkPolicy: a Deny rule of a cluster-wide policy drops it, whatever the namespace's policies say."
      : "after the NetworkPolicies: no NetworkPolicy isolates this side, and a Baseline Deny rule drops it.")));
    panel.appendChild(verdict);
    panel.appendChild(el("p", null, plural(arrow.pairs, "pair") + " of nodes."));
    var shownRules = new Set();
    arrow.denials.forEach(function (i) {
      var d = denials[i];
      var key = d.rule.join(",") + d.direction;
      if (shownRules.has(key)) return;
      shownRules.add(key);
      panel.appendChild(el("h3", null, (d.direction === "ingress" ? "Ingress" : "Egress") + " denied by"));
      panel.appendChild(denyBlock(d.rule, d.direction, d.ports));
    });
    if (typeof arrow.from !== "number" || typeof arrow.to !== "number") {
      panel.appendChild(el("p", "hint", "Expand the namespaces to see the arrows of each pair of nodes."));
    } else if (NV.why) {
      var ask = el("p", "actions");
      ask.appendChild(NV.button("Why / why not, for one port", function () {
        NV.why.set("from", arrow.from, true);
        NV.why.set("to", arrow.to);
      }, "small"));
      panel.appendChild(ask);
    }
    return true;
  }

  /** The node panel's facts: the cluster-wide policies that select it, per direction. */
  function nodeFacts(d) {
    var subjects = d.clusterPolicies || {};
    return ["ingress", "egress"].map(function (direction) {
      var list = subjects[direction] || [];
      if (!list.length) return [direction === "ingress" ? "Cluster (ingress)" : "Cluster (egress)", null];
      var ul = el("ul", "tags tier-subjects");
      ul.dataset.testid = "cluster-" + direction;
      list.forEach(function (p) {
        var policy = view.policies[p];
        ul.appendChild(el("li", "tier-" + String(policy.tier).toLowerCase(),
          policy.tier + " priority " + policy.priority + ": " + policy.id));
      });
      return [direction === "ingress" ? "Cluster (ingress)" : "Cluster (egress)", ul];
    });
  }

  /** The why tool: a side's chains through the tiers (the query API's `chains`), or null. */
  function chainsBlock(side) {
    var chains = (side.chains || []).filter(function (c) {
      return (c.steps || []).some(function (s) { return s.tier; });
    });
    if (!chains.length) return null;
    var list = el("ul", "why-chains");
    list.dataset.testid = "why-chains";
    chains.forEach(function (c) {
      var item = el("li", "why-chain chain-" + c.outcome);
      item.dataset.outcome = c.outcome;
      item.appendChild(el("span", "rule-head", c.text));
      item.appendChild(el("span", "why-reason", " [" + c.portsText + "]"));
      unique(c.steps.map(function (s) {
        return s.source && s.source.file ? s.source.file + (s.source.line ? ":" + s.source.line : "") : "";
      }).filter(Boolean)).forEach(function (at) { item.appendChild(el("span", "rule-where", at)); });
      list.appendChild(item);
    });
    return list;
  }

  /** Whether a why answer's side denies because of a cluster rule. */
  function sideDenied(side) {
    return side.reason === "cluster-deny";
  }

  NV.bind("show-denials", "change", function (event) {
    state.showDenials = event.target.checked;
    NV.render();
  });

  NV.clusterEdges = clusterEdges;
  NV.cluster = {
    symbolic: symbolic,
    kindText: kindText,
    ruleHead: ruleHead,
    chain: chain,
    showEdge: showEdge,
    nodeFacts: nodeFacts,
    chainsBlock: chainsBlock,
    sideDenied: sideDenied,
    /** The denial arrows drawn: [{id, from, to, tier, pairs}] (for tests). */
    drawn: function () {
      return Array.from(drawn, function (entry) {
        return { id: entry[0], from: entry[1].from, to: entry[1].to, tier: entry[1].tier, pairs: entry[1].pairs };
      });
    },
    left: function () { return left; },
  };
})();
