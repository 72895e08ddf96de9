"""The output formats of ``kreach diff``, one module each, behind ``render(diff, fmt)``."""

from __future__ import annotations

from typing import Callable

from ..diff.model import Diff
from . import diff_csv, diff_github, diff_json, diff_md, diff_txt

WRITERS: dict[str, Callable[[Diff], str]] = {
    "txt": diff_txt.render,
    "json": diff_json.render,
    "md": diff_md.render,
    "csv": diff_csv.render,
    "github": diff_github.render,
}


def render_diff(d: Diff, fmt: str) -> str:
    return WRITERS[fmt](d)
