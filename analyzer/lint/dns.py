"""KRL401: egress isolation that leaves no way to DNS.

A pod that is isolated for egress and whose egress rules let it connect to other pods almost
surely finds them by name, through the cluster DNS (kube-dns/CoreDNS on port 53). When none of
the egress rules that apply to it — towards any pod or any address — admits port 53 (UDP or
TCP) towards something that may be a DNS server — an address, a pod declaring port 53 or
labelled ``k8s-app: kube-dns``, or a peer that matches nothing in the input (kube-system is often
not in the repository) — its lookups will time out. Judged on the egress side alone (the DNS
server's ingress is another matter); a named port is given the benefit of the doubt. Pods whose egress is closed
entirely, or open only to addresses, are left alone: that is deliberate.
"""

from __future__ import annotations

from typing import Iterator

from ..engine.classes import iter_bits
from ..engine.compile import PodPeer, RuleRef
from ..model.cluster import EGRESS
from .context import LintContext, name_list
from .findings import Finding

DNS_PORT = 53


def check(ctx: LintContext) -> Iterator[Finding]:
    tables = ctx.tables
    if tables is None or not tables.iso_eg:
        return
    blocked: dict[str, set[int]] = {}  # workload -> classes its egress rules reach
    servers = dns_servers(ctx)
    for c in iter_bits(tables.iso_eg):
        infos = [tables.rules[r] for r in tables.eg_rules[c]]
        if any(_may_reach_dns(ctx, info, servers) for info in infos):
            continue  # (asked first: the union of the peers below is a pass over wide bitsets)
        peers = 0
        for info in infos:
            peers |= info.peer_bits
        if not peers & ~(1 << c):
            continue  # nothing but itself: no names to look up
        for w in ctx.class_workloads[c]:
            blocked.setdefault(w, set()).add(peers)
    for w_id in sorted(blocked):
        w = ctx.workload_by_id.get(w_id)
        if w is None:
            continue
        bits = 0
        for b in blocked[w_id]:
            bits |= b
        peers = [x for x in ctx.workloads(bits) if x != w_id] or [w_id]
        policies = _isolating(ctx, w_id)
        related = tuple(RuleRef(EGRESS, p.id, None, p.source) for p in policies)
        yield ctx.finding(
            "KRL401", f"{w_id} is isolated for egress (by {name_list([p.id for p in policies])}) "
            f"and its egress rules reach {name_list(peers)}, but none admits port 53: its DNS "
            f"lookups will fail (allow egress to kube-dns on UDP and TCP 53)",
            w.source, related=related, subject=w_id)


def dns_servers(ctx: LintContext) -> int:
    """Classes that look like a DNS server: a pod declaring container port 53, or labelled
    ``k8s-app: kube-dns`` (CoreDNS and kube-dns both are)."""
    bits = 0
    for i, pod in enumerate(ctx.cluster.pods):
        if any(p.number == DNS_PORT for p in pod.ports) or ("k8s-app", "kube-dns") in pod.labels:
            bits |= 1 << ctx.index.pod_class[i]
    return bits


def _may_reach_dns(ctx: LintContext, info, servers: int) -> bool:
    """The rule admits port 53 (or a named port) towards an address, a DNS server of the input,
    or a peer that matches nothing in the input (kube-system is often not in a repository)."""
    ports = info.rule.ports
    if not (ports.named or ports.numeric.allows("UDP", DNS_PORT)
            or ports.numeric.allows("TCP", DNS_PORT)):
        return False
    if info.ip_bits or info.peer_bits & servers:
        return True
    return any(isinstance(m, PodPeer) and not ctx.index.peer_bits(m) for m in info.rule.peers)


def _isolating(ctx: LintContext, workload: str):
    classes = {ctx.index.pod_class[i] for i, p in enumerate(ctx.cluster.pods)
               if p.workload == workload}
    return [p for p in ctx.policies
            if EGRESS in p.policy_types and any(ctx.selected(p) >> c & 1 for c in classes)]
