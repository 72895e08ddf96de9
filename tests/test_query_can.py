"""Queries on the demo cluster (fixtures/demo, README there): answers, witnesses, the rules
responsible, and the command-line contract (exit 0 yes, 1 no, 2 error)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer import analyze
from analyzer.cli import app
from analyzer.query.can import can
from analyzer.query.engine import Engine, QueryError
from analyzer.query.exposure import exposure
from analyzer.query.isolation import isolated
from analyzer.query.peers import reachable_from, who_can_reach
from analyzer.query.verdict import Answer

ROOT = Path(__file__).resolve().parents[1]
DEMO = str(ROOT / "fixtures" / "demo")


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine.from_analysis(analyze([DEMO]))


def policies(refs) -> set[str]:
    return {r.policy for r in refs}


def test_an_allowed_flow_names_a_witness_and_the_egress_and_ingress_rules(engine):
    v = can(engine, "shop/web", "shop/api")
    assert v.answer is Answer.YES
    assert (v.witness.src.name, v.witness.dst.name) == ("web-0", "api-0")
    assert (v.witness.protocol, v.witness.port) == ("TCP", 9000)  # api's port named http
    assert [str(r) for r in v.egress.allowed_by] == ["NetworkPolicy shop/web-to-api egress rule #0"]
    assert [str(r) for r in v.ingress.allowed_by] == ["NetworkPolicy shop/api-from-web ingress rule #0"]


def test_a_side_no_policy_selects_is_reported_as_not_isolated(engine):
    v = can(engine, "monitoring/prometheus", "shop/api", port=9100)
    assert v.answer is Answer.YES
    assert v.egress.allowed_by[0].is_default and not v.egress.isolated_by


def test_a_denied_flow_names_the_isolating_policies_and_the_part_that_fails(engine):
    v = can(engine, "shop/web", "shop/db", port=5432)
    assert v.answer is Answer.NO and v.witness is None
    assert v.ingress.blocks
    assert "shop/default-deny" in policies(v.ingress.isolated_by)
    blame = {(m.rule.policy, m.part, m.expected, m.found) for m in v.ingress.mismatches}
    assert ("shop/db-from-api", "podSelector", "podSelector app=api", "labels app=web") in blame


def test_a_port_outside_the_rule_is_blamed_on_the_ports(engine):
    v = can(engine, "internet", "shop/web", port=443, protocol="TCP")
    assert v.answer is Answer.NO and v.egress.applies is False
    blame = {(m.rule.policy, m.part, m.expected, m.found) for m in v.ingress.mismatches}
    assert ("shop/web-from-internet", "ports", "TCP 8080", "TCP 443") in blame


def test_an_ipblock_except_is_respected(engine):
    assert can(engine, "payments/gateway", "203.0.113.5", port=443).allowed
    v = can(engine, "payments/gateway", "203.0.113.200", port=443)
    assert v.answer is Answer.NO
    assert any(m.part == "ipBlock" for m in v.egress.mismatches)


def test_a_hypothetical_pod_gets_the_labels_it_needs(engine):
    v = can(engine, "new:shop", "shop/db", port=5432)
    assert v.answer is Answer.YES
    assert v.witness.src.hypothetical and ("app", "api") in v.witness.src.labels


def test_no_pod_created_anywhere_reaches_the_db_except_in_shop_and_monitoring(engine):
    assert can(engine, "new:payments", "shop/db").answer is Answer.NO
    assert can(engine, "new:dev", "shop/db").answer is Answer.NO  # dev does not exist yet
    assert can(engine, "new:monitoring:app=prometheus", "shop/db", port=9187).allowed


def test_the_debug_policy_lets_a_pod_of_any_new_namespace_into_payments(engine):
    v = can(engine, "new:*", "payments/ledger", port=5432)
    assert v.allowed
    assert policies(v.ingress.allowed_by) == {"payments/allow-all-debug"}


def test_endpoints_that_name_nothing_are_query_errors(engine):
    with pytest.raises(QueryError):
        can(engine, "shop/nope", "shop/web")
    with pytest.raises(QueryError):
        can(engine, "internet", "10.0.0.0/8")
    with pytest.raises(QueryError):
        can(engine, "shop/pod/web-0", "shop/pod/web-0")


def test_who_can_reach_groups_workloads_addresses_and_new_pods(engine):
    report = who_can_reach(engine, "shop/db")
    rows = {(r.group, r.name): r for r in report.rows}
    assert rows[("workload", "shop/api[Deployment]")].conns.to_text() == "TCP 5432"
    assert rows[("workload", "monitoring/prometheus[Deployment]")].conns.to_text() == "TCP 9187"
    assert ("hypothetical", "new pod in shop") in rows
    assert not any(g == "external" for g, _ in rows)


def test_reachable_from_lists_the_card_processor_range(engine):
    report = reachable_from(engine, "payments/gateway", hypothetical=False)
    ext = {r.name: r.conns.to_text() for r in report.rows if r.group == "external"}
    assert ext == {"203.0.113.0-203.0.113.127": "TCP 443"}


def test_isolation_is_proved_or_an_escaping_pod_shown(engine):
    assert isolated(engine, "shop", "Ingress").answer is Answer.YES
    v = isolated(engine, "monitoring", "Egress")
    assert v.answer is Answer.NO and v.escape.namespace == "monitoring"


def test_exposure_puts_the_forgotten_debug_policy_first(engine):
    report = exposure(engine, ("ingress",))
    first = report.findings[0]
    assert (first.severity, first.kind) == ("critical", "external")
    assert first.workload.startswith("kube-system/")  # no policy at all: critical, A-Z first
    critical = {f.workload for f in report.findings if f.severity == "critical"}
    assert {"payments/gateway[Deployment]", "payments/ledger[Deployment]"} <= critical
    kinds = {(f.kind, f.workload) for f in report.findings}
    assert ("external", "shop/web[Deployment]") in kinds
    assert ("unprotected", "kube-system/coredns[Deployment]") in kinds
    assert ("cluster", "payments/gateway[Deployment]") in kinds
    # prometheus scraping shop/api is an existing pod's connection: `list` shows it, not exposure;
    # but the platform's AdminNetworkPolicy lets *any* pod of monitoring scrape the metrics port
    api = [f for f in report.findings if f.workload == "shop/api[Deployment]"]
    assert api and all({r.policy for r in f.allowed_by} == {"platform-guardrails"} for f in api)


# --- the command line ---------------------------------------------------------------------------

runner = CliRunner()


@pytest.mark.parametrize("args, code", [
    (["can", "shop/web", "shop/api", DEMO], 0),
    (["can", "shop/web", "shop/db", DEMO, "--port", "5432"], 1),
    (["can", "shop/nope", "shop/db", DEMO], 2),
    (["can", "shop", "shop/db", DEMO], 2),
    (["isolated", "shop", DEMO], 0),
    (["isolated", "monitoring", DEMO, "--direction", "egress"], 1),
    (["exposure", DEMO, "--direction", "ingress"], 1),
    (["exposure", DEMO, "--direction", "sideways"], 2),
    (["exposure", DEMO, "--min-severity", "critical"], 1),
    (["who-can-reach", "shop/db", DEMO], 0),
    (["reachable-from", "shop/api", DEMO, "--port", "5432"], 0),
])
def test_exit_codes(args, code):
    result = runner.invoke(app, args + ["-q"])
    assert result.exit_code == code, result.output


def test_can_json_is_the_documented_verdict_document():
    result = runner.invoke(app, ["can", "shop/web", "shop/api", DEMO, "-q", "--format", "json"])
    doc = json.loads(result.stdout)
    assert doc["schema"] == "kreach.verdict/v1" and doc["answer"] == "yes"
    assert doc["witness"]["dst"] == {"type": "pod", "namespace": "shop", "name": "api-0",
                                     "workload": "shop/api[Deployment]",
                                     "labels": {"app": "api", "tier": "backend"}}
    rule = doc["ingress"]["allowed_by"][0]
    assert rule["policy"] == "shop/api-from-web" and rule["line"] > 0


def test_the_list_command_does_not_import_z3():
    code = "import sys, analyzer.cli; assert 'z3' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
