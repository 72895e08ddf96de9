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

import os
import signal
import tempfile
import threading
from dataclasses import replace
from typing import Any, Sequence

from ..analysis import Analysis, Options, analyze_loaded, read_side
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
    child = _analyse_elsewhere(new_loaded, options, shared, level) if parallel else None
    try:
        old = analyze_loaded(old_loaded, options, shared.validation)
    except BaseException:
        if child is not None:
            child.stop()
        raise
    side = child.result() if child is not None else None
    if side is None:
        return old, analyze_loaded(new_loaded, options, shared.validation)
    return old, replace(side, locator=new_loaded.locator)


def _second_process(jobs: int | None) -> bool:
    from ..inputs.parallel import processes

    return processes(jobs) >= 2


class _Child:
    """A forked process analysing one side; :meth:`result` waits for what it sends back."""

    def __init__(self, pid: int, fh: Any) -> None:
        self.pid, self.fh = pid, fh

    def stop(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except OSError:
            pass
        self.fh.close()

    def result(self) -> Side | None:
        try:
            _, status = os.waitpid(self.pid, 0)
            if not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
                return None
            self.fh.seek(0)
            side = load(self.fh)
            return side if isinstance(side, Side) else None
        except Exception:  # a copy that died half-way through writing: analyse NEW here
            return None
        finally:
            self.fh.close()


def _analyse_elsewhere(loaded: Any, options: Options, shared: Any, level: str) -> _Child | None:
    """Start analysing ``loaded`` in a forked copy of this process, which writes the
    :class:`Side` of the analysis to an unnamed temporary file; None when no copy can be made
    safely (no ``fork``, or another thread running: one holding a lock at fork time could leave
    the copy stuck)."""
    if not hasattr(os, "fork") or threading.active_count() != 1:
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
        analysis = analyze_loaded(loaded, options, shared.validation)
        dump(replace(Side.of(analysis, level), locator=None), fh)
        fh.flush()
        code = 0
    finally:
        os._exit(code)
