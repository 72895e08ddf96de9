"""Equivalence classes of pods: pods that no selector or named port in the input can tell apart.

Two pods fall in one class when they share a namespace, the values of every label key that some
pod selector reads, the named container ports that some policy names, hostNetwork, and the
ipBlock-covered address atoms their IPs fall into (:mod:`analyzer.engine.addresses`). The
engine evaluates classes, never individual pods; reports expand classes back to pods.

Selection is computed with bitsets (Python ints, bit *i* = class *i*) from an inverted label
index, so a selector costs a few big-int operations, not a scan over pods. Classes are ordered
by namespace, so each namespace is one contiguous bit range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

from .addresses import AddressAtoms, Atoms
from .compile import AnyPeer, CompiledPolicies, IPPeer, PodPeer
from ..model.cluster import Cluster
from ..model.selectors import LabelSelector

NamedPorts = Mapping[tuple[str, str], frozenset[int]]


@dataclass(frozen=True)
class PodClass:
    index: int
    namespace: str
    labels: tuple[tuple[str, str], ...]  # only the keys selectors read
    named_ports: tuple[tuple[str, str, int], ...]  # (protocol, name, number), names policies use
    host_network: bool
    pods: tuple[int, ...]  # indexes into Cluster.pods
    ip_atoms: tuple[int, ...] = ()  # covered address atoms its pods' IPs are in (AddressAtoms.key_of)

    @property
    def port_map(self) -> dict[tuple[str, str], frozenset[int]]:
        out: dict[tuple[str, str], set[int]] = {}
        for proto, name, num in self.named_ports:
            out.setdefault((proto, name), set()).add(num)
        return {k: frozenset(v) for k, v in out.items()}


_WIDE = 1 << 256


def iter_bits(bits: int) -> list[int]:
    """Indexes of the set bits, lowest first (a list: cheaper than a generator here)."""
    out: list[int] = []
    if bits >= _WIDE:
        # set bits close together far up (one namespace's classes): shifted down, each step
        # below works on a small int instead of a pass over all the words
        base = (bits & -bits).bit_length() - 1
        if bits >> base < _WIDE:
            bits >>= base
            while bits:
                low = bits & -bits
                out.append(base + low.bit_length() - 1)
                bits ^= low
            return out
    if bits < _WIDE or bits.bit_count() <= 32:
        while bits:
            low = bits & -bits
            out.append(low.bit_length() - 1)
            bits ^= low
        return out
    # on wide ints each & and ^ costs a pass over all words; one pass through the digits
    # is linear instead
    digits = bin(bits)[:1:-1]
    find, append = digits.find, out.append
    i = find("1")
    while i >= 0:
        append(i)
        i = find("1", i + 1)
    return out


@dataclass
class ClassIndex:
    """Classes plus the inverted indexes that turn selectors into bitsets (memoised)."""

    classes: tuple[PodClass, ...]
    pod_class: tuple[int, ...]  # Cluster.pods index -> class index
    namespaces: tuple[str, ...]
    ns_labels: dict[str, dict[str, str]]
    ns_mask: dict[str, int]
    all_bits: int
    host_network_bits: int
    label_keys: frozenset[str] = frozenset()  # the pod label keys classes were split on
    port_names: frozenset[tuple[str, str]] = frozenset()  # the named ports classes were split on
    addresses: AddressAtoms | None = None  # the atoms classes were split on by pod IP
    pod_atoms: int = 0  # bits of every atom (covered or not) some pod IP is in
    _atom_classes: "BitIndex" = field(default_factory=lambda: BitIndex())  # covered atom -> classes
    _ip_cache: dict[IPPeer, int] = field(default_factory=dict)
    _label: "BitIndex" = field(default_factory=lambda: BitIndex())
    _key: "BitIndex" = field(default_factory=lambda: BitIndex())
    _ns_label: "BitIndex" = field(default_factory=lambda: BitIndex())
    _ns_key: "BitIndex" = field(default_factory=lambda: BitIndex())
    _sel_cache: dict[LabelSelector, int] = field(default_factory=dict)
    _nssel_cache: dict[LabelSelector, int] = field(default_factory=dict)

    def pod_selector_bits(self, selector: LabelSelector) -> int:
        """Classes (any namespace) whose labels match ``selector``."""
        hit = self._sel_cache.get(selector)
        if hit is None:
            hit = _select(selector, self._label, self._key, self.all_bits)
            self._sel_cache[selector] = hit
        return hit

    def namespace_selector_bits(self, selector: LabelSelector) -> int:
        """Classes in every namespace whose labels match ``selector``."""
        hit = self._nssel_cache.get(selector)
        if hit is None:
            ns_all = (1 << len(self.namespaces)) - 1
            ns_bits = _select(selector, self._ns_label, self._ns_key, ns_all)
            hit = 0
            for i in iter_bits(ns_bits):
                hit |= self.ns_mask.get(self.namespaces[i], 0)
            self._nssel_cache[selector] = hit
        return hit

    def target_bits(self, namespace: str, selector: LabelSelector) -> int:
        """Classes a policy in ``namespace`` with ``podSelector: selector`` selects."""
        return self.ns_mask.get(namespace, 0) & self.pod_selector_bits(selector)

    def peer_bits(self, peer: AnyPeer | PodPeer | IPPeer) -> int:
        if isinstance(peer, AnyPeer):
            return self.all_bits
        if isinstance(peer, IPPeer):
            return self.ip_peer_bits(peer)
        if peer.namespace is not None:
            ns = self.ns_mask.get(peer.namespace, 0)
        else:
            assert peer.namespace_selector is not None
            ns = self.namespace_selector_bits(peer.namespace_selector)
        bits = ns & self.pod_selector_bits(peer.pod_selector)
        return bits & ~self.host_network_bits if peer.skip_host_network else bits

    def subject_bits(self, namespace_selector: LabelSelector, pod_selector: LabelSelector) -> int:
        """Classes an admin policy's subject selects (never host-network pods)."""
        return (self.namespace_selector_bits(namespace_selector)
                & self.pod_selector_bits(pod_selector) & ~self.host_network_bits)

    def ip_peer_bits(self, peer: IPPeer) -> int:
        """Classes whose pods have an IP inside the ipBlock (pods without IPs: none)."""
        if not self._atom_classes.keys() or self.addresses is None:
            return 0
        hit = self._ip_cache.get(peer)
        if hit is None:
            atoms = self.addresses.bits_of(peer.addresses)
            hit = 0
            for a in self._atom_classes.keys():
                if atoms >> a & 1:
                    hit |= self._atom_classes.get(a)
            self._ip_cache[peer] = hit
        return hit

    def splits_for(self, addresses: AddressAtoms) -> bool:
        """Whether ipBlocks covering ``addresses.covered`` would split these classes further by
        pod IP (atoms must be the same)."""
        assert self.addresses is not None
        return bool(addresses.covered & self.pod_atoms & ~self.addresses.covered)


