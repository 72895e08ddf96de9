"""``kreach check``: exit codes, output files, finding the assertion file, and the docs/ci.md
example run as a new user would, in a fresh directory with the demo manifests."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from analyzer.cli import app

ROOT = Path(__file__).resolve().parent.parent
runner = CliRunner()


def check(*args: str):
    return runner.invoke(app, ["check", *args])


def test_exit_codes():
    assert check("fixtures/demo/kreach.yaml").exit_code == 0
    failed = check("fixtures/failing/kreach.yaml")
    assert failed.exit_code == 1 and "FAIL    internet cannot reach the ledger" in failed.stdout
    assert check("fixtures/failing/kreach.yaml", "--exit-zero").exit_code == 0
    assert check("no/such/kreach.yaml").exit_code == 2


def test_bad_input_exits_2_with_located_messages(tmp_path):
    f = tmp_path / "kreach.yaml"
    f.write_text(f"manifests: [{ROOT / 'fixtures/demo'}]\nassertions:\n  - name: x\n"
                 "    from: shop/web\n    to: shop/dbb\n    expect: deny\n")
    result = check(str(f))
    assert result.exit_code == 2
    assert f"{f}:5: error[KR307]: assertion 'x': to 'shop/dbb' matches nothing in the manifests" \
        in result.stdout
    f.write_text(f"manifests: [{ROOT / 'fixtures/demo'}]\nassertions:\n  - name: x\n"
                 "    from: shop/web\n    to: shop/db\n    expect: deny\n  - name: y\n    tto: a\n")
    result = check(str(f))
    assert result.exit_code == 2  # the good assertion ran, the bad one is not silently skipped
    assert "PASS    x" in result.stdout and "error[KR303]" in result.output


def test_output_file_and_formats(tmp_path):
    out = tmp_path / "r.xml"
    assert check("fixtures/failing/kreach.yaml", "--format", "junit", "-o", str(out)).exit_code == 1
    assert out.read_text().startswith('<?xml version="1.0" encoding="UTF-8"?>')
    gh = check("fixtures/failing/kreach.yaml", "-f", "github")
    assert gh.stdout.startswith("::error file=fixtures/failing/kreach.yaml,line=12,")


def _docs_example() -> str:
    text = (ROOT / "docs/ci.md").read_text()
    m = re.search(r"<!-- example: kreach.yaml -->\n```yaml\n(.*?)```", text, re.S)
    return m.group(1)


def test_the_docs_example_passes_in_a_fresh_directory(tmp_path):
    shutil.copytree(ROOT / "fixtures/demo", tmp_path / "manifests")
    (tmp_path / "kreach.yaml").write_text(_docs_example())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "analyzer", "check"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.endswith("assertions: 6 passed\n")


def test_pyproject_names_the_file(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "fixtures/demo", tmp_path / "manifests")
    (tmp_path / "ci").mkdir()
    (tmp_path / "ci" / "net.yaml").write_text(
        "manifests: [../manifests]\nassertions:\n  - name: db closed\n    from: internet\n"
        "    to: shop/db\n    expect: deny\n")
    (tmp_path / "pyproject.toml").write_text('[tool.kreach]\nassertions = "ci/net.yaml"\n')
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")
    result = check()
    assert result.exit_code == 0, result.output
    assert "PASS    db closed" in result.stdout
