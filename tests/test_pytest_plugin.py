"""The pytest plugin, run with ``pytester``: kreach.yaml items, the kreach_cluster fixture and
the assertion helpers, passing and failing, with their exact failure messages."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

DEMO = str(Path(__file__).resolve().parent.parent / "fixtures" / "demo")
RULE = "NetworkPolicy payments/allow-all-debug ingress rule #0"


@pytest.fixture
def plugin_args(request) -> list[str]:
    """Load the plugin unless its entry point already did (kreach installed)."""
    loaded = request.config.pluginmanager.has_plugin("kreach")
    return [] if loaded else ["-p", "analyzer.testing.plugin"]


def write_assertions(pytester, body: str) -> None:
    pytester.path.joinpath("kreach.yaml").write_text(f"manifests: [{DEMO}]\nassertions:\n{body}")


def test_kreach_yaml_items_pass_and_fail_with_the_exact_message(pytester, plugin_args):
    write_assertions(pytester, "  - name: web is open\n    from: internet\n    to: shop/web\n"
                               "    port: 8080\n    expect: allow\n"
                               "  - name: ledger is closed\n    from: internet\n"
                               "    to: payments/ledger\n    expect: deny\n")
    result = pytester.runpytest(*plugin_args, "-v")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "kreach.yaml::web is open PASSED*",
        "kreach.yaml::ledger is closed FAILED*",
    ])
    result.stdout.fnmatch_lines([
        "kreach.yaml:8: assertion failed",
        "expected: internet -> payments/ledger denied",
        "found:    allowed",
        "counterexample: 1.0.0.1 -> payments/pod/ledger-0 (payments/ledger[Deployment]) TCP 7070 "
        "(allowed: All Connections)",
        f"  ingress allowed by {RULE} ({DEMO}/policies-payments.yaml:93)",
    ])


def test_a_broken_kreach_yaml_fails_with_its_diagnostics(pytester, plugin_args):
    write_assertions(pytester, "  - name: typo\n    to: shop/db\n    only-frm: [shop/api]\n")
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(failed=1)
    assert ("kreach.yaml:5: error[KR303]: assertion 'typo': unknown key 'only-frm'; "
            "did you mean 'only-from'?") in result.stdout.lines


def test_helpers_with_the_fixture_and_the_ini_option(pytester, plugin_args):
    pytester.makeini(f"[pytest]\nkreach_manifests = {DEMO}\n")
    pytester.makepyfile(test_net="""
        from analyzer.testing import (assert_isolated, assert_not_reachable, assert_only_from,
                                      assert_reachable)

        def test_passes(kreach_cluster):
            assert_reachable(kreach_cluster, "shop/web", "shop/api", port=9000)
            assert_not_reachable(kreach_cluster, "shop/web", "shop/db")
            assert_only_from(kreach_cluster, "shop/db", ["shop/api", "monitoring/prometheus"])
            assert_isolated(kreach_cluster, "shop")

        def test_fails(kreach_cluster):
            assert_not_reachable(kreach_cluster, "internet", "payments/ledger", port=7070)

        def test_isolation_fails(kreach_cluster):
            assert_isolated(kreach_cluster, "monitoring", "ingress")
    """)
    result = pytester.runpytest(*plugin_args)
    result.assert_outcomes(passed=1, failed=2)
    result.stdout.fnmatch_lines([
        "E       AssertionError: expected: internet -> payments/ledger 7070 denied",
        "E       found:    allowed",
        "E       counterexample: 1.0.0.1 -> payments/pod/ledger-0 (payments/ledger[Deployment]) "
        "TCP 7070 (allowed: SCTP 7070,TCP 7070,UDP 7070)",
        f"E         ingress allowed by {RULE} (*policies-payments.yaml:93)",
    ])
    result.stdout.fnmatch_lines([
        "E       AssertionError: expected: every possible pod of monitoring isolated for ingress",
        "E       found:    a pod can escape: a new pod in namespace monitoring*",
        "E       note: no ingress policy in monitoring",
    ])
    # __tracebackhide__: the failing line shown is the test's, not the helper's
    assert "_enforce" not in result.stdout.str()


def test_the_command_line_option_overrides_and_is_required(pytester, plugin_args):
    pytester.makepyfile(test_net="""
        from analyzer.testing import assert_reachable

        def test_it(kreach_cluster):
            assert_reachable(kreach_cluster, "internet", "shop/web", port=8080, protocol="TCP")
    """)
    pytester.runpytest(*plugin_args, f"--kreach-manifests={DEMO}").assert_outcomes(passed=1)
    missing = pytester.runpytest(*plugin_args)
    missing.assert_outcomes(errors=1)
    missing.stdout.fnmatch_lines(["*kreach_cluster needs manifests*"])
