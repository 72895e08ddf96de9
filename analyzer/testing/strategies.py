"""Hypothesis strategies for kreach users: labels, selectors, pods, policies, clusters.

Everything is drawn as Kubernetes objects (plain dicts, as in a manifest), so generated inputs
go through the same loader and validation as real ones::

    from hypothesis import given
    from analyzer.testing import cluster_from_manifests, assert_not_reachable
    from analyzer.testing.strategies import clusters

    @given(clusters(default_deny=True))
    def test_default_deny_blocks_everything(objects):
        assert_not_reachable(cluster_from_manifests(objects), "*", "*")

Hypothesis is imported here only, never by the rest of kreach.
"""

from __future__ import annotations

from hypothesis import strategies as st

KEYS = ("app", "tier", "team")
VALUES = ("web", "api", "db")
NAMESPACES = ("alpha", "beta", "gamma")
PROTOCOLS = ("TCP", "UDP", "SCTP")
PORTS = (53, 80, 443, 5432, 8080)
PORT_NAMES = ("http", "metrics")
CIDRS = ("0.0.0.0/0", "10.0.0.0/8", "192.168.0.0/16", "203.0.113.0/24", "::/0")


def _names(prefix: str) -> st.SearchStrategy[str]:
    return st.text("abcdefghij", min_size=1, max_size=6).map(lambda s: prefix + s)


def labels(keys=KEYS, values=VALUES, max_size: int = 3) -> st.SearchStrategy[dict[str, str]]:
    """A label map over a small vocabulary (so selectors and pods meet often)."""
    return st.dictionaries(st.sampled_from(keys), st.sampled_from(values), max_size=max_size)


@st.composite
def selectors(draw, keys=KEYS, values=VALUES) -> dict:
    """A LabelSelector as written in a manifest: matchLabels and matchExpressions of all four
    operators; ``{}`` (select everything) is among the results."""
    out: dict = {}
    match = draw(labels(keys, values, max_size=2))
    if match:
        out["matchLabels"] = match
    exprs = []
    for _ in range(draw(st.integers(0, 2))):
        op = draw(st.sampled_from(("In", "NotIn", "Exists", "DoesNotExist")))
        expr: dict = {"key": draw(st.sampled_from(keys)), "operator": op}
        if op in ("In", "NotIn"):
            expr["values"] = sorted(draw(st.sets(st.sampled_from(values), min_size=1, max_size=2)))
        exprs.append(expr)
    if exprs:
        out["matchExpressions"] = exprs
    return out


@st.composite
def pods(draw, namespaces=NAMESPACES, name: str | None = None) -> dict:
    """A Pod with labels and (sometimes named) container ports."""
    ports = []
    for i, number in enumerate(sorted(draw(st.sets(st.sampled_from(PORTS), max_size=3)))):
        port: dict = {"containerPort": number, "protocol": draw(st.sampled_from(PROTOCOLS))}
        if i < len(PORT_NAMES) and draw(st.booleans()):
            port["name"] = PORT_NAMES[i]
        ports.append(port)
    pod_name = name or draw(_names("pod-"))
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod_name, "namespace": draw(st.sampled_from(namespaces)),
                         "labels": draw(labels())},
            "spec": {"containers": [{"name": "main", "image": "example", "ports": ports}]}}


@st.composite
def _peer(draw, namespaces) -> dict:
    kind = draw(st.sampled_from(("pod", "namespace", "both", "name", "ip")))
    if kind == "pod":
        return {"podSelector": draw(selectors())}
    if kind == "namespace":
        return {"namespaceSelector": draw(selectors(keys=("team",)))}
    if kind == "name":
        return {"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": draw(st.sampled_from(namespaces))}}}
    if kind == "both":
        return {"podSelector": draw(selectors()), "namespaceSelector": draw(selectors(keys=("team",)))}
    cidr = draw(st.sampled_from(CIDRS))
    block: dict = {"cidr": cidr}
    if cidr == "10.0.0.0/8" and draw(st.booleans()):
        block["except"] = ["10.1.0.0/16"]
    return {"ipBlock": block}


@st.composite
def _rule(draw, direction: str, namespaces) -> dict:
    rule: dict = {}
    if draw(st.booleans()):
        rule["from" if direction == "ingress" else "to"] = draw(
            st.lists(_peer(namespaces), min_size=1, max_size=2))
    if draw(st.booleans()):
        ports = []
        for _ in range(draw(st.integers(1, 2))):
            p: dict = {"protocol": draw(st.sampled_from(PROTOCOLS))}
            p["port"] = draw(st.sampled_from(PORTS + PORT_NAMES))
            ports.append(p)
        rule["ports"] = ports
    return rule


@st.composite
def policies(draw, namespaces=NAMESPACES, name: str | None = None) -> dict:
    """A NetworkPolicy: any pod selector, Ingress and/or Egress, rules with every peer kind,
    numeric and named ports."""
    types = draw(st.sampled_from((["Ingress"], ["Egress"], ["Ingress", "Egress"])))
    spec: dict = {"podSelector": draw(selectors()), "policyTypes": types}
    for t in types:
        d = t.lower()
        rules = draw(st.lists(_rule(d, namespaces), max_size=2))
        if rules:
            spec[d] = rules
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name or draw(_names("np-")),
                         "namespace": draw(st.sampled_from(namespaces))},
            "spec": spec}


def _default_deny(namespace: str) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "default-deny", "namespace": namespace},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}


@st.composite
def clusters(draw, namespaces=NAMESPACES, max_pods: int = 6, max_policies: int = 4,
             default_deny: bool = False) -> list[dict]:
    """Namespaces (labelled ``team``), pods and policies, with unique names. With
    ``default_deny`` every namespace also gets a deny-all policy and no other policy."""
    objects: list[dict] = [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": ns, "labels": draw(labels(keys=("team",), max_size=1))}}
        for ns in namespaces]
    n_pods = draw(st.integers(1, max_pods))
    objects += [draw(pods(namespaces, name=f"pod-{i}")) for i in range(n_pods)]
    if default_deny:
        objects += [_default_deny(ns) for ns in namespaces]
    else:
        n_pol = draw(st.integers(0, max_policies))
        objects += [draw(policies(namespaces, name=f"np-{i}")) for i in range(n_pol)]
    return objects


__all__ = ["clusters", "labels", "pods", "policies", "selectors"]
