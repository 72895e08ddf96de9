"""Settings from ``[tool.kreach]`` in the nearest ``pyproject.toml``, ruff-style.

The search walks up from the working directory and stops at the first ``pyproject.toml`` that
has a ``[tool.kreach]`` table, or at the repository root. Command-line flags override every
setting. Keys::

    [tool.kreach]
    level = "workload"        # or "pod"
    format = "txt"            # default output format of `kreach list`
    strict = false            # exit 2 on any input error
    k8s-version = "1.30"      # schemas to validate against
    schema = true             # schema validation on/off
    assertions = "kreach.yaml"  # the file `kreach check` runs
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import Diagnostic
from ..messages import diagnostic
from ..source import SourceRef

KEYS: dict[str, tuple[type, tuple[Any, ...] | None]] = {
    "level": (str, ("workload", "pod")),
    "format": (str, ("txt", "json", "csv", "md", "dot")),
    "strict": (bool, None),
    "k8s-version": (str, None),
    "schema": (bool, None),
    "assertions": (str, None),
}


@dataclass(frozen=True)
class Settings:
    values: dict[str, Any] = field(default_factory=dict)
    source: str | None = None  # the pyproject.toml they came from
    diagnostics: tuple[Diagnostic, ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def display_path(path: str) -> str:
    """Relative to the working directory when below it (reports then name files as CI does)."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def walk_up(start: str = "."):
    """``start`` and its parents, up to and including the repository root (a folder holding
    ``.git``) or the filesystem root: where project configuration is looked for."""
    here = os.path.abspath(start)
    while True:
        yield here
        parent = os.path.dirname(here)
        if parent == here or os.path.exists(os.path.join(here, ".git")):
            return
        here = parent


def find_settings(start: str = ".") -> Settings:
    for here in walk_up(start):
        pyproject = os.path.join(here, "pyproject.toml")
        if os.path.isfile(pyproject):
            settings = read_settings(pyproject)
            if settings is not None:
                return settings
    return Settings()


def read_settings(path: str) -> Settings | None:
    """The ``[tool.kreach]`` table of ``path``; None when the file has none."""
    where = SourceRef(display_path(path))
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as e:
        return Settings({}, path, (diagnostic("KR311", where, detail=str(e)),))
    tool = data.get("tool")
    table = tool.get("kreach") if isinstance(tool, dict) else None
    if table is None:
        return None
    if not isinstance(table, dict):
        return Settings({}, path, (diagnostic("KR311", where, detail="tool.kreach must be a table"),))
    values: dict[str, Any] = {}
    diags = []
    for key, value in table.items():
        if key not in KEYS:
            diags.append(diagnostic("KR311", where, detail=f"unknown key {key!r} in [tool.kreach]; "
                                    f"expected one of {', '.join(KEYS)}"))
            continue
        kind, allowed = KEYS[key]
        if not isinstance(value, kind) or (allowed is not None and value not in allowed):
            want = " | ".join(map(repr, allowed)) if allowed else kind.__name__
            diags.append(diagnostic("KR311", where, detail=f"[tool.kreach] {key} must be {want}, "
                                    f"not {value!r}"))
            continue
        values[key] = value
    return Settings(values, path, tuple(diags))
