"""KRL501-KRL505: the policy algebra — redundant, shadowed, equivalent and vacuous policies.

Decided by the engine on the input, never by syntax: a rule or policy is redundant when the
connections between everything in the input (pod classes, and address atoms for ipBlocks) are
the same without it.

* Equivalent policies (KRL504): same namespace, policyTypes and selected classes, and the same
  allowed (peer, port) set for every selected class. Each group keeps its first policy.
* Shadowed rules (KRL502): rule ``r`` is contained in rule ``r2`` of a policy of the same
  direction that selects every pod ``r``'s policy selects: ``r2``'s peers and addresses cover
  ``r``'s, and its ports cover ``r``'s on every receiving class. Of two identical rules the
  later one is shadowed.
* Redundant rules (KRL501): the rest, decided one at a time from the last rule to the first,
  each with the rules already found removed. Columns of the engine (every source towards one
  destination class) and address sides are re-evaluated without the rule and compared; so
  every rule reported can be removed together with the others reported.
* Redundant policies (KRL503): removing the policy (its isolation too) changes nothing, decided
  the same way, again one at a time from last to first on the result of the previous
  removals; default-deny baselines are never reported (they keep the namespace isolated
  whatever the other policies become). Only candidates are re-checked: a policy is one when
  each of its rules was found removable, or it alone isolates some pod (if another policy
  isolates every pod it selects, a rule that is not removable makes the policy not removable).
* Vacuous policies (KRL505): alone, the policy allows every pod class and every address on every
  port to and from what it selects, so it changes nothing against no policy at all.

Each check evaluates only what the removal can change, so its cost follows what the rule
touches rather than the size of the cluster: a column is compared on the sources the rule can
change (its own sources for an egress rule, its peers for an ingress rule), the egress rules
that apply to them are read through those sources, and of the columns a rule applies to only
those where it allows something in the evaluated input are compared (:func:`_allowing`).
Re-evaluating whole columns instead made 750 namespaces' DNS rules towards one CoreDNS class
quadratic, and so were rules whose peers match a whole team's namespaces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from ..engine.classes import bits_of, iter_bits
from ..engine.compile import RuleRef
from ..engine.evaluate import _Evaluator, _combine, _refine
from ..model.cluster import EGRESS, INGRESS, NetworkPolicy
from ..model.connset import ALL_CONNECTIONS, NO_CONNECTIONS
from .context import LintContext
from .findings import Finding


def _canon(pairs) -> frozenset:
    """A column or address side in canonical form: connection set -> bits having it."""
    out: dict = {}
    for bits, conns in pairs:
        if bits and conns:
            out[conns] = out.get(conns, 0) | bits
    return frozenset(out.items())


def _union_regions(regions: list) -> list[tuple[int, object]]:
    """(atom bits, union of the connections of the regions covering it)."""
    regions = [r for r in regions if r[0] and r[1]]
    out = []
    for atom, members in _refine([(b, None) for b, _ in regions]):
        conns = NO_CONNECTIONS
        for m in members:
            conns = conns | regions[m][1]
        out.append((atom, conns))
    return out


@dataclass(frozen=True)
class _View:
    """A state of removal to evaluate: the rules left out — those already found removable
    (``drop``, shared with the running :class:`_Removals`, so building a view copies nothing)
    and the ones being tried (``trying``) — and the classes isolated in each direction."""

    drop: set
    trying: frozenset
    iso_in: int
    iso_eg: int

    def keeps(self, rid: int) -> bool:
        return rid not in self.drop and rid not in self.trying


@dataclass
class _Removals:
    """The removals accepted so far, updated in place as the checks accept more: rules left
    out, and per class how many remaining policies isolate it in each direction."""

    drop: set
    in_count: list
    eg_count: list
    iso_in: int
    iso_eg: int

    @property
    def view(self) -> _View:
        return _View(self.drop, frozenset(), self.iso_in, self.iso_eg)

    def trying_rule(self, rid: int) -> _View:
        return _View(self.drop, frozenset((rid,)), self.iso_in, self.iso_eg)

    def trying_policy(self, targets) -> _View:
        """The view with a policy's rules and its isolation left out too (a class stays
        isolated while another policy isolates it)."""
        ids: set[int] = set()
        isolating: dict[tuple[str, int], int] = {}  # (direction, class) -> the policy's targets
        for direction, selected, rids in targets:
            ids.update(rids)
            for c in iter_bits(selected):
                isolating[direction, c] = isolating.get((direction, c), 0) + 1
        iso_in, iso_eg = self.iso_in, self.iso_eg
        for (direction, c), n in isolating.items():
            if direction == INGRESS and self.in_count[c] == n:
                iso_in &= ~(1 << c)
            elif direction == EGRESS and self.eg_count[c] == n:
                iso_eg &= ~(1 << c)
        return _View(self.drop, frozenset(ids), iso_in, iso_eg)

    def remove_policy(self, targets) -> None:
        for direction, selected, ids in targets:
            self.drop.update(ids)
            counts = self.in_count if direction == INGRESS else self.eg_count
            for c in iter_bits(selected):
                counts[c] -= 1
                if counts[c] == 0:
                    if direction == INGRESS:
                        self.iso_in &= ~(1 << c)
                    else:
                        self.iso_eg &= ~(1 << c)

    def alone(self, direction: str, selected: int) -> bool:
        """Some class of ``selected`` is isolated in ``direction`` by one policy only."""
        counts = self.in_count if direction == INGRESS else self.eg_count
        return any(counts[c] == 1 for c in iter_bits(selected))


@dataclass
class _Columns:
    """The engine's columns (every source towards one destination class) and address sides,
    re-evaluated for a :class:`_View`.

    Removing one rule or policy can only change the pairs it touches, so a column is compared
    on the sources that can change only (``sources``): an egress rule changes its own sources,
    an ingress rule the sources its peers match. The egress rules that apply to those sources
    are found through the sources when they are fewer than the rules towards the column (750
    namespaces each allowing DNS towards the one CoreDNS class would otherwise make every DNS
    rule re-read the 749 others), so each check costs what the rule touches, not what the
    column holds. Address sides are short (the rules of one class) and cached."""

    ev: _Evaluator
    cache: dict = field(default_factory=dict)
    near: dict = field(default_factory=dict)

    def column(self, d: int, v: _View, sources: int) -> frozenset:
        """Column ``d`` on ``sources``, canonical."""
        ev, t = self.ev, self.ev.t
        rules = t.rules
        if v.iso_in >> d & 1:
            ins = [(rules[r].peer_bits & sources, ev.conn_at(r, d), None) for r in t.in_rules[d]
                   if v.keeps(r) and rules[r].peer_bits & sources]
        else:
            ins = [(sources, ALL_CONNECTIONS, None)]
        open_eg = sources & ~v.iso_eg
        egs = [(open_eg, ALL_CONNECTIONS, None)] if open_eg else []
        egs += [(rules[r].source_bits & sources, ev.conn_at(r, d), None)
                for r in self._egress_towards(d, sources)
                if v.keeps(r) and rules[r].source_bits & sources]
        return _canon((b, a.conns) for b, a in _combine(ins, egs))

    def _egress_towards(self, d: int, sources: int) -> list[int]:
        """Egress rules whose peers match class ``d``, at least those of policies selecting
        one of ``sources``: read from the sources' own rules when there are fewer sources than
        rules towards ``d``."""
        t = self.ev.t
        if sources.bit_count() >= len(t.to_dst[d]) + len(t.to_every_dst):
            return [*t.to_dst[d], *t.to_every_dst]
        near = self.near.get(sources)
        if near is None:
            near = self.near[sources] = list(dict.fromkeys(
                r for s in iter_bits(sources) for r in t.eg_rules[s]))
        return [r for r in near if t.rules[r].peer_bits >> d & 1]

    def from_ip(self, c: int, v: _View) -> frozenset:
        ev, t = self.ev, self.ev.t
        if not v.iso_in >> c & 1:
            return self._everything()
        ids = tuple(r for r in t.in_rules[c] if v.keeps(r) and t.rules[r].ip_bits)
        key = ("in", ids, ev.named_sigs[c])
        hit = self.cache.get(key)
        if hit is None:
            hit = self.cache[key] = _canon(_union_regions(
                [(t.rules[r].ip_bits, ev.conn_at(r, c)) for r in ids]))
        return hit

    def to_ip(self, c: int, v: _View) -> frozenset:
        t = self.ev.t
        if not v.iso_eg >> c & 1:
            return self._everything()
        ids = tuple(r for r in t.eg_rules[c] if v.keeps(r) and t.rules[r].ip_bits)
        key = ("out", ids)
        hit = self.cache.get(key)
        if hit is None:
            hit = self.cache[key] = _canon(_union_regions(
                [(t.rules[r].ip_bits, t.rules[r].rule.ports.numeric) for r in ids]))
        return hit

    def _everything(self) -> frozenset:
        return frozenset({(ALL_CONNECTIONS, (1 << len(self.ev.t.atoms)) - 1)})


@dataclass(frozen=True)
class _Rule:
    policy: NetworkPolicy
    direction: str
    index: int
    rid: int
    selected: int

    @property
    def ref(self) -> RuleRef:
        return RuleRef(self.direction, self.policy.id, self.index, self.policy.source)


def check(ctx: LintContext) -> Iterator[Finding]:
    tables = ctx.tables
    if tables is None:
        return
    ev = _Evaluator(tables)
    cols = _Columns(ev)
    policies = [p for p in ctx.policies if ctx.selected(p)]  # KRL201/202 speak for the others
    rules = _rules(ctx, policies)
    state = _Removals(set(), list(tables.in_count), list(tables.eg_count), tables.iso_in,
                      tables.iso_eg)

    findings: list[Finding] = []
    removed: set[str] = set()
    for later, earlier in _equivalent(ctx, ev, policies, rules):
        removed.add(later.id)
        state.remove_policy(ctx.targets_of(later.id))  # same selection: isolation stays
        findings.append(ctx.finding(
            "KRL504", f"NetworkPolicy {later.id} is equivalent to {earlier.id} "
            f"({earlier.source}): same pods selected, same connections allowed; one of them "
            f"can go", later.source, policy=later,
            related=(RuleRef(INGRESS, earlier.id, None, earlier.source),)))
    live = [r for r in rules if r.policy.id not in removed]

    rule_findings: dict[int, Finding] = {}
    for r, by in _shadowed(ctx, ev, live):
        state.drop.add(r.rid)
        rule_findings[r.rid] = ctx.finding(
            "KRL502", f"{r.ref} is shadowed by {by.ref} ({ctx.rule_source(by.ref)}): every "
            f"connection it allows, that rule allows too", ctx.rule_source(r.ref),
            policy=r.policy, rule=r.ref, related=(by.ref,))
    # with admin policies (ANP/BANP) a connection is decided tier by tier; the columns here
    # evaluate NetworkPolicies alone, so removal is not judged then (docs/lint.md)
    judge_removal = not getattr(tables, "adm_count", 0)
    used = _allowing(ctx.reach) if judge_removal else {}
    for r in reversed(live) if judge_removal else ():
        if r.rid in state.drop:
            continue
        info = tables.rules[r.rid]
        if not (info.peer_bits or info.ip_bits):
            state.drop.add(r.rid)  # peers that match nothing: KRL203/KRL204 say so
            continue
        if _rule_removable(cols, state, r, used.get(info.rule.ref, 0)):
            state.drop.add(r.rid)
            rule_findings[r.rid] = ctx.finding(
                "KRL501", f"{r.ref} is redundant: removing it changes no connection in the "
                f"input (other rules already allow all it allows, or the other side never "
                f"sends or accepts it)", ctx.rule_source(r.ref), policy=r.policy, rule=r.ref)

    policy_findings = (list(_redundant_policies(ctx, cols, policies, state, removed))
                       if judge_removal else [])
    # a policy reported as a whole speaks for its rules (unless only rules were asked for)
    gone = removed | {f.policy for f in policy_findings}
    if not ctx.settings.enabled("KRL503"):
        gone -= {f.policy for f in policy_findings}
    if not ctx.settings.enabled("KRL504"):
        gone -= removed
    findings += policy_findings
    findings += [f for f in rule_findings.values() if f.policy not in gone]
    findings += list(_vacuous(ctx, ev, policies, rules))
    yield from findings


def _rules(ctx: LintContext, policies: list[NetworkPolicy]) -> list[_Rule]:
    out = []
    for p in policies:
        for direction, selected, ids in ctx.targets_of(p.id):
            for index, rid in enumerate(ids):
                out.append(_Rule(p, direction, index, rid, selected))
    return out


def _rule_removable(cols: _Columns, state: _Removals, r: _Rule, used: int) -> bool:
    """Removing rule ``r`` changes no connection: the columns and address sides it applies to
    are the same without it. An ingress rule changes, towards the classes its policy selects,
    the sources its peers match; an egress rule changes its own sources towards its peers;
    either only in the columns where it allows something (``used``, see :func:`_allowing`)."""
    info = cols.ev.t.rules[r.rid]
    before, after = state.view, state.trying_rule(r.rid)
    if r.direction == INGRESS:
        return _unchanged(cols, before, after, r.selected & used if info.peer_bits else 0,
                          info.peer_bits, r.selected if info.ip_bits else 0, 0)
    return _unchanged(cols, before, after, info.peer_bits & used, r.selected, 0,
                      r.selected if info.ip_bits else 0)


def _allowing(reach) -> dict[RuleRef, int]:
    """For each rule, the destination classes towards which it allows some connection in the
    evaluated input: the engine names it among the rules of an allowed class pair exactly when,
    there, its ports meet the ports of a rule (or the open side) of the other direction.

    While rules are being judged (KRL501) every removal only takes rules away and keeps every
    class's isolation, so what a rule contributes can only shrink: a rule changes no column
    where it allows nothing now, and those columns are never evaluated. The allowed class pairs
    follow what the cluster really lets through, so this keeps each check to the connections
    the rule opens instead of every class its peers match."""
    found: dict[RuleRef, list[int]] = {}
    last = None
    for (_, d), allowance in reach.class_edges.items():
        if last is not None and last[0] is allowance and last[1] == d:
            continue  # the sources of one atom share their allowance
        last = (allowance, d)
        for ref in (*allowance.egress, *allowance.ingress):
            found.setdefault(ref, []).append(d)
    return {ref: bits_of(sorted(set(ds))) for ref, ds in found.items()}


def _unchanged(cols: _Columns, before: _View, after: _View, columns: int, sources: int,
               in_sides: int, out_sides: int) -> bool:
    """The same connections in both views from ``sources`` towards the ``columns``, and on the
    given address sides."""
    for c in iter_bits(in_sides):
        if cols.from_ip(c, before) != cols.from_ip(c, after):
            return False
    for c in iter_bits(out_sides):
        if cols.to_ip(c, before) != cols.to_ip(c, after):
            return False
    for d in iter_bits(columns):
        if cols.column(d, before, sources) != cols.column(d, after, sources):
            return False
    return True


def _conns_over(ev: _Evaluator, rid: int, bits: int, named: bool):
    """The rule's ports on each receiving class in ``bits`` (one entry when no named ports)."""
    if not named:
        return [(bits, ev.t.rules[rid].rule.ports.numeric)]
    return [(1 << c, ev.conn_at(rid, c)) for c in iter_bits(bits)]


