"""Label selectors (analyzer.model.selectors) match as the Kubernetes API reference says, and the class
index (analyzer.engine.classes) selects exactly the pods that per-pod matching selects.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.engine.classes import build_index, iter_bits
from analyzer.engine.compile import PodPeer, compile_policies
from analyzer.inputs.loading import Manifest
from analyzer.model.cluster import build_cluster, selector_from
from analyzer.model.selectors import MATCH_ALL, LabelSelector, Requirement
from analyzer.source import SourceRef


def req(key: str, op: str, *values: str) -> Requirement:
    return Requirement(key, op, frozenset(values))


# (requirement, labels, matches?)
REQUIREMENT_TABLE = [
    (req("app", "In", "web", "api"), {"app": "web"}, True),
    (req("app", "In", "web", "api"), {"app": "db"}, False),
    (req("app", "In", "web"), {}, False),
    (req("app", "In", ""), {"app": ""}, True),
    (req("app", "NotIn", "web"), {"app": "api"}, True),
    (req("app", "NotIn", "web"), {"app": "web"}, False),
    (req("app", "NotIn", "web"), {}, True),  # NotIn is true when the key is absent
    (req("app", "NotIn", "web"), {"tier": "web"}, True),
    (req("app", "Exists"), {"app": ""}, True),
    (req("app", "Exists"), {"tier": "web"}, False),
    (req("app", "DoesNotExist"), {"tier": "web"}, True),
    (req("app", "DoesNotExist"), {"app": "web"}, False),
    (req("app", "DoesNotExist"), {}, True),
]


@pytest.mark.parametrize("requirement, labels, expected", REQUIREMENT_TABLE,
                         ids=[f"{r.key} {r.operator} {sorted(r.values)} on {lab}"
                              for r, lab, _ in REQUIREMENT_TABLE])
def test_each_operator(requirement, labels, expected):
    assert requirement.matches(labels) is expected
    assert LabelSelector.build(None, (requirement,)).matches(labels) is expected


@pytest.mark.parametrize("labels", [{}, {"app": "web"}, {"a": "1", "b": "2"}])
def test_the_empty_selector_matches_every_label_set(labels):
    assert MATCH_ALL.is_empty
    assert MATCH_ALL.matches(labels)
    assert selector_from({}).matches(labels)
    assert selector_from({}) == MATCH_ALL


SELECTOR = LabelSelector.build({"app": "web"}, (req("tier", "NotIn", "db"), req("env", "Exists")))


@pytest.mark.parametrize("labels, expected", [
    ({"app": "web", "env": "prod"}, True),
    ({"app": "web", "env": "prod", "tier": "front"}, True),
    ({"app": "web", "env": "prod", "tier": "db"}, False),  # an expression fails
    ({"app": "web"}, False),  # Exists fails
    ({"app": "api", "env": "prod"}, False),  # matchLabels fails
    ({}, False),
])
def test_match_labels_and_match_expressions_are_one_conjunction(labels, expected):
    assert SELECTOR.matches(labels) is expected


def test_equivalent_selectors_are_equal_values():
    # matchLabels {k: v} is the requirement "k In (v)"
    assert LabelSelector.build({"app": "web"}) == LabelSelector.build(None, (req("app", "In", "web"),))
    # order of matchLabels and matchExpressions does not matter, nor repeating a requirement
    a = LabelSelector.build({"a": "1", "b": "2"}, (req("c", "Exists"), req("d", "NotIn", "x", "y")))
    b = LabelSelector.build({"b": "2", "a": "1"}, (req("d", "NotIn", "y", "x"), req("c", "Exists"),
                                                   req("c", "Exists")))
    assert a == b and hash(a) == hash(b)
    assert selector_from({"matchLabels": {"b": "2", "a": "1"},
                          "matchExpressions": [{"key": "c", "operator": "Exists"},
                                               {"key": "d", "operator": "NotIn", "values": ["y", "x"]}]}) == a
    assert LabelSelector.build({"app": "web"}) != LabelSelector.build({"app": "api"})


# --- the class index against brute force ---------------------------------------------------------

KEYS = ("app", "tier", "env")
VALUES = ("a", "b", "c")
label_sets = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3)
requirements = st.one_of(
    st.builds(Requirement, st.sampled_from(KEYS), st.sampled_from(("In", "NotIn")),
              st.frozensets(st.sampled_from(VALUES), min_size=1, max_size=2)),
    st.builds(Requirement, st.sampled_from(KEYS), st.sampled_from(("Exists", "DoesNotExist"))),
)
selectors = st.builds(LabelSelector.build, label_sets.filter(lambda d: len(d) <= 1),
                      st.lists(requirements, max_size=2).map(tuple))


def manifest(kind: str, name: str, namespace: str | None, body: dict, doc: int) -> Manifest:
    api = "networking.k8s.io/v1" if kind == "NetworkPolicy" else "v1"
    return Manifest(api, kind, name, namespace, {"apiVersion": api, "kind": kind, **body},
                    SourceRef("generated.yaml", doc + 1, doc))


def selector_body(sel: LabelSelector) -> dict:
    return {"matchExpressions": [{"key": r.key, "operator": r.operator, "values": sorted(r.values)}
                                 for r in sel.requirements]}


@settings(max_examples=60, deadline=None)
@given(
    pods=st.lists(st.tuples(st.sampled_from(("n1", "n2")), label_sets), min_size=1, max_size=8),
    ns_labels=st.tuples(label_sets, label_sets),
    policies=st.lists(st.tuples(st.sampled_from(("n1", "n2")), selectors, selectors, selectors),
                      min_size=1, max_size=3),
)
def test_class_bitsets_select_exactly_the_pods_per_pod_matching_selects(pods, ns_labels, policies):
    manifests = [manifest("Namespace", ns, None, {"metadata": {"name": ns, "labels": labels}}, i)
                 for i, (ns, labels) in enumerate(zip(("n1", "n2"), ns_labels))]
    manifests += [manifest("Pod", f"p{i}", ns, {"metadata": {"name": f"p{i}", "namespace": ns,
                                                             "labels": labels}}, 10 + i)
                  for i, (ns, labels) in enumerate(pods)]
    for i, (ns, target, peer_ns, peer_pods) in enumerate(policies):
        spec = {"podSelector": selector_body(target),
                "ingress": [{"from": [{"namespaceSelector": selector_body(peer_ns),
                                       "podSelector": selector_body(peer_pods)},
                                      {"podSelector": selector_body(peer_pods)}]}]}
        manifests.append(manifest("NetworkPolicy", f"np{i}", ns,
                                  {"metadata": {"name": f"np{i}", "namespace": ns}, "spec": spec}, 20 + i))
    cluster = build_cluster(manifests).cluster
    compiled = compile_policies(cluster.policies)
    index = build_index(cluster, compiled)

    def pods_of(bits: int) -> set[str]:
        return {cluster.pods[p].name for c in iter_bits(bits) for p in index.classes[c].pods}

    ns_of = {n.name: dict(n.labels) for n in cluster.namespaces}
    every_pod = [(p.name, p.namespace, dict(p.labels)) for p in cluster.pods]
    # every pod is in exactly one class, and classes never mix namespaces
    assert sorted(p for c in index.classes for p in c.pods) == list(range(len(cluster.pods)))
    assert all(cluster.pods[p].namespace == c.namespace for c in index.classes for p in c.pods)

    for target in compiled.ingress:
        assert pods_of(index.target_bits(target.namespace, target.pod_selector)) == \
            {name for name, ns, labels in every_pod
             if ns == target.namespace and target.pod_selector.matches(labels)}
        for rule in target.rules:
            for peer in rule.peers:
                assert isinstance(peer, PodPeer)
                expected = {name for name, ns, labels in every_pod
                            if peer.matches(ns, ns_of[ns], labels)}
                assert pods_of(index.peer_bits(peer)) == expected
                if peer.namespace_selector is not None:
                    assert pods_of(index.namespace_selector_bits(peer.namespace_selector)) == \
                        {name for name, ns, _ in every_pod if peer.namespace_selector.matches(ns_of[ns])}


def test_namespace_selector_sees_the_implicit_name_label():
    manifests = [manifest("Pod", "p", "shop", {"metadata": {"name": "p", "namespace": "shop"}}, 0)]
    cluster = build_cluster(manifests).cluster
    index = build_index(cluster, compile_policies(cluster.policies))
    by_name = LabelSelector.build({"kubernetes.io/metadata.name": "shop"})
    assert index.namespace_selector_bits(by_name) == index.all_bits
    assert index.namespace_selector_bits(LabelSelector.build({"kubernetes.io/metadata.name": "x"})) == 0
