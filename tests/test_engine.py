"""The engine (analyzer.engine.evaluate via analyzer.analysis.analyze): what each edge carries, the two
levels, and the equivalence classes that keep the work small.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

from analyzer import Options, analyze
from analyzer.engine.compile import RuleRef
from analyzer.model.connset import ALL_CONNECTIONS, ConnectionSet, IntervalSet
from analyzer.model.cluster import EGRESS, INGRESS

NAMESPACE = """\
apiVersion: v1
kind: Namespace
metadata: {name: t}
"""


def pod(name: str, labels: str, namespace: str = "t") -> str:
    return f"""\
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}, labels: {labels}}}
spec:
  containers: [{{name: main, image: nginx}}]
"""


def deployment(name: str, labels: str, replicas: int, namespace: str = "t") -> str:
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {labels}}}
  template:
    metadata: {{labels: {labels}}}
    spec:
      containers: [{{name: main, image: nginx}}]
"""


def policy(name: str, body: str, namespace: str = "t") -> str:
    return (f"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n"
            + textwrap.indent(textwrap.dedent(body), "  "))


def run(tmp_path: Path, *docs: str, level: str = "workload"):
    path = tmp_path / "m.yaml"
    path.write_text("---\n".join(docs))
    analysis = analyze([str(path)], Options(level=level))
    assert not analysis.has_errors, [str(d) for d in analysis.diagnostics]
    return analysis, path


def line_of(path: Path, text: str, occurrence: int = 1) -> int:
    hits = [i for i, ln in enumerate(path.read_text().splitlines(), 1) if text in ln]
    return hits[occurrence - 1]


def tcp(*ports: int) -> ConnectionSet:
    return ConnectionSet.of({"TCP": IntervalSet.of((p, p) for p in ports)})


A_EGRESS = policy("a-egress", """\
podSelector: {matchLabels: {app: a}}
policyTypes: [Egress]
egress:
- to:
  - podSelector: {matchLabels: {app: c}}
- to:
  - podSelector: {matchLabels: {app: b}}
  ports: [{protocol: TCP, port: 80}, {protocol: TCP, port: 81}]
""")
B_INGRESS = policy("b-ingress", """\
podSelector: {matchLabels: {app: b}}
policyTypes: [Ingress]
ingress:
- from:
  - podSelector: {matchLabels: {app: a}}
  ports: [{protocol: TCP, port: 81}, {protocol: TCP, port: 82}]
- from:
  - ipBlock: {cidr: 10.0.0.0/8}
  ports: [{protocol: TCP, port: 443}]
""")


def test_an_edge_names_the_egress_and_ingress_rules_that_allow_it(tmp_path):
    analysis, path = run(tmp_path, NAMESPACE, pod("a", "{app: a}"), pod("b", "{app: b}"),
                         pod("c", "{app: c}"), A_EGRESS, B_INGRESS)
    g = analysis.graph
    edge = g.edges["t/a[Pod]", "t/b[Pod]"]
    assert edge["conns"] == tcp(81)  # egress 80,81 and ingress 81,82: only 81 passes both
    (eg,) = edge["egress"]
    (ing,) = edge["ingress"]
    assert (eg.policy, eg.direction, eg.index) == ("t/a-egress", EGRESS, 1)
    assert (ing.policy, ing.direction, ing.index) == ("t/b-ingress", INGRESS, 0)
    # the references point at the rule's list item in the file
    assert analysis.locator.line(eg.source, eg.path) == line_of(path, "- to:", 2)
    assert analysis.locator.line(ing.source, ing.path) == line_of(path, "- from:", 1)
    assert eg.source.file == str(path)


def test_a_side_that_no_policy_isolates_is_allowed_by_the_default_ref(tmp_path):
    analysis, _ = run(tmp_path, NAMESPACE, pod("a", "{app: a}"), pod("b", "{app: b}"),
                      pod("c", "{app: c}"), A_EGRESS, B_INGRESS)
    g = analysis.graph
    # a -> c: a's egress rule 0 allows it; c is not ingress-isolated
    a_c = g.edges["t/a[Pod]", "t/c[Pod]"]
    assert a_c["conns"] == ALL_CONNECTIONS
    assert {(r.policy, r.index) for r in a_c["egress"]} == {("t/a-egress", 0)}
    assert a_c["ingress"] == frozenset({RuleRef(INGRESS)})
    # c -> a: neither side is isolated
    c_a = g.edges["t/c[Pod]", "t/a[Pod]"]
    assert c_a["egress"] == frozenset({RuleRef(EGRESS)}) and c_a["ingress"] == frozenset({RuleRef(INGRESS)})
    assert all(r.is_default for r in c_a["egress"] | c_a["ingress"])
    # c -> b is not an edge: b admits only a, and addresses in 10.0.0.0/8 on 443
    assert not g.has_edge("t/c[Pod]", "t/b[Pod]")


