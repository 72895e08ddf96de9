"""``exposure``: every workload and port reachable from outside the cluster, from other
namespaces, from pods that do not exist yet, and every workload no policy isolates.

Existing sources come from the concrete class engine. Hypothetical sources (a new pod in an
existing namespace, a new pod in a new namespace) are considered only for the namespaces an
ingress rule of the workload could admit (any peer, a same-namespace peer, a namespaceSelector);
:mod:`analyzer.query.feasibility` decides most of them exactly without a solver and the rest
are asked of Z3.
"""

from __future__ import annotations

from ..engine.compile import RuleRef
from ..model.connset import NO_CONNECTIONS, ConnectionSet
from .endpoints import NewPod, WorkloadRef
from ..model.cluster import NAME_LABEL, pods_by_workload
from .engine import Engine, ExistingPods, Hypothetical
from .feasibility import NEW_NAMESPACE, OTHER, UNDECIDED, NewPodReach, Way
from .verdict import SEVERITIES, Answer, ExposureReport, Finding, PodWitness, Witness

SOURCES = ("internet", "cluster", "namespace")


def exposure(engine: Engine, source: str | None = None, hypothetical: bool = True) -> ExposureReport:
    """``source`` None: everything; ``internet``; ``namespace``: from other namespaces (existing
    and new pods); ``cluster``: from any pod in the cluster, existing or not. ``hypothetical``
    False skips pods that do not exist yet (the only part that may ask Z3)."""
    return _exposure(engine, source, hypothetical, _from_new_pods)


def _exposure(engine: Engine, source: str | None, hypothetical: bool,
              from_new_pods) -> ExposureReport:
    """``from_new_pods``: :func:`_from_new_pods` or, in tests, :func:`_from_new_pods_reference`."""
    reach = engine.reachability
    cluster = engine.cluster
    index = reach.index
    pod_pos = {id(p): i for i, p in enumerate(cluster.pods)}
    findings: list[Finding] = []
    unknown: list[str] = []
    by_wl = pods_by_workload(cluster.pods)
    incoming = _incoming_from_other_namespaces(engine) if source != "internet" else {}
    new_pods = NewPodReach(reach.compiled, index)
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
            hyp, unk = from_new_pods(engine, new_pods, w, pods, classes,
                                     same_namespace=source != "namespace")
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


def _from_new_pods(engine: Engine, reach: NewPodReach, w, pods: list[int], classes: set[int],
                   same_namespace: bool):
    """Findings about new pods that could reach workload ``w``: decided by ``reach`` where it
    can, by Z3 where it cannot."""
    names, new = reach.candidates(classes)
    if not same_namespace:
        names.discard(w.namespace)
    out, unknown = [], []
    asks: list[str | None] = []
    declared = {c: sorted({p.number for p in _shown_pod(engine, pods, c).ports}) for c in classes}
    for ns in sorted(names):
        way = reach.from_namespace(ns, classes, declared)
        if way == UNDECIDED:
            asks.append(ns)
        elif way is not None:
            out.append(_finding(w, ns, way.allowed_by, _way_witness(engine, w, pods, ns, way)))
    if new:
        way = reach.from_new_namespace(classes, declared)
        if way is not None:
            out.append(_finding(w, None, way.allowed_by, _way_witness(engine, w, pods, None, way)))
    if asks:
        hyp, unknown = _ask_z3(engine, w, pods, asks)
        out += hyp
    return out, unknown


def _from_new_pods_reference(engine: Engine, reach: NewPodReach, w, pods: list[int],
                             classes: set[int], same_namespace: bool):
    """The same findings from one Z3 question per existing namespace and one for a new
    namespace, with no filter (tests compare the two)."""
    names = [n for n in engine.encoding.namespaces if same_namespace or n != w.namespace]
    return _ask_z3(engine, w, pods, sorted(names) + [None])


def _ask_z3(engine: Engine, w, pods: list[int], namespaces: list[str | None]):
    from .can import bind, bind_new_namespace, can_bound  # z3 only when a question needs it
    dst = bind(engine, ExistingPods(WorkloadRef(w.namespace, w.name, w.kind),
                                    engine.encoding.group(pods)), "dst")
    out, unknown = [], []
    for ns in namespaces:
        src = bind(engine, Hypothetical(NewPod(ns)), "src") if ns is not None \
            else bind_new_namespace(engine, "src")
        v = can_bound(engine, src, dst, explain=False)
        if v.answer is Answer.YES:
            refs = v.ingress.allowed_by if v.ingress else ()
            out.append(_finding(w, ns, tuple(r for r in refs if not r.is_default), v.witness))
        elif v.answer is Answer.UNKNOWN:
            unknown.append(f"{w.id} from {_source(ns)}")
    return out, unknown


def _source(ns: str | None) -> str:
    return f"new pod in {ns}" if ns else "new pod in a new namespace"


def _finding(w, ns: str | None, refs: tuple[RuleRef, ...], witness: Witness) -> Finding:
    severity = "high" if ns is None else "medium" if ns != w.namespace else "low"
    return Finding(severity, "new-namespace" if ns is None else "new-pod", w.id, _source(ns), None,
                   refs, witness)


def _way_witness(engine: Engine, w, pods: list[int], ns: str | None, way: Way) -> Witness:
    """The witness of a solver-free answer, shaped like a Z3 one: the new pod's labels (keys the
    deciding selectors mention; any other key absent) and a pod of ``w`` in the class reached."""
    ns_labels = None
    if way.ns_labels is not None:
        ns_labels = tuple(sorted(way.ns_labels.items()))
        name = way.ns_labels.get(NAME_LABEL, OTHER)
        ns = name if name != OTHER else NEW_NAMESPACE
    src = PodWitness(ns, None, None, True, tuple(sorted(way.labels.items())), way.absent, (),
                     ns_labels)
    pod = _shown_pod(engine, pods, way.dst_class)
    dst = PodWitness(pod.namespace, pod.name, pod.workload, labels=pod.labels)
    return Witness(src, dst, way.protocol, way.port)


def _shown_pod(engine: Engine, pods: list[int], c: int):
    """The pod of a workload (``pods``) a witness shows for class ``c``: its first there."""
    index = engine.reachability.index
    return engine.cluster.pods[next(i for i in pods if index.pod_class[i] == c)]
