"""``kreach diff --format md``: a pull-request comment. One summary line, then a table of the
paths the change opens and one of those it closes; changes with an address range (traffic from
or to outside the cluster) come first in each table."""

from __future__ import annotations

from ..diff.model import Diff, PairChange, RuleAt


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rules(rules: tuple[RuleAt, ...]) -> str:
    return "<br>".join(f"{r.ref}" + (f" (`{r.where}`)" if r.file else "") for r in rules) or "-"


def _conns(c) -> str:
    return c.to_text() if c else "nothing"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary(d: Diff, opened: list[PairChange], closed: list[PairChange]) -> str:
    if not d:
        return f"**kreach**: no change in connectivity ({d.old_label} → {d.new_label})."
    parts = [f"opens {_plural(len(opened), 'path')}", f"closes {len(closed)}"]
    facing = sum(1 for c in opened if d.is_external(c.src) or d.is_external(c.dst))
    if facing:
        parts[0] += f" ({facing} to or from outside the cluster)"
    if d.new_endpoints or d.removed_endpoints:
        parts.append(f"adds {len(d.new_endpoints)} and removes {len(d.removed_endpoints)} {d.level}s")
    return f"**kreach**: this change {', '.join(parts)} ({d.old_label} → {d.new_label})."


def render(d: Diff) -> str:
    def facing_first(changes: list[PairChange]) -> list[PairChange]:
        return sorted(changes, key=lambda c: not (d.is_external(c.src) or d.is_external(c.dst)))

    opened = facing_first([c for c in d.changes if c.opened])
    closed = facing_first([c for c in d.changes if c.closed])
    out = [summary(d, opened, closed), ""]
    if opened:
        out += ["#### Opened", "", "| from | to | now allowed | before | allowed by |",
                "|---|---|---|---|---|"]
        out += [f"| {_cell(c.src)} | {_cell(c.dst)} | {_cell(_conns(c.opened))} | "
                f"{_cell(_conns(c.before))} | {_cell(_rules(c.rules_after))} |" for c in opened]
        out.append("")
    if closed:
        out += ["#### Closed", "", "| from | to | no longer allowed | after | was allowed by |",
                "|---|---|---|---|---|"]
        out += [f"| {_cell(c.src)} | {_cell(c.dst)} | {_cell(_conns(c.closed))} | "
                f"{_cell(_conns(c.after))} | {_cell(_rules(c.rules_before))} |" for c in closed]
        out.append("")
    if d.new_endpoints:
        out += [f"New {d.level}s: " + ", ".join(f"`{e}`" for e in d.new_endpoints), ""]
    if d.removed_endpoints:
        out += [f"Removed {d.level}s: " + ", ".join(f"`{e}`" for e in d.removed_endpoints), ""]
    return "\n".join(out)
