"""``src => dst : TCP 8080,UDP 53`` — one line per ordered pair with something allowed."""

from __future__ import annotations

from typing import Iterator

from ..analysis import Analysis
from .rows import rows


def lines(analysis: Analysis) -> Iterator[str]:
    """The output line by line, so that a huge listing is written as it is made."""
    texts: dict = {}  # connection set -> its text: a few distinct sets make every line
    for r in rows(analysis):
        text = texts.get(r.conns)
        if text is None:
            text = texts[r.conns] = r.conns.to_text()
        yield f"{r.src} => {r.dst} : {text}\n"


def render(analysis: Analysis) -> str:
    return "".join(lines(analysis))
