"""``kreach diff --format github``: GitHub Actions workflow commands. A ``::warning`` on every
policy line that opened something (the rules allowing a pair in NEW and not in OLD), naming
what it opened, so a reviewer sees it on the line of the pull request; one summary line last.
Rules of the old revision have no line in the pull request and are not annotated."""

from __future__ import annotations

from ..diff.model import Diff
from .check_github import command
from .diff_txt import summary

MAX_PAIRS = 10  # per annotation; the rest are counted


def render(d: Diff) -> str:
    opened: dict[tuple[str, int | None], list[str]] = {}
    for c in d.changes:
        if not c.opened:
            continue
        for r in c.rules_after:
            if r.file is None:
                continue
            file = r.file.removeprefix(f"{d.new_label}:")  # a revision's label is not a path
            opened.setdefault((file, r.line), []).append(
                f"{c.src} => {c.dst} : {c.opened.to_text()}")
    lines = []
    for (file, line), pairs in sorted(opened.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        more = f" and {len(pairs) - MAX_PAIRS} more" if len(pairs) > MAX_PAIRS else ""
        lines.append(command("warning", f"this rule opens {'; '.join(pairs[:MAX_PAIRS])}{more}",
                             file, line, "kreach diff: opens a path"))
    lines.append(summary(d))
    return "\n".join(lines) + "\n"