def _shadowed(ctx: LintContext, ev: _Evaluator, rules: list[_Rule]) -> Iterator[tuple[_Rule, _Rule]]:
    t = ev.t
    groups: dict[tuple[str, str], list[_Rule]] = {}
    for r in rules:
        groups.setdefault((r.policy.namespace, r.direction), []).append(r)
    for group in groups.values():
        shadowed: set[int] = set()
        for i, r in enumerate(group):
            a = t.rules[r.rid]
            if not (a.peer_bits or a.ip_bits):
                continue
            for j, o in enumerate(group):
                if o is r or o.rid in shadowed:
                    continue
                b = t.rules[o.rid]
                if (r.selected & ~o.selected or a.peer_bits & ~b.peer_bits
                        or a.ip_bits & ~b.ip_bits):
                    continue
                if _ports_within(ev, r, o) and (not _ports_within(ev, o, r) or j < i):
                    shadowed.add(r.rid)
                    yield r, o
                    break


def _ports_within(ev: _Evaluator, r: _Rule, o: _Rule) -> bool:
    """r's ports are within o's on every class r's ports are resolved on, and on addresses
    (where named ports allow nothing)."""
    a, b = ev.t.rules[r.rid], ev.t.rules[o.rid]
    if a.ip_bits and not a.rule.ports.numeric.issubset(b.rule.ports.numeric):
        return False
    if not (a.rule.ports.named or b.rule.ports.named):
        return a.rule.ports.numeric.issubset(b.rule.ports.numeric)
    receivers = r.selected if r.direction == INGRESS else a.peer_bits
    return all(ev.conn_at(r.rid, c).issubset(ev.conn_at(o.rid, c)) for c in iter_bits(receivers))


