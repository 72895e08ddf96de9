"""The connection rows every tabular writer prints, in a stable order, and a listing's rows
written by two processes at once (:func:`in_parts`)."""

from __future__ import annotations

from typing import IO, Callable, Iterable, Iterator, NamedTuple

from ..analysis import Analysis
from ..engine.compile import RuleRef
from ..forking import Copy, in_copy
from ..model.connset import ConnectionSet


class Row(NamedTuple):  # immutable, and made 2.5x faster than a frozen dataclass (one per pair)
    src: str
    dst: str
    conns: ConnectionSet
    egress: frozenset[RuleRef]
    ingress: frozenset[RuleRef]


def rows(analysis: Analysis, sources: list[str] | None = None) -> Iterator[Row]:
    """Every connection of the analysis in report order, one source at a time (the pairs are
    never all held at once); only those out of ``sources`` (a run of the view's sources, in
    order) when given."""
    for src, dst, a in analysis.view.sorted_edges(sources):
        yield Row(src, dst, a.conns, a.egress, a.ingress)


# connections from which a listing is written by two processes (when its options allow them)
PARALLEL_ROWS = 50_000


def in_parts(analysis: Analysis, render: Callable[[Iterable[Row]], Iterator[str]],
             sep: str = "") -> Iterator[str]:
    """The pieces ``render`` makes of the analysis's rows, in order. A large listing whose
    options allow a second process (``Options.jobs``) is cut in two at a source: a forked copy
    of this process renders the second part while this one renders the first, and the second
    part comes back as one piece, its pieces joined with ``sep`` (what the caller puts between
    two pieces). A copy that fails means this process renders the second part too: the text
    is the same either way."""
    view = analysis.view
    sources = view.sources() if _may_fork(analysis) else None
    weights = view.rows_from(sources) if sources else []
    total = sum(weights)
    if sources is None or total < PARALLEL_ROWS:
        yield from render(rows(analysis))
        return
    cut, done = 0, 0
    while cut < len(sources) and done + weights[cut] <= total // 2:
        done += weights[cut]
        cut += 1
    first, second = sources[:cut], sources[cut:]
    child = _render_elsewhere(lambda: render(rows(analysis, second)), sep)
    try:
        yield from render(rows(analysis, first))
    except BaseException:  # the caller stopped reading (or failed): the copy's part is not needed
        if child is not None:
            child.stop()
        raise
    text = child.result(_text) if child is not None else None
    if text is None:
        yield from render(rows(analysis, second))
    elif text:
        yield text


def _may_fork(analysis: Analysis) -> bool:
    from ..inputs.parallel import processes

    return processes(analysis.options.jobs) >= 2


def _render_elsewhere(pieces: Callable[[], Iterable[str]], sep: str) -> Copy | None:
    """Render ``pieces()`` joined with ``sep`` in a forked copy of this process."""
    return in_copy(lambda fh: fh.write(sep.join(pieces()).encode("utf-8")))


def _text(fh: IO[bytes]) -> str:
    return fh.read().decode("utf-8")
