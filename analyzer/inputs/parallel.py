"""Reading and validating a large input on every core.

Parsing YAML and checking objects are most of a run on a large input, and each file is read
and checked on its own, so the work splits by file. :func:`prefetch` hands contiguous runs of
files to helper processes and reads the first run itself; each part yields exactly the entries
the document cache (:mod:`analyzer.inputs.cache`) would hold for its files: what reading
produced, and the validation outcome of each object. The usual sequential pipeline then runs
unchanged and finds every file already done, so the result (objects, order, diagnostics, lines)
is the same as a run on one core by construction; parallelism changes only when the work is
done. A part whose helper fails is simply not prefetched: that file is read in the main process.

Helper processes are forked where that is safe (no other thread running), else spawned; the
number of processes is the number of CPUs this process may use, at most :data:`MAX_JOBS`, or
``KREACH_JOBS`` (``1`` turns this off). The library reads in one process unless
``Options(jobs=...)`` says otherwise (a spawned helper re-imports the caller's main module); the
CLI asks for one process per CPU. Inputs smaller than :data:`MIN_BYTES` are read in
process: starting a helper costs more than it saves there.
"""

from __future__ import annotations

import marshal
import multiprocessing
import os
import pickle
import stat
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any, Callable, Sequence

from ..source import STDIN
from .limits import Limits
from .options import InputOptions

ENV_JOBS = "KREACH_JOBS"
MAX_JOBS = 8
MIN_BYTES = 8 * 1024 * 1024
# a helper's entries travel back encoded (about 5 % of reading and checking them) and the main
# process decodes them: it takes a slightly larger share than a helper
_HELPER_WEIGHT = 0.95


def processes(asked: int | None = None) -> int:
    """Processes to read with: ``asked``, else ``KREACH_JOBS`` if set, else the CPUs this
    process may use (at most :data:`MAX_JOBS`)."""
    if asked is not None:
        return max(1, asked)
    value = os.environ.get(ENV_JOBS, "").strip()
    if value:
        try:
            return max(1, int(value))
        except ValueError:
            return 1
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_JOBS))


def _plain_yaml(files: Sequence[str]) -> list[tuple[str, int]]:
    """The YAML files on disk among ``files`` with their sizes (JSON, Terraform, charts and
    stdin take their own readers and are never prefetched)."""
    out = []
    for f in files:
        if f == STDIN or not f.lower().endswith((".yaml", ".yml")):
            continue
        try:
            st = os.stat(f)
        except OSError:
            continue
        if stat.S_ISREG(st.st_mode):
            out.append((f, st.st_size))
    return out


def split(sized: Sequence[tuple[Any, int]], parts: int) -> list[list[Any]]:
    """Contiguous runs of files of about equal bytes, the first (the main process's) weighted
    1 and each helper's :data:`_HELPER_WEIGHT`."""
    weights = [1.0] + [_HELPER_WEIGHT] * (parts - 1)
    total = sum(size for _, size in sized) or 1
    scale = total / sum(weights)
    runs: list[list[Any]] = [[] for _ in weights]
    i, done, bound = 0, 0, 0.0
    for part, weight in enumerate(weights):
        bound += weight * scale
        last = part == len(weights) - 1
        while i < len(sized) and (last or done + sized[i][1] / 2 <= bound):
            runs[part].append(sized[i][0])
            done += sized[i][1]
            i += 1
    return [runs[0]] + [r for r in runs[1:] if r]  # the main process's run may be empty


