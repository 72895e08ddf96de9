"""What every lint check reads: the analysed cluster, its pod classes and rule tables, and
helpers that locate a policy, rule, peer or port and name the workloads of a set of classes.

Built once per :func:`analyzer.lint.lint` call; the checks only read it. Selection is in the
engine's terms (bitsets over pod classes), so checks ask the engine, never re-match labels.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ..analysis import Analysis
from ..diagnostics import Severity
from ..engine.classes import bits_of, iter_bits
from ..engine.compile import PeerMatcher, RuleRef, _peers
from ..model.cluster import EGRESS, INGRESS, NetworkPolicy, Peer, Rule
from ..source import SourceRef
from .codes import CODES
from .findings import Finding, LintSettings

MAX_NAMED = 3  # workloads named in a message before "and N more"


@dataclass
class LintContext:
    analysis: Analysis
    settings: LintSettings = field(default_factory=LintSettings)

    @property
    def settings_edge(self) -> tuple[str, ...]:
        return self.settings.edge_workloads

    @property
    def cluster(self):
        return self.analysis.cluster

    @property
    def reach(self):
        return self.analysis.reachability

    @property
    def index(self):
        return self.analysis.reachability.index

    @property
    def tables(self):
        return self.analysis.reachability.tables

    # --- findings ----------------------------------------------------------------------------

    def finding(self, code: str, message: str, source: SourceRef | None, *,
                policy: NetworkPolicy | None = None, rule: RuleRef | None = None,
                anchors: tuple[SourceRef | None, ...] = (), **extra) -> Finding:
        """A finding with the code's default severity; anchors for suppression comments are the
        finding's own line, its rule's line and its object's first line."""
        spots = [source, *anchors]
        if rule is not None and rule.source is not None and rule.index is not None:
            spots.append(self.rule_source(rule))
        if policy is not None:
            spots.append(policy.source)
        seen = tuple(dict.fromkeys(s for s in spots if s is not None))
        return Finding(code, CODES[code].severity, message, source,
                       policy=policy.id if policy is not None else None, rule=rule,
                       anchors=seen, **extra)

    # --- locations ---------------------------------------------------------------------------

    def at(self, source: SourceRef, *path: str | int) -> SourceRef:
        line = self.analysis.locator.line(source, path)
        return SourceRef(source.file, line, source.doc, source.path)

    def rule_ref(self, policy: NetworkPolicy, rule: Rule) -> RuleRef:
        return RuleRef(rule.direction, policy.id, rule.index, policy.source)

    def rule_source(self, ref: RuleRef) -> SourceRef:
        assert ref.source is not None
        return self.at(ref.source, *ref.path)

    def peer_source(self, policy: NetworkPolicy, rule: Rule, j: int) -> SourceRef:
        return self.at(policy.source, "spec", rule.direction.lower(), rule.index,
                       "from" if rule.direction == INGRESS else "to", j)

    def port_source(self, policy: NetworkPolicy, rule: Rule, k: int) -> SourceRef:
        return self.at(policy.source, "spec", rule.direction.lower(), rule.index, "ports", k)

    # --- selection ---------------------------------------------------------------------------

    def selected(self, policy: NetworkPolicy) -> int:
        """Classes the policy's podSelector selects (whatever its policyTypes)."""
        return self.index.target_bits(policy.namespace, policy.pod_selector)

    def matcher(self, policy: NetworkPolicy, peer: Peer) -> PeerMatcher | None:
        found = _peers((peer,), policy.namespace)
        return found[0] if found else None

    def peer_bits(self, policy: NetworkPolicy, peer: Peer) -> int:
        m = self.matcher(policy, peer)
        return 0 if m is None else self.index.peer_bits(m)

    def rule_peer_bits(self, policy: NetworkPolicy, rule: Rule) -> int:
        if rule.peers is None:
            return self.index.all_bits
        bits = 0
        for p in rule.peers:
            bits |= self.peer_bits(policy, p)
        return bits

    @cached_property
    def class_workloads(self) -> list[tuple[str, ...]]:
        """Workload ids of each class, sorted."""
        out: list[set[str]] = [set() for _ in self.index.classes]
        for i, pod in enumerate(self.cluster.pods):
            out[self.index.pod_class[i]].add(pod.workload)
        return [tuple(sorted(s)) for s in out]

    def workloads(self, bits: int) -> list[str]:
        names: set[str] = set()
        for c in iter_bits(bits):
            names.update(self.class_workloads[c])
        return sorted(names)

    def name_workloads(self, bits: int) -> str:
        return name_list(self.workloads(bits))

    @cached_property
    def _declared_ports(self) -> dict[tuple[str, str], int]:
        positions: dict[tuple[str, str], list[int]] = {}
        for i, c in enumerate(self.index.classes):
            for proto, name, _ in c.named_ports:
                positions.setdefault((proto, name), []).append(i)
        return {port: bits_of(sorted(set(ps))) for port, ps in positions.items()}

    def declaring(self, named_port: tuple[str, str]) -> int:
        """Classes whose pods declare this (protocol, name) container port."""
        return self._declared_ports.get(named_port, 0)

    @cached_property
    def workload_by_id(self):
        return {w.id: w for w in self.cluster.workloads}

    def targets_of(self, policy_id: str) -> list[tuple[str, int, list[int]]]:
        """(direction, selected class bits, engine rule ids) of each direction the policy isolates."""
        assert self.tables is not None
        return self.tables.targets.get(policy_id, [])

    @cached_property
    def policies(self) -> tuple[NetworkPolicy, ...]:
        return self.cluster.policies


def name_list(names: list[str], limit: int = MAX_NAMED) -> str:
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"


def severity_word(s: Severity) -> str:
    return s.value


def directions(policy: NetworkPolicy):
    """(direction, rules) for each direction in the policy's policyTypes."""
    for d, rules in ((INGRESS, policy.ingress), (EGRESS, policy.egress)):
        if d in policy.policy_types:
            yield d, rules
