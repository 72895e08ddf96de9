"""The connection rows every tabular writer prints, in a stable order, and a listing's rows
written by two processes at once (:func:`in_parts`)."""

from __future__ import annotations

import os
import tempfile
import threading
from typing import Callable, Iterable, Iterator, NamedTuple

from ..analysis import Analysis
from ..engine.compile import RuleRef
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
    yield from render(rows(analysis, first))
    text = child.result() if child is not None else None
    if text is None:
        yield from render(rows(analysis, second))
    elif text:
        yield text


def _may_fork(analysis: Analysis) -> bool:
    from ..inputs.parallel import processes

    return hasattr(os, "fork") and processes(analysis.options.jobs) >= 2


class _Child:
    def __init__(self, pid: int, fh) -> None:
        self.pid, self.fh = pid, fh

    def result(self) -> str | None:
        try:
            _, status = os.waitpid(self.pid, 0)
            if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
                return None
            self.fh.seek(0)
            return self.fh.read().decode("utf-8")
        except Exception:  # a copy that died half-way: render its part here
            return None
        finally:
            self.fh.close()


def _render_elsewhere(pieces: Callable[[], Iterable[str]], sep: str) -> _Child | None:
    """Render ``pieces()`` joined with ``sep`` in a forked copy of this process, into an unnamed
    temporary file; None when no copy can be made safely (another thread running)."""
    if threading.active_count() != 1:
        return None
    try:
        fh = tempfile.TemporaryFile()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        fh.close()
        return None
    if pid:
        return _Child(pid, fh)
    code = 1
    try:  # the copy: never returns, never writes to the standard streams
        fh.write(sep.join(pieces()).encode("utf-8"))
        fh.flush()
        code = 0
    finally:
        os._exit(code)
