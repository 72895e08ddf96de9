"""Assertions run on two revisions: which ones a change breaks, which were failing already,
which it fixes (``kreach check --base REV``). Pure: two check reports in, one comparison out.

Assertions are matched by name (names are unique in a file). An assertion that does not pass at
the base revision (failed, unknown or in error) and does not pass now is "already failing"; one
that passed there and does not pass now is "broken" by the change."""

from __future__ import annotations

from dataclasses import dataclass

from ..assertions.results import CheckReport, Result


@dataclass(frozen=True)
class CheckComparison:
    base: str  # the revision compared with
    broken: tuple[Result, ...]  # pass at base, not now
    already_failing: tuple[Result, ...]  # not at base, not now
    fixed: tuple[Result, ...]  # not at base, pass now
    new: tuple[Result, ...]  # assertions the base revision could not run (no manifests there)

    @property
    def breaks_something(self) -> bool:
        return bool(self.broken)


def compare_checks(base_rev: str, base: CheckReport, head: CheckReport) -> CheckComparison:
    before = {r.assertion.name: r for r in base.results}
    broken, failing, fixed, new = [], [], [], []
    for r in head.results:
        old = before.get(r.assertion.name)
        if old is None:
            (new if r.passed else broken).append(r)
        elif old.passed and not r.passed:
            broken.append(r)
        elif not old.passed and not r.passed:
            failing.append(r)
        elif not old.passed and r.passed:
            fixed.append(r)
    return CheckComparison(base_rev, tuple(broken), tuple(failing), tuple(fixed), tuple(new))
