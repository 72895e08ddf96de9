"""KRL201-KRL205: what a policy selects and what its peers match.

"Matches nothing" is decided on the input (the engine's pod classes). When a selector matches
nothing here but could match a pod created later, the finding is informational and shows such a
pod (labels from :func:`analyzer.query.feasibility.satisfy`); when no pod could ever match
(contradictory requirements), it is a warning.
"""

from __future__ import annotations

from typing import Iterator

from ..engine.compile import PodPeer
from ..model.cluster import NAME_LABEL, NetworkPolicy, Rule
from ..model.selectors import LabelSelector
from ..query.feasibility import satisfy
from ..engine.classes import iter_bits
from .context import LintContext, name_list
from .findings import Finding, HypotheticalPod


def check(ctx: LintContext) -> Iterator[Finding]:
    hn = ctx.index.host_network_bits
    for p in ctx.policies:
        sel = ctx.selected(p)
        if not sel:
            labels = satisfy(p.pod_selector.requirements)
            if labels is None:
                yield ctx.finding("KRL202", f"NetworkPolicy {p.id}: podSelector "
                                  f"{p.pod_selector} can never select a pod (contradictory "
                                  f"requirements); the policy does nothing",
                                  ctx.at(p.source, "spec", "podSelector"), policy=p)
            else:
                pod = HypotheticalPod(p.namespace, tuple(sorted(labels.items())))
                yield ctx.finding("KRL201", f"NetworkPolicy {p.id}: podSelector "
                                  f"{p.pod_selector} selects no pod in the input; it would "
                                  f"select {pod}{_elsewhere(ctx, p)}",
                                  ctx.at(p.source, "spec", "podSelector"), policy=p,
                                  hypothetical=pod)
        elif sel & hn:
            yield ctx.finding("KRL205", f"NetworkPolicy {p.id} selects hostNetwork pods of "
                              f"{ctx.name_workloads(sel & hn)}; whether the network plugin "
                              f"enforces policies for host-network pods is "
                              f"implementation-defined", p.source, policy=p)
        for rule in p.ingress + p.egress:
            yield from _dangling(ctx, p, rule)


def _elsewhere(ctx: LintContext, p: NetworkPolicy) -> str:
    """A hint when the policy's namespace holds no pod but others hold pods it would select
    (a placeholder namespace, or a kustomize namespace not applied)."""
    if ctx.index.ns_mask.get(p.namespace, 0):
        return ""
    hit = ctx.index.pod_selector_bits(p.pod_selector)
    namespaces = sorted({ctx.index.classes[c].namespace for c in iter_bits(hit)})
    if not namespaces:
        return ""
    return (f" (namespace {p.namespace} has no pods in the input; matching pods are in "
            f"{name_list(namespaces)})")


def _dangling(ctx: LintContext, p: NetworkPolicy, rule: Rule) -> Iterator[Finding]:
    if rule.peers is None:
        return
    ref = ctx.rule_ref(p, rule)
    for j, peer in enumerate(rule.peers):
        m = ctx.matcher(p, peer)
        if not isinstance(m, PodPeer) or ctx.index.peer_bits(m):
            continue
        where = ctx.peer_source(p, rule, j)
        side = "from" if rule.direction == "Ingress" else "to"
        what = f"{ref} {side} peer #{j} ({_peer_text(peer)})"
        pod = hypothetical(ctx, m)
        if pod is None:
            yield ctx.finding("KRL204", f"{what} can never match a pod (contradictory "
                              f"requirements); it allows nothing", where, policy=p, rule=ref)
        else:
            yield ctx.finding("KRL203", f"{what} matches no pod in the input; it would match "
                              f"{pod}", where, policy=p, rule=ref, hypothetical=pod)


def hypothetical(ctx: LintContext, m: PodPeer) -> HypotheticalPod | None:
    """A pod (and, if needed, a new namespace) the peer would match; None if none can."""
    labels = satisfy(m.pod_selector.requirements)
    if labels is None:
        return None
    pod_labels = tuple(sorted(labels.items()))
    if m.namespace is not None:
        return HypotheticalPod(m.namespace, pod_labels)
    assert m.namespace_selector is not None
    for ns in ctx.cluster.namespaces:
        if m.namespace_selector.matches(dict(ns.labels)):
            return HypotheticalPod(ns.name, pod_labels)
    ns_labels = satisfy(m.namespace_selector.requirements)
    if ns_labels is None:
        return None
    name = ns_labels.get(NAME_LABEL)
    if name is not None and ctx.cluster.namespace(name) is not None:
        return None  # it names an existing namespace whose other labels do not fit
    return HypotheticalPod(name or "<new namespace>", pod_labels, True,
                           tuple(sorted(ns_labels.items())))


def _peer_text(peer) -> str:
    parts = []
    if peer.namespace_selector is not None:
        parts.append(f"namespaceSelector {_sel(peer.namespace_selector)}")
    if peer.pod_selector is not None:
        parts.append(f"podSelector {_sel(peer.pod_selector)}")
    return " and ".join(parts)


def _sel(s: LabelSelector) -> str:
    return str(s)
