"""A content-addressed cache of what reading and validating one file produced.

Parsing YAML and checking objects against the Kubernetes schemas is most of a run on a large
input, and most files do not change between runs (nor between two git revisions). Each entry is
keyed by the file's path and the SHA-256 of its text, by the options that change the result
(limits, schema version, ``-n``), and by a fingerprint of kreach itself: its version, the source
of the modules that read and validate, and the versions of PyYAML and kubernetes-validate. So an
entry is never used by a kreach that would read the file differently.

Entries are pickles in ``$KREACH_CACHE_DIR`` (default ``$XDG_CACHE_HOME/kreach`` or
``~/.cache/kreach``), written to a temporary file and renamed into place, so concurrent runs
never see half an entry; an entry that cannot be read is a miss. The cache is best effort: a
directory that cannot be written only costs the time it would have saved. It holds data from
your own manifests only; like any cache directory it should not be shared with users you do not
trust (pickles are code).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

ENV_DIR = "KREACH_CACHE_DIR"
ENV_OFF = "KREACH_NO_CACHE"


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """kreach's version, the source of every module that decides what a file reads as, and the
    versions of the libraries that parse and validate."""
    from importlib import metadata

    from .. import __version__

    h = hashlib.sha256(__version__.encode())
    package = Path(__file__).resolve().parent.parent
    h.update(modules_digest(package, [*(package / "inputs").glob("*.py"), package / "messages.py",
                                      package / "source.py", package / "diagnostics.py"]).encode())
    for dist in ("pyyaml", "kubernetes-validate"):
        try:
            h.update(f"{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(dist.encode())
    return h.hexdigest()[:16]


def modules_digest(package: Path, modules: Iterable[Path]) -> str:
    """SHA-256 of the names (relative to ``package``) and the source of ``modules``."""
    h = hashlib.sha256()
    for module in sorted(modules):
        h.update(module.relative_to(package).as_posix().encode())
        h.update(b"\x00")
        h.update(module.read_bytes())
        h.update(b"\x00")
    return h.hexdigest()


def write_atomically(path: Path, write: Callable[[Any], None]) -> bool:
    """Write ``path`` (binary) through a temporary file renamed into place, so that readers see
    all of it or none; False when it could not be written (best effort: an unwritable cache
    costs only time)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except (OSError, pickle.PicklingError, RecursionError, TypeError, AttributeError):
        return False
    return True


def default_dir() -> Path:
    if os.environ.get(ENV_DIR):
        return Path(os.environ[ENV_DIR])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "kreach"


class DocumentCache:
    """Get and put entries by key; every failure is a miss, never an error."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root) / fingerprint()
        self.hits = self.misses = 0

    @classmethod
    def from_env(cls) -> "DocumentCache | None":
        """The cache at :func:`default_dir`, or None when ``KREACH_NO_CACHE`` is set."""
        if os.environ.get(ENV_OFF):
            return None
        return cls(default_dir())

    @staticmethod
    def key(*parts: object) -> str:
        h = hashlib.sha256()
        for p in parts:
            h.update(repr(p).encode("utf-8", "surrogatepass"))
            h.update(b"\x00")
        return h.hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / key

    def get(self, key: str) -> Any:
        try:
            with open(self._path(key), "rb") as fh:
                value = pickle.load(fh)
        except Exception:  # absent, half-written by a crashed run, from another Python: a miss
            self.misses += 1
            return None
        self.hits += 1
        return value

    def has(self, key: str) -> bool:
        return self._path(key).exists()

    def put(self, key: str, value: Any) -> None:
        write_atomically(self._path(key),
                         lambda fh: pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL))


def text_key(path: str, text: str, *options: object) -> str:
    """The key of one file's content as read with ``options``."""
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    return DocumentCache.key("file", path, digest, *options)
