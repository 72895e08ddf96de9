"""Both inputs of a comparison, read once and analysed side by side.

A diff reads two inputs that are mostly the same text: reading shares what they share (a file
the same on both sides is parsed and validated once, :class:`~analyzer.inputs.loading.ParseCache`)
and already runs on every core. What follows — validating, modelling, evaluating and viewing
each side — is two computations that share nothing, each as long as a whole ``kreach list``
after reading. On a large input with a second CPU, the NEW side is analysed in a forked copy of
this process while this one analyses OLD. The copy sends back only what the diff reads of its
side (:class:`~analyzer.diff.compute.Side`: endpoints, connections, rule content, diagnostics;
about 13 MB at 150k pods, under a second to write and read), not its analysis; the locator that
gives NEW's rules their lines is the one this process built while reading. A copy that fails or
dies only means NEW is analysed here afterwards: the answer is the same either way.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Sequence

from ..analysis import Analysis, Options, analyze_loaded, read_side
from ..forking import Copy, in_copy
from ..pickling import dump, load
from .compute import Side

# usable objects (both sides) from which NEW is analysed in a second process: below that,
# forking and sending a side back cost about what they save
MIN_OBJECTS = 4_000


def analyze_pair(old_paths: Sequence[str], new_paths: Sequence[str], options: Options, *,
                 old_rev: str | None = None, new_rev: str | None = None,
                 level: str | None = None, parallel: bool | None = None
                 ) -> tuple[Analysis, Analysis | Side]:
    """OLD's analysis, and NEW's analysis or what a diff reads of it (a :class:`Side` at
    ``level``, default the options' level), for the inputs ``old_paths`` at ``old_rev`` and
    ``new_paths`` at ``new_rev`` (None: as on disk). ``parallel``: analyse NEW in a forked
    process (None: when the input is large and ``options.jobs`` allows a second process)."""
    from ..inputs.loading import ParseCache

    shared = ParseCache()  # a file that is the same on both sides is parsed once
    old_loaded = read_side(old_paths, options, rev=old_rev, shared=shared)
    new_loaded = read_side(new_paths, options, rev=new_rev, shared=shared)
    level = level or options.level
    if parallel is None:
        parallel = (len(old_loaded.manifests) + len(new_loaded.manifests) >= MIN_OBJECTS
                    and _second_process(options.jobs))
    if parallel:  # each side then has one core: neither shares its own work out again
        options = replace(options, jobs=1)
    child = _analyse_elsewhere(new_loaded, options, shared, level) if parallel else None
    try:
        old = analyze_loaded(old_loaded, options, shared.validation)
    except BaseException:
        if child is not None:
            child.stop()
        raise
    side = child.result(_side_of) if child is not None else None
    if side is None:
        return old, analyze_loaded(new_loaded, options, shared.validation)
    return old, replace(side, locator=new_loaded.locator)


def _second_process(jobs: int | None) -> bool:
    from ..inputs.parallel import processes

    return processes(jobs) >= 2


def _analyse_elsewhere(loaded: Any, options: Options, shared: Any, level: str) -> Copy | None:
    """Start analysing ``loaded`` in a forked copy of this process, which writes the
    :class:`Side` of the analysis (without its locator) for :func:`_side_of` to read."""
    def work(fh: Any) -> None:
        analysis = analyze_loaded(loaded, options, shared.validation)
        dump(replace(Side.of(analysis, level), locator=None), fh)

    return in_copy(work)


def _side_of(fh: Any) -> Side | None:
    side = load(fh)
    return side if isinstance(side, Side) else None
