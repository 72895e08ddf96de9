"""The analysis cache: a whole unchanged input answered from one entry, without reading,
validating, modelling or evaluating it again.

The document cache (:mod:`analyzer.inputs.cache`) spares parsing and validating each unchanged
file, but a re-run still builds the cluster model and evaluates every policy. This cache keeps
what :func:`~analyzer.analysis.analyze` produced for a whole input: the cluster, the
reachability, the diagnostics, the count of usable objects and the edge routes. Its key is made
of

- the content key of every file read (its path and the SHA-256 of its text, as the document
  cache computes it), in the order they are read, and what the directory walk reported;
- the analysis options (level, Kubernetes version, schema validation, ``-n``, input options,
  exclusions) and the limits;
- a fingerprint of kreach: the document cache's (version, readers and validators, PyYAML and
  kubernetes-validate), the source of every module that models and evaluates, and the Python.

Only inputs made of plain YAML files on disk take this path: standard input, git revisions,
JSON, Terraform, charts and kustomizations are read as before (their result depends on more
than the text of the files named). Computing the key reads and hashes every file without
parsing it. An entry is two pickles: a small head (diagnostics, count, edge routes, where each
YAML document lies in its file) read on a hit, and the cluster model and reachability, read
from the same open file only when the command first uses them. The locator gets the files'
documents back as a document-cache hit gives them, so every located message and report finds
its lines again.

What a writer made of a cached analysis is kept beside it (:func:`cached_stream`, used by
``kreach list``): an unchanged listing is read back instead of written again, which at 100k pods
is most of a re-run.

Entries live in ``$KREACH_CACHE_DIR/analysis/<fingerprint>/`` and ``.../output/<fingerprint>/``
and are written to a temporary file then renamed, so concurrent runs see a whole entry or none;
an entry that cannot be read is a miss. Only the most recently used :data:`KEEP` entries of each
are kept (an analysis of 100k pods takes about 110 MB).
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import os
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .analysis import Analysis
from .inputs.cache import DocumentCache, default_dir, modules_digest, text_key, write_atomically
from .inputs.cache import fingerprint as document_fingerprint
from .inputs.limits import Limits
from .pickling import dump, load

if TYPE_CHECKING:
    from .analysis import Options
    from .inputs.loading import Locator

KEEP = 8  # entries kept; the least recently used beyond that are removed when one is stored
BACKGROUND_FROM = 5_000  # usable objects from which an analysis is stored in the background
ENV_SYNC = "KREACH_CACHE_SYNC"  # set: store every analysis before going on
_BACKGROUND_SECONDS = 600
_FORMAT = 2  # the layout of an entry
_PLAIN = (".yaml", ".yml")  # what a run reads as plain YAML text (see loading._load_file)
# modules whose source decides the analysis (beside the document cache's own)
_DECIDING = ("inputs", "model", "engine")


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """The document cache's fingerprint, the source of every module of ``analyzer`` that reads,
    models or evaluates (the top-level modules, ``inputs``, ``model`` and ``engine``) and the
    Python that runs them."""
    digest = source_digest(Path(__file__).resolve().parent)
    python = f"{sys.implementation.name}-{sys.version}"  # pickles and orderings of this Python
    return hashlib.sha256(f"{document_fingerprint()}:{digest}:{python}".encode()).hexdigest()[:16]


def source_digest(package: Path) -> str:
    """SHA-256 of the names and source of ``package``'s top-level modules and of every module
    under its ``inputs``, ``model`` and ``engine`` folders."""
    return modules_digest(package, [*package.glob("*.py"),
                                    *(m for d in _DECIDING for m in (package / d).rglob("*.py"))])


@dataclass(frozen=True)
class Probe:
    """What the pre-pass found: the entry's key and the text of every file (kept by the
    locator on a hit)."""

    key: str
    texts: tuple[tuple[str, str], ...]
    store: AnalysisStore
    paths: tuple[str, ...] = ()
    keys: tuple[tuple[str, str], ...] = ()  # (file, content key) as the pre-pass read them

    def read_alike(self, keys: Mapping[str, str]) -> bool:
        """The reader read every file as the pre-pass did (``keys``: the content key of each
        file it read): no file changed in between, so the analysis is the one of this key."""
        return all(keys.get(path) == key for path, key in self.keys)

    def restore(self, options: Options) -> Analysis | None:
        """The analysis stored under this key, or None (absent, unreadable, another layout).
        Its diagnostics, count and lines are read now; the cluster model and the reachability
        when first used (a command whose output is cached never needs them)."""
        opened = self.store.open(self.key)
        if opened is None:
            return None
        head, body = opened
        if not (isinstance(head, tuple) and len(head) == 5 and head[0] == _FORMAT):
            body.close()
            return None
        from .inputs.loading import Chunk, Locator

        _, diagnostics, objects, edge, spans = head
        locator = Locator()
        texts = dict(self.texts)
        for path, kept in spans.items():  # the reader's documents, cut again from the texts
            text = texts.get(path)
            locator.remember(path, [Chunk(piece if isinstance(piece, str) or text is None
                                          else text[piece[0]:piece[1]], first_line, index)
                                    for piece, first_line, index in kept])
        body.recompute = lambda: _computed(self.paths, options)
        return _restored(body, diagnostics, locator, options, objects, edge, self.key)

    def save(self, analysis: Analysis) -> None:
        """Store ``analysis``: a large one by a background process, so that the run which
        computed it does not wait for it to be written."""
        def store() -> None:
            head = (_FORMAT, analysis.diagnostics, analysis.objects, analysis.edge,
                    self._spans(analysis.locator))
            self.store.put(self.key, head, (analysis.cluster, analysis.reachability))

        if analysis.objects >= BACKGROUND_FROM and _can_fork():
            _in_background(store)
        else:
            store()

    def _spans(self, locator: Locator) -> dict[str, list[tuple[Any, int, int]]]:
        """Where each document the reader kept lies in its file's text: ``(start, end)`` (or
        the document's text, for a name the pre-pass did not read), first line and index. Lines
        of fields are found again from these on demand, as after a document-cache hit."""
        texts = dict(self.texts)
        spans: dict[str, list[tuple[Any, int, int]]] = {}
        for path, chunks in locator.documents():
            text, at, kept = texts.get(path), 0, []
            for chunk in chunks:
                start = -1 if text is None else text.find(chunk.text, at)
                if start < 0:
                    kept.append((chunk.text, chunk.first_line, chunk.index))
                else:
                    at = start + len(chunk.text)
                    kept.append(((start, at), chunk.first_line, chunk.index))
            spans[path] = kept
        return spans


class _Body:
    """The cluster model and reachability of a restored analysis, read when first asked for
    from the entry's open file (still whole if another run replaced or removed the entry); if
    that part cannot be read after all, they are computed again from the input."""

    def __init__(self, fh: Any) -> None:
        self._fh = fh
        self._value: tuple | None = None
        self.recompute: Callable[[], tuple] | None = None

    def get(self) -> tuple:
        if self._value is None:
            try:
                with self._fh:
                    value = load(self._fh)
                if not (isinstance(value, tuple) and len(value) == 2):
                    raise ValueError("not an analysis body")
            except Exception:
                if self.recompute is None:
                    raise
                value = self.recompute()
            self._value = value
        return self._value

    def close(self) -> None:
        self._fh.close()

    def __del__(self) -> None:  # never read: the analysis was answered without its model
        try:
            self._fh.close()
        except Exception:
            pass


class _FromBody:
    """An attribute of a restored analysis read from its :class:`_Body` when first used."""

    def __init__(self, index: int) -> None:
        self.index = index

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        values = obj.__dict__
        if self.name not in values:
            values[self.name] = values["_body"].get()[self.index]
        return values[self.name]

    def __set__(self, obj: Any, value: Any) -> None:  # dataclasses.replace builds through __init__
        obj.__dict__[self.name] = value


class RestoredAnalysis(Analysis):
    """An analysis read back from the cache, equal to the one that was stored; its cluster model
    and reachability are read when first used. It pickles and copies as a plain Analysis."""

    cluster = _FromBody(0)  # type: ignore[assignment]
    reachability = _FromBody(1)  # type: ignore[assignment]

    def __reduce__(self) -> tuple:
        return Analysis, tuple(getattr(self, f.name) for f in dataclasses.fields(Analysis))


def _restored(body: _Body, diagnostics: tuple, locator: Locator, options: Options,
              objects: int, edge: tuple, key: str) -> Analysis:
    analysis = RestoredAnalysis.__new__(RestoredAnalysis)
    analysis.__dict__.update(_body=body, diagnostics=diagnostics, locator=locator, options=options,
                             objects=objects, edge=edge, cache_key=key)
    return analysis


def probe(paths: Sequence[str], options: Options, limits: Limits,
          root: Path | str | None = None) -> Probe | None:
    """The key of the analysis of ``paths`` under ``options``, or None when the input is not made
    of plain YAML files on disk only (or one cannot be read: the full path reports it)."""
    from .inputs.loading import _read_text, discover

    if not paths or "-" in paths:
        return None
    files, walked = discover(paths, options.exclude)
    texts: list[tuple[str, str]] = []
    keys: list[str] = []
    for path in files:
        if not path.lower().endswith(_PLAIN):
            return None
        try:
            if not stat.S_ISREG(os.stat(path).st_mode):  # a pipe must be read once, by the reader
                return None
            text = _read_text(path, None, limits)
        except Exception:  # too large, not UTF-8, unreadable: the reader says so, located
            return None
        texts.append((path, text))
        keys.append(text_key(path, text, limits, options.inputs))
    key = DocumentCache.key("analysis", _FORMAT, _deciding(options), limits, tuple(paths),
                            tuple(files), walked, tuple(keys))
    return Probe(key, tuple(texts), AnalysisStore(default_dir() if root is None else root),
                 tuple(paths), tuple(zip(files, keys)))


# options that change how a run goes, never what it concludes
_HOW = frozenset({"cache", "limits", "jobs"})  # (limits are keyed as resolved, environment included)


def _deciding(options: Options) -> tuple:
    """Every option that can change the analysis, by name: a new option is part of the key
    unless it is listed in :data:`_HOW`."""
    return tuple((f.name, getattr(options, f.name)) for f in dataclasses.fields(options)
                 if f.name not in _HOW)


def _computed(paths: Sequence[str], options: Options) -> tuple:
    from .analysis import analyze

    analysis = analyze(list(paths), dataclasses.replace(options, cache=False))
    return analysis.cluster, analysis.reachability


def _can_fork() -> bool:
    """Forking is safe: POSIX, no other thread running (one holding a lock at fork time could
    leave the copy stuck), not turned off with ``KREACH_CACHE_SYNC``."""
    return hasattr(os, "fork") and threading.active_count() == 1 and not os.environ.get(ENV_SYNC)


def _in_background(work: Callable[[], None]) -> None:
    """Run ``work`` in a detached copy of this process (forked twice, so that nothing is left
    for this one to wait for); here if no copy can be made. The copy writes nothing to this
    process's standard streams and gives up after :data:`_BACKGROUND_SECONDS`."""
    try:
        pid = os.fork()
    except OSError:
        work()
        return
    if pid:
        try:
            os.waitpid(pid, 0)  # the first copy exits as soon as it has made the second
        except ChildProcessError:
            pass
        return
    try:
        if os.fork():
            os._exit(0)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # a caller reading our output sees its end when we exit
            os.dup2(devnull, fd)
        signal.alarm(_BACKGROUND_SECONDS)
        work()
    finally:
        os._exit(0)


