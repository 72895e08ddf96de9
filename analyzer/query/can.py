"""``can(SRC, DST)``: may SRC open a connection to DST? Proved with Z3, shown by a witness.

Allowed = egress of the source (when it is a pod) AND ingress of the destination (when it is a
pod). On "yes" the model gives the witness and the rules that fire in it. On "no" each side is
checked alone to find the side(s) that block; for each rule of a blocking side's policies an
unsat core over the rule's named parts (namespace, pod selector, ipBlock, ports) gives the part
that does not match.
"""

from __future__ import annotations

from dataclasses import dataclass

import z3

from ..engine.compile import IPPeer, PodPeer, Target, default_ref
from ..model.connset import PROTOCOLS, address_text, example_addresses, is_global
from .feasibility import COMMON_PORTS
from ..model.cluster import EGRESS, INGRESS, NAME_LABEL
from ..model.selectors import LabelSelector, Requirement
from .encoding import (PROTO_CODE, AddressTerm, ConcretePod, Encoding, Flow, Formula, Side, Signature,
                       SymbolicPod, Term, as_z3, conj)
from .engine import Engine, External, Hypothetical, QueryError, Resolved
from .endpoints import ServiceRef, parse_endpoint
from .verdict import (AddressWitness, Answer, Mismatch, PodWitness, SideReport, Verdict, Witness)


@dataclass
class Bound:
    """An endpoint turned into a term plus the constraints on its variables."""

    resolved: Resolved
    term: Term
    domain: list[z3.BoolRef]
    choices: list[tuple[Signature, tuple[int, ...]]]  # for existing pods; index = choice value
    choice: z3.ArithRef | None = None


def bind(engine: Engine, resolved: Resolved, name: str) -> Bound:
    enc = engine.encoding
    if isinstance(resolved, External):
        var = z3.BitVec(f"{name}.addr", 129)
        term = AddressTerm(var)
        return Bound(resolved, term, [as_z3(term.within(resolved.endpoint.addresses))], [])
    if isinstance(resolved, Hypothetical):
        e = resolved.endpoint
        if e.namespace is None:
            pod = SymbolicPod(name, enc, frozenset(enc.namespaces), True)
        elif e.namespace in enc.ns_index:
            pod = SymbolicPod(name, enc, frozenset({e.namespace}), False)
        else:
            pod = SymbolicPod(name, enc, frozenset(), True)
        selector = e.pod_selector
        if e.no_labels:  # absent keys: every key a selector looks at (others change nothing)
            selector = LabelSelector.build(None, tuple(Requirement(k, "DoesNotExist")
                                                       for k in sorted(enc.pod_keys)))
        return Bound(resolved, pod, [pod.hypothetical(e.namespace, selector)], [])
    choices = sorted(resolved.groups.items(), key=lambda kv: kv[1][0])
    if len(choices) == 1 and not engine.options.symbolic:
        sig, pods = choices[0]
        return Bound(resolved, enc.concrete(sig, pods), [], choices)
    pod = SymbolicPod(name, enc, frozenset(s.namespace for s, _ in choices), False)
    choice = z3.Int(f"{name}.choice")
    options = pod.options([s for s, _ in choices])
    domain = [z3.Or(*[z3.And(choice == i, o) for i, o in enumerate(options)])]
    return Bound(resolved, pod, domain, choices, choice)


def _choice_is(b: Bound, i: int) -> Formula:
    return b.choice == i if b.choice is not None else i == 0


def _not_same_pod(src: Bound, dst: Bound) -> list[z3.BoolRef]:
    """A pod is never its own peer: forbid choices that leave one pod on both sides."""
    out = []
    for i, (_, sp) in enumerate(src.choices):
        for j, (_, dp) in enumerate(dst.choices):
            if len(sp) == 1 and sp == dp:
                f = conj(_choice_is(src, i), _choice_is(dst, j))
                if f is True:
                    raise QueryError("source and destination are the same single pod")
                if f is not False:
                    out.append(z3.Not(f))
    return out


