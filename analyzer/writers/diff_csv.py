"""``kreach diff --format csv``: one row per changed pair, with a header."""

from __future__ import annotations

import csv
import io

from ..diff.model import Diff


def render(d: Diff) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["src", "dst", "change", "before", "after", "rules_before", "rules_after"])
    for c in d.changes:
        w.writerow([c.src, c.dst, c.change, c.before.to_text() if c.before else "",
                    c.after.to_text() if c.after else "",
                    "; ".join(map(str, c.rules_before)), "; ".join(map(str, c.rules_after))])
    return out.getvalue()
