"""Sets of (protocol, destination port) as canonical ranges, and NetworkPolicyPort resolution.

A NetworkPolicyPort allows one protocol (default TCP) and a port, a port
range (`endPort`), a named port, or every port when `port` is absent. A named
port is looked up in the destination pod's container ports, with the rule's
protocol; a pod that has no such port gets nothing from that entry.
Reference: https://kubernetes.io/docs/concepts/services-networking/network-policies/#targeting-a-range-of-ports
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from webapp.core.model import ContainerPort, PortSpec, Protocol

MIN_PORT = 1
MAX_PORT = 65535
PROTOCOLS: tuple[Protocol, ...] = (Protocol.TCP, Protocol.UDP, Protocol.SCTP)
_ORDER = {p: i for i, p in enumerate(PROTOCOLS)}

Range = tuple[Protocol, int, int]


def _canonical(ranges: Iterable[Range]) -> tuple[Range, ...]:
    """Sort by protocol then start, merge overlapping and adjacent ranges."""
    out: list[Range] = []
    for proto, lo, hi in sorted(ranges, key=lambda r: (_ORDER[r[0]], r[1], r[2])):
        if out and out[-1][0] is proto and lo <= out[-1][2] + 1:
            if hi > out[-1][2]:
                out[-1] = (proto, out[-1][1], hi)
        else:
            out.append((proto, lo, hi))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class PortSet:
    """An immutable set of (protocol, port) pairs.

    Invariant: `ranges` is sorted by (protocol order TCP, UDP, SCTP; start),
    every range has 1 <= lo <= hi <= 65535, and no two ranges of one protocol
    overlap or touch. So equal sets have equal `ranges`.
    """

    ranges: tuple[Range, ...] = ()

    @classmethod
    def of(cls, ranges: Iterable[Range]) -> PortSet:
        return cls(_canonical(ranges))

    @classmethod
    def all(cls) -> PortSet:
        return ALL_PORTS

    @classmethod
    def protocol(cls, proto: Protocol) -> PortSet:
        return cls(((proto, MIN_PORT, MAX_PORT),))

    def __bool__(self) -> bool:
        return bool(self.ranges)

    def __or__(self, other: PortSet) -> PortSet:
        if not other.ranges or other is self:
            return self
        if not self.ranges:
            return other
        return PortSet(_canonical(self.ranges + other.ranges))

    def __and__(self, other: PortSet) -> PortSet:
        if self is other or other == ALL_PORTS:
            return self
        if self == ALL_PORTS:
            return other
        out: list[Range] = []
        for proto, lo, hi in self.ranges:
            for oproto, olo, ohi in other.ranges:
                if oproto is proto and olo <= hi and lo <= ohi:
                    out.append((proto, max(lo, olo), min(hi, ohi)))
        return PortSet(_canonical(out))

    def __sub__(self, other: PortSet) -> PortSet:
        out: list[Range] = []
        for proto, lo, hi in self.ranges:
            pieces = [(lo, hi)]
            for oproto, olo, ohi in other.ranges:
                if oproto is not proto:
                    continue
                next_pieces = []
                for plo, phi in pieces:
                    if ohi < plo or olo > phi:
                        next_pieces.append((plo, phi))
                        continue
                    if plo < olo:
                        next_pieces.append((plo, olo - 1))
                    if ohi < phi:
                        next_pieces.append((ohi + 1, phi))
                pieces = next_pieces
            out.extend((proto, a, b) for a, b in pieces)
        return PortSet(_canonical(out))

    def __contains__(self, item: tuple[Protocol, int]) -> bool:
        proto, port = item
        return any(p is proto and lo <= port <= hi for p, lo, hi in self.ranges)

    @property
    def is_all(self) -> bool:
        return self == ALL_PORTS

    def __str__(self) -> str:
        if self.is_all:
            return "all"
        if not self.ranges:
            return "none"
        parts = []
        for proto, lo, hi in self.ranges:
            if lo == MIN_PORT and hi == MAX_PORT:
                parts.append(f"{proto} all ports")
            elif lo == hi:
                parts.append(f"{proto} {lo}")
            else:
                parts.append(f"{proto} {lo}-{hi}")
        return ", ".join(parts)


ALL_PORTS = PortSet(tuple((p, MIN_PORT, MAX_PORT) for p in PROTOCOLS))
NO_PORTS = PortSet()


def resolve_spec(spec: PortSpec, target_ports: tuple[ContainerPort, ...]) -> PortSet:
    """The ports one NetworkPolicyPort allows towards a destination with `target_ports`.

    A named port matches container ports with that name and the rule's
    protocol; an unnamed destination (external address) has no named ports.
    """
    if spec.port is None:
        return PortSet.protocol(spec.protocol)
    if isinstance(spec.port, int):
        end = spec.end_port if spec.end_port is not None else spec.port
        return PortSet(((spec.protocol, spec.port, end),))
    return PortSet.of(
        (spec.protocol, cp.port, cp.port)
        for cp in target_ports
        if cp.name == spec.port and cp.protocol is spec.protocol
    )


def resolve_ports(specs: tuple[PortSpec, ...], target_ports: tuple[ContainerPort, ...]) -> PortSet:
    """Union over a rule's `ports`; an empty list means every port and protocol."""
    if not specs:
        return ALL_PORTS
    result = NO_PORTS
    for spec in specs:
        result = result | resolve_spec(spec, target_ports)
    return result
