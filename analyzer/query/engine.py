"""The query engine: an analysis, its Z3 encoding (built on first use) and endpoint resolution.

One :class:`Engine` per analysis; pass it to every query of a process so the encoding is built
once. It holds no solver: each query makes its own, with the configured timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from ..analysis import Analysis
from ..engine.compile import CompiledPolicies
from .endpoints import (Addresses, Endpoint, NameRef, NewPod, PodRef, PodSelection, ServiceRef,
                         WorkloadRef,
                         parse_endpoint)
from .names import hint
from ..engine.evaluate import Reachability
from ..model.cluster import Cluster

if TYPE_CHECKING:  # z3 is loaded only when a question needs the encoding (exposure never does)
    from .encoding import Encoding, Signature


class QueryError(ValueError):
    """A query that cannot be asked of this input (e.g. an endpoint that names nothing)."""


@dataclass(frozen=True)
class QueryOptions:
    timeout_ms: int = 5000  # per solver call
    symbolic: bool = False  # encode known pods symbolically too (used to cross-check the encoding)
    max_blame: int = 50  # rules examined for a denial's explanation, closest first


@dataclass(frozen=True)
class ExistingPods:
    endpoint: Endpoint
    groups: "dict[Signature, tuple[int, ...]]"  # signature -> Cluster.pods indexes


@dataclass(frozen=True)
class External:
    endpoint: Addresses


@dataclass(frozen=True)
class Hypothetical:
    endpoint: NewPod


Resolved = ExistingPods | External | Hypothetical


class Engine:
    def __init__(self, cluster: Cluster, compiled: CompiledPolicies,
                 reachability: Reachability | None = None, locator=None,
                 options: QueryOptions = QueryOptions(), edge: tuple | None = None) -> None:
        self.cluster = cluster
        self.compiled = compiled
        self.reachability = reachability
        self.locator = locator
        self.options = options
        self.edge = edge  # routes from outside (analyzer.engine.edge.Reached), None: not computed yet

    @classmethod
    def from_analysis(cls, analysis: Analysis, options: QueryOptions = QueryOptions()) -> "Engine":
        r = analysis.reachability
        return cls(analysis.cluster, r.compiled, r, analysis.locator, options, analysis.edge)

    @cached_property
    def _workloads_by_name(self) -> dict[tuple[str, str], list]:
        """(namespace, name) -> the workloads of that name: a query names its endpoints without
        a pass over every workload (one pass took most of a warm `can` at 150k pods)."""
        out: dict[tuple[str, str], list] = {}
        for w in self.cluster.workloads:
            out.setdefault((w.namespace, w.name), []).append(w)
        return out

    @cached_property
    def _pods_by_workload(self) -> dict[str, list[int]]:
        """Workload id -> the indexes of its pods, in cluster order."""
        out: dict[str, list[int]] = {}
        for i, p in enumerate(self.cluster.pods):
            out.setdefault(p.workload, []).append(i)
        return out

    @cached_property
    def encoding(self) -> "Encoding":
        from .encoding import Encoding

        return Encoding(self.cluster, self.compiled)

    def line(self, ref) -> int | None:
        if self.locator is None or ref.source is None:
            return None
        return self.locator.line(ref.source, ref.path)

    def resolve(self, endpoint: Endpoint | str) -> Resolved:
        e = parse_endpoint(endpoint) if isinstance(endpoint, str) else endpoint
        if isinstance(e, Addresses):
            return External(e)
        if isinstance(e, NewPod):
            return Hypothetical(e)
        pods = self.pod_indexes(e)
        if not pods:
            raise QueryError(f"{e} matches no pod in the input{hint(self.cluster, e)}")
        return ExistingPods(e, self.encoding.group(pods))

    def pod_indexes(self, e: Endpoint) -> list[int]:
        """The pods ``e`` names. Every id kreach prints is accepted back: ``ns/name`` is a
        workload, or the pod of that name when no workload has it (``list --level pod``), and a
        bare name is looked up in every namespace (an error when it is in several)."""
        c = self.cluster
        if isinstance(e, NameRef):
            return self._by_bare_name(e)
        if isinstance(e, ServiceRef):
            svc = self.service(e)
            if not svc.selector:
                return []
            sel = dict(svc.selector)
            return [i for i, p in enumerate(c.pods) if p.namespace == svc.namespace
                    and all(dict(p.labels).get(k) == v for k, v in sel.items())]
        if isinstance(e, WorkloadRef):
            wids = {w.id for w in self._workloads_by_name.get((e.namespace, e.name), ())
                    if e.kind is None or w.kind.lower() == e.kind.lower()}
            if not wids and e.kind is None:
                return self.pod_indexes(PodRef(e.namespace, e.name))
            by_workload = self._pods_by_workload
            return sorted(i for w in wids for i in by_workload.get(w, ()))
        if isinstance(e, PodRef):
            return [i for i, p in enumerate(c.pods) if p.namespace == e.namespace and p.name == e.name]
        if not isinstance(e, PodSelection):  # new:… and addresses name no existing pod
            raise QueryError(f"{e} names no existing pods; expected a workload, pod or selection")
        if e.namespace is not None:
            namespaces = {e.namespace}
        elif e.namespace_selector is not None:
            namespaces = {n.name for n in c.namespaces if e.namespace_selector.matches(dict(n.labels))}
        else:
            namespaces = {n.name for n in c.namespaces}
        return [i for i, p in enumerate(c.pods) if p.namespace in namespaces
                and e.pod_selector.matches(dict(p.labels))]

    def service(self, e: ServiceRef):
        svc = next((s for s in self.cluster.services if (s.namespace, s.name) == (e.namespace, e.name)),
                   None)
        if svc is None:
            raise QueryError(f"no Service {e.namespace}/{e.name} in the input")
        return svc

    def service_target(self, e: ServiceRef) -> tuple[str, int] | None:
        """(protocol, targetPort number) of the Service port ``e`` names, on the pods the Service
        selects; None when ``e`` names no port. A named targetPort must mean one number on all of
        them (else the question needs --port)."""
        if e.port is None:
            return None
        svc = self.service(e)
        port = next((p for p in svc.ports if (p.port == e.port if isinstance(e.port, int)
                                                else p.name == e.port)), None)
        if port is None:
            have = ", ".join(str(p.name or p.port) for p in svc.ports) or "none"
            raise QueryError(f"Service {svc.namespace}/{svc.name} has no port {e.port} (ports: {have})")
        target = port.target_port if port.target_port is not None else port.port
        if isinstance(target, int):
            return port.protocol, target
        numbers = {c.number for i in self.pod_indexes(e) for c in self.cluster.pods[i].ports
                   if c.name == target and c.protocol == port.protocol}
        if len(numbers) != 1:
            raise QueryError(f"Service {svc.namespace}/{svc.name} port {e.port}: targetPort {target!r} is "
                             + ("declared by no selected pod" if not numbers else
                                f"{len(numbers)} different container ports; ask with --port"))
        return port.protocol, numbers.pop()

    def _by_bare_name(self, e: NameRef) -> list[int]:
        c = self.cluster
        namespaces = sorted({w.namespace for w in c.workloads if w.name == e.name
                             and (e.kind is None or w.kind.lower() == e.kind.lower())})
        if not namespaces and e.kind is None:
            namespaces = sorted({p.namespace for p in c.pods if p.name == e.name})
        if len(namespaces) > 1:
            raise QueryError(f"{e} is in {len(namespaces)} namespaces; say which: "
                             + ", ".join(f"{ns}/{e}" for ns in namespaces))
        if not namespaces:
            return []
        return self.pod_indexes(WorkloadRef(namespaces[0], e.name, e.kind))
