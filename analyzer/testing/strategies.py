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
# pod addresses that fall inside, outside and in the except of the ipBlocks above
POD_IPV4 = ("10.0.0.5", "10.1.0.7", "10.2.3.4", "192.168.1.9", "203.0.113.8", "172.16.0.3")
POD_IPV6 = ("fd00::5", "2001:db8::9")


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
def pod_status(draw) -> dict:
    """A Running pod's ``status`` with its addresses (IPv4, IPv6 or both), as exports show it."""
    ips = [ip for ip in (draw(st.sampled_from((None,) + POD_IPV4)),
                         draw(st.sampled_from((None,) * 3 + POD_IPV6))) if ip]
    if not ips:
        ips = [draw(st.sampled_from(POD_IPV4))]
    return {"phase": "Running", "podIP": ips[0], "podIPs": [{"ip": ip} for ip in ips]}


@st.composite
def pods(draw, namespaces=NAMESPACES, name: str | None = None, ips: bool = False) -> dict:
    """A Pod with labels and (sometimes named) container ports; with ``ips``, often with the
    ``status.podIPs`` of an export (so ipBlocks can match it)."""
    ports = []
    for i, number in enumerate(sorted(draw(st.sets(st.sampled_from(PORTS), max_size=3)))):
        port: dict = {"containerPort": number, "protocol": draw(st.sampled_from(PROTOCOLS))}
        if i < len(PORT_NAMES) and draw(st.booleans()):
            port["name"] = PORT_NAMES[i]
        ports.append(port)
    pod_name = name or draw(_names("pod-"))
    out = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": pod_name, "namespace": draw(st.sampled_from(namespaces)),
                        "labels": draw(labels())},
           "spec": {"containers": [{"name": "main", "image": "example", "ports": ports}]}}
    if ips and draw(st.booleans()):
        out["status"] = draw(pod_status())
    return out


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
def _admin_peer(draw, direction: str, v2: bool) -> dict:
    kinds = ("namespaces", "pods") + (("networks",) if direction == "egress" else ())
    kind = draw(st.sampled_from(kinds))
    if kind == "namespaces":
        return {"namespaces": draw(selectors(keys=("team",)))}
    if kind == "pods":
        return {"pods": {"namespaceSelector": draw(selectors(keys=("team",))),
                         "podSelector": draw(selectors())}}
    return {"networks": sorted(draw(st.sets(st.sampled_from(CIDRS), min_size=1, max_size=2)))}


@st.composite
def _admin_ports(draw, v2: bool) -> list[dict]:
    out = []
    for _ in range(draw(st.integers(1, 2))):
        proto = draw(st.sampled_from(PROTOCOLS))
        lo = draw(st.sampled_from(PORTS))
        form = draw(st.sampled_from(("number", "range", "named")))
        if v2:
            if form == "named":
                out.append({"destinationNamedPort": draw(st.sampled_from(PORT_NAMES))})
            elif form == "number":
                out.append({proto.lower(): {"destinationPort": {"number": lo}}})
            else:
                out.append({proto.lower(): {"destinationPort": {"range": {"start": lo, "end": lo + 100}}}})
        elif form == "named":
            out.append({"namedPort": draw(st.sampled_from(PORT_NAMES))})
        elif form == "number":
            out.append({"portNumber": {"protocol": proto, "port": lo}})
        else:
            out.append({"portRange": {"protocol": proto, "start": lo, "end": lo + 100}})
    return out


@st.composite
def admin_policies(draw, kind: str = "AdminNetworkPolicy", name: str | None = None,
                   priorities=(1, 2, 3)) -> dict:
    """An AdminNetworkPolicy, BaselineAdminNetworkPolicy (always named ``default``) or
    ClusterNetworkPolicy: either subject form, ordered rules of every action, every peer kind,
    numeric, range and named ports."""
    v2 = kind == "ClusterNetworkPolicy"
    actions = {"AdminNetworkPolicy": ("Allow", "Deny", "Pass"),
               "BaselineAdminNetworkPolicy": ("Allow", "Deny"),
               "ClusterNetworkPolicy": ("Accept", "Deny", "Pass")}[kind]
    if draw(st.booleans()):
        subject: dict = {"namespaces": draw(selectors(keys=("team",)))}
    else:
        subject = {"pods": {"namespaceSelector": draw(selectors(keys=("team",))),
                            "podSelector": draw(selectors())}}
    spec: dict = {"subject": subject}
    if kind != "BaselineAdminNetworkPolicy":
        spec["priority"] = draw(st.sampled_from(priorities))
    if v2:
        spec["tier"] = draw(st.sampled_from(("Admin", "Baseline")))
    for direction, key in (("ingress", "from"), ("egress", "to")):
        rules = []
        for _ in range(draw(st.integers(0, 3))):
            rule: dict = {"action": draw(st.sampled_from(actions)),
                          key: draw(st.lists(_admin_peer(direction, v2), min_size=1, max_size=2))}
            if draw(st.booleans()):
                rule["protocols" if v2 else "ports"] = draw(_admin_ports(v2))
            rules.append(rule)
        if rules:
            spec[direction] = rules
    version = "v1alpha2" if v2 else "v1alpha1"
    return {"apiVersion": f"policy.networking.k8s.io/{version}", "kind": kind,
            "metadata": {"name": "default" if kind == "BaselineAdminNetworkPolicy"
                         else name or draw(_names("anp-"))},
            "spec": spec}


@st.composite
def admin_sets(draw, max_admin: int = 3) -> list[dict]:
    """Some ANPs (distinct priorities, so the order is defined), maybe a BANP, maybe CNPs."""
    out: list[dict] = []
    prios = draw(st.permutations((1, 2, 3, 4, 5)))
    for i in range(draw(st.integers(0, max_admin))):
        kind = draw(st.sampled_from(("AdminNetworkPolicy", "ClusterNetworkPolicy")))
        out.append(draw(admin_policies(kind, name=f"adm-{i}", priorities=(prios[i],))))
    if draw(st.booleans()):
        out.append(draw(admin_policies("BaselineAdminNetworkPolicy")))
    return out


@st.composite
def clusters(draw, namespaces=NAMESPACES, max_pods: int = 6, max_policies: int = 4,
             default_deny: bool = False, admin: bool = False,
             pod_ips: bool = False) -> list[dict]:
    """Namespaces (labelled ``team``), pods and policies, with unique names. With
    ``default_deny`` every namespace also gets a deny-all policy and no other policy; with
    ``admin`` admin policies are drawn too (:func:`admin_sets`); with ``pod_ips`` pods often
    carry addresses (``status.podIPs``), some inside the ipBlocks."""
    objects: list[dict] = [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": ns, "labels": draw(labels(keys=("team",), max_size=1))}}
        for ns in namespaces]
    n_pods = draw(st.integers(1, max_pods))
    objects += [draw(pods(namespaces, name=f"pod-{i}", ips=pod_ips)) for i in range(n_pods)]
    if default_deny:
        objects += [_default_deny(ns) for ns in namespaces]
    else:
        n_pol = draw(st.integers(0, max_policies))
        objects += [draw(policies(namespaces, name=f"np-{i}")) for i in range(n_pol)]
    if admin:
        objects += draw(admin_sets())
    return objects


__all__ = ["admin_policies", "admin_sets", "clusters", "labels", "pod_status", "pods", "policies",
           "selectors"]
