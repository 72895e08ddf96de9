"""Every lint code has a fixture folder ``fixtures/lint/<CODE>-<name>/``: ``bad.yaml`` must give
exactly the findings in ``expected.txt`` (``kreach lint bad.yaml --select CODE``), ``good.yaml``
(the fix) must give none of that code. Set ``KREACH_UPDATE_GOLDEN=1`` to rewrite expected.txt."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli.app import app
from analyzer.lint import CODES

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "lint"
CASES = sorted(p for p in FIXTURES.iterdir() if p.is_dir() and p.name.startswith("KRL"))
runner = CliRunner()


def _lint(*args: str):
    cwd = os.getcwd()
    os.chdir(ROOT)  # findings name files relative to the repository, as CI prints them
    try:
        return runner.invoke(app, ["lint", *args])
    finally:
        os.chdir(cwd)


def test_every_code_has_a_fixture_folder_named_after_it():
    assert sorted(p.name.split("-", 1)[0] for p in CASES) == sorted(CODES)
    for p in CASES:
        code, name = p.name.split("-", 1)
        assert CODES[code].name == name


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_bad_gives_exactly_the_expected_findings(case: Path):
    code = case.name.split("-", 1)[0]
    rel = case.relative_to(ROOT)
    result = _lint(str(rel / "bad.yaml"), "--select", code, "--fail-on", "info")
    golden = case / "expected.txt"
    if os.environ.get("KREACH_UPDATE_GOLDEN"):
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()
    assert f"[{code}]" in result.stdout
    assert result.exit_code == 1


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_good_is_the_fix(case: Path):
    code = case.name.split("-", 1)[0]
    result = _lint(str(case.relative_to(ROOT) / "good.yaml"), "--fail-on", "info",
                   "--format", "json")
    assert f'"code": "{code}"' not in result.stdout