def _solver(engine: Engine) -> z3.Solver:
    s = z3.Solver()
    s.set("timeout", engine.options.timeout_ms)
    return s


def _check(engine: Engine, *facts: Formula) -> tuple[z3.CheckSatResult, z3.ModelRef | None, str]:
    s = _solver(engine)
    for f in facts:
        if f is False:
            return z3.unsat, None, ""
        if f is not True:
            s.add(f)
    r = s.check()
    return r, (s.model() if r == z3.sat else None), (s.reason_unknown() if r == z3.unknown else "")


def sides(engine: Engine, src: Term, dst: Term, flow: Flow) -> tuple[Side | None, Side | None]:
    enc = engine.encoding
    if isinstance(src, AddressTerm) and isinstance(dst, AddressTerm):
        raise QueryError("both endpoints are addresses; kreach models traffic to or from pods only")
    egress = None if isinstance(src, AddressTerm) else enc.side(EGRESS, src, dst, flow)
    ingress = None if isinstance(dst, AddressTerm) else enc.side(INGRESS, dst, src, flow)
    return egress, ingress


def can(engine: Engine, src: str, dst: str, port: int | None = None,
        protocol: str | None = None) -> Verdict:
    """Is some connection from ``src`` to ``dst`` allowed (on ``port``/``protocol`` if given)?"""
    if protocol is not None and protocol not in PROTOCOLS:
        raise QueryError(f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}")
    if port is not None and not 1 <= port <= 65535:
        raise QueryError(f"port {port} is out of range 1-65535")
    dst_e = parse_endpoint(dst) if isinstance(dst, str) else dst
    if isinstance(dst_e, ServiceRef):  # a Service port: the question is asked on its targetPort
        target = engine.service_target(dst_e)
        if target is not None:
            if (port is not None and port != target[1]) or (protocol not in (None, target[0])):
                raise QueryError(f"{dst_e} leads to {target[0]} {target[1]}; --port/--protocol "
                                 "ask about another port")
            protocol, port = target
    bs, bd = bind(engine, engine.resolve(src), "src"), bind(engine, engine.resolve(dst_e), "dst")
    return can_bound(engine, bs, bd, port, protocol)


def bind_new_namespace(engine: Engine, name: str) -> Bound:
    """A new pod, any labels, in a namespace that does not exist yet (any labels but the
    name label of an existing namespace)."""
    from .endpoints import NewPod
    pod = SymbolicPod(name, engine.encoding, frozenset(), True)
    endpoint = NewPod(None)
    return Bound(Hypothetical(endpoint), pod, [pod.hypothetical(None, endpoint.pod_selector)], [])


def can_bound(engine: Engine, bs: Bound, bd: Bound, port: int | None = None,
              protocol: str | None = None, explain: bool = True,
              friendly: bool | None = None) -> Verdict:
    flow = Flow.fresh()
    base = bs.domain + bd.domain + flow.domain(protocol, port) + _not_same_pod(bs, bd)
    eg, ing = sides(engine, bs.term, bd.term, flow)
    allows = conj(*(s.allows for s in (eg, ing) if s is not None))
    head = dict(src=str(bs.resolved.endpoint), dst=str(bd.resolved.endpoint), protocol=protocol,
                port=port)
    result, model, why = _check(engine, *base, allows)
    if result == z3.unknown:
        return Verdict(**head, answer=Answer.UNKNOWN, note=f"solver gave up: {why}")
    if result == z3.sat:
        if explain if friendly is None else friendly:  # bulk callers skip the extra calls
            model = _friendlier(engine, model, (*base, allows), bs, bd, flow, protocol, port)
        src_w = _witness(engine, bs, model)
        witness = Witness(src_w, _witness(engine, bd, model, avoid=src_w),
                          PROTOCOLS[model.eval(flow.proto, True).as_long()],
                          model.eval(flow.port, True).as_long())
        return Verdict(**head, answer=Answer.YES, witness=witness,
                       egress=_allowed_report(EGRESS, eg, model),
                       ingress=_allowed_report(INGRESS, ing, model))
    if not explain:
        return Verdict(**head, answer=Answer.NO)
    return _denied(engine, head, base, bs, bd, eg, ing, flow, protocol, port)