def test_external_edges_carry_the_one_side_that_is_checked(tmp_path):
    analysis, _ = run(tmp_path, NAMESPACE, pod("a", "{app: a}"), pod("b", "{app: b}"),
                      pod("c", "{app: c}"), A_EGRESS, B_INGRESS)
    g = analysis.graph
    into_b = {src: data for src, _, data in g.in_edges("t/b[Pod]", data=True)
              if g.nodes[src]["type"] == "external"}
    assert set(into_b) == {"10.0.0.0-10.255.255.255"}
    data = into_b["10.0.0.0-10.255.255.255"]
    assert data["conns"] == tcp(443) and data["egress"] == frozenset()
    assert {(r.policy, r.index) for r in data["ingress"]} == {("t/b-ingress", 1)}
    # a may reach no address: both its egress rules name pods only
    assert not [d for _, d in g.out_edges("t/a[Pod]") if g.nodes[d]["type"] == "external"]


def test_policies_are_additive_and_every_allowing_rule_is_named(tmp_path):
    second = policy("b-ingress-too", """\
podSelector: {matchLabels: {app: b}}
ingress:
- from:
  - podSelector: {}
  ports: [{protocol: TCP, port: 81}]
""")
    analysis, _ = run(tmp_path, NAMESPACE, pod("a", "{app: a}"), pod("b", "{app: b}"),
                      pod("c", "{app: c}"), A_EGRESS, B_INGRESS, second)
    g = analysis.graph
    assert {(r.policy, r.index) for r in g.edges["t/a[Pod]", "t/b[Pod]"]["ingress"]} == \
        {("t/b-ingress", 0), ("t/b-ingress-too", 0)}
    assert g.edges["t/c[Pod]", "t/b[Pod]"]["conns"] == tcp(81)


SAME_APP = policy("web-from-web", """\
podSelector: {matchLabels: {app: web}}
ingress:
- from:
  - podSelector: {matchLabels: {app: web}}
  ports: [{protocol: TCP, port: 8080}]
""")


def test_replicas_reach_each_other_at_pod_level_but_a_workload_has_no_self_edge(tmp_path):
    docs = (NAMESPACE, deployment("web", "{app: web}", 3), SAME_APP)
    pods, _ = run(tmp_path, *docs, level="pod")
    g = pods.graph
    replicas = [f"t/web-{i}" for i in range(3)]
    assert all(g.nodes[r]["type"] == "pod" and g.nodes[r]["workload"] == "t/web[Deployment]"
               for r in replicas)
    for src in replicas:
        for dst in replicas:
            assert g.has_edge(src, dst) == (src != dst)
            if src != dst:
                assert g.edges[src, dst]["conns"] == tcp(8080)
    workloads, _ = run(tmp_path, *docs)
    w = workloads.graph
    assert w.nodes["t/web[Deployment]"]["pods"] == 3
    assert not w.has_edge("t/web[Deployment]", "t/web[Deployment]")
    assert [n for n, d in w.nodes(data=True) if d["type"] != "external"] == ["t/web[Deployment]"]


def test_pods_no_selector_can_tell_apart_share_one_class(tmp_path):
    analysis, _ = run(
        tmp_path, NAMESPACE,
        deployment("web-v1", "{app: web, version: v1}", 2),
        deployment("web-v2", "{app: web, version: v2}", 2),  # 'version' is read by no selector
        deployment("api", "{app: api, version: v1}", 1),
        pod("loner", "{app: web}"),
        deployment("web", "{app: web}", 1, namespace="other"),  # same labels, other namespace
        SAME_APP)
    cluster, index = analysis.cluster, analysis.reachability.index
    class_of = {f"{p.namespace}/{p.name}": index.pod_class[i] for i, p in enumerate(cluster.pods)}
    webs = {class_of[n] for n in ("t/web-v1-0", "t/web-v1-1", "t/web-v2-0", "t/web-v2-1", "t/loner")}
    assert len(webs) == 1
    assert class_of["t/api-0"] not in webs
    assert class_of["other/web-0"] not in webs | {class_of["t/api-0"]}
    assert len(index.classes) == 3
    (web_class,) = webs
    assert index.classes[web_class].labels == (("app", "web"),)  # only the keys selectors read
    # and the reports still name every workload
    g = analysis.graph
    assert g.edges["t/web-v1[Deployment]", "t/web-v2[Deployment]"]["conns"] == tcp(8080)
    assert g.edges["t/loner[Pod]", "t/web-v1[Deployment]"]["conns"] == tcp(8080)
    assert not g.has_edge("t/api[Deployment]", "t/web-v1[Deployment]")


