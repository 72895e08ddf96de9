"""The ``kreach check`` output formats: one module per format, each ``render(report) -> str``."""

from __future__ import annotations

from typing import Callable

from ..assertions.results import CheckReport
from . import check_github, check_json, check_junit, check_sarif, check_text

CheckWriter = Callable[[CheckReport], str]

CHECK_WRITERS: dict[str, CheckWriter] = {
    "text": check_text.render,
    "json": check_json.render,
    "junit": check_junit.render,
    "github": check_github.render,
    "sarif": check_sarif.render,
}


def render_check(report: CheckReport, fmt: str) -> str:
    return CHECK_WRITERS[fmt](report)
