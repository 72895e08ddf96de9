"""Which routes from the edge actually get through: each :class:`~analyzer.model.edge.Route`
with whether the destination's ingress side admits it.

* through the ingress controller (Ingress, Route, HTTPRoute, GRPCRoute): admitted when the
  workload's ingress side admits an arbitrary in-cluster pod on the target port (the
  controller's pod is not in the input; only a rule open to every pod is known to admit it);
* a NodePort or LoadBalancer Service: admitted when some external address may reach the target
  port (traffic arrives from outside, or from a node address, which is outside the pod network).

A route not admitted is a dead route: configured, but blocked by the workload's own policies.
"""

from __future__ import annotations

from dataclasses import dataclass

from .evaluate import Reachability
from .peer_classes import opening
from ..model.connset import NO_CONNECTIONS
from ..model.edge import Problem, Route, resolve


@dataclass(frozen=True)
class Reached:
    route: Route
    admitted: bool


def edge_routes(reach: Reachability) -> tuple[tuple[Reached, ...], tuple[Problem, ...]]:
    """Every route with its admission, and the routes that lead nowhere (KR240-KR243)."""
    cluster = reach.cluster
    routes, problems = resolve(cluster)
    if not routes:
        return (), problems
    classes: dict[str, set[int]] = {}
    wanted = {r.workload for r in routes}
    for i, p in enumerate(cluster.pods):
        if p.workload in wanted:
            classes.setdefault(p.workload, set()).add(reach.index.pod_class[i])
    cache: dict = {}
    out = []
    for r in routes:
        if r.through_controller:
            admitted = any(opening(reach, c, "ingress", cache).cluster.allows(r.protocol, r.port)
                           for c in classes.get(r.workload, ()))
        else:
            conns = NO_CONNECTIONS
            for c in classes.get(r.workload, ()):
                for _, a in reach.from_ip.get(c, ()):
                    conns = conns | a.conns
            admitted = conns.allows(r.protocol, r.port)
        out.append(Reached(r, admitted))
    return tuple(out), problems
