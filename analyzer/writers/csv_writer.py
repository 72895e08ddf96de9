"""CSV with a header: src,dst,conn."""

from __future__ import annotations

import csv
import io
from typing import Iterator

from ..analysis import Analysis
from .rows import rows


def lines(analysis: Analysis) -> Iterator[str]:
    """The output row by row, so that a huge listing is written as it is made."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["src", "dst", "conn"])
    for r in rows(analysis):
        w.writerow([r.src, r.dst, r.conns.to_text()])
        if out.tell() > 1 << 16:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def render(analysis: Analysis) -> str:
    return "".join(lines(analysis))
