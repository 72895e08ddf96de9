"""The class engine on two processes (analyzer.engine.evaluate.evaluate_tables with jobs=2):
the second half of the classes evaluated in a forked copy gives the very result one process
gives, map by map and in the same order, NetworkPolicies alone or with admin tiers."""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest
from hypothesis import given, settings

from analyzer import Options, analyze
from analyzer.engine import evaluate as engine
from analyzer.forking import Copy
from analyzer.writers import render
from test_query_agreement import admin_clusters, clusters

ROOT = Path(__file__).resolve().parent.parent


def _maps(reach) -> tuple:
    return (list(reach.class_edges.items()), list(reach.from_ip.items()), list(reach.to_ip.items()),
            reach.ingress_isolated, reach.egress_isolated)


def _both(cluster) -> tuple:
    with mock.patch.object(engine, "PARALLEL_CLASSES", 0):
        return engine.evaluate(cluster, jobs=1), engine.evaluate(cluster, jobs=2)


@settings(max_examples=25)
@given(clusters())
def test_two_processes_evaluate_generated_clusters_as_one_does(cluster):
    one, two = _both(cluster)
    assert _maps(two) == _maps(one)


@settings(max_examples=10)
@given(admin_clusters())
def test_two_processes_evaluate_admin_tiers_as_one_does(cluster):
    one, two = _both(cluster)
    assert _maps(two) == _maps(one)


@pytest.mark.parametrize("fixture", ["demo", "edge", "audit", "spec", "lint/KRL501-redundant-rule", "spec/admin-priority-order"])
def test_a_listing_is_the_same_when_two_processes_evaluate(fixture, monkeypatch):
    path = ROOT / "fixtures" / fixture
    one = analyze([str(path)], Options(cache=False))
    monkeypatch.setattr(engine, "PARALLEL_CLASSES", 0)
    forks = []
    real = Copy.result
    monkeypatch.setattr(Copy, "result", lambda self, read: forks.append(1) or real(self, read))
    two = analyze([str(path)], Options(cache=False, jobs=2))
    assert forks  # the copy did evaluate a half
    for fmt in ("json", "txt"):
        assert render(two, fmt) == render(one, fmt)
    assert two.diagnostics == one.diagnostics


def test_a_copy_that_fails_means_the_second_half_is_evaluated_here(monkeypatch):
    path = str(ROOT / "fixtures" / "demo")
    one = analyze([path], Options(cache=False))
    monkeypatch.setattr(engine, "PARALLEL_CLASSES", 0)
    monkeypatch.setattr(Copy, "result", lambda self, read: None)
    two = analyze([path], Options(cache=False, jobs=2))
    assert _maps(two.reachability) == _maps(one.reachability)


def test_one_process_unless_asked_or_many_classes(monkeypatch):
    monkeypatch.setattr(engine, "_second_process", lambda jobs: pytest.fail("forked"))
    analyze([str(ROOT / "fixtures" / "demo")], Options(cache=False))  # the library: one process
    monkeypatch.undo()
    monkeypatch.setattr("analyzer.forking.in_copy", lambda work: pytest.fail("forked"))
    analyze([str(ROOT / "fixtures" / "demo")], Options(cache=False, jobs=2))  # few classes
