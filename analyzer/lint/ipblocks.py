"""KRL402/KRL403: ipBlocks that cover addresses the cluster itself hands out.

Pods are meant to be selected by labels: an ipBlock matches a pod by its IP (docs/semantics.md),
but pod IPs are ephemeral — the pod recreated tomorrow has another address, and its old one may go
to a different pod — so the Concept page keeps ipBlocks for cluster-external addresses. A Service ClusterIP in an egress ipBlock never matches: kube-proxy rewrites the
destination to a pod IP before policies see the packet. Addresses come from the input
(``status.podIP(s)`` of Pods, ``spec.clusterIP(s)`` of Services); ipBlocks that span a whole
address family are left to KRL302.
"""

from __future__ import annotations

from typing import Iterator

from ..model.connset import IntervalSet, cidr_interval, ip_block_set
from .context import LintContext, name_list
from .findings import Finding
from .holes import V4_ALL, V6_ALL


def _address(ip: str) -> int | None:
    try:
        return cidr_interval(ip)[0]
    except ValueError:
        return None


def check(ctx: LintContext) -> Iterator[Finding]:
    pods = [(f"{p.namespace}/{p.name}", text, n) for p in ctx.cluster.pods
            for n, text in zip(p.ips, p.ip_texts)]
    services = [(f"{s.namespace}/{s.name}", ip, _address(ip)) for s in ctx.cluster.services
                for ip in s.cluster_ips]
    pods = [x for x in pods if x[2] is not None]
    services = [x for x in services if x[2] is not None]
    if not pods and not services:
        return
    for p in ctx.policies:
        for rule in p.ingress + p.egress:
            for j, peer in enumerate(rule.peers or ()):
                if peer.ip_block is None:
                    continue
                block = ip_block_set(peer.ip_block.cidr, peer.ip_block.excepts)
                if V4_ALL.issubset(block) or V6_ALL.issubset(block):
                    continue
                ref = ctx.rule_ref(p, rule)
                where = ctx.peer_source(p, rule, j)
                text = peer.ip_block.cidr + (f" except {', '.join(peer.ip_block.excepts)}"
                                             if peer.ip_block.excepts else "")
                hit = [f"{name} ({ip})" for name, ip, n in pods if _inside(n, block)]
                if hit:
                    yield ctx.finding("KRL402", f"{ref}: ipBlock {text} covers the IP of pod "
                                      f"{name_list(hit)}: it matches that pod only while the pod "
                                      f"keeps that address; select pods by labels instead",
                                      where, policy=p, rule=ref)
                hit = [f"{name} ({ip})" for name, ip, n in services if _inside(n, block)]
                if hit:
                    yield ctx.finding("KRL403", f"{ref}: ipBlock {text} covers the ClusterIP "
                                      f"of Service {name_list(hit)}, which never matches after "
                                      f"kube-proxy's DNAT; select the Service's pods by labels",
                                      where, policy=p, rule=ref)


def _inside(n: int | None, block: IntervalSet) -> bool:
    return n is not None and n in block
