"""Properties of the lint algebra on random clusters: what ``kreach lint`` calls redundant,
shadowed or equivalent can be removed — all of it together — and ``kreach list`` (at pod level,
the finest) prints exactly the same connections; a vacuous policy alone allows what no policy
allows."""

from __future__ import annotations

import copy

import yaml
from hypothesis import HealthCheck, given, settings

from analyzer import Options, analyze
from analyzer.lint import lint
from analyzer.model.connset import IntervalSet, cidr_interval
from analyzer.testing.strategies import clusters
from analyzer.writers import render

REMOVABLE = ("KRL501", "KRL502", "KRL503", "KRL504")


def _list(objects: list[dict]) -> set:
    """``kreach list --level pod`` output, with address ranges that allow the same connections
    to or from the same pod merged (the printed cut points follow the ipBlocks in the input)."""
    text = yaml.safe_dump_all(objects, sort_keys=False)
    out = render(analyze(["-"], Options(level="pod", schema=False), stdin_text=text), "txt")
    pods, ranges = set(), {}
    for line in out.splitlines():
        ends, conns = line.split(" : ", 1)
        src, dst = ends.split(" => ")
        if "-" in src and "/" not in src:
            key, (lo, hi) = ("in", dst, conns), src.split("-", 1)
        elif "-" in dst and "/" not in dst:
            key, (lo, hi) = ("out", src, conns), dst.split("-", 1)
        else:
            pods.add(line)
            continue
        span = IntervalSet.span(cidr_interval(lo)[0], cidr_interval(hi)[0])
        ranges[key] = ranges.get(key, IntervalSet()) | span
    return pods | {(k, tuple(v)) for k, v in ranges.items()}


def _analysis(objects: list[dict]):
    text = yaml.safe_dump_all(objects, sort_keys=False)
    return analyze(["-"], Options(schema=False), stdin_text=text)


def _without(objects: list[dict], findings) -> list[dict]:
    """The objects with every reported policy and rule taken out (policyTypes made explicit
    first, so that dropping the last egress rule does not change what the policy isolates)."""
    gone_policies = {f.policy for f in findings if f.rule is None}
    gone_rules = {(f.policy, f.rule.direction.lower(), f.rule.index) for f in findings if f.rule}
    out = []
    for obj in objects:
        if obj.get("kind") != "NetworkPolicy":
            out.append(obj)
            continue
        pid = f"{obj['metadata'].get('namespace', 'default')}/{obj['metadata']['name']}"
        if pid in gone_policies:
            continue
        obj = copy.deepcopy(obj)
        spec = obj.setdefault("spec", {})
        if "policyTypes" not in spec:
            spec["policyTypes"] = ["Ingress"] + (["Egress"] if spec.get("egress") else [])
        for direction in ("ingress", "egress"):
            rules = spec.get(direction) or []
            spec[direction] = [r for i, r in enumerate(rules) if (pid, direction, i) not in gone_rules]
        out.append(obj)
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters(max_pods=6, max_policies=6))
def test_everything_reported_removable_can_be_removed_together(objects):
    report = lint(_analysis(objects))
    found = [f for f in report.findings if f.code in REMOVABLE]
    if found:
        assert _list(_without(objects, found)) == _list(objects), [str(f) for f in found]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters(max_pods=6, max_policies=6))
def test_a_vacuous_policy_alone_changes_nothing(objects):
    report = lint(_analysis(objects))
    others = [o for o in objects if o.get("kind") != "NetworkPolicy"]
    for f in report.findings:
        if f.code != "KRL505":
            continue
        alone = [o for o in objects if o.get("kind") == "NetworkPolicy"
                 and f"{o['metadata'].get('namespace', 'default')}/{o['metadata']['name']}" == f.policy]
        assert _list(others + alone) == _list(others), str(f)
