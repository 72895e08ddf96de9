"""The ``kreach lint`` output formats: one module per format, each ``render(report) -> str``."""

from __future__ import annotations

from typing import Callable

from ..lint.findings import LintReport
from . import lint_github, lint_json, lint_sarif, lint_text

LINT_WRITERS: dict[str, Callable[[LintReport], str]] = {
    "text": lint_text.render,
    "json": lint_json.render,
    "github": lint_github.render,
    "sarif": lint_sarif.render,
}


def render_lint(report: LintReport, fmt: str) -> str:
    return LINT_WRITERS[fmt](report)
