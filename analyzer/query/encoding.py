"""The Z3 encoding of compiled policies: pods as terms, policies as formulas over them.

A *pod term* answers the questions the policies ask about a pod: is it in namespace N, do its
namespace's labels match a selector, do its labels match a selector, does it name a container
port. A :class:`ConcretePod` answers with Python booleans (its data is known); a
:class:`SymbolicPod` answers with Z3 formulas over its variables:

* ``ns``: an Int, the index of an existing namespace, or any other value for a namespace that
  does not exist yet (whose labels are then free variables, except its name label);
* per label key: ``present`` (Bool) and ``value`` (Int; label values are interned, so an Int not
  in the table is "some other value");
* per (protocol, port name): ``defined`` (Bool) and ``number`` (16-bit vector);
* per address family: ``has`` (Bool) and ``address`` (129-bit vector), the pod's IP in that
  family (a pod has at most one of each, ``status.podIPs``); a pod that does not exist yet has
  no known IP, so ipBlocks never match it.

Formulas are built with :func:`conj` / :func:`disj`, which fold Python booleans, so queries between
known pods leave Z3 only the protocol and port to reason about. Ports are 16-bit vectors, the
protocol an Int (0 SCTP, 1 TCP, 2 UDP), addresses 129-bit vectors in the integer space of
:mod:`analyzer.model.connset` (IPv4 ``a``, IPv6 ``2**32 + a``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence, Union

import z3

from ..engine.addresses import AddressAtoms
from ..engine.admin import AdminCompiledRule
from ..engine.compile import AnyPeer, CompiledPolicies, CompiledRule, IPPeer, PodPeer, PortMatcher, Target
from ..model.connset import IntervalSet, PROTOCOLS, V4_MAX, V6_BASE
from ..model.cluster import INGRESS, NAME_LABEL, Cluster
from ..model.selectors import LabelSelector, Requirement

Formula = Union[bool, z3.BoolRef]
PROTO_CODE = {p: i for i, p in enumerate(PROTOCOLS)}
ADDRESS_BITS = 129


def conj(*xs: Formula) -> Formula:
    out = []
    for x in xs:
        if x is False:
            return False
        if x is not True:
            out.append(x)
    return True if not out else out[0] if len(out) == 1 else z3.And(*out)


def disj(*xs: Formula) -> Formula:
    out = []
    for x in xs:
        if x is True:
            return True
        if x is not False:
            out.append(x)
    return False if not out else out[0] if len(out) == 1 else z3.Or(*out)


def neg(x: Formula) -> Formula:
    return (not x) if isinstance(x, bool) else z3.Not(x)


def as_z3(x: Formula) -> z3.BoolRef:
    return z3.BoolVal(x) if isinstance(x, bool) else x


class Interner:
    """Label values as Ints. Grows as queries mention new values; never shrinks."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def id(self, value: str) -> int:
        return self.ids.setdefault(value, len(self.ids))

    def value(self, code: int) -> str | None:
        for v, i in self.ids.items():
            if i == code:
                return v
        return None


# --- the flow variables -----------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    """Protocol and port of one connection (free unless the query fixes them)."""

    proto: z3.ArithRef
    port: z3.BitVecRef

    @classmethod
    def fresh(cls, name: str = "") -> "Flow":
        return cls(z3.Int(f"proto{name}"), z3.BitVec(f"port{name}", 16))

    def domain(self, protocol: str | None, port: int | None) -> list[z3.BoolRef]:
        out = [self.proto >= 0, self.proto < len(PROTOCOLS),
               z3.UGE(self.port, 1)]
        if protocol is not None:
            out.append(self.proto == PROTO_CODE[protocol])
        if port is not None:
            out.append(self.port == port)
        return out

    def in_ports(self, protocol: str, ports: IntervalSet) -> Formula:
        if not ports:
            return False
        if ports.intervals == ((1, 65535),):
            return self.proto == PROTO_CODE[protocol]
        return z3.And(self.proto == PROTO_CODE[protocol],
                      z3.Or(*[z3.And(z3.ULE(lo, self.port), z3.ULE(self.port, hi))
                              for lo, hi in ports]))


# --- endpoint terms ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Signature:
    """What the policies can see of an existing pod."""

    namespace: str
    labels: tuple[tuple[str, str], ...]
    ports: tuple[tuple[str, str, int], ...]  # (protocol, name, number)
    ips: tuple[int, ...] = ()  # one address per ipBlock-covered atom its IPs are in
    host_network: bool = False  # admin policies never select host-network pods

    def port_numbers(self, protocol: str, name: str) -> tuple[int, ...]:
        return tuple(n for p, nm, n in self.ports if p == protocol and nm == name)


