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
  with :func:`analyzer.engine.incremental.apply_policy_change`, again one at a time from last to
  first on the result of the previous removals; default-deny baselines are never reported
  (they keep the namespace isolated whatever the other policies become). Only candidates are re-checked: a policy is one
  when each of its rules was found removable, or it alone isolates some pod (if another policy
  isolates every pod it selects, a rule that is not removable makes the policy not removable).
* Vacuous policies (KRL505): alone, the policy allows every pod class and every address on every
  port to and from what it selects, so it changes nothing against no policy at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator

from ..engine.classes import iter_bits
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


@dataclass
class _View:
    """A state of removal: rule ids left out, and which classes are isolated (a removed policy
    may have been the only one isolating a class). ``eg_key`` names the egress isolation in
    cache keys (hashing the bits each time would cost a pass over them)."""

    drop: set
    iso_in: int
    iso_eg: int
    in_count: list
    eg_count: list
    eg_key: int = 0


@dataclass
class _Columns:
    """The engine's columns (every source towards one destination class) and address sides,
    recomputed for a :class:`_View`; canonical forms are cached by what they depend on."""

    ev: _Evaluator
    cache: dict = field(default_factory=dict)

    def column(self, d: int, v: _View) -> frozenset:
        ev, t = self.ev, self.ev.t
        rules, drop = t.rules, v.drop
        isolated = v.iso_in >> d & 1
        in_ids = tuple(r for r in t.in_rules[d] if r not in drop) if isolated else ()
        eg_ids = tuple(r for r in (*t.to_dst[d], *t.to_every_dst) if r not in drop)
        named = ev.named_sigs[d] if ev.named_sigs[d] and any(
            rules[r].rule.ports.named for r in in_ids + eg_ids) else ()
        key = ("col", isolated, in_ids, eg_ids, named, v.eg_key)
        hit = self.cache.get(key)
        if hit is None:
            if isolated:
                ins = [(rules[r].peer_bits, ev.conn_at(r, d), None) for r in in_ids]
            else:
                ins = [(t.index.all_bits, ALL_CONNECTIONS, None)]
            open_eg = t.index.all_bits & ~v.iso_eg
            egs = [(open_eg, ALL_CONNECTIONS, None)] if open_eg else []
            egs += [(rules[r].source_bits, ev.conn_at(r, d), None) for r in eg_ids]
            hit = self.cache[key] = _canon((b, a.conns) for b, a in _combine(ins, egs))
        return hit

    def from_ip(self, c: int, v: _View) -> frozenset:
        ev, t = self.ev, self.ev.t
        if not v.iso_in >> c & 1:
            return self._everything()
        ids = tuple(r for r in t.in_rules[c] if r not in v.drop and t.rules[r].ip_bits)
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
        ids = tuple(r for r in t.eg_rules[c] if r not in v.drop and t.rules[r].ip_bits)
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
    view = _View(set(), tables.iso_in, tables.iso_eg, list(tables.in_count),
                 list(tables.eg_count))

    findings: list[Finding] = []
    removed: set[str] = set()
    for later, earlier in _equivalent(ctx, ev, policies, rules):
        removed.add(later.id)
        view = _without_policy(ctx, view, later)  # same selection: isolation stays
        findings.append(ctx.finding(
            "KRL504", f"NetworkPolicy {later.id} is equivalent to {earlier.id} "
            f"({earlier.source}): same pods selected, same connections allowed; one of them "
            f"can go", later.source, policy=later,
            related=(RuleRef(INGRESS, earlier.id, None, earlier.source),)))
    live = [r for r in rules if r.policy.id not in removed]

    rule_findings: dict[int, Finding] = {}
    for r, by in _shadowed(ctx, ev, live):
        view.drop.add(r.rid)
        rule_findings[r.rid] = ctx.finding(
            "KRL502", f"{r.ref} is shadowed by {by.ref} ({ctx.rule_source(by.ref)}): every "
            f"connection it allows, that rule allows too", ctx.rule_source(r.ref),
            policy=r.policy, rule=r.ref, related=(by.ref,))
    # with admin policies (ANP/BANP) a connection is decided tier by tier; the columns here
    # evaluate NetworkPolicies alone, so removal is not judged then (docs/lint.md)
    judge_removal = not getattr(tables, "adm_count", 0)
    for r in reversed(live) if judge_removal else ():
        if r.rid in view.drop:
            continue
        info = tables.rules[r.rid]
        if not (info.peer_bits or info.ip_bits):
            view.drop.add(r.rid)  # peers that match nothing: KRL203/KRL204 say so
            continue
        after = _View(view.drop | {r.rid}, view.iso_in, view.iso_eg, view.in_count,
                      view.eg_count, view.eg_key)
        if r.direction == INGRESS:
            same = _unchanged(cols, view, after, r.selected if info.peer_bits else 0,
                              r.selected if info.ip_bits else 0, 0)
        else:
            same = _unchanged(cols, view, after, info.peer_bits, 0,
                              r.selected if info.ip_bits else 0)
        if same:
            view.drop.add(r.rid)
            rule_findings[r.rid] = ctx.finding(
                "KRL501", f"{r.ref} is redundant: removing it changes no connection in the "
                f"input (other rules already allow all it allows, or the other side never "
                f"sends or accepts it)", ctx.rule_source(r.ref), policy=r.policy, rule=r.ref)

    policy_findings = (list(_redundant_policies(ctx, cols, policies, view, removed))
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


def _unchanged(cols: _Columns, before: _View, after: _View, columns: int, in_sides: int,
               out_sides: int) -> bool:
    """The same connections in both views on the given columns and address sides."""
    for c in iter_bits(in_sides):
        if cols.from_ip(c, before) != cols.from_ip(c, after):
            return False
    for c in iter_bits(out_sides):
        if cols.to_ip(c, before) != cols.to_ip(c, after):
            return False
    for d in iter_bits(columns):
        if cols.column(d, before) != cols.column(d, after):
            return False
    return True


_EG_KEYS = iter(range(1, 1 << 62))


def _without_policy(ctx: LintContext, v: _View, p: NetworkPolicy) -> _View:
    drop = set(v.drop)
    in_count, eg_count = list(v.in_count), list(v.eg_count)
    iso_in, iso_eg = v.iso_in, v.iso_eg
    for direction, selected, ids in ctx.targets_of(p.id):
        drop.update(ids)
        counts = in_count if direction == INGRESS else eg_count
        for c in iter_bits(selected):
            counts[c] -= 1
            if counts[c] == 0:
                if direction == INGRESS:
                    iso_in &= ~(1 << c)
                else:
                    iso_eg &= ~(1 << c)
    eg_key = v.eg_key if iso_eg == v.iso_eg else next(_EG_KEYS)
    return _View(drop, iso_in, iso_eg, in_count, eg_count, eg_key)


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
        for c in (iter_bits(selected) if named else [None]):
            def ports(r):
                return t.rules[r.rid].rule.ports.numeric if c is None else ev.conn_at(r.rid, c)
            pods = [(t.rules[r.rid].peer_bits, ports(r)) for r in rs]
            ips = [(t.rules[r.rid].ip_bits, ports(r)) for r in rs]
            out.append((c, _canon(_union_regions(pods)), _canon(_union_regions(ips))))
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
                        view: _View, removed: set[str]) -> Iterator[Finding]:
    tables = ctx.tables
    n = len(ctx.index.classes)
    for p in reversed(policies):
        if p.id in removed or is_baseline(p):
            continue
        targets = ctx.targets_of(p.id)
        sole = any(_alone(view, d, s) for d, s, _ in targets)
        kept = [rid for _, _, ids in targets for rid in ids if rid not in view.drop]
        if not sole and kept:
            continue  # a rule that matters, and the isolation stays: removing p changes that
        after = _without_policy(ctx, view, p)
        if sole:
            sel_in = sum(s for d, s, _ in targets if d == INGRESS)
            sel_eg = sum(s for d, s, _ in targets if d == EGRESS)
            columns = sel_in
            for rid in kept:
                if tables.rules[rid].rule.ref.direction == EGRESS:
                    columns |= tables.rules[rid].peer_bits
            if after.iso_eg != view.iso_eg:
                columns = (1 << n) - 1  # sources now open for egress reach every column
            if not _unchanged(cols, view, after, columns, sel_in, sel_eg):
                continue
        view = after
        yield ctx.finding("KRL503", f"NetworkPolicy {p.id} is redundant: removing it changes no "
                          f"connection in the input (what it isolates stays isolated, and what "
                          f"it allows is allowed by other rules or never sent)", p.source,
                          policy=p)


def is_baseline(p: NetworkPolicy) -> bool:
    """A default-deny baseline (empty podSelector, no rules): never reported redundant, since
    it keeps the namespace isolated whatever the other policies become."""
    return p.pod_selector.is_empty and not p.ingress and not p.egress


def _alone(view: _View, direction: str, selected: int) -> bool:
    counts = view.in_count if direction == INGRESS else view.eg_count
    return any(counts[c] == 1 for c in iter_bits(selected))


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
        for c in iter_bits(rs[0].selected):
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
