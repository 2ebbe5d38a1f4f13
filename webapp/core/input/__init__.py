"""The core's input stage: uploaded bytes in, the evaluator's validated, defaulted Inventory out.

One module per step, in the order the data flows:

- `raw`: the types handed between steps (SourceText, Limits, PosDict,
  PosList, RawObject, UnusableInput).
- `sources`: `load_sources`, the entry point; `decode` (bytes to text), the
  upload's limits, reading each file's documents and Helm-template messages.
- `documents`: a file cut at its `---` / `...` markers into documents.
- `yaml_events`: YAML parser events built into positioned values (line
  positions, merge keys, duplicate keys, alias budget), with `scalars`
  (go-yaml v2's scalar resolution) and `drops` (fields skipped while reading).
- `json_input`: JSON documents and `kubectl get -o json` Lists.
- `inventory`: `build_inventory`: each object's kind and group version, then
  the kind's reader, then duplicates and pods counted once.
- `policies`, `namespaces`, `workloads`, `cluster_policies` (ClusterNetworkPolicy
  v1alpha2, AdminNetworkPolicy and BaselineAdminNetworkPolicy v1alpha1, Nodes):
  one reader per kind, built from
  `fields` (field paths, the problem report, strict typed readers, labels,
  selectors, ports, CIDRs), `metadata` (ObjectMeta) and `validation` (the API
  server's name, label, port and CIDR checks).
- `sanitize` and `stored`: the part of an upload that is stored for share
  links, and its restoring into RawObjects for `build_inventory`.

Nothing is re-exported here: `webapp.core` imports `raw` on every import,
and importing the package must not pull in PyYAML (tests/test_architecture.py).
"""
