"""``kreach diff``: what a change opens and closes, between two paths or two git revisions.

Each test states one promise of docs/diff.md; the git ones run in a throw-away repository
holding a copy of the demo shop.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import analyzer
from analyzer import Options, analyze
from analyzer.cli import app
from git_repo import git

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"
WIDER = ("    - {protocol: TCP, port: 8080}\n---\n# web calls api",
         "    - {protocol: TCP, port: 8080}\n    - {protocol: TCP, port: 8443}\n---\n# web calls api")


def kreach(*args: str):
    return CliRunner().invoke(app, list(args))


@pytest.fixture
def repo(tmp_path, monkeypatch) -> Path:
    """A git repository whose only commit holds the demo under manifests/; the cwd."""
    shutil.copytree(DEMO, tmp_path / "manifests")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "demo")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def widen_web_ingress(manifests: Path) -> None:
    """Let the internet reach shop/web on 8443 as well as 8080 (one rule's ports edited)."""
    policies = manifests / "policies-shop.yaml"
    text = policies.read_text()
    assert WIDER[0] in text
    policies.write_text(text.replace(WIDER[0], WIDER[1]))


# --- the library -------------------------------------------------------------------------------

def test_a_cluster_compared_with_itself_has_no_changes():
    a = analyze([str(DEMO)])
    d = analyzer.diff(a, a)
    assert d.changes == () and not d


def test_the_python_api_is_exported():
    assert "diff" in analyzer.__all__ and callable(analyzer.diff)


def test_two_in_memory_manifest_sets_can_be_compared():
    from analyzer.diff import diff_texts

    texts = sorted((str(p), p.read_text()) for p in DEMO.glob("*.yaml") if p.name != "kreach.yaml")
    wider = [(n, t.replace(*WIDER)) for n, t in texts]
    d = diff_texts(texts, wider, old_label="prior", new_label="planned")
    assert {(c.dst, c.change) for c in d.changes} == {("shop/web[Deployment]", "changed")}
    assert [c.src for c in d.changes] == ["0.0.0.0-255.255.255.255"]  # the ipBlock is 0.0.0.0/0
    assert {r.file for c in d.changes for r in c.rules_after} == {str(DEMO / "policies-shop.yaml")}


# --- two paths ---------------------------------------------------------------------------------

def test_a_widened_rule_is_a_changed_pair_with_the_rule_on_both_sides(tmp_path):
    new = tmp_path / "new"
    shutil.copytree(DEMO, new)
    widen_web_ingress(new)
    result = kreach("diff", str(DEMO), str(new), "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "kreach.diff/v1"
    v4 = [c for c in doc["changes"] if c["src"] == "0.0.0.0-255.255.255.255"]
    assert [(c["dst"], c["change"]) for c in v4] == [("shop/web[Deployment]", "changed")]
    change = v4[0]
    assert change["before"] == {"TCP": [[8080, 8080]]}
    assert change["after"] == {"TCP": [[8080, 8080], [8443, 8443]]}
    (before,), (after,) = change["rules_before"], change["rules_after"]
    assert before["policy"] == after["policy"] and before["rule"] == after["rule"]
    assert before["file"].startswith(str(DEMO)) and after["file"].startswith(str(new))
    assert set(doc["endpoints"]) == {c["src"] for c in doc["changes"]} | {c["dst"] for c in doc["changes"]}


def test_unchanged_inputs_print_only_the_summary():
    result = kreach("diff", str(DEMO), str(DEMO))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1].endswith("0 added, 0 removed, 0 changed; 0 new and 0 removed workloads")
    assert len(result.stdout.splitlines()) == 1


def test_a_new_workload_is_marked_as_netpol_analyzer_marks_it(tmp_path):
    new = tmp_path / "new"
    shutil.copytree(DEMO, new)
    (new / "extra.yaml").write_text(
        "apiVersion: v1\nkind: Pod\nmetadata: {name: probe, namespace: monitoring, labels: {app: probe}}\n"
        "spec: {containers: [{name: c, image: i}]}\n")
    result = kreach("diff", str(DEMO), str(new), "--format", "json")
    doc = json.loads(result.stdout)
    assert doc["new_endpoints"] == ["monitoring/probe[Pod]"]
    added = [c for c in doc["changes"] if "monitoring/probe[Pod]" in (c["src"], c["dst"])]
    assert added and all(c["change"] == "added" and c["new_endpoints"] == ["monitoring/probe[Pod]"]
                         for c in added)
    assert "new workload: monitoring/probe[Pod]" in kreach("diff", str(DEMO), str(new)).stdout


def test_fail_on_exits_1_only_for_that_kind_of_change(tmp_path):
    new = tmp_path / "new"
    shutil.copytree(DEMO, new)
    widen_web_ingress(new)
    assert kreach("diff", str(DEMO), str(new), "--fail-on", "changed").exit_code == 1
    assert kreach("diff", str(DEMO), str(new), "--fail-on", "any").exit_code == 1
    assert kreach("diff", str(DEMO), str(new), "--fail-on", "removed").exit_code == 0
    assert kreach("diff", str(DEMO), str(new)).exit_code == 0


def test_usage_errors_exit_2():
    assert kreach("diff", str(DEMO)).exit_code == 2
    assert kreach("diff", str(DEMO), str(DEMO), "--head", "HEAD").exit_code == 2
    assert kreach("diff", str(DEMO), "/no/such/dir").exit_code == 2


# --- git revisions -------------------------------------------------------------------------------

def test_base_compares_a_revision_with_the_working_tree(repo):
    widen_web_ingress(repo / "manifests")
    result = kreach("diff", "--base", "HEAD", "manifests", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    (change,) = [c for c in doc["changes"] if c["src"] == "0.0.0.0-255.255.255.255"]
    assert change["rules_before"][0]["file"] == "HEAD:manifests/policies-shop.yaml"
    assert change["rules_after"][0]["file"] == "manifests/policies-shop.yaml"
    assert doc["old"] == "HEAD" and doc["new"] == "working tree"


def test_head_compares_two_revisions_without_touching_the_working_tree(repo):
    widen_web_ingress(repo / "manifests")
    git(repo, "commit", "-q", "-am", "wider")
    git(repo, "checkout", "-q", "HEAD~1", "--", ".")  # the working tree is back at the old state
    result = kreach("diff", "--base", "HEAD~1", "--head", "main", "--format", "json")
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    assert {c["change"] for c in doc["changes"]} == {"changed"}
    assert doc["changes"][0]["rules_after"][0]["file"] == "main:manifests/policies-shop.yaml"
    assert json.loads(kreach("diff", "--base", "HEAD~1", "--format", "json").stdout)["changes"] == []


def test_a_bad_manifest_at_a_revision_is_located_as_rev_path_line(repo):
    (repo / "manifests" / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: [\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "broken")
    (repo / "manifests" / "broken.yaml").unlink()
    result = kreach("diff", "--base", "HEAD", "manifests")
    assert result.exit_code == 0
    assert "HEAD:manifests/broken.yaml:" in result.stderr
    assert kreach("diff", "--base", "HEAD", "manifests", "--strict").exit_code == 2


@pytest.mark.parametrize("args, message", [
    (["--base", "no-such-branch"], "revision 'no-such-branch' does not exist"),
    (["--base", "HEAD", "manifests/new-dir"], "does not exist at revision HEAD"),
])
def test_a_revision_that_cannot_be_read_is_a_clear_error(repo, args, message):
    (repo / "manifests" / "new-dir").mkdir()
    (repo / "manifests" / "new-dir" / "x.yaml").write_text((DEMO / "shop.yaml").read_text())
    result = kreach("diff", *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_outside_a_git_repository_a_revision_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = kreach("diff", "--base", "HEAD")
    assert result.exit_code == 2
    assert "not inside a git repository" in result.stderr


def test_a_file_unchanged_between_revisions_is_parsed_once(repo):
    from analyzer.inputs.loading import ParseCache

    widen_web_ingress(repo / "manifests")
    cache = ParseCache()
    analyze(["manifests"], Options(), rev="HEAD", shared=cache)
    analyze(["manifests"], Options(), shared=cache)
    files = len([p for p in (repo / "manifests").glob("*.yaml") if p.name != "kreach.yaml"])
    assert cache.hits == files - 1  # every file but the edited one


# --- formats ----------------------------------------------------------------------------------

@pytest.fixture
def opened(tmp_path) -> Path:
    """The demo with web allowed to reach the database directly (egress and ingress edited)."""
    new = tmp_path / "new"
    shutil.copytree(DEMO, new)
    policies = new / "policies-shop.yaml"
    text = policies.read_text()
    egress = "    - podSelector: {matchLabels: {app: api}}\n    ports:\n    - port: http\n---"
    ingress = "  - from:\n    - podSelector: {matchLabels: {app: api}}\n    ports:\n    - port: postgres"
    assert egress in text and ingress in text
    text = text.replace(egress, egress[:-3] + "  - to:\n    - podSelector: {matchLabels: {app: db}}\n---")
    text = text.replace(ingress, ingress.replace("{app: api}}\n", "{app: api}}\n    - podSelector: {matchLabels: {app: web}}\n"))
    policies.write_text(text)
    return new


def test_md_is_a_pull_request_comment_with_opened_and_closed_tables(opened):
    result = kreach("diff", str(DEMO), str(opened), "--format", "md")
    lines = result.stdout.splitlines()
    assert lines[0].startswith("**kreach**: this change opens 1 path, closes 0")
    assert "#### Opened" in lines and "#### Closed" not in lines
    (row,) = [ln for ln in lines if ln.startswith("| shop/web")]
    assert "| shop/db[StatefulSet] | TCP 5432 | nothing |" in row and "web-to-api egress rule #1" in row


def test_md_puts_internet_facing_changes_first(opened):
    widen_web_ingress(opened)
    rows = [ln for ln in kreach("diff", str(DEMO), str(opened), "-f", "md").stdout.splitlines()
            if ln.startswith("| ") and not ln.startswith("| from")]
    assert rows[0].startswith("| 0.0.0.0-255.255.255.255 | shop/web") and rows[1].startswith("| shop/web")


def test_csv_has_one_row_per_change():
    import csv as _csv
    import io

    rows = list(_csv.reader(io.StringIO(kreach("diff", str(DEMO), str(DEMO), "-f", "csv").stdout)))
    assert rows == [["src", "dst", "change", "before", "after", "rules_before", "rules_after"]]


def test_github_annotates_the_policy_lines_that_opened_something(opened):
    out = kreach("diff", str(DEMO), str(opened), "--format", "github").stdout.splitlines()
    warnings = [ln for ln in out if ln.startswith("::warning")]
    assert len(warnings) == 2
    assert all(f"file={opened}/policies-shop.yaml,line=" in w and "shop/web[Deployment] => "
               "shop/db[StatefulSet] : TCP 5432" in w for w in warnings)
    assert out[-1].endswith("1 added, 0 removed, 0 changed; 0 new and 0 removed workloads")


# --- --rev on the other commands, check --base -------------------------------------------------

def test_every_command_that_reads_paths_takes_a_revision(repo):
    (repo / "manifests" / "policies-shop.yaml").unlink()  # the working tree has no shop policies
    assert "shop/db" in kreach("list", "manifests", "--rev", "HEAD").stdout
    assert kreach("can", "shop/web", "shop/db", "manifests", "--rev", "HEAD").exit_code == 1
    assert kreach("can", "shop/web", "shop/db", "manifests").exit_code == 0
    for args in (["who-can-reach", "shop/db"], ["reachable-from", "shop/web"], ["exposure"],
                 ["isolated", "shop"]):
        result = kreach(*args, "manifests", "--rev", "HEAD")
        assert result.exit_code in (0, 1), (args, result.stdout, result.stderr)
    result = kreach("list", "manifests", "--rev", "nope")
    assert result.exit_code == 2 and "revision 'nope' does not exist" in result.stderr


def test_check_base_reports_what_the_change_breaks_apart_from_what_failed_before(repo, opened):
    (repo / "kreach.yaml").write_text(
        "manifests: [manifests]\nassertions:\n"
        "  - name: web never reaches the database\n    from: shop/web\n    to: shop/db\n    expect: deny\n"
        "  - name: the ledger is closed to the internet\n    from: internet\n    to: payments/ledger\n"
        "    expect: deny\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "assertions")
    shutil.copy(opened / "policies-shop.yaml", repo / "manifests" / "policies-shop.yaml")
    result = kreach("check", "--base", "HEAD")
    assert result.exit_code == 1
    assert "against HEAD: 1 broken by this change, 1 already failing, 0 fixed" in result.stdout
    assert "broken by this change: web never reaches the database" in result.stdout
    doc = json.loads(kreach("check", "--base", "HEAD", "--format", "json").stdout)
    assert doc["base"] == {"rev": "HEAD", "broken": ["web never reaches the database"],
                           "already_failing": ["the ledger is closed to the internet"], "fixed": []}
    git(repo, "checkout", "-q", "--", ".")
    assert kreach("check", "--base", "HEAD").exit_code == 0  # only the old failure: not this change's


def test_json_follows_the_schema_in_the_docs():
    import re

    import jsonschema

    text = (ROOT / "docs" / "output.md").read_text()
    schema = json.loads(re.search(r"<!-- diff-schema -->\s*```json\n(.*?)```", text, re.S).group(1))
    doc = json.loads(kreach("diff", str(DEMO), str(ROOT / "fixtures" / "demo-pr"), "-f", "json").stdout)
    jsonschema.validate(doc, schema)
    assert {c["change"] for c in doc["changes"]} == {"added", "removed", "changed"}


def test_the_pull_request_fixture_is_the_demo_but_for_its_two_policy_files():
    """fixtures/demo-pr (docs/diff.md) must follow fixtures/demo: copy a changed demo file over."""
    pr = ROOT / "fixtures" / "demo-pr"
    demo = {p.name for p in DEMO.glob("*.yaml") if p.name != "kreach.yaml"}
    assert {p.name for p in pr.glob("*.yaml")} == demo
    changed = {n for n in demo if (DEMO / n).read_text() != (pr / n).read_text()}
    assert changed == {"policies-shop.yaml", "policies-payments.yaml"}
