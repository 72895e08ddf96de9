"""Evaluating assertions on the demo cluster (fixtures/demo): verdicts, counterexamples and the
rules responsible, for every kind of assertion."""

from __future__ import annotations

import pytest

from analyzer.analysis import analyze
from analyzer.assertions import Assertion, Checker, Status, check_file
from analyzer.assertions.model import (Allowed, Exposure, Isolated, MaxReachable, OnlyFrom,
                                       OnlyTo, PortFilter, Reach)
from analyzer.source import SourceRef

DEBUG_RULE = "NetworkPolicy payments/allow-all-debug ingress rule #0"


@pytest.fixture(scope="module")
def checker() -> Checker:
    return Checker(analyze(["fixtures/demo/00-namespaces.yaml", "fixtures/demo/shop.yaml",
                            "fixtures/demo/payments.yaml", "fixtures/demo/monitoring.yaml",
                            "fixtures/demo/kube-system.yaml", "fixtures/demo/policies-shop.yaml",
                            "fixtures/demo/policies-payments.yaml"]))


def run(checker, check):
    return checker.run(Assertion("t", check, SourceRef("k.yaml", 3)))


def test_a_denied_connection_that_is_allowed_fails_with_the_rule_that_allows_it(checker):
    r = run(checker, Reach("internet", "payments/ledger", None, None, False))
    assert r.status is Status.FAILED
    assert (r.expected, r.found) == ("internet -> payments/ledger denied", "allowed")
    e = r.examples[0]
    assert (e.src, e.dst, e.protocol, e.port) == (
        "1.0.0.1", "payments/pod/ledger-0 (payments/ledger[Deployment])", "TCP", 7070)
    assert [(h.text, h.location) for h in r.rules] == [
        (DEBUG_RULE, "fixtures/demo/policies-payments.yaml:93")]


def test_an_allowed_connection_that_is_denied_fails_with_the_blocking_policies(checker):
    r = run(checker, Reach("shop/web", "shop/db", 5432, "TCP", True))
    assert r.status is Status.FAILED and r.found == "denied"
    texts = {h.text for h in r.rules}
    assert "NetworkPolicy shop/default-deny" in texts  # isolates both sides
    assert any(n.startswith("egress blocked: isolated by") for n in r.notes)
    assert any("does not match" in n for n in r.notes)


def test_reach_passes_with_evidence(checker):
    r = run(checker, Reach("shop/web", "shop/api", 9000, None, True))
    assert r.passed and r.examples[0].port == 9000
    assert {h.policy for h in r.rules} == {"shop/web-to-api", "shop/api-from-web"}
    assert run(checker, Reach("payments/gateway", "203.0.113.200", 443, "TCP", False)).passed
    assert run(checker, Reach("payments/gateway", "203.0.113.10", 443, "TCP", True)).passed


def test_hypothetical_pods_are_asked_of_the_solver(checker):
    r = run(checker, Reach("new:shop", "shop/db", 5432, None, False))
    assert r.status is Status.FAILED
    assert r.examples[0].src == "a new pod in namespace shop with labels app=api"
    assert run(checker, Reach("new:shop:app!=api", "shop/db", 5432, None, False)).passed


def test_only_from_reports_every_other_source_and_every_silent_listed_one(checker):
    assert run(checker, OnlyFrom("shop/db", ("shop/api", "monitoring/prometheus"))).passed
    r = run(checker, OnlyFrom("shop/db", ("shop/api",)))
    assert r.status is Status.FAILED
    assert r.found == "also reached from monitoring/prometheus[Deployment]"
    assert r.examples[0].port == 9187
    r = run(checker, OnlyFrom("shop/db", ("shop/api", "shop/web"), PortFilter(((5432, 5432),))))
    assert r.found == "listed but reaching nothing: shop/web"
    r = run(checker, OnlyFrom("payments/ledger", ("payments/gateway",), PortFilter(((7070, 7070),))))
    assert "0.0.0.0-255.255.255.255" in r.found and "kube-system/coredns[Deployment]" in r.found


