"""The immutable domain model: namespaces, workloads, pods, services and NetworkPolicies.

Built from validated manifests by :func:`build_cluster`. The builder assumes the interpreted
fields were type-checked by :mod:`analyzer.inputs.validation`; it still never indexes blindly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..diagnostics import Diagnostic
from ..inputs.limits import Limits
from ..inputs.loading import Manifest
from ..messages import diagnostic
from .connset import V6_BASE, address_text, address_value
from .selectors import LabelSelector, MATCH_ALL, Requirement
from ..source import SourceRef
from .admin import ADMIN_KINDS, AdminPolicy, Node, admin_policy, node
from .edge import EDGE_KINDS, EdgeObject, edge_object

DEFAULT_NAMESPACE = "default"
NAME_LABEL = "kubernetes.io/metadata.name"
WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob",
                  "ReplicationController")
INGRESS, EGRESS = "Ingress", "Egress"

Labels = tuple[tuple[str, str], ...]


def labels_of(mapping: Any) -> Labels:
    if not isinstance(mapping, Mapping):
        return ()
    return tuple(sorted((str(k), "" if v is None else str(v)) for k, v in mapping.items()))


@dataclass(frozen=True, slots=True)
class Namespace:
    name: str
    labels: Labels
    source: SourceRef | None = None  # None: used by objects but declared by no manifest


@dataclass(frozen=True, slots=True)
class ContainerPort:
    number: int
    protocol: str = "TCP"
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Pod:
    namespace: str
    name: str
    workload: str  # id of the owning Workload
    labels: Labels
    ports: tuple[ContainerPort, ...]
    host_network: bool
    source: SourceRef
    ips: tuple[int, ...] = ()  # status.podIPs as connset addresses; () when unknown

    @property
    def ip_texts(self) -> tuple[str, ...]:
        return tuple(address_text(a) for a in self.ips)


@dataclass(frozen=True, slots=True)
class Workload:
    """What reports name at workload level: the pod's owner (or the bare Pod itself)."""

    kind: str
    namespace: str
    name: str
    labels: Labels
    source: SourceRef

    @property
    def id(self) -> str:
        return workload_id(self.namespace, self.name, self.kind)


def workload_id(namespace: str, name: str, kind: str) -> str:
    return f"{namespace}/{name}[{kind}]"


@dataclass(frozen=True, slots=True)
class ServicePort:
    port: int
    target_port: int | str | None
    protocol: str = "TCP"
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Service:
    namespace: str
    name: str
    selector: Labels | None
    ports: tuple[ServicePort, ...]
    source: SourceRef
    type: str = "ClusterIP"  # spec.type
    cluster_ips: tuple[str, ...] = ()  # spec.clusterIP(s), when set to an address


@dataclass(frozen=True, slots=True)
class IPBlock:
    cidr: str
    excepts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Peer:
    """One NetworkPolicyPeer. For a selector peer, ``namespace_selector`` None means "the policy's
    namespace" and an empty selector means "every namespace"; ``pod_selector`` None means every
    pod of the selected namespaces."""

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None


@dataclass(frozen=True, slots=True)
class PortSpec:
    protocol: str = "TCP"
    port: int | str | None = None  # None: every port of the protocol; str: a named port
    end_port: int | None = None
    protocol_given: bool = True  # False: the manifest left protocol out (TCP by default)


@dataclass(frozen=True, slots=True)
class Rule:
    """One ingress or egress rule. ``peers`` None: every source/destination (the field was
    absent or empty); ``ports`` None: every port of every protocol."""

    direction: str  # INGRESS or EGRESS
    index: int
    peers: tuple[Peer, ...] | None
    ports: tuple[PortSpec, ...] | None


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    namespace: str
    name: str
    pod_selector: LabelSelector
    policy_types: frozenset[str]
    ingress: tuple[Rule, ...]
    egress: tuple[Rule, ...]
    source: SourceRef

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class Cluster:
    namespaces: tuple[Namespace, ...]
    workloads: tuple[Workload, ...]
    pods: tuple[Pod, ...]
    services: tuple[Service, ...]
    policies: tuple[NetworkPolicy, ...]
    admin_policies: tuple[AdminPolicy, ...] = ()  # AdminNetworkPolicy, BANP, ClusterNetworkPolicy
    nodes: tuple[Node, ...] = ()
    edges: tuple[EdgeObject, ...] = ()  # Ingress, Route, HTTPRoute, GRPCRoute, Gateway

    def namespace(self, name: str) -> Namespace | None:
        return next((n for n in self.namespaces if n.name == name), None)


