"""The ``kreach.connectivity/v1`` JSON document (schema in docs/output.md)."""

from __future__ import annotations

import json
from typing import Any, Iterator

from ..analysis import Analysis
from ..engine.compile import RuleRef
from .rows import rows

SCHEMA = "kreach.connectivity/v1"


def endpoint(data: dict[str, Any]) -> dict[str, Any]:
    t = data["type"]
    if t == "workload":
        return {"type": t, "namespace": data["namespace"], "name": data["name"],
                "kind": data["kind"], "pods": data["pods"], "labels": data["labels"]}
    if t == "pod":
        out = {"type": t, "namespace": data["namespace"], "name": data["name"],
               "workload": data["workload"]}
        if data.get("ips"):
            out["ips"] = list(data["ips"])
        return out
    if t == "ingress-controller":  # the cluster's edge: an Ingress/Route/HTTPRoute forwards for it
        return {"type": t}
    return {"type": t, "ranges": list(data["ranges"])}


def rule_ref(ref: RuleRef, analysis: Analysis, cache: dict) -> dict[str, Any]:
    hit = cache.get(ref)
    if hit is not None:
        return hit
    if ref.is_default:
        out: dict[str, Any] = {"policy": None, "kind": "default", "direction": ref.direction.lower(),
                               "reason": "not isolated"}
    else:
        src = ref.source
        line = analysis.locator.line(src, ref.path) if src is not None else None
        out = {"policy": ref.policy, "kind": ref.kind, "direction": ref.direction.lower(),
               "rule": ref.index, "file": src.file if src else None, "line": line}
        if ref.action is not None:  # admin policies: the rule's action and the priority
            out["action"] = ref.action
            out["priority"] = ref.priority
    cache[ref] = out
    return out


def document(analysis: Analysis) -> dict[str, Any]:
    nodes = analysis.view.nodes
    cache: dict = {}
    refs = lambda rs: [rule_ref(r, analysis, cache) for r in sorted(rs, key=_ref_key)]  # noqa: E731
    return {
        "schema": SCHEMA,
        "level": analysis.options.level,
        "endpoints": {node: endpoint(data) for node, data in sorted(nodes.items())},
        "connections": [
            {"src": r.src, "dst": r.dst, "protocols": r.conns.to_json(),
             "allowed_by": {"egress": refs(r.egress), "ingress": refs(r.ingress)}}
            for r in rows(analysis)],
        "diagnostics": [d.to_dict() for d in analysis.diagnostics],
    }


def _ref_key(r: RuleRef) -> tuple:
    return (r.policy or "", r.index if r.index is not None else -1)


def lines(analysis: Analysis) -> Iterator[str]:
    """The document with one endpoint, connection or diagnostic per line: readable and diffable,
    and fast (each line goes through the C encoder; ``indent=`` would not). Connections are
    made and written one at a time, so memory does not grow with the size of the output."""
    dumps = json.dumps
    nodes = analysis.view.nodes
    cache: dict = {}

    def refs(rs):
        return [rule_ref(r, analysis, cache) for r in sorted(rs, key=_ref_key)]

    def block(items: Iterator[str], opener: str, closer: str) -> Iterator[str]:
        first = True
        for item in items:
            yield (opener + "\n  " if first else ",\n  ") + item
            first = False
        yield opener + closer if first else "\n " + closer

    yield "{\n"
    yield f' "schema": {dumps(SCHEMA)},\n'
    yield f' "level": {dumps(analysis.options.level)},\n'
    yield ' "endpoints": '
    yield from block((f"{dumps(k)}: {dumps(endpoint(v))}" for k, v in sorted(nodes.items())),
                     "{", "}")
    yield ',\n "connections": '
    yield from block(_connection_lines(analysis, refs), "[", "]")
    yield ',\n "diagnostics": '
    yield from block((dumps(d.to_dict()) for d in analysis.diagnostics), "[", "]")
    yield "\n}\n"


def _connection_lines(analysis: Analysis, refs) -> Iterator[str]:
    """Each connection as ``json.dumps`` of its object would write it. A class-level allowance
    stands for many pairs, and every source and destination name recurs, so what follows
    ``"dst"`` is encoded once per allowance and each name once (a third of ``list``'s writing
    time at 150k pods)."""
    dumps = json.dumps
    names: dict[str, str] = {}
    tails: dict[tuple, str] = {}
    for r in rows(analysis):
        key = (r.conns, r.egress, r.ingress)
        tail = tails.get(key)
        if tail is None:
            tail = tails[key] = (f', "protocols": {dumps(r.conns.to_json())}, "allowed_by": '
                                 f'{dumps({"egress": refs(r.egress), "ingress": refs(r.ingress)})}}}')
        src = names.get(r.src)
        if src is None:
            src = names[r.src] = dumps(r.src)
        dst = names.get(r.dst)
        if dst is None:
            dst = names[r.dst] = dumps(r.dst)
        yield f'{{"src": {src}, "dst": {dst}{tail}'


def render(analysis: Analysis) -> str:
    return "".join(lines(analysis))