class Prefetched:
    """The document-cache interface (``key``/``get``/``put``) over entries computed ahead, in
    this process and in helpers; anything else is asked of ``backing`` (the on-disk cache, or
    nothing). An entry is handed out once."""

    def __init__(self, entries: dict[str, Any], pending: list[Future], backing: Any = None,
                 options: tuple = (), executor: Any = None) -> None:
        self._entries = entries
        self._pending = pending
        self._executor = executor  # joined once every helper's entries are in
        self.backing = backing
        self.options = options  # (inputs, limits, k8s_version, schema, namespace)

    def take(self, path: str, text: str) -> tuple[list, list, tuple] | None:
        """What was read ahead for ``path`` with content ``text``: its items, the validation
        outcome of its objects and the options that outcome holds for (k8s_version, schema,
        namespace, schema version); None when it was not read ahead."""
        from .cache import text_key
        from .validation import outcome_key, schema_validator

        inputs, limits, k8s_version, schema, namespace = self.options
        key = text_key(path, text, limits, inputs)
        parts = outcome_key(key, k8s_version, schema, namespace,
                            schema_validator(k8s_version) if schema else None)
        items = self.get(key)
        outcomes = self.get(self.key(*parts))
        if items is None or outcomes is None:
            return None
        return items, outcomes, parts[2:]

    @staticmethod
    def key(*parts: object) -> str:
        from .cache import DocumentCache

        return DocumentCache.key(*parts)

    def get(self, key: str) -> Any:
        value = self._entries.pop(key, None)
        while value is None and self._pending:
            self._collect(self._pending.pop(0))
            value = self._entries.pop(key, None)
        if value is None and self.backing is not None:
            return self.backing.get(key)
        return value

    def put(self, key: str, value: Any) -> None:
        if self.backing is not None:
            self.backing.put(key, value)

    def _collect(self, future: Future) -> None:
        try:
            self._entries.update(decode(future.result()))
        except Exception:  # a helper that failed or died: its files are read here instead
            pass
        if not self._pending and self._executor is not None:
            # its managing thread ends here: later work may fork (analyzer.diff.pair)
            self._executor.shutdown(wait=True)
            self._executor = None


# Entries travel from a helper as one marshal payload: manifests as tuples of plain data (their
# bodies are what YAML builds: dicts, lists, strings, numbers), anything else pickled. marshal
# writes and reads such data 3-4x faster than pickle writes dataclass instances; a body holding
# what marshal cannot write (a !!timestamp through a merge key) sends the whole payload pickled.
_MANIFEST, _PICKLED = 0, 1


def encode(entries: dict[str, Any]) -> bytes:
    from .loading import Manifest

    def item(x: Any) -> tuple:
        if type(x) is Manifest:
            s = x.source
            return (_MANIFEST, x.api_version, x.kind, x.name, x.namespace, x.body,
                    (s.file, s.line, s.doc, s.path, s.origin))
        return (_PICKLED, pickle.dumps(x, protocol=pickle.HIGHEST_PROTOCOL))

    plain = {}
    for key, value in entries.items():
        if key.startswith(_VALIDATED):
            plain[key] = [(status, body, [item(d) for d in found]) for status, body, found in value]
        else:
            plain[key] = [item(x) for x in value]
    try:
        return b"m" + marshal.dumps(plain)
    except ValueError:
        return b"p" + pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL)


def decode(payload: bytes) -> dict[str, Any]:
    if payload[:1] == b"p":
        return pickle.loads(payload[1:])
    from ..source import SourceRef
    from .loading import Manifest

    def item(x: tuple) -> Any:
        if x[0] == _MANIFEST:
            return Manifest(x[1], x[2], x[3], x[4], x[5], SourceRef(*x[6]))
        return pickle.loads(x[1])

    entries: dict[str, Any] = {}
    for key, value in marshal.loads(payload[1:]).items():
        if key.startswith(_VALIDATED):
            entries[key[len(_VALIDATED):]] = [(status, body, [item(d) for d in found])
                                              for status, body, found in value]
        else:
            entries[key] = [item(x) for x in value]
    return entries


_VALIDATED = "validated:"


def prefetch(paths: Sequence[str], *, jobs: int | None, exclude: Sequence[str], inputs: InputOptions,
             limits: Limits, k8s_version: str | None, schema: bool, namespace: str | None,
             backing: Any = None, known: Callable[[str], bool] | None = None) -> Any:
    """A :class:`Prefetched` store for the files under ``paths``, with helper processes already
    at work, or ``backing`` unchanged when the input is too small or one process is all there is.
    A file whose text is ``known`` (read already in this run: the other side of a diff) is left
    out. ``jobs``: the number of processes, None for one per CPU or ``KREACH_JOBS``."""
    if processes(jobs) < 2:
        return backing
    from .loading import discover

    files, _ = discover(paths, exclude)
    sized = [((path, None), size) for path, size in _plain_yaml(files)]
    return _start(_unknown(sized, known, limits), processes(jobs),
                  (inputs, limits, k8s_version, schema, namespace), backing)


