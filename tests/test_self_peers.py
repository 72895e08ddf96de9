"""A pod is never its own peer, even when it shares an equivalence class with pods of other
workloads (here t/a and t/b: the policy reads no label, so they are one class)."""

from __future__ import annotations

from pathlib import Path

from analyzer.analysis import analyze
from analyzer.assertions import check_file
from analyzer.query.engine import Engine
from analyzer.query.peers import reachable_from, who_can_reach

CASE = Path(__file__).parent / "data" / "self-peer"


def engine() -> Engine:
    return Engine.from_analysis(analyze([str(CASE / "m.yaml")]))


def test_who_can_reach_does_not_list_the_target_itself():
    rows = [r.name for r in who_can_reach(engine(), "t/a").rows if r.group == "workload"]
    assert rows == ["t/b[Pod]"]


def test_reachable_from_does_not_list_the_source_itself():
    rows = [r.name for r in reachable_from(engine(), "t/a").rows if r.group == "workload"]
    assert rows == ["t/b[Pod]"]


def test_only_from_only_to_and_max_reachable_ignore_the_pod_itself():
    report = check_file(str(CASE / "kreach.yaml"))
    assert [(r.assertion.name, r.status.value) for r in report.results] == [
        ("only b reaches a", "passed"), ("a reaches at most 1", "passed"), ("only b from a", "passed")]
