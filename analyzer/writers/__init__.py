"""Output formats for a connectivity analysis, one module per format.

Every writer is a function ``render(analysis) -> str``; writers read the connectivity view (the
graph's nodes and edges) and the rule references carried on it, and never recompute connectivity.
"""

from __future__ import annotations

from typing import Callable, Iterator

from ..analysis import Analysis
from . import csv_writer, dot_writer, json_writer, md_writer, svg_writer, txt_writer


def _html(analysis: Analysis) -> str:
    from ..report.html import render_view

    return render_view(analysis.view)

Writer = Callable[[Analysis], str]

WRITERS: dict[str, Writer] = {
    "txt": txt_writer.render,
    "json": json_writer.render,
    "csv": csv_writer.render,
    "md": md_writer.render,
    "dot": dot_writer.render,
    "html": _html,
    "svg": svg_writer.render,
}

FORMATS = tuple(WRITERS)


# formats that can be written piece by piece as they are made (kreach list streams them)
STREAMS: dict[str, Callable[[Analysis], Iterator[str]]] = {
    "txt": txt_writer.lines,
    "json": json_writer.lines,
    "csv": csv_writer.lines,
}


def render(analysis: Analysis, fmt: str) -> str:
    return WRITERS[fmt](analysis)


def stream(analysis: Analysis, fmt: str) -> Iterator[str]:
    """The output of ``fmt`` in pieces: streamed for txt, json and csv, whole for the others."""
    if fmt in STREAMS:
        return STREAMS[fmt](analysis)
    return iter((render(analysis, fmt),))