# --- yes: witness and the rules that fire ------------------------------------------------------


def _friendlier(engine: Engine, model: z3.ModelRef, facts: tuple, bs: Bound, bd: Bound, flow: Flow,
                protocol: str | None, port: int | None) -> z3.ModelRef:
    """Any model proves "yes"; a reader is better served by TCP on a port the destination
    declares than by, say, SCTP port 2. Try those preferences; keep what still satisfies."""
    wishes: list[Formula] = []
    if protocol is None:
        wishes.append(flow.proto == PROTO_CODE["TCP"])
    if port is None and bd.choices:
        i = model.eval(bd.choice, True).as_long() if bd.choice is not None else 0
        pod = engine.cluster.pods[bd.choices[i][1][0]]
        declared = sorted({p.number for p in pod.ports})
        if declared:
            wishes.append(z3.Or(*[flow.port == n for n in declared]))
    elif port is None and protocol in (None, "TCP"):  # a new pod or an address: a common port
        wishes.append(z3.Or(*[flow.port == n for n in COMMON_PORTS]))
    for b in (bs, bd):  # a public address reads as "the internet"; 0.0.0.0 does not
        if isinstance(b.term, AddressTerm):
            for a in _readable_addresses(b, model):
                if _check(engine, *facts, b.term.var == a)[0] == z3.sat:
                    wishes.append(b.term.var == a)
                    break
    for k in range(len(wishes), 0, -1):
        result, better, _ = _check(engine, *facts, *wishes[:k])
        if result == z3.sat and better is not None:
            model = better
            facts = (*facts, *wishes[:k])
            break
    for b in (bs, bd):
        model = input_labels(engine, b, model, facts)
    return model



def input_labels(engine: Engine, b: Bound, model: z3.ModelRef, facts: tuple) -> z3.ModelRef:
    """A hypothetical pod's label values taken from the input where the answer allows it:
    ``name=cart`` (a label some pod carries) reads better than ``name=<other>``."""
    pod = b.term
    if not isinstance(pod, SymbolicPod):
        return model
    seen: dict[str, set[str]] = {}
    for p in engine.cluster.pods:
        for k, v in p.labels:
            seen.setdefault(k, set()).add(v)
    wishes = []
    for key, (has, val) in list(pod.labels.items()):
        if key in seen and z3.is_true(model.eval(has, True)) \
                and engine.encoding.interner.value(model.eval(val, True).as_long()) not in seen[key]:
            wishes.append(z3.Or(*[val == engine.encoding.interner.id(v) for v in sorted(seen[key])]))
    if not wishes:
        return model
    result, better, _ = _check(engine, *facts, *wishes)
    return better if result == z3.sat and better is not None else model


def _readable_addresses(b: Bound, model: z3.ModelRef) -> list[int]:
    """Readable addresses of an address endpoint, and the one after the model's (a range's
    first address is its network address)."""
    assert isinstance(b.resolved, External) and isinstance(b.term, AddressTerm)
    within = b.resolved.endpoint.addresses
    found = model.eval(b.term.var, True).as_long()
    public = [a for a in example_addresses(within) if is_global(a)]
    return public[:2] + ([found + 1] if found + 1 in within and found & 0xFF == 0 else [])


def _is_true(model: z3.ModelRef, f: Formula) -> bool:
    return f if isinstance(f, bool) else z3.is_true(model.eval(f, model_completion=True))