class AnalysisStore:
    """Whole analyses by key; every failure is a miss, never an error."""

    def __init__(self, root: Path | str, kind: str = "analysis") -> None:
        self.root = Path(root) / kind / fingerprint()

    def path(self, key: str) -> Path:
        return self.root / key

    def open(self, key: str) -> tuple[Any, _Body] | None:
        """The head of the entry and its body, still to be read; None when there is no
        readable entry."""
        path = self.path(key)
        try:
            fh = open(path, "rb")
        except OSError:
            return None
        try:
            head = load(fh)
        except Exception:  # half-written by a crashed run, from another Python: a miss
            fh.close()
            return None
        try:
            os.utime(path)  # recently used: kept when older entries are removed
        except OSError:
            pass
        return head, _Body(fh)

    def put(self, key: str, *values: Any) -> None:
        """Store ``values`` one after the other (the head first) under ``key``."""
        def write(fh: Any) -> None:
            enabled = gc.isenabled()
            gc.disable()  # as in _load: nothing to collect, and millions of objects to walk
            try:
                for value in values:
                    dump(value, fh)
            finally:
                if enabled:
                    gc.enable()

        if write_atomically(self.path(key), write):
            self.prune()

    def prune(self) -> None:
        """Keep the :data:`KEEP` most recently used entries, whatever kreach wrote them (an old
        version's entries are never used again)."""
        entries = []
        for folder in _scan(self.root.parent):
            if folder.is_dir():
                entries += [(_mtime(e), e.path) for e in _scan(folder.path)
                            if not e.name.startswith(".")]
        for _, path in sorted(entries, reverse=True)[KEEP:]:
            try:
                os.unlink(path)
            except OSError:
                pass  # another run removed it first


