"""Graphviz DOT: namespaces as clusters, external ranges as boxes, edges labelled with ports."""

from __future__ import annotations

from ..analysis import Analysis
from .rows import rows


def _q(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render(analysis: Analysis) -> str:
    by_ns: dict[str, list[str]] = {}
    externals = []
    for node, data in analysis.view.nodes.items():
        if data["type"] in ("external", "ingress-controller"):
            externals.append(node)
        else:
            by_ns.setdefault(data["namespace"], []).append(node)
    out = ["digraph kreach {", "\trankdir=LR;", "\tnode [shape=ellipse, fontsize=10];"]
    for i, ns in enumerate(sorted(by_ns)):
        out.append(f"\tsubgraph cluster_{i} {{")
        out.append(f"\t\tlabel={_q(ns)};")
        for node in sorted(by_ns[ns]):
            out.append(f"\t\t{_q(node)} [label={_q(node.split('/', 1)[1])}];")
        out.append("\t}")
    for node in sorted(externals):
        out.append(f"\t{_q(node)} [shape=box, color=red2];")
    for r in rows(analysis):
        out.append(f"\t{_q(r.src)} -> {_q(r.dst)} [label={_q(r.conns.to_text())}];")
    out.append("}")
    return "\n".join(out) + "\n"