def _allowed_report(direction: str, side: Side | None, model: z3.ModelRef) -> SideReport:
    if side is None:
        return SideReport(direction, applies=False)
    if side.admin:
        return _tiered_report(direction, side, model)
    if not _is_true(model, side.isolated):
        return SideReport(direction, True, (), (default_ref(direction),))
    fired = tuple(sorted({r.ref for r, f in side.rules if _is_true(model, f)}))
    isolating = tuple(sorted(t.ref for t, sel in side.targets if _is_true(model, sel)))
    return SideReport(direction, True, isolating, fired)


def _tiered_report(direction: str, side: Side, model: z3.ModelRef) -> SideReport:
    """The rules that decide the witness in tier order: an admin Allow alone; after a Pass (or
    no admin match) the NetworkPolicies, or when none isolates, the Baseline rule or the default.
    A Pass that handed the connection on is named with what then allowed it."""
    first = next((r for r, f in side.admin if r.tier == "Admin" and _is_true(model, f)), None)
    refs: list = []
    if first is not None:
        if first.action == "Allow":
            return SideReport(direction, True, (), (first.ref,))
        refs.append(first.ref)  # a Pass (a Deny cannot be in an allowed witness)
    isolating = tuple(sorted(t.ref for t, sel in side.targets if _is_true(model, sel)))
    if _is_true(model, side.isolated):
        refs += sorted({r.ref for r, f in side.rules if _is_true(model, f)})
        return SideReport(direction, True, isolating, tuple(refs))
    base = next((r for r, f in side.admin if r.tier != "Admin" and _is_true(model, f)), None)
    if base is not None and base.action == "Allow":
        refs.append(base.ref)
    else:
        if base is not None:
            refs.append(base.ref)  # a Baseline Pass: on to the default
        refs.append(default_ref(direction))
    return SideReport(direction, True, (), tuple(refs))


def _admin_blockers(engine: Engine, base, side: Side) -> tuple:
    """The admin Deny rules that decide against some connection of the query (the first match
    of the Admin tier, or of the Baseline tier where no NetworkPolicy isolates)."""
    out = []
    admin_first = side.first_matches("Admin")
    reach_lower = conj(*[z3.Not(as_z3(f)) for r, f in admin_first if r.action != "Pass"])
    for r, f in admin_first:
        if r.action == "Deny" and _check(engine, *base, f)[0] == z3.sat:
            out.append(r.ref)
    for r, f in side.first_matches("Baseline"):
        if r.action == "Deny" and _check(engine, *base, reach_lower, neg_f(side.isolated), f)[0] == z3.sat:
            out.append(r.ref)
    return tuple(out)


def neg_f(f: Formula) -> Formula:
    return (not f) if isinstance(f, bool) else z3.Not(f)


def _witness(engine: Engine, b: Bound, model: z3.ModelRef, avoid=None):
    """The example endpoint of one side; ``avoid``: the other side's witness, never repeated
    when the chosen group has another pod that shows the same (a pod to itself is no example)."""
    enc = engine.encoding
    term = b.term
    if isinstance(term, AddressTerm):
        return AddressWitness(address_text(model.eval(term.var, True).as_long()))
    if b.choices:
        i = model.eval(b.choice, True).as_long() if b.choice is not None else 0
        pods = b.choices[i][1]
        pod = engine.cluster.pods[pods[0]]
        if isinstance(avoid, PodWitness) and (pod.namespace, pod.name) == (avoid.namespace, avoid.name) \
                and len(pods) > 1:
            pod = engine.cluster.pods[pods[1]]
        return PodWitness(pod.namespace, pod.name, pod.workload, labels=pod.labels)
    return _hypothetical_witness(enc, b, model)