@dataclass(frozen=True)
class ConcretePod:
    sig: Signature
    ns_labels: Mapping[str, str]
    pods: tuple[int, ...]  # Cluster.pods indexes with this signature

    may_be_new = False

    @property
    def namespaces(self) -> frozenset[str]:
        return frozenset({self.sig.namespace})

    @property
    def host_network(self) -> Formula:
        return self.sig.host_network

    def in_namespace(self, name: str) -> Formula:
        return self.sig.namespace == name

    def ns_matches(self, selector: LabelSelector) -> Formula:
        return selector.matches(self.ns_labels)

    def labels_match(self, selector: LabelSelector) -> Formula:
        return selector.matches(dict(self.sig.labels))

    def named_port(self, protocol: str, name: str, flow: Flow) -> Formula:
        nums = self.sig.port_numbers(protocol, name)
        return disj(*[flow.port == n for n in nums])

    def ip_in(self, addresses: IntervalSet) -> Formula:
        return any(a in addresses for a in self.sig.ips)


@dataclass
class SymbolicPod:
    """A pod known only through constraints: one of several signatures, or a hypothetical pod."""

    name: str
    encoding: "Encoding"
    namespaces: frozenset[str]  # existing namespaces it may be in
    may_be_new: bool = False  # it may also be in a namespace that does not exist yet
    ns: z3.ArithRef = field(init=False)
    labels: dict[str, tuple[z3.BoolRef, z3.ArithRef]] = field(default_factory=dict)
    ns_labels_vars: dict[str, tuple[z3.BoolRef, z3.ArithRef]] = field(default_factory=dict)
    ports: dict[tuple[str, str], tuple[z3.BoolRef, z3.BitVecRef]] = field(default_factory=dict)
    ips: dict[int, tuple[z3.BoolRef, z3.BitVecRef]] = field(default_factory=dict)  # family 4/6

    def __post_init__(self) -> None:
        self.ns = z3.Int(f"{self.name}.ns")
        self.host_network = z3.Bool(f"{self.name}.hostNetwork")

    # variables are created on first use
    def label(self, key: str) -> tuple[z3.BoolRef, z3.ArithRef]:
        if key not in self.labels:
            self.labels[key] = (z3.Bool(f"{self.name}.has[{key}]"), z3.Int(f"{self.name}.val[{key}]"))
        return self.labels[key]

    def ns_label(self, key: str) -> tuple[z3.BoolRef, z3.ArithRef]:
        if key not in self.ns_labels_vars:
            self.ns_labels_vars[key] = (z3.Bool(f"{self.name}.nshas[{key}]"),
                                        z3.Int(f"{self.name}.nsval[{key}]"))
        return self.ns_labels_vars[key]

    def port(self, protocol: str, name: str) -> tuple[z3.BoolRef, z3.BitVecRef]:
        if (protocol, name) not in self.ports:
            self.ports[(protocol, name)] = (z3.Bool(f"{self.name}.port[{protocol}/{name}]"),
                                            z3.BitVec(f"{self.name}.portnum[{protocol}/{name}]", 16))
        return self.ports[(protocol, name)]

    def ip(self, family: int) -> tuple[z3.BoolRef, z3.BitVecRef]:
        if family not in self.ips:
            self.ips[family] = (z3.Bool(f"{self.name}.hasip{family}"),
                                z3.BitVec(f"{self.name}.ip{family}", ADDRESS_BITS))
        return self.ips[family]

    def ip_in(self, addresses: IntervalSet) -> Formula:
        if not self.encoding.pod_ips:
            return False  # no pod has a known IP an ipBlock covers
        parts = []
        for family, (lo_f, hi_f) in ((4, (0, V4_MAX)), (6, (V6_BASE, None))):
            has, var = self.ip(family)
            inside = [z3.And(z3.ULE(lo, var), z3.ULE(var, hi)) for lo, hi in addresses
                      if hi >= lo_f and (hi_f is None or lo <= hi_f)]
            if inside:
                parts.append(z3.And(has, z3.Or(*inside)))
        return disj(*parts)

    @property
    def is_new_namespace(self) -> z3.BoolRef:
        e = self.encoding
        return z3.Or(self.ns < 0, self.ns >= len(e.namespaces))

    def in_namespace(self, name: str) -> Formula:
        i = self.encoding.ns_index.get(name)
        return False if i is None else self.ns == i

    def ns_matches(self, selector: LabelSelector) -> Formula:
        e = self.encoding
        hits = [self.ns == e.ns_index[n] for n in sorted(self.namespaces)
                if selector.matches(e.ns_labels[n])]
        new = False
        if self.may_be_new:
            new = conj(self.is_new_namespace,
                       *[self.requirement(r, self.ns_label) for r in selector.requirements])
        return disj(*hits, new)

    def labels_match(self, selector: LabelSelector) -> Formula:
        return conj(*[self.requirement(r, self.label) for r in selector.requirements])

    def requirement(self, r: Requirement, var) -> Formula:
        has, val = var(r.key)
        ids = [self.encoding.interner.id(v) for v in sorted(r.values)]
        member = disj(*[val == i for i in ids])
        if r.operator == "In":
            return conj(has, member)
        if r.operator == "NotIn":
            return disj(z3.Not(has), neg(member))
        if r.operator == "Exists":
            return has
        return z3.Not(has)

    def named_port(self, protocol: str, name: str, flow: Flow) -> Formula:
        defined, number = self.port(protocol, name)
        return z3.And(defined, number == flow.port)

    # domains
    def options(self, sigs: Sequence[Signature]) -> list[z3.BoolRef]:
        """For each signature, "the pod is this existing pod" (over every key and port the
        encoding knows, so unmentioned labels are absent)."""
        e = self.encoding
        options = []
        for s in sigs:
            labels = dict(s.labels)
            parts = [self.ns == e.ns_index[s.namespace],
                     self.host_network if s.host_network else z3.Not(self.host_network)]
            for key in e.pod_keys:
                has, val = self.label(key)
                parts.append(conj(has, val == e.interner.id(labels[key])) if key in labels
                             else z3.Not(has))
            for proto, pname in e.port_names:
                defined, number = self.port(proto, pname)
                nums = s.port_numbers(proto, pname)
                parts.append(z3.And(defined, z3.Or(*[number == n for n in nums])) if nums
                             else z3.Not(defined))
            if e.pod_ips:
                parts += self._ips_are(s.ips)
            options.append(as_z3(conj(*parts)))
        return options

    def _ips_are(self, ips: tuple[int, ...]) -> list[z3.BoolRef]:
        out = []
        for family, in_family in ((4, [a for a in ips if a <= V4_MAX]),
                                  (6, [a for a in ips if a >= V6_BASE])):
            has, var = self.ip(family)
            out.append(z3.And(has, var == in_family[0]) if in_family else z3.Not(has))
        return out

    def hypothetical(self, namespace: str | None, selector: LabelSelector) -> z3.BoolRef:
        """A pod that does not exist yet: in ``namespace`` (None: any, existing or new), with
        labels meeting ``selector``, no known IP; everything else free."""
        e = self.encoding
        # a new pod is an ordinary pod (not on the host network), with no known IP
        parts: list[Formula] = [self.labels_match(selector), z3.Not(self.host_network)]
        if e.pod_ips:
            parts += self._ips_are(())
        if namespace is not None and namespace in e.ns_index:
            parts.append(self.ns == e.ns_index[namespace])
        else:
            parts.append(self.is_new_namespace)
            names = [e.interner.id(n) for n in e.namespaces]
            has, val = self.ns_label(NAME_LABEL)
            if namespace is not None:
                # a namespace no manifest declares: it carries its name label and nothing else
                parts.append(z3.And(has, val == e.interner.id(namespace)))
                for key in e.ns_keys - {NAME_LABEL}:
                    parts.append(z3.Not(self.ns_label(key)[0]))
            else:
                parts.append(z3.And(has, *[val != i for i in names]))
        return as_z3(conj(*parts))


