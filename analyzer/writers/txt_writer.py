"""``src => dst : TCP 8080,UDP 53`` — one line per ordered pair with something allowed."""

from __future__ import annotations

from typing import Iterator

from ..analysis import Analysis
from .rows import rows


def lines(analysis: Analysis) -> Iterator[str]:
    """The output line by line, so that a huge listing is written as it is made."""
    for r in rows(analysis):
        yield f"{r.src} => {r.dst} : {r.conns.to_text()}\n"


def render(analysis: Analysis) -> str:
    return "".join(lines(analysis))
