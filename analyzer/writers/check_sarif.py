"""``kreach check --format sarif``: SARIF 2.1.0 for GitHub code scanning and other SARIF
viewers. One result per failed assertion, located at the assertion, with the responsible policy
rules as related locations; input diagnostics are results too, under their KR codes."""

from __future__ import annotations

import json

from .. import __version__
from ..assertions.loader import KIND_KEYS
from ..assertions.results import CheckReport, Status
from ..diagnostics import Severity
from ..messages import CATALOGUE
from .ci_paths import repo_path

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
KIND_HELP = {
    "reach": "A connection from one endpoint to another is allowed or denied as expected.",
    "only-from": "Exactly the listed endpoints reach a destination.",
    "only-to": "A source reaches exactly the listed endpoints.",
    "isolated": "Every possible pod of a namespace is isolated.",
    "exposure": "Nothing but the listed workloads is exposed.",
    "max-reachable": "A source reaches at most a given number of workloads.",
}
_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def _location(file: str, line: int | None, message: str | None = None, id_: int | None = None) -> dict:
    physical: dict = {"artifactLocation": {"uri": repo_path(file), "uriBaseId": "%SRCROOT%"}}
    if line:
        physical["region"] = {"startLine": line}
    loc: dict = {"physicalLocation": physical}
    if id_ is not None:
        loc["id"] = id_
    if message:
        loc["message"] = {"text": message}
    return loc


def sarif_log(rules: list, results: list, root: str) -> dict:
    """The SARIF 2.1.0 log of one kreach run: its rules and results; ``root`` describes
    ``%SRCROOT%``, the base of every location's path."""
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "kreach", "version": __version__, "rules": rules}},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": root}}},
            "results": results,
        }],
    }


def to_sarif(report: CheckReport) -> dict:
    rules = [{"id": f"kreach/{kind}", "name": kind.replace("-", " ").title().replace(" ", ""),
              "shortDescription": {"text": KIND_HELP[kind]},
              "defaultConfiguration": {"level": "error"}}
             for kind in KIND_KEYS]
    used_codes = sorted({d.code for d in report.diagnostics}
                        | {d.code for r in report.results for d in r.diagnostics})
    rules += [{"id": code, "name": code, "shortDescription": {"text": CATALOGUE[code][1]},
               "defaultConfiguration": {"level": _LEVEL[CATALOGUE[code][0]]}} for code in used_codes]
    index = {r["id"]: i for i, r in enumerate(rules)}
    results = []
    for d in list(report.diagnostics) + [d for r in report.results for d in r.diagnostics]:
        res = {"ruleId": d.code, "ruleIndex": index[d.code], "level": _LEVEL[d.severity],
               "message": {"text": d.message}}
        if d.file:
            res["locations"] = [_location(d.file, d.line)]
        results.append(res)
    for r in report.results:
        if r.passed or r.status is Status.ERROR:  # errors were reported through their diagnostics
            continue
        a = r.assertion
        rule_id = f"kreach/{a.kind}"
        text = f"Assertion '{a.name}' {r.status.value}: expected {r.expected}; found {r.found}."
        if r.examples:
            e = r.examples[0]
            text += f" Counterexample: {e.src} -> {e.dst} {e.flow_text()}".rstrip() + "."
        related = [_location(h.file, h.line, f"{h.text} ({h.role})", i)
                   for i, h in enumerate((h for h in r.rules if h.file), start=1)]
        if related:
            text += " Responsible: " + ", ".join(f"[{h['message']['text']}]({h['id']})"
                                                 for h in related) + "."
        res = {"ruleId": rule_id, "ruleIndex": index[rule_id],
               "level": "error" if r.status is Status.FAILED else "warning",
               "message": {"text": text},
               "locations": [_location(a.source.file, a.source.line)],
               "partialFingerprints": {"kreachAssertion/v1": f"{repo_path(a.source.file)}:{a.name}"}}
        if related:
            res["relatedLocations"] = related
        results.append(res)
    return sarif_log(rules, results, "The root of the repository kreach ran in.")


def render(report: CheckReport) -> str:
    return json.dumps(to_sarif(report), indent=2) + "\n"