@dataclass(frozen=True)
class ModelResult:
    cluster: Cluster
    diagnostics: tuple[Diagnostic, ...]


# --- building ----------------------------------------------------------------------------


def build_cluster(manifests: Iterable[Manifest], limits: Limits | None = None) -> ModelResult:
    """The cluster the manifests describe. A controller's replicas are all made from one
    template, so they are identical for reachability: at most ``limits.max_pods_per_workload``
    of them are made (``replicas: 2147483647`` must not mean two billion objects)."""
    manifests = list(manifests)
    max_pods = (limits or Limits()).max_pods_per_workload
    diags: list[Diagnostic] = []
    declared: dict[str, Namespace] = {}
    pods: list[Pod] = []
    workloads: dict[str, Workload] = {}
    services: list[Service] = []
    policies: list[NetworkPolicy] = []
    admin: list[AdminPolicy] = []
    nodes: list[Node] = []
    edges: list = []
    top = _controller_chains(manifests)
    # controllers whose real pods are in the input: those pods stand for them, so no pods are
    # made up from the template (that would count them twice, with made-up names)
    owners_with_pods = {wid for m in manifests if m.kind == "Pod"
                        for wid in top.chain(_owner_id(m, m.namespace or DEFAULT_NAMESPACE))}
    pod_ids: dict[str, SourceRef] = {}

    def add_pods(new: list[Pod]) -> None:
        for pod in new:
            key = f"{pod.namespace}/{pod.name}"
            first = pod_ids.setdefault(key, pod.source)
            if first is not pod.source:
                diags.append(diagnostic("KR203", pod.source, name=key, detail=str(first)))
                continue
            pods.append(pod)

    for m in manifests:
        ns = m.namespace or DEFAULT_NAMESPACE
        if m.kind == "Namespace":
            labels = dict(labels_of(_meta(m).get("labels")))
            labels[NAME_LABEL] = m.name  # the API server always sets it
            declared[m.name] = Namespace(m.name, tuple(sorted(labels.items())), m.source)
        elif m.kind == "NetworkPolicy":
            policies.append(_policy(m, ns))
        elif m.kind == "Service":
            services.append(_service(m, ns))
        elif m.kind in ADMIN_KINDS:
            admin.append(admin_policy(m.kind, m.name, m.body, m.source, selector_from))
        elif m.kind in EDGE_KINDS:
            edges.append(edge_object(m.kind, ns, m.name, m.body, m.source))
        elif m.kind == "Node":
            nodes.append(node(m.name, m.body, m.source, labels_of(_meta(m).get("labels"))))
        elif m.kind == "Pod":
            pod, owner = _bare_pod(m, ns)
            if top.of(owner.id) != owner.id:  # e.g. a ReplicaSet of a Deployment in the input
                kind, name = top.controllers[top.of(owner.id)]
                owner = Workload(kind, ns, name, owner.labels, owner.source)
                pod = replace(pod, workload=owner.id)
            ips, bad = _pod_ips(m)
            diags.extend(diagnostic("KR210", m.source, name=f"{ns}/{m.name}", detail=b) for b in bad)
            add_pods([replace(pod, ips=ips)])
            workloads.setdefault(owner.id, owner)
            if pod.host_network:
                diags.append(diagnostic("KR201", m.source, kind="Pod", name=f"{ns}/{m.name}"))
        elif m.kind in WORKLOAD_KINDS:
            wid = workload_id(ns, m.name, m.kind)
            if top.of(wid) != wid:
                continue  # part of the controller that owns it, which stands for it
            w, wpods, wanted = _workload(m, ns, max_pods)
            if wanted > len(wpods):
                diags.append(diagnostic("KR204", m.source, kind=m.kind, name=f"{ns}/{m.name}",
                                        count=f"{wanted:,}", made=len(wpods),
                                        limit=(limits or Limits()).exceeded("max_pods_per_workload")))
            workloads[w.id] = w  # the controller's own manifest describes it best
            if w.id not in owners_with_pods:
                add_pods(wpods)
            if wpods and wpods[0].host_network:
                diags.append(diagnostic("KR201", m.source, kind=m.kind, name=f"{ns}/{m.name}"))
    used = {p.namespace for p in pods} | {p.namespace for p in policies} | {s.namespace for s in services}
    namespaces = dict(declared)
    for name in sorted(used - declared.keys()):
        namespaces[name] = Namespace(name, ((NAME_LABEL, name),), None)
    cluster = Cluster(
        namespaces=tuple(namespaces[n] for n in sorted(namespaces)),
        workloads=tuple(workloads.values()),
        pods=tuple(pods),
        services=tuple(services),
        policies=tuple(policies),
        admin_policies=tuple(admin),
        nodes=tuple(nodes),
        edges=tuple(edges),
    )
    return ModelResult(cluster, tuple(diags))


