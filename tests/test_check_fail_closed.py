"""``kreach check`` fails closed (issue 8 item 5; issue 17 item 6).

An auditor or a CI gate must never get a confident "pass" about a cluster kreach only partly
sees: when a policy of the manifests was skipped as invalid, or is of a kind that changes
reachability but is not modelled (Cilium, Calico, ...), the run exits 2 and names what was left
out, unless ``--allow-partial`` (or ``allow-partial = true`` in ``[tool.kreach]``). An assertion
file that cannot be read as written is exit 2 with a located message, never a pass.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.assertions import CheckOptions, check_file
from analyzer.cli import app
from analyzer.testing import load_cluster

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"
BROKEN = ROOT / "tests" / "data" / "hardening-assertions"
runner = CliRunner()

BROKEN_POLICY = """apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: broken, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - from:
    - ipBlock: {cidr: 10.0.0.0/33}
"""
CILIUM = """apiVersion: cilium.io/v2
kind: CiliumNetworkPolicy
metadata: {name: l7, namespace: shop}
spec: {endpointSelector: {}}
"""
TYPO = """apiVersion: networking.k8s.io/v1
kind: Networkpolicy
metadata: {name: typo, namespace: shop}
spec: {podSelector: {}}
"""


def demo_with(tmp_path: Path, extra: str) -> Path:
    shutil.copytree(DEMO, tmp_path / "demo")
    (tmp_path / "demo" / "extra.yaml").write_text(extra)
    return tmp_path / "demo" / "kreach.yaml"


@pytest.mark.parametrize("extra, code, line", [(BROKEN_POLICY, "KR110", 8), (CILIUM, "KR015", 1),
                                               (TYPO, "KR016", 1)])
def test_a_check_exits_2_when_a_policy_was_left_out_and_0_with_allow_partial(tmp_path, extra, code, line):
    file = demo_with(tmp_path, extra)
    closed = runner.invoke(app, ["check", str(file)])
    assert closed.exit_code == 2
    assert (f"{file}:5: error[KR320]: the manifests are only partly analysed: 1 policy object "
            f"left out: {file.parent / 'extra.yaml'}:{line} ({code}); answers may be wrong for "
            "the cluster (--allow-partial accepts this)") in closed.stderr
    opened = runner.invoke(app, ["check", str(file), "--allow-partial"])
    assert opened.exit_code == 0
    assert "warning[KR321]" in opened.stderr


def test_allow_partial_from_pyproject_and_the_flag_that_overrides_it(tmp_path, monkeypatch):
    file = demo_with(tmp_path, CILIUM)
    (tmp_path / "pyproject.toml").write_text("[tool.kreach]\nallow-partial = true\n")
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["check", str(file)]).exit_code == 0
    assert runner.invoke(app, ["check", str(file), "--no-allow-partial"]).exit_code == 2


def test_strict_fails_on_any_input_error_and_is_read_from_pyproject(tmp_path, monkeypatch):
    file = demo_with(tmp_path, "apiVersion: v1\nkind: Namespace\nmetadata: {name: x, labels: {app: -bad-}}\n")
    monkeypatch.chdir(tmp_path)
    assert runner.invoke(app, ["check", str(file)]).exit_code == 0
    assert runner.invoke(app, ["check", str(file), "--strict"]).exit_code == 2
    (tmp_path / "pyproject.toml").write_text("[tool.kreach]\nstrict = true\n")
    assert runner.invoke(app, ["check", str(file)]).exit_code == 2
    assert runner.invoke(app, ["check", str(file), "--no-strict"]).exit_code == 0


def test_the_json_result_lists_what_was_left_out(tmp_path):
    import json

    file = demo_with(tmp_path, BROKEN_POLICY + "---\n" + CILIUM)
    out = runner.invoke(app, ["check", str(file), "--format", "json"])
    assert out.exit_code == 2
    [left] = [d for d in json.loads(out.stdout)["diagnostics"] if d["code"] == "KR320"]
    assert left["file"] == str(file) and left["line"] == 5
    assert "2 policy objects left out" in left["message"]


def test_the_library_reports_it_too():
    report = check_file(str(DEMO / "kreach.yaml"))
    assert not [d for d in report.diagnostics if d.code in ("KR320", "KR321")]


def test_the_testing_helpers_refuse_a_partly_analysed_cluster(tmp_path):
    demo_with(tmp_path, CILIUM)
    with pytest.raises(ValueError, match=r"only partly analysed.*1 policy object left out:.*KR015"):
        load_cluster(str(tmp_path / "demo"))
    assert load_cluster(str(tmp_path / "demo"), options=CheckOptions(allow_partial=True))


pytest_plugins = ["pytester"]


def test_the_pytest_plugin_fails_the_items_naming_what_was_skipped(pytester, request):
    args = [] if request.config.pluginmanager.has_plugin("kreach") else ["-p", "analyzer.testing.plugin"]
    shutil.copytree(DEMO, pytester.path / "demo")
    (pytester.path / "demo" / "extra.yaml").write_text(CILIUM)
    (pytester.path / "kreach.yaml").write_text(
        "manifests: [demo]\nassertions:\n  - name: web is open\n    from: internet\n"
        "    to: shop/web\n    port: 8080\n    expect: allow\n")
    result = pytester.runpytest(*args, "kreach.yaml")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*only partly analysed*1 policy object left out*KR015*"])
    (pytester.path / "pyproject.toml").write_text("[tool.kreach]\nallow-partial = true\n")
    pytester.runpytest(*args, "kreach.yaml").assert_outcomes(passed=1)


# --- assertion files that cannot be read as written (issue 17 item 6) -------------------------

@pytest.mark.parametrize("name, expected", [
    ("nested-duplicate-key.yaml", ":6: error[KR316]: {file}: duplicate key 'a', first written at line 6"),
    ("unknown-tag.yaml", ":6: error[KR302]: YAML syntax error in the assertion file: could not "
                         "determine a constructor for the tag '!custom'"),
    ("missing-manifests.yaml", ":1: error[KR317]: {file}: manifests entry '/nonexistent': path "
                               "does not exist: /nonexistent"),
    ("empty-assertions.yaml", ":2: error[KR312]: the assertion file holds no assertions"),
])
def test_an_assertion_file_that_cannot_be_read_as_written_is_exit_2_with_a_located_message(name, expected):
    file = str(BROKEN / name)
    out = runner.invoke(app, ["check", file])
    assert out.exit_code == 2
    assert file + expected.format(file=file) in out.stderr
    assert "internal error" not in out.stderr
