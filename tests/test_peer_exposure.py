"""`kreach exposure` agrees with every exposure expectation of netpol-analyzer.

The oracle: the cases of ``../shared/peer-cases/netpol-analyzer`` run as
``list --dirpath <input_dir> --multiple-networks=false --exposure`` (txt). Each expected file ends
with an "Exposure Analysis Result": Egress and Ingress sections of lines ``W => PEER : conns`` /
``W <= PEER : conns`` and the lines ``W is not protected on Ingress|Egress``.

For each case, both directions:

* the facts compared by ``../shared/tools/exposure_conformance.py`` (external addresses and ports
  exactly, ``entire-cluster`` ports exactly, the union of ports exposed to selector-described
  peers, the unprotected workloads) are equal, on kreach's ``kreach.exposure/v2`` document;
* every selector-described peer line is one kreach finding: same workload, same direction, the
  same set of pods described (the selectors, read back from the text both tools print), the same
  numeric ports.

Admin policies take part through the tiered decision. Two cases are expected to differ: their
admin policies lack ``subject.pods.podSelector``, which the API requires, and kreach skips them.
Skipped when ``../shared`` is absent.
"""

from __future__ import annotations

import csv
import re
import sys
from functools import lru_cache
from pathlib import Path

import pytest

from analyzer import Options, analyze
from analyzer.query.engine import Engine
from analyzer.query.exposure import exposure
from analyzer.writers.verdict_json import exposure_document

SHARED = Path(__file__).resolve().parents[2] / "shared"
PEER = SHARED / "peer-cases" / "netpol-analyzer"
INDEX = PEER / "INDEX.tsv"
TOOLS = SHARED / "tools"
FLAGS = "list --dirpath <input_dir> --multiple-networks=false --exposure"


def exposure_cases() -> list[dict[str, str]]:
    if not INDEX.is_file():
        return []
    with INDEX.open(newline="") as f:
        return [r for r in csv.DictReader(f, delimiter="\t")
                if r["format"] == "txt" and r["flags"] == FLAGS]


CASES = exposure_cases()
# netpol-analyzer accepts an admin policy whose subject.pods has no podSelector; the API requires
# one, and kreach skips such a policy (KR133), so these two cases analyse a different input
REJECTED_INPUT = {"anp/exposure_test_with_anp_14", "anp/exposure_test_with_anp_15"}
PARAMS = [pytest.param(r, id=r["case_dir"],
                       marks=[pytest.mark.xfail(reason="input rejected by validation (KR133)",
                                                strict=True)] if r["case_dir"] in REJECTED_INPUT else [])
          for r in CASES]
pytestmark = pytest.mark.skipif(not INDEX.is_file(), reason=f"{INDEX} is absent")


def oracle():
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    import exposure_conformance  # the collection's own comparison, not ours

    return exposure_conformance


@lru_cache(maxsize=None)
def kreach(case_dir: str) -> dict:
    analysis = analyze([str(PEER / case_dir / "input")], Options(schema=False))
    return exposure_document(exposure(Engine.from_analysis(analysis)))


@pytest.mark.parametrize("case", PARAMS)
def test_every_exposure_fact_agrees(case):
    tool = oracle()
    expected_facts, expected_unprotected = tool.expected(str(PEER / case["expected_file"]))
    got_facts, got_unprotected = tool.got(kreach(case["case_dir"]))
    assert tool.conf.compare(expected_facts, got_facts) == []
    assert got_unprotected == expected_unprotected


SECTIONS = {"Egress Exposure:": "egress", "Ingress Exposure:": "ingress"}
LINE = re.compile(r"^(?P<w>\S+)\s+(?:=>|<=)\s+(?P<peer>.+?) : (?P<conns>.+)$")
EXPRESSION = re.compile(r"\{Key:(?P<key>[^,]+),Operator:(?P<op>\w+),Values:\[(?P<values>[^\]]*)\],\}")


def selector_items(text: str) -> frozenset:
    """``{k=v,{Key:k2,Operator:In,Values:[a b],}}`` -> requirement tuples; ``k=v`` and a one-value
    ``In`` are the same requirement."""
    body = text[1:-1]
    out = set()
    for m in EXPRESSION.finditer(body):
        out.add((m["key"], m["op"], frozenset(m["values"].split())))
    for item in EXPRESSION.sub("", body).split(","):
        if item:
            k, v = item.split("=", 1)
            out.add((k, "In", frozenset({v})))
    return frozenset(out)


def peer_key(text: str):
    """A selector-described peer as (namespace part, pod part), each a frozenset of requirements
    or a namespace name; None for external ranges and entire-cluster."""
    if text == "entire-cluster" or "[External]" in text or re.match(r"^[0-9a-f:.]+-[0-9a-f:.]+$", text):
        return None
    ns, _, pods = text.partition("/[")
    pods = "[" + pods
    if ns == "[all namespaces]":
        ns_key = frozenset()
    elif ns.startswith("[namespace with "):
        ns_key = selector_items(ns[len("[namespace with "):-1])
    else:
        ns_key = ns
    pod_key = frozenset() if pods == "[all pods]" else selector_items(pods[len("[pod with "):-1])
    return ns_key, pod_key


@pytest.mark.parametrize("case", PARAMS)
def test_every_selector_described_peer_is_a_finding(case):
    text = (PEER / case["expected_file"]).read_text()
    expected, direction = set(), None
    for line in text[text.index("Exposure Analysis Result:"):].splitlines():
        direction = SECTIONS.get(line.strip(), direction)
        m = LINE.match(line.strip())
        if m and direction:
            key = peer_key(m["peer"])
            if key is not None:
                expected.add((m["w"], direction, key))
    got = set()
    for f in kreach(case["case_dir"])["findings"]:
        if f["peer"]["kind"] in ("namespaces", "pods"):
            got.add((f["workload"], f["direction"], peer_key(f["peer"]["text"])))
    assert got == expected
