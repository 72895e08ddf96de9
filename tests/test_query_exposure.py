"""``exposure`` about pods that do not exist yet: decided without a solver where possible, and
always with the answers Z3 gives when asked about every namespace.

The fast path (:mod:`analyzer.query.feasibility`) must find exactly the findings of the plain
one-Z3-question-per-namespace path, and each witness it builds must be a real connection: the
Z3 encoding, given the witness as a concrete pod, allows it, by exactly the rules reported.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
import z3
from hypothesis import given, strategies as st

from analyzer import analyze
from analyzer.engine.compile import compile_policies
from analyzer.engine.evaluate import evaluate
from analyzer.model.cluster import (EGRESS, INGRESS, NAME_LABEL, Cluster, ContainerPort, Namespace,
                            NetworkPolicy, Peer, Pod, PortSpec, Rule, Workload)
from analyzer.query import exposure as exposure_module
from analyzer.query.can import sides
from analyzer.query.encoding import ConcretePod, Flow, Signature, conj
from analyzer.query.engine import Engine
from analyzer.query.exposure import _exposure, _from_new_pods, _from_new_pods_reference, exposure
from analyzer.model.connset import ALL_CONNECTIONS, ConnectionSet
from analyzer.query.feasibility import (OTHER, UNDECIDED, NewPodReach, first_port, negate,
                                        satisfy)
from analyzer.model.selectors import MATCH_ALL, LabelSelector, Requirement
from analyzer.source import SourceRef
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
    (ALL_CONNECTIONS, (), ("TCP", 1)),
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


def _ingress_from(namespace_selector: LabelSelector) -> NetworkPolicy:
    return _policy("prod", "db-in", LabelSelector.build({"app": "db"}), {INGRESS},
                   ingress=[Rule(INGRESS, 0, (Peer(namespace_selector=namespace_selector),),
                                 (PortSpec("TCP", "pg"),))])


def _engine(cluster: Cluster) -> Engine:
    return Engine(cluster, compile_policies(cluster.policies), evaluate(cluster))


def _hypothetical(report) -> set[tuple[str, str, str]]:
    return {(f.kind, f.workload, f.source) for f in report.findings
            if f.kind in ("new-pod", "new-namespace")}


DB = "prod/db[Pod]"


@pytest.mark.parametrize("selector, expected", [
    (LabelSelector.build({NAME_LABEL: "dev"}), {("new-pod", DB, "new pod in dev")}),
    (LabelSelector.build(match_expressions=(req(NAME_LABEL, "In", "dev", "qa"),)),
     {("new-pod", DB, "new pod in dev"), ("new-namespace", DB, "new pod in a new namespace")}),
    (LabelSelector.build(match_expressions=(req(NAME_LABEL, "NotIn", "dev", "prod"),)),
     {("new-namespace", DB, "new pod in a new namespace")}),
    (LabelSelector.build(match_expressions=(req(NAME_LABEL, "DoesNotExist"),)), set()),
])
def test_a_new_namespace_is_admitted_only_by_a_selector_its_fresh_name_can_meet(selector, expected):
    report = exposure(_engine(_cluster([_ingress_from(selector)])))
    assert _hypothetical(report) == expected


def test_a_default_deny_egress_leaves_a_new_pod_only_its_namespaces_egress_rules():
    open_in = _ingress_from(LabelSelector())
    deny_dev = _policy("dev", "deny", MATCH_ALL, {EGRESS})
    to_db = _policy("dev", "to-db", LabelSelector.build({"role": "client"}), {EGRESS},
                    egress=[Rule(EGRESS, 0, (Peer(namespace_selector=MATCH_ALL),), None)])
    assert ("new-pod", DB, "new pod in dev") not in _hypothetical(
        exposure(_engine(_cluster([open_in, deny_dev]))))
    report = exposure(_engine(_cluster([open_in, deny_dev, to_db])))
    found = [f for f in report.findings if f.source == "new pod in dev"]
    assert len(found) == 1 and found[0].witness.src.labels == (("role", "client"),)


def test_a_new_pod_escaping_every_egress_policy_is_shown_with_the_labels_that_escape():
    open_in = _ingress_from(LabelSelector())
    only_web = _policy("dev", "web-out", LabelSelector.build(
        {"app": "web"}, (req("tier", "Exists"),)), {EGRESS})
    report = exposure(_engine(_cluster([open_in, only_web])))
    [found] = [f for f in report.findings if f.source == "new pod in dev"]
    labels = dict(found.witness.src.labels)
    assert not LabelSelector.build({"app": "web"}, (req("tier", "Exists"),)).matches(labels)


def test_the_escape_search_proves_that_no_labels_escape():
    cluster = _cluster([
        _policy("dev", "a", LabelSelector.build(match_expressions=(req("app", "Exists"),)),
                {EGRESS}),
        _policy("dev", "b", LabelSelector.build(match_expressions=(req("app", "DoesNotExist"),)),
                {EGRESS})])
    reach = NewPodReach(compile_policies(cluster.policies), evaluate(cluster).index)
    assert reach.unselected("dev", MATCH_ALL) is None
    assert reach.unselected("prod", MATCH_ALL) == {}


def test_the_demo_is_decided_without_a_solver(monkeypatch):
    engine = Engine.from_analysis(analyze([str(ROOT / "fixtures" / "demo")]))

    def no_solver(*args):
        raise AssertionError("exposure asked Z3")

    monkeypatch.setattr(exposure_module, "_ask_z3", no_solver)
    assert _hypothetical(exposure(engine))


# --- the fast path against Z3 on generated clusters -------------------------------------------

def _key(report):
    return [(f.severity, f.kind, f.workload, f.source) for f in report.findings], report.unknown


def _assert_witness_is_real(engine: Engine, finding) -> None:
    """The witness, made a concrete pod (``<other>`` a fresh value, unlisted keys absent), is
    allowed by the Z3 encoding, and the ingress rules that fire are those reported."""
    enc, w = engine.encoding, finding.witness
    fresh = {OTHER: "fresh-value"}
    labels = tuple(sorted((k, fresh.get(v, v)) for k, v in w.src.labels))
    if w.src.namespace_labels is None:
        namespace, ns_labels = w.src.namespace, enc.ns_labels[w.src.namespace]
    else:
        ns_labels = {k: v if v != OTHER else "fresh-namespace" if k == NAME_LABEL else fresh[v]
                     for k, v in w.src.namespace_labels}
        namespace = ns_labels[NAME_LABEL]
        assert namespace not in enc.ns_index
    src = ConcretePod(Signature(namespace, labels, ()), ns_labels, ())
    dst_index = next(i for i, p in enumerate(engine.cluster.pods)
                     if (p.namespace, p.name) == (w.dst.namespace, w.dst.name))
    dst = enc.concrete(enc.signatures[dst_index], (dst_index,))
    flow = Flow.fresh()
    egress, ingress = sides(engine, src, dst, flow)
    solver = z3.Solver()
    solver.add(*flow.domain(w.protocol, w.port))
    allows = conj(egress.allows, ingress.allows)
    assert allows is not False, finding
    if allows is not True:
        solver.add(allows)
    assert solver.check() == z3.sat, finding
    model = solver.model()
    fired = {r.ref for r, f in ingress.rules
             if f is True or (f is not False and z3.is_true(model.eval(f, True)))}
    assert fired == set(finding.allowed_by), finding


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


@given(exposed_clusters(), st.sampled_from((None, "cluster", "namespace")))
def test_fast_exposure_finds_what_z3_finds_for_every_namespace(cluster, source):
    engine = Engine(cluster, compile_policies(cluster.policies), evaluate(cluster))
    fast = _exposure(engine, source, True, _from_new_pods)
    reference = _exposure(engine, source, True, _from_new_pods_reference)
    assert not reference.unknown
    assert _key(fast) == _key(reference)
    for f in fast.findings:
        if f.kind in ("new-pod", "new-namespace"):
            _assert_witness_is_real(engine, f)


@given(exposed_clusters())
def test_the_escape_search_leaves_nothing_to_z3_on_small_clusters(cluster):
    reach = NewPodReach(compile_policies(cluster.policies), evaluate(cluster).index)
    for n in reach.index.namespaces:
        assert reach.unselected(n, MATCH_ALL) != UNDECIDED