def _meta(m: Manifest) -> Mapping[str, Any]:
    meta = m.body.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        # dict first: what the loaders make, and an ABC check costs five times more (~1.5M
        # calls at 150k pods)
        if not isinstance(obj, dict) and not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _list(obj: Any) -> list:
    return obj if isinstance(obj, list) else []


def _maps(obj: Any) -> list[Mapping[str, Any]]:
    """The mappings in a list field (a list of objects: containers, ports, ...)."""
    return [x for x in obj if isinstance(x, dict) or isinstance(x, Mapping)] if isinstance(obj, list) else []


def _container_ports(pod_spec: Any) -> tuple[ContainerPort, ...]:
    ports: list[ContainerPort] = []
    for field in ("containers", "initContainers"):
        for c in _maps(_get(pod_spec, field)):
            for p in _maps(c.get("ports")):
                num = p.get("containerPort")
                if isinstance(num, int):
                    name = p.get("name")
                    ports.append(ContainerPort(num, str(p.get("protocol") or "TCP"),
                                               name if isinstance(name, str) else None))
    return tuple(ports)


_REPLICATED = {"Deployment", "ReplicaSet", "StatefulSet", "ReplicationController"}


def _workload(m: Manifest, ns: str, max_pods: int) -> tuple[Workload, list[Pod], int]:
    """The workload, its pods (at most ``max_pods``), and how many pods it asks for."""
    spec = m.body.get("spec")
    if m.kind == "CronJob":
        template = _get(spec, "jobTemplate", "spec", "template")
    else:
        template = _get(spec, "template")
    labels = labels_of(_get(template, "metadata", "labels"))
    pod_spec = _get(template, "spec")
    ports = _container_ports(pod_spec)
    host = _get(pod_spec, "hostNetwork") is True
    count = 1
    if m.kind in _REPLICATED:
        replicas = _get(spec, "replicas")
        count = replicas if isinstance(replicas, int) and replicas > 1 else 1
    elif m.kind == "Job":
        par = _get(spec, "parallelism")
        count = par if isinstance(par, int) and par > 1 else 1
    w = Workload(m.kind, ns, m.name, labels, m.source)
    wid = w.id
    pods = [Pod(ns, f"{m.name}-{i}", wid, labels, ports, host, m.source)
            for i in range(min(count, max_pods))]
    return w, pods, count


