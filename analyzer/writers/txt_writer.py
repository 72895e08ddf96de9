"""``src => dst : TCP 8080,UDP 53`` — one line per ordered pair with something allowed."""

from __future__ import annotations

from ..analysis import Analysis
from .rows import rows


def render(analysis: Analysis) -> str:
    return "".join(f"{r.src} => {r.dst} : {r.conns.to_text()}\n" for r in rows(analysis))
