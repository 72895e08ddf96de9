"""Both sides of a diff analysed side by side (analyzer.diff.pair): NEW in a forked process,
OLD here, with the same answer as one after the other, and NEW analysed here when the forked
process cannot give its side back."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from analyzer import Options
from analyzer.diff import diff, pair
from analyzer.diff.compute import Side
from analyzer.writers.diff_formats import render_diff
from git_repo import git

ROOT = Path(__file__).resolve().parent.parent
DEMO, DEMO_PR = ROOT / "fixtures" / "demo", ROOT / "fixtures" / "demo-pr"


def _rendered(old, new, fmt: str = "json") -> str:
    return render_diff(diff(old, new, old_label="old", new_label="new"), fmt)


@pytest.mark.parametrize("level", ["workload", "pod"])
def test_new_analysed_in_a_forked_process_gives_the_same_diff_as_one_after_the_other(level):
    options = Options(level=level, cache=False)
    old, new = pair.analyze_pair([str(DEMO)], [str(DEMO_PR)], options, parallel=True)
    assert isinstance(new, Side) and new.locator is not None  # it came from the other process
    s_old, s_new = pair.analyze_pair([str(DEMO)], [str(DEMO_PR)], options, parallel=False)
    assert not isinstance(s_new, Side)
    for fmt in ("json", "txt", "md", "github"):
        assert _rendered(old, new, fmt) == _rendered(s_old, s_new, fmt)
    assert new.diagnostics == s_new.diagnostics and new.objects == s_new.objects
    assert json.loads(_rendered(old, new))["changes"]  # the demo PR does change something


def test_a_diagnostic_of_new_comes_back_with_its_file_and_line(tmp_path):
    new_dir = tmp_path / "new"
    shutil.copytree(DEMO_PR, new_dir)
    (new_dir / "broken.yaml").write_text("apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n"
                                         "spec:\n  ports:\n  - port: 70000\n")
    old, new = pair.analyze_pair([str(DEMO)], [str(new_dir)], Options(cache=False), parallel=True)
    assert isinstance(new, Side) and new.has_errors and not old.has_errors
    [bad] = [d for d in new.diagnostics if d.source and d.source.file.endswith("broken.yaml")]
    assert bad.source.line == 7


def test_a_forked_process_that_fails_means_new_is_analysed_here(monkeypatch):
    def broken(value, fh):
        raise RuntimeError("the other process could not write its side")

    monkeypatch.setattr(pair, "dump", broken)  # the forked copy inherits it
    old, new = pair.analyze_pair([str(DEMO)], [str(DEMO_PR)], Options(cache=False), parallel=True)
    assert not isinstance(new, Side)
    s_old, s_new = pair.analyze_pair([str(DEMO)], [str(DEMO_PR)], Options(cache=False),
                                     parallel=False)
    assert _rendered(old, new) == _rendered(s_old, s_new)


def test_an_error_analysing_old_stops_the_forked_process(monkeypatch):
    stopped = []
    real_stop = pair.Copy.stop
    monkeypatch.setattr(pair.Copy, "stop", lambda self: stopped.append(self.pid) or real_stop(self))
    real = pair.analyze_loaded
    calls = []

    def failing_in_this_process(loaded, options, cache=None):
        calls.append(1)
        raise ValueError("unsupported")

    monkeypatch.setattr(pair, "analyze_loaded", failing_in_this_process)
    with pytest.raises(ValueError):
        pair.analyze_pair([str(DEMO)], [str(DEMO_PR)], Options(cache=False), parallel=True)
    assert stopped and calls
    monkeypatch.setattr(pair, "analyze_loaded", real)


def test_small_inputs_or_one_process_are_analysed_here():
    _, new = pair.analyze_pair([str(DEMO)], [str(DEMO_PR)], Options(cache=False, jobs=None))
    assert not isinstance(new, Side)  # the demo is far below MIN_OBJECTS
    assert not pair._second_process(1)


def test_two_git_revisions_are_analysed_side_by_side(tmp_path, monkeypatch):
    shutil.copytree(DEMO, tmp_path / "manifests")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "demo")
    for f in DEMO_PR.iterdir():
        shutil.copy(f, tmp_path / "manifests" / f.name)
    git(tmp_path, "commit", "-q", "-am", "pr")
    monkeypatch.chdir(tmp_path)
    options = Options(cache=False)
    old, new = pair.analyze_pair(["manifests"], ["manifests"], options, old_rev="HEAD~1",
                                 new_rev="HEAD", parallel=True)
    s_old, s_new = pair.analyze_pair(["manifests"], ["manifests"], options, old_rev="HEAD~1",
                                     new_rev="HEAD", parallel=False)
    assert isinstance(new, Side)
    text = _rendered(old, new)
    assert text == _rendered(s_old, s_new) and "HEAD:manifests/" in text