def _owner(meta: Mapping[str, Any]) -> tuple[str, str] | None:
    # A Node owns the mirror pod of each of its static pods (etcd, kube-apiserver, ...): the pod
    # is not a replica of anything, so it stays its own workload rather than one per node.
    refs = [r for r in _list(meta.get("ownerReferences")) if isinstance(r, Mapping)
            and isinstance(r.get("name"), str) and r.get("name") and r.get("kind") != "Node"]
    if not refs:
        return None
    ref = next((r for r in refs if r.get("controller") is True), refs[0])
    kind = ref.get("kind")
    return ref["name"], kind if isinstance(kind, str) and kind else "Pod"


@dataclass(frozen=True)
class _Chains:
    """Which controller of the input owns which: a Deployment owns its ReplicaSets, a CronJob
    its Jobs (``metadata.ownerReferences``). The top of a chain is what reports name."""

    controllers: dict[str, tuple[str, str]]  # id -> (kind, name) of every controller manifest
    parent: dict[str, str]  # id -> id of the controller of the input that owns it

    def of(self, wid: str) -> str:
        seen = {wid}
        while wid in self.parent and self.parent[wid] not in seen:  # an owner cycle stops
            wid = self.parent[wid]
            seen.add(wid)
        return wid

    def chain(self, wid: str) -> list[str]:
        out = [wid]
        while out[-1] in self.parent and self.parent[out[-1]] not in out:
            out.append(self.parent[out[-1]])
        return out


def _controller_chains(manifests: list[Manifest]) -> _Chains:
    controllers = {workload_id(m.namespace or DEFAULT_NAMESPACE, m.name, m.kind): (m.kind, m.name)
                   for m in manifests if m.kind in WORKLOAD_KINDS}
    parent = {}
    for m in manifests:
        if m.kind not in WORKLOAD_KINDS:
            continue
        owner = _owner(_meta(m))
        if owner is not None:
            ns = m.namespace or DEFAULT_NAMESPACE
            oid = workload_id(ns, *owner)
            if oid in controllers:
                parent[workload_id(ns, m.name, m.kind)] = oid
    return _Chains(controllers, parent)


def _owner_id(m: Manifest, ns: str) -> str:
    """The id of the workload a bare Pod manifest belongs to (what :func:`_bare_pod` makes)."""
    owner = _owner(_meta(m))
    name, kind = owner if owner else (m.name, "Pod")
    return workload_id(ns, name, kind)


def _bare_pod(m: Manifest, ns: str) -> tuple[Pod, Workload]:
    meta = _meta(m)
    labels = labels_of(meta.get("labels"))
    spec = m.body.get("spec")
    owner = _owner(meta)
    name, kind = owner if owner else (m.name, "Pod")
    w = Workload(kind, ns, name, labels, m.source)
    pod = Pod(ns, m.name, w.id, labels, _container_ports(spec), _get(spec, "hostNetwork") is True,
              m.source)
    return pod, w


TERMINATED = ("Succeeded", "Failed")


def _pod_ips(m: Manifest) -> tuple[tuple[int, ...], list[str]]:
    """The pod's addresses from ``status.podIPs`` (and ``status.podIP``), and a note per entry
    that is not an IP address. A pod that has terminated has released its IPs (the network plugin
    may hand them to another pod), so it has none."""
    status = m.body.get("status")
    if not isinstance(status, Mapping) or status.get("phase") in TERMINATED:
        return (), []
    texts = [_get(e, "ip") for e in _list(status.get("podIPs"))]
    texts.append(status.get("podIP"))
    ips: list[int] = []
    bad: list[str] = []
    for t in texts:
        if t is None or t == "":
            continue
        try:
            value = address_value(t) if isinstance(t, str) else None
        except ValueError:
            value = None
        if value is None:
            if repr(t) not in bad:  # podIP repeats podIPs[0]: one note
                bad.append(repr(t))
        elif all((v < V6_BASE) != (value < V6_BASE) for v in ips):
            ips.append(value)  # at most one per family (API); podIP repeats podIPs[0]
    return tuple(sorted(ips)), bad


