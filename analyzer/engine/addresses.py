"""Address atoms: the address space cut at every ipBlock boundary, and where pod IPs fall in it.

No ipBlock can tell two addresses of one atom apart, so the engine reasons about atoms, never
single addresses. Pods that carry IPs (``status.podIPs`` of a ``kubectl get -o yaml`` export) are
matched by an ipBlock that contains one of their IPs; what an ipBlock can see of a pod is
therefore the set of *covered* atoms (atoms inside some ipBlock) its IPs fall into, its
:meth:`AddressAtoms.key_of`. A pod whose IPs lie in no covered atom looks, to every ipBlock,
like a pod without a known IP, so pod classes are split by IP only where some ipBlock boundary
separates them. The class engine (:mod:`analyzer.engine.classes`) and the Z3 encoding both read
this module, so they split pods identically.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Iterable, Sequence

from .compile import CompiledPolicies, IPPeer
from ..model.connset import IP_MAX, V6_BASE, IntervalSet

Atoms = tuple[tuple[int, int], ...]


def ip_blocks(compiled: CompiledPolicies) -> list[IntervalSet]:
    """The address sets of every ipBlock (and admin ``networks``) peer, in policy order
    (duplicates kept once)."""
    seen: dict[IntervalSet, None] = {}
    for t in (*compiled.targets, *compiled.admin):
        for r in t.rules:
            for p in r.peers:
                if isinstance(p, IPPeer):
                    seen.setdefault(p.addresses)
    return list(seen)


def ip_partition(compiled: CompiledPolicies) -> Atoms:
    """Disjoint address atoms: the whole v4+v6 space cut at every ipBlock boundary."""
    cuts = {0, V6_BASE}
    for addresses in ip_blocks(compiled):
        for lo, hi in addresses:
            cuts.add(lo)
            if hi < IP_MAX:
                cuts.add(hi + 1)
    ordered = sorted(cuts)
    return tuple((lo, (ordered[i + 1] - 1) if i + 1 < len(ordered) else IP_MAX)
                 for i, lo in enumerate(ordered))


def atom_bits(addresses: IntervalSet, starts: Sequence[int]) -> int:
    """The atoms (bit i = atom i) of ``addresses``, whose bounds must be atom bounds."""
    bits = 0
    for lo, hi in addresses:
        i0 = bisect.bisect_right(starts, lo) - 1
        i1 = bisect.bisect_right(starts, hi) - 1
        bits |= ((1 << (i1 - i0 + 1)) - 1) << i0
    return bits


@dataclass(frozen=True)
class AddressAtoms:
    """The atoms of one set of policies and which of them some ipBlock covers."""

    atoms: Atoms
    starts: tuple[int, ...]
    covered: int  # bits of the atoms inside at least one ipBlock

    @classmethod
    def of(cls, compiled: CompiledPolicies, atoms: Atoms | None = None) -> "AddressAtoms":
        atoms = atoms if atoms is not None else ip_partition(compiled)
        starts = tuple(lo for lo, _ in atoms)
        covered = 0
        for addresses in ip_blocks(compiled):
            covered |= atom_bits(addresses, starts)
        return cls(atoms, starts, covered)

    def atom_of(self, address: int) -> int:
        return bisect.bisect_right(self.starts, address) - 1

    def bits_of(self, addresses: IntervalSet) -> int:
        return atom_bits(addresses, self.starts)

    def key_of(self, ips: Iterable[int]) -> tuple[int, ...]:
        """The covered atoms ``ips`` fall into: all an ipBlock can tell about the pod."""
        if not self.covered:
            return ()
        return tuple(sorted({a for a in map(self.atom_of, ips) if self.covered >> a & 1}))

    def representatives(self, key: tuple[int, ...]) -> tuple[int, ...]:
        """One address per atom of ``key`` (its first), standing for every pod IP there."""
        return tuple(self.atoms[a][0] for a in key)
