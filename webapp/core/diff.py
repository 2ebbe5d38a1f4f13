"""What a change to the manifests does to connectivity: the difference of two analysis documents.

Works on the CONTRACT §3 documents themselves (as `analyze --format json`
writes them or as the web app stores them, version 1 or 2), so any two saved
analyses can be compared. In-cluster nodes (workloads, inferred pods) and
policies are matched by id. Flows are compared on the REFINED partition
(`refine`): the nodes of both versions fall into classes by (old group, new
group), every pair of nodes between two classes has the same old flow and the
same new flow, so one comparison per pair of classes stands for all its node
pairs and no node pair is ever built. A flow present in both is "changed"
when its allowed ports differ, and "widened" or "narrowed" when one port set
contains the other. A version 1 document (flows between nodes) is one whose
groups are single nodes.

External access is compared by address, not by ipblock node: an ipblock's id
names a region of one upload's partition of the address space, and the same
id can stand for other addresses in the other version (an `except` moved
inside one ipBlock `cidr` keeps the region's first address). So, for every class
of in-cluster nodes and direction, the addresses and ports it may reach (egress)
or be reached from (ingress) outside the cluster are computed in both
versions, and exactly the (address, port) pairs gained and lost are listed,
per port range, as merged CIDRs. ipBlock semantics:
https://kubernetes.io/docs/concepts/services-networking/network-policies/ (ipBlock)
"""

from __future__ import annotations

import bisect
import difflib
import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any, NamedTuple

from webapp.core.document import ports_json
from webapp.core.model import Direction, NodeType, Protocol
from webapp.core.portset import NO_PORTS, PROTOCOLS, PortSet

Doc = Mapping[str, Any]
DIFF_VERSION = 5
"""2: external access moved from `flows` (by ipblock id) to `external` (by address).
3: flows and external entries name sets of nodes (`sources`/`targets`, `nodes`) with
their `pairs`, computed from groups (documents of version 1 or 2).
4: `findings` {fixed, introduced}; `policyDiffs` (the YAML of each policy added,
removed or changed) when both inputs are known.
5: cluster-wide policies: `policies` and `policyDiffs` include them (id `Kind/name`),
`denials` {gained, lost} (`denial_changes`), `tiers` (`tier_changes`)."""

Span = tuple[int, int]
"""Addresses [lo, hi) of one IP version, as integers."""
Access = dict[int, list[tuple[Span, PortSet]]]
"""IP version -> the address spans one node reaches (or is reached from), with their ports."""
VERSIONS = (4, 6)


def port_set(flow: Mapping[str, Any]) -> PortSet:
    """The ports of a Flow of the document as a PortSet."""
    return PortSet.of(
        (Protocol(p["protocol"]), int(p["from"]), int(p["to"])) for p in flow.get("ports") or ()
    )


def external_ports(change: Mapping[str, Any]) -> PortSet:
    """The port range of one entry of a diff's `external` list, e.g. for `str()`: `TCP 443`."""
    return PortSet(((Protocol(change["protocol"]), int(change["from"]), int(change["to"])),))


