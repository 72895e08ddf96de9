"""The reachability graph: a networkx DiGraph over workloads or pods plus external address
ranges, each edge carrying its connection set and the rules that allow it.

Node attributes: ``type`` ("workload" | "pod" | "external" | "ingress-controller") and the fields of the JSON schema
(docs/output.md). An external node is one address range, maximal for the edges it is on: the
range an edge names is allowed as a whole, so ranges of different edges may overlap. Edge attributes: ``conns`` (ConnectionSet), ``egress`` and ``ingress``
(frozensets of RuleRef).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Iterator, Literal, Mapping

if TYPE_CHECKING:
    import networkx as nx

from .classes import iter_bits
from ..model.connset import NO_CONNECTIONS, V6_BASE, ConnectionSet, range_text
from .evaluate import Allowance, Reachability

Level = Literal["workload", "pod"]


def external_id(lo: int, hi: int) -> str:
    return range_text(lo, hi)


def pod_id(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


@dataclass(frozen=True)
class ConnectivityView:
    """Endpoints and allowed connections, before they become a networkx graph. Writers read
    this directly, so ``kreach list`` never pays for importing networkx.

    Connections between workloads (or pods) are kept at class level: ``edges`` expands them to
    every pair when asked, while :meth:`sorted_edges` yields them in report order one source at
    a time, so writing a list takes memory in proportion to the endpoints, not to the pairs."""

    level: str
    nodes: dict[str, dict[str, Any]]
    members: tuple[tuple[str, ...], ...] = ()  # class -> the endpoints it stands for
    class_edges: Mapping[tuple[int, int], Allowance] = field(default_factory=dict)
    extra: dict[tuple[str, str], Allowance] = field(default_factory=dict)  # to/from ranges, the controller

    @cached_property
    def edges(self) -> dict[tuple[str, str], Allowance]:
        edges: dict[tuple[str, str], Allowance] = {}
        for (s, d), a in self.class_edges.items():
            for src in self.members[s]:
                for dst in self.members[d]:
                    if src != dst:  # a workload (or pod) to itself is not reported
                        prev = edges.get((src, dst))
                        edges[(src, dst)] = a if prev is None else prev | a
        for key, a in self.extra.items():
            prev = edges.get(key)
            edges[key] = a if prev is None else prev | a
        return edges

    def order(self, node: str) -> tuple:
        """Report order: address ranges first (by address), then workloads or pods by id, then
        the ingress controller (last, as netpol-analyzer prints it)."""
        data = self.nodes[node]
        if data["type"] == "external":
            lo, hi = data["interval"]
            return (0, lo, hi, "")
        if data["type"] == "ingress-controller":
            return (2, 0, 0, node)
        return (1, 0, 0, node)

    def sorted_edges(self) -> Iterator[tuple[str, str, Allowance]]:
        """Every connection in report order (by source, then destination)."""
        if "edges" in self.__dict__:  # already expanded: sort what is there
            for (src, dst), a in sorted(self.edges.items(),
                                        key=lambda e: (self.order(e[0][0]), self.order(e[0][1]))):
                yield src, dst, a
            return
        rank = {node: self.order(node) for node in self.nodes}  # once per node, not per pair
        classes_of: dict[str, list[int]] = {}
        for c, names in enumerate(self.members):
            for n in names:
                classes_of.setdefault(n, []).append(c)
        out_of: dict[int, list[tuple[int, Allowance]]] = {}
        for (s, d), a in self.class_edges.items():
            out_of.setdefault(s, []).append((d, a))
        extra_of: dict[str, list[tuple[str, Allowance]]] = {}
        for (src, dst), a in self.extra.items():
            extra_of.setdefault(src, []).append((dst, a))
        sources = set(extra_of) | {n for c in out_of for n in self.members[c]}
        for src in sorted(sources, key=rank.__getitem__):
            row: dict[str, Allowance] = {}
            for c in classes_of.get(src, ()):
                for d, a in out_of.get(c, ()):
                    for dst in self.members[d]:
                        if dst != src:
                            prev = row.get(dst)
                            row[dst] = a if prev is None else prev | a
            for dst, a in extra_of.get(src, ()):
                prev = row.get(dst)
                row[dst] = a if prev is None else prev | a
            for dst in sorted(row, key=rank.__getitem__):
                yield src, dst, row[dst]


def build_view(reach: Reachability, level: Level = "workload") -> ConnectivityView:
    cluster = reach.cluster
    nodes: dict[str, dict[str, Any]] = {}
    # endpoints: one per workload (or pod), and which endpoints each class stands for
    members: list[list[str]] = [[] for _ in reach.index.classes]
    if level == "workload":
        counts, classes = _workload_pods(reach)
        for w in cluster.workloads:
            wid = w.id
            nodes[wid] = dict(type="workload", namespace=w.namespace, name=w.name, kind=w.kind,
                              pods=counts.get(wid, 0), labels=dict(w.labels), source=w.source)
            for c in classes.get(wid, ()):
                members[c].append(wid)
    else:
        for i, p in enumerate(cluster.pods):
            pid = pod_id(p.namespace, p.name)
            nodes[pid] = dict(type="pod", namespace=p.namespace, name=p.name, workload=p.workload,
                              ips=list(p.ip_texts),
                              labels=dict(p.labels), source=p.source)
            members[reach.index.pod_class[i]].append(pid)

    extra: dict[tuple[str, str], Allowance] = {}

    def add(src: str, dst: str, a: Allowance) -> None:
        if src == dst:
            return  # a workload (or pod) to itself is not reported
        prev = extra.get((src, dst))
        extra[(src, dst)] = a if prev is None else prev | a

    def external(lo: int, hi: int) -> str:
        node = external_id(lo, hi)
        if node not in nodes:
            nodes[node] = dict(type="external", ranges=[node], interval=(lo, hi))
        return node

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
    return ConnectivityView(level, nodes, tuple(tuple(m) for m in members), reach.class_edges, extra)


def _workload_pods(reach: Reachability) -> tuple[dict[str, int], dict[str, dict[int, None]]]:
    """Per workload id: how many pods it has, and the classes its pods are in."""
    counts: dict[str, int] = {}
    classes: dict[str, dict[int, None]] = {}
    pod_class = reach.index.pod_class
    for i, p in enumerate(reach.cluster.pods):
        counts[p.workload] = counts.get(p.workload, 0) + 1
        classes.setdefault(p.workload, {})[pod_class[i]] = None
    return counts, classes


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
