"""KRL101/KRL102: namespaces without a default-deny baseline.

A baseline is a policy whose ``podSelector`` is empty and whose policyTypes hold the direction:
it isolates every pod of the namespace, including pods created later, so everything not opened
on purpose is denied. Namespaces without pods in the input are not judged.
"""

from __future__ import annotations

from typing import Iterator

from ..engine.classes import iter_bits
from ..model.cluster import EGRESS, INGRESS
from .context import LintContext, name_list
from .findings import Finding

CODE = {INGRESS: "KRL101", EGRESS: "KRL102"}


def check(ctx: LintContext) -> Iterator[Finding]:
    reach = ctx.reach
    baselines = {(p.namespace, d) for p in ctx.policies if p.pod_selector.is_empty
                 for d in p.policy_types}
    for ns in ctx.cluster.namespaces:
        mask = ctx.index.ns_mask.get(ns.name, 0)
        if not mask:
            continue
        for direction in (INGRESS, EGRESS):
            if (ns.name, direction) in baselines:
                continue
            isolated = reach.ingress_isolated if direction == INGRESS else reach.egress_isolated
            open_bits = mask & ~isolated
            word = direction.lower()
            if open_bits:
                open_wl = ctx.workloads(open_bits)
                state = (f"{len(open_wl)} of {len(ctx.workloads(mask))} workloads are not isolated "
                         f"for {word}: {name_list(open_wl)}")
            else:
                state = f"every workload is isolated for {word} today, but new pods will not be"
            source = ns.source or _first_workload_source(ctx, mask)
            yield ctx.finding(
                CODE[direction],
                f"namespace {ns.name} has no default-deny {word} policy (podSelector: {{}}, "
                f"policyTypes: [{direction}]); {state}",
                source, subject=ns.name)


def _first_workload_source(ctx: LintContext, mask: int):
    for c in iter_bits(mask):
        for w in ctx.class_workloads[c]:
            found = ctx.workload_by_id.get(w)
            if found is not None:
                return found.source
    return None
