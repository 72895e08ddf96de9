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
    """Every connection of the analysis in report order, one source at a time (the pairs are
    never all held at once)."""
    for src, dst, a in analysis.view.sorted_edges():
        yield Row(src, dst, a.conns, a.egress, a.ingress)
