"""Reading on every core: a large input is read and checked by helper processes, and the answer,
the diagnostics, their order and their lines are those of a run on one core."""

from __future__ import annotations

import multiprocessing
import shutil
from dataclasses import replace
from concurrent.futures import Future
from pathlib import Path

import pytest

from analyzer import analyze
from analyzer.analysis import Options
from analyzer.inputs import parallel
from analyzer.inputs.parallel import Prefetched, split
from git_repo import git

DEMO = Path(__file__).resolve().parent.parent / "fixtures" / "demo"

BROKEN = """\
apiVersion: v1
kind: Service
metadata: {name: broken
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
      - name: c
        image: x
        ports: [{containerPort: 70000}, {containerPort: 8080, name: http}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-in}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from: [{ipBlock: {cidr: 10.0.0.0/33}}]
"""


@pytest.fixture
def many_files(tmp_path):
    """The demo plus files with every kind of problem, spread over several files, one of them
    defining an object the demo defines again (a duplicate found across files)."""
    work = tmp_path / "in"
    shutil.copytree(DEMO, work)
    (work / "zz-broken.yaml").write_text(BROKEN)
    (work / "zz-again.yaml").write_text((DEMO / "policies-shop.yaml").read_text())
    for i in range(6):
        (work / f"team-{i}.yaml").write_text(BROKEN.replace("name: api", f"name: api{i}"))
    return work


def _everything(analysis):
    view = analysis.view
    lines = sorted((str(r.source), r.path, analysis.locator.line(r.source, r.path))
                   for a in view.edges.values() for r in a.ingress | a.egress if r.policy)
    return ([str(d) for d in analysis.diagnostics],
            sorted((s, d, a.conns.to_text(), sorted(map(str, a.ingress | a.egress)))
                   for (s, d), a in view.edges.items()),
            analysis.objects, lines)


@pytest.fixture
def in_parallel(monkeypatch):
    """Prefetch whatever the size (the input here is far below MIN_BYTES), in 3 processes."""
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.setenv("KREACH_JOBS", "3")


@pytest.mark.parametrize("start", ["fork", "spawn"])
def test_helpers_give_the_answer_of_one_process(many_files, in_parallel, monkeypatch, start):
    monkeypatch.setattr(parallel, "_context", lambda: multiprocessing.get_context(start))
    calls = []
    real = parallel.prefetch
    monkeypatch.setattr(parallel, "prefetch", lambda *a, **k: calls.append(real(*a, **k)) or calls[-1])
    both = _everything(analyze([str(many_files)], Options(jobs=None)))
    assert isinstance(calls[0], Prefetched)  # the parallel path was taken
    assert both[3]  # rules' lines were looked up (documents read by a helper are re-read)
    one = _everything(analyze([str(many_files)]))  # the library reads in one process
    assert both == one
    assert any("KR009" in d or "KR001" in d for d in one[0])  # the broken YAML is reported


def test_options_that_change_reading_reach_the_helpers(many_files, in_parallel, monkeypatch):
    options = Options(namespace="team", level="pod", schema=False)
    both = _everything(analyze([str(many_files)], replace(options, jobs=3)))
    one = _everything(analyze([str(many_files)], options))
    assert both == one


def test_one_process_or_a_small_input_reads_in_process(many_files, monkeypatch):
    kwargs = dict(jobs=None, exclude=(), inputs=Options().inputs, limits=None, k8s_version=None,
                  schema=True, namespace=None, backing="disk")
    monkeypatch.setenv("KREACH_JOBS", "1")
    assert parallel.prefetch([str(many_files)], **kwargs) == "disk"
    monkeypatch.setenv("KREACH_JOBS", "2")
    assert parallel.prefetch([str(many_files)], **kwargs) == "disk"  # below MIN_BYTES


def test_a_helper_that_fails_leaves_its_files_to_the_main_process():
    failed: Future = Future()
    failed.set_exception(RuntimeError("helper died"))
    done: Future = Future()
    done.set_result(parallel.encode({"b": ["from a helper"]}))

    class Disk:
        def get(self, key):
            return f"{key} from disk"

    store = Prefetched({"a": ["read here"]}, [failed, done], Disk())
    assert store.get("a") == ["read here"]
    assert store.get("b") == ["from a helper"]
    assert store.get("c") == "c from disk"  # nobody prefetched it: asked of the backing cache
    assert store.get("a") == "a from disk"  # an entry is handed out once


def test_files_are_split_in_order_and_the_main_process_takes_the_larger_share():
    sized = [(f"f{i}", 100) for i in range(40)]
    runs = split(sized, 2)
    assert [f for run in runs for f in run] == [f for f, _ in sized]
    assert len(runs[0]) > len(runs[1]) > 0
    assert [f for run in split(sized[:1], 4) for f in run] == ["f0"]
    assert [f for run in split(sized, 8) for f in run] == [f for f, _ in sized]


def test_the_number_of_processes_is_asked_or_read_from_kreach_jobs(monkeypatch):
    assert parallel.processes(2) == 2
    monkeypatch.setenv("KREACH_JOBS", "5")
    assert parallel.processes(None) == 5 and parallel.processes(1) == 1
    monkeypatch.setenv("KREACH_JOBS", "lots")
    assert parallel.processes(None) == 1
    monkeypatch.delenv("KREACH_JOBS")
    assert 1 <= parallel.processes(None) <= parallel.MAX_JOBS


