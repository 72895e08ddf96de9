"""Endpoints that name nothing: find what the user probably meant.

Every id kreach prints names something in the input; a typo or a name from another cluster
does not. :func:`did_you_mean` proposes the closest names of the input (workloads, pods,
namespaces, label pairs), so an error says ``did you mean shop/web?`` instead of only "no".
"""

from __future__ import annotations

import difflib

from ..model.cluster import Cluster
from .endpoints import Endpoint, NameRef, PodRef, PodSelection, WorkloadRef


def did_you_mean(cluster: Cluster, e: Endpoint, limit: int = 3) -> list[str]:
    """Up to ``limit`` ids of the input close to ``e``, closest first; [] when none is close."""
    kind = getattr(e, "kind", None)
    if kind is not None and isinstance(e, (WorkloadRef, NameRef)):  # right name, wrong kind?
        same = sorted(w.id for w in cluster.workloads if w.name == e.name
                      and getattr(e, "namespace", w.namespace) == w.namespace)
        if same:
            return same[:limit]
    if isinstance(e, (WorkloadRef, NameRef)) and e.kind is None:  # a Service's name: the workloads behind it
        behind = _behind_service(cluster, e.name, getattr(e, "namespace", None))
        if behind:
            return behind[:limit]
    if isinstance(e, (WorkloadRef, PodRef)):
        namespaces = {n.name for n in cluster.namespaces}
        if e.namespace not in namespaces:
            near = difflib.get_close_matches(e.namespace, sorted(namespaces), limit, 0.6)
            return [f"{n}/{e.name}" for n in near] or _ids(cluster, f"{e.namespace}/{e.name}", limit)
        return [f"{e.namespace}/{n}" for n in _names(cluster, e.name, limit, e.namespace)]
    if isinstance(e, NameRef):
        return _names(cluster, e.name, limit)
    if isinstance(e, PodSelection) and e.namespace is not None:
        namespaces = sorted({n.name for n in cluster.namespaces})
        if e.namespace not in namespaces:
            return [f"{n}:{e.pod_selector}" if not e.pod_selector.is_empty else f"{n}/*"
                    for n in difflib.get_close_matches(e.namespace, namespaces, limit, 0.6)]
        pairs = sorted({f"{k}={v}" for p in cluster.pods if p.namespace == e.namespace
                        for k, v in p.labels})
        wanted = str(e.pod_selector)
        return [f"{e.namespace}:{pair}" for pair in difflib.get_close_matches(wanted, pairs, limit, 0.5)]
    return []


def _behind_service(cluster: Cluster, name: str, namespace: str | None) -> list[str]:
    """``ns/workload`` of the pods a Service of that name selects (people name the Service)."""
    out: list[str] = []
    for svc in cluster.services:
        if svc.name != name or namespace not in (None, svc.namespace) or not svc.selector:
            continue
        wanted = dict(svc.selector)
        for p in cluster.pods:
            if p.namespace == svc.namespace and wanted.items() <= dict(p.labels).items():
                w = next((w for w in cluster.workloads if w.id == p.workload), None)
                ref = f"{w.namespace}/{w.name}" if w else f"{p.namespace}/{p.name}"
                if ref not in out:
                    out.append(ref)
    return out


def _ids(cluster: Cluster, wanted: str, limit: int) -> list[str]:
    ids = sorted({f"{w.namespace}/{w.name}" for w in cluster.workloads})
    return difflib.get_close_matches(wanted, ids, limit, 0.6)


def _names(cluster: Cluster, wanted: str, limit: int, namespace: str | None = None) -> list[str]:
    """Workload names first (what people usually mean), then pod names."""
    workloads = sorted({w.name for w in cluster.workloads if namespace in (None, w.namespace)})
    pods = sorted({p.name for p in cluster.pods if namespace in (None, p.namespace)} - set(workloads))
    return (difflib.get_close_matches(wanted, workloads, limit, 0.6)
            or difflib.get_close_matches(wanted, pods, limit, 0.6))


def hint(cluster: Cluster, e: Endpoint) -> str:
    """``; did you mean a, b or c?`` or the empty string."""
    near = did_you_mean(cluster, e)
    if not near and isinstance(e, PodSelection) and e.namespace is not None \
            and not e.pod_selector.is_empty:  # labels a policy expects, on no pod yet
        return f"; for a pod that does not exist yet, ask about new:{e.namespace}:{e.pod_selector}"
    if not near:
        return ""
    return "; did you mean " + (near[0] if len(near) == 1
                                else ", ".join(near[:-1]) + " or " + near[-1]) + "?"
