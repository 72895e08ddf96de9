"""``exposure``: for every workload and both directions, what its own policies open beyond the
pods of the input: address ranges, the entire cluster, classes of namespaces and pods described
by selectors (pods that may not exist yet), and the workloads no policy isolates.

Everything is read off the concrete engine's class-level state (:class:`Reachability` and its
rule tables), so the cost is one pass over pod classes, not a solver call per question:

* a direction no policy isolates is ``unprotected``: anyone, every port;
* external ranges are the engine's own address results (exact, per range);
* a rule peer ``namespaceSelector: {}`` (with an empty or absent podSelector), or a rule with no
  peers, opens the workload to the entire cluster on that rule's ports;
* every other selector peer is a class of pods, described by its selectors; its connections are
  those of every rule of the workload whose peers contain the class. A class whose connections
  the entire cluster already has adds nothing, and one that existing pods fall in is reported by
  ``list`` with those pods (as netpol-analyzer does).

Only the workload's own side is read: an exposure says what *its* policies let in or out; the
peer's policies (unknown for pods that do not exist) may still narrow it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..engine.classes import iter_bits
from ..engine.edge import Reached, edge_routes
from ..engine.compile import PodPeer, RuleRef
from ..engine.peer_classes import Opening, is_exact, names_one_namespace, opening
from ..model.cluster import NAME_LABEL, pods_by_workload
from ..model.connset import ALL_CONNECTIONS, NO_CONNECTIONS, ConnectionSet, IntervalSet, address_text, \
    example_address, range_text, split_families
from .engine import Engine
from .feasibility import NEW_NAMESPACE, first_port, satisfy
from .verdict import SEVERITIES, AddressWitness, ExposureReport, Finding, PeerClass, PodWitness, \
    Witness

DIRECTIONS = ("ingress", "egress")
_KIND_ORDER = {"unprotected": 0, "external": 1, "cluster": 2, "namespaces": 3, "pods": 4}


@dataclass
class _Side:
    """What one pod class (or one workload) opens in one direction."""

    unprotected: bool = False
    cluster: ConnectionSet = NO_CONNECTIONS
    cluster_refs: set = field(default_factory=set)
    cluster_named: set = field(default_factory=set)
    classes: dict = field(default_factory=dict)  # PodPeer -> [conns, refs, named]
    external: dict = field(default_factory=dict)  # atom index -> [conns, refs]

    def merge(self, other: Opening) -> None:
        self.unprotected |= other.unprotected
        self.cluster = self.cluster | other.cluster
        self.cluster_refs |= other.cluster_refs
        self.cluster_named |= other.cluster_named
        for k, c, r, n in other.classes:
            mine = self.classes.setdefault(k, [NO_CONNECTIONS, set(), set()])
            mine[0] = mine[0] | c
            mine[1] |= r
            mine[2] |= n


def exposure(engine: Engine, directions: tuple[str, ...] = DIRECTIONS,
             min_severity: str = "low") -> ExposureReport:
    """Every exposure finding of the input in ``directions``, at least ``min_severity``, most
    severe first. Ingress findings of a workload that an admitted route from the edge reaches
    (:func:`analyzer.engine.edge.edge_routes`) are edge-exposed and ranked first in their
    severity; routes the workload's policies block are the report's dead routes."""
    reach = engine.reachability
    cluster = engine.cluster
    index = reach.index
    pod_pos = {id(p): i for i, p in enumerate(cluster.pods)}
    by_wl = pods_by_workload(cluster.pods)
    cache: dict = {}
    routes_of: dict[str, list[Reached]] = {}
    dead: list[Reached] = []
    for reached in engine.edge if engine.edge is not None else edge_routes(reach)[0]:
        if reached.admitted:
            routes_of.setdefault(reached.route.workload, []).append(reached)
        else:
            dead.append(reached)
    findings: list[Finding] = []
    peers = _Peers(index)
    for w in sorted(cluster.workloads, key=lambda w: w.id):
        pods = [pod_pos[id(p)] for p in by_wl.get(w.id, [])]
        if not pods:
            continue
        classes = sorted({index.pod_class[i] for i in pods})
        shown = {c: cluster.pods[next(i for i in pods if index.pod_class[i] == c)] for c in classes}
        for direction in directions:
            side = _Side()
            for c in classes:
                side.merge(opening(reach, c, direction, cache))
            _external(reach, classes, direction, side)
            findings += _findings(w, side, direction, shown, index, reach.ip_atoms,
                                  routes_of.get(w.id, ()), peers)
    floor = SEVERITIES.index(min_severity)
    findings = [f for f in findings if SEVERITIES.index(f.severity) <= floor]
    findings.sort(key=_rank)
    return ExposureReport(tuple(findings), (), tuple(dead))


def _rank(f: Finding):
    return (not f.edge, SEVERITIES.index(f.severity), f.workload, f.direction,
            _KIND_ORDER[f.peer.kind], str(f.peer))


def _external(reach, classes: list[int], direction: str, side: _Side) -> None:
    sides = reach.from_ip if direction == "ingress" else reach.to_ip
    for c in classes:
        for bits, a in sides.get(c, ()):
            refs = a.ingress if direction == "ingress" else a.egress
            for i in iter_bits(bits):
                entry = side.external.setdefault(i, [NO_CONNECTIONS, set()])
                entry[0] = entry[0] | a.conns
                entry[1] |= refs


class _Peers:
    """What a selector peer class looks like in a report, worked out once per class: whether it
    is left out (existing pods carry exactly its labels, or no pod can meet it), its
    :class:`PeerClass` and a witness pod."""

    def __init__(self, index) -> None:
        self.index = index
        self.names = sorted(index.ns_labels)
        self.memo: dict[int, tuple[PeerClass, PodWitness] | None] = {}

    def get(self, p: PodPeer) -> tuple[PeerClass, PodWitness] | None:
        key = id(p)  # peers live in the compiled rules for the whole report
        if key not in self.memo:
            self.memo[key] = self._make(p)
        return self.memo[key]

    def _make(self, p: PodPeer) -> tuple[PeerClass, PodWitness] | None:
        if is_exact(p) and self.index.peer_bits(p):
            return None  # existing pods carry exactly these labels: `list` reports them
        witness_pod = _peer_witness(p, self.index.ns_labels, self.names)
        if witness_pod is None:
            return None  # selectors no pod can meet: an empty class
        kind = "namespaces" if p.pod_selector.is_empty else "pods"
        return (PeerClass(kind, (), p.namespace, p.namespace_selector,
                          None if p.pod_selector.is_empty else p.pod_selector), witness_pod)


_ANY_NEW_POD = PodWitness(NEW_NAMESPACE, hypothetical=True, namespace_labels=())


def _findings(w, side: _Side, direction: str, shown: dict, index, atoms, routes,
              peers: _Peers) -> list[Finding]:
    out: list[Finding] = []
    dst_pod = next(iter(shown.values()))
    declared = sorted({p.number for p in dst_pod.ports}) if direction == "ingress" else []
    edge = tuple(routes) if direction == "ingress" else ()
    me = PodWitness(dst_pod.namespace, dst_pod.name, dst_pod.workload, labels=dst_pod.labels)

    def witness(peer_end, conns: ConnectionSet) -> Witness | None:
        if not conns:
            return None
        proto, port = first_port(conns, declared)
        return Witness(peer_end, me, proto, port) if direction == "ingress" \
            else Witness(me, peer_end, proto, port)

    def finding(severity, peer, conns, refs, peer_end, named=()) -> Finding:
        through = tuple(r for r in edge if conns.allows(r.route.protocol, r.route.port))
        return Finding(severity, direction, w.id, peer, conns, _refs(refs), witness(peer_end, conns),
                       tuple(sorted(named)), through)

    if side.unprotected:
        out.append(finding("high", PeerClass("unprotected"), ALL_CONNECTIONS, side.cluster_refs,
                           _ANY_NEW_POD, ()))
    # external: one finding per distinct connection set, with its ranges
    by_conns: dict[ConnectionSet, tuple[list, set]] = {}
    for i, (conns, refs) in sorted(side.external.items()):
        if conns:
            entry = by_conns.setdefault(conns, ([], set()))
            entry[0].append(i)
            entry[1].update(refs)
    for conns, (ids, refs) in by_conns.items():
        ranges = split_families(IntervalSet.of(atoms[i] for i in ids))
        texts = tuple(range_text(lo, hi) for lo, hi in ranges)
        out.append(finding("critical" if conns.is_all() else "high",
                           PeerClass("external", texts), conns, refs,
                           AddressWitness(address_text(example_address(ranges)))))
    if side.cluster or side.cluster_named:
        out.append(finding("high", PeerClass("cluster"), side.cluster, side.cluster_refs,
                           _ANY_NEW_POD, side.cluster_named))
    for p, (conns, refs, named) in side.classes.items():
        if conns == side.cluster and set(named) <= side.cluster_named:
            continue  # the entire cluster has as much (with admin Deny rules a class may get less)
        shown_as = peers.get(p)
        if shown_as is None:
            continue
        peer, witness_pod = shown_as
        same_ns = p.namespace == w.namespace or names_one_namespace(p.namespace_selector) == w.namespace
        severity = "low" if same_ns or not (conns or named) else "medium"
        out.append(finding(severity, peer, conns, refs, witness_pod, named))
    return out


def _refs(refs) -> tuple[RuleRef, ...]:
    return tuple(sorted(refs, key=lambda r: (r.policy or "", r.kind, r.direction,
                                             -1 if r.index is None else r.index)))


def _peer_witness(p: PodPeer, ns_labels: dict, names: list[str]) -> PodWitness | None:
    """A pod of class ``p``: the labels its selectors ask for, in the namespace it names, the
    first existing namespace its selector matches, or else a new namespace; None when no pod
    can meet the selectors."""
    labels = satisfy(p.pod_selector.requirements)
    if labels is None:
        return None
    absent = tuple(sorted(r.key for r in p.pod_selector.requirements if r.operator == "DoesNotExist"))
    pod_labels = tuple(sorted(labels.items()))
    if p.namespace is not None:
        return PodWitness(p.namespace, hypothetical=True, labels=pod_labels, absent=absent)
    sel = p.namespace_selector
    for name in names:
        if sel.matches(ns_labels[name]):
            return PodWitness(name, hypothetical=True, labels=pod_labels, absent=absent)
    new_ns = satisfy(sel.requirements, frozenset({NAME_LABEL}),
                     {NAME_LABEL: frozenset(ns_labels)})
    if new_ns is None:
        return None
    return PodWitness(NEW_NAMESPACE, hypothetical=True, labels=pod_labels, absent=absent,
                      namespace_labels=tuple(sorted(new_ns.items())))
