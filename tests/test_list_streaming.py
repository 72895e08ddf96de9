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
