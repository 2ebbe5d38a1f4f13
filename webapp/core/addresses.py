"""External addresses split into disjoint regions that every ipBlock treats alike.

An ipBlock peer allows `cidr` minus its `except` ranges. Cutting the IPv4 and
IPv6 spaces at every boundary of every cidr and except gives elementary
intervals; intervals covered by the same set of ipBlocks are one region, so a
flow to a region means the same for every address in it. The addresses no
ipBlock names form one more region.
Reference: https://kubernetes.io/docs/concepts/services-networking/network-policies/ (ipBlock)
"""

from __future__ import annotations

import bisect
import ipaddress
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from webapp.core.model import IPBlockPeer, IPNetwork

OTHER_REGION_ID = "ipblock:other"


@dataclass(frozen=True, slots=True)
class Region:
    """External addresses that every ipBlock of the upload includes or excludes as a whole."""

    id: str
    name: str
    cidrs: tuple[str, ...]
    blocks: frozenset[int]
    """Indexes (into the `blocks` argument of `partition`) of the ipBlocks that contain it."""


def block_text(block: IPBlockPeer) -> str:
    if not block.excepts:
        return str(block.cidr)
    return f"{block.cidr} except {', '.join(str(e) for e in block.excepts)}"


def _span(net: IPNetwork) -> tuple[int, int]:
    return int(net.network_address), int(net.broadcast_address) + 1


def _to_cidrs(version: int, intervals: list[tuple[int, int]]) -> list[str]:
    addr = ipaddress.IPv4Address if version == 4 else ipaddress.IPv6Address
    out: list[str] = []
    for lo, hi in intervals:
        out.extend(str(n) for n in ipaddress.summarize_address_range(addr(lo), addr(hi - 1)))
    return out


def partition(blocks: Sequence[IPBlockPeer]) -> list[Region]:
    """Disjoint regions covering the whole IPv4 and IPv6 space, in a stable order.

    The region that no block contains comes last, with id `ipblock:other`.
    """
    by_signature: dict[tuple[int, frozenset[int]], list[tuple[int, int]]] = defaultdict(list)
    other: list[str] = []
    for version, size in ((4, 2**32), (6, 2**128)):
        mine = [(i, b) for i, b in enumerate(blocks) if b.cidr.version == version]
        cuts = {0, size}
        for _, b in mine:
            for net in (b.cidr, *b.excepts):
                cuts.update(_span(net))
        bounds = sorted(cuts)
        members: list[set[int]] = [set() for _ in range(len(bounds) - 1)]
        for i, b in mine:
            inside = set(_interval_indexes(bounds, b.cidr))
            for e in b.excepts:
                inside -= set(_interval_indexes(bounds, e))
            for k in inside:
                members[k].add(i)
        unnamed: list[tuple[int, int]] = []
        for k, m in enumerate(members):
            intervals = by_signature[(version, frozenset(m))] if m else unnamed
            # Touching intervals of one signature merge, so CIDR lists stay short.
            if intervals and intervals[-1][1] == bounds[k]:
                intervals[-1] = (intervals[-1][0], bounds[k + 1])
            else:
                intervals.append((bounds[k], bounds[k + 1]))
        other.extend(_to_cidrs(version, unnamed))

    regions = []
    for (version, sig), intervals in by_signature.items():
        cidrs = _to_cidrs(version, intervals)
        name = _name(blocks, sig, version, intervals)
        regions.append(Region(f"ipblock:{cidrs[0]}", name, tuple(cidrs), sig))
    regions.sort(key=lambda r: (ipaddress.ip_network(r.cidrs[0]).version, _first_int(r)))
    name = "other external addresses" if blocks else "any external address"
    regions.append(Region(OTHER_REGION_ID, name, tuple(other), frozenset()))
    return regions


def _interval_indexes(bounds: list[int], net: IPNetwork) -> range:
    lo, hi = _span(net)
    return range(bisect.bisect_left(bounds, lo), bisect.bisect_left(bounds, hi))


def _first_int(region: Region) -> int:
    return int(ipaddress.ip_network(region.cidrs[0]).network_address)


def _name(
    blocks: Sequence[IPBlockPeer],
    sig: frozenset[int],
    version: int,
    intervals: list[tuple[int, int]],
) -> str:
    """Name a region as the narrowest ipBlock cidr containing it, minus what it leaves out.

    e.g. "0.0.0.0/0 except 10.0.0.0/8, 203.0.113.0/24"; long lists are shortened.
    """
    base = max((blocks[i].cidr for i in sig), key=lambda n: n.prefixlen)
    lo, hi = _span(base)
    gaps: list[tuple[int, int]] = []
    cursor = lo
    for a, b in intervals:
        if a > cursor:
            gaps.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < hi:
        gaps.append((cursor, hi))
    if not gaps:
        return str(base)
    left_out = _to_cidrs(version, gaps)
    shown = ", ".join(left_out[:3]) + (f" (+{len(left_out) - 3} more)" if len(left_out) > 3 else "")
    return f"{base} except {shown}"
