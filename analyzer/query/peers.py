"""``who-can-reach`` and ``reachable-from``: the peers of an endpoint, grouped, with ports.

Existing pods and addresses come from the concrete class engine (every pair is already
evaluated); pods that do not exist yet are asked of Z3, one namespace at a time, plus one
question for a namespace that does not exist yet.
"""

from __future__ import annotations

from ..model.connset import ConnectionSet, IntervalSet, NO_CONNECTIONS, PROTOCOLS, range_text, split_families
from .endpoints import NewPod
from .can import Bound, bind, bind_new_namespace, can_bound
from .engine import Engine, ExistingPods, External, Hypothetical, QueryError
from .verdict import Answer, PeerReport, PeerRow


def _port_only(conns: ConnectionSet, port: int | None) -> ConnectionSet:
    if port is None:
        return conns
    return ConnectionSet.of([(p, IntervalSet.span(port, port)) for p in PROTOCOLS
                             if conns.allows(p, port)])


def _pods_of_class(engine: Engine, c: int) -> tuple[int, ...]:
    return engine.reachability.index.classes[c].pods


def _existing(engine: Engine, text: str) -> ExistingPods:
    r = engine.resolve(text)
    if not isinstance(r, ExistingPods):
        hint = ("; for what the internet or an address range reaches, run kreach exposure --direction ingress"
                if isinstance(r, External) else
                "; for what a pod that does not exist yet could reach, ask kreach can " + str(text) + " DST")
        raise QueryError(f"{text}: who-can-reach and reachable-from take existing pods{hint}")
    if engine.reachability is None:
        raise QueryError("this engine has no concrete reachability")
    return r


def _peer_rows(engine: Engine, target: ExistingPods, direction: str, port: int | None) -> list[PeerRow]:
    reach = engine.reachability
    cluster = engine.cluster
    pods = {i for group in target.groups.values() for i in group}
    classes = {reach.index.pod_class[i] for i in pods}
    per_workload: dict[str, ConnectionSet] = {}
    for (s, d), allowance in reach.class_edges.items():
        mine, other = (d, s) if direction == "to" else (s, d)
        if mine not in classes:
            continue
        conns = _port_only(allowance.conns, port)
        if not conns:
            continue
        mine_pods = [i for i in _pods_of_class(engine, mine) if i in pods]
        for i in _pods_of_class(engine, other):
            if mine_pods == [i]:
                continue  # the only target pod on this edge is the peer itself
            w = cluster.pods[i].workload
            per_workload[w] = per_workload.get(w, NO_CONNECTIONS) | conns
    rows = [PeerRow("workload", w, w.split("/", 1)[0], c) for w, c in sorted(per_workload.items())]
    sides = reach.from_ip if direction == "to" else reach.to_ip
    by_conns: dict[ConnectionSet, IntervalSet] = {}
    for c in classes:
        for bits, allowance in sides.get(c, ()):
            conns = _port_only(allowance.conns, port)
            if conns:
                ranges = IntervalSet.of(reach.atoms_of(bits))
                by_conns[conns] = by_conns.get(conns, IntervalSet()) | ranges
    # an address range is listed with every port any of the endpoint's pods allows it
    cuts = sorted({x for s in by_conns.values() for lo, hi in s for x in (lo, hi + 1)})
    pieces: list[tuple[int, int, ConnectionSet]] = []
    for lo, nxt in zip(cuts, cuts[1:]):
        conns = NO_CONNECTIONS
        for c, s in by_conns.items():
            if lo in s:
                conns = conns | c
        if conns:
            if pieces and pieces[-1][1] == lo - 1 and pieces[-1][2] == conns:
                pieces[-1] = (pieces[-1][0], nxt - 1, conns)
            else:
                pieces.append((lo, nxt - 1, conns))
    for lo, hi, conns in pieces:
        for a, b in split_families(IntervalSet.span(lo, hi)):
            rows.append(PeerRow("external", range_text(a, b), None, conns))
    return rows


def _hypothetical_rows(engine: Engine, target: ExistingPods, direction: str,
                       port: int | None) -> tuple[list[PeerRow], list[str]]:
    rows, unknown = [], []
    fixed = bind(engine, target, "fixed")
    candidates: list[tuple[str, str, Bound]] = []
    for ns in engine.encoding.namespaces:
        candidates.append((f"new pod in {ns}", ns, bind(engine, Hypothetical(NewPod(ns)), "new")))
    candidates.append(("new pod in a new namespace", None, bind_new_namespace(engine, "new")))
    for name, ns, b in candidates:
        v = (can_bound(engine, b, fixed, port, explain=False, friendly=True) if direction == "to"
             else can_bound(engine, fixed, b, port, explain=False, friendly=True))
        if v.answer is Answer.YES:
            rows.append(PeerRow("hypothetical", name, ns, None, v.witness))
        elif v.answer is Answer.UNKNOWN:
            unknown.append(name)
    return rows, unknown


def _peers(engine: Engine, endpoint: str, direction: str, port: int | None,
           hypothetical: bool) -> PeerReport:
    target = _existing(engine, endpoint)
    rows = _peer_rows(engine, target, direction, port)
    unknown: list[str] = []
    if hypothetical:
        extra, unknown = _hypothetical_rows(engine, target, direction, port)
        rows += extra
    return PeerReport(str(target.endpoint), direction, port, tuple(rows), tuple(unknown))


def who_can_reach(engine: Engine, dst: str, port: int | None = None,
                  hypothetical: bool = True) -> PeerReport:
    return _peers(engine, dst, "to", port, hypothetical)


def reachable_from(engine: Engine, src: str, port: int | None = None,
                   hypothetical: bool = True) -> PeerReport:
    return _peers(engine, src, "from", port, hypothetical)


__all__ = ["who_can_reach", "reachable_from"]
