"""``kreach lint`` as text: ``file:line: severity[CODE]: message``, one line per finding (as
compilers and ruff print), then a summary. Suppressed findings are counted, not shown."""

from __future__ import annotations

from ..diagnostics import Severity
from ..lint.findings import LintReport


def summary(report: LintReport) -> str:
    n = len(report.findings)
    if not n:
        head = "no findings"
    else:
        parts = [f"{report.count(s)} {s.value}" for s in (Severity.ERROR, Severity.WARNING,
                                                          Severity.INFO) if report.count(s)]
        head = f"{n} finding{'s' if n != 1 else ''} ({', '.join(parts)})"
    if report.suppressed:
        head += f", {len(report.suppressed)} suppressed"
    return head


def render(report: LintReport) -> str:
    lines = [str(f) for f in report.findings]
    lines.append(summary(report))
    return "\n".join(lines) + "\n"
