"""``isolated NS``: is every possible pod of a namespace isolated in a direction?

Proved with Z3 over a hypothetical pod with any labels: "yes" means no label assignment escapes
every policy of the namespace; "no" comes with one that does.

Isolation is the NetworkPolicy API's notion (a pod some policy selects for that direction).
Admin policies (AdminNetworkPolicy, BaselineAdminNetworkPolicy, ClusterNetworkPolicy) do not
isolate (a direction without rules has no effect) but decide before NetworkPolicies, or after them
for the baseline tier; when the input has any, the verdict says so, because an isolated pod may
still be reached through an admin Allow, and a non-isolated one may be protected by an admin Deny.
"""

from __future__ import annotations

import z3

from .endpoints import NewPod
from ..model.cluster import EGRESS, INGRESS
from .can import _hypothetical_witness, _solver, bind, input_labels
from .engine import Engine, Hypothetical, QueryError
from .verdict import Answer, IsolationVerdict


def isolated(engine: Engine, namespace: str, direction: str) -> IsolationVerdict:
    from dataclasses import replace

    verdict = _isolated(engine, namespace, direction)
    admin = engine.cluster.admin_policies
    if admin and verdict.note is None:
        kinds = ", ".join(sorted({p.kind for p in admin}))
        verdict = replace(verdict, note=(
            f"NetworkPolicy isolation only: {len(admin)} admin "
            f"{'policy decides' if len(admin) == 1 else 'policies decide'} ({kinds}) apart from it; "
            f"kreach can / kreach exposure say what gets through"))
    return verdict


def _isolated(engine: Engine, namespace: str, direction: str) -> IsolationVerdict:
    if direction not in (INGRESS, EGRESS):
        raise QueryError(f"direction must be {INGRESS} or {EGRESS}, not {direction!r}")
    enc = engine.encoding
    if namespace not in enc.ns_index:
        raise QueryError(f"namespace {namespace} is not in the input")
    b = bind(engine, Hypothetical(NewPod(namespace)), "pod")
    policies = tuple(sorted(t.ref for t in enc.targets.get((direction, namespace), ())))
    iso = enc.isolated(direction, b.term)
    if iso is True:
        return IsolationVerdict(namespace, direction, Answer.YES, None, policies)
    s = _solver(engine)
    s.add(*b.domain)
    if iso is not False:
        s.add(z3.Not(iso))
    r = s.check()
    if r == z3.unsat:
        return IsolationVerdict(namespace, direction, Answer.YES, None, policies)
    if r == z3.unknown:
        return IsolationVerdict(namespace, direction, Answer.UNKNOWN, None, policies,
                                f"solver gave up: {s.reason_unknown()}")
    facts = (*b.domain, *(() if iso is False else (z3.Not(iso),)))
    model = input_labels(engine, b, s.model(), facts)
    return IsolationVerdict(namespace, direction, Answer.NO,
                            _hypothetical_witness(enc, b, model), policies)
