"""``kreach diff`` on Terraform: one plan's prior state against its planned state (``--plan``,
or the plan given as both sides), and .tf configurations read at git revisions."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from analyzer.cli import app
from git_repo import git

ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "fixtures" / "terraform" / "fix-debug" / "plan.json"
CREATE = ROOT / "fixtures" / "terraform" / "plan" / "plan.json"


def kreach(*args: str):
    return CliRunner().invoke(app, list(args))


def test_a_plan_shows_exactly_the_change_it_makes():
    result = kreach("diff", "--plan", str(FIX), "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    changes = {(c["src"], c["dst"], c["change"]) for c in doc["changes"]}
    # the plan deletes payments/allow-all-debug: its holes close, prometheus keeps its scrape port
    holes = {(src, f"payments/{dst}[Deployment]", "removed")
             for src in ("0.0.0.0-255.255.255.255", "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                         "kube-system/coredns[Deployment]") for dst in ("gateway", "ledger")}
    scrape = {("monitoring/prometheus[Deployment]", f"payments/{dst}[Deployment]", "changed")
              for dst in ("gateway", "ledger")}
    assert changes == holes | scrape


def test_the_plan_given_as_both_sides_is_the_same_as_plan():
    assert kreach("diff", str(FIX), str(FIX)).stdout == kreach("diff", "--plan", str(FIX)).stdout


def test_a_plan_that_creates_everything_adds_everything_and_is_not_bad_input():
    result = kreach("diff", "--plan", str(CREATE), "--fail-on", "added")
    assert result.exit_code == 1  # additions found, nothing unreadable
    assert "KR005" not in result.stderr
    assert "0 removed" in result.stdout


def test_plan_takes_no_other_sides():
    assert kreach("diff", "--plan", str(FIX), "a", "b").exit_code == 2


def test_tf_files_are_read_at_a_git_revision(tmp_path):
    repo = tmp_path / "repo"
    (repo / "net").mkdir(parents=True)
    main = repo / "main.tf"
    main.write_text('module "net" {\n  source = "./net"\n  ns = "shop"\n}\n'
                    'resource "kubernetes_namespace_v1" "shop" {\n  metadata { name = "shop" }\n}\n')
    (repo / "net" / "main.tf").write_text(
        'variable "ns" {}\nresource "kubernetes_network_policy_v1" "p" {\n'
        '  metadata {\n    name = "p"\n    namespace = var.ns\n  }\n'
        '  spec {\n    pod_selector {}\n    policy_types = ["Ingress"]\n  }\n}\n'
        'resource "kubernetes_pod_v1" "web" {\n  metadata {\n    name = "web"\n    namespace = var.ns\n  }\n'
        '  spec {\n    container {\n      name = "web"\n      image = "nginx"\n    }\n  }\n}\n')
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "isolated")
    (repo / "net" / "main.tf").write_text((repo / "net" / "main.tf").read_text().replace(
        'policy_types = ["Ingress"]', 'policy_types = ["Ingress"]\n    ingress {}'))
    import os

    cwd = os.getcwd()
    os.chdir(repo)
    try:
        result = kreach("diff", "--base", "HEAD", ".")
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.stderr
    # the working tree opens ingress to the module's pod; the old side was read at HEAD
    assert "+ 0.0.0.0-255.255.255.255 => shop/web[Pod] : All Connections" in result.stdout
    assert "allowed by NetworkPolicy shop/p ingress rule #0 (net/main.tf:10)" in result.stdout
    assert "KR71" not in result.stderr
