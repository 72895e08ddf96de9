"""The audit as Markdown, for a ticket or a pull request."""

from __future__ import annotations

from .audit import Audit
from .document import share


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _pct(part: int, whole: int) -> str:
    s = share(part, whole)
    return "-" if s is None else f"{s:.0%}"


def render(report: Audit) -> str:
    inv, cov = report.inventory, report.coverage
    policies = ", ".join(f"{n} {k}" for k, n in inv.policies) or "none"
    out = [
        "# kreach audit", "",
        f"{inv.namespaces} namespaces, {inv.workloads} workloads, {inv.pods} pods; policies: {policies}.",
        "",
        f"**Isolation:** {_pct(cov.ingress_isolated, cov.workloads)} of workloads isolated for ingress "
        f"({cov.ingress_isolated}/{cov.workloads}), {_pct(cov.egress_isolated, cov.workloads)} for egress "
        f"({cov.egress_isolated}/{cov.workloads}). "
        f"**Exposed from outside:** {len({e.workload for e in report.exposure})} workloads.",
        "", "## Isolation coverage", "",
        "| namespace | workloads | ingress isolated | egress isolated |", "|---|---:|---:|---:|",
    ]
    out += [f"| {_cell(n.namespace)} | {n.workloads} | {n.ingress_isolated} ({_pct(n.ingress_isolated, n.workloads)}) "
            f"| {n.egress_isolated} ({_pct(n.egress_isolated, n.workloads)}) |" for n in cov.namespaces]
    out += ["", "## Exposure (edge first)", ""]
    if report.exposure:
        out += ["| workload | from | ports | allowed by |", "|---|---|---|---|"]
        out += [f"| {_cell(e.workload)} | {e.source}: {_cell(', '.join(e.ranges))} | {_cell(e.conns.to_text())} "
                f"| {_cell('; '.join(map(str, e.rules)))} |" for e in report.exposure]
    else:
        out.append("No workload is reachable from outside the cluster.")
    out += ["", "## Egress to outside the cluster", ""]
    if report.egress:
        out += ["| workload | to | ports | allowed by |", "|---|---|---|---|"]
        out += [f"| {_cell(e.workload)} | {e.source}: {_cell(', '.join(e.ranges))} | {_cell(e.conns.to_text())} "
                f"| {_cell('; '.join(map(str, e.rules)))} |" for e in report.egress]
    else:
        out.append("No workload may send to addresses outside the cluster.")
    out += ["", f"## Blast radius (up to {report.hops} hops)", ""]
    if report.blast_radius:
        out += ["| exposed workload | reaches | nearest |", "|---|---:|---|"]
        for b in report.blast_radius:
            near = ", ".join(b.by_hop[0][:5]) + (" …" if b.by_hop and len(b.by_hop[0]) > 5 else "") if b.by_hop else "-"
            out.append(f"| {_cell(b.workload)} | {len(b.reachable)} | {_cell(near)} |")
    else:
        out.append("No exposed workload.")
    if report.crown_jewel_patterns:
        out += ["", f"## Crown jewels ({_cell(', '.join(report.crown_jewel_patterns))})", ""]
        for j in report.jewels:
            if j.reachable:
                path = " → ".join(["outside"] + [f"{h.dst} ({h.conns.to_text()})" for h in j.hops])
                out.append(f"- **{_cell(j.jewel)}** reachable in {_hops(len(j.hops))}: {_cell(path)}")
            else:
                out.append(f"- {_cell(j.jewel)}: no path from outside")
    if report.lint:
        out += ["", "## Lint findings", "", "| code | severity | where | message |", "|---|---|---|---|"]
        out += [f"| {f.code} | {f.severity.value} | {_cell(f.source or '')} | {_cell(f.message)} |"
                for f in report.lint]
    if report.assertions is not None:
        a = report.assertions
        out += ["", f"## Assertions ({_cell(a.file)})", "", "| assertion | status |", "|---|---|"]
        out += [f"| {_cell(r.assertion.name)} | {r.status.value} |" for r in a.results]
    for note in report.notes:
        out += ["", f"> {note}"]
    return "\n".join(out) + "\n"


def _hops(n: int) -> str:
    return f"{n} hop" if n == 1 else f"{n} hops"
