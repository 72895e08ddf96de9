"""The document cache: an unchanged file is not parsed or validated again, a changed one is, and
the answers and diagnostics are the same either way."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from analyzer import analyze
from analyzer.analysis import Options
from analyzer.inputs import cache as cache_mod
from analyzer.inputs.cache import DocumentCache
from git_repo import git

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"


@pytest.fixture
def cached(tmp_path, monkeypatch):
    monkeypatch.delenv("KREACH_NO_CACHE", raising=False)
    monkeypatch.setenv("KREACH_CACHE_DIR", str(tmp_path / "cache"))
    work = tmp_path / "demo"
    shutil.copytree(DEMO, work)
    return work


def _answer(analysis):
    return (sorted((s, d, a.conns.to_text()) for (s, d), a in analysis.view.edges.items()),
            [str(d) for d in analysis.diagnostics])


def _parses(monkeypatch) -> list[str]:
    from analyzer.inputs import loading

    seen: list[str] = []
    real = loading._load_text

    def counting(path, *args, **kwargs):
        seen.append(path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(loading, "_load_text", counting)
    return seen


def test_a_rerun_reads_unchanged_files_from_the_cache_with_the_same_answer(cached, monkeypatch):
    first = analyze([str(cached)], Options(cache=True))
    parsed = _parses(monkeypatch)
    again = analyze([str(cached)], Options(cache=True))
    assert parsed == []  # nothing parsed the second time
    assert _answer(again) == _answer(first) == _answer(analyze([str(cached)]))
    # lines of rules are still found (the reader re-reads a document on demand)
    ref = next(r for a in again.view.edges.values() for r in a.ingress if r.policy)
    assert again.locator.line(ref.source, ref.path) == first.locator.line(ref.source, ref.path)


def test_a_changed_file_is_read_again_and_the_others_are_not(cached, monkeypatch):
    analyze([str(cached)], Options(cache=True))
    target = cached / "policies-shop.yaml"
    target.write_text(target.read_text().replace("port: http", "port: 9000", 1))
    parsed = _parses(monkeypatch)
    again = analyze([str(cached)], Options(cache=True))
    assert [Path(p).name for p in parsed] == ["policies-shop.yaml"]
    assert _answer(again) == _answer(analyze([str(cached)]))


def test_entries_depend_on_the_options_that_change_the_result(cached, monkeypatch):
    analyze([str(cached)], Options(cache=True))
    parsed = _parses(monkeypatch)
    no_schema = analyze([str(cached)], Options(cache=True, schema=False, namespace="elsewhere"))
    assert no_schema.diagnostics == analyze([str(cached)], Options(schema=False, namespace="elsewhere")).diagnostics
    parsed.clear()
    analyze([str(cached)], Options(cache=True, schema=False, namespace="elsewhere"))
    assert parsed == []


def test_a_broken_or_unwritable_cache_is_only_a_miss(tmp_path):
    store = DocumentCache(tmp_path)
    key = store.key("x")
    store.put(key, {"a": 1})
    assert store.get(key) == {"a": 1}
    path = store._path(key)
    path.write_bytes(b"not a pickle")
    assert store.get(key) is None
    blocked = tmp_path / "file"
    blocked.write_text("")
    DocumentCache(blocked).put(key, 1)  # cannot create a directory under a file: no error


def test_the_fingerprint_changes_with_kreach(monkeypatch):
    before = cache_mod.fingerprint()
    cache_mod.fingerprint.cache_clear()
    monkeypatch.setattr("analyzer.__version__", "9.9.9")
    try:
        assert cache_mod.fingerprint() != before
    finally:
        cache_mod.fingerprint.cache_clear()


def test_no_cache_turns_it_off(cached, monkeypatch):
    from typer.testing import CliRunner

    from analyzer.cli import app

    runner = CliRunner()
    assert runner.invoke(app, ["list", str(cached)]).exit_code == 0
    assert any((Path(cached).parent / "cache").rglob("*"))
    parsed = _parses(monkeypatch)
    result = runner.invoke(app, ["list", str(cached), "--no-cache"])
    assert result.exit_code == 0 and parsed
    parsed.clear()
    assert runner.invoke(app, ["--no-cache", "list", str(cached)]).exit_code == 0 and parsed
    parsed.clear()
    assert runner.invoke(app, ["list", str(cached)]).exit_code == 0 and not parsed


@pytest.fixture
def repo(cached, monkeypatch):
    """The demo in a git repository, two commits: the second changes one policy file."""
    git(cached, "init", "-q")
    git(cached, "add", ".")
    git(cached, "commit", "-qm", "one")
    policy = cached / "policies-shop.yaml"
    policy.write_text(policy.read_text().replace("port: 8080", "port: 8443"))
    git(cached, "commit", "-qam", "two")
    monkeypatch.chdir(cached)
    return cached


def _diff_base(base, head):
    from analyzer.diff import diff
    from analyzer.inputs.loading import ParseCache

    shared = ParseCache()
    old = analyze(["."], Options(cache=True), rev=base, shared=shared)
    new = analyze(["."], Options(cache=True), rev=head, shared=shared)
    return diff(old, new), [str(d) for d in old.diagnostics + new.diagnostics]


def test_diff_base_reuses_the_cache_across_runs_and_revisions(repo, monkeypatch):
    from analyzer.inputs import validation

    first = _diff_base("HEAD~1", "HEAD")
    parsed = _parses(monkeypatch)
    checked = []
    real_check = validation._check_one
    monkeypatch.setattr(validation, "_check_one", lambda m, *a: checked.append(m) or real_check(m, *a))
    assert _diff_base("HEAD~1", "HEAD") == first
    assert parsed == [] and checked == []  # nothing parsed or validated again
    # a new commit: only its changed file is read; the rest is taken from the cache under the
    # names of the new revisions (HEAD~1:... now is what HEAD:... was)
    (Path(".") / "shop.yaml").write_text(Path("shop.yaml").read_text() + "\n# touched\n")
    git(repo, "commit", "-qam", "three")
    third = _diff_base("HEAD~1", "HEAD")
    assert parsed == ["HEAD:shop.yaml"]
    assert all("HEAD~2" not in d for d in third[1])
    monkeypatch.setenv("KREACH_NO_CACHE", "1")
    assert _diff_base("HEAD~1", "HEAD") == third  # the same answer as without any cache
