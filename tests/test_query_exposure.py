"""``exposure``: what each workload's own policies open, in both directions, read off the
concrete engine; checked against hand-made clusters and, on generated ones, against Z3.

Every finding about pods that do not exist yet carries a witness: a pod of the described class.
Z3, given that witness as a concrete pod (and the workload's pod), must allow every connection
the finding reports on the workload's side, by the rules the finding names; every external
finding likewise for its first address.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import z3
from hypothesis import given, settings, strategies as st

from analyzer import analyze
from analyzer.engine.compile import compile_policies
from analyzer.engine.evaluate import evaluate
from analyzer.model.cluster import (EGRESS, INGRESS, NAME_LABEL, Cluster, ContainerPort, Namespace,
                                    NetworkPolicy, Peer, Pod, PortSpec, Rule, Workload)
from analyzer.model.connset import ALL_CONNECTIONS, PROTOCOLS, ConnectionSet, cidr_interval
from analyzer.query.encoding import AddressTerm, ConcretePod, Flow, Signature
from analyzer.query.engine import Engine
from analyzer.query.exposure import exposure
from analyzer.query.feasibility import NEW_NAMESPACE, OTHER, first_port, negate, satisfy
from analyzer.model.selectors import MATCH_ALL, LabelSelector, Requirement
from analyzer.source import SourceRef
from analyzer.writers.verdict_json import exposure_document
from test_query_agreement import clusters, rules, selectors

ROOT = Path(__file__).resolve().parents[1]
SRC = SourceRef("gen.yaml", 1)


def req(key: str, op: str, *values: str) -> Requirement:
    return Requirement(key, op, frozenset(values))


# --- label satisfiability ----------------------------------------------------------------------

@pytest.mark.parametrize("requirements, labels", [
    ([], {}),
    ([req("app", "In", "a", "b"), req("app", "In", "b", "c")], {"app": "b"}),
    ([req("app", "In", "a"), req("app", "In", "b")], None),
    ([req("app", "In", "a", "b"), req("app", "NotIn", "a")], {"app": "b"}),
    ([req("app", "In", "a"), req("app", "NotIn", "a")], None),
    ([req("app", "NotIn", "a")], {}),  # NotIn holds on a pod without the key
    ([req("app", "Exists"), req("app", "NotIn", "a")], {"app": OTHER}),
    ([req("app", "Exists"), req("app", "DoesNotExist")], None),
    ([req("app", "In", "a"), req("app", "DoesNotExist")], None),
    ([req("app", "DoesNotExist"), req("app", "NotIn", "a")], {}),
])
def test_a_conjunction_of_requirements_is_satisfied_key_by_key(requirements, labels):
    assert satisfy(requirements) == labels


@pytest.mark.parametrize("requirements, labels", [
    ([], {NAME_LABEL: OTHER}),
    ([req(NAME_LABEL, "In", "dev", "prod")], None),  # names only existing namespaces
    ([req(NAME_LABEL, "In", "dev", "qa")], {NAME_LABEL: "qa"}),
    ([req(NAME_LABEL, "NotIn", "dev")], {NAME_LABEL: OTHER}),
    ([req(NAME_LABEL, "DoesNotExist")], None),  # every namespace carries its name label
    ([req("team", "In", "x")], {NAME_LABEL: OTHER, "team": "x"}),
])
def test_a_new_namespace_has_a_name_label_naming_no_existing_namespace(requirements, labels):
    assert satisfy(requirements, frozenset({NAME_LABEL}),
                   {NAME_LABEL: frozenset({"dev", "prod"})}) == labels


@pytest.mark.parametrize("r", [req("k", "In", "a"), req("k", "NotIn", "a", "b"), req("k", "Exists"),
                               req("k", "DoesNotExist")])
@pytest.mark.parametrize("labels", [{}, {"k": "a"}, {"k": "b"}, {"k": "c"}])
def test_a_negated_requirement_holds_exactly_where_the_requirement_fails(r, labels):
    assert negate(r).matches(labels) == (not r.matches(labels))


@pytest.mark.parametrize("conns, declared, expected", [
    (ALL_CONNECTIONS, (), ("TCP", 443)),  # none declared: a common port, not TCP 1
    (ALL_CONNECTIONS, (9100, 8080), ("TCP", 8080)),  # a port the destination declares
    (ConnectionSet.ports("TCP", 80, 90), (8080,), ("TCP", 80)),
    (ConnectionSet.ports("UDP", 50, 60) | ConnectionSet.ports("SCTP", 1, 9), (53,), ("UDP", 53)),
    (ConnectionSet.ports("SCTP", 7, 9), (), ("SCTP", 7)),
])
def test_a_witness_port_is_tcp_on_a_declared_port_when_it_can_be(conns, declared, expected):
    assert first_port(conns, declared) == expected


# --- small clusters built by hand -------------------------------------------------------------

def _cluster(policies: list[NetworkPolicy]) -> Cluster:
    namespaces = tuple(Namespace(n, ((NAME_LABEL, n),), SRC) for n in ("dev", "prod"))
    db = Workload("Pod", "prod", "db", (("app", "db"),), SRC)
    pods = (Pod("prod", "db", db.id, db.labels, (ContainerPort(5432, "TCP", "pg"),), False, SRC),)
    return Cluster(namespaces, (db,), pods, (), tuple(policies))


def _policy(ns: str, name: str, selector: LabelSelector, types, ingress=(), egress=()):
    return NetworkPolicy(ns, name, selector, frozenset(types), tuple(ingress), tuple(egress), SRC)


def _rule(direction, peers, ports=None, index=0):
    return Rule(direction, index, peers, ports)


def _engine(cluster: Cluster) -> Engine:
    return Engine(cluster, compile_policies(cluster.policies), evaluate(cluster))


def _found(cluster, direction="ingress"):
    """(peer kind, peer text, connections) of the db's findings in ``direction``."""
    report = exposure(_engine(cluster), (direction,))
    return {(f.peer.kind, str(f.peer), f.conns.to_text()) for f in report.findings
            if f.workload == DB}


