"""The connection rows every tabular writer prints, in a stable order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..analysis import Analysis
from ..engine.compile import RuleRef
from ..model.connset import ConnectionSet


@dataclass(frozen=True)
class Row:
    src: str
    dst: str
    conns: ConnectionSet
    egress: frozenset[RuleRef]
    ingress: frozenset[RuleRef]


def rows(analysis: Analysis) -> Iterator[Row]:
    nodes = analysis.view.nodes

    def order(node: str) -> tuple:
        data = nodes[node]
        if data["type"] == "external":
            return (0, data["interval"][0], "")
        if data["type"] == "ingress-controller":
            return (2, 0, node)  # last, as netpol-analyzer prints it
        return (1, 0, node)

    for (src, dst), a in sorted(analysis.view.edges.items(),
                                key=lambda e: (order(e[0][0]), order(e[0][1]))):
        yield Row(src, dst, a.conns, a.egress, a.ingress)
