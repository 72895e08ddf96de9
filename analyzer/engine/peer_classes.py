"""What one pod class's own policies open, per direction, to classes of peers described by
selectors: the entire cluster, and each selector peer of its rules (namespaces matching one
selector, pods matching another there). Read off the rule tables of the concrete engine, so it
costs one pass over a class's rules and is shared by classes with the same rules.

A peer class gets the connections of every rule whose peer contains the whole class (judged on
the selectors' requirements: a superset of requirements describes a subset of pods); with admin
policies the rules containing it are decided in tier order (:func:`analyzer.engine.admin.decide`).
``kreach exposure`` reports these; ``list`` uses the entire cluster's connections for what the
ingress controller (an arbitrary in-cluster source) may send to a workload.
"""

from __future__ import annotations

from dataclasses import dataclass

from .compile import AnyPeer, PodPeer, RuleRef, default_ref
from .evaluate import Reachability
from ..model.cluster import EGRESS, INGRESS, NAME_LABEL
from ..model.connset import ALL_CONNECTIONS, NO_CONNECTIONS, ConnectionSet
from ..model.selectors import LabelSelector


@dataclass(frozen=True)
class Opening:
    """What a class opens in one direction. ``unprotected``: nothing isolates it there (so
    everything is open); ``cluster``: what every pod of every namespace gets, by ``cluster_refs``;
    ``cluster_named``: named ports of egress rules towards everyone (resolved only on a
    destination); ``classes``: (peer, connections, rules, named ports) per selector peer."""

    unprotected: bool
    cluster: ConnectionSet
    cluster_refs: frozenset[RuleRef] = frozenset()
    cluster_named: frozenset[tuple[str, str]] = frozenset()
    classes: tuple[tuple[PodPeer, ConnectionSet, frozenset[RuleRef], frozenset], ...] = ()


def opening(reach: Reachability, c: int, direction: str, cache: dict) -> Opening:
    """The selector-level exposure of class ``c`` in ``direction`` (memoised on the rule lists and,
    for ingress named ports, the class's container ports). With admin policies every class is
    decided in tier order (:func:`analyzer.engine.admin.decide`) over the rules whose peers
    contain it."""
    tables = reach.tables
    ingress = direction == "ingress"
    isolated = bool((reach.ingress_isolated if ingress else reach.egress_isolated) >> c & 1)
    ids = tuple((tables.in_rules if ingress else tables.eg_rules)[c]) if isolated else ()
    admin_lists = getattr(tables, "adm_in" if ingress else "adm_eg", None)
    admin_ids = tuple(sorted(admin_lists[c], key=lambda r: tables.rules[r].rule.rank)) \
        if admin_lists else ()
    pclass = reach.index.classes[c]
    key = (direction, isolated, ids, admin_ids, pclass.named_ports if ingress else ())
    hit = cache.get(key)
    if hit is not None:
        return hit
    if not isolated and not admin_ids:
        side = cache[key] = Opening(True, ALL_CONNECTIONS,
                                    frozenset({default_ref(INGRESS if ingress else EGRESS)}))
        return side
    ports_of = pclass.port_map if ingress else {}

    def resolved(rule):
        return rule.ports.resolve(ports_of) if ingress else rule.ports.numeric

    rules = [(r, resolved(r), set() if ingress else set(r.ports.named))
             for r in (tables.rules[rid].rule for rid in ids)]
    admin = [(r, resolved(r)) for r in (tables.rules[rid].rule for rid in admin_ids)]
    peers: dict[PodPeer, None] = {}
    for rule in [r for r, _, _ in rules] + [r for r, _ in admin]:
        for p in rule.peers:
            if isinstance(p, PodPeer) and not _is_cluster(p):
                peers[p] = None
    ns_labels = reach.index.ns_labels
    memo = cache.setdefault("contains", {})
    everyone = lambda q: isinstance(q, AnyPeer) or (isinstance(q, PodPeer) and _is_cluster(q))  # noqa: E731
    cluster, cluster_refs, cluster_named = _decide(direction, isolated, rules, admin, everyone)
    classes = []
    for p in peers:
        def contains(q, p=p):
            return isinstance(q, AnyPeer) or (isinstance(q, PodPeer) and _contains(q, p, ns_labels, memo))
        conns, refs, named = _decide(direction, isolated, rules, admin, contains)
        classes.append((p, conns, frozenset(refs), frozenset(named)))
    side = cache[key] = Opening(False, cluster, frozenset(cluster_refs), frozenset(cluster_named),
                                tuple(classes))
    return side


def _decide(direction: str, isolated: bool, rules, admin, matches):
    """What the rules whose peers ``matches`` allow: the union of NetworkPolicy rules, or with
    admin rules the tiered decision."""
    np_rules = [(r, conns, named) for r, conns, named in rules if any(matches(q) for q in r.peers)]
    named = set().union(*(n for _, _, n in np_rules)) if np_rules else set()
    if not admin:
        conns = NO_CONNECTIONS
        for _, c, _ in np_rules:
            conns = conns | c
        return conns, {r.ref for r, _, _ in np_rules}, named
    from ..engine.admin import decide  # admin policies only when the input has them

    hits = [(r, conns) for r, conns in admin if any(matches(q) for q in r.peers)]
    d = decide(INGRESS if direction == "ingress" else EGRESS, hits, isolated,
               [(r.ref, conns) for r, conns, _ in np_rules])
    return d.allowed, set(d.refs), named


def _is_cluster(p: PodPeer) -> bool:
    return p.namespace is None and p.namespace_selector is not None \
        and p.namespace_selector.is_empty and p.pod_selector.is_empty


def _contains(a: PodPeer, b: PodPeer, ns_labels: dict, memo: dict) -> bool:
    """Every pod ``b`` describes is one ``a`` describes (judged on the selectors' requirements)."""
    key = (id(a), id(b))  # the peers live in the compiled rules for the whole run: ids are stable
    hit = memo.get(key)
    if hit is None:
        hit = memo[key] = _contains_now(a, b, ns_labels)
    return hit


def _contains_now(a: PodPeer, b: PodPeer, ns_labels: dict) -> bool:
    if not set(a.pod_selector.requirements) <= set(b.pod_selector.requirements):
        return False
    if a.namespace is not None:
        return b.namespace == a.namespace or (b.namespace is None and names_one_namespace(
            b.namespace_selector) == a.namespace)
    assert a.namespace_selector is not None
    if b.namespace is not None:
        return a.namespace_selector.matches(ns_labels.get(b.namespace, {NAME_LABEL: b.namespace}))
    return set(a.namespace_selector.requirements) <= set(b.namespace_selector.requirements)


def is_exact(p: PodPeer) -> bool:
    """Whether both selectors are non-empty matchLabels: an existing pod matching them is then a
    pod of exactly the described kind, and ``list`` shows it (netpol-analyzer's rule; a class
    written with matchExpressions, or of every pod or every namespace, stays a finding)."""
    ns = p.namespace_selector
    if p.pod_selector.is_empty or p.pod_selector.has_expressions:
        return False
    return p.namespace is not None or (ns is not None and not ns.is_empty and not ns.has_expressions)


def names_one_namespace(sel: LabelSelector | None) -> str | None:
    """The one namespace ``sel`` names by ``kubernetes.io/metadata.name`` alone, if it does."""
    if sel is None or len(sel.requirements) != 1:
        return None
    r = sel.requirements[0]
    if r.key == NAME_LABEL and r.operator == "In" and len(r.values) == 1:
        return next(iter(r.values))
    return None