@dataclass(frozen=True)
class AddressTerm:
    """An external address: a 129-bit vector constrained to some intervals."""

    var: z3.BitVecRef

    def within(self, addresses: IntervalSet) -> Formula:
        if not addresses:
            return False
        return z3.Or(*[z3.And(z3.ULE(lo, self.var), z3.ULE(self.var, hi)) for lo, hi in addresses])


PodTerm = ConcretePod | SymbolicPod
Term = ConcretePod | SymbolicPod | AddressTerm


# --- the encoding of the policies -------------------------------------------------------------


class Encoding:
    """Compiled policies, indexed for building formulas. Built once per analysis and reused
    by every query (it holds no solver state, only the growing label-value table)."""

    def __init__(self, cluster: Cluster, compiled: CompiledPolicies) -> None:
        self.cluster = cluster
        self.compiled = compiled
        self.namespaces = tuple(n.name for n in cluster.namespaces)
        self.ns_index = {n: i for i, n in enumerate(self.namespaces)}
        self.ns_labels = {n.name: dict(n.labels) for n in cluster.namespaces}
        self.interner = Interner()
        self.targets: dict[tuple[str, str], list[Target]] = {}
        pod_keys: set[str] = set()
        ns_keys: set[str] = {NAME_LABEL}
        port_names: set[tuple[str, str]] = set()
        for t in compiled.targets:
            self.targets.setdefault((t.direction, t.namespace), []).append(t)
            pod_keys |= t.pod_selector.keys()
            for r in t.rules:
                port_names.update(r.ports.named)
                for p in r.peers:
                    if isinstance(p, PodPeer):
                        pod_keys |= p.pod_selector.keys()
                        if p.namespace_selector is not None:
                            ns_keys |= p.namespace_selector.keys()
        self.admin = compiled.admin
        for t in self.admin:
            pod_keys |= t.subject_pods.keys()
            ns_keys |= t.subject_ns.keys()
            for r in t.rules:
                port_names.update(r.ports.named)
                for p in r.peers:
                    if isinstance(p, PodPeer):
                        pod_keys |= p.pod_selector.keys()
                        if p.namespace_selector is not None:
                            ns_keys |= p.namespace_selector.keys()
        self.pod_keys = frozenset(pod_keys)
        self.ns_keys = frozenset(ns_keys)
        self.port_names = tuple(sorted(port_names))
        self.addresses = AddressAtoms.of(compiled)
        # whether some pod has an IP that some ipBlock covers (else IP formulas are all False)
        self.pod_ips = bool(self.addresses.covered) and any(
            self.addresses.key_of(p.ips) for p in cluster.pods if p.ips)
        self._signatures: list[Signature] | None = None

    # which pods are which signatures
    @property
    def signatures(self) -> list[Signature]:
        if self._signatures is None:
            self._signatures = [self.signature_of(i) for i in range(len(self.cluster.pods))]
        return self._signatures

    def signature_of(self, pod_index: int) -> Signature:
        pod = self.cluster.pods[pod_index]
        names = set(self.port_names)
        return Signature(pod.namespace,
                         tuple((k, v) for k, v in pod.labels if k in self.pod_keys),
                         tuple(sorted({(p.protocol, p.name, p.number) for p in pod.ports
                                       if p.name and (p.protocol, p.name) in names})),
                         self.addresses.representatives(self.addresses.key_of(pod.ips))
                         if pod.ips else (),
                         pod.host_network and bool(self.admin))

    def group(self, pod_indexes: Iterable[int]) -> dict[Signature, tuple[int, ...]]:
        out: dict[Signature, list[int]] = {}
        for i in pod_indexes:
            out.setdefault(self.signatures[i], []).append(i)
        return {s: tuple(v) for s, v in out.items()}

    def concrete(self, sig: Signature, pods: tuple[int, ...]) -> ConcretePod:
        return ConcretePod(sig, self.ns_labels[sig.namespace], pods)

    def targets_for(self, direction: str, pod: PodTerm) -> list[Target]:
        out: list[Target] = []  # a namespace that does not exist yet has no policies
        for n in sorted(pod.namespaces):
            out.extend(self.targets.get((direction, n), ()))
        return out

    # formulas
    def selects(self, target: Target, pod: PodTerm) -> Formula:
        return conj(pod.in_namespace(target.namespace), pod.labels_match(target.pod_selector))

    def isolated(self, direction: str, pod: PodTerm) -> Formula:
        return disj(*[self.selects(t, pod) for t in self.targets_for(direction, pod)])

    def peer_parts(self, peer, other: Term) -> list[tuple[str, Formula]]:
        """The conjuncts of "``peer`` matches ``other``", each named for explanations."""
        if isinstance(peer, AnyPeer):
            return [("any", True)]
        if isinstance(peer, IPPeer):
            if not isinstance(other, AddressTerm):
                return [("ipBlock", other.ip_in(peer.addresses))]  # a pod, by its IPs
            return [("ipBlock", other.within(peer.addresses))]
        if isinstance(other, AddressTerm):
            return [("pods", False)]
        parts: list[tuple[str, Formula]] = []
        if peer.skip_host_network:
            parts.append(("hostNetwork", neg(other.host_network)))
        if peer.namespace is not None:
            parts.append(("namespace", other.in_namespace(peer.namespace)))
        else:
            parts.append(("namespaceSelector", other.ns_matches(peer.namespace_selector)))
        if not peer.pod_selector.is_empty:
            parts.append(("podSelector", other.labels_match(peer.pod_selector)))
        return parts

    def peer_matches(self, peer, other: Term) -> Formula:
        return conj(*[f for _, f in self.peer_parts(peer, other)])

    def ports_match(self, ports: PortMatcher, dst: Term, flow: Flow) -> Formula:
        if ports.is_all:
            return True
        parts = [flow.in_ports(p, s) for p, s in ports.numeric.by_protocol]
        if not isinstance(dst, AddressTerm):  # a name cannot be resolved on an address
            parts += [conj(flow.proto == PROTO_CODE[p], dst.named_port(p, n, flow))
                      for p, n in ports.named]
        return disj(*parts)

    def rule_allows(self, rule: CompiledRule, other: Term, dst: Term, flow: Flow) -> Formula:
        return conj(disj(*[self.peer_matches(p, other) for p in rule.peers]),
                    self.ports_match(rule.ports, dst, flow))

    def side(self, direction: str, pod: PodTerm, other: Term, flow: Flow) -> "Side":
        """What ``pod``'s policies in ``direction`` say about traffic with ``other``."""
        dst = pod if direction == INGRESS else other
        rules, targets = [], []
        for t in self.targets_for(direction, pod):
            sel = self.selects(t, pod)
            if sel is False:
                continue
            targets.append((t, sel))
            for r in t.rules:
                f = conj(sel, self.rule_allows(r, other, dst, flow))
                if f is not False:
                    rules.append((r, f))
        admin = []
        for t in self.admin:
            if t.direction != direction:
                continue
            sel = self.admin_selects(t, pod)
            if sel is False:
                continue
            for r in t.rules:
                f = conj(sel, self.rule_allows(r, other, dst, flow))
                if f is not False:
                    admin.append((r, f))
        return Side(direction, disj(*[sel for _, sel in targets]), tuple(rules), tuple(targets),
                    tuple(admin))

    def admin_selects(self, target, pod: PodTerm) -> Formula:
        """An admin policy's subject: namespace and pod selectors, never a host-network pod.
        Admin policies are cluster-wide: they apply in namespaces that do not exist yet too."""
        return conj(neg(pod.host_network), pod.ns_matches(target.subject_ns),
                    pod.labels_match(target.subject_pods))


