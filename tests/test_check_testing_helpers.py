"""``analyzer.testing``: the helpers used directly, and the hypothesis strategies users get."""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import HealthCheck, given, settings

from analyzer.diagnostics import Severity
from analyzer.testing import (assert_not_reachable, assert_only_from, assert_reachable,
                              cluster_from_manifests, load_cluster)
from analyzer.testing.strategies import clusters, policies, selectors

FEW = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(scope="module")
def demo():
    return load_cluster("fixtures/demo")


def test_helpers_return_the_result_or_raise_with_the_counterexample(demo):
    assert assert_reachable(demo, "internet", "shop/web", port=8080).passed
    with pytest.raises(AssertionError) as e:
        assert_only_from(demo, "shop/db", ["shop/api"], ports=[9187])
    assert str(e.value).splitlines()[:2] == [
        "expected: only shop/api reach shop/db (9187)",
        "found:    also reached from monitoring/prometheus[Deployment]; "
        "listed but reaching nothing: shop/api"]
    with pytest.raises(ValueError, match="matches nothing"):
        assert_reachable(demo, "shop/nope", "shop/web")


def test_nothing_to_analyse_is_an_error():
    with pytest.raises(ValueError, match="nothing to analyse"):
        cluster_from_manifests([{"not": "kubernetes"}])


@FEW
@given(clusters())
def test_generated_clusters_are_valid_kubernetes(objects):
    cluster = cluster_from_manifests(objects)
    assert [d for d in cluster.diagnostics if d.severity is Severity.ERROR] == []


@FEW
@given(clusters(pod_ips=True))
def test_generated_pod_ips_are_valid_and_read_back(objects):
    """Generated exports with pod addresses load without errors and every address is read
    (the engines' agreement on such clusters is tests/test_query_agreement.py's job)."""
    cluster = cluster_from_manifests(objects)
    assert [d for d in cluster.diagnostics if d.severity is Severity.ERROR] == []
    written = {(o["metadata"]["namespace"], o["metadata"]["name"]): [i["ip"] for i in o["status"]["podIPs"]]
               for o in objects if o["kind"] == "Pod" and "status" in o}
    read = {(p.namespace, p.name): list(p.ip_texts) for p in cluster.analysis.cluster.pods if p.ips}
    assert {k: sorted(v) for k, v in read.items()} == {
        k: sorted(str(ipaddress.ip_address(a)) for a in v) for k, v in written.items()}


@FEW
@given(clusters(default_deny=True))
def test_default_deny_isolates_every_generated_pod(objects):
    assert_not_reachable(cluster_from_manifests(objects), "*", "*")
    assert_not_reachable(cluster_from_manifests(objects), "internet", "*")


@FEW
@given(policies(), selectors())
def test_policy_and_selector_shapes(policy, selector):
    assert policy["kind"] == "NetworkPolicy" and policy["spec"]["policyTypes"]
    assert set(selector) <= {"matchLabels", "matchExpressions"}
