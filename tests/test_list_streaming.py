"""`kreach list` writes a connection list without holding every pair: the view keeps connections
between workloads at class level and yields them in report order one source at a time (issue
#17: 2,000 policy-free pods took 1.5 GB when every pair was held; now tens of MB)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer import analyze
from analyzer.analysis import Options
from analyzer.writers import render

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("fixture", ["demo", "edge", "audit"])
@pytest.mark.parametrize("level", ["workload", "pod"])
def test_sorted_edges_are_every_pair_in_report_order(fixture, level):
    view = analyze([str(ROOT / "fixtures" / fixture)], Options(level=level)).view
    streamed = list(view.sorted_edges())
    assert "edges" not in view.__dict__  # nothing expanded to stream
    expected = sorted(view.edges.items(), key=lambda e: (view.order(e[0][0]), view.order(e[0][1])))
    assert streamed == [(s, d, a) for (s, d), a in expected]
    assert list(view.sorted_edges()) == streamed  # the same once expanded


def test_writing_a_list_never_expands_every_pair(tmp_path):
    pods = "".join(f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: ns{i % 4}}}\n"
                   f"spec: {{containers: [{{name: c, image: x}}]}}\n" for i in range(60))
    (tmp_path / "pods.yaml").write_text(pods)
    analysis = analyze([str(tmp_path)])
    for fmt in ("txt", "json", "csv", "md", "dot"):
        text = render(analysis, fmt)
        assert "ns0/p0[Pod]" in text
    assert "edges" not in analysis.view.__dict__
    assert render(analysis, "txt").count("\n") == 60 * 59 + 2 * 60 * 2  # every pair, and both families out and in


# --- a large listing written by two processes --------------------------------------------------

@pytest.fixture
def two_processes(monkeypatch):
    """Every listing counts as large: it is written by two processes when its options allow."""
    from analyzer.writers import rows

    monkeypatch.setattr(rows, "PARALLEL_ROWS", 0)
    return rows


@pytest.mark.parametrize("fixture", ["demo", "edge", "audit", "spec"])
@pytest.mark.parametrize("level", ["workload", "pod"])
def test_a_listing_written_by_two_processes_is_the_listing_one_process_writes(
        fixture, level, two_processes, monkeypatch):
    paths = [str(ROOT / "fixtures" / fixture)]
    one = analyze(paths, Options(level=level, cache=False))
    two = analyze(paths, Options(level=level, cache=False, jobs=2))
    forks = []
    real = two_processes._render_elsewhere
    monkeypatch.setattr(two_processes, "_render_elsewhere",
                        lambda *a: forks.append(1) or real(*a))
    for fmt in ("txt", "json", "csv"):
        assert render(two, fmt) == render(one, fmt), fmt
    assert len(forks) == 3  # each format was cut in two


def test_the_cut_falls_between_two_sources_near_the_middle(tmp_path, two_processes, monkeypatch):
    pods = "".join(f"---\napiVersion: v1\nkind: Pod\nmetadata: {{name: p{i}, namespace: ns{i % 4}}}\n"
                   f"spec: {{containers: [{{name: c, image: x}}]}}\n" for i in range(40))
    (tmp_path / "pods.yaml").write_text(pods)
    analysis = analyze([str(tmp_path)], Options(jobs=2, cache=False))
    seen: list[list[str]] = []
    # the other process's part is written here too, so that both parts are seen
    monkeypatch.setattr(two_processes.Copy, "result", lambda self, read: None)
    real = two_processes.rows
    two_processes.rows = lambda a, sources=None: seen.append(sources) or real(a, sources)
    try:
        text = render(analysis, "txt")
    finally:
        two_processes.rows = real
    first, second = seen  # this process's part, then the other's
    assert first and second and first + second == analysis.view.sources()
    assert abs(len(first) - len(second)) <= 2
    assert text == render(analyze([str(tmp_path)], Options(cache=False)), "txt")


def test_a_second_process_that_fails_means_its_part_is_written_here(two_processes, monkeypatch):
    paths = [str(ROOT / "fixtures" / "demo")]
    monkeypatch.setattr(two_processes.Copy, "result", lambda self, read: None)
    two = analyze(paths, Options(cache=False, jobs=2))
    assert render(two, "json") == render(analyze(paths, Options(cache=False)), "json")


def test_the_library_writes_in_one_process_unless_asked(two_processes, monkeypatch):
    monkeypatch.setattr(two_processes, "_render_elsewhere", lambda *a: pytest.fail("forked"))
    render(analyze([str(ROOT / "fixtures" / "demo")], Options(cache=False)), "json")


def test_a_listing_left_unread_stops_the_process_writing_its_second_part(two_processes, monkeypatch):
    from analyzer.writers import stream

    stopped = []
    real_stop = two_processes.Copy.stop
    monkeypatch.setattr(two_processes.Copy, "stop", lambda self: stopped.append(1) or real_stop(self))
    pieces = stream(analyze([str(ROOT / "fixtures" / "demo")], Options(cache=False, jobs=2)), "txt")
    next(pieces)
    pieces.close()  # a reader that went away (kreach list | head -1)
    assert stopped == [1]
