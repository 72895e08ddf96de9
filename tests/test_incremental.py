"""One changed policy, re-checked incrementally, gives exactly what a fresh evaluation gives."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from analyzer.engine.evaluate import evaluate
from analyzer.engine.incremental import apply_policy_change
from analyzer.inputs.loading import load_paths
from analyzer.model.cluster import build_cluster

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CASES = [FIXTURES / "demo"] + sorted(p for p in (FIXTURES / "spec").iterdir() if p.is_dir())


def pod_pairs(reach):
    """Allowed connections per pod pair (class numbering may differ between two results)."""
    members: dict[int, list[int]] = {}
    for i, c in enumerate(reach.index.pod_class):
        members.setdefault(c, []).append(i)
    return {(s, d): a for (cs, cd), a in reach.class_edges.items()
            for s in members.get(cs, []) for d in members.get(cd, [])}


def cluster_of(path: Path):
    return build_cluster(load_paths([str(path)]).manifests).cluster


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_removing_then_restoring_each_policy_matches_a_fresh_evaluation(case):
    cluster = cluster_of(case)
    base = evaluate(cluster)
    for policy in cluster.policies:
        removed = apply_policy_change(base, remove=policy.id)
        assert pod_pairs(removed.reachability) == pod_pairs(evaluate(removed.reachability.cluster))
        restored = apply_policy_change(removed.reachability, policy)
        assert pod_pairs(restored.reachability) == pod_pairs(evaluate(restored.reachability.cluster))
        assert {k: v.conns for k, v in pod_pairs(restored.reachability).items()} == \
            {k: v.conns for k, v in pod_pairs(base).items()}


def test_the_debug_hole_closing_is_reported_as_changed_connections():
    cluster = cluster_of(FIXTURES / "demo")
    base = evaluate(cluster)
    result = apply_policy_change(base, remove="payments/allow-all-debug")
    assert result.incremental
    changed = {(s, d): (before.to_text(), after.to_text())
               for s, d, before, after in result.endpoint_changes()}
    assert changed[("monitoring/prometheus[Deployment]", "payments/ledger[Deployment]")] == \
        ("All Connections", "TCP 9100")
    # the ledger's ingress from the internet is gone too
    assert result.address_sides_changed


def test_a_policy_reading_a_new_label_key_falls_back_to_a_full_evaluation():
    cluster = cluster_of(FIXTURES / "demo")
    base = evaluate(cluster)
    debug = next(p for p in cluster.policies if p.id == "payments/allow-all-debug")
    from analyzer.model.selectors import LabelSelector
    narrowed = replace(debug, pod_selector=LabelSelector.build({"never-seen-key": "x"}))
    result = apply_policy_change(base, narrowed)
    assert not result.incremental
    assert pod_pairs(result.reachability) == pod_pairs(evaluate(result.reachability.cluster))


def test_asking_for_no_change_is_an_error():
    base = evaluate(cluster_of(FIXTURES / "demo"))
    with pytest.raises(ValueError):
        apply_policy_change(base)


ADMIN_CASES = [c for c in CASES if cluster_of(c).admin_policies]


@pytest.mark.parametrize("case", ADMIN_CASES, ids=lambda p: p.name)
def test_removing_then_restoring_each_admin_policy_is_a_full_evaluation_that_says_so(case):
    from analyzer.engine.incremental import apply_admin_change

    cluster = cluster_of(case)
    base = evaluate(cluster)
    for policy in cluster.admin_policies:
        removed = apply_admin_change(base, remove=f"{policy.kind}/{policy.name}")
        assert not removed.incremental
        assert policy not in removed.reachability.cluster.admin_policies
        assert pod_pairs(removed.reachability) == pod_pairs(evaluate(removed.reachability.cluster))
        restored = apply_admin_change(removed.reachability, policy)
        assert pod_pairs(restored.reachability) == pod_pairs(base)
