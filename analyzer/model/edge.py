"""The edge of the cluster: objects that route outside traffic to pods, and where it lands.

* ``networking.k8s.io/v1 Ingress``: each backend names a Service and a Service port (number or
  name); ``spec.defaultBackend`` too;
* ``route.openshift.io/v1 Route``: ``spec.to`` (and ``alternateBackends``) name Services;
  ``spec.port.targetPort`` picks the Service port by its targetPort (number or name) or its name;
  without it every port of the Service;
* ``gateway.networking.k8s.io`` ``HTTPRoute`` / ``GRPCRoute``: ``backendRefs`` of kind Service
  (namespace defaults to the route's) with a Service port number; outside traffic reaches them
  only through the Gateways their ``parentRefs`` name: a Gateway of the input carries it when
  one of its listeners' ``allowedRoutes.namespaces`` (``Same`` by default, ``All``, or
  ``Selector``) admits the route's namespace; a Gateway the input does not hold is assumed to
  (kreach cannot see it, and assuming less would hide exposure); a route with no Gateway parent
  is attached to none and carries nothing from outside;
* a ``Service`` of type NodePort or LoadBalancer is itself reachable from outside on its ports.

A Service port leads to its ``targetPort`` (defaulting to ``port``) on the pods its selector
matches in its namespace; a named targetPort is the container port of that name, per pod.
:func:`resolve` turns all this into :class:`Route` values (workload, protocol, port), plus
located warnings for routes that lead nowhere (KR240-KR244).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..source import SourceRef

if TYPE_CHECKING:
    from .cluster import Cluster, Pod, Service

EDGE_GROUPS: dict[str, frozenset[str]] = {
    "Ingress": frozenset({"networking.k8s.io", "extensions"}),
    "Route": frozenset({"route.openshift.io"}),
    "HTTPRoute": frozenset({"gateway.networking.k8s.io"}),
    "GRPCRoute": frozenset({"gateway.networking.k8s.io"}),
    "Gateway": frozenset({"gateway.networking.k8s.io"}),
}
EDGE_KINDS = frozenset(EDGE_GROUPS)
OUTSIDE_SERVICE_TYPES = ("NodePort", "LoadBalancer")


@dataclass(frozen=True, slots=True)
class Backend:
    """One Service a route sends traffic to. ``port``: a Service port number or name (Ingress,
    HTTPRoute), or for a Route the targetPort it asks for; None: every port of the Service."""

    namespace: str
    service: str
    port: int | str | None
    path: tuple[str | int, ...]  # the field inside the object, for located warnings


@dataclass(frozen=True, slots=True)
class EdgeObject:
    kind: str  # Ingress | Route | HTTPRoute | GRPCRoute | Gateway
    namespace: str
    name: str
    backends: tuple[Backend, ...]
    source: SourceRef
    parents: tuple[tuple[str, str], ...] = ()  # (namespace, name) of the Gateways it attaches to
    # a Gateway's listeners: what each admits (allowedRoutes.namespaces.from, its selector)
    listeners: tuple[tuple[str, Any], ...] = ()

    def admits(self, route_namespace: str, namespace_labels: Mapping[str, str]) -> bool:
        """Does some listener of this Gateway admit routes from ``route_namespace``?"""
        for where, selector in self.listeners:
            if where == "All" or (where == "Same" and route_namespace == self.namespace):
                return True
            if where == "Selector" and selector is not None and selector.matches(namespace_labels):
                return True
        return False

    @property
    def id(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True, slots=True)
class Route:
    """Outside traffic that lands on ``workload`` on ``protocol``/``port``, through ``via`` (an
    edge object, or the Service itself for NodePort/LoadBalancer) and ``service``."""

    kind: str
    name: str  # ns/name of the edge object
    service: str  # ns/name
    workload: str
    protocol: str
    port: int
    source: SourceRef

    @property
    def through_controller(self) -> bool:
        """Traffic that the cluster's ingress controller (or gateway) forwards."""
        return self.kind != "Service"


