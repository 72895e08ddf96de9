"""``kreach check --format json``: the report as one JSON document (schema in docs/ci.md)."""

from __future__ import annotations

import json

from .. import __version__
from ..assertions.results import CheckReport, Example, Result, RuleHit, Status

SCHEMA_VERSION = 1


def rule_json(r: RuleHit) -> dict:
    return {"rule": r.text, "role": r.role, "direction": r.direction.lower(), "policy": r.policy,
            "index": r.index, "file": r.file, "line": r.line}


def example_json(e: Example) -> dict:
    return {"src": e.src, "dst": e.dst, "protocol": e.protocol, "port": e.port,
            "allowed": e.conns, "rules": [rule_json(r) for r in e.rules]}


def result_json(r: Result) -> dict:
    a = r.assertion
    return {"name": a.name, "kind": a.kind, "status": r.status.value, "file": a.source.file,
            "line": a.source.line, "description": a.description, "expected": r.expected,
            "found": r.found, "examples": [example_json(e) for e in r.examples],
            "notes": list(r.notes), "diagnostics": [d.to_dict() for d in r.diagnostics]}


def to_json(report: CheckReport) -> dict:
    return {
        "version": SCHEMA_VERSION,
        "kreach": __version__,
        "file": report.file,
        "manifests": list(report.manifests),
        "summary": {"total": len(report.results), **{s.value: report.count(s) for s in Status}},
        "results": [result_json(r) for r in report.results],
        "diagnostics": [d.to_dict() for d in report.diagnostics],
    }


def render(report: CheckReport) -> str:
    return json.dumps(to_json(report), indent=2) + "\n"
