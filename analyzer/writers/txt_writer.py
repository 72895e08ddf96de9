"""``src => dst : TCP 8080,UDP 53`` — one line per ordered pair with something allowed."""

from __future__ import annotations

from typing import Iterable, Iterator

from ..analysis import Analysis
from .rows import Row, in_parts


def lines(analysis: Analysis) -> Iterator[str]:
    """The output line by line, so that a huge listing is written as it is made."""
    return in_parts(analysis, _lines)


def _lines(part: Iterable[Row]) -> Iterator[str]:
    texts: dict = {}  # connection set -> its text: a few distinct sets make every line
    for r in part:
        text = texts.get(r.conns)
        if text is None:
            text = texts[r.conns] = r.conns.to_text()
        yield f"{r.src} => {r.dst} : {text}\n"


def render(analysis: Analysis) -> str:
    return "".join(lines(analysis))
