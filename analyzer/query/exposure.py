"""``exposure``: every workload and port reachable from outside the cluster, from other
namespaces, from pods that do not exist yet, and every workload no policy isolates.

Existing sources come from the concrete class engine. Hypothetical sources (a new pod in an
existing namespace, a new pod in a new namespace) are asked of Z3, only for the namespaces an
ingress rule of the workload could admit (any peer, a same-namespace peer, a namespaceSelector).
"""

from __future__ import annotations

from ..compile import AnyPeer, PodPeer, RuleRef
from ..connset import NO_CONNECTIONS, ConnectionSet
from ..endpoints import NewPod, WorkloadRef
from ..model import INGRESS, pods_by_workload
from .can import bind, bind_new_namespace, can_bound
from .engine import Engine, ExistingPods, Hypothetical
from .verdict import SEVERITIES, Answer, ExposureReport, Finding

SOURCES = ("internet", "cluster", "namespace")


def exposure(engine: Engine, source: str | None = None, hypothetical: bool = True) -> ExposureReport:
    """``source`` None: everything; ``internet``; ``namespace``: from other namespaces (existing
    and new pods); ``cluster``: from any pod in the cluster, existing or not. ``hypothetical``
    False skips pods that do not exist yet (the only part that asks Z3, one question per
    workload and candidate namespace)."""
    reach = engine.reachability
    cluster = engine.cluster
    index = reach.index
    pod_pos = {id(p): i for i, p in enumerate(cluster.pods)}
    findings: list[Finding] = []
    unknown: list[str] = []
    by_wl = pods_by_workload(cluster.pods)
    incoming = _incoming_from_other_namespaces(engine) if source != "internet" else {}
    for w in sorted(cluster.workloads, key=lambda w: w.id):
        pods = [pod_pos[id(p)] for p in by_wl.get(w.id, [])]
        if not pods:
            continue
        classes = {index.pod_class[i] for i in pods}
        isolated = all(reach.ingress_isolated >> c & 1 for c in classes)
        if not isolated:
            findings.append(Finding("high", "not-isolated", w.id, "anyone", None))
        if source in (None, "internet"):
            conns, refs = NO_CONNECTIONS, set()
            for c in classes:
                for _, a in reach.from_ip.get(c, ()):
                    conns = conns | a.conns
                    refs |= {r for r in a.ingress if not r.is_default}
            if conns and isolated:
                findings.append(Finding("critical" if conns.is_all() else "high", "internet", w.id,
                                        "internet", conns, tuple(sorted(refs))))
        if not isolated or source == "internet":
            continue
        per_ns: dict[str, tuple[ConnectionSet, frozenset[RuleRef]]] = {}
        for c in classes:
            for ns, (conns, refs) in incoming.get(c, {}).items():
                old = per_ns.get(ns, (NO_CONNECTIONS, frozenset()))
                per_ns[ns] = (old[0] | conns, old[1] | refs)
        findings += [Finding("medium", "other-namespace", w.id, f"existing pods in {ns}", conns,
                             tuple(sorted(refs))) for ns, (conns, refs) in sorted(per_ns.items())]
        if hypothetical:
            hyp, unk = _from_new_pods(engine, w, pods, classes, same_namespace=source != "namespace")
            findings += hyp
            unknown += unk
    order = {s: i for i, s in enumerate(SEVERITIES)}
    findings.sort(key=lambda f: (order[f.severity], f.kind, f.workload, f.source))
    return ExposureReport(tuple(findings), tuple(unknown))


def _incoming_from_other_namespaces(engine: Engine):
    """dst class -> source namespace -> (connections, ingress rules), in one pass."""
    reach = engine.reachability
    classes = reach.index.classes
    out: dict[int, dict[str, tuple[ConnectionSet, frozenset[RuleRef]]]] = {}
    for (s, d), a in reach.class_edges.items():
        ns = classes[s].namespace
        if ns == classes[d].namespace:
            continue
        per = out.setdefault(d, {})
        conns, refs = per.get(ns, (NO_CONNECTIONS, frozenset()))
        per[ns] = (conns | a.conns, refs | {r for r in a.ingress if not r.is_default})
    return out


def _candidate_namespaces(engine: Engine, namespace: str, classes: set[int]) -> tuple[set[str], bool]:
    """Existing namespaces whose new pods an ingress rule of these classes could admit, and
    whether a pod of a namespace that does not exist yet could be admitted."""
    enc = engine.encoding
    index = engine.reachability.index
    names: set[str] = set()
    new = False
    for t in enc.targets.get((INGRESS, namespace), ()):
        if not any(index.target_bits(t.namespace, t.pod_selector) >> c & 1 for c in classes):
            continue
        for r in t.rules:
            for p in r.peers:
                if isinstance(p, AnyPeer):
                    return set(enc.namespaces), True
                if isinstance(p, PodPeer):
                    if p.namespace is not None:
                        names.add(p.namespace)
                    else:
                        names |= {n for n in enc.namespaces
                                  if p.namespace_selector.matches(enc.ns_labels[n])}
                        new = True
    return names, new


def _from_new_pods(engine: Engine, w, pods: list[int], classes: set[int], same_namespace: bool):
    names, new = _candidate_namespaces(engine, w.namespace, classes)
    if not same_namespace:
        names.discard(w.namespace)
    if not names and not new:
        return [], []
    dst = bind(engine, ExistingPods(WorkloadRef(w.namespace, w.name, w.kind),
                                    engine.encoding.group(pods)), "dst")
    out, unknown = [], []
    asks = [(n, bind(engine, Hypothetical(NewPod(n)), "src")) for n in sorted(names)]
    if new:
        asks.append((None, bind_new_namespace(engine, "src")))
    for ns, src in asks:
        v = can_bound(engine, src, dst, explain=False)
        label = f"new pod in {ns}" if ns else "new pod in a new namespace"
        if v.answer is Answer.YES:
            severity = "high" if ns is None else "medium" if ns != w.namespace else "low"
            refs = v.ingress.allowed_by if v.ingress else ()
            out.append(Finding(severity, "new-namespace" if ns is None else "new-pod", w.id,
                               label, None, tuple(r for r in refs if not r.is_default), v.witness))
        elif v.answer is Answer.UNKNOWN:
            unknown.append(f"{w.id} from {label}")
    return out, unknown