def _by_id(items: Iterable[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {str(i["id"]): i for i in items}


def _policy_shape(p: Mapping[str, Any]) -> tuple[Any, ...]:
    """Its types (a cluster-wide policy: tier and priority) and rule texts, without where it
    was written (files move between versions).

    `selects` is left out: it changes with the workloads, which the node and
    flow differences already show.
    """
    rules = tuple(
        (r.get("direction"), r.get("rule"), r.get("name"), r.get("action"), r.get("text"))
        for r in p.get("rules") or ()
    )
    head = (p.get("tier"), p.get("priority")) if "tier" in p else ()
    return (tuple(p.get("policyTypes") or ()), *head, rules)


def all_policies(doc: Doc) -> dict[str, Mapping[str, Any]]:
    """NetworkPolicies (`ns/name`) and cluster-wide policies (`Kind/name`) by id: the ids
    never clash, since a namespace name holds no capital letter."""
    return _by_id([*(doc.get("policies") or ()), *(doc.get("clusterPolicies") or ())])


def _flow_change(before: PortSet, after: PortSet) -> str:
    gained, lost = after - before, before - after
    if gained and not lost:
        return "widened"
    if lost and not gained:
        return "narrowed"
    return "changed"


# --- external access, by address ------------------------------------------------------


def _spans(cidrs: Iterable[Any]) -> Iterator[tuple[int, Span]]:
    for text in cidrs:
        try:
            net = ipaddress.ip_network(str(text), strict=False)
        except ValueError:
            continue  # a hand-edited document; the analysis itself never writes one
        yield net.version, (int(net.network_address), int(net.broadcast_address) + 1)


def _external_access(doc: Doc) -> dict[tuple[str, Direction], Access]:
    """(in-cluster group id, direction) -> the external addresses of its flows, with their ports.

    A flow from an external group is ingress of its target group; a flow to
    one, egress of its source group. An external group's addresses are those
    of all its ipblock members.
    """
    group_of = _group_of(doc)
    external: dict[str, list[tuple[int, Span]]] = defaultdict(list)
    for n in doc.get("nodes") or ():
        if n.get("type") == NodeType.IPBLOCK:
            external[group_of.get(str(n["id"]), str(n["id"]))] += _spans(n.get("cidrs") or ())
    access: dict[tuple[str, Direction], Access] = {}
    for f in doc.get("flows") or ():
        source, target = str(f["source"]), str(f["target"])
        if source in external and target not in external:
            key, block = (target, Direction.INGRESS), external[source]
        elif target in external and source not in external:
            key, block = (source, Direction.EGRESS), external[target]
        else:
            continue
        ports = port_set(f)
        by_version = access.setdefault(key, {})
        for version, span in block:
            by_version.setdefault(version, []).append((span, ports))
    return access


class Piece(NamedTuple):
    """Addresses treated alike in both versions, and the ports they gained and lost."""

    span: Span
    gained: PortSet
    lost: PortSet


def _pieces(
    old: Sequence[tuple[Span, PortSet]], new: Sequence[tuple[Span, PortSet]]
) -> Iterator[Piece]:
    """Cut the address space at every boundary of both versions: (span, ports gained, lost).

    Within a piece every address is treated alike in each version, so one
    PortSet per version describes it; pieces where nothing changes are skipped.
    """
    cuts = sorted({b for span, _ in (*old, *new) for b in span})
    before = [NO_PORTS] * max(len(cuts) - 1, 0)
    after = list(before)
    for spans, ports_of in ((old, before), (new, after)):
        for (lo, hi), ports in spans:
            for k in range(bisect.bisect_left(cuts, lo), bisect.bisect_left(cuts, hi)):
                ports_of[k] = ports_of[k] | ports
    for k, (was, now) in enumerate(zip(before, after, strict=True)):
        if was != now:
            yield Piece((cuts[k], cuts[k + 1]), now - was, was - now)


def _merge(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Sorted spans with touching ones joined (the pieces come sorted and disjoint)."""
    out: list[Span] = []
    for lo, hi in spans:
        if out and out[-1][1] == lo:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def _cidrs(version: int, spans: Iterable[Span]) -> list[str]:
    """The fewest CIDRs covering exactly `spans` (merged, sorted)."""
    addr = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    return [
        str(net)
        for lo, hi in spans
        for net in ipaddress.summarize_address_range(addr(lo), addr(hi - 1))
    ]


Addresses = tuple[tuple[int, tuple[Span, ...]], ...]
"""(IP version, merged spans) pairs: what one port range gained (or lost)."""


def _addresses(
    pieces: Mapping[int, Sequence[Piece]], probe: tuple[Protocol, int], lost: bool
) -> Addresses:
    """The addresses where the port `probe` is gained (or lost), per IP version."""
    out: list[tuple[int, tuple[Span, ...]]] = []
    for version in VERSIONS:
        parts = pieces.get(version, ())
        merged = _merge(p.span for p in parts if probe in (p.lost if lost else p.gained))
        if merged:
            out.append((version, merged))
    return tuple(out)


def _by_port_range(
    pieces: Mapping[int, Sequence[Piece]],
) -> Iterator[tuple[Protocol, int, int, Addresses, Addresses]]:
    """(protocol, from, to, addresses gained, addresses lost), each port range once.

    The ports are cut at every boundary of every gained or lost range, so each
    elementary range is gained (or lost) as a whole in each piece; touching
    ranges that gain and lose the same addresses are joined.
    """
    for protocol in PROTOCOLS:
        bounds = {
            b
            for parts in pieces.values()
            for piece in parts
            for p, lo, hi in piece.gained.ranges + piece.lost.ranges
            if p is protocol
            for b in (lo, hi + 1)
        }
        current: tuple[int, int, Addresses, Addresses] | None = None
        for lo, end in pairwise(sorted(bounds)):
            probe = (protocol, lo)
            gained, lost = _addresses(pieces, probe, False), _addresses(pieces, probe, True)
            if current is not None and current[2:] == (gained, lost):
                current = (current[0], end - 1, gained, lost)
                continue
            if current is not None:
                yield (protocol, *current)
            current = (lo, end - 1, gained, lost) if gained or lost else None
        if current is not None:
            yield (protocol, *current)


def _cidr_list(addresses: Addresses) -> list[str]:
    return [cidr for version, spans in addresses for cidr in _cidrs(version, spans)]


# --- the refined partition --------------------------------------------------------------


def _group_of(doc: Doc) -> dict[str, str]:
    """Node id -> group id; a document without groups (version 1, `--pairs`) has one per node."""
    groups = doc.get("groups")
    if groups:
        return {str(n): str(g["id"]) for g in groups for n in g.get("nodes") or ()}
    return {str(n["id"]): str(n["id"]) for n in doc.get("nodes") or ()}


def _flows_by_group(doc: Doc) -> dict[tuple[str, str], Mapping[str, Any]]:
    return {(str(f["source"]), str(f["target"])): f for f in doc.get("flows") or ()}


@dataclass(frozen=True, slots=True)
class Comparison:
    """The old and new flow from every member of class `source` to every other member of
    class `target` (indexes into `Refined.classes`); None where that version has none."""

    source: int
    target: int
    pairs: int
    old: Mapping[str, Any] | None
    new: Mapping[str, Any] | None
    change: str
    """added, removed, changed, widened, narrowed or unchanged."""


@dataclass(frozen=True, slots=True)
class Refined:
    """In-cluster nodes of both versions cut into classes that each version treats alike.

    Nodes are matched by id; a class is the nodes with the same (old group,
    new group), a node that one version lacks having None there. Every pair
    of nodes in (A, B) then has the same old flow and the same new flow, so
    one comparison per pair of classes stands for |A|·|B| pairs (|A|·(|A|-1)
    from A to itself).
    """

    classes: tuple[tuple[str, ...], ...]
    """Node ids, in the order of `new`'s nodes, then those only `old` has."""
    keys: tuple[tuple[str | None, str | None], ...]
    """(old group, new group) of each class."""
    comparisons: tuple[Comparison, ...]
    """Every pair of classes that some flow of either version connects, by (source, target)."""


def _in_cluster_ids(doc: Doc) -> list[str]:
    return [str(n["id"]) for n in doc.get("nodes") or () if n.get("type") != NodeType.IPBLOCK]


def refine(old: Doc, new: Doc) -> Refined:
    """The refined partition of both documents and the comparison of every connected class pair.

    Work grows with nodes + the class pairs that flows connect, never with node pairs.
    """
    old_group, new_group = _group_of(old), _group_of(new)
    old_ids, new_ids = _in_cluster_ids(old), _in_cluster_ids(new)
    old_set, new_set = set(old_ids), set(new_ids)
    index: dict[tuple[str | None, str | None], int] = {}
    members: list[list[str]] = []
    for node in [*new_ids, *(i for i in old_ids if i not in new_set)]:
        key = (
            old_group.get(node) if node in old_set else None,
            new_group.get(node) if node in new_set else None,
        )
        k = index.get(key)
        if k is None:
            k = index[key] = len(members)
            members.append([])
        members[k].append(node)
    keys = list(index)
    by_old: dict[str, list[int]] = defaultdict(list)
    by_new: dict[str, list[int]] = defaultdict(list)
    for k, (was, now) in enumerate(keys):
        if was is not None:
            by_old[was].append(k)
        if now is not None:
            by_new[now].append(k)
    old_flows, new_flows = _flows_by_group(old), _flows_by_group(new)
    connected: set[tuple[int, int]] = set()
    for flows, classes in ((old_flows, by_old), (new_flows, by_new)):
        for s, t in flows:
            connected.update((a, b) for a in classes.get(s, ()) for b in classes.get(t, ()))
    comparisons = []
    for a, b in sorted(connected):
        pairs = len(members[a]) * (len(members[b]) - (a == b))
        if not pairs:
            continue
        (was_a, now_a), (was_b, now_b) = keys[a], keys[b]
        before = old_flows.get((was_a, was_b)) if was_a and was_b else None
        after = new_flows.get((now_a, now_b)) if now_a and now_b else None
        comparisons.append(Comparison(a, b, pairs, before, after, _change(before, after)))
    return Refined(tuple(map(tuple, members)), tuple(keys), tuple(comparisons))


def _change(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str:
    if before is None:
        return "added" if after is not None else "unchanged"
    if after is None:
        return "removed"
    was, now = port_set(before), port_set(after)
    if was == now:
        return "unchanged"
    return _flow_change(was, now)


def external_changes(old: Doc, new: Doc, refined: Refined | None = None) -> list[dict[str, Any]]:
    """The external addresses in-cluster nodes gain and lose, per direction and port range.

    One entry per (direction, protocol, port range, addresses gained, lost),
    with the `nodes` it holds for: `gained` and `lost` are merged CIDR lists
    (IPv4, then IPv6). Computed once per class of the refined partition (its
    members had the same external access in each version); a node only one
    version has counts as reaching nothing in the other. Access that is the
    same address for address is not listed, however the regions were cut.
    """
    refined = refined or refine(old, new)
    before, after = _external_access(old), _external_access(new)
    entries: dict[tuple[Any, ...], list[str]] = {}
    for members, (was_group, now_group) in zip(refined.classes, refined.keys, strict=True):
        for direction in (Direction.EGRESS, Direction.INGRESS):
            was = before.get((was_group, direction), {}) if was_group else {}
            now = after.get((now_group, direction), {}) if now_group else {}
            if not was and not now:
                continue
            pieces = {v: list(_pieces(was.get(v, ()), now.get(v, ()))) for v in VERSIONS}
            for protocol, lo, hi, gained, lost in _by_port_range(pieces):
                key = (str(direction), str(protocol), lo, hi, gained, lost)
                entries.setdefault(key, []).extend(members)
    return [
        {
            "nodes": nodes,
            "direction": direction,
            "protocol": protocol,
            "from": lo,
            "to": hi,
            "gained": _cidr_list(gained),
            "lost": _cidr_list(lost),
        }
        for (direction, protocol, lo, hi, gained, lost), nodes in entries.items()
    ]


# --- findings fixed and introduced --------------------------------------------------------

FindingKey = tuple[str, tuple[str, ...], tuple[str, ...]]


def _node_names(doc: Doc) -> dict[str, str]:
    """Node id -> how a finding key names it: its id, or for an ipblock its addresses (an
    ipblock id is a cut of one version's address space, not a name of addresses)."""
    return {
        str(n["id"]): "ipblock:" + ",".join(map(str, n.get("cidrs") or ()))
        if n.get("type") == NodeType.IPBLOCK
        else str(n["id"])
        for n in doc.get("nodes") or ()
    }


def _finding_key(f: Mapping[str, Any], names: Mapping[str, str]) -> FindingKey:
    nodes = tuple(sorted(names.get(str(n), str(n)) for n in f.get("nodes") or ()))
    return (str(f.get("rule")), nodes, tuple(sorted(map(str, f.get("policies") or ()))))


def _by_key(doc: Doc) -> dict[FindingKey, list[Mapping[str, Any]]]:
    names = _node_names(doc)
    out: dict[FindingKey, list[Mapping[str, Any]]] = defaultdict(list)
    for f in doc.get("findings") or ():
        out[_finding_key(f, names)].append(f)
    return out


def finding_changes(old: Doc, new: Doc) -> dict[str, list[Mapping[str, Any]]]:
    """The findings a change fixed (only `old` has them) and introduced (only `new` has them).

    A finding is the same in both versions when its rule id and the nodes and
    policies it names are: its message is not compared, because it counts and
    words things ("3 of 5 workloads") that change with unrelated edits. Where
    one key has several findings (one rule, one policy, two ports), those with
    equal messages pair up first, then the rest in order; the surplus of a
    version is fixed or introduced. Lists keep each document's order (most
    severe first).
    """
    before, after = _by_key(old), _by_key(new)
    fixed: set[int] = set()
    introduced: set[int] = set()
    for key in before.keys() | after.keys():
        was, now = before.get(key, []), after.get(key, [])
        messages = [f.get("message") for f in now]
        unmatched_was = []
        for f in was:
            if f.get("message") in messages:
                messages[messages.index(f.get("message"))] = None  # paired; None never matches
            else:
                unmatched_was.append(f)
        paired_now = {i for i, m in enumerate(messages) if m is None}
        unmatched_now = [f for i, f in enumerate(now) if i not in paired_now]
        surplus = len(unmatched_was) - len(unmatched_now)
        fixed.update(map(id, unmatched_was[len(unmatched_was) - max(surplus, 0) :]))
        introduced.update(map(id, unmatched_now[len(unmatched_now) - max(-surplus, 0) :]))
    return {
        "fixed": [f for f in old.get("findings") or () if id(f) in fixed],
        "introduced": [f for f in new.get("findings") or () if id(f) in introduced],
    }


# --- the YAML of each policy -------------------------------------------------------------

Stored = Sequence[Mapping[str, Any]]
"""The stored form of an upload's input (webapp.core.input.stored.dump)."""
ObjectKey = tuple[str, Any, Any, str]
"""(file, document, line, name) of an object: a Policy's `source` and name, and a stored
entry, agree on it (the name tells apart objects of a one-line JSON List)."""


def _policy_key(policy: Mapping[str, Any]) -> ObjectKey:
    source = policy.get("source") or {}
    where = (str(source.get("file")), source.get("document"), source.get("line"))
    return (*where, str(policy.get("name")))


def _entry_key(entry: Mapping[str, Any]) -> ObjectKey:
    meta = entry["body"].get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return (str(entry.get("file")), entry.get("document"), entry.get("line"), str(name))


def _policy_yaml(stored: Stored, wanted: set[ObjectKey]) -> dict[ObjectKey, list[str]]:
    """The YAML lines of the stored objects in `wanted`.

    The stored form keeps every field the analysis reads, in upload order, but
    not the text (comments, annotations and status are never stored), so the
    YAML is written again from it: the same for the same fields however they
    were formatted. Non-ASCII characters are written as escapes, so a hidden
    character in a name shows as `\\u202E`.
    """
    import yaml  # lazily: importing webapp.core pulls in nothing heavy

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml when built with it
    out: dict[ObjectKey, list[str]] = {}
    for entry in stored:
        if "body" in entry and (key := _entry_key(entry)) in wanted:
            text = yaml.dump(
                entry["body"], Dumper=dumper, sort_keys=False, allow_unicode=False, width=2**31 - 1
            )
            out[key] = text.splitlines()
    return out


def _where(policy: Mapping[str, Any] | None) -> dict[str, Any] | None:
    source = (policy or {}).get("source")
    return dict(source) if source else None


def _header(label: str, where: Mapping[str, Any] | None) -> str:
    if where is None:
        return "/dev/null"
    return f"{label}/{where.get('file')} (line {where.get('line')})"


def policy_diffs(old: Doc, new: Doc, old_input: Stored, new_input: Stored) -> list[dict[str, Any]]:
    """The unified diff of the YAML of every policy added, removed or changed.

    Policies are matched by id (namespace/name) and their YAML found in the
    stored input by the file, document and line of their `source`. A policy in
    both versions is changed when its YAML differs: whatever moved between
    files, and whatever comments or formatting changed, the fields the
    analysis reads are what is compared. Each entry: `policy`, `change`
    (added, removed or changed), `before` and `after` (its `source`, None
    where that version lacks it) and `lines`, the diff (headers and hunks,
    without line ends). The hunks count lines of the YAML written again, not
    of the file; the headers say where the policy begins in the file.
    """
    was, now = all_policies(old), all_policies(new)
    texts = (
        _policy_yaml(old_input, {_policy_key(p) for p in was.values()}),
        _policy_yaml(new_input, {_policy_key(p) for p in now.values()}),
    )
    out = []
    for policy_id in [*now, *(i for i in was if i not in now)]:
        before, after = was.get(policy_id), now.get(policy_id)
        sides = [
            found.get(_policy_key(policy), []) if policy is not None else []
            for policy, found in ((before, texts[0]), (after, texts[1]))
        ]
        if before is not None and after is not None:
            if sides[0] == sides[1] or not (sides[0] and sides[1]):
                continue  # unchanged, or one text is not stored: nothing true to show
            change = "changed"
        else:
            change = "added" if before is None else "removed"
            if not (sides[0] or sides[1]):
                continue
        lines = difflib.unified_diff(
            sides[0],
            sides[1],
            _header("before", _where(before)),
            _header("after", _where(after)),
            lineterm="",
        )
        out.append(
            {
                "policy": policy_id,
                "change": change,
                "before": _where(before),
                "after": _where(after),
                "lines": list(lines),
            }
        )
    return out


# --- the whole diff --------------------------------------------------------------------

FLOW_CHANGES = ("added", "removed", "changed")
"""The lists of a diff's `flows`; "changed" holds the changed, widened and narrowed ones."""


def _ports_of(flow: Mapping[str, Any] | None) -> PortSet | None:
    return None if flow is None else port_set(flow)


def _flow_entries(refined: Refined) -> dict[str, list[dict[str, Any]]]:
    """The changed comparisons as rectangles: every pair (a in sources, b in targets, a != b)
    changed alike (same change, same ports before and after).

    Per source class the target classes with the same change are joined, then
    the source classes with the same change and the same targets; so a
    change that a whole group went through is one entry, however many pairs.
    """
    classes = refined.classes
    targets: dict[tuple[int, Any], list[int]] = {}
    for c in refined.comparisons:
        if c.change != "unchanged":
            key = (c.change, _ports_of(c.old), _ports_of(c.new))
            targets.setdefault((c.source, key), []).append(c.target)
    sources: dict[tuple[Any, tuple[int, ...]], list[int]] = {}
    for (source, key), row in targets.items():
        sources.setdefault((key, tuple(row)), []).append(source)
    out: dict[str, list[dict[str, Any]]] = {kind: [] for kind in FLOW_CHANGES}
    rows = sorted(sources.items(), key=lambda item: (item[1][0], item[0][1][0]))
    for ((change, was, now), ts), ss in rows:  # ts: target classes, ss: source classes
        source_ids = [n for s in ss for n in classes[s]]
        target_ids = [n for t in ts for n in classes[t]]
        shared = sum(len(classes[s]) for s in set(ss) & set(ts))
        before, after = was or NO_PORTS, now or NO_PORTS
        entry = {
            "sources": source_ids,
            "targets": target_ids,
            "pairs": len(source_ids) * len(target_ids) - shared,
            "change": change,
            "before": ports_json(before) if was is not None else [],
            "after": ports_json(after) if now is not None else [],
            "beforeText": str(was) if was is not None else "",
            "afterText": str(now) if now is not None else "",
            "gained": ports_json(after - before),
            "lost": ports_json(before - after),
        }
        out[change if change in out else "changed"].append(entry)
    return out


# --- cluster-wide policies: denials and deciding tiers --------------------------------


def _rectangles(
    cells: Iterable[tuple[int, int, Any]], classes: Sequence[Sequence[str]]
) -> list[tuple[Any, list[str], list[str], int]]:
    """(key, source ids, target ids, pairs) for class pairs with the same key: per source
    class the target classes are joined, then the source classes with the same targets, so
    a change a whole group went through is one entry however many pairs (as flows are)."""
    targets: dict[tuple[int, Any], list[int]] = {}
    for source, target, key in cells:
        targets.setdefault((source, key), []).append(target)
    sources: dict[tuple[Any, tuple[int, ...]], list[int]] = {}
    for (source, key), row in targets.items():
        sources.setdefault((key, tuple(row)), []).append(source)
    out = []
    for (key, ts), ss in sorted(sources.items(), key=lambda item: (item[1][0], item[0][1][0])):
        shared = sum(len(classes[c]) for c in set(ss) & set(ts))
        source_ids = [n for c in ss for n in classes[c]]
        target_ids = [n for c in ts for n in classes[c]]
        out.append((key, source_ids, target_ids, len(source_ids) * len(target_ids) - shared))
    return out


def _external_classes(
    old: Doc, new: Doc, refined: Refined
) -> tuple[list[tuple[str, ...]], dict[tuple[str, str], int]]:
    """The refined classes, then one per set of external addresses (ipblock groups with the
    same CIDRs are the same addresses in both versions); (version, external group) -> class."""
    classes = [tuple(c) for c in refined.classes]
    of: dict[tuple[str, str], int] = {}
    by_cidrs: dict[tuple[str, ...], int] = {}
    for version, doc in (("new", new), ("old", old)):
        nodes = {str(n["id"]): n for n in doc.get("nodes") or ()}
        for g, members in _members_of(doc).items():
            blocks = [nodes.get(m) or {} for m in members]
            if not blocks or any(b.get("type") != NodeType.IPBLOCK for b in blocks):
                continue
            cidrs = tuple(sorted(str(c) for b in blocks for c in b.get("cidrs") or ()))
            if cidrs not in by_cidrs:
                by_cidrs[cidrs] = len(classes)
                classes.append(tuple(members))
            of[(version, g)] = by_cidrs[cidrs]
    return classes, of


def _members_of(doc: Doc) -> dict[str, list[str]]:
    members: dict[str, list[str]] = defaultdict(list)
    for node, group in _group_of(doc).items():
        members[group].append(node)
    return members


def _class_index(refined: Refined, of: Mapping[tuple[str, str], int]) -> dict[Any, list[int]]:
    """(version, group id) -> the classes it holds: refined ones, or its external class."""
    index: dict[Any, list[int]] = defaultdict(list)
    for k, (was, now) in enumerate(refined.keys):
        if was is not None:
            index[("old", was)].append(k)
        if now is not None:
            index[("new", now)].append(k)
    for key, k in of.items():
        index.setdefault(key, [k])
    return index


def denial_changes(old: Doc, new: Doc, refined: Refined | None = None) -> dict[str, Any]:
    """The ports Admin or Baseline Deny rules drop that a change added (`gained`) or took away
    (`lost`), per rule: each entry `sources`, `targets` (node ids; an external end is its
    address blocks), `pairs`, `direction`, `rule` (the RuleRef of the Deny rule, as in the
    version that has it), `via` and `ports`. A Deny rule is the same in both versions when
    its policy, direction and index are; documents without cluster-wide policies have none.
    """
    refined = refined or refine(old, new)
    classes, of = _external_classes(old, new, refined)
    index = _class_index(refined, of)
    cells: dict[str, dict[tuple[int, int], dict[Any, Mapping[str, Any]]]] = {}
    for version, doc in (("old", old), ("new", new)):
        found: dict[tuple[int, int], dict[Any, Mapping[str, Any]]] = defaultdict(dict)
        for d in doc.get("denials") or ():
            rule = d.get("rule") or {}
            key = (
                str(d.get("direction")),
                str(rule.get("policy")),
                rule.get("rule"),
                port_set(d),
            )
            for a in index.get((version, str(d["source"])), ()):
                for b in index.get((version, str(d["target"])), ()):
                    if len(classes[a]) * (len(classes[b]) - (a == b)):
                        found[(a, b)][key] = d
        cells[version] = found
    out: dict[str, Any] = {}
    for change, mine, theirs in (
        ("gained", cells["new"], cells["old"]),
        ("lost", cells["old"], cells["new"]),
    ):
        listed = [
            (a, b, key)
            for (a, b), keys in mine.items()
            for key in keys
            if key not in theirs.get((a, b), {})
        ]
        denial = {key: mine[(a, b)][key] for a, b, key in listed}
        entries = []
        for key, sources, targets, pairs in _rectangles(listed, classes):
            d = denial[key]
            entries.append(
                {
                    "sources": sources,
                    "targets": targets,
                    "pairs": pairs,
                    "direction": key[0],
                    "rule": dict(d.get("rule") or {}),
                    "via": list(d.get("via") or ()),
                    "ports": ports_json(key[3]),
                    "portsText": str(key[3]),
                }
            )
        out[change] = entries
    return out


NETWORK_POLICY_TIER = "NetworkPolicy"


def deciding_tiers(refs: Iterable[Mapping[str, Any]]) -> list[str]:
    """The tiers whose rules allow one direction of a flow, in tier order: Admin or Baseline
    for an Accept rule, NetworkPolicy for its rules; [] when only the default allows it (a
    Pass hands over and decides nothing)."""
    out: dict[str, None] = {}
    for r in refs:
        if "tier" not in r:
            out[NETWORK_POLICY_TIER] = None
        elif r.get("action") == "Accept":
            out[str(r["tier"])] = None
    return list(out)


def tier_changes(old: Doc, new: Doc, refined: Refined | None = None) -> list[dict[str, Any]]:
    """Flows in both versions whose deciding tiers (`deciding_tiers`) changed in a direction:
    each entry `sources`, `targets`, `pairs`, `direction`, `before` and `after` (tier lists;
    [] is the default). Found only where either version has cluster-wide policies."""
    if "denials" not in old and "denials" not in new:
        return []
    refined = refined or refine(old, new)
    cells = []
    for c in refined.comparisons:
        if c.old is None or c.new is None:
            continue
        for direction in ("egress", "ingress"):
            was = tuple(deciding_tiers(c.old.get(direction) or ()))
            now = tuple(deciding_tiers(c.new.get(direction) or ()))
            if was != now:
                cells.append((c.source, c.target, (direction, was, now)))
    return [
        {
            "sources": sources,
            "targets": targets,
            "pairs": pairs,
            "direction": key[0],
            "before": list(key[1]),
            "after": list(key[2]),
        }
        for key, sources, targets, pairs in _rectangles(cells, refined.classes)
    ]


def diff_documents(
    old: Doc, new: Doc, inputs: tuple[Stored, Stored] | None = None
) -> dict[str, Any]:
    """The difference from `old` to `new` (documents of version 1 or 2), as a JSON-ready dict.

    Keys: `changed` (anything below differs), `summary` (counts),
    `nodes` {added, removed} (in-cluster Node dicts), `flows` {added, removed,
    changed}: between in-cluster nodes, each entry `sources`, `targets` (node
    ids) and `pairs` standing for every pair (a in sources, b in targets,
    a != b), with its `change`, the ports `before` and `after` (and their
    text), and the ports `gained` and `lost`; `external` (`external_changes`);
    `policies` {added, removed, changed} (ids, cluster-wide policies as `Kind/name`);
    `findings` {fixed, introduced} (`finding_changes`); `denials` {gained, lost}
    (`denial_changes`) and `tiers` (`tier_changes`). ipblock nodes and their flows are compared only
    through `external`: their ids are cuts of one version's address space, not
    names of addresses.

    With `inputs`, the stored inputs of both versions, `policyDiffs` lists the
    YAML diff of each policy (`policy_diffs`), and a policy is changed when
    its YAML differs (a new podSelector too). Without them a document says
    only a policy's types and rule texts, and those are compared.
    """
    refined = refine(old, new)
    old_nodes, new_nodes = _in_cluster(old), _in_cluster(new)
    old_policies, new_policies = all_policies(old), all_policies(new)
    nodes = {
        "added": [n for i, n in new_nodes.items() if i not in old_nodes],
        "removed": [n for i, n in old_nodes.items() if i not in new_nodes],
    }
    flows = _flow_entries(refined)
    external = external_changes(old, new, refined)
    yaml_diffs = policy_diffs(old, new, *inputs) if inputs is not None else None
    if yaml_diffs is None:
        changed = [
            i
            for i, p in new_policies.items()
            if i in old_policies and _policy_shape(p) != _policy_shape(old_policies[i])
        ]
    else:
        changed = [d["policy"] for d in yaml_diffs if d["change"] == "changed"]
    policies = {
        "added": [i for i in new_policies if i not in old_policies],
        "removed": [i for i in old_policies if i not in new_policies],
        "changed": changed,
    }
    findings = finding_changes(old, new)
    denials = denial_changes(old, new, refined)
    tiers = tier_changes(old, new, refined)
    summary: dict[str, int] = {
        "nodesAdded": len(nodes["added"]),
        "nodesRemoved": len(nodes["removed"]),
        "flowsAdded": len(flows["added"]),
        "flowsRemoved": len(flows["removed"]),
        "flowsChanged": len(flows["changed"]),
        "pairsAdded": sum(f["pairs"] for f in flows["added"]),
        "pairsRemoved": sum(f["pairs"] for f in flows["removed"]),
        "pairsChanged": sum(f["pairs"] for f in flows["changed"]),
        "externalChanged": len(external),
        "policiesAdded": len(policies["added"]),
        "policiesRemoved": len(policies["removed"]),
        "policiesChanged": len(policies["changed"]),
        "findingsFixed": len(findings["fixed"]),
        "findingsIntroduced": len(findings["introduced"]),
        "denialsGained": len(denials["gained"]),
        "denialsLost": len(denials["lost"]),
        "tiersChanged": len(tiers),
    }
    result = {
        "version": DIFF_VERSION,
        "changed": any(summary.values()),
        "summary": summary,
        "nodes": nodes,
        "flows": flows,
        "external": external,
        "policies": policies,
        "findings": findings,
        "denials": denials,
        "tiers": tiers,
    }
    if yaml_diffs is not None:
        result["policyDiffs"] = yaml_diffs
    return result


def _in_cluster(doc: Doc) -> dict[str, Mapping[str, Any]]:
    return _by_id(n for n in doc.get("nodes") or () if n.get("type") != NodeType.IPBLOCK)
