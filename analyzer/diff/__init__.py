"""Comparing two analyses: which connections a change opens and closes (``kreach diff``).

``diff(old, new)`` takes two :class:`~analyzer.analysis.Analysis` and returns a frozen
:class:`Diff`; ``diff_texts`` does the same for two sets of manifests held in memory (another
front end, e.g. a Terraform plan's prior and planned state, plugs in here), parsing text that is
the same on both sides once.
"""

from __future__ import annotations

from typing import Sequence

from ..analysis import Options, analyze_texts
from .compute import diff
from .model import ADDED, CHANGED, REMOVED, Diff, PairChange, RuleAt


def diff_texts(old: Sequence[tuple[str, str]], new: Sequence[tuple[str, str]],
               options: Options = Options(), *, old_label: str = "old",
               new_label: str = "new") -> Diff:
    """Diff two sets of ``(name, manifest text)`` pairs; names are what locations will say."""
    from ..inputs.loading import ParseCache

    cache = ParseCache()
    return diff(analyze_texts(old, options, shared=cache), analyze_texts(new, options, shared=cache),
                old_label=old_label, new_label=new_label)


__all__ = ["ADDED", "CHANGED", "REMOVED", "Diff", "PairChange", "RuleAt", "diff", "diff_texts"]
