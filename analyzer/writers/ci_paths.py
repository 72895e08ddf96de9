"""File paths as CI systems want them: relative to the repository root, ``/``-separated, never
``./``. GitHub annotations and SARIF locations are resolved against the checkout's root, so a
run started in a subdirectory (``cd deploy && kreach check``) must still name
``deploy/policies.yaml``, not ``policies.yaml`` or ``./policies.yaml``."""

from __future__ import annotations

import os
from functools import lru_cache

from ..source import STDIN


@lru_cache(maxsize=8)
def repository_root(cwd: str) -> str:
    """The nearest folder at or above ``cwd`` holding ``.git``; else ``$GITHUB_WORKSPACE`` when
    ``cwd`` is inside it; else ``cwd``."""
    here = cwd
    while True:
        if os.path.exists(os.path.join(here, ".git")):
            return here
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    workspace = os.environ.get("GITHUB_WORKSPACE")
    if workspace and (cwd + os.sep).startswith(os.path.abspath(workspace) + os.sep):
        return os.path.abspath(workspace)
    return cwd


def repo_path(path: str) -> str:
    """``path`` (as reported, relative to the working directory or absolute) relative to the
    repository root; a file outside the repository keeps its absolute path."""
    if not path or path == STDIN:
        return path
    cwd = os.getcwd()
    full = os.path.normpath(os.path.join(cwd, path))
    root = repository_root(cwd)
    rel = os.path.relpath(full, root)
    if rel == ".." or rel.startswith(".." + os.sep):
        return full.replace(os.sep, "/")
    return rel.replace(os.sep, "/")
