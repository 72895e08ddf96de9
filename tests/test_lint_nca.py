"""network-config-analyzer's scheme expectations (the ``core`` group) against kreach lint and
compare. What NCA's numbers mean (its NetworkConfigQueryRunner): one-config queries (sanity,
redundancy, emptiness, vacuity) are summed over the configs; containment compares each config with
the first; equivalence, strongEquivalence and twoWayContainment every pair.

* vacuity, equivalence, strongEquivalence, containment and twoWayContainment are compared
  exactly (a vacuous config is one whose connectivity equals that of no policy at all);
* sanity, redundancy and emptiness count NCA's own items (per rule, per peer, per policy, with
  its own grouping), so only "some" versus "none" is compared.

Deliberate differences are marked with the reason (docs/semantics.md, "lint and compare against
NCA")."""

from __future__ import annotations

from itertools import combinations

import pytest

from analyzer.compare import compare, strongly_equivalent
from analyzer.lint import LintSettings, lint

from nca_schemes import config, configs_of, rebuilt, rows

EMPTINESS = frozenset({"KRL201", "KRL202", "KRL203", "KRL204"})
REDUNDANCY = frozenset({"KRL501", "KRL502", "KRL503", "KRL504"})
SANITY = EMPTINESS | REDUNDANCY | {"KRL505"}

PEER_NOT_RULE = ("kreach reports each peer that matches nothing (KRL203); NCA's emptiness counts a "
                 "rule only when all its peers match nothing")
EXCEPT_OUTSIDE = ("kreach rejects the policy (KR111): an except outside its cidr is refused by the "
                  "API server's validation; NCA accepts and compares it")
DIFFERENCES: dict[tuple[str, str], str] = {
    ("core:k8s_testcases/testcase4", "emptiness"): PEER_NOT_RULE,
    ("core:k8s_testcases/withIpBlock2", "compare_two_equiv_multiple_ports"): EXCEPT_OUTSIDE,
}

ROWS = rows()


def _id(r: dict) -> str:
    return f"{r['case'].split(':', 1)[1]}:{r['query_name']}"


def _vacuous(a) -> bool:
    return compare(a, rebuilt(a, ())).equivalent


def _count_findings(a, codes) -> int:
    return len(lint(a, LintSettings(select=codes)).findings)


def kreach_result(r: dict) -> int:
    q, names = r["query_type"], configs_of(r)
    analyses = [config(r["scheme_file"], n) for n in names]
    if q == "vacuity":
        return sum(_vacuous(a) for a in analyses)
    if q in ("emptiness", "redundancy", "sanity"):
        codes = {"emptiness": EMPTINESS, "redundancy": REDUNDANCY, "sanity": SANITY}[q]
        return sum(_count_findings(a, codes) + (q == "sanity" and _vacuous(a)) for a in analyses)
    if q == "containment":
        base = analyses[0]
        return sum(compare(a, base).relation in ("equivalent", "a-in-b") for a in analyses[1:])
    total = 0
    for a, b in combinations(analyses, 2):
        c = compare(a, b, per_policy=q == "strongEquivalence")
        if q == "equivalence":
            total += not c.equivalent
        elif q == "strongEquivalence":
            total += not strongly_equivalent(c)
        else:
            total += {"equivalent": 3, "a-in-b": 2, "b-in-a": 1, "incomparable": 0}[c.relation]
    return total


def _param(r: dict):
    reason = DIFFERENCES.get((r["case"], r["query_name"]))
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if reason else []
    return pytest.param(r, id=_id(r), marks=marks)


@pytest.mark.skipif(not ROWS, reason="../shared/peer-cases/nca is not there")
@pytest.mark.parametrize("row", [_param(r) for r in ROWS])
def test_nca_expectation(row):
    if not row["expected_result"]:
        pytest.skip("NCA's scheme gives no expected number for this query")
    expected = int(row["expected_result"])
    got = kreach_result(row)
    if row["query_type"] in ("emptiness", "redundancy", "sanity"):
        assert (got > 0) == (expected > 0), f"NCA {expected}, kreach {got}"
    else:
        assert got == expected
