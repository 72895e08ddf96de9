"""The connection-set algebra: canonical interval sets of ports and addresses.

Every value here is canonical, so ``==`` is semantic equality: intervals are sorted, disjoint and
never adjacent, and empty protocols are dropped. Nothing enumerates ports or addresses one by one.

Addresses of both families live in one integer space: IPv4 ``a.b.c.d`` is its 32-bit value and
IPv6 address ``x`` is ``2**32 + int(x)``, so one interval set can describe "everything outside the
cluster" in both families at once.
"""

from __future__ import annotations

import bisect
import ipaddress
from dataclasses import dataclass
from typing import Iterable, Iterator

PORT_MIN, PORT_MAX = 1, 65535
_INF = float("inf")  # sorts after every interval end, for bisecting on (start, end) pairs
PROTOCOLS = ("SCTP", "TCP", "UDP")  # sorted by name, as they are printed
V6_BASE = 2**32
IP_MAX = V6_BASE + 2**128 - 1
V4_MAX = V6_BASE - 1


@dataclass(frozen=True, slots=True)
class IntervalSet:
    """A set of integers as sorted, disjoint, non-adjacent closed intervals."""

    intervals: tuple[tuple[int, int], ...] = ()

    @classmethod
    def of(cls, pairs: Iterable[tuple[int, int]]) -> "IntervalSet":
        merged: list[list[int]] = []
        for lo, hi in sorted(p for p in pairs if p[0] <= p[1]):
            if merged and lo <= merged[-1][1] + 1:
                if hi > merged[-1][1]:
                    merged[-1][1] = hi
            else:
                merged.append([lo, hi])
        return cls(tuple((a, b) for a, b in merged))

    @classmethod
    def span(cls, lo: int, hi: int) -> "IntervalSet":
        return cls(((lo, hi),)) if lo <= hi else cls()

    def __bool__(self) -> bool:
        return bool(self.intervals)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(self.intervals)

    def __contains__(self, value: int) -> bool:
        # intervals are sorted and disjoint: the one that could hold value starts at or below it
        i = bisect.bisect_right(self.intervals, (value, _INF)) - 1
        return i >= 0 and self.intervals[i][1] >= value

    def __or__(self, other: "IntervalSet") -> "IntervalSet":
        if not other.intervals:
            return self
        if not self.intervals:
            return other
        return IntervalSet.of(self.intervals + other.intervals)

    def __and__(self, other: "IntervalSet") -> "IntervalSet":
        out: list[tuple[int, int]] = []
        a, b = self.intervals, other.intervals
        i = j = 0
        while i < len(a) and j < len(b):
            lo, hi = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
            if lo <= hi:
                out.append((lo, hi))
            if a[i][1] < b[j][1]:
                i += 1
            else:
                j += 1
        return IntervalSet(tuple(out))

    def __sub__(self, other: "IntervalSet") -> "IntervalSet":
        out: list[tuple[int, int]] = []
        b = other.intervals
        j = 0
        for lo, hi in self.intervals:
            while j < len(b) and b[j][1] < lo:
                j += 1
            k, cur = j, lo
            while k < len(b) and b[k][0] <= hi:
                if b[k][0] > cur:
                    out.append((cur, b[k][0] - 1))
                cur = max(cur, b[k][1] + 1)
                k += 1
            if cur <= hi:
                out.append((cur, hi))
        return IntervalSet(tuple(out))

    def issubset(self, other: "IntervalSet") -> bool:
        return not (self - other)

    def size(self) -> int:
        return sum(hi - lo + 1 for lo, hi in self.intervals)


EMPTY = IntervalSet()
ALL_PORTS = IntervalSet.span(PORT_MIN, PORT_MAX)
ALL_IPS = IntervalSet.span(0, IP_MAX)
ALL_IPV4 = IntervalSet.span(0, V4_MAX)
ALL_IPV6 = IntervalSet.span(V6_BASE, IP_MAX)


