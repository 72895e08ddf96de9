"""The reachability graph: a networkx DiGraph over workloads or pods plus external address
ranges, each edge carrying its connection set and the rules that allow it.

Node attributes: ``type`` ("workload" | "pod" | "external" | "ingress-controller") and the fields of the JSON schema
(docs/output.md). An external node is one address range, maximal for the edges it is on: the
range an edge names is allowed as a whole, so ranges of different edges may overlap. Edge attributes: ``conns`` (ConnectionSet), ``egress`` and ``ingress``
(frozensets of RuleRef).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import networkx as nx

from .classes import iter_bits
from ..model.connset import NO_CONNECTIONS, V6_BASE, ConnectionSet, range_text
from .evaluate import Allowance, Reachability
from ..model.cluster import pods_by_workload

Level = Literal["workload", "pod"]


def external_id(lo: int, hi: int) -> str:
    return range_text(lo, hi)


def pod_id(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


@dataclass(frozen=True)
class ConnectivityView:
    """Endpoints and allowed connections, before they become a networkx graph. Writers read
    this directly, so ``kreach list`` never pays for importing networkx."""

    level: str
    nodes: dict[str, dict[str, Any]]
    edges: dict[tuple[str, str], Allowance]


def build_view(reach: Reachability, level: Level = "workload") -> ConnectivityView:
    cluster = reach.cluster
    nodes: dict[str, dict[str, Any]] = {}
    # endpoints: one per workload (or pod), and which endpoints each class stands for
    members: list[list[str]] = [[] for _ in reach.index.classes]
    if level == "workload":
        by_wl = pods_by_workload(cluster.pods)
        pod_pos = {id(p): i for i, p in enumerate(cluster.pods)}
        for w in cluster.workloads:
            pods = by_wl.get(w.id, [])
            nodes[w.id] = dict(type="workload", namespace=w.namespace, name=w.name, kind=w.kind,
                               pods=len(pods), labels=dict(w.labels), source=w.source)
            for c in {reach.index.pod_class[pod_pos[id(p)]] for p in pods}:
                members[c].append(w.id)
    else:
        for i, p in enumerate(cluster.pods):
            pid = pod_id(p.namespace, p.name)
            nodes[pid] = dict(type="pod", namespace=p.namespace, name=p.name, workload=p.workload,
                              ips=list(p.ip_texts),
                              labels=dict(p.labels), source=p.source)
            members[reach.index.pod_class[i]].append(pid)

    edges: dict[tuple[str, str], Allowance] = {}

    def add(src: str, dst: str, a: Allowance) -> None:
        if src == dst:
            return  # a workload (or pod) to itself is not reported
        prev = edges.get((src, dst))
        edges[(src, dst)] = a if prev is None else prev | a

    def external(lo: int, hi: int) -> str:
        node = external_id(lo, hi)
        if node not in nodes:
            nodes[node] = dict(type="external", ranges=[node], interval=(lo, hi))
        return node

    for (s, d), a in reach.class_edges.items():
        for src in members[s]:
            for dst in members[d]:
                add(src, dst, a)
    for c, regions in reach.from_ip.items():
        for bits, a in regions:
            for lo, hi in _runs(reach, bits):
                ext = external(lo, hi)
                for dst in members[c]:
                    add(ext, dst, a)
    for c, regions in reach.to_ip.items():
        for bits, a in regions:
            for lo, hi in _runs(reach, bits):
                ext = external(lo, hi)
                for src in members[c]:
                    add(src, ext, a)
    if cluster.edges:
        for (dst, a) in controller_edges(reach, level):
            nodes.setdefault(INGRESS_CONTROLLER, dict(type="ingress-controller"))
            add(INGRESS_CONTROLLER, dst, a)
    return ConnectivityView(level, nodes, edges)


INGRESS_CONTROLLER = "{ingress-controller}"


def controller_edges(reach: Reachability, level: Level = "workload") -> list[tuple[str, Allowance]]:
    """What the cluster's ingress controller may send to each workload (or pod) an Ingress, Route
    or HTTPRoute/GRPCRoute leads to: the routed target ports that the destination's ingress side
    admits from an arbitrary in-cluster pod (the controller's own pod is not in the input, as
    netpol-analyzer assumes). Its egress side is unknown, so only ingress rules are named."""
    from ..model.edge import resolve
    from .peer_classes import opening

    cluster = reach.cluster
    routes, _ = resolve(cluster)
    wanted: dict[str, ConnectionSet] = {}
    for r in routes:
        if r.through_controller:
            wanted[r.workload] = wanted.get(r.workload, NO_CONNECTIONS) | ConnectionSet.ports(
                r.protocol, r.port, r.port)
    if not wanted:
        return []
    cache: dict = {}
    out: dict[str, Allowance] = {}
    for i, p in enumerate(cluster.pods):
        ports = wanted.get(p.workload)
        if ports is None:
            continue
        o = opening(reach, reach.index.pod_class[i], "ingress", cache)
        conns = ports & o.cluster
        if conns:
            node = p.workload if level == "workload" else pod_id(p.namespace, p.name)
            a = Allowance(conns, frozenset(), frozenset(o.cluster_refs))
            out[node] = a if node not in out else out[node] | a
    return sorted(out.items())


def to_networkx(view: ConnectivityView) -> "nx.DiGraph":
    import networkx as nx

    g = nx.DiGraph(level=view.level)
    g.add_nodes_from(view.nodes.items())
    g.add_edges_from((s, d, {"conns": a.conns, "egress": a.egress, "ingress": a.ingress})
                     for (s, d), a in view.edges.items())
    return g


def build_graph(reach: Reachability, level: Level = "workload") -> "nx.DiGraph":
    return to_networkx(build_view(reach, level))


def _runs(reach: Reachability, bits: int) -> list[tuple[int, int]]:
    """Address ranges covered by a set of atoms: adjacent atoms merge into one range, except
    across the IPv4/IPv6 boundary, so every range is maximal and within one family."""
    out: list[tuple[int, int]] = []
    for atom in iter_bits(bits):
        lo, hi = reach.ip_atoms[atom]
        if out and out[-1][1] + 1 == lo and lo != V6_BASE:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out
