"""docs/lint.md is what kreach does: every example block prints what kreach prints, every code
has its section, and the hook it documents exists."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from typer.testing import CliRunner

from analyzer.cli.app import app
from analyzer.lint import CODES

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "lint.md").read_text()
runner = CliRunner()


def test_the_examples_print_what_kreach_prints(monkeypatch):
    monkeypatch.chdir(ROOT)
    examples = re.findall(r"```\n\$ kreach (lint|compare) (.+?)\n(.*?)```", DOC, re.S)
    assert len(examples) >= len(CODES)
    for command, args, printed in examples:
        result = runner.invoke(app, [command, *args.split()])
        assert result.stdout == printed, f"docs/lint.md is stale for `kreach {command} {args}`"


def test_every_code_has_a_section_with_what_why_example_and_fix():
    for code, c in CODES.items():
        section = DOC.split(f"### {code} {c.name}\n", 1)[1].split("\n### ", 1)[0]
        for part in ("**What.**", "**Why.**", "**Example**", "**Fix.**"):
            assert part in section, f"{code}: {part} missing"


def test_the_pre_commit_hook_is_declared():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    (hook,) = [h for h in hooks if h["id"] == "kreach-lint"]
    assert hook["entry"] == "kreach lint"
