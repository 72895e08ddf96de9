"""``kreach lint --format github``: GitHub Actions workflow commands, one annotation per
finding at its file and line (errors as ``::error``, warnings as ``::warning``, info as
``::notice``), and input diagnostics as in ``kreach check``."""

from __future__ import annotations

from ..diagnostics import Severity
from ..lint.findings import LintReport
from .check_github import command
from .lint_text import summary

LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}


def render(report: LintReport) -> str:
    lines = []
    for d in report.diagnostics:
        if d.severity is Severity.INFO:
            continue
        lines.append(command(LEVEL[d.severity], f"{d.code}: {d.message}", d.file, d.line,
                             f"kreach {d.code}"))
    for f in report.findings:
        lines.append(command(LEVEL[f.severity], f"{f.code}: {f.message}", f.file, f.line,
                             f"kreach lint {f.code}"))
    lines.append(f"kreach lint: {summary(report)}")
    return "\n".join(lines) + "\n"