def test_only_to(checker):
    assert run(checker, OnlyTo("shop/api", ("shop/db", "payments/gateway", "kube-system/coredns"))).passed
    r = run(checker, OnlyTo("payments/gateway", ("payments/ledger", "kube-system/coredns")))
    assert r.status is Status.FAILED and r.found == "also reaches 203.0.113.0-203.0.113.127"


def test_isolation_is_proved_or_shown_by_an_escaping_pod(checker):
    assert run(checker, Isolated("shop", "both")).passed
    r = run(checker, Isolated("monitoring", "ingress"))
    assert r.status is Status.FAILED
    assert r.examples[0].src.startswith("a new pod in namespace monitoring")
    assert r.notes == ("no ingress policy in monitoring",)


def test_exposure_lists_what_is_not_allowed(checker):
    r = run(checker, Exposure("internet", (Allowed("shop/web", PortFilter(((8080, 8080),))),)))
    assert r.status is Status.FAILED
    exposed = {e.dst for e in r.examples}
    assert {"payments/ledger[Deployment]", "payments/gateway[Deployment]"} <= exposed
    assert DEBUG_RULE in {h.text for h in r.rules}
    narrow = run(checker, Exposure("internet", (Allowed("shop/web", PortFilter(((80, 80),))),)))
    assert "shop/web[Deployment] <= 0.0.0.0-255.255.255.255" in narrow.found


def test_max_reachable_counts_other_workloads(checker):
    assert run(checker, MaxReachable("shop/web", 2)).passed
    r = run(checker, MaxReachable("shop/web", 1))
    assert r.status is Status.FAILED
    assert r.found == "reaches 2: kube-system/coredns[Deployment], shop/api[Deployment]"


def test_an_endpoint_that_matches_nothing_is_a_located_error(checker):
    a = Assertion("t", OnlyFrom("shop/db", ("shop/apii",)), SourceRef("k.yaml", 3),
                  (("only-from.0", 5),))
    r = checker.run(a)
    assert r.status is Status.ERROR
    d = r.diagnostics[0]
    assert (d.code, d.line, d.message) == (
        "KR307", 5, "assertion 't': only-from 'shop/apii' matches nothing in the manifests; "
        "did you mean shop/api?")
    assert run(checker, Isolated("nope")).diagnostics[0].code == "KR313"


def test_the_demo_assertions_all_pass_and_the_failing_example_fails():
    demo = check_file("fixtures/demo/kreach.yaml")
    assert demo.diagnostics == () and len(demo.results) == 12
    assert [r.assertion.name for r in demo.results if not r.passed] == []
    failing = check_file("fixtures/failing/kreach.yaml")
    assert failing.diagnostics == ()
    assert [(r.assertion.name, r.status) for r in failing.results] == [
        ("internet reaches the shop front end", Status.PASSED),
        ("internet cannot reach the ledger", Status.FAILED)]


def test_a_question_the_engine_cannot_ask_is_an_error_result_not_an_aborted_run(tmp_path):
    import os

    f = tmp_path / "kreach.yaml"
    f.write_text(f"manifests: [{os.path.abspath('fixtures/demo')}]\nassertions:\n"
                 "  - name: fine\n    from: shop/web\n    to: shop/api\n    expect: allow\n"
                 "  - name: self\n    from: shop/pod/web-0\n    to: shop/pod/web-0\n    expect: allow\n")
    report = check_file(str(f))
    assert [(r.assertion.name, r.status.value) for r in report.results] == [
        ("fine", "passed"), ("self", "error")]
    assert [d.code for d in report.results[1].diagnostics] == ["KR315"]


def test_a_duplicate_key_in_an_assertion_is_reported_with_both_lines(tmp_path):
    import os

    from analyzer.assertions import load_assertions

    f = tmp_path / "kreach.yaml"
    f.write_text(f"manifests: [{os.path.abspath('fixtures/demo')}]\nassertions:\n"
                 "  - name: dup\n    from: internet\n    to: shop/db\n    to: shop/web\n    expect: allow\n")
    loaded = load_assertions(str(f))
    diags = [(d.code, d.line) for d in loaded.diagnostics]
    assert ("KR316", 6) in diags
