"""``kreach lint`` from the outside: suppressions, settings, select/ignore, exit codes, formats,
and input errors that a finding never hides."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli.app import app

runner = CliRunner()

DEBUG_HOLE = """\
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: shop, labels: {app: api}}
spec: {containers: [{name: main, image: example}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: shop}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
COMMENT_ABOVEapiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-all-debug, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - {}RULE_COMMENT
"""


def _write(tmp_path: Path, above: str = "", rule: str = "", name: str = "p.yaml") -> Path:
    text = DEBUG_HOLE.replace("COMMENT_ABOVE", above).replace("RULE_COMMENT", rule)
    path = tmp_path / name
    path.write_text(text)
    return path


def _lint(tmp_path: Path, *args: str):
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        return runner.invoke(app, ["lint", *args])
    finally:
        os.chdir(cwd)


def test_the_debug_hole_is_an_error_and_fails(tmp_path):
    _write(tmp_path)
    r = _lint(tmp_path, "p.yaml", "--select", "KRL303")
    assert r.exit_code == 1
    assert r.stdout.startswith("p.yaml:17: error[KRL303]: NetworkPolicy shop/allow-all-debug "
                               "ingress rule #0 allows every pod")


def test_a_comment_above_the_object_suppresses_it_with_its_reason(tmp_path):
    _write(tmp_path, above="# kreach: ignore[KRL303] debugging INC-2291 until Friday\n")
    r = _lint(tmp_path, "p.yaml", "--select", "KRL303", "--format", "json")
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data["findings"] == []
    assert [(s["code"], s["reason"]) for s in data["suppressed"]] == [
        ("KRL303", "debugging INC-2291 until Friday")]


def test_a_suppression_heading_a_block_of_comments_covers_the_line_below_the_block(tmp_path):
    _write(tmp_path, above="# kreach: ignore[KRL303] debugging INC-2291\n#   until Friday\n#\n")
    r = _lint(tmp_path, "p.yaml", "--select", "KRL303")
    assert r.stdout == "no findings, 1 suppressed\n"


def test_a_blank_line_ends_the_comment_block_above_a_line(tmp_path):
    _write(tmp_path, above="# kreach: ignore[KRL303] debugging INC-2291\n\n")
    r = _lint(tmp_path, "p.yaml", "--select", "KRL303")
    assert r.exit_code == 1 and "[KRL303]" in r.stdout
    assert "info[KR504]: suppression comment for KRL303 matched no finding" in r.stderr


def test_a_comment_on_the_rule_line_suppresses_it(tmp_path):
    _write(tmp_path, rule="  # kreach: ignore[KRL3] allowed during the incident")
    r = _lint(tmp_path, "p.yaml", "--select", "KRL303")
    assert r.exit_code == 0
    assert r.stdout == "no findings, 1 suppressed\n"


def test_a_suppression_for_another_code_suppresses_nothing(tmp_path):
    _write(tmp_path, above="# kreach: ignore[KRL101] not this one\n")
    r = _lint(tmp_path, "p.yaml", "--select", "KRL303,KRL101")
    assert r.exit_code == 1
    assert "[KRL303]" in r.stdout


def test_an_unknown_code_in_a_suppression_is_reported_where_it_is(tmp_path):
    _write(tmp_path, above="# kreach: ignore[KRL999] typo\n")
    r = _lint(tmp_path, "p.yaml", "--select", "KRL303")
    assert "p.yaml:11: warning[KR503]: suppression comment names 'KRL999'" in r.stderr
    assert "[KRL303]" in r.stdout


def test_an_unused_suppression_is_noted(tmp_path):
    _write(tmp_path, above="# kreach: ignore[KRL204] nothing to hide here\n")
    r = _lint(tmp_path, "p.yaml", "--select", "KRL2")
    assert "p.yaml:11: info[KR504]: suppression comment for KRL204 matched no finding" in r.stderr


def test_select_and_ignore_take_codes_and_prefixes(tmp_path):
    _write(tmp_path)
    everything = _lint(tmp_path, "p.yaml", "--format", "json")
    codes = {f["code"] for f in json.loads(everything.stdout)["findings"]}
    assert {"KRL303", "KRL505"} <= codes
    r = _lint(tmp_path, "p.yaml", "--ignore", "KRL5", "--ignore", "KRL1", "--format", "json")
    assert {f["code"] for f in json.loads(r.stdout)["findings"]} == {
        c for c in codes if not c.startswith(("KRL5", "KRL1"))}


def test_an_unknown_code_on_the_command_line_is_bad_input(tmp_path):
    _write(tmp_path)
    r = _lint(tmp_path, "p.yaml", "--select", "KRL9")
    assert r.exit_code == 2
    assert "--select: 'KRL9' is no lint code or prefix of one" in r.stderr


def test_pyproject_settings_apply_and_flags_override_them(tmp_path):
    _write(tmp_path)
    (tmp_path / "pyproject.toml").write_text(textwrap.dedent("""\
        [tool.kreach.lint]
        select = ["KRL303", "KRL505"]
        fail-on = "error"
        severity = { KRL303 = "warning" }
    """))
    r = _lint(tmp_path, "p.yaml")
    assert "warning[KRL303]" in r.stdout and "[KRL505]" in r.stdout
    assert r.exit_code == 0  # KRL303 downgraded to a warning, and only errors fail
    assert _lint(tmp_path, "p.yaml", "--fail-on", "warning").exit_code == 1
    assert "[KRL505]" not in _lint(tmp_path, "p.yaml", "--select", "KRL303").stdout


def test_broken_settings_are_bad_input(tmp_path):
    _write(tmp_path)
    (tmp_path / "pyproject.toml").write_text('[tool.kreach.lint]\nfail-on = "sometimes"\n')
    r = _lint(tmp_path, "p.yaml")
    assert r.exit_code == 2
    assert "[tool.kreach.lint] fail-on must be one of error, warning, info" in r.stderr


def test_exit_zero(tmp_path):
    _write(tmp_path)
    assert _lint(tmp_path, "p.yaml", "--exit-zero").exit_code == 0


def test_a_finding_never_hides_an_input_error(tmp_path):
    _write(tmp_path)
    (tmp_path / "broken.yaml").write_text("apiVersion: v1\nkind: Pod\nmetadata: {name: [\n")
    r = _lint(tmp_path, ".", "--select", "KRL303")
    assert "broken.yaml:4: error[KR001]: YAML syntax error" in r.stderr
    assert "[KRL303]" in r.stdout
    assert r.exit_code == 1
    assert _lint(tmp_path, ".", "--select", "KRL303", "--strict").exit_code == 2
    data = json.loads(_lint(tmp_path, ".", "--format", "json").stdout)
    assert [d["code"] for d in data["diagnostics"]] == ["KR001"]


def test_nothing_usable_is_bad_input(tmp_path):
    (tmp_path / "empty.yaml").write_text("# nothing\n")
    assert _lint(tmp_path, "empty.yaml").exit_code == 2


@pytest.mark.parametrize("fmt", ["github", "sarif"])
def test_ci_formats_locate_each_finding(tmp_path, fmt):
    _write(tmp_path)
    r = _lint(tmp_path, "p.yaml", "--select", "KRL303", "--format", fmt)
    if fmt == "github":
        assert r.stdout.splitlines()[0].startswith(
            "::error file=p.yaml,line=17,title=kreach lint KRL303::KRL303: NetworkPolicy")
    else:
        run = json.loads(r.stdout)["runs"][0]
        (res,) = run["results"]
        assert res["ruleId"] == "KRL303" and res["level"] == "error"
        assert res["locations"][0]["physicalLocation"]["region"] == {"startLine": 17}
        assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} >= {"KRL101", "KRL505"}
