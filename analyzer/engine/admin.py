"""Admin policies compiled into the matcher vocabulary of :mod:`analyzer.engine.compile`, and the
tiered decision both engines implement.

Per connection and direction (egress of the source, ingress of the destination), per port:

1. **Admin tier** (AdminNetworkPolicy, ClusterNetworkPolicy ``tier: Admin``): the rules of the
   policies selecting the pod, by priority (lower first; same priority: by name, see KR220), then
   in written order. The first rule matching peer and port decides: ``Allow`` allows (no
   NetworkPolicy is consulted for this direction), ``Deny`` denies, ``Pass`` hands the port to
   the next tier. No match: next tier too.
2. **NetworkPolicy tier**: when a NetworkPolicy isolates the pod in this direction, its rules
   decide (allowed iff some rule allows); nothing goes further.
3. **Baseline tier** (BaselineAdminNetworkPolicy, ClusterNetworkPolicy ``tier: Baseline``): as 1,
   for what the NetworkPolicy tier did not decide. A ``Pass`` here goes to the default.
4. **Default**: allowed.

A rule with ports decides only those ports; the others fall through, so every step works on the
set of ports still undecided (:func:`decide`). A direction without admin rules is untouched:
admin policies never isolate. A connection is allowed when both directions allow it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

from .compile import (ALL_PORTS_MATCHER, CompiledPolicies, IPPeer, PeerMatcher, PodPeer,
                      PortMatcher, RuleRef, compile_policies, default_ref)
from ..model.admin import ADMIN_TIER, ALLOW, PASS, AdminPeer, AdminPolicy, AdminPort, Node
from ..model.cluster import EGRESS, INGRESS, Cluster
from ..model.connset import (ALL_CONNECTIONS, NO_CONNECTIONS, PROTOCOLS, ConnectionSet, IntervalSet,
                             cidr_interval)
from ..model.selectors import LabelSelector, MATCH_ALL

TIER_RANK = {ADMIN_TIER: 0, "Baseline": 1}


@dataclass(frozen=True, slots=True)
class AdminCompiledRule:
    """One admin rule: what it matches (peers, ports, as a NetworkPolicy rule) and what it does.
    ``rank`` orders every admin rule of one direction: (tier, priority, name, rule index)."""

    ref: RuleRef
    action: str  # ALLOW, DENY or PASS
    tier: str
    rank: tuple
    peers: tuple[PeerMatcher, ...]
    ports: PortMatcher

    @property
    def ip_addresses(self) -> IntervalSet:
        out = IntervalSet()
        for p in self.peers:
            if isinstance(p, IPPeer):
                out = out | p.addresses
        return out


@dataclass(frozen=True, slots=True)
class AdminTarget:
    """One admin policy in one direction: the pods it applies to and its ordered rules."""

    policy: str
    kind: str
    tier: str
    priority: int | None
    subject_ns: LabelSelector
    subject_pods: LabelSelector
    direction: str
    rules: tuple[AdminCompiledRule, ...]
    ref: RuleRef


def compile_cluster(cluster: Cluster) -> CompiledPolicies:
    """NetworkPolicies and admin policies of ``cluster``, compiled."""
    base = compile_policies(cluster.policies)
    return CompiledPolicies(base.ingress, base.egress, compile_admin(cluster.admin_policies, cluster.nodes))


def compile_admin(policies: Iterable[AdminPolicy], nodes: Sequence[Node] = ()) -> tuple[AdminTarget, ...]:
    out: list[AdminTarget] = []
    for p in sorted(policies, key=lambda p: (TIER_RANK[p.tier], p.order)):
        for direction, rules in ((INGRESS, p.ingress), (EGRESS, p.egress)):
            if not rules:  # a direction without rules has no effect
                continue
            compiled = tuple(
                AdminCompiledRule(
                    RuleRef(direction, p.id, r.index, p.source, p.kind, p.priority, r.written),
                    r.action, p.tier, (TIER_RANK[p.tier], *p.order, r.index),
                    _peers(r.peers, nodes), _ports(r.ports))
                for r in rules)
            out.append(AdminTarget(p.id, p.kind, p.tier, p.priority, p.subject_ns, p.subject_pods,
                                   direction, compiled,
                                   RuleRef(direction, p.id, None, p.source, p.kind, p.priority)))
    return tuple(out)


def _peers(peers: Sequence[AdminPeer], nodes: Sequence[Node]) -> tuple[PeerMatcher, ...]:
    out: list[PeerMatcher] = []
    for peer in peers:
        if peer.kind in ("namespaces", "pods"):
            out.append(PodPeer(peer.pod_selector or MATCH_ALL, None,
                               peer.namespace_selector or MATCH_ALL, skip_host_network=True))
        elif peer.kind == "networks":
            out.append(IPPeer(IntervalSet.of(cidr_interval(n) for n in peer.networks)))
        elif peer.kind == "nodes" and peer.node_selector is not None:
            addrs = [cidr_interval(a + ("/32" if ":" not in a else "/128")) for n in nodes
                     if peer.node_selector.matches(dict(n.labels)) for a in n.addresses
                     if _is_ip(a)]
            if addrs:
                out.append(IPPeer(IntervalSet.of(addrs)))
        # domainNames, or nodes without Node objects: nothing kreach can see (KR221, KR223)
    return tuple(dict.fromkeys(out))


def _is_ip(text: str) -> bool:
    import ipaddress
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _ports(ports: Sequence[AdminPort] | None) -> PortMatcher:
    if ports is None:
        return ALL_PORTS_MATCHER
    numeric = NO_CONNECTIONS
    named: list[tuple[str, str]] = []
    for p in ports:
        if p.named is not None:
            # a named port has no protocol of its own: the container port's protocol counts
            named.extend((proto, p.named) for proto in PROTOCOLS)
        else:
            numeric = numeric | ConnectionSet.ports(p.protocol, p.start, p.end)
    return PortMatcher(numeric, tuple(dict.fromkeys(named)))


# --- the tiered decision -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Decision:
    """What one direction allows between two endpoints, and the rules that made it so."""

    allowed: ConnectionSet
    refs: frozenset[RuleRef]


def decide(direction: str, admin: Sequence[tuple[AdminCompiledRule, ConnectionSet]],
           np_isolated: bool, np_rules: Sequence[tuple[RuleRef, ConnectionSet]]) -> Decision:
    """The tiered evaluation of one direction. ``admin``: the matching admin rules (peer matched)
    in rank order, each with the ports it matches towards this destination; ``np_rules``: the
    matching NetworkPolicy rules with their ports (used when ``np_isolated``)."""
    undecided = ALL_CONNECTIONS
    allowed = NO_CONNECTIONS
    refs: set[RuleRef] = set()
    passed: list[tuple[RuleRef, ConnectionSet]] = []
    baseline = []
    for rule, conns in admin:
        if rule.tier != ADMIN_TIER:
            baseline.append((rule, conns))
            continue
        hit = undecided & conns
        if not hit:
            continue
        undecided = undecided - hit
        if rule.action == ALLOW:
            allowed = allowed | hit
            refs.add(rule.ref)
        elif rule.action == PASS:
            passed.append((rule.ref, hit))
    for _, hit in passed:
        undecided = undecided | hit
    if not undecided:
        return Decision(allowed, frozenset(refs))
    later = NO_CONNECTIONS  # what the lower tiers allow of `undecided`
    if np_isolated:
        for ref, conns in np_rules:
            got = undecided & conns
            if got:
                later = later | got
                refs.add(ref)
    else:
        rest = undecided
        to_default = NO_CONNECTIONS  # passed by a Baseline rule: past it is only the default
        for rule, conns in baseline:
            hit = rest & conns
            if not hit:
                continue
            rest = rest - hit
            if rule.action == ALLOW:
                later = later | hit
                refs.add(rule.ref)
            elif rule.action == PASS:
                to_default = to_default | hit
                refs.add(rule.ref)
        rest = rest | to_default
        if rest:
            later = later | rest
            refs.add(default_ref(direction))
    # a Pass that handed over ports the lower tiers then allowed is part of the explanation
    for ref, hit in passed:
        if hit & later:
            refs.add(ref)
    return Decision(allowed | later, frozenset(refs))


# --- notes on admin policies --------------------------------------------------------------------


def admin_diagnostics(cluster: Cluster, compiled: CompiledPolicies, index) -> list:
    """Warnings about admin policies that need the engine's pod classes: same-priority policies
    whose rules can decide one connection differently (KR220), peers kreach cannot see (KR221,
    KR223), networks peers that pods without a known address may fall in (KR222)."""
    from ..messages import diagnostic

    out = []
    unknown = sum(1 for pod in cluster.pods if not pod.ips and not pod.host_network)
    for p in cluster.admin_policies:
        nets = [n for r in p.egress for peer in r.peers if peer.kind == "networks"
                for n in peer.networks]
        if nets and unknown:
            out.append(diagnostic("KR222", p.source, kind=p.kind, name=p.name,
                                  detail=", ".join(dict.fromkeys(nets)), count=unknown))
        for r in p.ingress + p.egress:
            if any(peer.kind == "nodes" for peer in r.peers) and not cluster.nodes:
                out.append(diagnostic("KR221", p.source, kind=p.kind, name=p.name))
                break
        for r in p.ingress + p.egress:
            if any(peer.kind == "domainNames" for peer in r.peers):
                out.append(diagnostic("KR223", p.source, kind=p.kind, name=p.name))
                break
    by_slot: dict[tuple, list[AdminTarget]] = {}
    for t in compiled.admin:
        if t.priority is not None:
            by_slot.setdefault((t.tier, t.priority, t.direction), []).append(t)
    reported: set[tuple[str, str]] = set()
    for (tier, prio, direction), targets in sorted(by_slot.items(), key=lambda kv: str(kv[0])):
        for i, a in enumerate(targets):
            for b in targets[i + 1:]:
                if a.policy == b.policy or (a.policy, b.policy) in reported:
                    continue
                if _may_conflict(a, b, index):
                    reported.add((a.policy, b.policy))
                    first, second = sorted((a, b), key=lambda t: t.policy)
                    out.append(diagnostic(
                        "KR220", second.ref.source, kind=second.kind, name=second.policy,
                        other=f"{first.kind} {first.policy}", detail=str(first.ref.source),
                        priority=prio, first=first.policy))
    return out


def _may_conflict(a: AdminTarget, b: AdminTarget, index) -> bool:
    """Some existing pod both subjects select, and a rule of each with different actions that
    match a common peer (pod class or address) on a common port."""
    if not (index.subject_bits(a.subject_ns, a.subject_pods)
            & index.subject_bits(b.subject_ns, b.subject_pods)):
        return False
    for ra in a.rules:
        pa = 0
        for p in ra.peers:
            pa |= index.peer_bits(p)
        for rb in b.rules:
            if ra.action == rb.action:
                continue
            pb = 0
            for p in rb.peers:
                pb |= index.peer_bits(p)
            peers_meet = bool(pa & pb) or bool(ra.ip_addresses & rb.ip_addresses)
            ports_meet = bool(ra.ports.numeric & rb.ports.numeric) or bool(
                set(ra.ports.named) & set(rb.ports.named)) or (
                bool(ra.ports.named) and bool(rb.ports.numeric)) or (
                bool(rb.ports.named) and bool(ra.ports.numeric))
            if peers_meet and ports_meet:
                return True
    return False
