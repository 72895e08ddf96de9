"""``kreach check --format github``: GitHub Actions workflow commands. Each failed assertion
gives one ``::error`` at the assertion and one at every policy rule responsible, so both the
YAML that asserts and the NetworkPolicy that breaks it are annotated in the pull request."""

from __future__ import annotations

from ..assertions.results import CheckReport, Status
from ..diagnostics import Severity
from .ci_paths import repo_path


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def command(level: str, message: str, file: str | None = None, line: int | None = None,
            title: str | None = None) -> str:
    props = []
    if file:
        props.append(f"file={_prop(repo_path(file))}")
        if line:
            props.append(f"line={line}")
    if title:
        props.append(f"title={_prop(title)}")
    return f"::{level}{' ' + ','.join(props) if props else ''}::{_data(message)}"


def render(report: CheckReport) -> str:
    lines = []
    for d in report.diagnostics:
        if d.severity is Severity.INFO:
            continue
        lines.append(command("error" if d.severity is Severity.ERROR else "warning",
                             f"{d.code}: {d.message}", d.file, d.line, f"kreach {d.code}"))
    for r in report.results:
        if r.passed:
            continue
        a = r.assertion
        level = "error"
        title = f"kreach: {a.name}"
        what = "failed" if r.status is Status.FAILED else r.status.value
        example = ""
        if r.examples:
            e = r.examples[0]
            flow = e.flow_text() or e.asked_text()
            example = f"; e.g. {e.src} -> {e.dst}" + (f" {flow}" if flow else "")
        lines.append(command(level, f"assertion {what}: expected {r.expected}; found {r.found}"
                             f"{example}", a.source.file, a.source.line, title))
        for d in r.diagnostics:
            lines.append(command("error", f"{d.code}: {d.message}", d.file, d.line, title))
        for rule in r.rules:
            if rule.file is None:
                continue
            verb = {"allows": "allows the connection", "isolates": "isolates the pod",
                    "close": "is the closest rule"}.get(rule.role, rule.role)
            lines.append(command(level, f"{rule.text} {verb} that breaks assertion {a.name!r} "
                                 f"({a.source})", rule.file, rule.line, title))
    n, failed = len(report.results), sum(1 for r in report.results if not r.passed)
    lines.append(f"kreach check: {n - failed} of {n} assertions passed")
    return "\n".join(lines) + "\n"
