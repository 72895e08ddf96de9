"""The ``kreach.verdict/v1`` JSON document (schema in docs/queries.md)."""

from __future__ import annotations

import json
from typing import Any, Callable

from ..engine.compile import RuleRef
from ..query.verdict import AddressWitness, PodWitness, SideReport, Verdict

SCHEMA = "kreach.verdict/v1"

Locate = Callable[[RuleRef], "tuple[str, int | None] | None"]  # rule -> (file, line)


def rule(ref: RuleRef, locate: Locate) -> dict[str, Any]:
    if ref.is_default:
        return {"policy": None, "kind": "default", "direction": ref.direction.lower(),
                "reason": "not isolated"}
    where = locate(ref)
    return {"policy": ref.policy, "kind": ref.kind, "direction": ref.direction.lower(),
            "rule": ref.index, "file": where[0] if where else None,
            "line": where[1] if where else None}


def endpoint(e) -> dict[str, Any]:
    if isinstance(e, AddressWitness):
        return {"type": "address", "address": e.address}
    assert isinstance(e, PodWitness)
    if not e.hypothetical:
        return {"type": "pod", "namespace": e.namespace, "name": e.name, "workload": e.workload,
                "labels": dict(e.labels)}
    return {"type": "hypothetical", "namespace": e.namespace, "labels": dict(e.labels),
            "absent": list(e.absent),
            "ports": [{"protocol": p, "name": n, "port": num} for p, n, num in e.ports],
            "namespace_labels": None if e.namespace_labels is None else dict(e.namespace_labels)}


def side(s: SideReport | None, locate: Locate) -> dict[str, Any] | None:
    if s is None or not s.applies:
        return None
    return {"isolated_by": [rule(r, locate) for r in s.isolated_by],
            "allowed_by": [rule(r, locate) for r in s.allowed_by],
            "blocks": s.blocks,
            "denied_by": [rule(r, locate) for r in s.denied_by],
            "mismatches": [{"rule": rule(m.rule, locate), "peer": m.peer, "part": m.part,
                            "expected": m.expected, "found": m.found} for m in s.mismatches]}


def document(v: Verdict, locate: Locate) -> dict[str, Any]:
    w = v.witness
    return {
        "schema": SCHEMA,
        "query": {"src": v.src, "dst": v.dst, "protocol": v.protocol, "port": v.port},
        "answer": v.answer.value,
        "witness": None if w is None else {"src": endpoint(w.src), "dst": endpoint(w.dst),
                                           "protocol": w.protocol, "port": w.port},
        "egress": side(v.egress, locate),
        "ingress": side(v.ingress, locate),
        "note": v.note,
    }


def render(v: Verdict, locate: Locate = lambda ref: None) -> str:
    return json.dumps(document(v, locate), indent=1) + "\n"


def render_peers(report, locate: Locate = lambda ref: None) -> str:
    doc = {"schema": "kreach.peers/v1", "endpoint": report.endpoint, "direction": report.direction,
           "port": report.port,
           "peers": [{"group": r.group, "name": r.name, "namespace": r.namespace,
                      "protocols": r.conns.to_json() if r.conns is not None else None,
                      "witness": None if r.witness is None else {
                          "src": endpoint(r.witness.src), "dst": endpoint(r.witness.dst),
                          "protocol": r.witness.protocol, "port": r.witness.port}}
                     for r in report.rows],
           "unknown": list(report.unknown)}
    return json.dumps(doc, indent=1) + "\n"


def render_isolation(v, locate: Locate = lambda ref: None) -> str:
    doc = {"schema": "kreach.isolation/v1", "namespace": v.namespace,
           "direction": v.direction.lower(), "answer": v.answer.value,
           "escape": None if v.escape is None else endpoint(v.escape),
           "policies": [rule(r, locate) for r in v.policies], "note": v.note}
    return json.dumps(doc, indent=1) + "\n"


def selector(sel) -> dict[str, Any] | None:
    """A label selector as the API writes it, matchLabels for one-valued ``In``."""
    if sel is None:
        return None
    labels = {r.key: next(iter(r.values)) for r in sel.requirements
              if r.operator == "In" and len(r.values) == 1}
    exprs = [{"key": r.key, "operator": r.operator, "values": sorted(r.values)}
             for r in sel.requirements if not (r.operator == "In" and len(r.values) == 1)]
    return {"matchLabels": labels, "matchExpressions": exprs}


def peer(p) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": p.kind, "text": str(p)}
    if p.kind == "external":
        out["ranges"] = list(p.ranges)
    elif p.kind in ("namespaces", "pods"):
        out["namespace"] = p.namespace
        out["namespace_selector"] = selector(p.namespace_selector)
        out["pod_selector"] = selector(p.pod_selector)
    return out


def route(reached, locate: Locate) -> dict[str, Any]:
    r = reached.route
    return {"kind": r.kind, "name": r.name, "service": r.service, "workload": r.workload,
            "protocol": r.protocol, "port": r.port, "admitted": reached.admitted,
            "file": r.source.file, "line": r.source.line or None}


def exposure_document(report, locate: Locate = lambda ref: None) -> dict[str, Any]:
    return {"schema": "kreach.exposure/v2",
            "findings": [{"severity": f.severity, "direction": f.direction,
                          "workload": f.workload, "peer": peer(f.peer),
                          "conns": f.conns.to_json(),
                          "named_ports": [list(n) for n in f.named_ports],
                          "allowed_by": [rule(r, locate) for r in f.allowed_by],
                          "witness": None if f.witness is None else {
                              "src": endpoint(f.witness.src), "dst": endpoint(f.witness.dst),
                              "protocol": f.witness.protocol, "port": f.witness.port},
                          "edge": [route(r, locate) for r in f.edge]}
                         for f in report.findings],
            "dead_routes": [route(r, locate) for r in report.dead_routes],
            "unknown": list(report.unknown)}


def render_exposure(report, locate: Locate = lambda ref: None) -> str:
    return json.dumps(exposure_document(report, locate), indent=1) + "\n"
