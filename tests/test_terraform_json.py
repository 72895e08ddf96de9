"""Terraform plan and state JSON (``terraform show -json``) as kreach input.

The fixtures under fixtures/terraform/ hold the demo cluster as a plan that creates it, as the
state after apply, and as a plan that deletes the forgotten debug policy; each reads as exactly
the demo. Bad plan JSON is a located message, the rest of the input is still analysed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.analysis import InputOptions, Options, analyze
from analyzer.cli import app

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"
TF = ROOT / "fixtures" / "terraform"
PLAN, STATE, FIX = TF / "plan" / "plan.json", TF / "state" / "state.json", TF / "fix-debug" / "plan.json"


def kreach(*args: str):
    return CliRunner().invoke(app, list(args))


def connections(*paths, side="planned") -> set[str]:
    a = analyze([str(p) for p in paths], Options(inputs=InputOptions(plan_side=side)))
    from analyzer.writers import render

    return set(render(a, "txt").splitlines())


@pytest.fixture(scope="module")
def demo() -> str:
    return kreach("list", str(DEMO)).stdout


@pytest.mark.parametrize("where", ["plan", "state"])
def test_the_demo_as_a_plan_or_a_state_lists_exactly_the_demo(demo, where):
    result = kreach("list", str(TF / where))
    assert result.exit_code == 0, result.stderr
    assert result.stdout == demo
    assert result.stderr == ""


def test_the_state_file_terraform_keeps_lists_exactly_the_demo_when_named(demo, tmp_path):
    tfstate = TF / "tfstate" / "terraform.tfstate"
    result = kreach("list", str(tfstate))
    assert result.exit_code == 0 and result.stderr == ""
    assert result.stdout == demo
    doc = json.loads(tfstate.read_text())
    doc["version"] = 3
    old = tmp_path / "terraform.tfstate"
    old.write_text(json.dumps(doc))
    assert "error[KR700]: Terraform JSON of unsupported format_version 'state version 3'" in \
        kreach("list", str(old)).stderr


def test_a_plan_is_read_for_its_planned_values_and_its_prior_state_on_request(demo):
    planned = connections(FIX)
    prior = connections(FIX, side="prior")
    assert prior == set(demo.splitlines())
    # deleting the debug policy closes exactly the holes it opened into payments: prometheus
    # keeps only its scrape port
    assert prior - planned == {line for line in demo.splitlines()
                               if "=> payments/" in line and "All Connections" in line}
    assert planned - prior == {
        "monitoring/prometheus[Deployment] => payments/gateway[Deployment] : TCP 9100",
        "monitoring/prometheus[Deployment] => payments/ledger[Deployment] : TCP 9100"}


def test_a_plan_that_creates_everything_has_nothing_before():
    a = analyze([str(PLAN)], Options(inputs=InputOptions(plan_side="prior")))
    assert a.objects == 0
    assert [d.code for d in a.diagnostics] == ["KR704"]


# --- the fixtures follow Terraform's documented JSON output format ---------------------------

RESOURCE_KEYS = {"address", "mode", "type", "name", "provider_name", "schema_version", "values",
                 "sensitive_values"}
CHANGE_KEYS = {"actions", "before", "after", "after_unknown", "before_sensitive", "after_sensitive"}


def _modules(module: dict):
    yield module
    for child in module.get("child_modules", []):
        assert set(child) <= {"address", "resources", "child_modules"}
        yield from _modules(child)


@pytest.mark.parametrize("path", [PLAN, FIX])
def test_plan_fixtures_have_the_documented_fields(path):
    doc = json.loads(path.read_text())
    assert doc["format_version"].split(".")[0] == "1"
    assert {"terraform_version", "planned_values", "resource_changes", "configuration"} <= set(doc)
    for module in _modules(doc["planned_values"]["root_module"]):
        for r in module["resources"]:
            assert set(r) == RESOURCE_KEYS and r["mode"] == "managed"
            assert r["address"].endswith(f"{r['type']}.{r['name']}")
            if "address" in module:
                assert r["address"].startswith(module["address"] + ".")
    for rc in doc["resource_changes"]:
        assert {"address", "mode", "type", "name", "provider_name", "change"} <= set(rc)
        assert set(rc["change"]) == CHANGE_KEYS
        assert rc["change"]["actions"] in (["create"], ["delete"], ["no-op"], ["update"],
                                           ["delete", "create"], ["create", "delete"])
        if rc["address"].startswith("module."):
            assert rc["address"].startswith(rc["module_address"] + ".")


def test_state_fixture_has_the_documented_fields():
    doc = json.loads(STATE.read_text())
    assert doc["format_version"] == "1.0" and "terraform_version" in doc
    for module in _modules(doc["values"]["root_module"]):
        for r in module["resources"]:
            assert set(r) == RESOURCE_KEYS
            assert r["values"]["metadata"][0]["uid"]  # computed attributes are known in a state


def test_rules_point_at_the_plan_lines_they_were_read_from():
    result = kreach("can", "shop/web", "shop/api", str(PLAN))
    assert result.exit_code == 0
    lines = PLAN.read_text().splitlines()
    cited = [int(part.split(":")[-1].rstrip(")")) for part in result.stdout.split()
             if part.startswith(f"({PLAN}:")]
    assert len(cited) == 2
    for line in cited:  # each rule is cited at the opening of its element in egress/ingress
        assert lines[line - 1].strip() == "{"
        assert lines[line - 2].strip() in ('"egress": [', '"ingress": [')


# --- bad input ---------------------------------------------------------------------------------

def _plan(tmp_path: Path, mutate, name="plan.json", indent=2) -> Path:
    doc = json.loads(PLAN.read_text())
    mutate(doc)
    out = tmp_path / name
    out.write_text(json.dumps(doc, indent=indent))
    return out


def test_an_unknown_major_format_version_skips_the_file_with_a_located_error(tmp_path):
    bad = _plan(tmp_path, lambda d: d.update(format_version="2.0"))
    result = kreach("list", str(bad), str(DEMO / "shop.yaml"))
    assert result.exit_code == 0  # the rest is analysed
    assert f"{bad}:1: error[KR700]: Terraform JSON of unsupported format_version '2.0'" in result.stderr
    alone = kreach("list", str(bad))
    assert alone.exit_code == 2  # nothing usable


def test_a_newer_minor_format_version_is_read(tmp_path, demo):
    newer = _plan(tmp_path, lambda d: d.update(format_version="1.9", some_new_field={}))
    assert kreach("list", str(newer)).stdout == demo


def test_malformed_plan_json_is_a_located_syntax_error(tmp_path):
    bad = tmp_path / "plan.json"
    bad.write_text(PLAN.read_text()[:5000])
    result = kreach("list", str(bad))
    assert result.exit_code == 2
    assert "error[KR008]: JSON syntax error" in result.stderr


def test_a_plan_without_planned_values_is_reported(tmp_path):
    bad = _plan(tmp_path, lambda d: d.pop("planned_values"))
    result = kreach("list", str(bad))
    assert result.exit_code == 2
    assert "error[KR701]: Terraform JSON: no planned_values in this plan" in result.stderr


def _first(doc, address):
    for module in _modules(doc["planned_values"]["root_module"]):
        for r in module["resources"]:
            if r["address"] == address:
                return r
    raise KeyError(address)


def test_an_invalid_object_is_reported_at_its_field_with_the_resource_address(tmp_path):
    address = "module.payments.kubernetes_network_policy_v1.payments_gateway_egress"

    def mutate(doc):
        ip = _first(doc, address)["values"]["spec"][0]["egress"][0]["to"][0]["ip_block"][0]
        ip["cidr"] = "203.0.113.0/33"

    bad = _plan(tmp_path, mutate)
    result = kreach("list", str(bad))
    assert result.exit_code == 0
    lines = bad.read_text().splitlines()
    cidr_line = next(i for i, text in enumerate(lines, 1) if "203.0.113.0/33" in text)
    assert (f"{bad}:{cidr_line}: error[KR110]: NetworkPolicy payments/gateway-egress: invalid CIDR"
            in result.stderr)
    assert f"[{address}]" in result.stderr
    assert kreach("list", "--strict", str(bad)).exit_code == 2


def test_values_known_only_after_apply_are_named(tmp_path):
    address = "kubernetes_deployment_v1.shop_web"

    def mutate(doc):
        _first(doc, address)["values"]["spec"][0]["template"][0]["metadata"][0].pop("labels")
        for rc in doc["resource_changes"]:
            if rc["address"] == address:
                rc["change"]["after_unknown"]["spec"] = [{"template": [{"metadata": [{"labels": True}]}]}]

    bad = _plan(tmp_path, mutate)
    result = kreach("list", str(bad))
    assert (f"warning[KR703]: {address}: spec[0].template[0].metadata[0].labels known only after "
            "apply; analysed without them") in result.stderr


def test_a_one_line_plan_as_terraform_prints_it_is_located_at_line_one(tmp_path, demo):
    one = _plan(tmp_path, lambda d: None, indent=None)
    result = kreach("list", str(one))
    assert result.stdout == demo
    result = kreach("can", "shop/web", "shop/api", str(one))
    assert f"({one}:1)" in result.stdout


def test_data_sources_and_other_providers_are_ignored(tmp_path, demo):
    def mutate(doc):
        resources = doc["planned_values"]["root_module"]["resources"]
        resources.append({"address": "aws_s3_bucket.b", "mode": "managed", "type": "aws_s3_bucket",
                          "name": "b", "provider_name": "registry.terraform.io/hashicorp/aws",
                          "schema_version": 0, "values": {"bucket": "b"}, "sensitive_values": {}})
        ns = copy.deepcopy(resources[0])
        ns.update(mode="data", address="data." + ns["address"])
        ns["values"]["metadata"][0]["name"] = "elsewhere"
        resources.append(ns)

    assert kreach("list", str(_plan(tmp_path, mutate))).stdout == demo


def test_attribute_values_of_any_type_never_raise(tmp_path):
    """Each modelled attribute replaced by values of every other JSON type: located messages
    (validation), never an exception."""
    from analyzer.analysis import analyze

    base = json.loads(STATE.read_text())
    spec = base["values"]["root_module"]["resources"]
    policy = next(r for r in spec if r["type"] == "kubernetes_network_policy_v1"
                  and r["values"]["spec"][0]["ingress"])
    rule = policy["values"]["spec"][0]["ingress"][0]
    targets = [(rule["from"][0], "pod_selector"), (rule["from"][0]["pod_selector"][0], "match_labels"),
               (rule, "ports"), (policy["values"]["spec"][0], "policy_types"),
               (policy["values"]["metadata"][0], "labels")]
    for holder, key in targets:
        for value in (None, 1, "x", [], {}, [None], [{}], {"a": None}, True, [1, "a"]):
            original = holder[key]
            holder[key] = value
            path = tmp_path / "state.json"
            path.write_text(json.dumps(base, indent=1))
            analyze([str(path)])  # must not raise
            holder[key] = original


def test_a_cached_second_run_cites_the_same_lines(tmp_path, monkeypatch):
    """Terraform documents are read afresh on every run: their field lines live in the locator,
    which a cached run would not have."""
    monkeypatch.delenv("KREACH_NO_CACHE", raising=False)
    monkeypatch.setenv("KREACH_CACHE_DIR", str(tmp_path / "cache"))
    tfstate = str(TF / "tfstate" / "terraform.tfstate")
    first, second = (kreach("can", "shop/web", "shop/api", tfstate).stdout for _ in range(2))
    assert f"({tfstate}:1509)" in first
    assert first == second
