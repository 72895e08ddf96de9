"""``analyzer.diff`` agrees with IBM network-config-analyzer's ``semanticDiff`` queries on whether
two configurations differ (``../shared/peer-cases/nca``, INDEX.tsv).

For every semanticDiff query of a core scheme (plain Kubernetes inputs), both configurations are
assembled as NCA assembles them (the scheme's namespace and pod lists, overridden per
configuration, plus its policy files), analysed, and compared at pod level (NCA compares pods,
and counts pairs inside one workload). NCA's numeric result counts the kinds of differences it
found; 0 means none. kreach must find no changed pair exactly when NCA's result is 0.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
import yaml

import analyzer
from analyzer import Options, analyze

SHARED = Path(__file__).resolve().parents[2] / "shared"
NCA = SHARED / "peer-cases" / "nca"


def _queries() -> list[dict]:
    index = NCA / "INDEX.tsv"
    if not index.is_file():
        return []
    seen, out = set(), []
    with index.open(newline="") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            key = (r["scheme_file"], r["configs"])
            if r["query_type"] == "semanticDiff" and r["group"] == "core" and r["expected_result"] \
                    and key not in seen:
                seen.add(key)
                out.append(r)
    return out


def _config(scheme: Path, name: str) -> list[str] | None:
    """The files NCA reads for configuration ``name`` of ``scheme`` (None: not plain files)."""
    doc = yaml.safe_load(scheme.read_text())
    base = scheme.parent
    for c in doc.get("networkConfigList", []):
        if c.get("name") != name:
            continue
        files = []
        for key in ("namespaceList", "podList"):
            value = c.get(key, doc.get(key))
            files += value if isinstance(value, list) else [value] if value else []
        files += c.get("resourceList", []) + c.get("networkPolicyList", [])
        paths = [os.path.normpath(base / f) for f in files]
        return paths if all(os.path.exists(p) for p in paths) else None
    return None


ROWS = _queries()


@pytest.mark.skipif(not ROWS, reason=f"NCA peer cases not found under {NCA}")
@pytest.mark.parametrize("row", ROWS, ids=[f"{Path(r['scheme_file']).stem}:{r['configs']}" for r in ROWS])
def test_kreach_and_nca_agree_on_whether_two_configurations_differ(row):
    scheme = NCA / row["scheme_file"]
    first, second = row["configs"].split(",")[:2]
    old, new = _config(scheme, first), _config(scheme, second)
    if old is None or new is None:
        pytest.skip("a configuration names a live cluster or a policy by name, not files")
    options = Options(level="pod")
    a, b = analyze(old, options), analyze(new, options)
    d = analyzer.diff(a, b)
    nca_differs = int(row["expected_result"]) > 0
    rejected = [x for x in a.diagnostics + b.diagnostics if x.severity.value == "error"]
    if bool(d.changes) != nca_differs and rejected:
        # a deliberate deviation: objects invalid per the API are skipped, not guessed at
        pytest.skip(f"kreach rejects objects NCA accepts: {rejected[0]}")
    assert bool(d.changes) == nca_differs, (
        f"NCA: {'differ' if nca_differs else 'equivalent'}; kreach: {len(d.changes)} changed pairs, "
        f"e.g. {[(c.src, c.dst, c.change) for c in d.changes[:3]]}")
