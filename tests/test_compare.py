"""``kreach compare``: the relation agrees with ``kreach list`` on random clusters, witnesses are
real (allowed on one side, not on the other), and the CLI exits 0/1/2."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st
from typer.testing import CliRunner

from analyzer import Options, analyze
from analyzer.cli.app import app
from analyzer.compare import compare
from analyzer.model.connset import cidr_interval

from test_lint_properties import _list

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def _analysis(objects):
    return analyze(["-"], Options(level="pod", schema=False),
                   stdin_text=yaml.safe_dump_all(objects, sort_keys=False))


def _allows(analysis, src: str, dst: str, proto: str, port: int) -> bool:
    """Read off ``kreach list --level pod``: is (src, dst, proto, port) allowed?"""
    for (s, d), allowance in analysis.view.edges.items():
        if _is(s, src) and _is(d, dst) and allowance.conns.allows(proto, port):
            return True
    return False


def _is(endpoint: str, name: str) -> bool:
    if endpoint == name:
        return True
    if "/" in endpoint or "/" in name or "-" not in endpoint:
        return False
    lo, hi = endpoint.split("-", 1)
    x = cidr_interval(name)[0]
    return cidr_interval(lo)[0] <= x <= cidr_interval(hi)[0]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_the_relation_agrees_with_list_and_witnesses_are_real(data):
    from analyzer.testing.strategies import clusters, policies

    a_objs = data.draw(clusters(max_pods=5, max_policies=4))
    b_objs = [o for o in a_objs if o["kind"] != "NetworkPolicy" or data.draw(st.booleans())]
    b_objs += [data.draw(policies(name=f"extra-{i}")) for i in range(data.draw(st.integers(0, 2)))]
    a, b = _analysis(a_objs), _analysis(b_objs)
    c = compare(a, b)
    assert c.equivalent == (_list(a_objs) == _list(b_objs))
    for w, yes, no in ((c.only_in_a, a, b), (c.only_in_b, b, a)):
        if w is not None:
            assert _allows(yes, w.src, w.dst, w.protocol, w.port)
            assert not _allows(no, w.src, w.dst, w.protocol, w.port)
    back = compare(b, a)
    flipped = {"a-in-b": "b-in-a", "b-in-a": "a-in-b"}.get(c.relation, c.relation)
    assert back.relation == flipped


def _kreach(*args: str):
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        return runner.invoke(app, list(args))
    finally:
        os.chdir(cwd)


def test_the_same_input_is_equivalent_and_strongly_so():
    r = _kreach("compare", "fixtures/demo", "fixtures/demo", "--per-policy")
    assert r.exit_code == 0
    assert r.stdout.startswith("equivalent: fixtures/demo and fixtures/demo allow exactly")


def test_removing_a_hole_gives_containment_with_a_witness_and_its_rules():
    bad = "fixtures/lint/KRL503-redundant-policy/bad.yaml"
    good = "fixtures/lint/KRL503-redundant-policy/good.yaml"
    r = _kreach("compare", bad, good, "--format", "json")
    assert r.exit_code == 1
    doc = json.loads(r.stdout)
    assert (doc["relation"], doc["a_in_b"], doc["b_in_a"]) == ("b-in-a", False, True)
    w = doc["only_in_a"]
    assert (w["src"], w["dst"], w["protocol"], w["port"]) == ("shop/web", "shop/api", "TCP", 443)
    assert {(x["policy"], x["direction"], x["line"]) for x in w["allowed_by"]} == {
        ("shop/shop-from-web", "ingress", 41), ("shop/web-egress", "egress", 31)}
    assert doc["only_in_b"] is None


def test_an_empty_side_is_bad_input(tmp_path):
    (tmp_path / "empty.yaml").write_text("# nothing\n")
    r = _kreach("compare", "fixtures/demo", str(tmp_path / "empty.yaml"))
    assert r.exit_code == 2
