"""The auditor's report as data: how well a cluster's policies protect it.

An :class:`Audit` is computed from an :class:`~analyzer.analysis.Analysis` (and, when the caller
has them, lint findings and assertion results) and holds everything the writers print:

- **inventory** — namespaces, workloads, pods, policies by kind;
- **coverage** — per namespace, the workloads a policy isolates for ingress and for egress;
- **exposure** — workloads that addresses outside the cluster (or the cluster's edge, an
  ingress controller) may open connections to, with the ports and the rules that admit them;
- **blast radius** — for each exposed workload, what it can reach in up to ``hops`` hops of the
  workload graph (networkx), largest first;
- **crown-jewel paths** — the shortest path from outside to each workload the user marks
  sensitive, or the statement that none exists.

Nothing here prints; writers in this package render an :class:`Audit`.
"""

from __future__ import annotations

import fnmatch
import ipaddress
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from ..analysis import Analysis
from ..engine.classes import iter_bits
from ..engine.compile import RuleRef
from ..model.connset import V6_BASE, ConnectionSet

OUTSIDE = "{outside}"  # the super-source of crown-jewel paths: every exposed workload hangs off it

# Address ranges that are not the public internet (RFC 1918, CGNAT, loopback, link-local, ULA).
_PRIVATE = tuple(ipaddress.ip_network(n) for n in (
    "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8",
    "169.254.0.0/16", "0.0.0.0/8", "::1/128", "fc00::/7", "fe80::/10"))


@dataclass(frozen=True)
class Inventory:
    namespaces: int
    workloads: int
    pods: int
    policies: tuple[tuple[str, int], ...]  # (kind, count), by kind


@dataclass(frozen=True)
class NamespaceCoverage:
    namespace: str
    workloads: int
    ingress_isolated: int
    egress_isolated: int


@dataclass(frozen=True)
class Coverage:
    namespaces: tuple[NamespaceCoverage, ...]

    @property
    def workloads(self) -> int:
        return sum(n.workloads for n in self.namespaces)

    @property
    def ingress_isolated(self) -> int:
        return sum(n.ingress_isolated for n in self.namespaces)

    @property
    def egress_isolated(self) -> int:
        return sum(n.egress_isolated for n in self.namespaces)


@dataclass(frozen=True)
class Exposure:
    """One workload that a source outside the cluster may open connections to (``direction``
    "ingress"), or that may open connections to addresses outside the cluster ("egress")."""

    workload: str
    source: str  # "internet" (public addresses), "external" (private ranges only) or "edge"
    ranges: tuple[str, ...]  # the external ranges (or the edge endpoint) on the other side
    conns: ConnectionSet
    rules: tuple[RuleRef, ...]  # the rules of the workload's side that allow it
    direction: str = "ingress"

    @property
    def rank(self) -> int:
        return {"edge": 0, "internet": 1}.get(self.source, 2)


@dataclass(frozen=True)
class BlastRadius:
    """What an exposed workload reaches in 1..hops hops (the workload itself excluded)."""

    workload: str
    hops: int
    by_hop: tuple[tuple[str, ...], ...]  # by_hop[0]: one hop away, ...

    @property
    def reachable(self) -> tuple[str, ...]:
        return tuple(w for level in self.by_hop for w in level)


@dataclass(frozen=True)
class Hop:
    src: str
    dst: str
    conns: ConnectionSet


@dataclass(frozen=True)
class JewelPath:
    """The shortest path from outside the cluster to a sensitive workload; ``hops`` empty when
    no path exists (the jewel is safe from outside, as far as policies decide)."""

    jewel: str
    hops: tuple[Hop, ...]

    @property
    def reachable(self) -> bool:
        return bool(self.hops)


@dataclass(frozen=True)
class Audit:
    inventory: Inventory
    coverage: Coverage
    exposure: tuple[Exposure, ...]  # from outside (ingress), edge first
    blast_radius: tuple[BlastRadius, ...]
    jewels: tuple[JewelPath, ...]
    crown_jewel_patterns: tuple[str, ...]
    hops: int
    lint: tuple[Any, ...] = ()  # lint findings, when the caller ran lint
    assertions: Any = None  # an assertion report, when a kreach.yaml is configured
    notes: tuple[str, ...] = field(default_factory=tuple)
    egress: tuple[Exposure, ...] = ()  # workloads that may send to addresses outside the cluster


