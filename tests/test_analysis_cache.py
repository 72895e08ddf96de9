"""The analysis cache: an unchanged input of plain YAML files is answered from one stored entry
(nothing read, validated, modelled or evaluated again), with the same answers, diagnostics and
lines as a run without it; any change to a file, to the set of files, to an option or to kreach's
engine is a miss."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer import analysis as analysis_mod
from analyzer import analysis_cache, analyze
from analyzer.analysis import Options
from analyzer.inputs.limits import Limits

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("KREACH_NO_CACHE", raising=False)
    monkeypatch.setenv("KREACH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def demo(tmp_path, cache_dir):
    work = tmp_path / "demo"
    shutil.copytree(FIXTURES / "demo", work)
    return work


@pytest.fixture
def builds(monkeypatch) -> list[int]:
    """How many times a cluster model was built (once per analysis that was not restored)."""
    seen: list[int] = []
    real = analysis_mod.build_cluster

    def counting(*args, **kwargs):
        seen.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(analysis_mod, "build_cluster", counting)
    return seen


def _answer(analysis):
    return (sorted((s, d, a.conns.to_text(), sorted(map(str, a.ingress)), sorted(map(str, a.egress)))
                   for (s, d), a in analysis.view.edges.items()),
            [str(d) for d in analysis.diagnostics], analysis.objects, analysis.edge)


def test_an_unchanged_input_is_restored_whole_with_the_same_answer_and_lines(demo, builds):
    first = analyze([str(demo)], Options(cache=True))
    again = analyze([str(demo)], Options(cache=True))
    assert builds == [1]  # the second analysis was not built: it was restored
    assert _answer(again) == _answer(first) == _answer(analyze([str(demo)]))
    # every rule's line is found again from the kept text
    refs = {r for a in again.view.edges.values() for r in (*a.ingress, *a.egress) if r.policy}
    assert refs
    for ref in refs:
        assert again.locator.line(ref.source, ref.path) == first.locator.line(ref.source, ref.path)
    assert again.locator.files == first.locator.files
    assert again.locator.text_line(str(demo / "shop.yaml"), 1) == \
        first.locator.text_line(str(demo / "shop.yaml"), 1)


def _restored(demo, builds, options=Options(cache=True)) -> bool:
    before = len(builds)
    analyze([str(demo)], options)
    return len(builds) == before


def test_a_changed_file_is_a_miss_and_the_answer_follows_it(demo, builds):
    analyze([str(demo)], Options(cache=True))
    target = demo / "policies-shop.yaml"
    target.write_text(target.read_text().replace("port: http", "port: 9000", 1))
    assert not _restored(demo, builds)
    assert _answer(analyze([str(demo)], Options(cache=True))) == _answer(analyze([str(demo)]))
    assert _restored(demo, builds)  # and the new content is stored in its turn


def test_a_one_byte_change_even_in_a_comment_is_a_miss(demo, builds):
    analyze([str(demo)], Options(cache=True))
    target = demo / "shop.yaml"
    target.write_text(target.read_text() + "\n# reviewed\n")
    assert not _restored(demo, builds)


def test_an_added_removed_or_renamed_file_is_a_miss(demo, builds):
    analyze([str(demo)], Options(cache=True))
    (demo / "extra.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: extra\n")
    assert not _restored(demo, builds)
    (demo / "extra.yaml").unlink()
    assert _restored(demo, builds)  # back to the first content: its entry is still there
    (demo / "monitoring.yaml").rename(demo / "zz-monitoring.yaml")
    assert not _restored(demo, builds)
    (demo / "zz-monitoring.yaml").unlink()
    assert not _restored(demo, builds)


@pytest.mark.parametrize("changed", [
    Options(cache=True, level="pod"),
    Options(cache=True, k8s_version="1.29"),
    Options(cache=True, schema=False),
    Options(cache=True, namespace="elsewhere"),
    Options(cache=True, exclude=("monitoring.yaml",)),
    Options(cache=True, limits=Limits(max_documents=3)),
])
def test_every_analysis_option_is_part_of_the_key(demo, builds, changed):
    analyze([str(demo)], Options(cache=True))
    assert not _restored(demo, builds, changed)
    cold = analyze([str(demo)], Options(**{**changed.__dict__, "cache": False}))
    assert _answer(analyze([str(demo)], changed)) == _answer(cold)


def test_a_change_to_kreachs_engine_source_is_a_miss(demo, builds, monkeypatch):
    analyze([str(demo)], Options(cache=True))
    monkeypatch.setattr(analysis_cache, "fingerprint", lambda: "another-engine")
    assert not _restored(demo, builds)


def test_the_fingerprint_covers_the_modules_that_model_and_evaluate(tmp_path):
    package = tmp_path / "analyzer"
    for name in ("analysis.py", "inputs/loading.py", "model/cluster.py", "engine/evaluate.py",
                 "engine/sub/deep.py", "writers/json_writer.py"):
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(f"# {name}\n")
    first = analysis_cache.source_digest(package)
    for name in ("analysis.py", "inputs/loading.py", "model/cluster.py", "engine/evaluate.py",
                 "engine/sub/deep.py"):
        (package / name).write_text((package / name).read_text() + "x = 1\n")
        assert analysis_cache.source_digest(package) != first, name
        first = analysis_cache.source_digest(package)
    (package / "writers/json_writer.py").write_text("# writers do not change the analysis\n")
    assert analysis_cache.source_digest(package) == first


def test_a_corrupt_or_truncated_entry_is_a_miss_and_is_replaced(demo, builds, cache_dir):
    analyze([str(demo)], Options(cache=True))
    [entry] = [p for p in (cache_dir / "analysis").rglob("*") if p.is_file()]
    entry.write_bytes(entry.read_bytes()[:100])
    assert not _restored(demo, builds)
    assert _restored(demo, builds)
    entry.write_bytes(b"not a pickle at all")
    assert not _restored(demo, builds)


def test_an_unwritable_cache_costs_only_time(demo, builds, tmp_path, monkeypatch):
    blocked = tmp_path / "a-file"
    blocked.write_text("")
    monkeypatch.setenv("KREACH_CACHE_DIR", str(blocked))
    first = analyze([str(demo)], Options(cache=True))
    assert _answer(first) == _answer(analyze([str(demo)]))


def test_off_unless_asked(demo, builds, cache_dir, monkeypatch):
    analyze([str(demo)])  # the library default: no cache
    assert not (cache_dir / "analysis").exists()
    monkeypatch.setenv("KREACH_NO_CACHE", "1")
    analyze([str(demo)], Options(cache=True))
    assert not (cache_dir / "analysis").exists()


def test_only_plain_yaml_files_on_disk_take_this_path(demo, tmp_path):
    limits = Limits()
    assert analysis_cache.probe([str(demo)], Options(cache=True), limits) is not None
    assert analysis_cache.probe(["-"], Options(cache=True), limits) is None
    (demo / "more.json").write_text('{"apiVersion": "v1", "kind": "Namespace", '
                                    '"metadata": {"name": "more"}}')
    assert analysis_cache.probe([str(demo)], Options(cache=True), limits) is None
    tf = tmp_path / "tf"
    shutil.copytree(FIXTURES / "terraform" / "hcl", tf)
    assert analysis_cache.probe([str(tf)], Options(cache=True), limits) is None


def test_only_the_most_recently_used_entries_are_kept(demo, cache_dir, monkeypatch):
    monkeypatch.setattr(analysis_cache, "KEEP", 2)
    for n in range(4):
        (demo / "extra.yaml").write_text(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x{n}\n")
        analyze([str(demo)], Options(cache=True))
    assert len([p for p in (cache_dir / "analysis").rglob("*") if p.is_file()]) == 2


# -- every command that analyses gives the same output from a restored analysis --------------

COMMANDS = [
    ["list", "{demo}"],
    ["list", "{demo}", "--format", "json"],
    ["list", "{demo}", "--level", "pod"],
    ["list", "{demo}", "--level", "pod", "--format", "json"],
    ["exposure", "{demo}"],
    ["lint", "{demo}"],
    ["audit", "{demo}", "--format", "json"],
    ["check", "{demo}/kreach.yaml"],
    ["who-can-reach", "shop/db", "{demo}"],
    ["can", "shop/web", "shop/db", "{demo}", "--port", "5432"],
    ["lint", "{lint}"],
    ["list", "{failing}"],
    ["list", "{edge}", "--format", "json"],
]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a).replace("{", "").replace("}", ""))
def test_commands_print_the_same_from_a_restored_analysis(argv, demo, tmp_path, builds):
    from analyzer.cli import app

    dirs = {"demo": str(demo)}
    for name in ("lint", "failing", "edge"):
        dirs[name] = str(tmp_path / name)
        if not Path(dirs[name]).exists():
            shutil.copytree(FIXTURES / name, dirs[name])
    args = [a.format(**dirs) for a in argv]
    runner = CliRunner()
    cold = runner.invoke(app, ["--no-cache", *args])
    before = len(builds)
    first = runner.invoke(app, args)
    built = len(builds) - before
    again = runner.invoke(app, args)
    assert len(builds) - before - built < built, "the second run's analysis was restored, not built"
    assert (again.exit_code, again.output) == (first.exit_code, first.output) == (cold.exit_code, cold.output)


def test_a_damaged_model_part_behind_a_good_head_is_computed_again(demo, builds, cache_dir):
    first = analyze([str(demo)], Options(cache=True))
    [entry] = [p for p in (cache_dir / "analysis").rglob("*") if p.is_file()]
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) - 200])  # the head is whole, the model part is not
    again = analyze([str(demo)], Options(cache=True))
    assert type(again).__name__ == "RestoredAnalysis"  # the head was read
    assert _answer(again) == _answer(first)


def test_a_restored_analysis_reads_its_model_only_when_used(demo, builds, monkeypatch):
    analyze([str(demo)], Options(cache=True))
    loads: list[int] = []
    real = analysis_cache.load
    monkeypatch.setattr(analysis_cache, "load", lambda fh: loads.append(1) or real(fh))
    again = analyze([str(demo)], Options(cache=True))
    assert len(loads) == 1 and again.diagnostics is not None and again.objects
    assert again.cluster.pods and len(loads) == 2
    assert again.reachability.cluster is again.cluster and len(loads) == 2


# -- the output of a writer, kept beside a cached analysis -------------------------------------

@pytest.fixture
def writes(monkeypatch) -> list[str]:
    """The formats a writer was asked to write (and did not come from the cache)."""
    from analyzer import writers

    seen: list[str] = []
    real = writers.stream

    def counting(analysis, fmt):
        seen.append(fmt)
        return real(analysis, fmt)

    monkeypatch.setattr(writers, "stream", counting)
    return seen


@pytest.mark.parametrize("fmt", ["txt", "json", "csv"])
def test_list_output_is_kept_and_read_back_the_same(demo, writes, fmt, tmp_path):
    from analyzer.cli import app

    runner = CliRunner()
    cold = runner.invoke(app, ["--no-cache", "list", str(demo), "--format", fmt])
    out = tmp_path / f"out.{fmt}"
    first = runner.invoke(app, ["list", str(demo), "--format", fmt, "-o", str(out)])
    written = out.read_text()
    again = runner.invoke(app, ["list", str(demo), "--format", fmt])
    assert writes == [fmt, fmt]  # the cold run and the first cached run; the third read it back
    assert again.output == cold.output == written and first.exit_code == again.exit_code == cold.exit_code


def test_kept_output_depends_on_format_level_and_kreachs_source(demo, writes, monkeypatch):
    from analyzer.cli import app

    runner = CliRunner()
    runner.invoke(app, ["list", str(demo)])
    runner.invoke(app, ["list", str(demo), "--format", "json"])
    runner.invoke(app, ["list", str(demo), "--level", "pod"])
    assert writes == ["txt", "json", "txt"]
    monkeypatch.setattr(analysis_cache, "package_digest", lambda: "a changed writer")
    runner.invoke(app, ["list", str(demo)])
    assert writes == ["txt", "json", "txt", "txt"]


def test_output_of_a_writer_that_failed_half_way_is_not_kept(demo, monkeypatch, cache_dir):
    analysis = analyze([str(demo)], Options(cache=True))

    def broken(analysis, fmt):
        yield "half"
        raise RuntimeError("writer bug")

    with pytest.raises(RuntimeError):
        list(analysis_cache.cached_stream(analysis, "txt", broken))
    assert not [p for p in (cache_dir / "output").rglob("*") if p.is_file()]
    assert list(analysis_cache.cached_stream(analysis, "txt", lambda a, f: iter(["whole\n"]))) == ["whole\n"]
    assert "".join(analysis_cache.cached_stream(analysis, "txt", broken)) == "whole\n"


def test_other_formats_and_uncached_analyses_are_always_written(demo, cache_dir):
    analysis = analyze([str(demo)], Options(cache=True))
    calls: list[str] = []

    def writer(analysis, fmt):
        calls.append(fmt)
        return iter(["x"])

    for _ in range(2):
        list(analysis_cache.cached_stream(analysis, "dot", writer))
        list(analysis_cache.cached_stream(analyze([str(demo)]), "txt", writer))
    assert calls == ["dot", "txt", "dot", "txt"]


def test_a_restored_analysis_pickles_as_a_plain_one(demo):
    import pickle

    from analyzer.analysis import Analysis

    analyze([str(demo)], Options(cache=True))
    again = analyze([str(demo)], Options(cache=True))
    copy = pickle.loads(pickle.dumps(again))
    assert type(copy) is Analysis and _answer(copy) == _answer(again)


def test_concurrent_runs_store_one_whole_entry_and_agree(demo, cache_dir):
    import os
    import subprocess
    import sys

    env = {**os.environ, "KREACH_CACHE_DIR": str(cache_dir)}
    env.pop("KREACH_NO_CACHE", None)
    argv = [sys.executable, "-m", "analyzer", "list", str(demo), "--format", "json"]
    root = Path(__file__).resolve().parent.parent
    runs = [subprocess.Popen(argv, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            for _ in range(3)]
    outputs = {p.communicate()[0] for p in runs}
    assert len(outputs) == 1
    again = subprocess.run(argv, cwd=root, env=env, capture_output=True)
    assert {again.stdout} == outputs
    assert len([p for p in (cache_dir / "analysis").rglob("*") if p.is_file()]) == 1
    assert not [p for p in cache_dir.rglob(".tmp-*")]


def test_how_many_processes_read_the_input_is_not_part_of_the_key(demo, builds):
    analyze([str(demo)], Options(cache=True, jobs=1))
    assert _restored(demo, builds, Options(cache=True, jobs=None))


def test_a_large_analysis_is_stored_by_a_background_copy_of_the_process(demo, builds, monkeypatch,
                                                                        cache_dir):
    import time

    monkeypatch.setattr(analysis_cache, "BACKGROUND_FROM", 1)
    first = analyze([str(demo)], Options(cache=True))
    deadline = time.monotonic() + 30
    while not [p for p in (cache_dir / "analysis").rglob("*") if p.is_file() and
               not p.name.startswith(".")] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _restored(demo, builds)
    assert _answer(analyze([str(demo)], Options(cache=True))) == _answer(first)


def test_kreach_cache_sync_stores_before_going_on(monkeypatch):
    monkeypatch.setenv("KREACH_CACHE_SYNC", "1")
    assert not analysis_cache._can_fork()


def test_a_file_changed_while_the_run_reads_is_not_stored_under_the_old_content(demo, builds,
                                                                               monkeypatch, cache_dir):
    original = analyze([str(demo)])
    target = demo / "policies-shop.yaml"
    before = target.read_text()
    real = analysis_cache.probe

    def probe_then_edit(*args, **kwargs):
        found = real(*args, **kwargs)
        target.write_text(before.replace("port: http", "port: 9000", 1))  # after the key was made
        return found

    monkeypatch.setattr(analysis_cache, "probe", probe_then_edit)
    analyze([str(demo)], Options(cache=True))
    monkeypatch.setattr(analysis_cache, "probe", real)
    assert not [p for p in (cache_dir / "analysis").rglob("*") if p.is_file()]
    target.write_text(before)
    assert _answer(analyze([str(demo)], Options(cache=True))) == _answer(original)
