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
from dataclasses import dataclass, field
from typing import Sequence

from .classes import ClassIndex, build_index, iter_bits
from .compile import (CompiledPolicies, CompiledRule, IPPeer, RuleRef, Target,
                      compile_policies, default_ref)
from ..model.connset import ALL_CONNECTIONS, IntervalSet, NO_CONNECTIONS, ConnectionSet, V6_BASE, IP_MAX
from ..model.cluster import EGRESS, INGRESS, Cluster


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
    tables: "Tables | None" = None  # the engine's working state, for incremental re-checks

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


@dataclass
class Tables:
    """Which rules apply where: the working state of the engine, kept with a result so that one
    changed policy can be re-evaluated without starting over (:mod:`analyzer.engine.incremental`).

    Rules live in a dict keyed by a never-reused id, so a policy's rules can be dropped."""

    index: ClassIndex
    atoms: tuple[tuple[int, int], ...]
    rules: dict[int, _RuleInfo]
    in_rules: list[list[int]]  # dst class -> ingress rules of policies selecting it
    eg_rules: list[list[int]]  # src class -> egress rules of policies selecting it
    to_dst: list[list[int]]  # dst class -> egress rules whose peers match it
    to_every_dst: list[int]  # egress rules whose peers match every class
    targets: dict[str, list[tuple[str, int, list[int]]]]  # policy -> (direction, selected, rule ids)
    next_id: int = 0
    in_count: list[int] = field(default_factory=list)  # class -> policies isolating its ingress
    eg_count: list[int] = field(default_factory=list)
    iso_in: int = 0  # bits of classes isolated for ingress
    iso_eg: int = 0

    def _count(self, direction: str, selected: int, delta: int) -> None:
        counts = self.in_count if direction == INGRESS else self.eg_count
        bits = 0
        for c in iter_bits(selected):
            counts[c] += delta
            if counts[c] == 0 or (delta > 0 and counts[c] == 1):
                bits |= 1 << c
        # bits: classes whose isolation flipped
        if direction == INGRESS:
            self.iso_in ^= bits
        else:
            self.iso_eg ^= bits

    def add_target(self, t: Target) -> tuple[int, list[int]]:
        index = self.index
        selected = index.target_bits(t.namespace, t.pod_selector)
        ids: list[int] = []
        if selected:
            starts = [lo for lo, _ in self.atoms]
            for r in t.rules:
                pb = 0
                for p in r.peers:
                    pb |= index.peer_bits(p)
                self.rules[self.next_id] = _RuleInfo(r, pb, _atom_bits(r.ip_addresses, starts), selected)
                ids.append(self.next_id)
                self.next_id += 1
            if t.direction == INGRESS:
                for d in iter_bits(selected):
                    self.in_rules[d].extend(ids)
            else:
                for s in iter_bits(selected):
                    self.eg_rules[s].extend(ids)
                for rid in ids:
                    pb = self.rules[rid].peer_bits
                    if pb == index.all_bits:
                        self.to_every_dst.append(rid)
                    else:
                        for d in iter_bits(pb):
                            self.to_dst[d].append(rid)
        self.targets.setdefault(t.policy, []).append((t.direction, selected, ids))
        self._count(t.direction, selected, +1)
        return selected, ids

    def remove_policy(self, policy: str) -> list[tuple[str, int, list[int]]]:
        """Drop every rule of ``policy``; return what it had (direction, selected, rule ids)."""
        entries = self.targets.pop(policy, [])
        for direction, selected, ids in entries:
            self._count(direction, selected, -1)
            gone = set(ids)
            if not gone:
                continue
            if direction == INGRESS:
                for d in iter_bits(selected):
                    self.in_rules[d] = [r for r in self.in_rules[d] if r not in gone]
            else:
                for s in iter_bits(selected):
                    self.eg_rules[s] = [r for r in self.eg_rules[s] if r not in gone]
                for rid in ids:
                    pb = self.rules[rid].peer_bits
                    if pb == self.index.all_bits:
                        self.to_every_dst = [r for r in self.to_every_dst if r != rid]
                    else:
                        for d in iter_bits(pb):
                            self.to_dst[d] = [r for r in self.to_dst[d] if r != rid]
            for rid in ids:
                del self.rules[rid]
        return entries

    def copy(self) -> "Tables":
        return Tables(self.index, self.atoms, dict(self.rules), [list(x) for x in self.in_rules],
                      [list(x) for x in self.eg_rules], [list(x) for x in self.to_dst],
                      list(self.to_every_dst), {k: list(v) for k, v in self.targets.items()},
                      self.next_id, list(self.in_count), list(self.eg_count), self.iso_in, self.iso_eg)


def build_tables(index: ClassIndex, compiled: CompiledPolicies,
                 atoms: tuple[tuple[int, int], ...]) -> Tables:
    n = len(index.classes)
    tables = Tables(index, atoms, {}, [[] for _ in range(n)], [[] for _ in range(n)],
                    [[] for _ in range(n)], [], {}, 0, [0] * n, [0] * n)
    for t in compiled.targets:
        tables.add_target(t)
    return tables