def _hypothetical_witness(enc: Encoding, b: Bound, model: z3.ModelRef) -> PodWitness:
    pod = b.term
    assert isinstance(pod, SymbolicPod)

    def value(v) -> str:
        code = model.eval(v, True).as_long()
        found = enc.interner.value(code)
        return found if found is not None else "<other>"

    labels, absent = [], []
    for key, (has, val) in sorted(pod.labels.items()):
        if z3.is_true(model.eval(has, True)):
            labels.append((key, value(val)))
        else:
            absent.append(key)
    ports = []
    for (proto, name), (defined, num) in sorted(pod.ports.items()):
        if z3.is_true(model.eval(defined, True)):
            ports.append((proto, name, model.eval(num, True).as_long()))
    ns_index = model.eval(pod.ns, True).as_long()
    ns_labels = None
    if 0 <= ns_index < len(enc.namespaces) and pod.namespaces:
        namespace = enc.namespaces[ns_index]
    else:
        ns_labels = tuple((k, value(v)) for k, (h, v) in sorted(pod.ns_labels_vars.items())
                          if z3.is_true(model.eval(h, True)))
        namespace = dict(ns_labels).get(NAME_LABEL, "<new>")
        b_ns = b.resolved.endpoint.namespace
        if b_ns is None and namespace == "<other>":
            namespace = "<new namespace>"
    return PodWitness(namespace, None, None, True, tuple(labels), tuple(absent), tuple(ports),
                      ns_labels)


# --- no: which side blocks, and which part of each rule fails -----------------------------------


def _denied(engine, head, base, bs: Bound, bd: Bound, eg: Side | None, ing: Side | None,
            flow: Flow, protocol, port) -> Verdict:
    reports = {}
    blocking = []
    for side in (eg, ing):
        if side is None:
            continue
        r, _, why = _check(engine, *base, side.allows)
        if r == z3.unknown:
            return Verdict(**head, answer=Answer.UNKNOWN,
                           note=f"solver gave up while explaining: {why}")
        if r == z3.unsat:
            blocking.append(side)
    note = None
    if not blocking:
        note = ("each side allows some connections, but no protocol and port is allowed by both "
                "the source's egress and the destination's ingress")
    for side in (eg, ing):
        if side is None:
            continue
        pod_b, other_b = (bs, bd) if side.direction == EGRESS else (bd, bs)
        iso = _selecting_targets(engine, base, side, pod_b)
        if side in blocking:
            denied_by = _admin_blockers(engine, base, side) if side.admin else ()
            mism = _blame(engine, base, side, pod_b, other_b, iso, flow, protocol, port)
            reports[side.direction] = SideReport(side.direction, True,
                                                 tuple(t.ref for t in iso), (), True, mism,
                                                 denied_by)
        else:
            reports[side.direction] = SideReport(side.direction, True, tuple(t.ref for t in iso))
    return Verdict(**head, answer=Answer.NO,
                   egress=reports.get(EGRESS, SideReport(EGRESS, False)),
                   ingress=reports.get(INGRESS, SideReport(INGRESS, False)), note=note)


def _selecting_targets(engine: Engine, base, side: Side, b: Bound) -> list[Target]:
    out = []
    for t, sel in side.targets:
        if sel is True or (sel is not False and _check(engine, *base, sel)[0] != z3.unsat):
            out.append(t)
    return out


def _blame(engine: Engine, base, side: Side, pod_b: Bound, other_b: Bound, targets: list[Target],
           flow: Flow, protocol, port) -> tuple[Mismatch, ...]:
    enc = engine.encoding
    dst_term = pod_b.term if side.direction == INGRESS else other_b.term
    found: list[tuple[int, Mismatch]] = []
    examined = 0
    for t in targets:
        sel = enc.selects(t, pod_b.term)
        for rule in t.rules:
            for pi, peer in enumerate(rule.peers):
                if examined >= engine.options.max_blame:
                    break
                examined += 1
                parts = [("policy", sel)] if sel is not True else []
                parts += enc.peer_parts(peer, other_b.term)
                parts.append(("ports", enc.ports_match(rule.ports, dst_term, flow)))
                failed = _core(engine, base, parts)
                mism = [Mismatch(rule.ref, None if name in ("ports", "policy") else pi, name,
                                 _expected(name, peer, rule),
                                 _found(name, other_b, dst_term, rule, protocol, port,
                                        engine.cluster.pods))
                        for name in failed]
                found.extend((len(failed), m) for m in mism)
    found.sort(key=lambda x: x[0])
    return tuple(m for _, m in found)


