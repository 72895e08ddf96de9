"""[tool.kreach] in the nearest pyproject.toml sets defaults; command-line flags win."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.inputs.config import find_settings

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "spec" / "udp-sctp"


def project(tmp_path: Path, table: str) -> Path:
    (tmp_path / ".git").mkdir()  # the search stops at the repository root
    (tmp_path / "pyproject.toml").write_text(f"[project]\nname = 'x'\n\n[tool.kreach]\n{table}\n")
    shutil.copytree(DEMO, tmp_path / "manifests")
    sub = tmp_path / "deep" / "er"
    sub.mkdir(parents=True)
    return sub


def run(cwd: Path, monkeypatch, *args: str):
    monkeypatch.chdir(cwd)
    return CliRunner().invoke(app, list(args))


def test_settings_are_found_walking_up_from_the_working_directory(tmp_path):
    start = project(tmp_path, 'format = "json"\nlevel = "pod"')
    settings = find_settings(str(start))
    assert settings.values == {"format": "json", "level": "pod"}
    assert settings.source == str(tmp_path / "pyproject.toml")


def test_the_search_stops_at_the_repository_root(tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.kreach]\nformat = 'json'\n")
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    assert find_settings(str(repo)).values == {}


def test_list_takes_its_defaults_from_the_table(tmp_path, monkeypatch):
    cwd = project(tmp_path, 'format = "json"\nlevel = "pod"')
    result = run(cwd, monkeypatch, "list", str(tmp_path / "manifests"))
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["level"] == "pod"


def test_flags_override_the_table(tmp_path, monkeypatch):
    cwd = project(tmp_path, 'format = "json"\nlevel = "pod"')
    result = run(cwd, monkeypatch, "list", str(tmp_path / "manifests"), "--format", "txt",
                 "--level", "workload")
    assert result.exit_code == 0
    assert "t/b[Pod] => t/a[Pod] : SCTP 9000-9001,UDP 53" in result.stdout


def test_a_bad_value_is_bad_input_with_the_file_named(tmp_path, monkeypatch):
    cwd = project(tmp_path, 'format = "yaml"')
    result = run(cwd, monkeypatch, "list", str(tmp_path / "manifests"))
    assert result.exit_code == 2
    assert "pyproject.toml" in result.stderr and "format must be" in result.stderr


def test_an_unknown_key_is_reported(tmp_path, monkeypatch):
    cwd = project(tmp_path, 'levle = "pod"')
    result = run(cwd, monkeypatch, "list", str(tmp_path / "manifests"))
    assert result.exit_code == 2
    assert "unknown key 'levle'" in result.stderr


def test_strict_from_the_table_turns_input_errors_into_exit_2(tmp_path, monkeypatch):
    cwd = project(tmp_path, "strict = true")
    (tmp_path / "manifests" / "bad.yaml").write_text("kind: Pod\napiVersion: v1\nmetadata: [\n")
    assert run(cwd, monkeypatch, "list", str(tmp_path / "manifests")).exit_code == 2
    assert run(cwd, monkeypatch, "list", str(tmp_path / "manifests"), "--no-strict").exit_code == 0
