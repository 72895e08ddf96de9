"""The audit as a terminal summary (rich tables; colours only when writing to a terminal)."""

from __future__ import annotations

import io

from .audit import Audit
from .document import share


def _pct(part: int, whole: int) -> str:
    s = share(part, whole)
    return "-" if s is None else f"{s:.0%}"


def render(report: Audit, color: bool = False, width: int = 100) -> str:
    from rich.console import Console
    from rich.table import Table

    buf = io.StringIO()
    console = Console(file=buf, force_terminal=color, no_color=not color, width=width,
                      highlight=False, soft_wrap=True)
    inv, cov = report.inventory, report.coverage
    policies = ", ".join(f"{n} {k}" for k, n in inv.policies) or "no policies"
    console.print(f"[bold]kreach audit[/bold]: {inv.namespaces} namespaces, {inv.workloads} workloads, "
                  f"{inv.pods} pods; {policies}")
    console.print(f"isolated for ingress: {_pct(cov.ingress_isolated, cov.workloads)} "
                  f"({cov.ingress_isolated}/{cov.workloads}); for egress: "
                  f"{_pct(cov.egress_isolated, cov.workloads)} ({cov.egress_isolated}/{cov.workloads})")

    t = Table(title="Isolation coverage", title_justify="left")
    for col, just in (("namespace", "left"), ("workloads", "right"), ("ingress", "right"), ("egress", "right")):
        t.add_column(col, justify=just)
    for n in cov.namespaces:
        t.add_row(n.namespace, str(n.workloads),
                  _styled(f"{n.ingress_isolated} ({_pct(n.ingress_isolated, n.workloads)})", n.ingress_isolated, n.workloads),
                  _styled(f"{n.egress_isolated} ({_pct(n.egress_isolated, n.workloads)})", n.egress_isolated, n.workloads))
    console.print(t)

    if report.exposure:
        t = Table(title="Exposure from outside (edge first)", title_justify="left")
        for col in ("workload", "from", "ports", "allowed by"):
            t.add_column(col)
        for e in report.exposure:
            src = "[red]" + e.source + "[/red]" if e.source in ("internet", "edge") else e.source
            t.add_row(e.workload, f"{src}: {', '.join(e.ranges)}", e.conns.to_text(),
                      "\n".join(map(str, e.rules)))
        console.print(t)
    else:
        console.print("no workload is reachable from outside the cluster")

    if report.egress:
        console.print(f"egress to outside the cluster: {_count(len(report.egress), 'workload')} may send there "
                      "(--format md/json/html lists them)")
    if report.blast_radius:
        t = Table(title=f"Blast radius (up to {report.hops} hops)", title_justify="left")
        t.add_column("exposed workload")
        t.add_column("reaches", justify="right")
        t.add_column("one hop away")
        for b in report.blast_radius[:20]:
            first = b.by_hop[0] if b.by_hop else ()
            t.add_row(b.workload, str(len(b.reachable)),
                      ", ".join(first[:4]) + (" …" if len(first) > 4 else ""))
        console.print(t)
    for j in report.jewels:
        if j.reachable:
            path = " -> ".join(["outside"] + [f"{h.dst} ({h.conns.to_text()})" for h in j.hops])
            console.print(f"[bold red]crown jewel {j.jewel}[/bold red] reachable in {_hops(len(j.hops))}: {path}")
        else:
            console.print(f"[green]crown jewel {j.jewel}[/green]: no path from outside")
    if report.lint:
        counts: dict[str, int] = {}
        for f in report.lint:
            counts[f.severity.value] = counts.get(f.severity.value, 0) + 1
        console.print("lint: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
                      + " (kreach lint lists them)")
    if report.assertions is not None:
        a = report.assertions
        failed = sum(1 for r in a.results if not r.passed)
        console.print(f"assertions ({a.file}): {len(a.results) - failed} passed, {failed} not passed")
    for note in report.notes:
        console.print(f"note: {note}")
    return buf.getvalue()


def _styled(text: str, part: int, whole: int) -> str:
    if not whole:
        return text
    colour = "green" if part == whole else "red" if part == 0 else "yellow"
    return f"[{colour}]{text}[/{colour}]"


def _hops(n: int) -> str:
    return f"{n} hop" if n == 1 else f"{n} hops"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
