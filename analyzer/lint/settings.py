"""``[tool.kreach.lint]``: which codes to report, their severities, and when to fail.

    [tool.kreach.lint]
    select = ["KRL1", "KRL3"]          # codes or prefixes; default: every code
    ignore = ["KRL102"]
    fail-on = "warning"                # lowest severity that fails: error | warning | info
    severity = { KRL102 = "warning" }  # per-code overrides
    edge-workloads = ["shop/web[Deployment]"]   # exposed on purpose (KRL302)

Command-line ``--select``/``--ignore`` replace the table's lists. Problems are diagnostics
(KR501, KR502), never exceptions.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..diagnostics import Diagnostic, Severity
from ..messages import diagnostic
from ..source import SourceRef
from .codes import expand
from .findings import LintSettings

KEYS = ("select", "ignore", "fail-on", "severity", "edge-workloads")
SEVERITIES = {s.value: s for s in Severity}


def _codes(value: Any, where: str, source: SourceRef | None,
           diags: list[Diagnostic]) -> frozenset[str] | None:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        diags.append(diagnostic("KR501", source, detail=f"{where} must be a list of codes, "
                                f"not {value!r}"))
        return None
    codes, unknown = expand(value)
    for u in unknown:
        diags.append(diagnostic("KR502", source, where=where, pattern=u))
    return frozenset(codes)


def lint_settings(table: dict | None, *, source: str | None = None,
                  select: Sequence[str] | None = None, ignore: Sequence[str] | None = None,
                  fail_on: str | None = None) -> tuple[LintSettings, tuple[Diagnostic, ...]]:
    """Settings from the ``[tool.kreach.lint]`` table (may be None) and the command line."""
    table = table or {}
    where = SourceRef(source) if source else None
    diags: list[Diagnostic] = []
    for key in table:
        if key not in KEYS:
            diags.append(diagnostic("KR501", where, detail=f"unknown key {key!r}; expected one "
                                    f"of {', '.join(KEYS)}"))
    sel = None
    if select is not None:
        sel = _codes(list(select), "--select", None, diags)
    elif "select" in table:
        sel = _codes(table["select"], "[tool.kreach.lint] select", where, diags)
    ign: frozenset[str] | None = frozenset()
    if ignore is not None:
        ign = _codes(list(ignore), "--ignore", None, diags)
    elif "ignore" in table:
        ign = _codes(table["ignore"], "[tool.kreach.lint] ignore", where, diags)
    floor_text = fail_on if fail_on is not None else table.get("fail-on", "warning")
    floor = SEVERITIES.get(floor_text) if isinstance(floor_text, str) else None
    if floor is None:
        diags.append(diagnostic("KR501", where, detail=f"fail-on must be one of "
                                f"{', '.join(SEVERITIES)}, not {floor_text!r}"))
        floor = Severity.WARNING
    overrides: list[tuple[str, Severity]] = []
    sev = table.get("severity", {})
    if not isinstance(sev, dict):
        diags.append(diagnostic("KR501", where, detail=f"severity must be a table of code = "
                                f"severity, not {sev!r}"))
        sev = {}
    for pattern, value in sev.items():
        codes = _codes([pattern], "[tool.kreach.lint] severity", where, diags) or frozenset()
        if value not in SEVERITIES:
            diags.append(diagnostic("KR501", where, detail=f"severity of {pattern} must be one of "
                                    f"{', '.join(SEVERITIES)}, not {value!r}"))
            continue
        overrides += [(c, SEVERITIES[value]) for c in sorted(codes)]
    edge = table.get("edge-workloads", [])
    if not isinstance(edge, list) or not all(isinstance(e, str) for e in edge):
        diags.append(diagnostic("KR501", where, detail=f"edge-workloads must be a list of "
                                f"workload ids (ns/name[Kind]), not {edge!r}"))
        edge = []
    return LintSettings(sel, ign or frozenset(), tuple(overrides), floor, tuple(edge)), tuple(diags)