def _signature(ev: _Evaluator, rs: list[_Rule], selected: int, direction: str,
               named: bool) -> tuple:
    """What a policy's rules of one direction allow, canonically: the union of (peer classes,
    ports) and (address atoms, ports); with named ports (``named``: in any policy compared),
    ports are resolved on each receiving class."""
    t = ev.t
    if not rs:
        return ()
    if direction == INGRESS:
        out = []
        by_ports: dict = {}  # a class's named container ports -> what the rules allow there
        for c in (iter_bits(selected) if named else [None]):
            key = None if c is None else ev.named_sigs[c]
            sides = by_ports.get(key)
            if sides is None:
                ports = [t.rules[r.rid].rule.ports.numeric if c is None else ev.conn_at(r.rid, c)
                         for r in rs]
                pods = [(t.rules[r.rid].peer_bits, p) for r, p in zip(rs, ports)]
                ips = [(t.rules[r.rid].ip_bits, p) for r, p in zip(rs, ports)]
                sides = by_ports[key] = (_canon(_union_regions(pods)),
                                         _canon(_union_regions(ips)))
            out.append((c, *sides))
        return tuple(out)
    pods: list = []
    for r in rs:
        pods += _conns_over(ev, r.rid, t.rules[r.rid].peer_bits, named)
    ips = [(t.rules[r.rid].ip_bits, t.rules[r.rid].rule.ports.numeric) for r in rs]
    return ((None, _canon(_union_regions(pods)), _canon(_union_regions(ips))),)


