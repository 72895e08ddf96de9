"""``kreach compare A B``: how the connectivity of two inputs relates.

The relation is decided on the pods both inputs hold (matched by ``namespace/name``) and on
every address: *equivalent* (the same connections), *A ⊂ B* (everything A allows B allows, and
B allows more), *B ⊂ A*, or *incomparable*. For each direction in which they differ, a minimal
witness connection is given (the first by source, destination, protocol and port) with the rules
of the side that allows it and the policies of the other side that isolate its ends.

Pods are compared through their pod classes: pods that fall in the same class in A *and* in B
("joint classes") behave alike on both sides, so each pair of joint classes is compared once.
Address sides are compared on the common refinement of both inputs' address atoms.

``per_policy`` gives NCA's strong equivalence: each policy (matched by ``namespace/name``) alone
in A against the same policy alone in B, on the same pods.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace

from ..analysis import Analysis
from ..engine.classes import iter_bits
from ..engine.compile import RuleRef
from ..engine.evaluate import Reachability, evaluate
from ..model.cluster import EGRESS, INGRESS
from ..model.connset import NO_CONNECTIONS, ConnectionSet, address_text
from ..query.feasibility import first_port

EQUIVALENT, A_IN_B, B_IN_A, INCOMPARABLE = "equivalent", "a-in-b", "b-in-a", "incomparable"


@dataclass(frozen=True)
class Witness:
    """One connection allowed by one side only."""

    src: str
    dst: str
    protocol: str
    port: int
    allowed: ConnectionSet  # what the allowing side allows between src and dst
    denied: ConnectionSet  # what the other side allows there (maybe nothing)
    allowed_by: tuple[RuleRef, ...]  # rules of the allowing side
    isolated_by: tuple[RuleRef, ...]  # policies of the other side isolating src (egress) or dst (ingress)


@dataclass(frozen=True)
class Comparison:
    relation: str
    only_in_a: Witness | None  # a connection A allows and B does not
    only_in_b: Witness | None
    pods_only_in_a: tuple[str, ...] = ()
    pods_only_in_b: tuple[str, ...] = ()
    per_policy: tuple[tuple[str, "Comparison"], ...] = ()  # with per_policy: policy id -> result

    @property
    def equivalent(self) -> bool:
        return self.relation == EQUIVALENT


def relation_of(a_in_b: bool, b_in_a: bool) -> str:
    if a_in_b and b_in_a:
        return EQUIVALENT
    if a_in_b:
        return A_IN_B
    return B_IN_A if b_in_a else INCOMPARABLE


def compare(a: Analysis, b: Analysis, per_policy: bool = False) -> Comparison:
    result = _located(compare_reach(a.reachability, b.reachability), a, b)
    if not per_policy:
        return result
    pa = {p.id: p for p in a.cluster.policies}
    pb = {p.id: p for p in b.cluster.policies}
    parts = []
    for pid in sorted(pa.keys() | pb.keys()):
        ra = evaluate(replace(a.cluster, policies=(pa[pid],) if pid in pa else ()))
        rb = evaluate(replace(b.cluster, policies=(pb[pid],) if pid in pb else ()))
        parts.append((pid, _located(compare_reach(ra, rb), a, b)))
    return replace(result, per_policy=tuple(parts))


def _located(c: Comparison, a: Analysis, b: Analysis) -> Comparison:
    """Rule references with the line of the rule itself (the engine keeps the object's)."""
    def at(refs, analysis):
        out = []
        for r in refs:
            if r.source is not None and r.index is not None:
                r = replace(r, source=replace(r.source, line=analysis.locator.line(r.source, r.path)))
            out.append(r)
        return tuple(out)

    def fix(w: Witness | None, allowing: Analysis, other: Analysis) -> Witness | None:
        if w is None:
            return None
        return replace(w, allowed_by=at(w.allowed_by, allowing), isolated_by=at(w.isolated_by, other))

    return replace(c, only_in_a=fix(c.only_in_a, a, b), only_in_b=fix(c.only_in_b, b, a))


def strongly_equivalent(c: Comparison) -> bool:
    return c.equivalent and all(p.equivalent for _, p in c.per_policy)


def compare_reach(ra: Reachability, rb: Reachability) -> Comparison:
    name_a = {f"{p.namespace}/{p.name}": i for i, p in enumerate(ra.cluster.pods)}
    name_b = {f"{p.namespace}/{p.name}": i for i, p in enumerate(rb.cluster.pods)}
    common = sorted(name_a.keys() & name_b.keys())
    joint: dict[tuple[int, int], list[str]] = {}
    for name in common:
        key = (ra.index.pod_class[name_a[name]], rb.index.pod_class[name_b[name]])
        joint.setdefault(key, []).append(name)
    only_a: list[tuple] = []  # candidate witnesses: (src, dst, conns_a - conns_b, ...)
    only_b: list[tuple] = []
    groups = sorted(joint.items(), key=lambda kv: kv[1][0])
    for (ca1, cb1), pods1 in groups:
        for (ca2, cb2), pods2 in groups:
            same = ca1 == ca2 and cb1 == cb2
            if same and len(pods1) == 1:
                continue  # a pod and itself
            ea, eb = ra.class_edges.get((ca1, ca2)), rb.class_edges.get((cb1, cb2))
            conns_a = ea.conns if ea else NO_CONNECTIONS
            conns_b = eb.conns if eb else NO_CONNECTIONS
            if conns_a == conns_b:
                continue
            src = pods1[0]
            dst = pods2[1] if same else pods2[0]
            if conns_a - conns_b:
                only_a.append((src, dst, conns_a, conns_b, ea, ("pod", ca1, ca2, cb1, cb2)))
            if conns_b - conns_a:
                only_b.append((src, dst, conns_b, conns_a, eb, ("pod", cb1, cb2, ca1, ca2)))
    for name in common:
        ia, ib = name_a[name], name_b[name]
        ca, cb = ra.index.pod_class[ia], rb.index.pod_class[ib]
        for side in ("out", "in"):
            sa = _address_side(ra, ca, side)
            sb = _address_side(rb, cb, side)
            for lo, hi, x, y, allow_x, allow_y in _merge(sa, sb):
                addr = address_text(lo)
                src, dst = (name, addr) if side == "out" else (addr, name)
                if x - y:
                    only_a.append((src, dst, x, y, allow_x, ("ip", side, ca, cb)))
                if y - x:
                    only_b.append((src, dst, y, x, allow_y, ("ip", side, cb, ca)))
    wa = _witness(min(only_a, key=_order), ra, rb) if only_a else None
    wb = _witness(min(only_b, key=_order), rb, ra) if only_b else None
    return Comparison(relation_of(not only_a, not only_b), wa, wb,
                      tuple(sorted(name_a.keys() - name_b.keys())),
                      tuple(sorted(name_b.keys() - name_a.keys())))


def _order(c: tuple) -> tuple:
    return (c[0], c[1])


def _address_side(r: Reachability, c: int, side: str) -> list[tuple[int, int, ConnectionSet, object]]:
    entries = r.to_ip.get(c, ()) if side == "out" else r.from_ip.get(c, ())
    out = []
    for bits, allowance in entries:
        for i in iter_bits(bits):
            lo, hi = r.ip_atoms[i]
            out.append((lo, hi, allowance.conns, allowance))
    out.sort(key=lambda e: e[0])
    return out


def _merge(sa: list, sb: list):
    """(lo, hi, conns in A, conns in B, allowance A, allowance B) over the common refinement
    of two sorted lists of disjoint address intervals (absent: nothing allowed)."""
    cuts = sorted({e[0] for e in sa} | {e[1] + 1 for e in sa} | {e[0] for e in sb}
                  | {e[1] + 1 for e in sb})
    starts_a, starts_b = [e[0] for e in sa], [e[0] for e in sb]
    out = []
    for lo, nxt in zip(cuts, cuts[1:]):
        hi = nxt - 1
        x = _at(sa, starts_a, lo)
        y = _at(sb, starts_b, lo)
        if x is None and y is None:
            continue
        cx = x[2] if x else NO_CONNECTIONS
        cy = y[2] if y else NO_CONNECTIONS
        if cx != cy:
            out.append((lo, hi, cx, cy, x[3] if x else None, y[3] if y else None))
    return out


def _at(side: list, starts: list[int], addr: int):
    i = bisect.bisect_right(starts, addr) - 1
    if i >= 0 and side[i][0] <= addr <= side[i][1]:
        return side[i]
    return None


def _witness(c: tuple, allowing: Reachability, other: Reachability) -> Witness:
    src, dst, conns, denied, allowance, where = c
    proto, port = first_port(conns - denied)
    refs: tuple[RuleRef, ...] = ()
    if allowance is not None:
        rules = {r.ref: r for t in allowing.compiled.targets for r in t.rules}
        refs = tuple(sorted((ref for ref in set(allowance.egress) | set(allowance.ingress)
                             if ref not in rules or rules[ref].ports.named
                             or rules[ref].ports.numeric.allows(proto, port)), key=str))
    isolating: list[RuleRef] = []
    if where[0] == "pod":
        _, _, _, o_src, o_dst = where
        isolating += _isolating(other, EGRESS, o_src) + _isolating(other, INGRESS, o_dst)
    else:
        _, side, _, o_c = where
        isolating += _isolating(other, EGRESS if side == "out" else INGRESS, o_c)
    return Witness(src, dst, proto, port, conns, denied, refs, tuple(isolating))


def _isolating(r: Reachability, direction: str, c: int) -> list[RuleRef]:
    targets = r.compiled.ingress if direction == INGRESS else r.compiled.egress
    return [t.ref for t in targets
            if r.index.target_bits(t.namespace, t.pod_selector) >> c & 1]


__all__ = ["A_IN_B", "B_IN_A", "Comparison", "EQUIVALENT", "INCOMPARABLE", "Witness", "compare",
           "strongly_equivalent"]
