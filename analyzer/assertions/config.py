"""Finding the assertion file, ruff-style: walk up from the working directory to the nearest
``pyproject.toml`` with a ``[tool.kreach]`` table (``assertions = "path"``, relative to that
file) or the nearest ``kreach.yaml``, whichever comes first; stop at the repository root."""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..diagnostics import Diagnostic
from ..messages import diagnostic
from ..source import SourceRef

DEFAULT_NAME = "kreach.yaml"
# every [tool.kreach] key (analyzer.inputs.config documents them); this module reads "assertions"
from ..inputs.config import KEYS as _KEYS, display_path, read_settings, walk_up  # noqa: E402
from ..diagnostics import Severity  # noqa: E402

CONFIG_KEYS = tuple(_KEYS)


@dataclass(frozen=True)
class Found:
    path: str | None
    diagnostics: tuple[Diagnostic, ...] = ()


def find_assertion_file(start: str = ".") -> Found:
    """The assertion file for a run started in ``start``."""
    here = os.path.abspath(start)
    for here in walk_up(start):
        pyproject = os.path.join(here, "pyproject.toml")
        if os.path.isfile(pyproject):
            found = _from_pyproject(pyproject)
            if found is not None:
                return found
        candidate = os.path.join(here, DEFAULT_NAME)
        if os.path.isfile(candidate):
            return Found(display_path(candidate))
    return Found(None, (diagnostic(
        "KR310", None, detail=f"no {DEFAULT_NAME} and no [tool.kreach] in a pyproject.toml "
        f"from {os.path.abspath(start)} up to {here}; pass the file to kreach check"),))


def _from_pyproject(path: str) -> Found | None:
    settings = read_settings(path)  # one reader of [tool.kreach] for every command
    if settings is None:
        return None
    diags = list(settings.diagnostics)
    if any(d.severity is Severity.ERROR and "assertions" in d.message for d in diags):
        return Found(None, tuple(diags))
    target = settings.get("assertions", DEFAULT_NAME)
    full = os.path.normpath(os.path.join(os.path.dirname(path), target))
    if not os.path.isfile(full):
        diags.append(diagnostic("KR310", SourceRef(display_path(path)),
                                detail=f"{target} (named by [tool.kreach] assertions) does not exist"))
        return Found(None, tuple(diags))
    return Found(display_path(full), tuple(diags))
