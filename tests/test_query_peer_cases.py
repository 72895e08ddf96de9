"""`kreach can` agrees with the single-flow checks of the peer analyzer (netpol-analyzer's
EVAL_CHECKS.tsv, rows of its core cases). Skipped when ../shared is absent."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from analyzer import Options, analyze
from analyzer.query.can import can
from analyzer.query.engine import Engine

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
PEER = SHARED / "peer-cases" / "netpol-analyzer"
CHECKS = PEER / "EVAL_CHECKS.tsv"


def core_rows() -> list[dict[str, str]]:
    if not CHECKS.is_file():
        return []
    with CHECKS.open(newline="") as f:
        return [r for r in csv.DictReader(f, delimiter="\t") if r["case_dir"].startswith("core/")]


def endpoint(engine: Engine, ns: str, name: str) -> str:
    """Rows name a pod as in the manifests, or a workload (owner) name."""
    if any(p.namespace == ns and p.name == name for p in engine.cluster.pods):
        return f"{ns}/pod/{name}"
    return f"{ns}/{name}"


ROWS = core_rows()


@pytest.mark.skipif(not CHECKS.is_file(), reason=f"{CHECKS} is absent (../shared not checked out)")
@pytest.mark.parametrize("row", ROWS, ids=[f"{r['case_dir']}:{r['src']}->{r['dst']}:{r['port']}"
                                           for r in ROWS])
def test_can_agrees_with_the_peer_eval_check(row):
    case = PEER / row["case_dir"]
    inputs = case / "input" if (case / "input").is_dir() else case
    engine = Engine.from_analysis(analyze([str(inputs)], Options(schema=False)))
    verdict = can(engine, endpoint(engine, row["src_ns"], row["src"]),
                  endpoint(engine, row["dst_ns"], row["dst"]),
                  port=int(row["port"]), protocol=row["protocol"].upper())
    assert verdict.allowed == (row["expected_allowed"] == "true"), verdict