def test_the_library_reads_in_one_process_unless_asked(many_files, in_parallel, monkeypatch):
    stores = []
    real = parallel.prefetch
    monkeypatch.setattr(parallel, "prefetch", lambda *a, **k: stores.append(real(*a, **k)) or stores[-1])
    analyze([str(many_files)])
    assert stores == [None]


def test_the_cli_reads_on_every_cpu():
    from analyzer.cli.app import InputFlags, analysis_options

    assert analysis_options(InputFlags(), {}).jobs is None


def test_entries_cross_from_a_helper_unchanged():
    import datetime

    from analyzer.inputs.loading import Manifest
    from analyzer.messages import diagnostic
    from analyzer.source import SourceRef

    source = SourceRef("a.yaml", 3, 1, ("items", 0), "")
    m = Manifest("v1", "Service", "web", "shop", {"spec": {"ports": [{"port": 80}]}, "x": None}, source)
    warn = diagnostic("KR006", SourceRef("b.yaml"))
    entries = {"k": [m, warn], "validated:v": [(1, None, [warn]), (2, {"a": [1.5, True]}, [])]}
    back = parallel.decode(parallel.encode(entries))
    assert back == {"k": [m, warn], "v": [(1, None, [warn]), (2, {"a": [1.5, True]}, [])]}
    odd = {"k": [Manifest("v1", "Pod", "p", None, {"t": datetime.date(2024, 1, 2)}, source)]}
    assert parallel.decode(parallel.encode(odd)) == odd  # what marshal cannot write is pickled


def test_a_diff_reads_ahead_only_what_the_other_side_did_not_read(many_files, in_parallel, tmp_path,
                                                                   monkeypatch):
    from analyzer.diff import diff
    from analyzer.inputs.loading import ParseCache

    changed = tmp_path / "changed"
    shutil.copytree(many_files, changed)
    (changed / "zz-again.yaml").write_text((DEMO / "policies-shop.yaml").read_text()
                                           .replace("port: 8080", "port: 8443"))
    stores = []
    real = parallel.prefetch
    monkeypatch.setattr(parallel, "prefetch", lambda *a, **k: stores.append(real(*a, **k)) or stores[-1])

    def run(jobs=None):
        shared = ParseCache()
        old = analyze([str(many_files)], Options(jobs=jobs), shared=shared)
        new = analyze([str(changed)], Options(jobs=jobs), shared=shared)
        return diff(old, new), [str(d) for d in old.diagnostics + new.diagnostics]

    taken = []
    real_take = Prefetched.take
    monkeypatch.setattr(Prefetched, "take", lambda self, *a: taken.append(real_take(self, *a)) or taken[-1])
    both = run()
    # the old side is read ahead; of the new side only one file is new: read in process
    assert isinstance(stores[0], Prefetched) and stores[1] is None
    # every distinct text of the old side came from the helpers (kreach.yaml is not a manifest)
    texts = {p.read_text() for p in many_files.glob("*.yaml") if p.name != "kreach.yaml"}
    assert len(taken) == len(texts) and all(taken)
    assert run(jobs=1) == both


def test_a_diff_between_git_revisions_reads_ahead_too(many_files, in_parallel, tmp_path, monkeypatch):
    from analyzer.diff import diff
    from analyzer.inputs.loading import ParseCache

    repo = tmp_path / "repo"
    shutil.copytree(many_files, repo / "manifests")
    git(repo, "init", "-q")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "one")
    policy = repo / "manifests" / "team-3.yaml"
    policy.write_text(policy.read_text().replace("10.0.0.0/33", "10.0.0.0/8"))
    git(repo, "commit", "-qam", "two")
    monkeypatch.chdir(repo)
    stores = []
    real = parallel.prefetch_texts
    monkeypatch.setattr(parallel, "prefetch_texts", lambda *a, **k: stores.append(real(*a, **k)) or stores[-1])

    def run(jobs):
        shared = ParseCache()
        old = analyze(["manifests"], Options(jobs=jobs), rev="HEAD~1", shared=shared)
        new = analyze(["manifests"], Options(jobs=jobs), rev="HEAD", shared=shared)
        return diff(old, new), [str(d) for d in old.diagnostics + new.diagnostics]

    both = run(None)
    assert isinstance(stores[0], Prefetched) and stores[1] is None  # one file changed
    one = run(1)
    assert both == one
    assert any("HEAD~1:manifests/team-3.yaml" in d for d in one[1])  # the bad CIDR, at the old rev


def test_every_file_read_ahead_is_in_the_document_cache_afterwards(many_files, in_parallel, tmp_path,
                                                                   monkeypatch):
    from analyzer.inputs import loading

    monkeypatch.delenv("KREACH_NO_CACHE", raising=False)
    monkeypatch.setenv("KREACH_CACHE_DIR", str(tmp_path / "cache"))
    first = _everything(analyze([str(many_files)], Options(cache=True, jobs=None)))
    changed = many_files / "team-0.yaml"
    changed.write_text(changed.read_text() + "\n# touched\n")  # the whole-analysis entry misses
    parsed = []
    real = loading._load_text
    monkeypatch.setattr(loading, "_load_text", lambda path, *a: parsed.append(path) or real(path, *a))
    again = _everything(analyze([str(many_files)], Options(cache=True)))
    assert parsed == [str(changed)]  # every other file, read by any process, came from the cache
    assert again[1:] == first[1:]
