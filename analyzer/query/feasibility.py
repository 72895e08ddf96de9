"""Solver-free answers to "could a pod that does not exist yet reach this pod class?".

A new pod's labels are free, so the question is whether some choice of labels (and, for a new
namespace, of namespace labels) lets one egress way out of the pod and one ingress rule of the
destination agree on a port. Most of these questions need no solver:

* a conjunction of label selectors is satisfiable iff, key by key, the ``In`` sets (minus the
  ``NotIn`` values) leave a value and ``DoesNotExist`` is not asked together with presence;
  values are otherwise free strings (:func:`satisfy`, which also builds the labels);
* a new pod in an existing namespace whose egress policies include one with an empty
  ``podSelector`` is surely egress-isolated, so it needs an egress rule of that namespace that
  matches the destination class, and the labels that rule's policy selects;
* a pod in a namespace that does not exist yet has no policies: its egress is open.

* a new pod escapes every egress policy of its namespace when, for each policy, one requirement
  of its ``podSelector`` fails; the negation of a requirement is again a requirement (``In`` /
  ``NotIn``, ``Exists`` / ``DoesNotExist``), so a small search over these choices decides it
  (:meth:`NewPodReach.unselected`).

Only a search that grows beyond :data:`SEARCH_LIMIT` steps is left undecided
(:data:`UNDECIDED`); the caller then asks Z3. Every "yes" carries a concrete witness, every
"no" is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from ..engine.classes import ClassIndex
from ..engine.compile import AnyPeer, CompiledPolicies, CompiledRule, PodPeer, RuleRef
from ..model.connset import ConnectionSet
from ..model.cluster import INGRESS, NAME_LABEL
from ..model.selectors import MATCH_ALL, LabelSelector, Requirement

SEARCH_LIMIT = 2000  # steps of the escape search before handing the question to Z3
OTHER = "<other>"  # a label value no selector mentions (as in Z3 witnesses)
NEW_NAMESPACE = "<new namespace>"  # a witness's namespace that does not exist yet

Labels = dict[str, str]


def satisfy(requirements: Iterable[Requirement], present: frozenset[str] = frozenset(),
            excluded: Mapping[str, frozenset[str]] | None = None) -> Labels | None:
    """Labels meeting every requirement (keys in ``present`` must be there, with a value not in
    ``excluded[key]``), or None when no labels do. Keys a requirement lets be absent are left
    out; a value forced to exist but not to be any listed value is :data:`OTHER`."""
    excluded = excluded or {}
    keys: dict[str, list] = {k: [None, set(), True, False] for k in present}
    for r in requirements:
        k = keys.setdefault(r.key, [None, set(), False, False])  # in-set, not-in, present, absent
        if r.operator == "In":
            k[0] = set(r.values) if k[0] is None else k[0] & r.values
            k[2] = True
        elif r.operator == "NotIn":
            k[1] |= r.values
        elif r.operator == "Exists":
            k[2] = True
        else:
            k[3] = True
    out: Labels = {}
    for key, (in_set, not_in, must_be, must_not) in keys.items():
        if must_not:
            if must_be:
                return None
            continue
        if in_set is not None:
            values = in_set - not_in - excluded.get(key, frozenset())
            if not values:
                return None
            out[key] = min(values)
        elif must_be:
            out[key] = OTHER
    return out


_NEGATION = {"In": "NotIn", "NotIn": "In", "Exists": "DoesNotExist", "DoesNotExist": "Exists"}


def negate(r: Requirement) -> Requirement:
    """The requirement that holds exactly when ``r`` does not (NotIn holds on an absent key)."""
    return Requirement(r.key, _NEGATION[r.operator], r.values)


# Ports a reader recognises, shown when the destination declares none (a new pod, an address)
# rather than the lowest allowed port (TCP 1 says nothing).
COMMON_PORTS = (443, 80, 8080, 53)


def first_port(conns: ConnectionSet, declared: Sequence[int] = ()) -> tuple[str, int]:
    """A port ``conns`` allows, as a reader would pick it (like Z3 witnesses): TCP on a
    ``declared`` port (the destination's container ports), else a common TCP port, else the
    lowest TCP port, else a declared port of UDP or SCTP, else the lowest."""
    tcp = conns.get("TCP")
    for n in (*sorted(declared), *COMMON_PORTS):
        if n in tcp:
            return "TCP", n
    if tcp:
        return "TCP", next(iter(tcp))[0]
    for proto in ("UDP", "SCTP"):
        ports = conns.get(proto)
        for n in sorted(declared):
            if n in ports:
                return proto, n
    for proto in ("UDP", "SCTP"):
        ports = conns.get(proto)
        if ports:
            return proto, next(iter(ports))[0]
    raise ValueError("empty connection set")


@dataclass(frozen=True)
class Entry:
    """One ingress way into a class: a peer of a rule, and the ports the rule opens there."""

    rule: CompiledRule
    pod_selector: LabelSelector
    namespace: str | None  # the peer's own namespace (a podSelector-only peer)
    namespace_selector: LabelSelector | None  # None with namespace None: any namespace (no from)
    ports: ConnectionSet

    def admits(self, namespace: str, ns_labels: Mapping[str, str]) -> bool:
        if self.namespace is not None:
            return self.namespace == namespace
        return self.namespace_selector is None or self.namespace_selector.matches(ns_labels)


@dataclass(frozen=True)
class Way:
    """A proof that a new pod reaches a class: a pod with exactly ``labels`` (``absent``: keys the
    policies read that it does not carry) in an existing namespace, or in a new one with exactly
    ``ns_labels``; the destination class, a protocol and port both sides allow, and the ingress
    rules that allow it."""

    dst_class: int
    labels: Labels
    absent: tuple[str, ...]
    ns_labels: Labels | None
    protocol: str
    port: int
    allowed_by: tuple[RuleRef, ...]


UNDECIDED = "undecided"


class _GiveUp(Exception):
    pass


class NewPodReach:
    """Answers for one analysis, with per-class and per-namespace tables built on first use."""

    def __init__(self, compiled: CompiledPolicies, index: ClassIndex) -> None:
        self.index = index
        self.ns_labels = index.ns_labels
        self.existing = frozenset(index.namespaces)
        self._ingress: dict[str, list] = {}
        self._egress: dict[str, list] = {}
        for t in compiled.targets:
            (self._ingress if t.direction == INGRESS else self._egress) \
                .setdefault(t.namespace, []).append(t)
        self._entries: dict[int, tuple[Entry, ...]] = {}
        self._exits: dict[str, tuple[list, bool]] = {}
        self._ports: dict[tuple[int, int], ConnectionSet] = {}
        self._ns_match: dict[LabelSelector, tuple[str, ...]] = {}
        self._new_ns: dict[LabelSelector, Labels | None] = {}
        self._unselected: dict[tuple[str, LabelSelector], Labels | str | None] = {}

    # --- the tables -------------------------------------------------------------------------

    def ports(self, rule: CompiledRule, c: int) -> ConnectionSet:
        """The ports ``rule`` opens towards class ``c`` (named ports resolved on it)."""
        if not rule.ports.named:
            return rule.ports.numeric
        key = (id(rule), c)
        hit = self._ports.get(key)
        if hit is None:
            hit = self._ports[key] = rule.ports.resolve(self.index.classes[c].port_map)
        return hit

    def entries(self, c: int) -> tuple[Entry, ...]:
        """The ingress ways into class ``c`` a pod with some labels could take (the class is
        assumed isolated for ingress)."""
        hit = self._entries.get(c)
        if hit is not None:
            return hit
        cls = self.index.classes[c]
        out = []
        for t in self._ingress.get(cls.namespace, ()):
            if not self.index.target_bits(t.namespace, t.pod_selector) >> c & 1:
                continue
            for r in t.rules:
                ports = self.ports(r, c)
                if not ports:
                    continue
                for p in r.peers:
                    if isinstance(p, AnyPeer):
                        out.append(Entry(r, MATCH_ALL, None, None, ports))
                    elif isinstance(p, PodPeer) \
                            and satisfy(p.pod_selector.requirements) is not None:
                        out.append(Entry(r, p.pod_selector, p.namespace, p.namespace_selector,
                                         ports))
        hit = self._entries[c] = tuple(out)
        return hit

    def exits(self, namespace: str) -> tuple[list, bool | None]:
        """The egress rules of ``namespace`` as (policy podSelector, rule, destination class
        bits), and whether a new pod there can be left unselected by every egress policy: True
        (no egress policy), False (one selects every pod), None (it depends on its labels)."""
        hit = self._exits.get(namespace)
        if hit is not None:
            return hit
        targets = self._egress.get(namespace, ())
        rules = []
        for t in targets:
            for r in t.rules:
                bits = 0
                for p in r.peers:
                    bits |= self.index.peer_bits(p)
                if bits:
                    rules.append((t.pod_selector, r, bits))
        free = True if not targets else False if any(t.pod_selector.is_empty for t in targets) \
            else None
        hit = self._exits[namespace] = (rules, free)
        return hit

    def unselected(self, namespace: str, selector: LabelSelector) -> Labels | str | None:
        """Labels meeting ``selector`` that no egress policy of ``namespace`` selects, None when
        there are none, or :data:`UNDECIDED` when the search grows too long."""
        key = (namespace, selector)
        if key in self._unselected:
            return self._unselected[key]
        policies = [t.pod_selector.requirements for t in self._egress.get(namespace, ())]
        steps = [0]

        def search(i: int, reqs: tuple[Requirement, ...]) -> Labels | None:
            steps[0] += 1
            if steps[0] > SEARCH_LIMIT:
                raise _GiveUp
            while i < len(policies) and satisfy(reqs + policies[i]) is None:
                i += 1  # no pod meeting reqs is selected by this policy
            if i == len(policies):
                return satisfy(reqs)
            for r in policies[i]:  # escape policy i by failing one of its requirements
                found = search(i + 1, reqs + (negate(r),))
                if found is not None:
                    return found
            return None

        try:
            hit = search(0, selector.requirements) if satisfy(selector.requirements) is not None \
                else None
        except _GiveUp:
            hit = UNDECIDED
        self._unselected[key] = hit
        return hit

    def namespaces_matching(self, selector: LabelSelector) -> tuple[str, ...]:
        hit = self._ns_match.get(selector)
        if hit is None:
            hit = self._ns_match[selector] = tuple(
                n for n in self.index.namespaces if selector.matches(self.ns_labels[n]))
        return hit

    def new_namespace_labels(self, selector: LabelSelector | None) -> Labels | None:
        """Labels of a namespace that does not exist yet meeting ``selector`` (None: any), or
        None. Its name label is there and names no existing namespace."""
        key = selector if selector is not None else MATCH_ALL
        if key not in self._new_ns:
            self._new_ns[key] = satisfy(key.requirements, frozenset({NAME_LABEL}),
                                        {NAME_LABEL: self.existing})
        return self._new_ns[key]

    def candidates(self, classes: Iterable[int]) -> tuple[set[str], bool]:
        """Existing namespaces whose new pods some ingress way of these classes admits, and
        whether a pod of a namespace that does not exist yet may be admitted."""
        names: set[str] = set()
        new = False
        for c in classes:
            for e in self.entries(c):
                if e.namespace is not None:
                    names.add(e.namespace)
                elif e.namespace_selector is None:
                    names |= self.existing
                    new = True
                else:
                    names.update(self.namespaces_matching(e.namespace_selector))
                    new = new or self.new_namespace_labels(e.namespace_selector) is not None
        return names, new

    # --- the answers ------------------------------------------------------------------------

    def from_namespace(self, namespace: str, classes: Iterable[int],
                       declared: Mapping[int, Sequence[int]] | None = None) -> Way | str | None:
        """Could a new pod in the existing ``namespace`` reach one of ``classes``? A :class:`Way`,
        None (no), or :data:`UNDECIDED`. ``declared``: per class, the container ports of the
        pod a witness shows, which its port prefers."""
        declared = declared or {}
        if namespace not in self.ns_labels:
            return UNDECIDED  # a namespace no object declares: leave it to the solver
        ns_labels = self.ns_labels[namespace]
        rules, free = self.exits(namespace)
        policies = tuple(t.pod_selector for t in self._egress.get(namespace, ()))
        undecided = False
        for c in sorted(classes):
            entries = [e for e in self.entries(c) if e.admits(namespace, ns_labels)]
            if not entries:
                continue
            outs = [(sel, self.ports(r, c)) for sel, r, bits in rules if bits >> c & 1]
            for e in entries:
                if free is not False:  # egress not isolated: any port the ingress rule opens
                    labels = self.unselected(namespace, e.pod_selector)
                    if labels == UNDECIDED:
                        undecided = True
                    elif labels is not None:
                        return self._way(c, (e.pod_selector,) + policies, labels, None, e.ports,
                                         namespace, declared.get(c, ()))
                for sel, ports in outs:
                    both = e.ports & ports
                    if both:
                        labels = satisfy(e.pod_selector.requirements + sel.requirements)
                        if labels is not None:
                            return self._way(c, (e.pod_selector, sel), labels, None, both,
                                             namespace, declared.get(c, ()))
        return UNDECIDED if undecided else None

    def from_new_namespace(self, classes: Iterable[int],
                           declared: Mapping[int, Sequence[int]] | None = None) -> Way | None:
        """Could a new pod in a namespace that does not exist yet (no policies: egress open)
        reach one of ``classes``?"""
        declared = declared or {}
        for c in sorted(classes):
            for e in self.entries(c):
                if e.namespace is not None:
                    continue
                ns = self.new_namespace_labels(e.namespace_selector)
                if ns is None:
                    continue
                labels = satisfy(e.pod_selector.requirements)
                if labels is not None:
                    return self._way(c, (e.pod_selector,), labels, ns, e.ports, None,
                                     declared.get(c, ()))
        return None

    def _way(self, c: int, selectors: tuple[LabelSelector, ...], labels: Labels,
             ns_labels: Labels | None, conns: ConnectionSet, namespace: str | None,
             declared: Sequence[int]) -> Way:
        proto, port = first_port(conns, declared)
        where = namespace if namespace is not None else NEW_NAMESPACE
        ns_view = ns_labels if ns_labels is not None else self.ns_labels[namespace]
        fired, read = set(), set()
        for e in self.entries(c):
            read |= e.pod_selector.keys()
            if e.ports.allows(proto, port) and e.admits(where, ns_view) \
                    and e.pod_selector.matches(labels):
                fired.add(e.rule.ref)
        for sel in selectors:
            read |= sel.keys()
        return Way(c, labels, tuple(sorted(read - set(labels))), ns_labels, proto, port,
                   tuple(sorted(fired)))
