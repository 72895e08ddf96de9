"""Policies compiled into matchers: who a policy selects, which peers and ports each rule allows.

Both engines consume this form: the concrete evaluator (:mod:`analyzer.engine.evaluate`) and the Z3
encoding. Each compiled rule keeps a :class:`RuleRef` naming the policy, rule and source line, so
every verdict can say which rule decided it.

Peer cases (NetworkPolicyPeer), the whole spec at a glance:

=========================  ========================================================
peer fields set            pods matched
=========================  ========================================================
(rule has no from/to)      every pod in every namespace, and every IP address
podSelector                pods matching it in the policy's namespace
namespaceSelector          every pod in namespaces matching it ({} = all namespaces)
both                       pods matching podSelector in namespaces matching nsSelector
ipBlock                    the addresses of cidr minus except, and the pods whose
                           known IP (status.podIPs) is one of them
=========================  ========================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from ..model.connset import (ALL_CONNECTIONS, ALL_IPS, ConnectionSet, IntervalSet, NO_CONNECTIONS,
                      ip_block_set)
from ..model.cluster import EGRESS, INGRESS, NetworkPolicy, Peer, PortSpec, Rule
from ..model.selectors import LabelSelector, MATCH_ALL
from ..source import SourceRef


@dataclass(frozen=True, slots=True, order=True)
class RuleRef:
    """Names the rule responsible for an answer. ``policy`` None is the implicit allow of a
    side that no policy isolates; ``index`` None names the policy as a whole (its isolation)."""

    direction: str
    policy: str | None = None
    index: int | None = None
    source: SourceRef | None = None
    kind: str = "NetworkPolicy"
    priority: int | None = None  # admin policies: the policy's priority
    action: str | None = None  # admin rules: Allow, Deny or Pass (as written: Accept for v1alpha2)

    @property
    def is_admin(self) -> bool:
        return self.action is not None or (self.kind != "NetworkPolicy" and self.policy is not None)

    @property
    def is_default(self) -> bool:
        return self.policy is None

    @property
    def path(self) -> tuple[str | int, ...]:
        if self.index is None:
            return ()
        return ("spec", self.direction.lower(), self.index)

    def __str__(self) -> str:
        if self.policy is None:
            return f"{self.direction.lower()} not isolated"
        rule = f" {self.direction.lower()} rule #{self.index}" if self.index is not None else ""
        prio = f" (priority {self.priority})" if self.priority is not None else ""
        return f"{self.kind} {self.policy}{rule}{prio}"


def default_ref(direction: str) -> RuleRef:
    return RuleRef(direction)


# --- peer matchers -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnyPeer:
    """A rule without from/to: every pod and every address."""


@dataclass(frozen=True, slots=True)
class PodPeer:
    """Pods matching ``pod_selector`` in the namespace ``namespace`` (when set) or in every
    namespace matching ``namespace_selector``."""

    pod_selector: LabelSelector
    namespace: str | None = None
    namespace_selector: LabelSelector | None = None
    # admin policy peers never match host-network pods (the API says so); NetworkPolicy peers do
    skip_host_network: bool = False

    def matches(self, pod_ns: str, ns_labels: Mapping[str, str], pod_labels: Mapping[str, str]) -> bool:
        if self.namespace is not None:
            if pod_ns != self.namespace:
                return False
        elif self.namespace_selector is None or not self.namespace_selector.matches(ns_labels):
            return False
        return self.pod_selector.matches(pod_labels)


@dataclass(frozen=True, slots=True)
class IPPeer:
    addresses: IntervalSet


PeerMatcher = AnyPeer | PodPeer | IPPeer


@dataclass(frozen=True, slots=True)
class PortMatcher:
    """Numeric ports as a ready connection set, plus named ports still to be resolved on the
    destination pod. ``numeric`` is ALL_CONNECTIONS for a rule without ports."""

    numeric: ConnectionSet
    named: tuple[tuple[str, str], ...] = ()  # (protocol, port name)

    @property
    def is_all(self) -> bool:
        return self.numeric.is_all()

    def resolve(self, named_ports: Mapping[tuple[str, str], frozenset[int]]) -> ConnectionSet:
        """The ports allowed towards a destination whose container ports are ``named_ports``
        ((protocol, name) -> numbers). A name the destination does not define allows nothing."""
        if not self.named:
            return self.numeric
        extra = [(proto, IntervalSet.of((n, n) for n in named_ports.get((proto, name), ())))
                 for proto, name in self.named]
        return self.numeric | ConnectionSet.of(extra)


ALL_PORTS_MATCHER = PortMatcher(ALL_CONNECTIONS)


@dataclass(frozen=True, slots=True)
class CompiledRule:
    ref: RuleRef
    peers: tuple[PeerMatcher, ...]
    ports: PortMatcher

    @property
    def ip_addresses(self) -> IntervalSet:
        out = IntervalSet()
        for p in self.peers:
            if isinstance(p, AnyPeer):
                return ALL_IPS
            if isinstance(p, IPPeer):
                out = out | p.addresses
        return out


@dataclass(frozen=True, slots=True)
class Target:
    """One policy in one direction: the pods it selects (and so isolates in that direction)
    and the rules that allow traffic for them."""

    policy: str
    namespace: str
    pod_selector: LabelSelector
    direction: str
    rules: tuple[CompiledRule, ...]
    ref: RuleRef


@dataclass(frozen=True)
class CompiledPolicies:
    ingress: tuple[Target, ...]
    egress: tuple[Target, ...]
    admin: tuple = ()  # AdminTarget (analyzer.engine.admin), in evaluation order

    @property
    def targets(self) -> tuple[Target, ...]:
        return self.ingress + self.egress


def compile_policies(policies: tuple[NetworkPolicy, ...]) -> CompiledPolicies:
    ingress, egress = [], []
    for p in policies:
        for direction, rules, out in ((INGRESS, p.ingress, ingress), (EGRESS, p.egress, egress)):
            if direction in p.policy_types:
                out.append(_target(p, direction, rules))
    return CompiledPolicies(tuple(ingress), tuple(egress))


def _target(p: NetworkPolicy, direction: str, rules: tuple[Rule, ...]) -> Target:
    compiled = tuple(
        CompiledRule(RuleRef(direction, p.id, r.index, p.source),
                     _peers(r.peers, p.namespace), _ports(r.ports))
        for r in rules)
    return Target(p.id, p.namespace, p.pod_selector, direction, compiled,
                  RuleRef(direction, p.id, None, p.source))


def _peers(peers: tuple[Peer, ...] | None, namespace: str) -> tuple[PeerMatcher, ...]:
    if peers is None:
        return (AnyPeer(),)
    out: list[PeerMatcher] = []
    for peer in peers:
        if peer.ip_block is not None:
            out.append(IPPeer(ip_block_set(peer.ip_block.cidr, peer.ip_block.excepts)))
        elif peer.namespace_selector is not None:
            out.append(PodPeer(peer.pod_selector or MATCH_ALL, None, peer.namespace_selector))
        elif peer.pod_selector is not None:
            out.append(PodPeer(peer.pod_selector, namespace))
        # a peer with no field set is rejected by validation
    return tuple(dict.fromkeys(out))


def _ports(ports: tuple[PortSpec, ...] | None) -> PortMatcher:
    if ports is None:
        return ALL_PORTS_MATCHER
    numeric = NO_CONNECTIONS
    named: list[tuple[str, str]] = []
    for spec in ports:
        if spec.port is None:
            numeric = numeric | ConnectionSet.ports(spec.protocol)
        elif isinstance(spec.port, str):
            named.append((spec.protocol, spec.port))
        else:
            numeric = numeric | ConnectionSet.ports(spec.protocol, spec.port, spec.end_port or spec.port)
    return PortMatcher(numeric, tuple(dict.fromkeys(named)))
