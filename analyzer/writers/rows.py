"""The connection rows every tabular writer prints, in a stable order."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

from ..analysis import Analysis
from ..compile import RuleRef
from ..connset import ConnectionSet


@dataclass(frozen=True)
class Row:
    src: str
    dst: str
    conns: ConnectionSet
    egress: frozenset[RuleRef]
    ingress: frozenset[RuleRef]


def _order(analysis: Analysis, node: str) -> tuple:
    data = analysis.graph.nodes[node]
    if data["type"] == "external":
        return (0, data["interval"][0], "")
    return (1, 0, node)


def rows(analysis: Analysis) -> Iterator[Row]:
    g = analysis.graph
    keyed = sorted(g.edges(data=True), key=lambda e: (_order(analysis, e[0]), _order(analysis, e[1])))
    for src, dst, data in keyed:
        yield Row(src, dst, data["conns"], data["egress"], data["ingress"])


def display(analysis: Analysis, node: str) -> str:
    """How a node is printed in txt/csv/md: ``ns/name[Kind]``, ``ns/pod`` or an address range."""
    return node
