"""Properties of ``analyzer.diff`` on random clusters: the diff of A and B is exactly where
``kreach list`` of A and of B differ (pair by pair, address by address, with the connections of
each side), and a cluster compared with itself has no changes.

B is drawn from A: some of A's policies dropped, new ones and new pods added, so the two share
most of their workloads and the diff has something to say."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings, strategies as st

import analyzer
from analyzer import Options
from analyzer.analysis import analyze_texts
from analyzer.model.connset import NO_CONNECTIONS
from analyzer.testing.strategies import clusters, pods, policies

NAMESPACES = ("ns-a", "ns-b")


@st.composite
def cluster_pairs(draw):
    a = draw(clusters(NAMESPACES, max_pods=5, max_policies=4))
    b = [o for o in a if o["kind"] != "NetworkPolicy" or draw(st.booleans())]
    b += [draw(policies(NAMESPACES, name=f"new-np-{i}")) for i in range(draw(st.integers(0, 2)))]
    b += [draw(pods(NAMESPACES, name=f"new-pod-{i}")) for i in range(draw(st.integers(0, 1)))]
    if draw(st.booleans()):  # a pod of A goes away
        gone = next((o for o in b if o["kind"] == "Pod"), None)
        b = [o for o in b if o is not gone]
    return a, b


def _analysis(objects: list[dict], level: str):
    return analyze_texts([("c.yaml", yaml.safe_dump_all(objects, sort_keys=False))], Options(level=level, cache=False))


def _pieces(view):
    """(workload or pod, the other end or a direction) -> [(lo, hi, conns)] as list prints it."""
    out: dict = {}
    for (s, d), a in view.edges.items():
        ns, nd = view.nodes[s], view.nodes[d]
        if ns["type"] == "external":
            out.setdefault((d, "from outside"), []).append((*ns["interval"], a.conns))
        elif nd["type"] == "external":
            out.setdefault((s, "to outside"), []).append((*nd["interval"], a.conns))
        else:
            out.setdefault((s, d), []).append((0, 0, a.conns))
    return out


def _diff_pieces(d):
    before: dict = {}
    after: dict = {}
    for c in d.changes:
        es, ed = d.endpoints[c.src], d.endpoints[c.dst]
        if es["type"] == "external":
            key, (lo, hi) = (c.dst, "from outside"), es["interval"]
        elif ed["type"] == "external":
            key, (lo, hi) = (c.src, "to outside"), ed["interval"]
        else:
            key, (lo, hi) = (c.src, c.dst), (0, 0)
        before.setdefault(key, []).append((lo, hi, c.before))
        after.setdefault(key, []).append((lo, hi, c.after))
    return before, after


def _at(entries, x):
    conns = NO_CONNECTIONS
    for lo, hi, c in entries:
        if lo <= x <= hi:
            conns = conns | c
    return conns


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cluster_pairs(), st.sampled_from(["workload", "pod"]))
def test_the_diff_is_exactly_where_the_two_lists_differ(pair, level):
    a, b = (_analysis(objects, level) for objects in pair)
    d = analyzer.diff(a, b)
    pa, pb = _pieces(a.view), _pieces(b.view)
    db, da = _diff_pieces(d)
    for key in pa.keys() | pb.keys() | db.keys():
        entries = pa.get(key, []) + pb.get(key, []) + db.get(key, [])
        points = {0} | {lo for lo, _, _ in entries} | {hi + 1 for _, hi, _ in entries}
        for x in sorted(points):
            old, new = _at(pa.get(key, []), x), _at(pb.get(key, []), x)
            said = (_at(db.get(key, []), x), _at(da.get(key, []), x))
            assert said == ((old, new) if old != new else (NO_CONNECTIONS, NO_CONNECTIONS)), (key, x)
    for c in d.changes:  # the classification follows from before and after
        assert c.change == ("added" if not c.before else "removed" if not c.after else "changed")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(clusters(NAMESPACES, max_pods=5, max_policies=4))
def test_a_cluster_compared_with_itself_has_no_changes(objects):
    a = _analysis(objects, "workload")
    d = analyzer.diff(a, _analysis(objects, "workload"))
    assert d.changes == () and d.new_endpoints == () and d.removed_endpoints == ()
