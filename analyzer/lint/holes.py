"""KRL301-KRL303: allow-all holes.

* a peer that matches every pod of every namespace (``namespaceSelector: {}`` with no or an
  empty ``podSelector``, or no ``from``/``to`` at all);
* ingress from the whole IPv4 or IPv6 space to workloads that are not edge workloads (no
  ``LoadBalancer`` or ``NodePort`` Service selects them, and settings do not name them);
* the "temporary debug hole": an ingress rule with neither peers nor ports, or with every-pod
  peers and no ports — everything, on every port (KRL303, an error). The same in an egress rule
  (``egress: [{}]``) is often a deliberate "egress is not restricted" and is KRL301.
"""

from __future__ import annotations

from typing import Iterator

from ..model.cluster import INGRESS, NetworkPolicy, Peer, Rule
from ..model.connset import IntervalSet, V4_MAX, V6_BASE, IP_MAX, ip_block_set
from .context import LintContext
from .findings import Finding

EDGE_SERVICE_TYPES = ("LoadBalancer", "NodePort")
V4_ALL = IntervalSet.span(0, V4_MAX)
V6_ALL = IntervalSet.span(V6_BASE, IP_MAX)


def every_pod(peer: Peer) -> bool:
    return (peer.ip_block is None and peer.namespace_selector is not None
            and peer.namespace_selector.is_empty
            and (peer.pod_selector is None or peer.pod_selector.is_empty))


def check(ctx: LintContext) -> Iterator[Finding]:
    edge = edge_classes(ctx)
    for p in ctx.policies:
        for rule in p.ingress + p.egress:
            yield from _whole_cluster(ctx, p, rule)
            if rule.direction == INGRESS:
                yield from _internet(ctx, p, rule, edge)


def _whole_cluster(ctx: LintContext, p: NetworkPolicy, rule: Rule) -> Iterator[Finding]:
    ref = ctx.rule_ref(p, rule)
    side = "from" if rule.direction == INGRESS else "to"
    if rule.peers is None:
        everything = "every pod and every address"
        wide = [None]
    else:
        everything = "every pod in every namespace"
        wide = [j for j, peer in enumerate(rule.peers) if every_pod(peer)]
    if not wide:
        return
    where = ctx.rule_source(ref) if wide[0] is None else ctx.peer_source(p, rule, wide[0])
    if rule.ports is None and rule.direction == INGRESS:
        yield ctx.finding("KRL303", f"{ref} allows {everything} on every port ({side} "
                          f"{'is absent' if rule.peers is None else 'matches every pod'}, no "
                          f"ports); if this is a temporary debug opening, remove it",
                          where, policy=p, rule=ref)
    elif rule.ports is None:  # egress to everything: often deliberate, still worth a look
        yield ctx.finding("KRL301", f"{ref}: {side} {everything} on every port (no peers or "
                          f"ports); name the destinations that are needed", where, policy=p,
                          rule=ref)
    else:
        yield ctx.finding("KRL301", f"{ref}: {side} {everything} (a {{}}-like peer); "
                          f"name the peers that need it", where, policy=p, rule=ref)


def _internet(ctx: LintContext, p: NetworkPolicy, rule: Rule, edge: int) -> Iterator[Finding]:
    if rule.peers is None:
        if rule.ports is None:
            return  # KRL303 says it already
        addresses, where = IntervalSet.span(0, IP_MAX), None
    else:
        addresses, where = IntervalSet(), None
        for j, peer in enumerate(rule.peers):
            if peer.ip_block is not None:
                s = ip_block_set(peer.ip_block.cidr, peer.ip_block.excepts)
                if V4_ALL.issubset(s) or V6_ALL.issubset(s):
                    addresses = addresses | s
                    where = where or ctx.peer_source(p, rule, j)
    whole = [name for name, fam in (("0.0.0.0/0", V4_ALL), ("::/0", V6_ALL))
             if fam.issubset(addresses)]
    if not whole:
        return
    internal = ctx.selected(p) & ~edge
    if not internal:
        return
    ref = ctx.rule_ref(p, rule)
    yield ctx.finding("KRL302", f"{ref} admits {' and '.join(whole)} (the whole internet) to "
                      f"{ctx.name_workloads(internal)}, which no LoadBalancer or NodePort "
                      f"Service exposes", where or ctx.rule_source(ref), policy=p, rule=ref)


def edge_classes(ctx: LintContext) -> int:
    """Classes of edge workloads: selected by a LoadBalancer or NodePort Service, or named in
    ``[tool.kreach.lint] edge-workloads``. (Ingress backends are not modelled yet.)"""
    bits = 0
    named = set(ctx.settings_edge)
    for c in range(len(ctx.index.classes)):
        if named & set(ctx.class_workloads[c]):
            bits |= 1 << c
    by_ns: dict[str, list] = {}
    for i, pod in enumerate(ctx.cluster.pods):
        by_ns.setdefault(pod.namespace, []).append((i, dict(pod.labels)))
    for svc in ctx.cluster.services:
        if svc.type not in EDGE_SERVICE_TYPES or not svc.selector:
            continue
        want = dict(svc.selector)
        for i, labels in by_ns.get(svc.namespace, ()):
            if all(labels.get(k) == v for k, v in want.items()):
                bits |= 1 << ctx.index.pod_class[i]
    return bits

