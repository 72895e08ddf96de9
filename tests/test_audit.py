"""kreach audit: the report's figures, hand-checked on fixtures/audit; its JSON and Markdown
snapshot-tested on the demo; the HTML page opened in headless Chromium.

Snapshots: after an intended change to the demo or the report, regenerate them with
``KREACH_UPDATE_GOLDEN=1 python -m pytest tests/test_audit.py`` and review the diff."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer import analyze
from analyzer.cli import app
from analyzer.report import audit
from analyzer.report.audit import is_public, matches_pattern
from analyzer.report.document import document
from analyzer.report.html import render_audit
from analyzer.report.markdown import render as render_md
from analyzer.model.connset import V6_BASE

ROOT = Path(__file__).resolve().parent.parent
AUDIT = str(ROOT / "fixtures" / "audit")
DEMO = str(ROOT / "fixtures" / "demo")
GOLDEN = Path(__file__).resolve().parent / "golden"
runner = CliRunner()


@pytest.fixture(scope="module")
def three_tier():
    analysis = analyze([AUDIT])
    return analysis, audit(analysis, crown_jewels=["data/db", "tier=data"], hops=3)


# --- the figures, derived by hand from fixtures/audit/cluster.yaml ---------------------------


def test_inventory_counts_namespaces_workloads_pods_and_policies(three_tier):
    _, report = three_tier
    assert (report.inventory.namespaces, report.inventory.workloads, report.inventory.pods) == (3, 5, 6)
    assert report.inventory.policies == (("NetworkPolicy", 3),)


def test_coverage_counts_workloads_a_policy_isolates_per_namespace(three_tier):
    _, report = three_tier
    rows = {n.namespace: (n.workloads, n.ingress_isolated, n.egress_isolated) for n in report.coverage.namespaces}
    # app/worker is selected by no policy; data's podSelector {} isolates both of its workloads
    assert rows == {"app": (2, 1, 1), "data": (2, 2, 2), "edge": (1, 1, 1)}
    assert (report.coverage.ingress_isolated, report.coverage.egress_isolated, report.coverage.workloads) == (4, 4, 5)


def test_exposure_names_each_workload_outside_reaches_with_ports_and_rules(three_tier):
    _, report = three_tier
    found = {e.workload: (e.source, e.conns.to_text(), [str(r) for r in e.rules]) for e in report.exposure}
    assert found == {
        "edge/frontend[Deployment]": ("internet", "TCP 80", ["NetworkPolicy edge/frontend ingress rule #0"]),
        "app/worker[Deployment]": ("internet", "All Connections", ["ingress not isolated"]),
    }


def test_blast_radius_follows_allowed_connections_hop_by_hop(three_tier):
    _, report = three_tier
    radius = {b.workload: b.by_hop for b in report.blast_radius}
    assert radius["edge/frontend[Deployment]"] == (("app/api[Deployment]",), ("data/db[StatefulSet]",))
    assert radius["app/worker[Deployment]"] == ()  # every workload it could call isolates its ingress
    assert report.blast_radius[0].workload == "edge/frontend[Deployment]"  # largest first


def test_a_crown_jewel_gets_the_shortest_path_from_outside_or_none(three_tier):
    _, report = three_tier
    paths = {j.jewel: [(h.src, h.dst, h.conns.to_text()) for h in j.hops] for j in report.jewels}
    assert paths == {
        "data/db[StatefulSet]": [("{outside}", "edge/frontend[Deployment]", "TCP 80"),
                                 ("edge/frontend[Deployment]", "app/api[Deployment]", "TCP 8080"),
                                 ("app/api[Deployment]", "data/db[StatefulSet]", "TCP 5432")],
        "data/backup[Deployment]": [],  # tier=data matches it too; nothing reaches it
    }


def test_fewer_hops_cut_the_blast_radius():
    report = audit(analyze([AUDIT]), hops=1)
    assert {b.workload: b.by_hop for b in report.blast_radius}["edge/frontend[Deployment]"] == (("app/api[Deployment]",),)


@pytest.mark.parametrize("pattern, workload, labels, expected", [
    ("data/db", "data/db[StatefulSet]", {}, True),
    ("data/db[StatefulSet]", "data/db[StatefulSet]", {}, True),
    ("data/*", "data/backup[Deployment]", {}, True),
    ("data/*", "app/api[Deployment]", {}, False),
    ("tier=data", "data/db[StatefulSet]", {"tier": "data"}, True),
    ("tier=data", "app/api[Deployment]", {"app": "api"}, False),
])
def test_crown_jewel_patterns(pattern, workload, labels, expected):
    assert matches_pattern(pattern, workload, {"labels": labels}) is expected


@pytest.mark.parametrize("lo, hi, public", [
    (0, 2**32 - 1, True),  # 0.0.0.0/0
    (int.from_bytes(bytes([10, 0, 0, 0]), "big"), int.from_bytes(bytes([10, 255, 255, 255]), "big"), False),
    (int.from_bytes(bytes([203, 0, 113, 0]), "big"), int.from_bytes(bytes([203, 0, 113, 255]), "big"), True),
    (V6_BASE + (0xfd << 120), V6_BASE + (0xfd << 120) + 255, False),  # fd00::/120, unique local
])
def test_only_ranges_holding_a_public_address_are_the_internet(lo, hi, public):
    assert is_public(lo, hi) is public


# --- snapshots of the demo -------------------------------------------------------------------


def _snapshot(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("KREACH_UPDATE_GOLDEN"):
        path.write_text(text)
    assert path.exists(), f"{path} missing: run KREACH_UPDATE_GOLDEN=1 python -m pytest {__file__}"
    assert text == path.read_text(), (
        f"{name} differs from the snapshot; if the change is intended, regenerate with "
        f"KREACH_UPDATE_GOLDEN=1 python -m pytest tests/test_audit.py and review the diff")


def _demo_report(monkeypatch):
    from analyzer.lint import lint

    monkeypatch.chdir(ROOT)  # file names in the report are relative, as a user running it from a checkout sees them
    analysis = analyze(["fixtures/demo"])
    return analysis, audit(analysis, crown_jewels=["shop/db"], lint=lint(analysis).findings)


def test_demo_json_snapshot(monkeypatch):
    analysis, report = _demo_report(monkeypatch)
    doc = document(report, analysis.diagnostics)
    assert doc["schema"] == "kreach.audit/v1"
    _snapshot("audit-demo.json", json.dumps(doc, indent=2, sort_keys=True) + "\n")


def test_demo_markdown_snapshot(monkeypatch):
    _, report = _demo_report(monkeypatch)
    _snapshot("audit-demo.md", render_md(report))


# --- the command -----------------------------------------------------------------------------


def test_audit_command_writes_every_format(tmp_path):
    for fmt in ("text", "json", "md", "html"):
        out = tmp_path / f"report.{fmt}"
        result = runner.invoke(app, ["audit", AUDIT, "--format", fmt, "-o", str(out), "--crown-jewels", "data/db"])
        assert result.exit_code == 0, result.output
        assert "data/db" in out.read_text()
    assert json.loads((tmp_path / "report.json").read_text())["schema"] == "kreach.audit/v1"


def test_audit_of_nothing_usable_is_bad_input(tmp_path):
    (tmp_path / "x.yaml").write_text("kind: [\n")
    assert runner.invoke(app, ["audit", str(tmp_path)]).exit_code == 2


def test_the_html_page_is_self_contained(monkeypatch):
    analysis, report = _demo_report(monkeypatch)
    page = render_audit(report, analysis.view)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "the page must not load anything"
    assert "<script" in page and "<style>" in page and 'id="graph-svg"' in page


def test_list_writes_html_and_svg_or_says_what_svg_needs(tmp_path, monkeypatch):
    result = runner.invoke(app, ["list", AUDIT, "--format", "html"])
    assert result.exit_code == 0 and "matrix-table" in result.stdout
    if shutil.which("dot"):
        result = runner.invoke(app, ["list", AUDIT, "--format", "svg"])
        assert result.exit_code == 0 and "<svg" in result.stdout
    monkeypatch.setenv("PATH", str(tmp_path))
    result = runner.invoke(app, ["list", AUDIT, "--format", "svg"])
    assert result.exit_code == 2 and "Graphviz" in result.output


# --- the page in a browser -------------------------------------------------------------------

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


def _open(page: Path, fragment: str = "") -> tuple[str, str]:
    """(the DOM after the page's scripts ran, the browser's log) from headless Chromium."""
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                           "--v=0", "--dump-dom", page.as_uri() + fragment],
                          capture_output=True, text=True, timeout=120)
    return done.stdout, done.stderr


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium is not installed (apt-get install chromium)")
def test_demo_report_in_chromium(tmp_path):
    page = tmp_path / "report.html"
    result = runner.invoke(app, ["audit", DEMO, "--format", "html", "-o", str(page), "--crown-jewels", "shop/db"])
    assert result.exit_code == 0, result.output
    dom, log = _open(page)
    errors = [line for line in log.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
    assert not errors, errors
    assert dom.count('class="wl') >= 7  # every demo workload drawn in the graph
    rows = dom.split('id="matrix-table"')[1].split("</table>")[0].count("<tr>") - 1
    assert rows > 5
    rendered = int(re.search(r'data-rendered-ms="(\d+)"', dom).group(1))
    assert rendered < 10_000
    filtered, _ = _open(page, "#filter=shop/api")
    shown = filtered.split('id="matrix-table"')[1].split("</table>")[0].count("<tr>") - 1
    assert 0 < shown < rows  # the filter changed the visible rows


def test_egress_to_outside_names_workloads_that_may_send_there(three_tier):
    _, report = three_tier
    # only app/worker is not egress-isolated; frontend and api may reach only pods
    assert {(e.workload, e.source, e.conns.to_text()) for e in report.egress} == {
        ("app/worker[Deployment]", "internet", "All Connections")}
    assert all(e.direction == "egress" for e in report.egress)


def test_a_crown_jewel_pattern_matching_nothing_is_a_note_with_the_closest_names():
    report = audit(analyze([AUDIT]), crown_jewels=["data/d", "nothing/here"])
    assert report.jewels == ()
    assert report.notes == ("crown-jewel pattern 'data/d' matches no workload (did you mean data/db?)",
                            "crown-jewel pattern 'nothing/here' matches no workload")
