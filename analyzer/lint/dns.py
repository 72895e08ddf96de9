"""KRL401: egress isolation that leaves no way to DNS.

A pod that is isolated for egress and may connect to other pods almost surely finds them by
name, through the cluster DNS (kube-dns/CoreDNS on port 53). When none of its allowed egress —
to any pod or any address — admits port 53 (UDP or TCP), its lookups will time out. Pods whose
egress is closed entirely are left alone: that is deliberate.
"""

from __future__ import annotations

from typing import Iterator

from ..engine.classes import iter_bits
from ..engine.compile import RuleRef
from ..model.cluster import EGRESS
from ..model.connset import NO_CONNECTIONS
from .context import LintContext, name_list
from .findings import Finding

DNS_PORT = 53


def check(ctx: LintContext) -> Iterator[Finding]:
    reach = ctx.reach
    iso = reach.egress_isolated
    if not iso:
        return
    sends: dict[int, list] = {}
    for (s, d), allowance in reach.class_edges.items():
        if iso >> s & 1:
            sends.setdefault(s, []).append((d, allowance.conns))
    blocked_wl: dict[str, list[str]] = {}
    for c in iter_bits(iso):
        to_pods = sends.get(c, [])
        if not to_pods:
            continue
        conns = NO_CONNECTIONS
        for _, cs in to_pods:
            conns = conns | cs
        for _, allowance in reach.to_ip.get(c, ()):
            conns = conns | allowance.conns
        if conns.allows("UDP", DNS_PORT) or conns.allows("TCP", DNS_PORT):
            continue
        peers = ctx.workloads(sum(1 << d for d, _ in to_pods))
        for w in ctx.class_workloads[c]:
            blocked_wl.setdefault(w, []).extend(peers)
    for w_id in sorted(blocked_wl):
        w = ctx.workload_by_id.get(w_id)
        if w is None:
            continue
        peers = sorted(set(blocked_wl[w_id]) - {w_id}) or [w_id]
        policies = _isolating(ctx, w_id)
        related = tuple(RuleRef(EGRESS, p.id, None, p.source) for p in policies)
        yield ctx.finding(
            "KRL401", f"{w_id} is isolated for egress (by {name_list([p.id for p in policies])}) "
            f"and may connect to {name_list(peers)}, but nowhere on port 53: its DNS lookups "
            f"will fail (allow egress to kube-dns on UDP and TCP 53)",
            w.source, related=related, subject=w_id)


def _isolating(ctx: LintContext, workload: str):
    classes = {ctx.index.pod_class[i] for i, p in enumerate(ctx.cluster.pods) if p.workload == workload}
    out = []
    for p in ctx.policies:
        if EGRESS in p.policy_types and any(ctx.selected(p) >> c & 1 for c in classes):
            out.append(p)
    return out
