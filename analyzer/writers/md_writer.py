"""A Markdown table: | src | dst | conn |."""

from __future__ import annotations

from ..analysis import Analysis
from .rows import rows


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(analysis: Analysis) -> str:
    lines = ["| src | dst | conn |", "|-----|-----|------|"]
    lines += [f"| {_cell(r.src)} | {_cell(r.dst)} | {_cell(r.conns.to_text())} |" for r in rows(analysis)]
    return "\n".join(lines) + "\n"
