"""The ``kreach.diff/v1`` JSON document (schema in docs/output.md). Endpoints are written exactly
as in ``kreach.connectivity/v1``, connection sets in its ``protocols`` encoding."""

from __future__ import annotations

import json
from typing import Any

from ..diff.model import Diff, RuleAt
from .json_writer import endpoint

SCHEMA = "kreach.diff/v1"


def rule(r: RuleAt) -> dict[str, Any]:
    ref = r.ref
    if ref.is_default:
        return {"policy": None, "kind": "default", "direction": ref.direction.lower(),
                "reason": "not isolated"}
    return {"policy": ref.policy, "kind": ref.kind, "direction": ref.direction.lower(),
            "rule": ref.index, "file": r.file, "line": r.line}


def document(d: Diff) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "level": d.level,
        "old": d.old_label,
        "new": d.new_label,
        "summary": {"added": d.count("added"), "removed": d.count("removed"),
                    "changed": d.count("changed"), "new_endpoints": len(d.new_endpoints),
                    "removed_endpoints": len(d.removed_endpoints)},
        "endpoints": {k: endpoint(v) for k, v in sorted(d.endpoints.items())},
        "new_endpoints": list(d.new_endpoints),
        "removed_endpoints": list(d.removed_endpoints),
        "changes": [
            {"src": c.src, "dst": c.dst, "change": c.change,
             "before": c.before.to_json(), "after": c.after.to_json(),
             "rules_before": [rule(r) for r in c.rules_before],
             "rules_after": [rule(r) for r in c.rules_after],
             "new_endpoints": list(c.new_endpoints), "removed_endpoints": list(c.removed_endpoints)}
            for c in d.changes],
        "diagnostics": [x.to_dict() for x in d.diagnostics],
    }


def render(d: Diff) -> str:
    """One endpoint, change or diagnostic per line, like ``kreach.connectivity/v1``."""
    doc = document(d)
    dumps = json.dumps

    def block(items: list[str], opener: str, closer: str) -> str:
        if not items:
            return opener + closer
        return opener + "\n  " + ",\n  ".join(items) + "\n " + closer

    parts = [f" {dumps(k)}: {dumps(doc[k])}" for k in
             ("schema", "level", "old", "new", "summary")]
    parts.append(' "endpoints": ' + block([f"{dumps(k)}: {dumps(v)}" for k, v in doc["endpoints"].items()],
                                          "{", "}"))
    parts += [f' "{k}": {dumps(doc[k])}' for k in ("new_endpoints", "removed_endpoints")]
    parts.append(' "changes": ' + block([dumps(c) for c in doc["changes"]], "[", "]"))
    parts.append(' "diagnostics": ' + block([dumps(x) for x in doc["diagnostics"]], "[", "]"))
    return "{\n" + ",\n".join(parts) + "\n}\n"
