"""What changed between two analyses, as data: the pairs whose allowed connections differ and
the endpoints that appeared or disappeared. Frozen; writers render it and never recompute."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping

from ..diagnostics import Diagnostic
from ..engine.compile import RuleRef
from ..model.connset import ConnectionSet

Change = Literal["added", "removed", "changed"]
ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True, slots=True)
class RuleAt:
    """A rule responsible for a change, with the file and line it has in its revision."""

    ref: RuleRef
    file: str | None
    line: int | None

    @property
    def where(self) -> str:
        if self.file is None:
            return ""
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        return f"{self.ref} ({self.where})" if self.file else str(self.ref)


@dataclass(frozen=True, slots=True)
class PairChange:
    """One ordered pair whose allowed connections differ. ``change`` is ``added`` (nothing was
    allowed before), ``removed`` (nothing is allowed after) or ``changed`` (both non-empty).
    ``rules_before`` allowed it in OLD and do not in NEW (or changed), ``rules_after`` the
    reverse. ``new_endpoints`` / ``removed_endpoints`` name the pair's ends that exist only
    in NEW / only in OLD (netpol-analyzer's "workload X added")."""

    src: str
    dst: str
    change: Change
    before: ConnectionSet
    after: ConnectionSet
    rules_before: tuple[RuleAt, ...]
    rules_after: tuple[RuleAt, ...]
    new_endpoints: tuple[str, ...] = ()
    removed_endpoints: tuple[str, ...] = ()

    @property
    def opened(self) -> ConnectionSet:
        return self.after - self.before

    @property
    def closed(self) -> ConnectionSet:
        return self.before - self.after


@dataclass(frozen=True)
class Diff:
    """Two analyses compared at one level (``workload`` or ``pod``)."""

    level: str
    endpoints: Mapping[str, Mapping[str, Any]]  # every id used in changes, as in the graph view
    changes: tuple[PairChange, ...]
    new_endpoints: tuple[str, ...]  # workloads (or pods) only in NEW
    removed_endpoints: tuple[str, ...]  # only in OLD
    old_label: str = "old"
    new_label: str = "new"
    diagnostics: tuple[Diagnostic, ...] = ()  # of both inputs, in their own locations

    def __bool__(self) -> bool:
        return bool(self.changes or self.new_endpoints or self.removed_endpoints)

    def is_external(self, endpoint: str) -> bool:
        return self.endpoints[endpoint]["type"] == "external"

    def count(self, change: Change) -> int:
        return sum(1 for c in self.changes if c.change == change)

    def has(self, change: Change | Literal["any"]) -> bool:
        return any(change == "any" or c.change == change for c in self.changes)
