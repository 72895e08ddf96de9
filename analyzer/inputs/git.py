"""Reading manifests of a git revision straight from the repository: no checkout, no clone.

``git ls-tree`` lists the files under the given paths at a revision and ``git cat-file --batch``
streams their blobs in one process. Paths are understood as :func:`~analyzer.inputs.loading.discover`
understands them on disk (a directory is read recursively: manifest suffixes only, hidden
directories and kreach's own config files skipped), relative to the working directory.

Every location read this way is named ``REV:path`` (``origin/main:deploy/netpol.yaml:12``), so a
report says which revision a line is from. Problems that leave nothing to read at all (git
missing, not a repository, an unknown revision, a path absent at that revision) raise
:class:`GitError`, whose text is meant for the user; the CLI turns it into exit 2.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .limits import Limits
from .options import InputOptions
from .loading import (SKIPPED_DIRS, LoadResult, ParseCache, _excluded, _is_input_name,
                      load_texts)


class GitError(Exception):
    """A revision could not be read; the message says why, in words for the user."""


@dataclass(frozen=True, slots=True)
class GitFile:
    path: str  # relative to the repository root, as git names it
    label: str  # REV:path as reported (path relative to the working directory)
    blob: str


@dataclass(frozen=True)
class Repository:
    root: str
    cwd: str

    @classmethod
    def find(cls, cwd: str = ".") -> "Repository":
        cwd = os.path.abspath(cwd)
        out = _git(["rev-parse", "--show-toplevel"], cwd,
                   f"{cwd} is not inside a git repository (needed for a revision)")
        return cls(out.decode().strip(), cwd)

    def resolve(self, rev: str) -> str:
        """The commit id ``rev`` names."""
        if not rev or rev.startswith("-"):
            raise GitError(f"invalid revision {rev!r}")
        out = _git(["rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"],
                   self.root, f"revision {rev!r} does not exist in {self.root}")
        return out.decode().strip()

    def files(self, rev: str, commit: str, paths: Sequence[str],
              exclude: Sequence[str] = ()) -> list[GitFile]:
        """The manifest files under ``paths`` at ``commit``, in the order a directory walk on
        disk would give them."""
        found: list[GitFile] = []
        seen: set[str] = set()
        for p in paths:
            rel = os.path.relpath(os.path.abspath(os.path.join(self.cwd, p)), self.root)
            if rel == os.pardir or rel.startswith(os.pardir + os.sep):
                raise GitError(f"{p} is outside the repository {self.root}")
            rel = "" if rel == "." else rel.replace(os.sep, "/")
            entries = self._ls_tree(commit, rel)
            if rel and len(entries) == 1 and entries[0][1] == rel:
                picked = entries  # a file named explicitly is read whatever its name
            else:
                picked = [(blob, path) for blob, path in entries
                          if (not rel or path.startswith(rel + "/")) and _walked(path[len(rel):], exclude)]
                if not entries:
                    raise GitError(f"path {p} does not exist at revision {rev}")
            for blob, path in picked:
                if path not in seen:
                    seen.add(path)
                    shown = os.path.relpath(os.path.join(self.root, path), self.cwd)
                    found.append(GitFile(path, f"{rev}:{shown}", blob))
        return found

    def _ls_tree(self, commit: str, rel: str) -> list[tuple[str, str]]:
        args = ["ls-tree", "-r", "-z", "--full-tree", commit]
        if rel:
            args += ["--", rel]
        out = _git(args, self.root, f"cannot list {rel or 'the tree'} at {commit}")
        entries = []
        for record in out.decode("utf-8", "surrogateescape").split("\0"):
            if not record:
                continue
            meta, _, path = record.partition("\t")
            mode, kind, blob = meta.split(" ")
            if kind == "blob" and mode != "120000":  # symbolic links are not followed
                entries.append((blob, path))
        return sorted(entries, key=lambda e: e[1].split("/"))

    def read(self, blobs: Sequence[str]) -> dict[str, bytes]:
        """The contents of the given blobs, read through one ``git cat-file --batch``."""
        if not blobs:
            return {}
        unique = list(dict.fromkeys(blobs))
        out = _git(["cat-file", "--batch"], self.root, "cannot read blobs",
                   stdin=("\n".join(unique) + "\n").encode())
        contents: dict[str, bytes] = {}
        pos = 0
        for blob in unique:
            nl = out.index(b"\n", pos)
            header = out[pos:nl].split()
            if len(header) != 3:
                raise GitError(f"cannot read blob {blob}")
            size = int(header[2])
            contents[blob] = out[nl + 1: nl + 1 + size]
            pos = nl + 1 + size + 1
        return contents


def _walked(sub: str, exclude: Sequence[str]) -> bool:
    """Whether a file at ``sub`` (below the directory given) is one a directory walk on disk
    reads (virtualenvs are not recognised in a tree: only their usual names are skipped)."""
    rel = sub.strip("/")
    parts = rel.split("/")
    return (not any(d.startswith(".") or d in SKIPPED_DIRS for d in parts[:-1])
            and _is_input_name(parts[-1]) and not (exclude and _excluded(rel, exclude)))


def _git(args: list[str], cwd: str, failure: str, stdin: bytes | None = None) -> bytes:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True)
    except FileNotFoundError:
        raise GitError("git is not installed (needed to read a revision)") from None
    except OSError as e:
        raise GitError(f"cannot run git: {e}") from None
    if done.returncode != 0:
        raise GitError(failure)
    return done.stdout


def read_revision(paths: Sequence[str], rev: str, *, cwd: str = ".",
                  shared: ParseCache | None = None, inputs: InputOptions | None = None,
                  exclude: Sequence[str] = (), limits: Limits | None = None,
                  ahead: Callable[[list[tuple[str, bytes]]], Any] | None = None) -> LoadResult:
    """Load the manifests under ``paths`` as they are at revision ``rev``; ``ahead`` may start
    reading the files' contents ahead (:func:`analyzer.inputs.parallel.prefetch_texts`) and
    return the store they go to."""
    repo = Repository.find(cwd)
    commit = repo.resolve(rev)
    files = repo.files(rev, commit, list(paths) or ["."], exclude)
    contents = repo.read([f.blob for f in files])
    where = f"{', '.join(paths) or '.'} at revision {rev}"
    named = [(f.label, contents[f.blob]) for f in files]
    loaded = load_texts(named, shared, where=where, inputs=inputs, limits=limits,
                        store=ahead(named) if ahead is not None else None)
    return loaded
