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
  kubernetes-validate) and the source of every module that models and evaluates.

Only inputs made of plain YAML files on disk take this path: standard input, git revisions,
JSON, Terraform, charts and kustomizations are read as before (their result depends on more
than the text of the files named). Computing the key reads and hashes every file without
parsing it; on a hit the files' texts are kept in the :class:`~analyzer.inputs.loading.Locator`
as a document-cache hit does, so every located message and report finds its lines again.

Entries live in ``$KREACH_CACHE_DIR/analysis/<fingerprint>/`` and are written to a temporary file
then renamed, so concurrent runs see a whole entry or none; an entry that cannot be read is a
miss. Only the most recently used :data:`KEEP` entries are kept (an entry for 100k pods is tens
of megabytes).
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import operator
import os
import pickle
import stat
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

from .inputs.cache import DocumentCache, default_dir, text_key
from .inputs.cache import fingerprint as document_fingerprint
from .inputs.limits import Limits

if TYPE_CHECKING:
    from .analysis import Analysis, Options

KEEP = 8  # entries kept; the least recently used beyond that are removed when one is stored
_FORMAT = 1  # the layout of an entry
_PLAIN = (".yaml", ".yml")  # what a run reads as plain YAML text (see loading._load_file)
# modules whose source decides the analysis (beside the document cache's own)
_DECIDING = ("inputs", "model", "engine")


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """The document cache's fingerprint and the source of every module of ``analyzer`` that
    reads, models or evaluates (the top-level modules, ``inputs``, ``model`` and ``engine``)."""
    digest = source_digest(Path(__file__).resolve().parent)
    return hashlib.sha256(f"{document_fingerprint()}:{digest}".encode()).hexdigest()[:16]


def source_digest(package: Path) -> str:
    """SHA-256 of the names and source of ``package``'s top-level modules and of every module
    under its ``inputs``, ``model`` and ``engine`` folders."""
    h = hashlib.sha256()
    modules = [*package.glob("*.py"), *(m for d in _DECIDING for m in (package / d).rglob("*.py"))]
    for module in sorted(modules):
        h.update(module.relative_to(package).as_posix().encode())
        h.update(b"\x00")
        h.update(module.read_bytes())
        h.update(b"\x00")
    return h.hexdigest()


@dataclass(frozen=True)
class Probe:
    """What the pre-pass found: the entry's key and the text of every file (kept by the
    locator on a hit)."""

    key: str
    texts: tuple[tuple[str, str], ...]
    store: "AnalysisStore"

    def restore(self, options: "Options") -> "Analysis | None":
        """The analysis stored under this key, or None (absent, unreadable, another layout)."""
        entry = self.store.get(self.key)
        if not (isinstance(entry, tuple) and len(entry) == 6 and entry[0] == _FORMAT):
            return None
        from .analysis import Analysis
        from .inputs.loading import Locator, split_documents

        _, cluster, reachability, diagnostics, objects, edge = entry
        locator = Locator()
        for path, text in self.texts:
            if text.strip():  # as the reader does: an empty file keeps no text
                locator.remember(path, split_documents(text))  # lines are found again on demand
        return Analysis(cluster, reachability, diagnostics, locator, options, objects, edge)

    def save(self, analysis: "Analysis") -> None:
        self.store.put(self.key, (_FORMAT, analysis.cluster, analysis.reachability,
                                  analysis.diagnostics, analysis.objects, analysis.edge))


def probe(paths: Sequence[str], options: "Options", limits: Limits,
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
    key = DocumentCache.key("analysis", _FORMAT, dataclasses.replace(options, cache=False, limits=None),
                            limits, tuple(paths), tuple(files), walked, tuple(keys))
    return Probe(key, tuple(texts), AnalysisStore(default_dir() if root is None else root))


# -- storing: pickles of frozen slotted dataclasses, made fast to load -------------------------

_getters: dict[type, Callable[[Any], tuple] | None] = {}


def _constructor_args(cls: type) -> Callable[[Any], tuple] | None:
    """For a slotted dataclass built by its generated ``__init__`` alone: a function giving the
    arguments that rebuild an instance (loading then calls the class, much faster than the
    default state-setting path); None for any other class."""
    if cls in _getters:
        return _getters[cls]
    getter = None
    if dataclasses.is_dataclass(cls) and "__slots__" in cls.__dict__ \
            and not hasattr(cls, "__post_init__") \
            and getattr(getattr(cls.__init__, "__code__", None), "co_filename", "") == "<string>":
        fields = dataclasses.fields(cls)
        if all(f.init for f in fields) and fields:
            names = [f.name for f in fields]
            getter = operator.attrgetter(*names) if len(names) > 1 else \
                (lambda obj, n=names[0]: (getattr(obj, n),))
    _getters[cls] = getter
    return getter


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj: Any) -> Any:
        getter = _constructor_args(type(obj))
        if getter is None:
            return NotImplemented
        return type(obj), getter(obj)


class AnalysisStore:
    """Whole analyses by key; every failure is a miss, never an error."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root) / "analysis" / fingerprint()

    def _path(self, key: str) -> Path:
        return self.root / key

    def get(self, key: str) -> Any:
        path = self._path(key)
        enabled = gc.isenabled()
        gc.disable()  # millions of small objects: the collector would run hundreds of times
        try:
            with open(path, "rb") as fh:
                value = pickle.load(fh)
        except Exception:  # absent, half-written by a crashed run, from another Python: a miss
            return None
        finally:
            if enabled:
                gc.enable()
        try:
            os.utime(path)  # recently used: kept when older entries are removed
        except OSError:
            pass
        return value

    def put(self, key: str, value: Any) -> None:
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    _Pickler(fh, protocol=5).dump(value)
                os.replace(tmp, path)  # atomic: readers see the whole entry or none
            except BaseException:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
                raise
        except (OSError, pickle.PicklingError, RecursionError, TypeError, AttributeError):
            return  # best effort: an unwritable cache costs only time
        self._prune()

    def _prune(self) -> None:
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