def test_a_named_port_splits_classes_only_when_a_policy_names_it(tmp_path):
    def named(name: str, port: int) -> str:
        return (pod(name, "{app: srv}").replace("image: nginx}", "image: nginx, ports: "
                f"[{{name: http, containerPort: {port}}}]}}"))

    by_name = policy("srv-http", """\
podSelector: {matchLabels: {app: srv}}
ingress:
- ports: [{protocol: TCP, port: http}]
""")
    analysis, _ = run(tmp_path, NAMESPACE, named("s1", 8080), named("s2", 9090), pod("c", "{app: c}"), by_name)
    index = analysis.reachability.index
    assert index.pod_class[0] != index.pod_class[1]
    g = analysis.graph
    assert g.edges["t/c[Pod]", "t/s1[Pod]"]["conns"] == tcp(8080)
    assert g.edges["t/c[Pod]", "t/s2[Pod]"]["conns"] == tcp(9090)
    unnamed, _ = run(tmp_path, NAMESPACE, named("s1", 8080), named("s2", 9090), pod("c", "{app: c}"))
    assert unnamed.reachability.index.pod_class[0] == unnamed.reachability.index.pod_class[1]


def test_an_empty_egress_list_without_policy_types_does_not_isolate_egress(tmp_path):
    """Defaulting adds Egress only for a non-empty egress list (len(spec.egress) != 0)."""
    from analyzer.analysis import analyze

    (tmp_path / "m.yaml").write_text("""
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: t, labels: {app: a}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: t, labels: {app: b}}
spec: {containers: [{name: c, image: x}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: t}
spec:
  podSelector: {matchLabels: {app: a}}
  egress: []
""")
    g = analyze([str(tmp_path)]).graph
    assert g.has_edge("t/a[Pod]", "t/b[Pod]")  # egress not isolated
    assert not g.has_edge("t/b[Pod]", "t/a[Pod]")  # ingress isolated, no rules


def test_real_pods_of_a_controller_replace_its_template_pods(tmp_path):
    """A StatefulSet manifest and its live pod (ownerReference) describe the same pod once:
    the real pod, with its own labels, is analysed; no template pod is made up beside it."""
    from analyzer.analysis import Options, analyze

    manifest = tmp_path / "sts.yaml"
    manifest.write_text(STS_WITH_LIVE_POD)
    pods = analyze([str(manifest)], Options(level="pod"))
    assert not pods.graph.has_edge("x/client", "x/db-0")  # the real db-0 is isolated
    workloads = analyze([str(manifest)])
    assert workloads.graph.nodes["x/db[StatefulSet]"]["pods"] == 1


STS_WITH_LIVE_POD = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: x}
spec:
  replicas: 1
  selector: {matchLabels: {app: db}}
  serviceName: db
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: i}]}
---
apiVersion: v1
kind: Pod
metadata:
  name: db-0
  namespace: x
  labels: {app: db, role: primary}
  ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: u1, controller: true}]
spec: {containers: [{name: c, image: i}]}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: x, labels: {app: client}}
spec: {containers: [{name: c, image: i}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-primary, namespace: x}
spec:
  podSelector: {matchLabels: {role: primary}}
  policyTypes: [Ingress]
"""


def test_a_workload_named_by_a_query_stands_for_exactly_its_pods_with_or_without_its_kind():
    from pathlib import Path

    from analyzer import analyze
    from analyzer.query.endpoints import WorkloadRef
    from analyzer.query.engine import Engine

    root = Path(__file__).resolve().parents[1] / "fixtures"
    analysis = analyze([str(root / "demo"), str(root / "edge")])
    engine = Engine.from_analysis(analysis)
    pods = analysis.cluster.pods
    assert analysis.cluster.workloads
    for w in analysis.cluster.workloads:
        own = [i for i, p in enumerate(pods) if p.workload == w.id]
        assert engine.pod_indexes(WorkloadRef(w.namespace, w.name, w.kind)) == own
        assert engine.pod_indexes(WorkloadRef(w.namespace, w.name, w.kind.lower())) == own
        same_name = [i for i, p in enumerate(pods) if p.workload in {
            v.id for v in analysis.cluster.workloads if (v.namespace, v.name) == (w.namespace, w.name)}]
        assert engine.pod_indexes(WorkloadRef(w.namespace, w.name)) == same_name
