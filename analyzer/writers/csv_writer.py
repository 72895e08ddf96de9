"""CSV with a header: src,dst,conn."""

from __future__ import annotations

import csv
import io

from ..analysis import Analysis
from .rows import rows


def render(analysis: Analysis) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["src", "dst", "conn"])
    for r in rows(analysis):
        w.writerow([r.src, r.dst, r.conns.to_text()])
    return out.getvalue()
