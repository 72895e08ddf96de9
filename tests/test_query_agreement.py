"""Two engines agree: the Z3 query engine and the concrete class engine give the same answer for
every pod pair, pod -> address and address -> pod, on generated clusters.

Hypothesis builds small clusters directly as model objects: 2-3 namespaces with labels, 3-6 pods
with labels, named container ports and often IPs (IPv4, IPv6 or both, inside and outside the
ipBlocks and their excepts, sometimes shared), 1-5 policies with random selectors (matchLabels and all
four matchExpressions operators), peers of every kind (ipBlock with except), numeric, named and
ranged ports of TCP/UDP/SCTP, ingress and egress, policyTypes present or absent.

The default profile keeps the file well under a minute. For a long run::

    KREACH_HYPOTHESIS_PROFILE=long pytest tests/test_query_agreement.py
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings, strategies as st

from analyzer.engine.admin import compile_cluster
from analyzer.model.admin import (ALLOW, BANP, CNP, DENY, PASS, ANP, AdminPeer, AdminPolicy,
                                  AdminPort, AdminRule)
from analyzer.model.connset import address_value, cidr_interval
from analyzer.engine.evaluate import evaluate
from analyzer.engine.incremental import apply_policy_change
from analyzer.model.cluster import (EGRESS, INGRESS, NAME_LABEL, Cluster, ContainerPort, IPBlock,
                            Namespace, NetworkPolicy, Peer, Pod, PortSpec, Rule, Workload)
from analyzer.query.can import can
from analyzer.query.engine import Engine, QueryOptions
from analyzer.model.selectors import LabelSelector, Requirement
from analyzer.source import SourceRef

settings.register_profile("default", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=1500, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("KREACH_HYPOTHESIS_PROFILE", "default"))

SRC = SourceRef("gen.yaml", 1)
KEYS = ("app", "tier", "team")
VALUES = ("x", "y", "z")
PROTOCOLS = ("TCP", "UDP", "SCTP")
PORT_NAMES = ("http", "dns", "metrics")
PORT_NUMBERS = (53, 80, 81, 8080)
CIDRS = ("10.0.0.0/8", "0.0.0.0/0", "192.168.1.0/24", "2001:db8::/32", "::/0")
EXCEPTS = {"10.0.0.0/8": ("10.1.0.0/16",), "0.0.0.0/0": ("10.0.0.0/8",),
           "2001:db8::/32": ("2001:db8:1::/48",)}
SAMPLE_PORTS = (53, 80, 81, 443, 8080)
POD_IPV4 = (None, "10.1.2.3", "10.2.0.1", "192.168.1.7", "8.8.8.8")
POD_IPV6 = (None, "2001:db8:1::5", "2001:db8:2::5", "fe80::1")
SAMPLE_ADDRESSES = ("10.1.2.3", "10.2.0.1", "192.168.1.7", "8.8.8.8", "2001:db8:1::5",
                    "2001:db8:2::5", "fe80::1")

PROTOCOLS_BY_CODE = ("SCTP", "TCP", "UDP")  # analyzer.query.encoding.PROTO_CODE order
labels_st = st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=3)


@st.composite
def selectors(draw) -> LabelSelector:
    exprs = []
    for _ in range(draw(st.integers(0, 2))):
        op = draw(st.sampled_from(("In", "NotIn", "Exists", "DoesNotExist")))
        values = frozenset(draw(st.sets(st.sampled_from(VALUES), min_size=1, max_size=2))) \
            if op in ("In", "NotIn") else frozenset()
        exprs.append(Requirement(draw(st.sampled_from(KEYS)), op, values))
    match = draw(st.dictionaries(st.sampled_from(KEYS), st.sampled_from(VALUES), max_size=1))
    return LabelSelector.build(match, tuple(exprs))


@st.composite
def peers(draw, namespaces) -> Peer:
    kind = draw(st.sampled_from(("pod", "ns", "both", "ip", "ns-name")))
    if kind == "pod":
        return Peer(pod_selector=draw(selectors()))
    if kind == "ns":
        return Peer(namespace_selector=draw(selectors()))
    if kind == "ns-name":
        return Peer(namespace_selector=LabelSelector.build(
            {NAME_LABEL: draw(st.sampled_from(namespaces))}))
    if kind == "both":
        return Peer(pod_selector=draw(selectors()), namespace_selector=draw(selectors()))
    cidr = draw(st.sampled_from(CIDRS))
    excepts = EXCEPTS.get(cidr, ()) if draw(st.booleans()) else ()
    return Peer(ip_block=IPBlock(cidr, excepts))


@st.composite
def port_specs(draw) -> PortSpec:
    proto = draw(st.sampled_from(PROTOCOLS))
    kind = draw(st.sampled_from(("number", "range", "name", "all")))
    if kind == "number":
        return PortSpec(proto, draw(st.sampled_from(PORT_NUMBERS)))
    if kind == "range":
        lo = draw(st.sampled_from(PORT_NUMBERS))
        return PortSpec(proto, lo, lo + draw(st.integers(0, 100)))
    if kind == "name":
        return PortSpec(proto, draw(st.sampled_from(PORT_NAMES)))
    return PortSpec(proto)


@st.composite
def rules(draw, direction, namespaces) -> tuple[Rule, ...]:
    out = []
    for i in range(draw(st.integers(0, 2))):
        ps = draw(st.one_of(st.none(), st.lists(peers(namespaces), min_size=1, max_size=2)))
        ports = draw(st.one_of(st.none(), st.lists(port_specs(), min_size=1, max_size=2)))
        out.append(Rule(direction, i, tuple(ps) if ps else None, tuple(ports) if ports else None))
    return tuple(out)


@st.composite
def clusters(draw) -> Cluster:
    names = [f"n{i}" for i in range(draw(st.integers(2, 3)))]
    namespaces = tuple(Namespace(n, tuple(sorted({**draw(labels_st), NAME_LABEL: n}.items())), SRC)
                       for n in names)
    pods, workloads = [], []
    for i in range(draw(st.integers(3, 6))):
        ns = draw(st.sampled_from(names))
        ports = tuple(ContainerPort(draw(st.sampled_from(PORT_NUMBERS)), draw(st.sampled_from(PROTOCOLS)),
                                    name)
                      for name in draw(st.sets(st.sampled_from(PORT_NAMES), max_size=2)))
        w = Workload("Pod", ns, f"p{i}", tuple(sorted(draw(labels_st).items())), SRC)
        workloads.append(w)
        ips = tuple(sorted(address_value(a) for a in (draw(st.sampled_from(POD_IPV4)),
                                                      draw(st.sampled_from(POD_IPV6))) if a))
        pods.append(Pod(ns, f"p{i}", w.id, w.labels, ports, False, SRC, ips))
    policies = []
    for i in range(draw(st.integers(1, 5))):
        ns = draw(st.sampled_from(names))
        ingress = draw(rules(INGRESS, names))
        egress = draw(rules(EGRESS, names))
        types = draw(st.one_of(st.none(), st.sets(st.sampled_from((INGRESS, EGRESS)), min_size=1)))
        if types is None:  # defaulted as the API server does
            types = {INGRESS} | ({EGRESS} if egress else set())
        policies.append(NetworkPolicy(ns, f"np{i}", draw(selectors()), frozenset(types),
                                      ingress, egress, SRC))
    return Cluster(namespaces, tuple(workloads), tuple(pods), (), tuple(policies))


def wide_selectors():
    """Admin policies are cluster-wide: mostly broad selectors, so they meet pods often."""
    return st.one_of(st.just(LabelSelector()), st.just(LabelSelector()), selectors())


@st.composite
def admin_peers(draw, direction) -> AdminPeer:
    kind = draw(st.sampled_from(("namespaces", "pods") + (("networks",) if direction == EGRESS else ())))
    if kind == "namespaces":
        return AdminPeer(kind, namespace_selector=draw(wide_selectors()))
    if kind == "pods":
        return AdminPeer(kind, namespace_selector=draw(wide_selectors()), pod_selector=draw(selectors()))
    return AdminPeer(kind, networks=tuple(sorted(draw(st.sets(st.sampled_from(CIDRS), min_size=1,
                                                                max_size=2)))))


@st.composite
def admin_ports(draw) -> AdminPort:
    kind = draw(st.sampled_from(("number", "range", "name")))
    if kind == "name":
        return AdminPort(named=draw(st.sampled_from(PORT_NAMES)))
    lo = draw(st.sampled_from(PORT_NUMBERS))
    return AdminPort(draw(st.sampled_from(PROTOCOLS)), lo,
                     lo if kind == "number" else lo + draw(st.integers(1, 100)))


@st.composite
def admin_policies(draw, kind: str, name: str, priority: int | None) -> AdminPolicy:
    actions = (ALLOW, DENY) if kind == BANP else (ALLOW, DENY, PASS)
    tier = "Baseline" if kind == BANP else draw(st.sampled_from(("Admin", "Baseline"))) \
        if kind == CNP else "Admin"
    rules = {}
    for direction in (INGRESS, EGRESS):
        out = []
        for i in range(draw(st.integers(0, 3))):
            action = draw(st.sampled_from(actions))
            ports = draw(st.one_of(st.none(), st.lists(admin_ports(), min_size=1, max_size=2)))
            out.append(AdminRule(direction, i, None, action, action,
                                 tuple(draw(st.lists(admin_peers(direction), min_size=1, max_size=2))),
                                 tuple(ports) if ports else None))
        rules[direction] = tuple(out)
    subject_pods = draw(selectors()) if draw(st.booleans()) else LabelSelector()
    return AdminPolicy(kind, name, tier, priority, draw(wide_selectors()), subject_pods,
                       rules[INGRESS], rules[EGRESS], SRC)


@st.composite
def admin_clusters(draw) -> Cluster:
    """A generated cluster plus AdminNetworkPolicies / ClusterNetworkPolicies (distinct
    priorities) and maybe a BaselineAdminNetworkPolicy; some pods on the host network."""
    cluster = draw(clusters())
    prios = draw(st.permutations((1, 2, 3, 4)))
    admin = [draw(admin_policies(draw(st.sampled_from((ANP, CNP))), f"a{i}", prios[i]))
             for i in range(draw(st.integers(1, 3)))]
    if draw(st.booleans()):
        admin.append(draw(admin_policies(BANP, "default", None)))
    pods = tuple(Pod(p.namespace, p.name, p.workload, p.labels, p.ports,
                     draw(st.booleans()) if i == 0 else False, p.source, p.ips)
                 for i, p in enumerate(cluster.pods))
    return Cluster(cluster.namespaces, cluster.workloads, pods, (), cluster.policies, tuple(admin))


def concrete_answers(cluster: Cluster, reach=None):
    """(src, dst, protocol, port) -> allowed, from the class engine (``reach``: a result for
    ``cluster`` obtained otherwise, e.g. incrementally)."""
    reach = reach if reach is not None else evaluate(cluster)
    cls = reach.index.pod_class
    starts = [lo for lo, _ in reach.ip_atoms]

    def atom(addr: int) -> int:
        return max(i for i, s in enumerate(starts) if s <= addr)

    def conns_ip(regions, addr: int):
        a = atom(addr)
        return [al.conns for bits, al in regions if bits >> a & 1]

    out = {}
    for i, p in enumerate(cluster.pods):
        for j, q in enumerate(cluster.pods):
            if i == j:
                continue
            edge = reach.class_edges.get((cls[i], cls[j]))
            for proto in PROTOCOLS:
                for port in SAMPLE_PORTS:
                    out[(f"{p.namespace}/pod/{p.name}", f"{q.namespace}/pod/{q.name}", proto, port)] = \
                        edge is not None and edge.conns.allows(proto, port)
        for text in SAMPLE_ADDRESSES:
            addr = cidr_interval(text)[0]
            to = conns_ip(reach.to_ip.get(cls[i], ()), addr)
            frm = conns_ip(reach.from_ip.get(cls[i], ()), addr)
            for proto in PROTOCOLS:
                for port in SAMPLE_PORTS:
                    out[(f"{p.namespace}/pod/{p.name}", text, proto, port)] = \
                        any(c.allows(proto, port) for c in to)
                    out[(text, f"{p.namespace}/pod/{p.name}", proto, port)] = \
                        any(c.allows(proto, port) for c in frm)
    return out


def _assert_agree(cluster: Cluster, options: QueryOptions, sample) -> None:
    engine = Engine(cluster, compile_cluster(cluster), options=options)
    expected = concrete_answers(cluster)
    for key in sample(sorted(expected)):
        src, dst, proto, port = key
        verdict = can(engine, src, dst, port=port, protocol=proto)
        assert verdict.answer.value in ("yes", "no"), verdict
        assert verdict.allowed == expected[key], (
            f"{src} -> {dst} {proto} {port}: z3 says {verdict.answer.value}, "
            f"class engine says {expected[key]}\n{cluster.policies}\n{cluster.pods}")


@given(clusters(), st.randoms(use_true_random=False))
def test_z3_and_class_engine_agree_on_known_pods(cluster, rnd):
    _assert_agree(cluster, QueryOptions(), lambda keys: rnd.sample(keys, min(len(keys), 60)))


@given(clusters(), st.randoms(use_true_random=False))
def test_symbolic_encoding_of_known_pods_agrees_too(cluster, rnd):
    """The same, with known pods encoded as Z3 label variables (the encoding hypothetical pods
    use), so selector, namespace and named-port formulas are checked as well."""
    _assert_agree(cluster, QueryOptions(symbolic=True),
                  lambda keys: rnd.sample(keys, min(len(keys), 25)))


@given(clusters())
def test_any_port_question_agrees_with_the_union_of_ports(cluster):
    engine = Engine(cluster, compile_cluster(cluster))
    reach = evaluate(cluster)
    cls = reach.index.pod_class
    for i, p in enumerate(cluster.pods):
        for j, q in enumerate(cluster.pods):
            if i != j:
                edge = reach.class_edges.get((cls[i], cls[j]))
                verdict = can(engine, f"{p.namespace}/pod/{p.name}", f"{q.namespace}/pod/{q.name}")
                assert verdict.allowed == (edge is not None and bool(edge.conns)), verdict
                if verdict.allowed:
                    w = verdict.witness
                    assert edge.conns.allows(w.protocol, w.port)




@settings(max_examples=15)
@given(admin_clusters(), st.randoms(use_true_random=False))
def test_z3_and_class_engine_agree_with_admin_policies(cluster, rnd):
    """Admin, NetworkPolicy and Baseline tiers, Pass, per-port fall-through, networks peers,
    host-network pods: both engines decide alike."""
    _assert_agree(cluster, QueryOptions(), lambda keys: rnd.sample(keys, min(len(keys), 60)))


def _z3_differs(engine: Engine, src: str, dst: str, conns) -> str | None:
    """One solver call per pair: is there a protocol and port where the Z3 encoding and the
    class engine's connection set disagree? Returns the differing flow, or None."""
    import z3
    from analyzer.query.can import bind, sides
    from analyzer.query.encoding import Flow, as_z3, disj

    bs, bd = bind(engine, engine.resolve(src), "src"), bind(engine, engine.resolve(dst), "dst")
    flow = Flow.fresh()
    eg, ing = sides(engine, bs.term, bd.term, flow)
    allows = as_z3(conj_all(s.allows for s in (eg, ing) if s is not None))
    concrete = as_z3(disj(*[flow.in_ports(p, ports) for p, ports in conns.by_protocol]))
    solver = z3.Solver()
    solver.add(*bs.domain, *bd.domain, *flow.domain(None, None), allows != concrete)
    if solver.check() == z3.sat:
        m = solver.model()
        return f"{PROTOCOLS_BY_CODE[m.eval(flow.proto, True).as_long()]} {m.eval(flow.port, True)}"
    return None


