"""`kreach exposure` finds every ingress exposure netpol-analyzer lists, on its core exposure cases.

The oracle: the 46 netpol-analyzer cases in ``../shared/peer-cases/netpol-analyzer`` run as
``list --dirpath <input_dir> --multiple-networks=false --exposure`` (category ``exposure``, content
``core``, txt). Each expected file ends with an "Exposure Analysis Result" whose Ingress section has
lines ``W <= SOURCE : conns``. Every line must be covered by a kreach finding for the same workload
(both name it ``ns/name[Kind]`` with the owner kind):

=========================================  ====================================================
peer SOURCE                                kreach finding that covers it
=========================================  ====================================================
an IP range ``a.b.c.d-e.f.g.h[External]``  ``internet`` whose ports include the peer's, or
                                           ``not-isolated``
``entire-cluster``                         ``new-namespace`` (a pod of any namespace, even one
                                           that does not exist yet), or ``not-isolated``
``[all namespaces]/[...]``                 as ``entire-cluster``
``ns/[...]``, ``ns`` exists                ``new-pod`` or ``other-namespace`` from ``ns``, or
                                           ``not-isolated``
``ns/[...]``, ``ns`` not in the input      ``new-namespace``, or ``not-isolated``
``[namespace with {S}]/[...]``             ``new-namespace`` (a new namespace may carry the
                                           labels S), or ``new-pod`` / ``other-namespace`` from
                                           an existing namespace whose labels match S, or
                                           ``not-isolated``
=========================================  ====================================================

The comparison is one-way and at the level of (workload, source) presence: kreach may report
more (it also asks about new pods of the workload's own namespace that existing pods' labels
already cover, which the peer leaves to its connlist). Ports are compared for internet findings
only, the one kind whose ``conns`` kreach always fills; findings about pods that do not exist yet
carry a witness instead of a port set.

The peer's "Workloads not protected by network policies" lines ``W is not protected on Ingress``
must be kreach's ``not-isolated`` findings.

Not applicable: the Egress Exposure section and "not protected on Egress" lines. kreach's
exposure is about who can reach a workload (ingress); it does not report egress exposure.

Skipped when ``../shared`` is absent.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pytest

from analyzer import Options, analyze
from analyzer.model.connset import ConnectionSet
from analyzer.query.engine import Engine, QueryOptions
from analyzer.query.exposure import exposure
from analyzer.query.verdict import ExposureReport, Finding, PodWitness

SHARED = Path(__file__).resolve().parents[2] / "shared"
PEER = SHARED / "peer-cases" / "netpol-analyzer"
INDEX = PEER / "INDEX.tsv"
TOOLS = SHARED / "peer-cases" / "tools"
FLAGS = "list --dirpath <input_dir> --multiple-networks=false --exposure"
ABSENT = f"{INDEX} is absent (../shared/peer-cases not checked out)"


def exposure_cases() -> list[dict[str, str]]:
    if not INDEX.is_file():
        return []
    with INDEX.open(newline="") as f:
        return [r for r in csv.DictReader(f, delimiter="\t")
                if r["category"] == "exposure" and r["content"] == "core" and r["format"] == "txt"
                and r["flags"] == FLAGS]


CASES = exposure_cases()
pytestmark = [
    pytest.mark.skipif(not INDEX.is_file(), reason=ABSENT),
    pytest.mark.parametrize("case", CASES, ids=[r["case_dir"].split("/", 1)[1] for r in CASES]),
]


def npa_parse(text: str) -> dict:
    if str(TOOLS) not in sys.path:
        sys.path.insert(0, str(TOOLS))
    from normalize import npa_parse as parse  # the collection's own parser, not ours

    return parse(text, "txt")


# ------------------------------------------------------------------------------------------------
# The peer's source peers
# ------------------------------------------------------------------------------------------------
IP_RANGE = re.compile(r"^[0-9.]+-[0-9.]+\[External\]$")
REPRESENTATIVE = re.compile(r"^(?:\[namespace with (?P<sel>\{.*\})\]|\[all namespaces\]|(?P<ns>[^/\[]+))/\[.*\]$")
EXPRESSION = re.compile(r"\{Key:(?P<key>[^,]+),Operator:(?P<op>\w+),Values:\[(?P<values>[^\]]*)\],\}")


@dataclass(frozen=True)
class Source:
    """A peer SOURCE: ``internet``, ``any-namespace`` (entire-cluster, [all namespaces]),
    ``namespace`` (a named one) or ``selected`` (namespaces matching ``requirements``)."""

    kind: str
    namespace: str | None = None
    requirements: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (key, operator, values)

    def admits(self, labels: dict[str, str]) -> bool:
        """Do namespace labels meet a ``selected`` source's requirements? (Kubernetes semantics:
        NotIn and DoesNotExist hold when the key is absent.)"""
        for key, op, values in self.requirements:
            present, value = key in labels, labels.get(key)
            ok = {"In": present and value in values, "NotIn": not present or value not in values,
                  "Exists": present, "DoesNotExist": not present}[op]
            if not ok:
                return False
        return True


def parse_source(text: str) -> Source:
    if IP_RANGE.match(text):
        return Source("internet")
    if text == "entire-cluster":
        return Source("any-namespace")
    m = REPRESENTATIVE.match(text)
    assert m, f"unknown peer source {text!r}"
    if m["ns"]:
        return Source("namespace", namespace=m["ns"])
    if m["sel"] is None:
        return Source("any-namespace")
    return Source("selected", requirements=parse_selector(m["sel"]))


def parse_selector(text: str) -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """``{k=v,{Key:k2,Operator:In,Values:[a b],}}`` -> requirements."""
    body = text[1:-1]
    reqs = [(m["key"], m["op"], tuple(m["values"].split())) for m in EXPRESSION.finditer(body)]
    for item in EXPRESSION.sub("", body).split(","):
        if item:
            key, value = item.split("=", 1)
            reqs.append((key, "In", (value,)))
    return tuple(reqs)


def peer_conns(tuples) -> ConnectionSet:
    """Numeric ports only; a named port (exposure sections keep names) is left to kreach."""
    out = ConnectionSet.of({})
    for proto, lo, hi in tuples:
        if isinstance(lo, int):
            out = out | ConnectionSet.ports(proto, lo, hi)
    return out


# ------------------------------------------------------------------------------------------------
# kreach's findings
# ------------------------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def kreach(case_dir: str) -> tuple[Engine, ExposureReport]:
    engine = Engine.from_analysis(analyze([str(PEER / case_dir / "input")], Options(schema=False)),
                                  QueryOptions())
    return engine, exposure(engine, hypothetical=True)


def source_namespace(f: Finding) -> str | None:
    """The existing namespace a new-pod or other-namespace finding comes from."""
    if f.witness is not None and isinstance(f.witness.src, PodWitness):
        return f.witness.src.namespace
    m = re.match(r"^(?:new pod|existing pods) in (\S+)$", f.source)
    return m.group(1) if m else None


def covers(f: Finding, src: Source, conns: ConnectionSet, namespaces: dict[str, dict[str, str]]) -> bool:
    if f.kind == "not-isolated":
        return True
    if src.kind == "internet":
        return f.kind == "internet" and f.conns is not None and conns.issubset(f.conns)
    if f.kind == "new-namespace":
        # A namespace that does not exist yet: any, or one carrying the selected labels, or one
        # named like a namespace the input does not have.
        return src.kind in ("any-namespace", "selected") or src.namespace not in namespaces
    if f.kind in ("new-pod", "other-namespace"):
        ns = source_namespace(f)
        if src.kind == "namespace":
            return ns == src.namespace
        if src.kind == "selected":
            return ns in namespaces and src.admits(namespaces[ns])
    return False


def uncovered_ingress_exposures(case: dict[str, str]) -> list[str]:
    expected = npa_parse((PEER / case["expected_file"]).read_text(encoding="utf-8"))
    grouped: dict[tuple[str, str], list] = {}
    for src, dst, proto, lo, hi in expected["ingress_exposure"]:
        grouped.setdefault((dst, src), []).append((proto, lo, hi))
    engine, report = kreach(case["case_dir"])
    workloads = {w.id for w in engine.cluster.workloads}
    namespaces = {n.name: dict(n.labels) for n in engine.cluster.namespaces}
    missing = []
    for (w, peer_src), tuples in sorted(grouped.items()):
        if w not in workloads:
            missing.append(f"{w}: not a kreach workload (have {sorted(workloads)})")
            continue
        src, conns = parse_source(peer_src), peer_conns(tuples)
        if not any(f.workload == w and covers(f, src, conns, namespaces) for f in report.findings):
            found = [(f.kind, f.source, f.conns.to_text() if f.conns else None)
                     for f in report.findings if f.workload == w]
            missing.append(f"{w} <= {peer_src} : {conns.to_text()}; kreach has {found}")
    return missing


def test_kreach_finds_every_ingress_exposure_the_peer_lists(case):
    missing = uncovered_ingress_exposures(case)
    assert not missing, "\n".join(["ingress exposures kreach does not report:", *missing])
    assert not kreach(case["case_dir"])[1].unknown


def test_workloads_the_peer_calls_unprotected_on_ingress_are_not_isolated(case):
    expected = npa_parse((PEER / case["expected_file"]).read_text(encoding="utf-8"))
    unprotected = {line.split(" is not protected", 1)[0] for line in expected["unprotected"]
                   if line.endswith("is not protected on Ingress")}
    not_isolated = {f.workload for f in kreach(case["case_dir"])[1].findings if f.kind == "not-isolated"}
    assert unprotected == not_isolated