@dataclass(frozen=True)
class Side:
    """One direction of one pod: isolated when ``isolated`` holds; then allowed iff one of the
    ``rules`` formulas holds."""

    direction: str
    isolated: Formula
    rules: tuple[tuple[CompiledRule, Formula], ...]
    targets: tuple[tuple[Target, Formula], ...] = ()  # the policies that may select the pod
    # admin rules in evaluation order, each with "it matches this connection"
    admin: tuple[tuple["AdminCompiledRule", Formula], ...] = ()

    @property
    def np_allows(self) -> Formula:
        """The NetworkPolicy tier: allowed when not isolated or some rule allows."""
        return disj(neg(self.isolated), *[f for _, f in self.rules])

    def first_matches(self, tier: str) -> list[tuple["AdminCompiledRule", Formula]]:
        """Each admin rule of ``tier`` with "it is the first of its tier to match"."""
        out = []
        none_before: Formula = True
        for rule, m in self.admin:
            if rule.tier != tier:
                continue
            f = conj(none_before, m)
            if f is not False:
                out.append((rule, f))
            none_before = conj(none_before, neg(m))
        return out

    def decided(self, tier: str, action: str) -> Formula:
        return disj(*[f for r, f in self.first_matches(tier) if r.action == action])

    @property
    def allows(self) -> Formula:
        """The tiered decision (see analyzer.engine.admin): Admin tier, then NetworkPolicies,
        then (only when no NetworkPolicy isolates the pod) Baseline tier, then allowed."""
        if not self.admin:
            return self.np_allows
        allow_a, deny_a = self.decided("Admin", "Allow"), self.decided("Admin", "Deny")
        deny_b = self.decided("Baseline", "Deny")
        lower = disj(conj(self.isolated, disj(*[f for _, f in self.rules])),
                     conj(neg(self.isolated), neg(deny_b)))
        return disj(allow_a, conj(neg(deny_a), lower))