DB = "prod/db[Pod]"
DB_SEL = LabelSelector.build({"app": "db"})
TCP = lambda lo, hi=None: (PortSpec("TCP", lo, hi),)  # noqa: E731


def test_a_workload_no_policy_selects_is_unprotected_in_both_directions():
    found = _found(_cluster([]))
    assert ("unprotected", "anyone (not protected)", "All Connections") in found
    assert ("cluster", "entire-cluster", "All Connections") in found
    assert ("external", "0.0.0.0-255.255.255.255,::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "All Connections") in found
    assert ("unprotected", "anyone (not protected)", "All Connections") in _found(_cluster([]), "egress")


def test_each_port_set_is_exact_per_peer_class():
    # the example: open to role NotIn (w,x,y,z) on 8080 and to role NotIn (x,y) on 9090
    wide = LabelSelector.build(match_expressions=(req("role", "NotIn", "w", "x", "y", "z"),))
    narrow = LabelSelector.build(match_expressions=(req("role", "NotIn", "x", "y"),))
    team = LabelSelector.build({"team": "a"})
    policy = _policy("prod", "db-in", DB_SEL, {INGRESS}, ingress=[
        _rule(INGRESS, (Peer(wide, team),), TCP(8080), 0),
        _rule(INGRESS, (Peer(narrow, team),), TCP(9090), 1)])
    found = _found(_cluster([policy]))
    assert found == {
        # a pod of the first class may also be in the second (role absent, or w/z): only the
        # rule whose class contains the whole first class counts for it
        ("pods", "[namespace with {team=a}]/[pod with {{Key:role,Operator:NotIn,Values:[w x y z],}}]",
         "TCP 8080,9090"),
        ("pods", "[namespace with {team=a}]/[pod with {{Key:role,Operator:NotIn,Values:[x y],}}]",
         "TCP 9090"),
    } or found == {
        ("pods", "[namespace with {team=a}]/[pod with {{Key:role,Operator:NotIn,Values:[w x y z],}}]",
         "TCP 8080"),
        ("pods", "[namespace with {team=a}]/[pod with {{Key:role,Operator:NotIn,Values:[x y],}}]",
         "TCP 9090"),
    }


def test_the_entire_cluster_and_a_class_it_already_covers():
    policy = _policy("prod", "db-in", DB_SEL, {INGRESS}, ingress=[
        _rule(INGRESS, (Peer(namespace_selector=MATCH_ALL),), TCP(5432), 0),
        _rule(INGRESS, (Peer(namespace_selector=LabelSelector.build({"team": "a"})),), TCP(5432), 1),
        _rule(INGRESS, (Peer(namespace_selector=LabelSelector.build({"team": "b"})),), TCP(9000), 2)])
    assert _found(_cluster([policy])) == {
        ("cluster", "entire-cluster", "TCP 5432"),
        # team=a adds nothing to what every pod has; team=b does, and shows both ports
        ("namespaces", "[namespace with {team=b}]/[all pods]", "TCP 5432,9000")}


def test_a_class_existing_pods_carry_exactly_is_left_to_list():
    dev_client = LabelSelector.build({"role": "client"})
    policy = _policy("prod", "db-in", DB_SEL, {INGRESS}, ingress=[
        _rule(INGRESS, (Peer(dev_client, LabelSelector.build({NAME_LABEL: "dev"})),), TCP(5432))])
    cluster = _cluster([policy])
    assert _found(cluster) == {("pods", "dev/[pod with {role=client}]", "TCP 5432")}
    client = Workload("Pod", "dev", "client", (("role", "client"),), SRC)
    with_client = replace(cluster, workloads=cluster.workloads + (client,), pods=cluster.pods + (
        Pod("dev", "client", client.id, client.labels, (), False, SRC),))
    assert _found(with_client) == set()


def test_egress_towards_named_ports_keeps_the_names():
    policy = _policy("prod", "db-out", DB_SEL, {EGRESS}, egress=[
        _rule(EGRESS, (Peer(namespace_selector=MATCH_ALL),), (PortSpec("TCP", "dns"),))])
    report = exposure(_engine(_cluster([policy])), ("egress",))
    [f] = [f for f in report.findings if f.workload == DB]
    assert (f.peer.kind, f.conns, f.named_ports) == ("cluster", ConnectionSet(), (("TCP", "dns"),))


def test_min_severity_and_directions_filter():
    engine = _engine(_cluster([]))
    assert {f.direction for f in exposure(engine).findings} == {"ingress", "egress"}
    assert {f.severity for f in exposure(engine, min_severity="critical").findings} == {"critical"}


def test_the_json_document_is_v2_with_connections_in_the_connectivity_encoding():
    engine = Engine.from_analysis(analyze([str(ROOT / "fixtures" / "demo")]))
    doc = exposure_document(exposure(engine), lambda r: (r.source.file, engine.line(r)))
    assert doc["schema"] == "kreach.exposure/v2"
    web = [f for f in doc["findings"] if f["workload"] == "shop/web[Deployment]"
           and f["peer"]["kind"] == "external"]
    assert web and web[0]["conns"] == {"TCP": [[8080, 8080]]}
    assert web[0]["allowed_by"][0]["line"] is not None


@st.composite
def exposed_clusters(draw) -> Cluster:
    """Generated clusters with more of what the fast path reasons about: ingress-isolated
    workloads, ingress rules to let new pods in, and egress policies to keep them in."""
    base = draw(clusters())
    names = [n.name for n in base.namespaces]
    extra = []
    for n in names:
        if draw(st.booleans()):
            extra.append(_policy(n, "isolate", MATCH_ALL, {INGRESS}))
        for i in range(draw(st.integers(0, 2))):
            extra.append(_policy(n, f"in{i}", draw(selectors()), {INGRESS},
                                 ingress=draw(rules(INGRESS, names))))
        for i in range(draw(st.integers(0, 3))):
            extra.append(_policy(n, f"out{i}", draw(selectors()), {EGRESS},
                                 egress=draw(rules(EGRESS, names))))
    return replace(base, policies=base.policies + tuple(extra))


# --- the findings against Z3 on generated clusters --------------------------------------------

def _conns_formula(flow: Flow, conns: ConnectionSet):
    parts = [flow.in_ports(p, conns.get(p)) for p in PROTOCOLS if conns.get(p)]
    parts = [p if not isinstance(p, bool) else z3.BoolVal(p) for p in parts]
    return z3.Or(*parts) if parts else z3.BoolVal(False)


def _as_bool(f):
    return z3.BoolVal(f) if isinstance(f, bool) else f


def _peer_term(engine: Engine, end):
    """A witness endpoint as a Z3 term: an address, or a concrete pod (``<other>`` a fresh
    value, a new namespace a fresh name)."""
    enc = engine.encoding
    if not hasattr(end, "hypothetical"):
        lo, _ = cidr_interval(end.address + ("/128" if ":" in end.address else "/32"))
        return AddressTerm(z3.BitVecVal(lo, 129))
    fresh = lambda v: "fresh-value" if v == OTHER else v  # noqa: E731
    labels = tuple(sorted((k, fresh(v)) for k, v in end.labels))
    if end.namespace == NEW_NAMESPACE:
        ns_labels = {k: fresh(v) for k, v in end.namespace_labels or ()}
        ns_labels[NAME_LABEL] = "fresh-namespace" if ns_labels.get(NAME_LABEL, OTHER) in (
            OTHER, "fresh-value") else ns_labels[NAME_LABEL]
        namespace = ns_labels[NAME_LABEL]
    else:
        namespace = end.namespace
        ns_labels = enc.ns_labels.get(namespace, {NAME_LABEL: namespace})
    return ConcretePod(Signature(namespace, labels, ()), ns_labels, ())


def _assert_z3_allows_all_of_it(engine: Engine, f) -> None:
    enc = engine.encoding
    mine = f.witness.dst if f.direction == "ingress" else f.witness.src
    other = f.witness.src if f.direction == "ingress" else f.witness.dst
    i = next(i for i, p in enumerate(engine.cluster.pods) if (p.namespace, p.name) == (mine.namespace, mine.name))
    me = enc.concrete(enc.signatures[i], (i,))
    peer = _peer_term(engine, other)
    flow = Flow.fresh()
    side = enc.side(INGRESS, me, peer, flow) if f.direction == "ingress" else enc.side(EGRESS, me, peer, flow)
    solver = z3.Solver()
    solver.add(*flow.domain(None, None))
    solver.add(_conns_formula(flow, f.conns))
    allows = z3.Or(z3.Not(_as_bool(side.isolated)), *[_as_bool(g) for _, g in side.rules])
    solver.add(z3.Not(allows))
    assert solver.check() == z3.unsat, (f, solver.model() if solver.check() == z3.sat else None)


@given(exposed_clusters())
@settings(max_examples=40, deadline=None)
def test_z3_allows_every_connection_of_every_finding_to_its_witness(cluster):
    engine = _engine(cluster)
    for f in exposure(engine).findings:
        if f.conns and f.peer.kind in ("external", "cluster", "namespaces", "pods"):
            _assert_z3_allows_all_of_it(engine, f)