def bits_of(positions: list[int]) -> int:
    """The bitset with exactly these bits set."""
    if len(positions) < 64:
        out = 0
        for i in positions:
            out |= 1 << i
        return out
    buf = bytearray(max(positions) // 8 + 1)
    for i in positions:
        buf[i >> 3] |= 1 << (i & 7)
    return int.from_bytes(buf, "little")


class BitIndex:
    """An inverted index: key -> bitset of positions, kept as position lists until a selector
    asks for a key. Most keys are never asked for (e.g. each namespace's own name label), and a
    bitset with a high bit costs memory in proportion to its position, so building them all up
    front costs memory quadratic in the number of namespaces or classes."""

    __slots__ = ("_positions", "_bits")

    def __init__(self) -> None:
        self._positions: dict = {}
        self._bits: dict = {}

    def add(self, key, position: int) -> None:
        self._positions.setdefault(key, []).append(position)

    def keys(self):
        return self._positions.keys()

    def get(self, key, default: int = 0) -> int:
        bits = self._bits.get(key)
        if bits is None:
            positions = self._positions.get(key)
            if positions is None:
                return default
            bits = self._bits[key] = bits_of(positions)
        return bits


def _select(selector: LabelSelector, by_label: BitIndex, by_key: BitIndex, all_bits: int) -> int:
    bits = all_bits
    for r in selector.requirements:
        if r.operator in ("In", "NotIn"):
            hit = 0
            for v in r.values:
                hit |= by_label.get((r.key, v), 0)
            bits &= hit if r.operator == "In" else ~hit
        elif r.operator == "Exists":
            bits &= by_key.get(r.key, 0)
        else:
            bits &= ~by_key.get(r.key, 0)
        if not bits:
            break
    return bits & all_bits


def selector_keys(compiled: CompiledPolicies) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """Pod label keys any pod selector reads, and (protocol, name) of every named port."""
    keys: set[str] = set()
    names: set[tuple[str, str]] = set()
    for t in (*compiled.targets, *compiled.admin):
        keys |= t.pod_selector.keys() if hasattr(t, "pod_selector") else t.subject_pods.keys()
        for r in t.rules:
            names.update(r.ports.named)
            for p in r.peers:
                if isinstance(p, PodPeer):
                    keys |= p.pod_selector.keys()
    return frozenset(keys), frozenset(names)


def build_index(cluster: Cluster, compiled: CompiledPolicies, atoms: Atoms | None = None) -> ClassIndex:
    keys, port_names = selector_keys(compiled)
    addresses = AddressAtoms.of(compiled, atoms)
    groups: dict[tuple, list[int]] = {}
    pod_atoms = 0
    seen_labels: tuple = ()
    seen_ports: tuple = ()
    labels: tuple = ()
    named: tuple = ()
    for i, pod in enumerate(cluster.pods):
        # the replicas of a workload come one after another and share its template's labels
        # and ports (the same tuples): what selectors and policies see of them is read once
        if pod.labels is not seen_labels:
            seen_labels = pod.labels
            labels = tuple((k, v) for k, v in pod.labels if k in keys)
        if pod.ports is not seen_ports:
            seen_ports = pod.ports
            named = tuple(sorted({(p.protocol, p.name, p.number) for p in pod.ports
                                  if p.name and (p.protocol, p.name) in port_names}))
        ip_key: tuple[int, ...] = ()
        if pod.ips:
            for ip in pod.ips:
                pod_atoms |= 1 << addresses.atom_of(ip)
            ip_key = addresses.key_of(pod.ips)
        groups.setdefault((pod.namespace, labels, named, pod.host_network, ip_key), []).append(i)
    ordered = sorted(groups.items(), key=lambda kv: (kv[0][0], kv[1][0]))
    classes = []
    pod_class = [0] * len(cluster.pods)
    ns_mask: dict[str, int] = {}
    label_idx, key_idx = BitIndex(), BitIndex()
    hn = 0
    atom_classes = BitIndex()
    for ci, ((ns, labels, named, host, ip_key), members) in enumerate(ordered):
        classes.append(PodClass(ci, ns, labels, named, host, tuple(members), ip_key))
        bit = 1 << ci
        for a in ip_key:
            atom_classes.add(a, ci)
        for m in members:
            pod_class[m] = ci
        ns_mask[ns] = ns_mask.get(ns, 0) | bit
        for k, v in labels:
            label_idx.add((k, v), ci)
            key_idx.add(k, ci)
        if host:
            hn |= bit
    namespaces = tuple(n.name for n in cluster.namespaces)
    ns_labels = {n.name: dict(n.labels) for n in cluster.namespaces}
    ns_label_idx, ns_key_idx = BitIndex(), BitIndex()
    for i, n in enumerate(cluster.namespaces):
        for k, v in n.labels:
            ns_label_idx.add((k, v), i)
            ns_key_idx.add(k, i)
    return ClassIndex(
        classes=tuple(classes), pod_class=tuple(pod_class), namespaces=namespaces,
        ns_labels=ns_labels, ns_mask=ns_mask, all_bits=(1 << len(classes)) - 1,
        host_network_bits=hn, label_keys=keys, port_names=port_names, addresses=addresses,
        pod_atoms=pod_atoms, _atom_classes=atom_classes, _label=label_idx, _key=key_idx,
        _ns_label=ns_label_idx, _ns_key=ns_key_idx)
