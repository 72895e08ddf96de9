"""Settings from ``[tool.kreach]`` in the nearest ``pyproject.toml``, ruff-style.

The search walks up from the working directory and stops at the first ``pyproject.toml`` that
has a ``[tool.kreach]`` table, or at the repository root. Command-line flags override every
setting. Keys::

    [tool.kreach]
    level = "workload"        # or "pod"
    format = "json"           # output format of every command that has it (txt and text are one)
    strict = false            # exit 2 on any input error
    k8s-version = "1.30"      # schemas to validate against
    schema = true             # schema validation on/off
    assertions = "kreach.yaml"  # the file `kreach check` runs
    exclude = ["charts/*"]    # globs a directory walk leaves out
    namespace = "shop"        # namespace of objects that name none (kubectl -n)
    timeout = 5               # seconds per solver call

    [tool.kreach.lint]        # `kreach lint` (see docs/lint.md and analyzer.lint.settings)
    select = ["KRL"]

An unknown key or a wrong value is an error located at its line, with the closest key named.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from ..diagnostics import Diagnostic
from ..messages import diagnostic
from ..source import SourceRef

KEYS: dict[str, tuple[type, tuple[Any, ...] | None]] = {
    "level": (str, ("workload", "pod")),
    "format": (str, ("txt", "text", "json", "csv", "md", "dot", "html", "svg", "junit", "github", "sarif")),
    "strict": (bool, None),
    "k8s-version": (str, None),
    "schema": (bool, None),
    "assertions": (str, None),
    "exclude": (list, None),
    "namespace": (str, None),
    "timeout": ((int, float), None),
    "lint": (dict, None),  # [tool.kreach.lint], read by analyzer.lint.settings
    "allow-partial": (bool, None),
    "cache": (bool, None),  # reuse parsed and validated files between runs (analyzer.inputs.cache)
    "crown-jewels": (list, None),  # kreach audit --crown-jewels
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
    text = _text(path)
    values: dict[str, Any] = {}
    diags = []
    for key, value in table.items():
        at = SourceRef(where.file, _key_line(text, key))
        if key not in KEYS:
            near = difflib.get_close_matches(key, list(KEYS), 1, 0.6)
            hint = f"; did you mean {near[0]!r}?" if near else f"; expected one of {', '.join(KEYS)}"
            diags.append(diagnostic("KR311", at, detail=f"unknown key {key!r} in [tool.kreach]{hint}"))
            continue
        kind, allowed = KEYS[key]
        bad = (not isinstance(value, kind) or isinstance(value, bool) and kind is not bool
               or (allowed is not None and value not in allowed)
               or kind is list and not all(isinstance(v, str) for v in value))
        if bad:
            want = (" | ".join(map(repr, allowed)) if allowed
                    else "a list of strings" if kind is list
                    else "a number" if isinstance(kind, tuple) else kind.__name__)
            diags.append(diagnostic("KR311", at, detail=f"[tool.kreach] {key} must be {want}, "
                                    f"not {value!r}"))
            continue
        values[key] = value
    return Settings(values, path, tuple(diags))


def _text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read()
    except OSError:
        return ""


def _key_line(text: str, key: str) -> int:
    """The line of ``key = ...`` inside the ``[tool.kreach]`` table (0 when not found:
    a dotted or inline-table spelling)."""
    inside = False
    for n, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("["):
            inside = stripped.replace(" ", "") in ("[tool.kreach]",)
            continue
        if inside and re.match(rf"""^["']?{re.escape(key)}["']?\s*=""", stripped):
            return n
    return 0
