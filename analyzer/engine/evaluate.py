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

from dataclasses import dataclass, field
from typing import Sequence

from .addresses import atom_bits as _atom_bits, ip_partition
from .classes import ClassIndex, bits_of, build_index, iter_bits
from .admin import compile_cluster, decide
from .compile import CompiledPolicies, CompiledRule, RuleRef, Target, default_ref
from ..model.connset import ALL_CONNECTIONS, NO_CONNECTIONS, ConnectionSet
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


def _refine(regions: Sequence[tuple[int, object]]) -> list[tuple[int, tuple[int, ...]]]:
    """Split the union of the regions' bits into atoms that each region covers wholly or not
    at all; return (atom bits, indexes of the regions covering it).

    Splitting atom by atom costs regions × atoms big-int operations: right for a few regions,
    quadratic for many (a destination that thousands of namespaces' egress rules reach). Past
    that, grouping the set bits by the regions that hold them costs the regions' total
    popcount instead."""
    if len(regions) > _SPLIT_LIMIT:
        return _refine_by_signature(regions)
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


_SPLIT_LIMIT = 48


def _refine_by_signature(regions: Sequence[tuple[int, object]]) -> list[tuple[int, tuple[int, ...]]]:
    held: dict[int, list[int]] = {}
    for i, (bits, _) in enumerate(regions):
        for b in iter_bits(bits):
            members = held.get(b)
            if members is None:
                held[b] = [i]
            else:
                members.append(i)
    groups: dict[tuple[int, ...], list[int]] = {}
    for b, members in held.items():
        groups.setdefault(tuple(members), []).append(b)
    return [(bits_of(positions), members) for members, positions in groups.items()]


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
    # admin policies (AdminNetworkPolicy, BANP, ClusterNetworkPolicy): rule ids as above
    adm_in: list[list[int]] = field(default_factory=list)  # dst class -> rules of its subjects
    adm_eg: list[list[int]] = field(default_factory=list)  # src class -> rules of its subjects
    adm_to_dst: list[list[int]] = field(default_factory=list)  # dst class -> egress rules naming it
    adm_count: int = 0  # admin rules present (0: the plain NetworkPolicy evaluation applies)
    # derived: the first address of each atom (for atom_bits); wide peer bitsets -> classes
    starts: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _wide: dict[int, list[int]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self.starts = tuple(lo for lo, _ in self.atoms)
        self._wide = {}

    def _destinations(self, peer_bits: int) -> list[int]:
        """The classes an egress rule's peers match. Wide sets recur (one namespaceSelector in
        the policies of many namespaces: 566 rules but 13 sets at 150k pods) and cost the most
        to walk, so each is walked once."""
        if peer_bits.bit_count() < _WIDE_PEERS:
            return iter_bits(peer_bits)
        hit = self._wide.get(peer_bits)
        if hit is None:
            hit = self._wide[peer_bits] = iter_bits(peer_bits)
        return hit

    def _register(self, rules, selected: int) -> list[int]:
        """Give each compiled rule an id and its peer, address and source bits."""
        starts = self.starts
        ids: list[int] = []
        for r in rules:
            pb = 0
            for p in r.peers:
                pb |= self.index.peer_bits(p)
            self.rules[self.next_id] = _RuleInfo(r, pb, _atom_bits(r.ip_addresses, starts), selected)
            ids.append(self.next_id)
            self.next_id += 1
        return ids

    def add_admin_target(self, t) -> tuple[int, list[int]]:
        index = self.index
        selected = index.subject_bits(t.subject_ns, t.subject_pods)
        ids: list[int] = []
        if selected:
            ids = self._register(t.rules, selected)
            per_class = self.adm_in if t.direction == INGRESS else self.adm_eg
            for c in iter_bits(selected):
                per_class[c].extend(ids)
            if t.direction == EGRESS:
                for rid in ids:
                    for d in iter_bits(self.rules[rid].peer_bits):
                        self.adm_to_dst[d].append(rid)
        self.targets.setdefault(f"admin:{t.policy}", []).append((t.direction, selected, ids))
        self.adm_count += len(ids)
        return selected, ids

    def remove_admin_policy(self, name: str) -> list[tuple[str, int, list[int]]]:
        entries = self.targets.pop(f"admin:{name}", [])
        for direction, selected, ids in entries:
            gone = set(ids)
            per_class = self.adm_in if direction == INGRESS else self.adm_eg
            for c in iter_bits(selected):
                per_class[c] = [r for r in per_class[c] if r not in gone]
            if direction == EGRESS:
                for rid in ids:
                    for d in iter_bits(self.rules[rid].peer_bits):
                        self.adm_to_dst[d] = [r for r in self.adm_to_dst[d] if r != rid]
            for rid in ids:
                del self.rules[rid]
            self.adm_count -= len(ids)
        return entries

    def _count(self, direction: str, selected: list[int], delta: int) -> None:
        """Count a policy isolating (or no longer isolating) the ``selected`` classes."""
        counts = self.in_count if direction == INGRESS else self.eg_count
        bits = 0
        for c in selected:
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
        classes = iter_bits(selected)
        ids: list[int] = []
        if selected:
            ids = self._register(t.rules, selected)
            per_class = self.in_rules if t.direction == INGRESS else self.eg_rules
            for c in classes:
                per_class[c].extend(ids)
            if t.direction == EGRESS:
                for rid in ids:
                    pb = self.rules[rid].peer_bits
                    if pb == index.all_bits:
                        self.to_every_dst.append(rid)
                    else:
                        for d in self._destinations(pb):
                            self.to_dst[d].append(rid)
        self.targets.setdefault(t.policy, []).append((t.direction, selected, ids))
        self._count(t.direction, classes, +1)
        return selected, ids

    def remove_policy(self, policy: str) -> list[tuple[str, int, list[int]]]:
        """Drop every rule of ``policy``; return what it had (direction, selected, rule ids)."""
        entries = self.targets.pop(policy, [])
        for direction, selected, ids in entries:
            self._count(direction, iter_bits(selected), -1)
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
                        for d in self._destinations(pb):
                            self.to_dst[d] = [r for r in self.to_dst[d] if r != rid]
            for rid in ids:
                del self.rules[rid]
        return entries

    def copy(self) -> "Tables":
        return Tables(self.index, self.atoms, dict(self.rules), [list(x) for x in self.in_rules],
                      [list(x) for x in self.eg_rules], [list(x) for x in self.to_dst],
                      list(self.to_every_dst), {k: list(v) for k, v in self.targets.items()},
                      self.next_id, list(self.in_count), list(self.eg_count), self.iso_in, self.iso_eg,
                      [list(x) for x in self.adm_in], [list(x) for x in self.adm_eg],
                      [list(x) for x in self.adm_to_dst], self.adm_count)


_WIDE_PEERS = 1024  # set bits from which a peer bitset's classes are remembered


def build_tables(index: ClassIndex, compiled: CompiledPolicies,
                 atoms: tuple[tuple[int, int], ...]) -> Tables:
    n = len(index.classes)
    tables = Tables(index, atoms, {}, [[] for _ in range(n)], [[] for _ in range(n)],
                    [[] for _ in range(n)], [], {}, 0, [0] * n, [0] * n, 0, 0,
                    [[] for _ in range(n)], [[] for _ in range(n)], [[] for _ in range(n)], 0)
    for t in compiled.targets:
        tables.add_target(t)
    for t in compiled.admin:
        tables.add_admin_target(t)
    tables._wide.clear()  # only a whole build meets each wide set again and again
    return tables


class _Evaluator:
    """Evaluates columns (every source towards one destination class) and address sides from
    a :class:`Tables`, sharing work between classes whose rule lists are alike."""

    def __init__(self, tables: Tables):
        self.t = tables
        index = tables.index
        self.classes = index.classes
        self.resolved: dict[tuple, ConnectionSet] = {}  # (PortMatcher, named ports) -> ports
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
            # the same ports are named by the rules of many policies: each (ports, container
            # ports) pair is resolved once
            hit = self.resolved.get((matcher, key[1]))
            if hit is None:
                hit = self.resolved[(matcher, key[1])] = matcher.resolve(self.classes[dst].port_map)
            self.conn_cache[key] = hit
        return hit

    def column(self, d: int) -> list[tuple[int, Allowance]]:
        """(source-class bits, allowance) atoms for every source that may reach class ``d``."""
        if self.t.adm_count:
            return self.tiered_column(d)
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
        admitted = 0
        for bits, _, _ in ins:
            admitted |= bits
        # an egress rule whose sources no ingress region admits pairs with nothing: leaving it
        # out spares its ports and ins x egs big-int operations (most of them, at 150k pods)
        egs = [(self.not_iso_eg, ALL_CONNECTIONS, self.default_eg)] if self.not_iso_eg else []
        egs += [(rules[r].source_bits, self.conn_at(r, d), rules[r].rule.ref)
                for r in eg_ids + tuple(t.to_every_dst) if rules[r].source_bits & admitted]
        combined = self.pair_cache[key] = _combine(ins, egs)
        return combined

    def _ranked(self, ids) -> tuple[int, ...]:
        rules = self.t.rules
        return tuple(sorted(ids, key=lambda r: rules[r].rule.rank))

    def tiered_column(self, d: int) -> list[tuple[int, Allowance]]:
        """:meth:`column` with admin policies: every rule that can apply towards ``d`` is a
        region over sources; the regions are refined into atoms, and each atom's two directions
        are decided in tier order (:func:`analyzer.engine.admin.decide`)."""
        t, rules = self.t, self.t.rules
        isolated = self.iso_in >> d & 1
        in_ids = tuple(t.in_rules[d]) if isolated else ()
        eg_ids = tuple(t.to_dst[d]) + tuple(t.to_every_dst)
        a_in = self._ranked(t.adm_in[d])
        a_eg = self._ranked(t.adm_to_dst[d])
        every = in_ids + eg_ids + a_in + a_eg
        named = self.named_sigs[d] if self.named_sigs[d] and any(
            rules[r].rule.ports.named for r in every) else ()
        key = ("tiered", isolated, in_ids, eg_ids, a_in, a_eg, named)
        combined = self.pair_cache.get(key)
        if combined is not None:
            return combined
        all_bits = t.index.all_bits
        # region tags: 0 NP ingress rule, 1 NP egress rule, 2 admin ingress, 3 admin egress,
        # 4 egress-isolated sources, 5 everyone (so every source lands in some atom)
        regions: list[tuple[int, tuple]] = [(all_bits, (5, None))]
        regions += [(rules[r].peer_bits, (0, r)) for r in in_ids]
        regions += [(rules[r].source_bits, (1, r)) for r in eg_ids]
        regions += [(rules[r].peer_bits, (2, r)) for r in a_in]
        regions += [(rules[r].source_bits, (3, r)) for r in a_eg]
        if self.iso_eg:
            regions.append((self.iso_eg, (4, None)))
        decided: dict[tuple, Allowance | None] = {}
        out = []
        for atom, members in _refine(regions):
            tags = tuple(regions[m][1] for m in members)
            hit = decided.get(tags, 0)
            if hit == 0:
                hit = decided[tags] = self._decide_pair(d, tags, bool(isolated))
            if hit is not None:
                out.append((atom, hit))
        combined = self.pair_cache[key] = out
        return combined

    def _decide_pair(self, d: int, tags: tuple, in_isolated: bool) -> Allowance | None:
        rules = self.t.rules
        np_in, np_eg, a_in, a_eg = [], [], [], []
        eg_isolated = False
        for kind, r in tags:
            if kind == 0:
                np_in.append((rules[r].rule.ref, self.conn_at(r, d)))
            elif kind == 1:
                np_eg.append((rules[r].rule.ref, self.conn_at(r, d)))
            elif kind == 2:
                a_in.append((rules[r].rule, self.conn_at(r, d)))
            elif kind == 3:
                a_eg.append((rules[r].rule, self.conn_at(r, d)))
            elif kind == 4:
                eg_isolated = True
        a_in.sort(key=lambda x: x[0].rank)
        a_eg.sort(key=lambda x: x[0].rank)
        ing = decide(INGRESS, a_in, in_isolated, np_in)
        if not ing.allowed:
            return None
        eg = decide(EGRESS, a_eg, eg_isolated, np_eg)
        conns = ing.allowed & eg.allowed
        if not conns:
            return None
        return Allowance(conns, eg.refs, ing.refs)

    def tiered_to_ip(self, c: int) -> tuple[tuple[int, Allowance], ...]:
        t, rules = self.t, self.t.rules
        isolated = bool(self.iso_eg >> c & 1)
        np_ids = tuple(r for r in t.eg_rules[c] if rules[r].ip_bits) if isolated else ()
        a_ids = tuple(r for r in self._ranked(t.adm_eg[c]) if rules[r].ip_bits)
        key = ("tiered-ip", isolated, np_ids, a_ids)
        hit = self.ip_cache.get(key)
        if hit is not None:
            return hit
        regions: list[tuple[int, tuple]] = [(self.all_atoms, (5, None))]
        regions += [(rules[r].ip_bits, (1, r)) for r in np_ids]
        regions += [(rules[r].ip_bits, (3, r)) for r in a_ids]
        out = []
        decided: dict[tuple, Allowance | None] = {}
        for atom, members in _refine(regions):
            tags = tuple(regions[m][1] for m in members)
            if tags not in decided:
                # a named port cannot be resolved on an address: it allows nothing there
                np_eg = [(rules[r].rule.ref, rules[r].rule.ports.numeric) for k, r in tags if k == 1]
                a_eg = sorted(((rules[r].rule, rules[r].rule.ports.numeric) for k, r in tags if k == 3),
                              key=lambda x: x[0].rank)
                dec = decide(EGRESS, a_eg, isolated, np_eg)
                decided[tags] = Allowance(dec.allowed, dec.refs, frozenset()) if dec.allowed else None
            if decided[tags] is not None:
                out.append((atom, decided[tags]))
        result = tuple(out)
        self.ip_cache[key] = result
        return result

    def from_ip(self, c: int) -> tuple[tuple[int, Allowance], ...]:
        rules = self.t.rules
        if self.iso_in >> c & 1:
            regions = [(rules[r].ip_bits, self.conn_at(r, c), rules[r].rule.ref)
                       for r in self.t.in_rules[c] if rules[r].ip_bits]
        else:
            regions = [(self.all_atoms, ALL_CONNECTIONS, self.default_in)]
        return _ip_side(regions, INGRESS, self.ip_cache)

    def to_ip(self, c: int) -> tuple[tuple[int, Allowance], ...]:
        if self.t.adm_count:
            return self.tiered_to_ip(c)
        rules = self.t.rules
        if self.iso_eg >> c & 1:
            # a named port cannot be resolved on an address: it allows nothing there
            regions = [(rules[r].ip_bits, rules[r].rule.ports.numeric, rules[r].rule.ref)
                       for r in self.t.eg_rules[c] if rules[r].ip_bits]
        else:
            regions = [(self.all_atoms, ALL_CONNECTIONS, self.default_eg)]
        return _ip_side(regions, EGRESS, self.ip_cache)


def evaluate(cluster: Cluster, compiled: CompiledPolicies | None = None, *,
             jobs: int | None = 1) -> Reachability:
    """What each pod class may send to each other and to and from addresses. ``jobs``: the
    processes the evaluation may use (None: one per CPU, see :func:`evaluate_tables`)."""
    compiled = compiled if compiled is not None else compile_cluster(cluster)
    atoms = ip_partition(compiled)
    index = build_index(cluster, compiled, atoms)
    tables = build_tables(index, compiled, atoms)
    return evaluate_tables(cluster, compiled, tables, jobs=jobs)


# pod classes from which the evaluation is shared with a second process (when jobs allow one)
PARALLEL_CLASSES = 4_000


def evaluate_tables(cluster: Cluster, compiled: CompiledPolicies, tables: Tables, *,
                    jobs: int | None = 1) -> Reachability:
    """Evaluate every class from ``tables``. With ``jobs`` allowing a second process (None: one
    per CPU) and many classes, a forked copy of this process evaluates the second half of the
    classes while this one evaluates the first, and sends back what it found by rule number
    (:func:`_write_part`); every map is filled in the order one process fills it, so the result
    is the same either way (the second half is evaluated here if the copy fails)."""
    ev = _Evaluator(tables)
    n = len(tables.index.classes)
    half = n
    copy = None
    if n >= PARALLEL_CLASSES and _second_process(jobs):
        from ..forking import in_copy

        half = n // 2
        copy = in_copy(lambda fh: _write_part(ev, half, n, fh))
    class_edges: dict[tuple[int, int], Allowance] = {}
    from_ip: dict[int, tuple[tuple[int, Allowance], ...]] = {}
    to_ip: dict[int, tuple[tuple[int, Allowance], ...]] = {}
    try:
        _evaluate_part(ev, 0, half, class_edges, from_ip, to_ip)
    except BaseException:
        if copy is not None:
            copy.stop()
        raise
    part = copy.result(_read_part) if copy is not None else None
    if part is not None:
        _fill_part(ev, part, class_edges, from_ip, to_ip)
    else:
        _evaluate_part(ev, half, n, class_edges, from_ip, to_ip)
    return Reachability(cluster, compiled, tables.index, tables.atoms, class_edges, from_ip, to_ip,
                        ev.iso_in, ev.iso_eg, tables)


def _second_process(jobs: int | None) -> bool:
    from ..inputs.parallel import processes

    return processes(jobs) >= 2


def _evaluate_part(ev: "_Evaluator", start: int, stop: int, class_edges: dict, from_ip: dict,
                   to_ip: dict) -> None:
    """Columns and address sides of the classes ``start``..``stop - 1``."""
    for d in range(start, stop):
        for bits, allowance in ev.column(d):
            for s in iter_bits(bits):
                class_edges[(s, d)] = allowance
    for c in range(start, stop):
        from_ip[c] = ev.from_ip(c)
    for c in range(start, stop):
        to_ip[c] = ev.to_ip(c)


def _refs_of(ev: "_Evaluator") -> list[RuleRef]:
    """Every rule reference an allowance can name, in an order both processes share."""
    return [ev.default_in, ev.default_eg, *(info.rule.ref for info in ev.t.rules.values())]


def _write_part(ev: "_Evaluator", start: int, stop: int, fh) -> None:
    """(In the forked copy.) Evaluate classes ``start``..``stop - 1`` and write what was found:
    each allowance once, naming its rules by their place in :func:`_refs_of` (the objects
    themselves are this process's; the other has the same ones at the same places)."""
    from ..pickling import dump

    class_edges: dict[tuple[int, int], Allowance] = {}
    from_ip: dict[int, tuple[tuple[int, Allowance], ...]] = {}
    to_ip: dict[int, tuple[tuple[int, Allowance], ...]] = {}
    _evaluate_part(ev, start, stop, class_edges, from_ip, to_ip)
    place = {id(ref): i for i, ref in enumerate(_refs_of(ev))}
    numbers: dict[int, int] = {}
    allowances: list[tuple] = []

    def number(a: Allowance) -> int:
        at = numbers.get(id(a))
        if at is None:
            at = numbers[id(a)] = len(allowances)
            # a reference not among the rules' own objects travels whole
            allowances.append((a.conns, tuple(place.get(id(r), r) for r in a.egress),
                               tuple(place.get(id(r), r) for r in a.ingress)))
        return at

    edges = [(s, d, number(a)) for (s, d), a in class_edges.items()]
    sides = [tuple((bits, number(a)) for bits, a in side[c]) for side in (from_ip, to_ip)
             for c in range(start, stop)]
    dump((start, stop, allowances, edges, sides), fh)


def _read_part(fh) -> tuple:
    from ..pickling import load

    return load(fh)


def _fill_part(ev: "_Evaluator", part: tuple, class_edges: dict, from_ip: dict,
               to_ip: dict) -> None:
    """Add what :func:`_write_part` wrote to the maps, in its order."""
    start, stop, allowances, edges, sides = part
    refs = _refs_of(ev)

    def ref(code: object) -> RuleRef:
        return refs[code] if type(code) is int else code  # type: ignore[index, return-value]

    made = [Allowance(conns, frozenset(map(ref, eg)), frozenset(map(ref, ing)))
            for conns, eg, ing in allowances]
    for s, d, a in edges:
        class_edges[(s, d)] = made[a]
    width = stop - start
    for c in range(start, stop):
        from_ip[c] = tuple((bits, made[a]) for bits, a in sides[c - start])
        to_ip[c] = tuple((bits, made[a]) for bits, a in sides[width + c - start])


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
