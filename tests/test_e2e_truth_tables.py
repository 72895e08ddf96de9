"""kreach reproduces the truth tables of Kubernetes' own e2e NetworkPolicy suite.

Every checked state of the suite (see :mod:`e2e_netpol`: 3 namespaces x 3 pods, 72 ordered pairs of
distinct pods per state, one port and protocol) is replayed through the whole pipeline (loader,
validation, model, class engine) and compared pair by pair. The pods carry IPs, as the suite's
pods do, so the ipBlock tests (CIDRs built from pod IPs, ``except`` carving one pod out) are
replayed too. The Z3 engine answers the same questions on the ipBlock states (the class engine is
cross-checked against Z3 on random clusters elsewhere; every state under ``-m slow``).
"""

from __future__ import annotations

import pytest

from analyzer.engine.compile import compile_policies
from analyzer.query.can import can
from analyzer.query.engine import Engine
from analyzer.testing import cluster_from_manifests

from e2e_netpol import ALL_PODS, STATES, State, truth_table


def kreach_table(state: State):
    analysis = cluster_from_manifests(state.objects()).analysis
    assert not analysis.has_errors, analysis.diagnostics
    reach = analysis.reachability
    cls = reach.index.pod_class
    pos = {f"{p.namespace}/{p.name}": i for i, p in enumerate(analysis.cluster.pods)}
    table = {}
    for s in ALL_PODS:
        for d in ALL_PODS:
            if s != d:
                edge = reach.class_edges.get((cls[pos[s]], cls[pos[d]]))
                table[(s, d)] = edge is not None and edge.conns.allows(state.protocol, state.port)
    return analysis, table


def _differences(expected, found):
    return sorted(f"{s} -> {d}: expected {'allow' if e else 'deny'}"
                  for (s, d), e in expected.items() if found[(s, d)] != e)


def test_every_upstream_state_is_replayed():
    assert len(STATES) >= 54
    assert len({s.id + s.protocol + str(s.port) for s in STATES}) == len(STATES)


@pytest.mark.parametrize("state", STATES, ids=lambda s: f"{s.id} {s.protocol}/{s.port}")
def test_class_engine_matches_the_e2e_truth_table(state):
    _, found = kreach_table(state)
    assert _differences(truth_table(state.table), found) == []


def _z3_agrees(state: State):
    analysis, found = kreach_table(state)
    engine = Engine(analysis.cluster, compile_policies(analysis.cluster.policies))
    for (s, d), allowed in found.items():
        (sn, sp), (dn, dp) = s.split("/"), d.split("/")
        verdict = can(engine, f"{sn}/pod/{sp}", f"{dn}/pod/{dp}", port=state.port,
                      protocol=state.protocol)
        assert verdict.allowed == allowed, (s, d, verdict)


IP_STATES = [s for s in STATES if any("ipBlock" in str(p) for p in s.policies)]


@pytest.mark.parametrize("state", IP_STATES, ids=lambda s: s.id)
def test_z3_agrees_on_the_ipblock_states(state):
    _z3_agrees(state)


@pytest.mark.slow
@pytest.mark.parametrize("state", STATES, ids=lambda s: f"{s.id} {s.protocol}/{s.port}")
def test_z3_agrees_on_every_state(state):
    _z3_agrees(state)


def test_without_pod_ips_the_cidr_egress_reaches_no_pod():
    """The reading kreach had before pods carried IPs: an ipBlock matched no pod, so x/a,
    egress-isolated with only an ipBlock rule, reached nothing. The upstream table needs y/b."""
    state = next(s for s in IP_STATES if s.test.startswith("should allow egress access"))
    objects = state.objects()
    for o in objects:
        o.pop("status", None)
    reach = cluster_from_manifests(objects).analysis.reachability
    xa = next(c for c in reach.index.classes if c.namespace == "x" and ("pod", "a") in c.labels)
    assert not any(s == xa.index for s, _ in reach.class_edges)