def conj_all(xs):
    from analyzer.query.encoding import conj
    return conj(*xs)


@settings(max_examples=25)
@given(admin_clusters())
def test_every_port_agrees_with_admin_policies(cluster):
    """Per pod pair, one solver call looks for any protocol and port where the two engines
    differ: the tiers' per-port fall-through is checked on every port, not on samples."""
    from analyzer.model.connset import NO_CONNECTIONS
    engine = Engine(cluster, compile_cluster(cluster))
    reach = evaluate(cluster)
    cls = reach.index.pod_class
    for i, p in enumerate(cluster.pods):
        for j, q in enumerate(cluster.pods):
            if i != j:
                edge = reach.class_edges.get((cls[i], cls[j]))
                src, dst = f"{p.namespace}/pod/{p.name}", f"{q.namespace}/pod/{q.name}"
                where = _z3_differs(engine, src, dst, edge.conns if edge else NO_CONNECTIONS)
                assert where is None, (f"{src} -> {dst}: engines differ on {where}\n"
                                       f"{cluster.admin_policies}\n{cluster.policies}")


@settings(max_examples=10)
@given(admin_clusters(), st.randoms(use_true_random=False))
def test_symbolic_encoding_agrees_with_admin_policies(cluster, rnd):
    _assert_agree(cluster, QueryOptions(symbolic=True),
                  lambda keys: rnd.sample(keys, min(len(keys), 20)))


@given(clusters(), st.randoms(use_true_random=False))
def test_incremental_rechecks_agree_with_a_fresh_evaluation(cluster, rnd):
    """Graph = incremental: removing one policy, then putting it back, answers every pod pair
    and every sampled address exactly as evaluating the changed cluster from scratch does (pods
    carry IPs, so a policy may bring ipBlocks that cover pods no earlier one covered)."""
    base = evaluate(cluster)
    policy = rnd.choice(cluster.policies)
    removed = apply_policy_change(base, remove=policy.id)
    smaller = removed.reachability.cluster
    assert concrete_answers(smaller, removed.reachability) == concrete_answers(smaller)
    restored = apply_policy_change(removed.reachability, policy)
    assert concrete_answers(cluster, restored.reachability) == concrete_answers(cluster, base)
