"""Results of assertions as data: status, expected, found, examples and the rules responsible.

Everything a writer needs is here, already located (file and line of each rule), so writers
render and never re-evaluate.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..diagnostics import Diagnostic
from .model import Assertion


class Status(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    UNKNOWN = "unknown"  # the solver gave up; never read as passed
    ERROR = "error"  # the assertion cannot be evaluated on this input (see diagnostics)


@dataclass(frozen=True)
class RuleHit:
    """A rule (or a policy as a whole, ``index`` None) taking part in a result. ``role`` is
    ``allows`` (it lets the connection through), ``isolates`` (its policy selects the pod) or
    ``default`` (no policy isolates that side, so everything is allowed)."""

    text: str
    role: str
    direction: str
    policy: str | None = None
    index: int | None = None
    file: str | None = None
    line: int | None = None

    @property
    def location(self) -> str | None:
        if self.file is None:
            return None
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Example:
    """One connection: on a failure the counterexample, on a pass the evidence. ``src`` and
    ``dst`` name pods (``ns/pod/name (workload)``), addresses, or a pod that does not exist yet;
    ``protocol``/``port`` is one concrete connection, ``conns`` all that is allowed."""

    src: str
    dst: str
    protocol: str | None = None
    port: int | None = None
    conns: str | None = None
    rules: tuple[RuleHit, ...] = ()

    def flow_text(self) -> str:
        one = f"{self.protocol} {self.port}" if self.protocol and self.port else ""
        if self.conns and one:
            return f"{one} (allowed: {self.conns})"
        return one or self.conns or ""

    @property
    def is_blocked(self) -> bool:
        """The pair of a denial: no connection exists, only what was asked about."""
        return not self.flow_text()

    def asked_text(self) -> str:
        """The protocol and port a blocked pair was asked about (``5432``, ``UDP 53``, ``UDP``)."""
        return " ".join(str(x) for x in (self.protocol, self.port) if x)


@dataclass(frozen=True)
class Result:
    assertion: Assertion
    status: Status
    expected: str
    found: str
    examples: tuple[Example, ...] = ()
    notes: tuple[str, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    @property
    def rules(self) -> tuple[RuleHit, ...]:
        """The responsible rules of every example, each once, in order of appearance."""
        seen: dict[RuleHit, None] = {}
        for e in self.examples:
            for r in e.rules:
                seen.setdefault(r, None)
        return tuple(seen)


@dataclass(frozen=True)
class CheckReport:
    """One run of an assertion file. ``diagnostics`` are those of the file and the manifests."""

    file: str | None
    manifests: tuple[str, ...]
    results: tuple[Result, ...]
    diagnostics: tuple[Diagnostic, ...] = ()

    def count(self, status: Status) -> int:
        return sum(1 for r in self.results if r.status is status)

    @property
    def all_passed(self) -> bool:
        return all(r.passed for r in self.results)
