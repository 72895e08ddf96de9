"""``kreach lint --format sarif``: SARIF 2.1.0 for GitHub code scanning. Every lint code is a
rule (with its docs/lint.md summary); each finding is a result at its file and line, with the
rules it names as related locations; input diagnostics are results under their KR codes."""

from __future__ import annotations

import json

from ..lint.codes import CODES
from ..lint.findings import LintReport
from ..messages import CATALOGUE
from .check_sarif import _LEVEL, _location, sarif_log

HELP_URI = "https://github.com/kreach/kreach/blob/main/docs/lint.md#"


def to_sarif(report: LintReport) -> dict:
    rules = [{"id": c.code, "name": c.name, "shortDescription": {"text": c.summary},
              "helpUri": HELP_URI + c.code.lower(),
              "defaultConfiguration": {"level": _LEVEL[c.severity]}} for c in CODES.values()]
    used = sorted({d.code for d in report.diagnostics})
    rules += [{"id": code, "name": code, "shortDescription": {"text": CATALOGUE[code][1]},
               "defaultConfiguration": {"level": _LEVEL[CATALOGUE[code][0]]}} for code in used]
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for d in report.diagnostics:
        res = {"ruleId": d.code, "ruleIndex": index[d.code], "level": _LEVEL[d.severity],
               "message": {"text": d.message}}
        if d.file:
            res["locations"] = [_location(d.file, d.line)]
        results.append(res)
    for f in report.findings:
        res = {"ruleId": f.code, "ruleIndex": index[f.code], "level": _LEVEL[f.severity],
               "message": {"text": f.message},
               "partialFingerprints": {"kreachLint/v1": f"{f.code}:{f.policy or f.subject}:"
                                                         f"{f.rule.index if f.rule else ''}"}}
        if f.file:
            res["locations"] = [_location(f.file, f.line)]
        related = [_location(r.source.file, None, str(r), i)
                   for i, r in enumerate(f.related, start=1) if r.source is not None]
        if related:
            res["relatedLocations"] = related
        results.append(res)
    return sarif_log(rules, results, "The directory kreach lint ran in.")


def render(report: LintReport) -> str:
    return json.dumps(to_sarif(report), indent=2) + "\n"
