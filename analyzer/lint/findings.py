"""Lint results as frozen data: what was found, where, which policy and rule, and why.

A :class:`Finding` is located (file:line of the object, rule or peer it is about), names the
policy and rule (a :class:`~analyzer.engine.compile.RuleRef`, the same reference every other
kreach answer uses), and, for a selector that matches nothing in the input, the hypothetical pod
that would match it. Writers render findings; they never recompute them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, Severity
from ..engine.compile import RuleRef
from ..source import SourceRef

SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2}


@dataclass(frozen=True, slots=True)
class HypotheticalPod:
    """A pod that does not exist in the input but would match a selector: its namespace (which
    may be a namespace that does not exist yet, with ``namespace_labels``) and labels."""

    namespace: str
    labels: tuple[tuple[str, str], ...]
    new_namespace: bool = False
    namespace_labels: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        labels = ",".join(f"{k}={v}" for k, v in self.labels) or "no labels"
        if self.new_namespace:
            ns_labels = ",".join(f"{k}={v}" for k, v in self.namespace_labels) or "no labels"
            return f"a pod with {labels} in a new namespace with {ns_labels}"
        return f"a pod with {labels} in namespace {self.namespace}"

    def to_dict(self) -> dict:
        return {"namespace": None if self.new_namespace else self.namespace,
                "labels": dict(self.labels), "new_namespace": self.new_namespace,
                "namespace_labels": dict(self.namespace_labels)}


@dataclass(frozen=True, slots=True)
class Finding:
    code: str
    severity: Severity
    message: str
    source: SourceRef | None = None  # file and line the finding is about
    policy: str | None = None  # "namespace/name" of the policy, when it is about one
    rule: RuleRef | None = None  # the rule, when it is about one
    related: tuple[RuleRef, ...] = ()  # other rules or policies involved (the shadowing rule...)
    hypothetical: HypotheticalPod | None = None
    subject: str | None = None  # what it is about when not a policy (a namespace, a workload)
    anchors: tuple[SourceRef, ...] = ()  # where a suppression comment is looked for

    @property
    def file(self) -> str | None:
        return self.source.file if self.source else None

    @property
    def line(self) -> int | None:
        return self.source.line if self.source and self.source.line else None

    def __str__(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.severity.value}[{self.code}]: {self.message}"

    def to_dict(self) -> dict:
        return {
            "code": self.code, "severity": self.severity.value, "message": self.message,
            "file": self.file, "line": self.line, "policy": self.policy,
            "rule": None if self.rule is None else rule_dict(self.rule),
            "related": [rule_dict(r) for r in self.related],
            "hypothetical_pod": None if self.hypothetical is None else self.hypothetical.to_dict(),
            "subject": self.subject,
        }


def rule_dict(r: RuleRef) -> dict:
    return {"text": str(r), "kind": r.kind, "policy": r.policy,
            "direction": r.direction.lower(), "index": r.index,
            "file": r.source.file if r.source else None}


@dataclass(frozen=True)
class LintSettings:
    """What to report: ``select``/``ignore`` are sets of codes (``None`` select: every code);
    ``severities`` overrides default severities; ``fail_on`` is the lowest severity that makes
    ``kreach lint`` exit 1."""

    select: frozenset[str] | None = None
    ignore: frozenset[str] = frozenset()
    severities: tuple[tuple[str, Severity], ...] = ()
    fail_on: Severity = Severity.WARNING
    edge_workloads: tuple[str, ...] = ()  # workload ids always treated as edge (KRL302)

    def enabled(self, code: str) -> bool:
        return (self.select is None or code in self.select) and code not in self.ignore

    def severity(self, code: str, default: Severity) -> Severity:
        return dict(self.severities).get(code, default)


@dataclass(frozen=True)
class LintReport:
    findings: tuple[Finding, ...]
    suppressed: tuple[tuple[Finding, str], ...] = ()  # (finding, the reason given)
    diagnostics: tuple[Diagnostic, ...] = ()  # input problems, never hidden by findings
    settings: LintSettings = field(default_factory=LintSettings)

    def failing(self) -> tuple[Finding, ...]:
        """Findings at or above the settings' ``fail_on`` severity."""
        floor = SEVERITY_RANK[self.settings.fail_on]
        return tuple(f for f in self.findings if SEVERITY_RANK[f.severity] >= floor)

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity is severity)
