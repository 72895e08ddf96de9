"""``kreach check`` as text: one line per assertion; a failure adds expected, found, the
counterexample and the rules responsible, each rule with file:line."""

from __future__ import annotations

from ..assertions.results import CheckReport, Example, Result, Status

TAGS = {Status.PASSED: "PASS", Status.FAILED: "FAIL", Status.UNKNOWN: "UNKNOWN", Status.ERROR: "ERROR"}
ROLES = {"allows": "allowed by", "isolates": "isolated by", "close": "closest rule",
         "default": "allowed by default:"}


def example_lines(e: Example, indent: str = "      ") -> list[str]:
    flow = e.flow_text() or e.asked_text()  # a blocked pair keeps the port it was asked about
    lines = [f"{e.src} -> {e.dst}" + (f" {flow}" if flow else "")]
    for r in e.rules:
        where = f" ({r.location})" if r.location else ""
        side = f"{r.direction.lower()} " if r.direction and r.role != "default" else ""
        lines.append(f"{indent}  {side}{ROLES.get(r.role, r.role)} {r.text}{where}")
    return lines


def result_lines(r: Result) -> list[str]:
    a = r.assertion
    head = f"{TAGS[r.status]:7} {a.name}  ({a.source})"
    if r.passed:
        return [head]
    lines = [head, f"        expected: {r.expected}", f"        found:    {r.found}"]
    for e in r.examples:
        # an example with a flow is a connection that exists; without one it is the pair whose
        # connection is blocked, shown with the policies that block it
        label = ("blocked" if e.is_blocked else
                 "counterexample" if r.status is Status.FAILED else "example")
        first, *rest = example_lines(e, "        ")
        lines.append(f"        {label}: {first}")
        lines += rest
    lines += [f"        note: {n}" for n in r.notes]
    lines += [f"        {d}" for d in r.diagnostics]
    return lines


def summary(report: CheckReport) -> str:
    parts = [f"{report.count(s)} {s.value}" for s in Status if report.count(s)]
    n = len(report.results)
    return f"{n} assertion{'s' if n != 1 else ''}: " + (", ".join(parts) or "none run")


def render(report: CheckReport) -> str:
    lines: list[str] = []
    for r in report.results:
        lines += result_lines(r)
    lines.append(summary(report))
    return "\n".join(lines) + "\n"