def _equivalent(ctx: LintContext, ev: _Evaluator, policies: list[NetworkPolicy],
                rules: list[_Rule]) -> Iterator[tuple[NetworkPolicy, NetworkPolicy]]:
    by_policy: dict[str, list[_Rule]] = {}
    for r in rules:
        by_policy.setdefault(r.policy.id, []).append(r)
    groups: dict[tuple, list[NetworkPolicy]] = {}
    for p in policies:
        sel = tuple(sorted((d, s) for d, s, _ in ctx.targets_of(p.id)))
        groups.setdefault((p.namespace, sel), []).append(p)
    for group in groups.values():
        if len(group) < 2:
            continue
        seen: dict[tuple, NetworkPolicy] = {}
        named = any(ev.t.rules[r.rid].rule.ports.named for p in group
                    for r in by_policy.get(p.id, []))
        for p in group:
            rs = by_policy.get(p.id, [])
            sel = dict((d, s) for d, s, _ in ctx.targets_of(p.id))
            sig = tuple(_signature(ev, [r for r in rs if r.direction == d], sel.get(d, 0), d,
                                   named) for d in (INGRESS, EGRESS))
            first = seen.setdefault(sig, p)
            if first is not p:
                yield p, first


def _redundant_policies(ctx: LintContext, cols: _Columns, policies: list[NetworkPolicy],
                        state: _Removals, removed: set[str]) -> Iterator[Finding]:
    """Removing the policy changes nothing. Its ingress side can change every source towards
    the classes it selects for ingress; its egress side only the classes it selects for egress,
    towards its kept rules' peers, or towards every class when they lose egress isolation."""
    tables = ctx.tables
    all_bits = ctx.index.all_bits
    for p in reversed(policies):
        if p.id in removed or is_baseline(p):
            continue
        targets = ctx.targets_of(p.id)
        sole = any(state.alone(d, s) for d, s, _ in targets)
        kept = [rid for _, _, ids in targets for rid in ids if rid not in state.drop]
        if not sole and kept:
            continue  # a rule that matters, and the isolation stays: removing p changes that
        if sole:
            before, after = state.view, state.trying_policy(targets)
            sel_in = sel_eg = 0
            for d, s, _ in targets:
                if d == INGRESS:
                    sel_in |= s
                else:
                    sel_eg |= s
            towards = 0
            for rid in kept:
                if tables.rules[rid].rule.ref.direction == EGRESS:
                    towards |= tables.rules[rid].peer_bits
            if after.iso_eg != before.iso_eg:
                towards = all_bits  # sources now open for egress reach every column
            if not (_unchanged(cols, before, after, sel_in, all_bits, sel_in, sel_eg)
                    and _unchanged(cols, before, after, towards & ~sel_in, sel_eg, 0, 0)):
                continue
        state.remove_policy(targets)
        yield ctx.finding("KRL503", f"NetworkPolicy {p.id} is redundant: removing it changes no "
                          f"connection in the input (what it isolates stays isolated, and what "
                          f"it allows is allowed by other rules or never sent)", p.source,
                          policy=p)


