"""A query verdict as text: the answer first, then the witness, then each side's rules."""

from __future__ import annotations

from typing import Callable

from ..engine.compile import RuleRef
from ..query.verdict import describe_endpoint, SideReport, Verdict

Locate = Callable[[RuleRef], "str | None"]  # rule -> "file:line" (or None)

MAX_MISMATCHES = 6


def ref_text(ref: RuleRef, locate: Locate) -> str:
    where = locate(ref) if not ref.is_default else None
    return f"{ref}" + (f" ({where})" if where else "")


def endpoint_text(e) -> str:
    return describe_endpoint(e)


def query_text(v: Verdict) -> str:
    flow = ""
    if v.protocol or v.port:
        flow = " " + " ".join(str(x) for x in (v.protocol, v.port) if x)
    return f"{v.src} -> {v.dst}{flow}"


def side_lines(side: SideReport | None, locate: Locate) -> list[str]:
    if side is None or not side.applies:
        return []
    d = side.direction.lower()
    out = []
    if side.allowed_by and all(r.is_default for r in side.allowed_by):
        out.append(f"  {d}: allowed: no policy isolates this side for {d}")
    elif side.allowed_by:
        out.append(f"  {d}: allowed by " + "; ".join(ref_text(r, locate) for r in side.allowed_by
                                                     if not r.is_default))
    elif side.blocks and side.denied_by:
        # an admin Deny decides before any NetworkPolicy is consulted: it alone is the reason
        out.append(f"  {d}: denied by " + "; ".join(ref_text(r, locate) for r in side.denied_by))
    elif side.blocks:
        out.append(f"  {d}: denied; isolated by "
                   + "; ".join(ref_text(r, locate) for r in side.isolated_by))
        shown = side.mismatches[:MAX_MISMATCHES]
        for m in shown:
            peer = f" peer #{m.peer}" if m.peer is not None and m.part != "ports" else ""
            out.append(f"    {ref_text(m.rule, locate)}{peer}: {m.expected} does not match {m.found}")
        if len(side.mismatches) > len(shown):
            out.append(f"    ... and {len(side.mismatches) - len(shown)} more")
    elif side.isolated_by:
        out.append(f"  {d}: does not block on its own (isolated by "
                   + "; ".join(ref_text(r, locate) for r in side.isolated_by) + ")")
    else:
        out.append(f"  {d}: not isolated")
    return out


def render(v: Verdict, locate: Locate = lambda ref: None) -> str:
    lines = [f"{v.answer.value}: {query_text(v)}"]
    if v.witness is not None:
        w = v.witness
        lines.append(f"  witness: {endpoint_text(w.src)} -> {endpoint_text(w.dst)} "
                     f"{w.protocol} {w.port}")
    lines += side_lines(v.egress, locate)
    lines += side_lines(v.ingress, locate)
    if v.note:
        lines.append(f"  note: {v.note}")
    return "\n".join(lines) + "\n"


def render_peers(report, locate: Locate = lambda ref: None) -> str:
    """who-can-reach / reachable-from, grouped: workloads, external addresses, new pods."""
    arrow = "can be reached from" if report.direction == "to" else "can reach"
    port = f" on port {report.port}" if report.port is not None else ""
    lines = [f"{report.endpoint} {arrow}{port}:"]
    titles = {"workload": "workloads", "external": "addresses", "hypothetical": "pods that do not exist yet"}
    for group in ("workload", "external", "hypothetical"):
        rows = [r for r in report.rows if r.group == group]
        if not rows:
            continue
        lines.append(f"  {titles[group]}:")
        for r in rows:
            if r.witness is not None:
                who = r.witness.src if report.direction == "to" else r.witness.dst
                lines.append(f"    {r.name}: e.g. {r.witness.protocol} {r.witness.port}, "
                             f"{endpoint_text(who)}")
            else:
                lines.append(f"    {r.name} : {r.conns.to_text()}")
    if not report.rows:
        lines.append("  nothing")
    for u in report.unknown:
        lines.append(f"  unknown (solver gave up): {u}")
    return "\n".join(lines) + "\n"


def render_isolation(v, locate: Locate = lambda ref: None) -> str:
    d = v.direction.lower()
    if v.answer.value == "yes":
        head = f"yes: every possible pod of {v.namespace} is isolated for {d}"
    elif v.answer.value == "no":
        head = f"no: a pod of {v.namespace} can escape {d} isolation"
    else:
        head = f"unknown: {v.note}"
    lines = [head]
    if v.escape is not None:
        lines.append(f"  escaping pod: {endpoint_text(v.escape)}")
    lines += [f"  {ref_text(r, locate)}" for r in v.policies] or [f"  no {d} policy in {v.namespace}"]
    if v.note and v.answer.value != "unknown":
        lines.append(f"  note: {v.note}")
    return "\n".join(lines) + "\n"


def render_exposure(report, locate: Locate = lambda ref: None) -> str:
    """One line per finding: severity, direction arrow (``<=`` ingress, ``=>`` egress), peer and
    connections; then the rules, the witness and the routes from the edge."""
    lines = []
    for f in report.findings:
        arrow = "<=" if f.direction == "ingress" else "=>"
        what = f.conns.to_text() if f.conns else ""
        if f.named_ports:
            what = ",".join(filter(None, [what] + [f"{p} {n}" for p, n in f.named_ports]))
        edge = " [edge]" if f.edge else ""
        lines.append(f"{f.severity.upper():8} {f.workload} {arrow} {f.peer}: {what or 'No Connections'}{edge}")
        for r in f.allowed_by:
            if not r.is_default:
                lines.append(f"         allowed by {ref_text(r, locate)}")
        if f.peer.kind == "unprotected":
            lines.append(f"         no policy isolates it for {f.direction}")
        for reached in f.edge:
            r = reached.route
            lines.append(f"         reached from outside by {r.kind} {r.name}"
                         + (f" via Service {r.service}" if r.kind != "Service" else "")
                         + f" on {r.protocol} {r.port} ({r.source})")
        if f.witness is not None and f.witness.src is not None and f.peer.kind in ("namespaces", "pods", "cluster"):
            other = f.witness.src if f.direction == "ingress" else f.witness.dst
            lines.append(f"         e.g. {endpoint_text(other)}, {f.witness.protocol} {f.witness.port}")
    for reached in report.dead_routes:
        r = reached.route
        lines.append(f"DEAD     {r.workload}: {r.kind} {r.name} routes to {r.protocol} {r.port} "
                     f"({r.source}), which its ingress policies block")
    for u in report.unknown:
        lines.append(f"UNKNOWN  (solver gave up) {u}")
    if not lines:
        lines.append("no exposure found")
    return "\n".join(lines) + "\n"
