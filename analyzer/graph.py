"""The reachability graph: a networkx DiGraph over workloads or pods plus external address
ranges, each edge carrying its connection set and the rules that allow it.

Node attributes: ``type`` ("workload" | "pod" | "external") and the fields of the JSON schema
(docs/output.md). Edge attributes: ``conns`` (ConnectionSet), ``egress`` and ``ingress``
(frozensets of RuleRef).
"""

from __future__ import annotations

from typing import Literal

import networkx as nx

from .classes import iter_bits
from .connset import range_text
from .evaluate import Allowance, Reachability
from .model import pods_by_workload

Level = Literal["workload", "pod"]


def external_id(lo: int, hi: int) -> str:
    return range_text(lo, hi)


def pod_id(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


def build_graph(reach: Reachability, level: Level = "workload") -> nx.DiGraph:
    cluster = reach.cluster
    g = nx.DiGraph(level=level)
    # endpoints: one per workload (or pod), and which endpoints each class stands for
    members: list[list[str]] = [[] for _ in reach.index.classes]
    if level == "workload":
        by_wl = pods_by_workload(cluster.pods)
        pod_pos = {id(p): i for i, p in enumerate(cluster.pods)}
        for w in cluster.workloads:
            pods = by_wl.get(w.id, [])
            g.add_node(w.id, type="workload", namespace=w.namespace, name=w.name, kind=w.kind,
                       pods=len(pods), labels=dict(w.labels), source=w.source)
            for c in {reach.index.pod_class[pod_pos[id(p)]] for p in pods}:
                members[c].append(w.id)
    else:
        for i, p in enumerate(cluster.pods):
            pid = pod_id(p.namespace, p.name)
            g.add_node(pid, type="pod", namespace=p.namespace, name=p.name, workload=p.workload,
                       labels=dict(p.labels), source=p.source)
            members[reach.index.pod_class[i]].append(pid)

    edges: dict[tuple[str, str], Allowance] = {}

    def add(src: str, dst: str, a: Allowance) -> None:
        if src == dst:
            return  # a workload (or pod) to itself is not reported
        prev = edges.get((src, dst))
        edges[(src, dst)] = a if prev is None else prev | a

    for (s, d), a in reach.class_edges.items():
        for src in members[s]:
            for dst in members[d]:
                add(src, dst, a)
    for c, regions in reach.from_ip.items():
        for bits, a in regions:
            for atom in iter_bits(bits):
                ext = _external(g, reach, atom)
                for dst in members[c]:
                    add(ext, dst, a)
    for c, regions in reach.to_ip.items():
        for bits, a in regions:
            for atom in iter_bits(bits):
                ext = _external(g, reach, atom)
                for src in members[c]:
                    add(src, ext, a)
    g.add_edges_from((s, d, {"conns": a.conns, "egress": a.egress, "ingress": a.ingress})
                     for (s, d), a in edges.items())
    return g


def _external(g: nx.DiGraph, reach: Reachability, atom: int) -> str:
    lo, hi = reach.ip_atoms[atom]
    node = external_id(lo, hi)
    if node not in g:
        g.add_node(node, type="external", ranges=[node], interval=(lo, hi))
    return node
