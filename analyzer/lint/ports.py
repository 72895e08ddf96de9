"""KRL211/KRL212: ports that do not do what they seem to.

A named port is resolved on the receiving pod (the selected pod for ingress, the peer for
egress) and allows nothing on a pod that does not declare it; a port given without a protocol
is TCP, so ``port: 53`` alone does not admit DNS over UDP.
"""

from __future__ import annotations

from typing import Iterator

from ..model.cluster import INGRESS, NetworkPolicy, Rule
from .context import LintContext
from .findings import Finding

DNS_PORT = 53


def check(ctx: LintContext) -> Iterator[Finding]:
    for p in ctx.policies:
        for rule in p.ingress + p.egress:
            if rule.ports is None:
                continue
            yield from _named(ctx, p, rule)
            yield from _dns_protocol(ctx, p, rule)


def _named(ctx: LintContext, p: NetworkPolicy, rule: Rule) -> Iterator[Finding]:
    named = [(k, s) for k, s in enumerate(rule.ports or ()) if isinstance(s.port, str)]
    if not named:
        return
    receivers = ctx.selected(p) if rule.direction == INGRESS else ctx.rule_peer_bits(p, rule)
    if not receivers:
        return  # selecting or matching nothing is reported by KRL201/KRL203
    side = "selected pod" if rule.direction == INGRESS else "destination pod"
    ref = ctx.rule_ref(p, rule)
    for k, spec in named:
        if receivers & ctx.declaring((spec.protocol, spec.port)):
            continue
        yield ctx.finding(
            "KRL211", f"{ref}: no {side} declares a {spec.protocol} container port named "
            f"{spec.port!r} ({ctx.name_workloads(receivers)}); this port allows nothing",
            ctx.port_source(p, rule, k), policy=p, rule=ref)


def _dns_protocol(ctx: LintContext, p: NetworkPolicy, rule: Rule) -> Iterator[Finding]:
    specs = rule.ports or ()
    has_udp = any(s.protocol == "UDP" and s.port == DNS_PORT for s in specs)
    if has_udp:
        return
    ref = ctx.rule_ref(p, rule)
    for k, spec in enumerate(specs):
        if spec.port == DNS_PORT and not spec.protocol_given:
            yield ctx.finding(
                "KRL212", f"{ref}: port 53 without a protocol is TCP only; DNS queries use "
                f"UDP (add 'protocol: UDP' next to it)", ctx.port_source(p, rule, k),
                policy=p, rule=ref)
