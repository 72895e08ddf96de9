"""``kreach compare --format json``: the ``kreach.compare/v1`` document (docs/output.md)."""

from __future__ import annotations

import json

from .. import __version__
from ..compare import Comparison, Witness, strongly_equivalent
from ..lint.findings import rule_dict

SCHEMA = "kreach.compare/v1"


def _rule(r) -> dict:
    d = rule_dict(r)
    d["line"] = r.source.line if r.source else None
    return d


def witness_json(w: Witness | None) -> dict | None:
    if w is None:
        return None
    return {"src": w.src, "dst": w.dst, "protocol": w.protocol, "port": w.port,
            "allowed": w.allowed.to_text(), "other_side_allows": w.denied.to_text() if w.denied else None,
            "allowed_by": [_rule(r) for r in w.allowed_by],
            "isolated_by": [_rule(r) for r in w.isolated_by]}


def comparison_json(c: Comparison) -> dict:
    return {"relation": c.relation, "equivalent": c.equivalent,
            "a_in_b": c.relation in ("equivalent", "a-in-b"),
            "b_in_a": c.relation in ("equivalent", "b-in-a"),
            "only_in_a": witness_json(c.only_in_a), "only_in_b": witness_json(c.only_in_b),
            "pods_only_in_a": list(c.pods_only_in_a), "pods_only_in_b": list(c.pods_only_in_b)}


def to_json(c: Comparison, a: list[str], b: list[str], diagnostics=()) -> dict:
    out = {"schema": SCHEMA, "kreach": __version__, "a": a, "b": b, **comparison_json(c)}
    if c.per_policy:
        out["strongly_equivalent"] = strongly_equivalent(c)
        out["per_policy"] = [{"policy": pid, **comparison_json(p)} for pid, p in c.per_policy]
    out["diagnostics"] = [d.to_dict() for d in diagnostics]
    return out


def render(c: Comparison, a: list[str], b: list[str], diagnostics=()) -> str:
    return json.dumps(to_json(c, a, b, diagnostics), indent=2) + "\n"
