"""kreach agrees with the hand-derived connectivity of every case under ``fixtures/spec/`` and of
the demo in ``fixtures/demo/``.

Each case folder holds ``manifests.yaml``, ``README.md`` (the rule and its API reference field) and
``expected.txt``: the connectivity derived by hand from the Kubernetes API reference, an oracle
independent of kreach. One line per ordered pair of distinct endpoints with something allowed::

    shop/web[Deployment] => shop/api[Deployment] : TCP 8080,UDP 53
    10.0.0.0-10.0.255.255 => t/a[Pod] : TCP 443
    t/a[Pod] => ::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff : All Connections

Both sides are reduced to sets of facts before comparing, so equivalent spellings agree:

* between workloads, per (src, dst, protocol): the set of allowed ports;
* with external addresses, per (workload, direction, IP family, protocol): the allowed area of
  (address, port) pairs. Any split of the address space into ranges is therefore fine.

Self pairs (a workload to itself) and external-to-external lines carry no facts. Ports are
1-65535: port 0 is not a destination port, so a range starting at 0 is read as starting at 1.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer import Severity, analyze
from areas import Area, Intervals, area, merge
from analyzer.cli import app

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SPEC_CASES = sorted(p for p in (FIXTURES / "spec").iterdir() if p.is_dir())
DEMO = FIXTURES / "demo"
ORACLE_CASES = [*SPEC_CASES, DEMO]  # the demo has a hand-derived expected.txt too

PROTOCOLS = ("SCTP", "TCP", "UDP")
ALL_PORTS = ((1, 65535),)
WORKLOAD = re.compile(r"^[^/\s]+/[^/\s]+\[[A-Za-z]+\]$")

# an area is a tuple of (port interval, IP intervals allowed on every port of that interval)


# --- interval arithmetic -----------------------------------------------------------------------



def clamp_ports(intervals) -> Intervals:
    return merge((max(lo, 1), min(hi, 65535)) for lo, hi in intervals if max(lo, 1) <= min(hi, 65535))




# --- facts -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Facts:
    """pairs: (src, dst, proto) -> ports.  externals: (workload, direction, family, proto) -> area."""

    pairs: dict
    externals: dict


def ip_range(text: str) -> tuple[int, int, int]:
    """'a-b' (optionally suffixed '[External]') -> (family, lo, hi)."""
    text = text.removesuffix("[External]")
    lo, _, hi = text.partition("-")
    a, b = ipaddress.ip_address(lo.strip()), ipaddress.ip_address((hi or lo).strip())
    assert a.version == b.version, f"range mixes IP families: {text}"
    return a.version, int(a), int(b)


def build_facts(lines) -> Facts:
    """lines: (src, dst, {proto: intervals}); src/dst are workload names or ('ip', family, lo, hi)."""
    pairs: dict = {}
    rects: dict = {}
    for src, dst, protocols in lines:
        src_ip, dst_ip = isinstance(src, tuple), isinstance(dst, tuple)
        if src == dst or (src_ip and dst_ip):
            continue
        for proto, ports in protocols.items():
            if src_ip or dst_ip:
                (_, family, lo, hi), workload = (src, dst) if src_ip else (dst, src)
                key = (workload, "ingress" if src_ip else "egress", family, proto)
                rects.setdefault(key, []).extend((lo, hi, plo, phi) for plo, phi in ports)
            else:
                pairs.setdefault((src, dst, proto), []).extend(ports)
    return Facts(
        pairs={k: clamp_ports(v) for k, v in pairs.items() if clamp_ports(v)},
        externals={k: area(v) for k, v in rects.items() if area(v)},
    )


def parse_connections(text: str) -> dict[str, Intervals]:
    """'All Connections' or 'SCTP 9000-9001,TCP 80,8000-8100,UDP' -> {proto: intervals}."""
    text = text.strip()
    if text == "All Connections":
        return {p: ALL_PORTS for p in PROTOCOLS}
    out: dict[str, list[tuple[int, int]]] = {}
    proto = None
    for token in (t.strip() for t in text.split(",")):
        head, _, rest = token.partition(" ")
        if head.upper() in PROTOCOLS:
            proto, token = head.upper(), rest.strip()
            out.setdefault(proto, [])
            if not token:
                out[proto].extend(ALL_PORTS)
                continue
        if proto is None or not re.fullmatch(r"\d+(-\d+)?", token):
            raise ValueError(f"cannot read connections {text!r} at {token!r}")
        lo, _, hi = token.partition("-")
        out[proto].append((int(lo), int(hi or lo)))
    return {p: merge(v) for p, v in out.items()}


def parse_endpoint(text: str):
    text = text.strip()
    if WORKLOAD.match(text):
        return text
    return ("ip", *ip_range(text))


def expected_facts(path: Path) -> Facts:
    lines = []
    for number, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            pair, conns = line.rsplit(" : ", 1)
            src, dst = pair.split(" => ")
            lines.append((parse_endpoint(src), parse_endpoint(dst), parse_connections(conns)))
        except ValueError as e:
            raise ValueError(f"{path}:{number}: {e}: {raw!r}") from e
    return build_facts(lines)


def kreach_facts(doc: dict) -> Facts:
    assert doc.get("schema") == "kreach.connectivity/v1", f"unexpected schema {doc.get('schema')!r}"
    names: dict[str, list] = {}
    for eid, ep in doc["endpoints"].items():
        if ep["type"] == "workload":
            names[eid] = [f"{ep['namespace']}/{ep['name']}[{ep['kind']}]"]
        elif ep["type"] == "external":
            names[eid] = [("ip", *ip_range(r)) for r in ep["ranges"]]
        else:
            raise AssertionError(f"endpoint {eid} has unknown type {ep['type']!r}")
    lines = []
    for c in doc["connections"]:
        protocols = {p.upper(): tuple(map(tuple, ranges)) for p, ranges in c["protocols"].items()}
        for src in names[c["src"]]:
            for dst in names[c["dst"]]:
                lines.append((src, dst, protocols))
    return build_facts(lines)


# --- readable differences ----------------------------------------------------------------------

def show_ports(ports: Intervals | None) -> str:
    if not ports:
        return "nothing"
    return ",".join(f"{lo}" if lo == hi else f"{lo}-{hi}" for lo, hi in ports)


def show_area(a: Area | None, family: int) -> str:
    if not a:
        return "nothing"
    def ip(n):
        return str(ipaddress.ip_address(n) if family == 4 else ipaddress.IPv6Address(n))
    return "; ".join(f"ports {show_ports((band,))} with "
                     + ", ".join(f"{ip(lo)}-{ip(hi)}" for lo, hi in ips) for band, ips in a)


def show_connections(protocols: dict[str, Intervals]) -> str:
    if not protocols:
        return "nothing"
    if all(protocols.get(p) == ALL_PORTS for p in PROTOCOLS):
        return "All Connections"
    return ",".join(f"{p} {show_ports(protocols[p])}" for p in PROTOCOLS if p in protocols)


def differences(expected: Facts, found: Facts) -> list[str]:
    """One readable line per workload pair, and per (workload, direction, IP family), that differs."""
    out = []
    pairs = sorted({k[:2] for k in expected.pairs} | {k[:2] for k in found.pairs})
    for src, dst in pairs:
        e = {p: v for (s, d, p), v in expected.pairs.items() if (s, d) == (src, dst)}
        f = {p: v for (s, d, p), v in found.pairs.items() if (s, d) == (src, dst)}
        if e != f:
            out.append(f"{src} => {dst}: expected {show_connections(e)}; kreach {show_connections(f)}")
    sides = sorted({k[:3] for k in expected.externals} | {k[:3] for k in found.externals})
    for workload, direction, family in sides:
        arrow = f"IPv{family} => {workload}" if direction == "ingress" else f"{workload} => IPv{family}"
        differing: dict[tuple, list[str]] = {}  # protocols with the same difference share a line
        for proto in PROTOCOLS:
            key = (workload, direction, family, proto)
            e, f = expected.externals.get(key), found.externals.get(key)
            if e != f:
                differing.setdefault((e, f), []).append(proto)
        for (e, f), protos in differing.items():
            out.append(f"{arrow} {','.join(protos)}:\n      expected {show_area(e, family)}"
                       f"\n      kreach   {show_area(f, family)}")
    return out


def run_kreach(directory: Path) -> dict:
    result = CliRunner().invoke(app, ["list", str(directory), "--format", "json"])
    assert result.exit_code != 2, f"kreach failed (exit 2):\n{result.stdout}\n{result.stderr}"
    return json.loads(result.stdout)


# --- the oracle reader itself --------------------------------------------------------------------

@pytest.mark.parametrize("text, protocols", [
    ("All Connections", {"SCTP": ALL_PORTS, "TCP": ALL_PORTS, "UDP": ALL_PORTS}),
    ("TCP 80,8000-8100", {"TCP": ((80, 80), (8000, 8100))}),
    ("SCTP 9000-9001,UDP 53", {"SCTP": ((9000, 9001),), "UDP": ((53, 53),)}),
    ("UDP 1-65535", {"UDP": ALL_PORTS}),
    ("TCP 81,80", {"TCP": ((80, 81),)}),
])
def test_connections_are_read_as_port_sets_per_protocol(text, protocols):
    assert parse_connections(text) == protocols


def test_an_address_area_does_not_depend_on_how_it_is_split():
    whole = area([(0, 99, 1, 65535)])
    split = area([(0, 49, 1, 100), (50, 99, 1, 100), (0, 99, 101, 65535)])
    assert whole == split
    assert area([(0, 98, 1, 65535)]) != whole


# --- the cases -----------------------------------------------------------------------------------

@pytest.mark.parametrize("case", ORACLE_CASES, ids=[c.name for c in ORACLE_CASES])
def test_kreach_matches_the_hand_derived_connectivity(case: Path):
    __tracebackhide__ = True
    assert (case / "README.md").is_file(), f"{case.name} has no README.md stating its rule"
    # an object skipped for an error would silently change what the case means
    errors = [str(d) for d in analyze([str(case)]).diagnostics if d.severity is Severity.ERROR]
    assert errors == [], f"{case.name} has error diagnostics: {errors}"
    expected = expected_facts(case / "expected.txt")
    found = kreach_facts(run_kreach(case))
    diff = differences(expected, found)
    if diff:
        pytest.fail(f"{case.name}: kreach differs from expected.txt in {len(diff)} fact(s)"
                    f" (see {case.name}/README.md for the rule):\n  " + "\n  ".join(diff),
                    pytrace=False)


def test_the_demo_is_clean_input():
    """No errors and no warnings: the demo's only problem is its connectivity."""
    analysis = analyze([str(DEMO)])
    assert not analysis.is_empty
    noisy = [str(d) for d in analysis.diagnostics if d.severity in (Severity.ERROR, Severity.WARNING)]
    assert noisy == []


def test_the_demo_shows_the_forgotten_debug_policy():
    """payments/allow-all-debug admits every address and every non-isolated pod to payments."""
    facts = kreach_facts(run_kreach(DEMO))
    everything = {4: area([(0, 2**32 - 1, 1, 65535)]), 6: area([(0, 2**128 - 1, 1, 65535)])}
    for family, whole in everything.items():
        for proto in PROTOCOLS:
            assert facts.externals.get(("payments/ledger[Deployment]", "ingress", family, proto)) == whole
    assert facts.pairs.get(("monitoring/prometheus[Deployment]", "payments/ledger[Deployment]", "UDP")) \
        == ALL_PORTS
    # while the shop database, behind the same kind of baseline without the debug policy, stays closed
    for family in everything:
        assert ("shop/db[StatefulSet]", "ingress", family, "TCP") not in facts.externals
