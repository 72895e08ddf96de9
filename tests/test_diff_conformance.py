"""``kreach diff`` agrees with netpol-analyzer's expected diffs (``../shared/peer-cases``).

Each plain diff case (``diff --dir1 <input1> --dir2 <input2> --multiple-networks=false``, txt) is
one test, compared exactly as ``../shared/tools/diff_conformance.py`` compares: the connections
each changed pair had before and has after (as areas of addresses and ports), and for pairs of
two workloads the classification added / removed / changed. Pairs the peer does not list must not
appear in kreach's output either.

Cases whose inputs hold Ingress or Route objects need features kreach does not
model yet; they are expected to fail until it does (non-strict, so they turn green by themselves).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import app

SHARED = Path(__file__).resolve().parents[2] / "shared"
CASES = SHARED / "peer-cases" / "netpol-analyzer"
TOOLS = SHARED / "tools"
PLAIN_DIFF = "diff --dir1 <input1> --dir2 <input2> --multiple-networks=false"
NOT_YET = ("kind: Ingress", "kind: Route")


def _rows() -> list[dict]:
    index = CASES / "INDEX.tsv"
    if not index.is_file() or not (TOOLS / "diff_conformance.py").is_file():
        return []
    with index.open(newline="") as fh:
        return [r for r in csv.DictReader(fh, delimiter="\t")
                if r["format"] == "txt" and r["flags"] == PLAIN_DIFF]


def _needs(row: dict) -> list[str]:
    """The object kinds in the case's inputs that kreach does not model yet."""
    found = set()
    for d in row["input_dir"].split(";"):
        for f in (CASES / d).rglob("*"):
            if f.suffix in (".yaml", ".yml", ".json"):
                text = f.read_text(errors="replace")
                found |= {k for k in NOT_YET if k in text}
    return sorted(found)


ROWS = _rows()


def _param(row: dict):
    needs = _needs(row)
    marks = [pytest.mark.xfail(reason=f"needs {', '.join(needs)}", strict=False)] if needs else []
    return pytest.param(row, id=row["case_dir"].removeprefix("diff/"), marks=marks)


@pytest.fixture(scope="module")
def tool():
    sys.path.insert(0, str(TOOLS))
    try:
        import diff_conformance
    finally:
        sys.path.remove(str(TOOLS))
    return diff_conformance


def test_most_plain_cases_need_nothing_kreach_lacks():
    if not ROWS:
        pytest.skip("peer cases not found")
    assert len([r for r in ROWS if not _needs(r)]) >= 24


@pytest.mark.skipif(not ROWS, reason=f"peer cases or tools not found under {SHARED}")
@pytest.mark.parametrize("row", [_param(r) for r in ROWS])
def test_kreach_diff_agrees_with_netpol_analyzer(row, tool):
    __tracebackhide__ = True
    in1, in2 = (str(CASES / p) for p in row["input_dir"].split(";"))
    result = CliRunner().invoke(app, ["diff", in1, in2, "--format", "json"])
    assert result.exit_code == 0, f"kreach exited {result.exit_code}:\n{result.stderr}"
    eb, ea, ek = tool.expected(str(CASES / row["expected_file"]))
    gb, ga, gk = tool.got(json.loads(result.stdout))
    diff = [f"before {x}" for x in tool.conf.compare(eb, gb)]
    diff += [f"after {x}" for x in tool.conf.compare(ea, ga)]
    diff += [f"{k}: expected {ek.get(k)}, kreach {gk.get(k)}" for k in sorted(set(ek) | set(gk))
             if ek.get(k) != gk.get(k)]
    if diff:
        pytest.fail(f"{len(diff)} difference(s):\n  " + "\n  ".join(d[:300] for d in diff[:20]),
                    pytrace=False)
