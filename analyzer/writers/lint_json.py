"""``kreach lint --format json``: the report as one JSON document, schema
``kreach.lint/v1`` (docs/output.md)."""

from __future__ import annotations

import json

from .. import __version__
from ..diagnostics import Severity
from ..lint.findings import LintReport

SCHEMA = "kreach.lint/v1"


def to_json(report: LintReport) -> dict:
    return {
        "schema": SCHEMA,
        "kreach": __version__,
        "summary": {"findings": len(report.findings),
                    **{s.value: report.count(s) for s in Severity},
                    "suppressed": len(report.suppressed),
                    "failing": len(report.failing()),
                    "fail_on": report.settings.fail_on.value},
        "findings": [f.to_dict() for f in report.findings],
        "suppressed": [{**f.to_dict(), "reason": reason} for f, reason in report.suppressed],
        "diagnostics": [d.to_dict() for d in report.diagnostics],
    }


def render(report: LintReport) -> str:
    return json.dumps(to_json(report), indent=2) + "\n"
