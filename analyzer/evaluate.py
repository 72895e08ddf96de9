"""The concrete engine: compiled policies + pod classes -> what each class may send to each other
class and to/from external addresses, with the rules responsible.

A connection S -> D is allowed on the ports in ``egress(S, D) & ingress(S, D)``, where each side
is "everything" when no policy isolates it in that direction, and otherwise the union of the
ports of the rules (of policies selecting it) whose peers match the other side. Named ports are
resolved on the destination.

The work is done per destination class with bitsets over source classes: every rule contributes
a *region* (source bits, ports, rule); regions are refined into disjoint atoms, and only the
allowed pairs are ever materialised. Results for destinations with identical region lists are
shared.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Sequence

from .classes import ClassIndex, build_index, iter_bits
from .compile import (CompiledPolicies, CompiledRule, IPPeer, RuleRef, compile_policies,
                      default_ref)
from .connset import ALL_CONNECTIONS, IntervalSet, NO_CONNECTIONS, ConnectionSet, V6_BASE, IP_MAX
from .model import EGRESS, INGRESS, Cluster


@dataclass(frozen=True, slots=True)
class Allowance:
    """What is allowed between one source and one destination, and the rules that allow it."""

    conns: ConnectionSet
    egress: frozenset[RuleRef]
    ingress: frozenset[RuleRef]

    def __or__(self, other: "Allowance") -> "Allowance":
        return Allowance(self.conns | other.conns, self.egress | other.egress,
                         self.ingress | other.ingress)


@dataclass(frozen=True)
class Reachability:
    """The evaluated connectivity at class level. Reports expand it to workloads or pods."""

    cluster: Cluster
    compiled: CompiledPolicies
    index: ClassIndex
    ip_atoms: tuple[tuple[int, int], ...]
    class_edges: dict[tuple[int, int], Allowance]
    from_ip: dict[int, tuple[tuple[int, Allowance], ...]]  # dst class -> (atom bits, allowance)
    to_ip: dict[int, tuple[tuple[int, Allowance], ...]]  # src class -> (atom bits, allowance)
    ingress_isolated: int
    egress_isolated: int

    def atoms_of(self, bits: int) -> list[tuple[int, int]]:
        return [self.ip_atoms[i] for i in iter_bits(bits)]


@dataclass(frozen=True, slots=True)
class _RuleInfo:
    rule: CompiledRule
    peer_bits: int
    ip_bits: int
    source_bits: int  # classes the rule's policy selects


def ip_partition(compiled: CompiledPolicies) -> tuple[tuple[int, int], ...]:
    """Disjoint address atoms: the whole v4+v6 space cut at every ipBlock boundary."""
    cuts = {0, V6_BASE}
    for t in compiled.targets:
        for r in t.rules:
            for p in r.peers:
                if isinstance(p, IPPeer):
                    for lo, hi in p.addresses:
                        cuts.add(lo)
                        if hi < IP_MAX:
                            cuts.add(hi + 1)
    ordered = sorted(cuts)
    return tuple((lo, (ordered[i + 1] - 1) if i + 1 < len(ordered) else IP_MAX)
                 for i, lo in enumerate(ordered))


def _atom_bits(addresses: IntervalSet, starts: Sequence[int]) -> int:
    bits = 0
    for lo, hi in addresses:
        i0 = bisect.bisect_right(starts, lo) - 1
        i1 = bisect.bisect_right(starts, hi) - 1
        bits |= ((1 << (i1 - i0 + 1)) - 1) << i0
    return bits


def _refine(regions: Sequence[tuple[int, object]]) -> list[tuple[int, tuple[int, ...]]]:
    """Split the union of the regions' bits into atoms that each region covers wholly or not
    at all; return (atom bits, indexes of the regions covering it)."""
    total = 0
    for bits, _ in regions:
        total |= bits
    atoms: list[tuple[int, tuple[int, ...]]] = [(total, ())] if total else []
    for i, (bits, _) in enumerate(regions):
        nxt = []
        for a, members in atoms:
            inside = a & bits
            if inside:
                nxt.append((inside, members + (i,)))
                if inside != a:
                    nxt.append((a & ~bits, members))
            else:
                nxt.append((a, members))
        atoms = nxt
    return [(a, m) for a, m in atoms if m]


def evaluate(cluster: Cluster, compiled: CompiledPolicies | None = None) -> Reachability:
    compiled = compiled if compiled is not None else compile_policies(cluster.policies)
    index = build_index(cluster, compiled)
    atoms = ip_partition(compiled)
    starts = [lo for lo, _ in atoms]
    all_atoms = (1 << len(atoms)) - 1
    n = len(index.classes)

    rules: list[_RuleInfo] = []
    in_rules: list[list[int]] = [[] for _ in range(n)]
    eg_rules: list[list[int]] = [[] for _ in range(n)]
    to_dst: list[list[int]] = [[] for _ in range(n)]
    to_every_dst: list[int] = []
    iso_in = iso_eg = 0
    for t in compiled.targets:
        selected = index.target_bits(t.namespace, t.pod_selector)
        if not selected:
            continue
        ids = []
        for r in t.rules:
            pb = 0
            for p in r.peers:
                pb |= index.peer_bits(p)
            rules.append(_RuleInfo(r, pb, _atom_bits(r.ip_addresses, starts), selected))
            ids.append(len(rules) - 1)
        members = list(iter_bits(selected))
        if t.direction == INGRESS:
            iso_in |= selected
            for d in members:
                in_rules[d].extend(ids)
        else:
            iso_eg |= selected
            for s in members:
                eg_rules[s].extend(ids)
            for rid in ids:
                pb = rules[rid].peer_bits
                if pb == index.all_bits:
                    to_every_dst.append(rid)
                else:
                    for d in iter_bits(pb):
                        to_dst[d].append(rid)

    port_maps = [c.port_map for c in index.classes]
    named_sigs = [c.named_ports for c in index.classes]
    conn_cache: dict[tuple[int, tuple], ConnectionSet] = {}

    def conn_at(rid: int, dst: int) -> ConnectionSet:
        matcher = rules[rid].rule.ports
        if not matcher.named:
            return matcher.numeric
        key = (rid, named_sigs[dst])
        hit = conn_cache.get(key)
        if hit is None:
            hit = conn_cache[key] = matcher.resolve(port_maps[dst])
        return hit

    default_in, default_eg = default_ref(INGRESS), default_ref(EGRESS)
    not_iso_eg = index.all_bits & ~iso_eg
    class_edges: dict[tuple[int, int], Allowance] = {}
    pair_cache: dict[tuple, list[tuple[int, Allowance]]] = {}
    for d in range(n):
        if iso_in >> d & 1:
            ins = [(rules[r].peer_bits, conn_at(r, d), rules[r].rule.ref) for r in in_rules[d]]
        else:
            ins = [(index.all_bits, ALL_CONNECTIONS, default_in)]
        egs = [(not_iso_eg, ALL_CONNECTIONS, default_eg)] if not_iso_eg else []
        egs += [(rules[r].source_bits, conn_at(r, d), rules[r].rule.ref)
                for r in to_dst[d] + to_every_dst]
        key = (tuple((b, c, r) for b, c, r in ins), tuple((b, c, r) for b, c, r in egs))
        combined = pair_cache.get(key)
        if combined is None:
            combined = pair_cache[key] = _combine(ins, egs)
        for bits, allowance in combined:
            for s in iter_bits(bits):
                class_edges[(s, d)] = allowance

    from_ip: dict[int, tuple[tuple[int, Allowance], ...]] = {}
    to_ip: dict[int, tuple[tuple[int, Allowance], ...]] = {}
    ip_cache: dict[tuple, tuple[tuple[int, Allowance], ...]] = {}
    for c in range(n):
        if iso_in >> c & 1:
            regions = [(rules[r].ip_bits, conn_at(r, c), rules[r].rule.ref)
                       for r in in_rules[c] if rules[r].ip_bits]
        else:
            regions = [(all_atoms, ALL_CONNECTIONS, default_in)]
        from_ip[c] = _ip_side(regions, INGRESS, ip_cache)
        if iso_eg >> c & 1:
            # a named port cannot be resolved on an address: it allows nothing there
            regions = [(rules[r].ip_bits, rules[r].rule.ports.numeric, rules[r].rule.ref)
                       for r in eg_rules[c] if rules[r].ip_bits]
        else:
            regions = [(all_atoms, ALL_CONNECTIONS, default_eg)]
        to_ip[c] = _ip_side(regions, EGRESS, ip_cache)

    return Reachability(cluster, compiled, index, atoms, class_edges, from_ip, to_ip, iso_in, iso_eg)


def _combine(ins: list, egs: list) -> list[tuple[int, Allowance]]:
    pairs = []
    for a, c, ri in ins:
        for b, d, re_ in egs:
            bits = a & b
            if bits:
                conns = c & d
                if conns:
                    pairs.append((bits, (conns, ri, re_)))
    out = []
    for atom, members in _refine(pairs):
        conns = NO_CONNECTIONS
        eg_refs, in_refs = set(), set()
        for m in members:
            cs, ri, re_ = pairs[m][1]
            conns = conns | cs
            in_refs.add(ri)
            eg_refs.add(re_)
        out.append((atom, Allowance(conns, frozenset(eg_refs), frozenset(in_refs))))
    return out


def _ip_side(regions: list, direction: str, cache: dict) -> tuple[tuple[int, Allowance], ...]:
    key = (direction, tuple(regions))
    hit = cache.get(key)
    if hit is not None:
        return hit
    regions = [reg for reg in regions if reg[1]]
    out = []
    for atom, members in _refine([(b, (c, r)) for b, c, r in regions]):
        conns = NO_CONNECTIONS
        refs = set()
        for m in members:
            conns = conns | regions[m][1]
            refs.add(regions[m][2])
        refs_f = frozenset(refs)
        out.append((atom, Allowance(conns, frozenset() if direction == INGRESS else refs_f,
                                    refs_f if direction == INGRESS else frozenset())))
    result = tuple(out)
    cache[key] = result
    return result
