"""One line instead of hundreds: the objects kreach skipped because it does not model their kind.

A monitoring stack or a GitOps install holds ConfigMaps, CRDs, RBAC and the like by the hundred;
one info line per object buries what matters. :func:`summarize_skipped` replaces the per-object
KR004 notes by one KR051 line (kinds by count); ``-v`` keeps the per-object lines. Kinds that
change reachability (another engine's policies) are warnings of their own and are never summed
up here.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from ..diagnostics import Diagnostic
from ..messages import diagnostic

SKIPPED_KIND = "KR004"
CREATES_PODS = "KR017"  # a custom resource whose operator runs pods (kinds.POD_CREATING_KINDS)


def skipped_kind(d: Diagnostic) -> str:
    """The kind a KR004 note is about: the first word of its catalogue text."""
    return d.message.split(" ", 1)[0]


def summarize_skipped(diagnostics: Iterable[Diagnostic], shown: int = 6) -> list[Diagnostic]:
    """``diagnostics`` with every KR004 and KR017 note replaced by one KR051 summary, placed
    where the first of them was; kinds whose operator creates pods are named first, with what
    that means."""
    diagnostics = list(diagnostics)
    kinds = Counter(skipped_kind(d) for d in diagnostics if d.code == SKIPPED_KIND)
    operators = Counter(skipped_kind(d) for d in diagnostics if d.code == CREATES_PODS)
    if not kinds and not operators:
        return diagnostics
    ranked = sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0]))
    detail = ", ".join(f"{k} ({n})" for k, n in ranked[:shown])
    if len(ranked) > shown:
        detail += f" and {len(ranked) - shown} more kind{'s' if len(ranked) - shown > 1 else ''}"
    if operators:
        ops = ", ".join(f"{k} ({n})" for k, n in sorted(operators.items(), key=lambda kv: (-kv[1], kv[0])))
        detail = (f"{ops}, whose operators create pods kreach cannot see"
                  + (f"; {detail}" if detail else ""))
    kinds.update(operators)
    total = sum(kinds.values())
    summary = diagnostic("KR051", None, count=total, s="" if total == 1 else "s",
                         kinds=len(kinds), ks="" if len(kinds) == 1 else "s", detail=detail)
    out: list[Diagnostic] = []
    for d in diagnostics:
        if d.code not in (SKIPPED_KIND, CREATES_PODS):
            out.append(d)
        elif summary is not None:
            out.append(summary)
            summary = None
    return out
