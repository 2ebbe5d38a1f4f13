/*
 * netpol-viz diagram page, the legend: one entry per namespace (cluster) with
 * its colour and counts; a click shows the namespace in the side panel.
 * Uses core and the panel (NV.showCluster, at run time).
 */
(function () {
  "use strict";
  var NV = window.NetpolViz;
  if (!NV) return;
  var el = NV.el, plural = NV.plural;

  var legend = NV.byId("legend-namespaces");
  if (!legend) return;
  NV.clusters.forEach(function (cluster, i) {
    var item = el("li", "legend-item");
    var swatch = el("span", "swatch");
    swatch.style.backgroundColor = cluster.color; // CSSOM, which the CSP allows
    swatch.style.borderColor = cluster.border;
    item.appendChild(swatch);
    var name = NV.button(cluster.title, function () { NV.showCluster(i); });
    item.appendChild(name);
    item.appendChild(el("span", "legend-count",
      cluster.workloads ? plural(cluster.workloads, "workload") + ", " + plural(cluster.pods, "pod")
        : plural(cluster.members.length, "node")));
    legend.appendChild(item);
  });
})();