class _Evaluator:
    """Evaluates columns (every source towards one destination class) and address sides from
    a :class:`Tables`, sharing work between classes whose rule lists are alike."""

    def __init__(self, tables: Tables):
        self.t = tables
        index = tables.index
        self.classes = index.classes
        self.port_maps: dict[int, dict] = {}
        self.named_sigs = [c.named_ports for c in index.classes]
        self.conn_cache: dict[tuple[int, tuple], ConnectionSet] = {}
        self.pair_cache: dict[tuple, list[tuple[int, Allowance]]] = {}
        self.ip_cache: dict[tuple, tuple[tuple[int, Allowance], ...]] = {}
        self.iso_in, self.iso_eg = tables.iso_in, tables.iso_eg
        self.not_iso_eg = index.all_bits & ~self.iso_eg
        self.default_in, self.default_eg = default_ref(INGRESS), default_ref(EGRESS)
        self.all_atoms = (1 << len(tables.atoms)) - 1

    def conn_at(self, rid: int, dst: int) -> ConnectionSet:
        matcher = self.t.rules[rid].rule.ports
        if not matcher.named:
            return matcher.numeric
        key = (rid, self.named_sigs[dst])
        hit = self.conn_cache.get(key)
        if hit is None:
            ports = self.port_maps.get(dst)
            if ports is None:
                ports = self.port_maps[dst] = self.classes[dst].port_map
            hit = self.conn_cache[key] = matcher.resolve(ports)
        return hit

    def column(self, d: int) -> list[tuple[int, Allowance]]:
        """(source-class bits, allowance) atoms for every source that may reach class ``d``."""
        t, rules = self.t, self.t.rules
        isolated = self.iso_in >> d & 1
        in_ids = tuple(t.in_rules[d]) if isolated else ()
        eg_ids = tuple(t.to_dst[d])
        # the regions are functions of the rule ids and, for named ports, of d's container ports
        named = self.named_sigs[d] if self.named_sigs[d] and any(
            rules[r].rule.ports.named for r in in_ids + eg_ids + tuple(t.to_every_dst)) else ()
        key = (isolated, in_ids, eg_ids, named)
        combined = self.pair_cache.get(key)
        if combined is not None:
            return combined
        if isolated:
            ins = [(rules[r].peer_bits, self.conn_at(r, d), rules[r].rule.ref) for r in in_ids]
        else:
            ins = [(t.index.all_bits, ALL_CONNECTIONS, self.default_in)]
        egs = [(self.not_iso_eg, ALL_CONNECTIONS, self.default_eg)] if self.not_iso_eg else []
        egs += [(rules[r].source_bits, self.conn_at(r, d), rules[r].rule.ref)
                for r in eg_ids + tuple(t.to_every_dst)]
        combined = self.pair_cache[key] = _combine(ins, egs)
        return combined

    def from_ip(self, c: int) -> tuple[tuple[int, Allowance], ...]:
        rules = self.t.rules
        if self.iso_in >> c & 1:
            regions = [(rules[r].ip_bits, self.conn_at(r, c), rules[r].rule.ref)
                       for r in self.t.in_rules[c] if rules[r].ip_bits]
        else:
            regions = [(self.all_atoms, ALL_CONNECTIONS, self.default_in)]
        return _ip_side(regions, INGRESS, self.ip_cache)

    def to_ip(self, c: int) -> tuple[tuple[int, Allowance], ...]:
        rules = self.t.rules
        if self.iso_eg >> c & 1:
            # a named port cannot be resolved on an address: it allows nothing there
            regions = [(rules[r].ip_bits, rules[r].rule.ports.numeric, rules[r].rule.ref)
                       for r in self.t.eg_rules[c] if rules[r].ip_bits]
        else:
            regions = [(self.all_atoms, ALL_CONNECTIONS, self.default_eg)]
        return _ip_side(regions, EGRESS, self.ip_cache)


def evaluate(cluster: Cluster, compiled: CompiledPolicies | None = None) -> Reachability:
    compiled = compiled if compiled is not None else compile_policies(cluster.policies)
    index = build_index(cluster, compiled)
    tables = build_tables(index, compiled, ip_partition(compiled))
    return evaluate_tables(cluster, compiled, tables)


def evaluate_tables(cluster: Cluster, compiled: CompiledPolicies, tables: Tables) -> Reachability:
    ev = _Evaluator(tables)
    n = len(tables.index.classes)
    class_edges: dict[tuple[int, int], Allowance] = {}
    for d in range(n):
        for bits, allowance in ev.column(d):
            for s in iter_bits(bits):
                class_edges[(s, d)] = allowance
    from_ip = {c: ev.from_ip(c) for c in range(n)}
    to_ip = {c: ev.to_ip(c) for c in range(n)}
    return Reachability(cluster, compiled, tables.index, tables.atoms, class_edges, from_ip, to_ip,
                        ev.iso_in, ev.iso_eg, tables)


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