def is_baseline(p: NetworkPolicy) -> bool:
    """A default-deny baseline (empty podSelector, no rules): never reported redundant, since
    it keeps the namespace isolated whatever the other policies become."""
    return p.pod_selector.is_empty and not p.ingress and not p.egress


def _vacuous(ctx: LintContext, ev: _Evaluator, policies: list[NetworkPolicy],
             rules: list[_Rule]) -> Iterator[Finding]:
    t = ev.t
    all_atoms = (1 << len(t.atoms)) - 1
    by_policy: dict[tuple[str, str], list[_Rule]] = {}
    for r in rules:
        by_policy.setdefault((r.policy.id, r.direction), []).append(r)
    for p in policies:
        targets = ctx.targets_of(p.id)
        if not targets:
            continue
        if all(_opens_all(ev, by_policy.get((p.id, d), []), all_atoms) for d, _, _ in targets):
            yield ctx.finding("KRL505", f"NetworkPolicy {p.id} is vacuous: it isolates "
                              f"{ctx.name_workloads(ctx.selected(p))} but its rules allow every "
                              f"source, destination and port again, so alone it changes nothing",
                              p.source, policy=p)


def _opens_all(ev: _Evaluator, rs: list[_Rule], all_atoms: int) -> bool:
    """The rules of one direction allow every class and every address on every port."""
    t = ev.t
    if not rs:
        return False
    all_bits = t.index.all_bits
    numeric = [(t.rules[r.rid].peer_bits, t.rules[r.rid].rule.ports.numeric) for r in rs]
    if not any(t.rules[r.rid].rule.ports.named for r in rs):
        if _covered(numeric) != all_bits:
            return False
    elif rs[0].direction == INGRESS:  # named ports resolve on the selected pod
        seen = set()  # classes with the same named container ports resolve them alike
        for c in iter_bits(rs[0].selected):
            if ev.named_sigs[c] in seen:
                continue
            seen.add(ev.named_sigs[c])
            if _covered([(t.rules[r.rid].peer_bits, ev.conn_at(r.rid, c)) for r in rs]) != all_bits:
                return False
    else:  # ... and on the destination for egress
        for c in range(len(t.index.classes)):
            conns = NO_CONNECTIONS
            for r in rs:
                if t.rules[r.rid].peer_bits >> c & 1:
                    conns = conns | ev.conn_at(r.rid, c)
            if not conns.is_all():
                return False
    ips = [(t.rules[r.rid].ip_bits, t.rules[r.rid].rule.ports.numeric) for r in rs]
    return _covered(ips) == all_atoms


def _covered(regions: list) -> int:
    covered = 0
    for bits, conns in _union_regions(regions):
        if conns.is_all():
            covered |= bits
    return covered