def _scan(folder: str | Path) -> list[os.DirEntry]:
    try:
        return list(os.scandir(folder))
    except OSError:
        return []


def _mtime(entry: os.DirEntry) -> float:
    try:
        return entry.stat().st_mtime
    except OSError:
        return 0.0


# -- what a writer made of a cached analysis ---------------------------------------------------

_WRITTEN = ("txt", "json", "csv")  # writers whose text depends on the analysis and nothing else
_PIECE = 1 << 20


@lru_cache(maxsize=1)
def package_digest() -> str:
    """SHA-256 of the source of every module of ``analyzer`` (writers, reports, the CLI...)."""
    package = Path(__file__).resolve().parent
    return hashlib.sha256(f"{fingerprint()}:{modules_digest(package, package.rglob('*.py'))}"
                          .encode()).hexdigest()


def cached_stream(analysis: Analysis, fmt: str,
                  stream: Callable[[Analysis, str], Iterator[str]]) -> Iterator[str]:
    """``stream(analysis, fmt)``: what writer ``fmt`` made of this analysis, kept beside it in the
    cache. When the analysis came from the analysis cache (or went into it) and the same kreach
    wrote it with the same writer before, the text is read back instead of written again; else it
    is written as usual and kept once the writer has finished."""
    key = analysis.cache_key
    if key is None or fmt not in _WRITTEN:
        return stream(analysis, fmt)
    store = AnalysisStore(default_dir(), "output")
    out_key = DocumentCache.key("output", key, fmt, analysis.options.level, package_digest())
    kept = store.path(out_key)
    try:
        fh = open(kept, encoding="utf-8", errors="surrogatepass", newline="")
    except OSError:
        return _keeping(store, out_key, stream(analysis, fmt))
    try:
        os.utime(kept)
    except OSError:
        pass
    return _pieces(fh)


def _pieces(fh: Any) -> Iterator[str]:
    with fh:
        while piece := fh.read(_PIECE):
            yield piece


def _keeping(store: AnalysisStore, key: str, chunks: Iterator[str]) -> Iterator[str]:
    """``chunks`` as they come, kept under ``key`` once the last one has been given."""
    path = store.path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        fh = os.fdopen(fd, "w", encoding="utf-8", errors="surrogatepass", newline="")
    except OSError:
        yield from chunks
        return
    done = False
    try:
        for chunk in chunks:
            yield chunk
            if fh is not None:
                try:
                    fh.write(chunk)
                except OSError:  # a full disk: the output still goes out, only not kept
                    fh.close()
                    fh = None
        done = fh is not None
    finally:
        try:
            if fh is not None:
                fh.close()
            if done:
                os.replace(tmp, path)
                store.prune()
            else:
                os.unlink(tmp)
        except OSError:
            pass