def _service(m: Manifest, ns: str) -> Service:
    spec = m.body.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    sel = spec.get("selector")
    ports = []
    for p in _maps(spec.get("ports")):
        if isinstance(p.get("port"), int):
            tp = p.get("targetPort")
            ports.append(ServicePort(p["port"], tp if isinstance(tp, (int, str)) else None,
                                     str(p.get("protocol") or "TCP"), p.get("name")))
    ips = [*_list(spec.get("clusterIPs")), spec.get("clusterIP")]
    cluster_ips = tuple(dict.fromkeys(ip for ip in ips if isinstance(ip, str) and ip
                                      and ip != "None"))
    kind = spec.get("type")
    return Service(ns, m.name, labels_of(sel) if isinstance(sel, Mapping) else None,
                   tuple(ports), m.source, kind if isinstance(kind, str) else "ClusterIP",
                   cluster_ips)


def selector_from(obj: Any) -> LabelSelector:
    """A LabelSelector from its manifest form; callers handle the absent case."""
    if not isinstance(obj, Mapping):
        return MATCH_ALL
    exprs = []
    for e in _list(obj.get("matchExpressions")):
        if isinstance(e, Mapping) and isinstance(e.get("key"), str):
            vals = frozenset(str(v) for v in _list(e.get("values")))
            exprs.append(Requirement(e["key"], str(e.get("operator")), vals))
    ml = obj.get("matchLabels")
    return LabelSelector.build(dict(labels_of(ml)) if isinstance(ml, Mapping) else None, tuple(exprs))


def _peer(obj: Mapping[str, Any]) -> Peer:
    block = obj.get("ipBlock")
    if isinstance(block, Mapping):
        excepts = tuple(str(e) for e in _list(block.get("except")))
        return Peer(ip_block=IPBlock(str(block.get("cidr")), excepts))
    ps, nss = obj.get("podSelector"), obj.get("namespaceSelector")
    return Peer(pod_selector=selector_from(ps) if ps is not None else None,
                namespace_selector=selector_from(nss) if nss is not None else None)


def _port(obj: Mapping[str, Any]) -> PortSpec:
    port = obj.get("port")
    end = obj.get("endPort")
    return PortSpec(str(obj.get("protocol") or "TCP"),
                    port if isinstance(port, (int, str)) else None,
                    end if isinstance(end, int) else None,
                    protocol_given=obj.get("protocol") is not None)


def _rules(items: Any, direction: str) -> tuple[Rule, ...]:
    peer_key = "from" if direction == INGRESS else "to"
    rules = []
    for i, r in enumerate(_list(items)):
        r = r if isinstance(r, Mapping) else {}
        peers = [_peer(p) for p in _list(r.get(peer_key)) if isinstance(p, Mapping)]
        ports = [_port(p) for p in _list(r.get("ports")) if isinstance(p, Mapping)]
        rules.append(Rule(direction, i, tuple(peers) or None, tuple(ports) or None))
    return tuple(rules)


def _policy(m: Manifest, ns: str) -> NetworkPolicy:
    spec = m.body.get("spec")
    spec = spec if isinstance(spec, Mapping) else {}
    types = [t for t in _list(spec.get("policyTypes")) if t in (INGRESS, EGRESS)]
    if not types:
        # Defaulting as the API server does: Ingress always, Egress only if egress rules exist.
        types = [INGRESS] + ([EGRESS] if _list(spec.get("egress")) else [])
    return NetworkPolicy(
        namespace=ns,
        name=m.name,
        pod_selector=selector_from(spec.get("podSelector")),
        policy_types=frozenset(types),
        ingress=_rules(spec.get("ingress"), INGRESS),
        egress=_rules(spec.get("egress"), EGRESS),
        source=m.source,
    )


def pods_by_workload(pods: Sequence[Pod]) -> dict[str, list[Pod]]:
    out: dict[str, list[Pod]] = {}
    for p in pods:
        out.setdefault(p.workload, []).append(p)
    return out
