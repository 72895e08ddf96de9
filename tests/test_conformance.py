"""kreach agrees with netpol-analyzer's expected connection lists (``../shared/peer-cases``).

Each plain core and anp case (``list --dirpath <input_dir> --multiple-networks=false``, txt) is one test:
``kreach list INPUT --format json`` is compared with the expected file as sets of facts, the same
comparison as ``../shared/tools/conformance.py``:

* between workloads, per (src, dst, protocol): the set of allowed ports;
* with external addresses, per (workload, direction, protocol): the allowed area of
  (IPv4 address, port) pairs, so any split of the address space into ranges is fine.

Self pairs, external-to-external pairs and IPv6 ranges are ignored, as the peer prints none of
them. The peer's files are read with ``peer-cases/tools/normalize.py`` when it is there.
"""

from __future__ import annotations

import csv
import ipaddress
import json
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.cli import app
from areas import area

SHARED = Path(__file__).resolve().parents[2] / "shared"
CASES = SHARED / "peer-cases" / "netpol-analyzer"
INDEX = CASES / "INDEX.tsv"
PLAIN_FLAGS = "list --dirpath <input_dir> --multiple-networks=false"
PROTOCOLS = ("TCP", "UDP", "SCTP")


def plain_cases(categories=("core", "anp", "ingress", "route")) -> list[dict]:
    """Plain connection-list cases: core NetworkPolicy, AdminNetworkPolicy/BANP (anp), and the
    edge (ingress, route: connections from ``{ingress-controller}``)."""
    if not INDEX.is_file():
        return []
    with INDEX.open(newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    return [r for r in rows if r["format"] == "txt" and r["flags"] == PLAIN_FLAGS
            and r["category"] in categories]


CASE_ROWS = plain_cases()


# --- reading both sides into facts ---------------------------------------------------------------





def ipv4_range(text: str) -> tuple[int, int] | None:
    """'a.b.c.d-e.f.g.h' (optionally with '[External]') -> (lo, hi); None for IPv6."""
    lo, _, hi = text.split("[", 1)[0].partition("-")
    a, b = ipaddress.ip_address(lo.strip()), ipaddress.ip_address((hi or lo).strip())
    return (int(a), int(b)) if a.version == 4 else None


def is_external(peer: str) -> bool:
    return peer.endswith("[External]")


def facts(tuples) -> dict:
    """(src, dst, proto, port_lo, port_hi) -> {(src|'ip', dst|'ip', proto): canonical area}."""
    rects: dict = {}
    for src, dst, proto, lo, hi in tuples:
        if src == dst or (is_external(src) and is_external(dst)) or not isinstance(lo, int):
            continue
        if is_external(src) or is_external(dst):
            ext, key = (src, ("ip", dst, proto)) if is_external(src) else (dst, (src, "ip", proto))
            r = ipv4_range(ext)
            if r:
                rects.setdefault(key, []).append((r[0], r[1], lo, hi))
        else:
            rects.setdefault((src, dst, proto), []).append((0, 0, lo, hi))
    return {k: a for k, v in rects.items() if (a := area(v))}


def parse_conn(text: str) -> list[tuple[str, int, int]]:
    """'All Connections' | 'TCP 80,8080-8090,UDP 53' -> [(proto, lo, hi)] (fallback reader)."""
    text = text.strip()
    if text == "All Connections":
        return [(p, 1, 65535) for p in PROTOCOLS]
    out, proto = [], None
    for token in (t.strip() for t in text.split(",")):
        head, _, rest = token.partition(" ")
        if head in PROTOCOLS:
            proto, token = head, rest.strip()
        lo, _, hi = token.partition("-")
        out.append((proto, int(lo), int(hi or lo)))
    return out


def expected_tuples(path: Path) -> set:
    text = path.read_text()
    tools = SHARED / "peer-cases" / "tools"
    if (tools / "normalize.py").is_file():
        sys.path.insert(0, str(tools))
        try:
            import normalize
        finally:
            sys.path.remove(str(tools))
        return normalize.npa_parse(text, "txt")["connlist"]
    out = set()
    for line in text.splitlines():
        m = re.match(r"^(.+?) => (.+?) : (.+)$", line.strip())
        if m:
            out |= {(m.group(1), m.group(2), *c) for c in parse_conn(m.group(3))}
    return out


def kreach_tuples(doc: dict) -> set:
    assert doc.get("schema") == "kreach.connectivity/v1", f"unexpected schema {doc.get('schema')!r}"
    names: dict[str, list[str]] = {}
    for eid, ep in doc["endpoints"].items():
        if ep["type"] == "workload":
            names[eid] = [f"{ep['namespace']}/{ep['name']}[{ep['kind']}]"]
        elif ep["type"] == "external":
            names[eid] = [f"{r}[External]" for r in ep["ranges"]]
        elif ep["type"] == "ingress-controller":  # the cluster's edge, as netpol-analyzer names it
            names[eid] = ["{ingress-controller}"]
        else:
            names[eid] = []
    out = set()
    for c in doc["connections"]:
        for src in names[c["src"]]:
            for dst in names[c["dst"]]:
                out |= {(src, dst, proto.upper(), lo, hi)
                        for proto, ranges in c["protocols"].items() for lo, hi in ranges}
    return out


def differences(expected: dict, found: dict) -> list[str]:
    return [f"{key}: expected {expected.get(key, 'nothing')}, kreach {found.get(key, 'nothing')}"
            for key in sorted(expected.keys() | found.keys(), key=str)
            if expected.get(key) != found.get(key)]


# --- the comparison itself -------------------------------------------------------------------------

def test_equal_areas_compare_equal_however_they_are_split():
    whole = facts([("0.0.0.0-9.255.255.255[External]", "ns/a[Pod]", "TCP", 1, 65535)])
    split = facts([("0.0.0.0-4.255.255.255[External]", "ns/a[Pod]", "TCP", 1, 65535),
                   ("5.0.0.0-9.255.255.255[External]", "ns/a[Pod]", "TCP", 1, 80),
                   ("5.0.0.0-9.255.255.255[External]", "ns/a[Pod]", "TCP", 81, 65535)])
    assert whole == split
    assert facts([("0.0.0.0-9.255.255.254[External]", "ns/a[Pod]", "TCP", 1, 65535)]) != whole
    # self pairs and IPv6 ranges carry no facts
    assert facts([("ns/a[Pod]", "ns/a[Pod]", "TCP", 1, 1), ("::-::1[External]", "ns/a[Pod]", "UDP", 1, 1)]) == {}


@pytest.mark.skipif(not CASE_ROWS, reason=f"peer cases not found at {INDEX} (the shared folder is absent)")
@pytest.mark.parametrize("row", CASE_ROWS, ids=[r["case_dir"] for r in CASE_ROWS])
def test_kreach_agrees_with_netpol_analyzer(row):
    __tracebackhide__ = True
    result = CliRunner().invoke(app, ["list", str(CASES / row["input_dir"]), "--format", "json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, f"kreach exited {result.exit_code}:\n{result.stderr}"
    diff = differences(facts(expected_tuples(CASES / row["expected_file"])),
                       facts(kreach_tuples(json.loads(result.stdout))))
    if diff:
        pytest.fail(f"{row['case_dir']}: {len(diff)} fact(s) differ:\n  " + "\n  ".join(diff[:20]),
                    pytrace=False)
