"""``kreach diff`` as text: one line per changed pair, then the rules responsible.

    + SRC => DST : AFTER                     added
    - SRC => DST : BEFORE                    removed
    ~ SRC => DST : BEFORE -> AFTER           changed
"""

from __future__ import annotations

from ..diff.model import Diff, PairChange

MARK = {"added": "+", "removed": "-", "changed": "~"}


def conns_text(c: PairChange) -> str:
    if c.change == "added":
        return c.after.to_text()
    if c.change == "removed":
        return c.before.to_text()
    return f"{c.before.to_text()} -> {c.after.to_text()}"


def endpoint_note(c: PairChange) -> str:
    notes = [f"{e} is new" for e in c.new_endpoints] + [f"{e} is removed" for e in c.removed_endpoints]
    return f"  ({'; '.join(notes)})" if notes else ""


def summary(d: Diff) -> str:
    return (f"{d.old_label} -> {d.new_label}: {d.count('added')} added, {d.count('removed')} "
            f"removed, {d.count('changed')} changed; {len(d.new_endpoints)} new and "
            f"{len(d.removed_endpoints)} removed {d.level}s")


def render(d: Diff) -> str:
    lines = []
    for e in d.new_endpoints:
        lines.append(f"new {d.level}: {e}")
    for e in d.removed_endpoints:
        lines.append(f"removed {d.level}: {e}")
    for c in d.changes:
        lines.append(f"{MARK[c.change]} {c.src} => {c.dst} : {conns_text(c)}{endpoint_note(c)}")
        for r in c.rules_before:
            lines.append(f"    before: allowed by {r}")
        for r in c.rules_after:
            lines.append(f"    after:  allowed by {r}")
    lines.append(summary(d))
    return "\n".join(lines) + "\n"
