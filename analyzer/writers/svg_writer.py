"""SVG of the connectivity graph, drawn by Graphviz's ``dot`` from the DOT writer's output."""

from __future__ import annotations

import shutil
import subprocess

from ..analysis import Analysis
from . import dot_writer


class WriterUnavailable(RuntimeError):
    """The format needs a program that is not installed; the message says how to get it."""


def render(analysis: Analysis) -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise WriterUnavailable(
            "--format svg needs Graphviz's 'dot' on PATH (e.g. apt-get install graphviz, brew install "
            "graphviz); or write DOT and draw it elsewhere: kreach list PATH --format dot | dot -Tsvg > graph.svg; "
            "--format html needs nothing")
    done = subprocess.run([dot, "-Tsvg"], input=dot_writer.render(analysis), capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        raise WriterUnavailable(f"dot -Tsvg failed: {done.stderr.strip()[:500]}")
    return done.stdout