@dataclass(frozen=True, slots=True)
class ConnectionSet:
    """Protocol -> canonical port set. Protocols with no ports are absent, so equal sets are
    equal values. Build with :meth:`of`, :data:`NO_CONNECTIONS` or :data:`ALL_CONNECTIONS`."""

    by_protocol: tuple[tuple[str, IntervalSet], ...] = ()

    @classmethod
    def of(cls, mapping: dict[str, IntervalSet] | Iterable[tuple[str, IntervalSet]]) -> "ConnectionSet":
        items = mapping.items() if isinstance(mapping, dict) else mapping
        acc: dict[str, IntervalSet] = {}
        for proto, ports in items:
            acc[proto] = acc.get(proto, EMPTY) | ports
        return cls(tuple((p, acc[p]) for p in PROTOCOLS if acc.get(p)))

    @classmethod
    def ports(cls, protocol: str, lo: int = PORT_MIN, hi: int = PORT_MAX) -> "ConnectionSet":
        return cls.of({protocol: IntervalSet.span(lo, hi)})

    def get(self, protocol: str) -> IntervalSet:
        for p, s in self.by_protocol:
            if p == protocol:
                return s
        return EMPTY

    def __bool__(self) -> bool:
        return bool(self.by_protocol)

    def __or__(self, other: "ConnectionSet") -> "ConnectionSet":
        if not other.by_protocol or self is other or self is ALL_CONNECTIONS:
            return self
        if not self.by_protocol or other is ALL_CONNECTIONS:
            return other
        return ConnectionSet.of(self.by_protocol + other.by_protocol)

    def __and__(self, other: "ConnectionSet") -> "ConnectionSet":
        # ALL_CONNECTIONS is what every rule without ports and every unisolated side holds
        if self is other or other is ALL_CONNECTIONS:
            return self
        if self is ALL_CONNECTIONS:
            return other
        # both are in PROTOCOLS order, so walking one keeps the result canonical
        theirs = dict(other.by_protocol)
        out = []
        for p, s in self.by_protocol:
            t = theirs.get(p)
            if t is not None and (both := s & t):
                out.append((p, both))
        return ConnectionSet(tuple(out))

    def __sub__(self, other: "ConnectionSet") -> "ConnectionSet":
        return ConnectionSet(tuple((p, s) for p in PROTOCOLS if (s := self.get(p) - other.get(p))))

    def issubset(self, other: "ConnectionSet") -> bool:
        return not (self - other)

    def is_all(self) -> bool:
        return self == ALL_CONNECTIONS

    def allows(self, protocol: str, port: int) -> bool:
        return port in self.get(protocol)

    def to_text(self) -> str:
        """``All Connections``, ``No Connections`` or ``TCP 80,8080-8090,UDP 53``."""
        if self.is_all():
            return "All Connections"
        if not self:
            return "No Connections"
        return ",".join(f"{p} " + ",".join(_port_text(lo, hi) for lo, hi in s)
                        for p, s in self.by_protocol)

    def to_json(self) -> dict[str, list[list[int]]]:
        return {p: [[lo, hi] for lo, hi in s] for p, s in self.by_protocol}


def _port_text(lo: int, hi: int) -> str:
    return str(lo) if lo == hi else f"{lo}-{hi}"


NO_CONNECTIONS = ConnectionSet()
ALL_CONNECTIONS = ConnectionSet(tuple((p, ALL_PORTS) for p in PROTOCOLS))


# --- addresses -----------------------------------------------------------------------------


def cidr_interval(cidr: str) -> tuple[int, int]:
    """The address interval of a CIDR in the shared v4/v6 integer space. Host bits are ignored
    (``10.0.0.1/8`` is ``10.0.0.0/8``), as Kubernetes does."""
    net = ipaddress.ip_network(cidr.strip(), strict=False)
    base = 0 if net.version == 4 else V6_BASE
    return base + int(net.network_address), base + int(net.broadcast_address)


def ip_block_set(cidr: str, excepts: Iterable[str] = ()) -> IntervalSet:
    out = IntervalSet.span(*cidr_interval(cidr))
    if excepts:
        out = out - IntervalSet.of(cidr_interval(e) for e in excepts)
    return out


def address_value(text: str) -> int:
    """An IPv4 or IPv6 address in the shared integer space; ValueError if it is not one."""
    addr = ipaddress.ip_address(text.strip())
    return int(addr) if addr.version == 4 else V6_BASE + int(addr)


def address_text(value: int) -> str:
    if value <= V4_MAX:
        return str(ipaddress.IPv4Address(value))
    return str(ipaddress.IPv6Address(value - V6_BASE))


def is_global(value: int) -> bool:
    """A publicly routable address (not private, loopback, documentation, reserved...)."""
    return (ipaddress.IPv4Address(value) if value <= V4_MAX
            else ipaddress.IPv6Address(value - V6_BASE)).is_global


def example_addresses(s: IntervalSet, limit: int = 6) -> list[int]:
    """Addresses of ``s`` a reader takes for "some address out there", best first: public
    (globally routable) IPv4 addresses that do not end in .0, then public IPv6, then the second
    address of each range (never 0.0.0.0 or ffff:...:ffff when a range offers better)."""
    public: list[int] = []
    fallback: list[int] = []
    for lo, hi in split_families(s):
        base, step = (0, 2**24) if lo <= V4_MAX else (V6_BASE, 2**120)  # /8 blocks
        first = lo + 1 if lo < hi else lo
        fallback.append(first)
        probe, tries = first, 0
        while probe <= hi and tries < 300 and len(public) < limit:
            if is_global(probe):
                public.append(probe)
                break
            probe = base + ((probe - base) // step + 1) * step + 1
            tries += 1
    ordered = sorted(public, key=lambda v: v > V4_MAX) + fallback
    seen: list[int] = []
    for v in ordered:
        if v not in seen:
            seen.append(v)
    return seen[:limit]


def example_address(s: IntervalSet) -> int:
    return example_addresses(s, 1)[0]


def range_text(lo: int, hi: int) -> str:
    """``10.0.0.0-10.255.255.255``; a range never straddles the two families."""
    return f"{address_text(lo)}-{address_text(hi)}"


def split_families(s: IntervalSet) -> IntervalSet:
    """Cut intervals at the v4/v6 boundary so each printed range is within one family."""
    return IntervalSet(tuple(piece for lo, hi in s for piece in (
        ((lo, V4_MAX), (V6_BASE, hi)) if lo <= V4_MAX < hi else ((lo, hi),))))