def prefetch_texts(named: Sequence[tuple[str, str | bytes]], *, jobs: int | None,
                   inputs: InputOptions, limits: Limits, k8s_version: str | None, schema: bool,
                   namespace: str | None, known: Callable[[str], bool] | None = None) -> Any:
    """:func:`prefetch` for contents already in memory (``(name, text)``: the files of a git
    revision), or None."""
    if processes(jobs) < 2:
        return None
    sized = [((name, content), len(content)) for name, content in named
             if name.lower().endswith((".yaml", ".yml"))]
    return _start(_unknown(sized, known, limits), processes(jobs),
                  (inputs, limits, k8s_version, schema, namespace), None)


def _unknown(sized: list[tuple[tuple[str, Any], int]], known: Callable[[str], bool] | None,
             limits: Limits) -> list[tuple[tuple[str, Any], int]]:
    """The sources ``(path, content or None)`` of ``sized`` whose text ``known`` does not know
    (an unreadable one is kept: the main process reads it and reports why)."""
    if known is None:
        return sized
    from .loading import _read_text

    def unseen(path: str, content: Any) -> bool:
        try:
            return not known(_read_text(path if content is None else STDIN, content, limits))
        except Exception:
            return True

    return [(source, size) for source, size in sized if unseen(*source)]


def _start(sized: Sequence[tuple[tuple[str, Any], int]], count: int, options: tuple,
           backing: Any) -> Any:
    """Helpers at work on all runs of ``sized`` but the first, read here; ``backing`` when
    there is too little to share."""
    if sum(size for _, size in sized) < MIN_BYTES or len(sized) < 2:
        return backing
    runs = split(sized, count)
    executor = ProcessPoolExecutor(max_workers=len(runs) - 1, mp_context=_context())
    try:
        pending = [executor.submit(read_and_check, run, options, backing) for run in runs[1:]]
    finally:
        executor.shutdown(wait=False)
    try:
        # stored on disk here as in the helpers (what this process reads is never put later)
        entries = read_and_check(runs[0], options, backing, encoded=False)
    except Exception:  # e.g. an unsupported k8s_version: the main pipeline says so
        entries = {}
    return Prefetched(entries, pending, backing, options, executor)


def _context() -> Any:
    """Fork when no other thread runs (cheap: the helper starts with everything imported);
    spawn otherwise (a thread holding a lock at fork time would leave the helper stuck)."""
    if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def read_and_check(files: Sequence[tuple[str, Any]], options: tuple, disk: Any,
                   encoded: bool = True) -> bytes | dict[str, Any]:
    """The document-cache entries of ``files`` (``(path, None)`` for a file on disk, ``(name,
    content)`` for one in memory): what reading each produced and the validation
    outcome of its objects, under the keys :func:`~analyzer.inputs.loading.load_paths` and
    :func:`~analyzer.inputs.validation.validate_manifests` will look up. With ``disk`` (the
    on-disk :class:`~analyzer.inputs.cache.DocumentCache`), entries are also stored there, and
    files already there are left to the main process to take from it. A helper returns them
    :func:`encode`-d."""
    from .cache import DocumentCache, text_key
    from .loading import Locator, Manifest, _load_text, _read_text, with_namespace
    from .validation import _check_one, outcome_key, schema_validator

    inputs, limits, k8s_version, schema, namespace = options
    validator = schema_validator(k8s_version) if schema else None
    entries: dict[str, Any] = {}
    for path, content in files:
        try:
            text = (_read_text(path, None, limits) if content is None
                    else _read_text(STDIN, content, limits))
        except Exception:  # the main process reads it again and reports why
            continue
        key = text_key(path, text, limits, inputs)
        if disk is not None and disk.has(key):
            continue
        locator = Locator()
        items = list(_load_text(path, text, locator, inputs, limits))
        manifests = [m for m in items if isinstance(m, Manifest)]
        if namespace:
            manifests = list(with_namespace(manifests, namespace))
        vkey = DocumentCache.key(*outcome_key(key, k8s_version, schema, namespace, validator))
        outcomes = [_check_one(m, validator, locator) for m in manifests]
        entries[key], entries[_VALIDATED + vkey] = items, outcomes
        if disk is not None:
            disk.put(key, items)
            disk.put(vkey, outcomes)
    if not encoded:
        return {k.removeprefix(_VALIDATED): v for k, v in entries.items()}
    return encode(entries)