def _get(obj: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(k)
    return obj


def _list(obj: Any) -> list:
    return obj if isinstance(obj, list) else []


def edge_object(kind: str, namespace: str, name: str, body: Mapping[str, Any],
                source: SourceRef) -> EdgeObject:
    """The routing part of an Ingress, Route, HTTPRoute, GRPCRoute or Gateway manifest; fields of
    the wrong shape are left out (validation reports them)."""
    spec = body.get("spec") if isinstance(body.get("spec"), Mapping) else {}
    backends: list[Backend] = []
    parents: list[tuple[str, str]] = []
    if kind == "Ingress":
        def ingress_backend(b: Any, path: tuple) -> None:
            svc = _get(b, "service")
            if isinstance(_get(svc, "name"), str):
                port = _get(svc, "port", "number")
                if not isinstance(port, int):
                    port = _get(svc, "port", "name")
                backends.append(Backend(namespace, svc["name"],
                                        port if isinstance(port, (int, str)) else None, path))
        ingress_backend(spec.get("defaultBackend"), ("spec", "defaultBackend"))
        for i, rule in enumerate(_list(spec.get("rules"))):
            for j, p in enumerate(_list(_get(rule, "http", "paths"))):
                ingress_backend(_get(p, "backend"), ("spec", "rules", i, "http", "paths", j, "backend"))
    elif kind == "Route":
        target = _get(spec, "port", "targetPort")
        target = target if isinstance(target, (int, str)) else None
        for path, to in [(("spec", "to"), spec.get("to"))] + [
                (("spec", "alternateBackends", i), b) for i, b in enumerate(_list(spec.get("alternateBackends")))]:
            if isinstance(_get(to, "name"), str) and _get(to, "kind") in (None, "Service"):
                backends.append(Backend(namespace, to["name"], target, path))
    elif kind in ("HTTPRoute", "GRPCRoute"):
        for i, rule in enumerate(_list(spec.get("rules"))):
            for j, ref in enumerate(_list(_get(rule, "backendRefs"))):
                if not isinstance(_get(ref, "name"), str) or _get(ref, "kind") not in (None, "Service") \
                        or _get(ref, "group") not in (None, ""):
                    continue
                ns = _get(ref, "namespace")
                port = _get(ref, "port")
                backends.append(Backend(ns if isinstance(ns, str) else namespace, ref["name"],
                                        port if isinstance(port, int) else None,
                                        ("spec", "rules", i, "backendRefs", j)))
        for ref in _list(spec.get("parentRefs")):
            if isinstance(_get(ref, "name"), str) and _get(ref, "kind") in (None, "Gateway"):
                ns = _get(ref, "namespace")
                parents.append((ns if isinstance(ns, str) else namespace, ref["name"]))
    listeners: list[tuple[str, Any]] = []
    if kind == "Gateway":
        from .cluster import selector_from

        for listener in _list(spec.get("listeners")):
            allowed = _get(listener, "allowedRoutes", "namespaces") or {}
            where = _get(allowed, "from") if isinstance(allowed, Mapping) else None
            where = where if where in ("All", "Same", "Selector") else "Same"
            selector = None
            if where == "Selector":
                raw = _get(allowed, "selector")
                selector = selector_from(raw) if isinstance(raw, Mapping) else None
            listeners.append((where, selector))
    return EdgeObject(kind, namespace, name, tuple(backends), source, tuple(parents),
                      tuple(listeners))


# --- resolution ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """A route that leads nowhere: ``code`` KR240-KR244, the object, the field, the text parts."""

    code: str
    source: SourceRef
    path: tuple[str | int, ...]
    fields: tuple[tuple[str, str], ...]


def resolve(cluster: Cluster) -> tuple[tuple[Route, ...], tuple[Problem, ...]]:
    """Every (workload, protocol, port) outside traffic reaches, and what leads nowhere."""
    services = {(s.namespace, s.name): s for s in cluster.services}
    # per namespace, label -> positions of the pods carrying it: a Service selector (matchLabels
    # only) is the intersection of its labels' sets
    pods = cluster.pods
    by_label: dict[str, dict[tuple[str, str], set[int]]] = {}
    for i, p in enumerate(pods):
        labels = by_label.setdefault(p.namespace, {})
        for kv in p.labels:
            labels.setdefault(kv, set()).add(i)
    selected: dict[tuple[str, str], list[Pod]] = {}
    problems: list[Problem] = []

    def pods_of(s: Service) -> list[Pod]:
        key = (s.namespace, s.name)
        if key not in selected:
            labels = by_label.get(s.namespace, {})
            found: set[int] = set()
            if s.selector:
                sets = sorted((labels.get(kv, set()) for kv in s.selector), key=len)
                found = set(sets[0]).intersection(*sets[1:])
            selected[key] = [pods[i] for i in sorted(found)]
            if s.selector and not found:  # no selector at all: endpoints managed by hand
                problems.append(Problem("KR240", s.source, ("spec", "selector"),
                                        (("name", f"{s.namespace}/{s.name}"),)))
        return selected[key]

    routes: dict[tuple, Route] = {}
    gateways = {(e.namespace, e.name): e for e in cluster.edges if e.kind == "Gateway"}
    ns_labels = {n.name: dict(n.labels) for n in cluster.namespaces}
    for e in cluster.edges:
        if e.kind == "Gateway":
            continue
        if e.kind in ("HTTPRoute", "GRPCRoute") and not any(
                (ns, name) not in gateways or gateways[(ns, name)].admits(e.namespace, ns_labels.get(e.namespace, {}))
                for ns, name in e.parents):
            continue  # attached to no Gateway that carries outside traffic
        for b in e.backends:
            s = services.get((b.namespace, b.service))
            where = (("kind", e.kind), ("name", e.id))
            if s is None:
                problems.append(Problem("KR241", e.source, b.path,
                                        where + (("service", f"{b.namespace}/{b.service}"),)))
                continue
            ports = _service_ports(s, b.port, e.kind == "Route")
            if not ports:
                problems.append(Problem("KR242", e.source, b.path,
                                        where + (("service", f"{s.namespace}/{s.name}"),
                                                 ("port", str(b.port)))))
                continue
            _land(routes, problems, e.kind, e.id, e.source, s, ports, pods_of(s))
    for s in cluster.services:
        if s.selector is not None:
            pods_of(s)  # a Service selecting nothing is a misconfiguration, routed to or not
        if s.type in OUTSIDE_SERVICE_TYPES and s.selector:
            _land(routes, problems, "Service", f"{s.namespace}/{s.name}", s.source, s, s.ports,
                  pods_of(s))
    return tuple(routes.values()), tuple(dict.fromkeys(problems))


def _service_ports(s: Service, port: int | str | None, by_target: bool):
    if port is None:
        return s.ports
    if by_target:  # a Route names the targetPort (number or name), or the Service port's name
        return tuple(p for p in s.ports if port in (p.target_port if p.target_port is not None
                                                      else p.port, p.name))
    return tuple(p for p in s.ports if (p.port == port if isinstance(port, int) else p.name == port))


def _land(routes: dict, problems: list, kind: str, name: str, source: SourceRef, s: Service,
          ports, pods: list[Pod]) -> None:
    for sp in ports:
        target = sp.target_port if sp.target_port is not None else sp.port
        landed = False
        for pod in pods:
            if isinstance(target, int):
                number = target
            else:
                number = next((c.number for c in pod.ports if c.name == target
                               and c.protocol == sp.protocol), None)
                if number is None:
                    continue
            landed = True
            key = (kind, name, pod.workload, sp.protocol, number)
            routes.setdefault(key, Route(kind, name, f"{s.namespace}/{s.name}", pod.workload,
                                         sp.protocol, number, source))
        if pods and not landed:
            problems.append(Problem("KR243", s.source, ("spec", "ports"),
                                    (("name", f"{s.namespace}/{s.name}"), ("port", str(target)))))