def audit(analysis: Analysis, *, crown_jewels: Sequence[str] = (), hops: int = 3,
          lint: Iterable[Any] = (), assertions: Any = None) -> Audit:
    """Compute the audit of one analysed input (workload level)."""
    view = _workload_view(analysis)
    exposure, egress = _exposures(view)
    reaches = _internal_edges(view)
    blast = tuple(sorted((_blast(reaches, e.workload, hops) for e in _unique(exposure)),
                         key=lambda b: (-len(b.reachable), b.workload)))
    jewels = _jewels(analysis, view, reaches, exposure, crown_jewels)
    notes = [_unmatched(p, view) for p in crown_jewels
             if not any(matches_pattern(p, n, d) for n, d in view.nodes.items() if d.get("type") == "workload")]
    return Audit(_inventory(analysis), _coverage(analysis), exposure, blast, jewels,
                 tuple(crown_jewels), hops, tuple(lint), assertions, tuple(notes), egress)


# --- sections ---------------------------------------------------------------------------------


def _workload_view(analysis: Analysis):
    if analysis.options.level == "workload":
        return analysis.view
    from ..engine.graph import build_view

    return build_view(analysis.reachability, "workload")


def _inventory(analysis: Analysis) -> Inventory:
    cluster = analysis.cluster
    kinds: dict[str, int] = {}
    if cluster.policies:
        kinds["NetworkPolicy"] = len(cluster.policies)
    for p in cluster.admin_policies:
        kinds[p.kind] = kinds.get(p.kind, 0) + 1
    return Inventory(len(cluster.namespaces), len(cluster.workloads), len(cluster.pods),
                     tuple(sorted(kinds.items())))


def _coverage(analysis: Analysis) -> Coverage:
    reach = analysis.reachability
    cluster = analysis.cluster
    classes_of: dict[str, set[int]] = {}
    for i, pod in enumerate(cluster.pods):
        classes_of.setdefault(pod.workload, set()).add(reach.index.pod_class[i])
    # class indexes, not shifts of the wide isolation bitsets (a pass over them each)
    in_isolated = set(iter_bits(reach.ingress_isolated))
    eg_isolated = set(iter_bits(reach.egress_isolated))
    per_ns: dict[str, list[int]] = {n.name: [0, 0, 0] for n in cluster.namespaces}
    for w in cluster.workloads:
        counts = per_ns.setdefault(w.namespace, [0, 0, 0])
        counts[0] += 1
        classes = classes_of.get(w.id, set())
        if classes and classes <= in_isolated:
            counts[1] += 1
        if classes and classes <= eg_isolated:
            counts[2] += 1
    return Coverage(tuple(NamespaceCoverage(ns, *c) for ns, c in sorted(per_ns.items()) if c[0]))


def is_public(lo: int, hi: int) -> bool:
    """Does the address range [lo, hi] (connset integers, within one family) hold an address
    outside the private, loopback and link-local ranges?"""
    version, base = (6, V6_BASE) if lo >= V6_BASE else (4, 0)
    covered = 0
    for net in _PRIVATE:
        if net.version == version:
            a = max(lo - base, int(net.network_address))
            b = min(hi - base, int(net.broadcast_address))
            if a <= b:
                covered += b - a + 1
    return covered < hi - lo + 1  # the private networks are disjoint


def _exposures(view) -> tuple[tuple[Exposure, ...], tuple[Exposure, ...]]:
    """(from outside, to outside): workloads that sources outside the cluster may open
    connections to, and workloads that may open connections to addresses outside it; one pass
    over the view's edges for both."""
    found: dict[str, dict[tuple[str, str], list]] = {"ingress": {}, "egress": {}}
    for (src, dst), allowance in view.edges.items():
        for direction, workload, other in (("ingress", dst, src), ("egress", src, dst)):
            if view.nodes[workload].get("type") != "workload":
                continue
            source = _outside(view.nodes[other])
            if source is None:
                continue
            entry = found[direction].setdefault((workload, source), [[], ConnectionSet(), set()])
            entry[0].append(other)
            entry[1] = entry[1] | allowance.conns
            entry[2].update(allowance.ingress if direction == "ingress" else allowance.egress)
    return _exposure_list(found["ingress"], "ingress"), _exposure_list(found["egress"], "egress")


def _outside(node: dict) -> str | None:
    """What kind of outside a view node is: "internet", "external" (private ranges only),
    "edge" (an ingress controller), or None for a workload."""
    if node.get("type") == "external":
        lo, hi = node["interval"]
        return "internet" if is_public(lo, hi) else "external"
    if node.get("type") == "ingress-controller":
        return "edge"
    return None


