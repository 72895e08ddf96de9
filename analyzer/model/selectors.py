"""Label selectors: the data type and pure matching functions.

A selector that is *absent* and one that is *empty* differ in NetworkPolicy peers; that
distinction is kept by the callers (``None`` vs :data:`MATCH_ALL`). Here an empty selector
matches everything, as the API reference says.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


@dataclass(frozen=True, slots=True)
class Requirement:
    key: str
    operator: str  # one of OPERATORS
    values: frozenset[str] = frozenset()

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op == "In":
            return labels.get(self.key) in self.values
        if op == "NotIn":  # true when the key is absent, as in Kubernetes
            return labels.get(self.key) not in self.values
        if op == "Exists":
            return self.key in labels
        return self.key not in labels  # DoesNotExist


@dataclass(frozen=True, slots=True)
class LabelSelector:
    """matchLabels are normalised into ``In`` requirements with one value; the requirements are
    sorted so equal selectors are equal values. ``has_expressions`` only remembers whether the
    manifest wrote matchExpressions (reports that describe selectors as written read it); it takes
    no part in equality."""

    requirements: tuple[Requirement, ...] = ()
    has_expressions: bool = field(default=False, compare=False)

    @classmethod
    def build(cls, match_labels: Mapping[str, str] | None = None,
              match_expressions: tuple[Requirement, ...] = ()) -> "LabelSelector":
        reqs = {Requirement(k, "In", frozenset({v})) for k, v in (match_labels or {}).items()}
        reqs.update(match_expressions)
        return cls(tuple(sorted(reqs, key=lambda r: (r.key, r.operator, sorted(r.values)))),
                   bool(match_expressions))

    @property
    def is_empty(self) -> bool:
        return not self.requirements

    def matches(self, labels: Mapping[str, str]) -> bool:
        return all(r.matches(labels) for r in self.requirements)

    def keys(self) -> frozenset[str]:
        return frozenset(r.key for r in self.requirements)

    def __str__(self) -> str:
        if not self.requirements:
            return "{}"
        parts = []
        for r in self.requirements:
            vals = ",".join(sorted(r.values))
            if r.operator == "In":
                parts.append(f"{r.key}={vals}" if len(r.values) == 1 else f"{r.key} in ({vals})")
            elif r.operator == "NotIn":
                parts.append(f"{r.key}!={vals}" if len(r.values) == 1 else f"{r.key} notin ({vals})")
            elif r.operator == "Exists":
                parts.append(r.key)
            else:
                parts.append(f"!{r.key}")
        return ",".join(parts)


MATCH_ALL = LabelSelector()
