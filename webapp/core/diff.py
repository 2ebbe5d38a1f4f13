"""What a change to the manifests does to connectivity: the difference of two analysis documents.

Works on the CONTRACT §3 documents themselves (as `analyze --format json`
writes them or as the web app stores them), so any two saved analyses can be
compared. In-cluster nodes (workloads, inferred pods) and policies are
matched by id, flows between them by (source, target); a flow present in
both is "changed" when its allowed ports differ, and "widened" or "narrowed"
when one port set contains the other.

External access is compared by address, not by ipblock node: an ipblock's id
names a region of one upload's partition of the address space, and the same
id can stand for other addresses in the other version (an `except` moved
inside one ipBlock `cidr` keeps the region's first address). So, for every
in-cluster node and direction, the addresses and ports it may reach (egress)
or be reached from (ingress) outside the cluster are computed in both
versions, and exactly the (address, port) pairs gained and lost are listed,
per port range, as merged CIDRs. ipBlock semantics:
https://kubernetes.io/docs/concepts/services-networking/network-policies/ (ipBlock)
"""

from __future__ import annotations

import bisect
import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import pairwise
from typing import Any, NamedTuple

from webapp.core.document import ports_json
from webapp.core.model import Direction, NodeType, Protocol
from webapp.core.portset import NO_PORTS, PROTOCOLS, PortSet

Doc = Mapping[str, Any]
DIFF_VERSION = 2
"""2: external access moved from `flows` (by ipblock id) to `external` (by address)."""

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
    """Its types and rule texts, without where it was written (files move between versions).

    `selects` is left out: it changes with the workloads, which the node and
    flow differences already show.
    """
    rules = tuple((r.get("direction"), r.get("rule"), r.get("text")) for r in p.get("rules") or ())
    return (tuple(p.get("policyTypes") or ()), rules)


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
    """(in-cluster node id, direction) -> the external addresses of its flows, with their ports.

    A flow from an ipblock is ingress of its target; a flow to one, egress of its source.
    """
    external = {
        str(n["id"]): list(_spans(n.get("cidrs") or ()))
        for n in doc.get("nodes") or ()
        if n.get("type") == NodeType.IPBLOCK
    }
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


def external_changes(old: Doc, new: Doc) -> list[dict[str, Any]]:
    """The external addresses each in-cluster node gains and loses, per direction and port range.

    One entry per (node, direction, protocol, port range): `gained` and
    `lost` are merged CIDR lists (IPv4, then IPv6). A node only one version
    has counts as reaching nothing in the other. Access that is the same
    address for address is not listed, however the regions were cut.
    """
    before, after = _external_access(old), _external_access(new)
    rank: dict[str, int] = {}  # the order of the nodes of `new`, then those only `old` has
    for doc in (new, old):
        for n in doc.get("nodes") or ():
            rank.setdefault(str(n["id"]), len(rank))
    keys = sorted(
        before.keys() | after.keys(),
        key=lambda k: (rank.get(k[0], len(rank)), k[0], k[1] is Direction.INGRESS),
    )
    changes = []
    for node, direction in keys:
        was, now = before.get((node, direction), {}), after.get((node, direction), {})
        pieces = {v: list(_pieces(was.get(v, ()), now.get(v, ()))) for v in VERSIONS}
        for protocol, lo, hi, gained, lost in _by_port_range(pieces):
            changes.append(
                {
                    "node": node,
                    "direction": str(direction),
                    "protocol": str(protocol),
                    "from": lo,
                    "to": hi,
                    "gained": _cidr_list(gained),
                    "lost": _cidr_list(lost),
                }
            )
    return changes


# --- the whole diff --------------------------------------------------------------------


def diff_documents(old: Doc, new: Doc) -> dict[str, Any]:
    """The difference from `old` to `new`, as a JSON-ready dict.

    Keys: `changed` (anything below differs), `summary` (counts),
    `nodes` {added, removed} (in-cluster Node dicts), `flows` {added, removed}
    (Flow dicts) and `changed` (source, target, change, before/after ports and
    their text, the ports gained and lost) between in-cluster nodes,
    `external` (`external_changes`), `policies` {added, removed, changed} (ids).
    ipblock nodes and their flows are compared only through `external`: their
    ids are cuts of one version's address space, not names of addresses.
    """
    old_nodes, new_nodes = _in_cluster(old), _in_cluster(new)
    old_flows, new_flows = _internal_flows(old, old_nodes), _internal_flows(new, new_nodes)
    old_policies = _by_id(old.get("policies") or ())
    new_policies = _by_id(new.get("policies") or ())

    changed_flows = []
    for key, after_flow in new_flows.items():
        before_flow = old_flows.get(key)
        if before_flow is None:
            continue
        before, after = port_set(before_flow), port_set(after_flow)
        if before == after:
            continue
        changed_flows.append(
            {
                "source": key[0],
                "target": key[1],
                "change": _flow_change(before, after),
                "before": ports_json(before),
                "after": ports_json(after),
                "beforeText": str(before),
                "afterText": str(after),
                "gained": ports_json(after - before),
                "lost": ports_json(before - after),
                "old": before_flow,
                "new": after_flow,
            }
        )

    nodes = {
        "added": [n for i, n in new_nodes.items() if i not in old_nodes],
        "removed": [n for i, n in old_nodes.items() if i not in new_nodes],
    }
    flows: dict[str, list[Any]] = {
        "added": [f for k, f in new_flows.items() if k not in old_flows],
        "removed": [f for k, f in old_flows.items() if k not in new_flows],
        "changed": changed_flows,
    }
    external = external_changes(old, new)
    policies = {
        "added": [i for i in new_policies if i not in old_policies],
        "removed": [i for i in old_policies if i not in new_policies],
        "changed": [
            i
            for i, p in new_policies.items()
            if i in old_policies and _policy_shape(p) != _policy_shape(old_policies[i])
        ],
    }
    summary: dict[str, int] = {
        "nodesAdded": len(nodes["added"]),
        "nodesRemoved": len(nodes["removed"]),
        "flowsAdded": len(flows["added"]),
        "flowsRemoved": len(flows["removed"]),
        "flowsChanged": len(changed_flows),
        "externalChanged": len(external),
        "policiesAdded": len(policies["added"]),
        "policiesRemoved": len(policies["removed"]),
        "policiesChanged": len(policies["changed"]),
    }
    return {
        "version": DIFF_VERSION,
        "changed": any(summary.values()),
        "summary": summary,
        "nodes": nodes,
        "flows": flows,
        "external": external,
        "policies": policies,
    }


def _in_cluster(doc: Doc) -> dict[str, Mapping[str, Any]]:
    return _by_id(n for n in doc.get("nodes") or () if n.get("type") != NodeType.IPBLOCK)


def _internal_flows(doc: Doc, nodes: Mapping[str, Any]) -> dict[tuple[str, str], Mapping[str, Any]]:
    return {
        (str(f["source"]), str(f["target"])): f
        for f in doc.get("flows") or ()
        if f["source"] in nodes and f["target"] in nodes
    }
