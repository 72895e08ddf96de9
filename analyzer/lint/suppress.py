"""Inline suppressions: ``# kreach: ignore[KRL203] reason`` in the YAML itself.

A comment suppresses the codes it lists for findings located on its line, or on the line that
follows a block of comment lines it belongs to: the line of the finding itself, of the rule it is
about, or of the object's first line (``apiVersion``). Codes may be prefixes (``KRL2``) or
``ALL``; several are separated by commas. The reason is free text and is reported with the
suppressed finding. Comments are read from the source text the loader kept, so a suppression
costs nothing when there are no findings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..diagnostics import Diagnostic
from ..inputs.loading import Locator
from ..source import SourceRef
from .codes import expand
from .findings import Finding

_COMMENT = re.compile(r"#\s*kreach:\s*ignore\[([^\]]*)\]\s*(.*)$", re.IGNORECASE)
_ONLY_COMMENT = re.compile(r"^\s*#")


@dataclass(frozen=True)
class Suppression:
    source: SourceRef
    codes: frozenset[str]
    reason: str


def read_suppressions(locator: Locator) -> tuple[dict[tuple[str, int], Suppression],
                                                  list[Diagnostic], frozenset[tuple[str, int]]]:
    """Every suppression comment of the input, keyed by (file, line), diagnostics for codes
    that name no lint code, and the (file, line) of every line holding only a comment (read in
    the same pass, so that finding the comment block above a line looks nothing up again)."""
    from ..messages import diagnostic

    found: dict[tuple[str, int], Suppression] = {}
    diags: list[Diagnostic] = []
    comment_only: set[tuple[str, int]] = set()
    for file in locator.files:
        for line, text in locator.numbered_lines(file):
            if "#" not in text:
                continue
            if _ONLY_COMMENT.match(text):
                comment_only.add((file, line))
            if "kreach" not in text:
                continue
            m = _COMMENT.search(text)
            if m is None:
                continue
            where = SourceRef(file, line)
            codes, unknown = expand([c for c in m.group(1).split(",") if c.strip()])
            for u in unknown:
                diags.append(diagnostic("KR503", where, pattern=u or "(empty)"))
            found[(file, line)] = Suppression(where, frozenset(codes), m.group(2).strip())
    return found, diags, frozenset(comment_only)


def covering(finding: Finding, suppressions: dict[tuple[str, int], Suppression],
             comment_only: frozenset[tuple[str, int]]) -> Suppression | None:
    """The suppression comment that applies to ``finding``, if any; ``comment_only`` holds the
    lines that are only a comment (:func:`read_suppressions`)."""
    for anchor in finding.anchors:
        if not anchor.line:
            continue
        key = (anchor.file, anchor.line)
        s = suppressions.get(key)
        if s is not None and finding.code in s.codes:
            return s
        line = anchor.line - 1  # the comment block right above the anchor line
        while line > 0 and (anchor.file, line) in comment_only:
            s = suppressions.get((anchor.file, line))
            if s is not None and finding.code in s.codes:
                return s
            line -= 1
    return None


__all__ = ["Suppression", "covering", "read_suppressions"]