def _core(engine: Engine, base, parts: list[tuple[str, Formula]]) -> list[str]:
    """The names of a minimal set of ``parts`` that cannot hold together with ``base``."""
    failed_now = [name for name, f in parts if f is False]
    if failed_now:
        return failed_now
    s = _solver(engine)
    s.set("core.minimize", True)
    for f in base:
        s.add(f)
    lits = {}
    for i, (name, f) in enumerate(parts):
        if f is True:
            continue
        lit = z3.Bool(f"part{i}:{name}")
        s.add(z3.Implies(lit, f))
        lits[lit.get_id()] = name
    if s.check(*[z3.Bool(f"part{i}:{name}") for i, (name, f) in enumerate(parts) if f is not True]) \
            != z3.unsat:
        return []
    return [lits[c.get_id()] for c in s.unsat_core() if c.get_id() in lits]


def _expected(part: str, peer, rule) -> str:
    if part == "policy":
        return "the policy's podSelector"
    if part == "namespace" and isinstance(peer, PodPeer):
        return f"namespace {peer.namespace}"
    if part == "namespaceSelector" and isinstance(peer, PodPeer):
        return f"namespaceSelector {peer.namespace_selector}"
    if part == "podSelector" and isinstance(peer, PodPeer):
        return f"podSelector {peer.pod_selector}"
    if part == "ipBlock" and isinstance(peer, IPPeer):
        from ..model.connset import range_text, split_families
        return "ipBlock " + ",".join(range_text(lo, hi) for lo, hi in split_families(peer.addresses))
    if part == "pods":
        return "a pod selector (this peer matches pods only)"
    if part == "ports":
        m = rule.ports
        names = [f"{p} port named {n}" for p, n in m.named]
        return ",".join(([m.numeric.to_text()] if m.numeric else []) + names)
    return part


def _found(part: str, other: Bound, dst: Term, rule, protocol, port, pods=()) -> str:
    term = other.term
    if part in ("namespace", "namespaceSelector"):
        if isinstance(term, ConcretePod):
            labels = ",".join(f"{k}={v}" for k, v in sorted(term.ns_labels.items())
                              if k != NAME_LABEL)
            return f"namespace {term.sig.namespace}" + (f" ({labels})" if labels else "")
        return f"the namespaces of {other.resolved.endpoint}"
    if part == "podSelector":
        if isinstance(term, ConcretePod):
            return "labels " + (",".join(f"{k}={v}" for k, v in term.sig.labels) or "(none)")
        return f"the labels of {other.resolved.endpoint}"
    if part == "ipBlock":
        if isinstance(term, AddressTerm):
            return f"addresses {other.resolved.endpoint}"
        if isinstance(term, ConcretePod):
            ips = sorted({ip for i in term.pods for ip in pods[i].ip_texts})
            return f"pod IP {', '.join(ips)}" if ips else \
                "a pod without a known IP (an ipBlock matches a pod only by its IP)"
        return f"the IPs of {other.resolved.endpoint} (pods without a known IP never match)"
    if part == "pods":
        return f"address {other.resolved.endpoint}"
    if part == "ports":
        if port is not None:
            what = f"{protocol} {port}" if protocol else f"port {port}"
        else:
            what = f"{protocol}, any port" if protocol else "any port"
        named = rule.ports.named
        if named and not rule.ports.numeric:
            if isinstance(dst, AddressTerm):
                return f"{what} (a port name means nothing on an address)"
            if isinstance(dst, ConcretePod) and not any(
                    dst.sig.port_numbers(p, n) for p, n in named):
                return f"{what} (the destination names no such port)"
        return what
    if part == "policy":
        return "the pod is not selected"
    return ""