def _exposure_list(found: dict[tuple[str, str], list], direction: str) -> tuple[Exposure, ...]:
    out = [Exposure(w, source, tuple(sorted(r)), conns, tuple(sorted(refs, key=_ref_key)), direction)
           for (w, source), (r, conns, refs) in found.items()]
    return tuple(sorted(out, key=lambda e: (e.rank, e.workload)))


def _ref_key(r: RuleRef) -> tuple:
    return (r.policy or "", r.direction, r.index if r.index is not None else -1)


def _unique(exposure: Iterable[Exposure]) -> list[Exposure]:
    seen: dict[str, Exposure] = {}
    for e in exposure:
        if e.source != "external":
            seen.setdefault(e.workload, e)
    return list(seen.values())


def _internal_edges(view) -> dict[str, dict[str, ConnectionSet]]:
    """Workload -> the workloads it may open connections to, with the connections: the
    workload graph, as plain dicts (a breadth-first search needs no more)."""
    out: dict[str, dict[str, ConnectionSet]] = {
        node: {} for node, data in view.nodes.items() if data.get("type") == "workload"}
    for (src, dst), allowance in view.edges.items():
        if src in out and dst in out:
            out[src][dst] = allowance.conns
    return out


def _blast(reaches: dict[str, dict[str, ConnectionSet]], workload: str, hops: int) -> BlastRadius:
    """Workloads 1..hops hops away, by breadth-first search (each at its shortest distance)."""
    by_hop: list[tuple[str, ...]] = []
    seen, frontier = {workload}, [workload]
    for _ in range(hops):
        nxt = {w for src in frontier for w in reaches.get(src, {}) if w not in seen}
        if not nxt:
            break
        seen |= nxt
        frontier = list(nxt)
        by_hop.append(tuple(sorted(nxt)))
    return BlastRadius(workload, hops, tuple(by_hop))


def _graph(reaches: dict[str, dict[str, ConnectionSet]]):
    """The workload graph as a networkx DiGraph, for shortest paths. Nodes and edges are added
    in the order of ``reaches`` (the view's), which decides between paths of the same length."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(reaches)
    g.add_edges_from((src, dst, {"conns": conns}) for src, targets in reaches.items()
                     for dst, conns in targets.items())
    return g


def matches_pattern(pattern: str, workload_id: str, data: dict) -> bool:
    """``ns/name``, ``ns/name[Kind]``, globs such as ``payments/*``, or a label ``key=value``."""
    if "=" in pattern and "/" not in pattern:
        key, _, value = pattern.partition("=")
        return data.get("labels", {}).get(key.strip()) == value.strip()
    bare = workload_id.split("[", 1)[0]
    glob = pattern.replace("[", "[[]")  # a [Kind] suffix is literal, not a character class
    return fnmatch.fnmatchcase(workload_id, glob) or fnmatch.fnmatchcase(bare, glob)


def _unmatched(pattern: str, view) -> str:
    """A note for a crown-jewel pattern that matches no workload, with the closest names."""
    import difflib

    names = sorted({n.split("[", 1)[0] for n, d in view.nodes.items() if d.get("type") == "workload"})
    close = [n for n in names if n.startswith(pattern.rstrip("*"))][:3] or difflib.get_close_matches(pattern, names, 3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    return f"crown-jewel pattern {pattern!r} matches no workload{hint}"


def _jewels(analysis: Analysis, view, reaches, exposure: Sequence[Exposure],
            patterns: Sequence[str]) -> tuple[JewelPath, ...]:
    if not patterns:
        return ()
    import networkx as nx

    jewels = sorted(node for node, data in view.nodes.items() if data.get("type") == "workload"
                    and any(matches_pattern(p, node, data) for p in patterns))
    if not jewels:
        return ()
    g = _graph(reaches)
    g.add_node(OUTSIDE)
    for e in _unique(exposure):
        g.add_edge(OUTSIDE, e.workload, conns=e.conns)
    out = []
    for jewel in jewels:
        try:
            path = nx.shortest_path(g, OUTSIDE, jewel)
        except nx.NetworkXNoPath:
            out.append(JewelPath(jewel, ()))
            continue
        out.append(JewelPath(jewel, tuple(Hop(a, b, g.edges[a, b]["conns"])
                                          for a, b in zip(path, path[1:]))))
    return tuple(out)
