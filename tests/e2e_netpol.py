"""The cluster states of Kubernetes' e2e NetworkPolicy suite, as data, with their truth tables.

The suite (kubernetes/kubernetes ``test/e2e/network/netpol/network_policy.go``, the version where
every test runs on the full model) runs each test on three namespaces x, y, z, each holding pods a,
b, c. A pod carries the label ``pod=<name>`` and one container per probed (port, protocol), whose
port is named ``serve-<port>-<protocol>``; a namespace carries ``ns=<name>`` (and the API server's
``kubernetes.io/metadata.name``). A test creates policies, then checks one *truth table*: for all
81 ordered pod pairs (self pairs are ignored) whether a connection on one port and protocol
succeeds. A table starts all-true and is edited by four operations, later ones overriding
earlier ones:

* ``peer(src, dst, ok)``: every pair whose source matches ``src`` and destination matches ``dst``,
  where a pattern is ``""`` (any pod), ``"x"`` (pods of x) or ``"x/a"`` (one pod);
* ``ingress(pod, ok)`` / ``egress(pod, ok)``: every pair into / out of one pod;
* ``pair(src, dst, ok)``: one pair.

Each :class:`State` below is one checked table: the objects in the cluster at that moment (a test
that changes labels or policies yields one state per check) and the expected table. Everything
here was re-derived by reading the upstream tests; the policies are written out as manifests.
Pods carry ``status.podIP`` so the ipBlock tests, which build CIDRs from pod IPs, can be replayed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NAMESPACES = ("x", "y", "z")
PODS = ("a", "b", "c")
NAME = "kubernetes.io/metadata.name"
ALL_PODS = tuple(f"{ns}/{p}" for ns in NAMESPACES for p in PODS)


def pod_ip(pod: str) -> str:
    """x/a -> 10.0.1.1, y/b -> 10.0.2.2: every pod lies in 0.0.0.0/4 (the ``/4`` tests)."""
    ns, name = pod.split("/")
    return f"10.0.{NAMESPACES.index(ns) + 1}.{PODS.index(name) + 1}"


# --- the model's objects ---------------------------------------------------------------------


def namespace(ns: str, extra: dict | None = None) -> dict:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": ns, "labels": {"ns": ns, **(extra or {})}}}


def pod(name: str, ports: tuple[int, ...], protocols: tuple[str, ...],
        extra: dict | None = None) -> dict:
    ns, p = name.split("/")
    containers = [{"name": f"cont-{port}-{proto.lower()}", "image": "agnhost",
                   "ports": [{"containerPort": port, "protocol": proto,
                              "name": f"serve-{port}-{proto.lower()}"}]}
                  for port in ports for proto in protocols]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": p, "namespace": ns, "labels": {"pod": p, **(extra or {})}},
            "spec": {"containers": containers},
            "status": {"phase": "Running", "podIP": pod_ip(name), "podIPs": [{"ip": pod_ip(name)}]}}


def policy(name: str, ns: str, select: dict | None = None, ingress: list | None = None,
           egress: list | None = None) -> dict:
    """``select`` None: ``podSelector: {}``; ``ingress``/``egress`` None: that type is absent,
    [] : the type is present with no rules (the upstream helpers set policyTypes so)."""
    types = [t for t, rules in (("Ingress", ingress), ("Egress", egress)) if rules is not None]
    spec: dict = {"podSelector": {"matchLabels": select} if select else {}, "policyTypes": types}
    if ingress:
        spec["ingress"] = ingress
    if egress:
        spec["egress"] = egress
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": ns}, "spec": spec}


def ns_is(ns: str) -> dict:
    return {"matchLabels": {NAME: ns}}


def expr(key: str, op: str, *values: str) -> dict:
    return {"matchExpressions": [{"key": key, "operator": op, "values": list(values)}]}


def cidr(pod_name: str, bits: int = 32) -> str:
    return f"{pod_ip(pod_name)}/{bits}"


# --- states ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    test: str  # the upstream test's name
    step: str
    port: int
    protocol: str
    policies: tuple[dict, ...]
    table: tuple[tuple, ...]  # the operations, in order
    ports: tuple[int, ...] = (80,)  # what the pods serve
    protocols: tuple[str, ...] = ("TCP",)
    ns_labels: dict = field(default_factory=dict)  # namespace -> extra labels
    pod_labels: dict = field(default_factory=dict)  # pod -> extra labels

    @property
    def id(self) -> str:
        return f"{self.test} [{self.step}]" if self.step else self.test

    def objects(self) -> list[dict]:
        out = [namespace(ns, self.ns_labels.get(ns)) for ns in NAMESPACES]
        out += [pod(p, self.ports, self.protocols, self.pod_labels.get(p)) for p in ALL_PODS]
        return out + list(self.policies)


def _matches(pattern: str, pod_name: str) -> bool:
    return pattern == "" or pattern == pod_name or pattern == pod_name.split("/")[0]


def truth_table(ops: tuple[tuple, ...]) -> dict[tuple[str, str], bool]:
    """The expected table: (src pod, dst pod) -> reachable, self pairs left out."""
    table = {(s, d): True for s in ALL_PODS for d in ALL_PODS if s != d}
    for op, *args in ops:
        for (s, d) in table:
            if op == "peer":
                hit = _matches(args[0], s) and _matches(args[1], d)
            elif op == "ingress":
                hit = d == args[0]
            elif op == "egress":
                hit = s == args[0]
            else:  # pair
                hit = (s, d) == (args[0], args[1])
            if hit:
                table[(s, d)] = args[-1]
    return table


def peer(src: str, dst: str, ok: bool) -> tuple:
    return ("peer", src, dst, ok)


def ingress(p: str, ok: bool) -> tuple:
    return ("ingress", p, ok)


def egress(p: str, ok: bool) -> tuple:
    return ("egress", p, ok)


def pair(src: str, dst: str, ok: bool) -> tuple:
    return ("pair", src, dst, ok)


A = {"pod": "a"}
DENY_INGRESS_X = policy("deny-ingress", "x", ingress=[])
DENY_ALL_X = policy("deny-all", "x", ingress=[], egress=[])


def _from(*peers: dict, ports: list | None = None) -> dict:
    rule: dict = {"from": list(peers)}
    if ports:
        rule["ports"] = ports
    return rule


def _to(*peers: dict, ports: list | None = None) -> dict:
    rule: dict = {"to": list(peers)} if peers else {}
    if ports:
        rule["ports"] = ports
    return rule


def _states() -> list[State]:
    s: list[State] = []

    def add(test, port, policies, table, step="", protocol="TCP", **kw):
        s.append(State(test, step, port, protocol, tuple(policies), tuple(table), **kw))

    add("should support a 'default-deny-ingress' policy", 80, [DENY_INGRESS_X],
        [peer("", "x", False)])
    add("should support a 'default-deny-all' policy", 80, [DENY_ALL_X],
        [peer("", "x", False), peer("x", "", False)])
    add("should enforce policy to allow traffic from pods within server namespace based on "
        "PodSelector", 80,
        [policy("x-a-allows-x-b", "x", A, ingress=[_from({"podSelector": {"matchLabels": {"pod": "b"}}})])],
        [ingress("x/a", False), pair("x/b", "x/a", True)])
    add("should enforce policy to allow ingress traffic for a target", 80,
        [policy("deny-all", "x", ingress=[]),
         policy("allow-all-to-a", "x", A, ingress=[_from({"podSelector": {}, "namespaceSelector": {}})])],
        [ingress("x/a", True), ingress("x/b", False), ingress("x/c", False)])
    add("should enforce policy to allow ingress traffic from pods in all namespaces", 80,
        [policy("allow-from-another-ns", "x", A, ingress=[_from({"namespaceSelector": {}})])], [])
    only_y = [peer("x", "x/a", False), peer("z", "x/a", False)]
    add("should enforce policy to allow traffic only from a different namespace, based on "
        "NamespaceSelector", 80,
        [policy("allow-client-a-via-ns-selector", "x", A,
                ingress=[_from({"namespaceSelector": ns_is("y")})])], only_y)
    add("should enforce policy based on PodSelector with MatchExpressions", 80,
        [policy("x-a-allows-x-b", "x", A, ingress=[_from({"podSelector": expr("pod", "In", "b")})])],
        [ingress("x/a", False), pair("x/b", "x/a", True)])
    add("should enforce policy based on NamespaceSelector with MatchExpressions", 80,
        [policy("allow-ns-y-match-selector", "x", A,
                ingress=[_from({"namespaceSelector": expr(NAME, "In", "y")})])], only_y)
    add("should enforce policy based on PodSelector or NamespaceSelector", 80,
        [policy("allow-ns-y-match-selector", "x", A,
                ingress=[_from({"namespaceSelector": expr(NAME, "NotIn", "x")},
                               {"podSelector": {"matchLabels": {"pod": "b"}}})])],
        [pair("x/a", "x/a", False), pair("x/c", "x/a", False)])
    add("should enforce policy based on PodSelector and NamespaceSelector", 80,
        [policy("allow-ns-y-podselector-and-nsselector", "x", A,
                ingress=[_from({"namespaceSelector": expr(NAME, "NotIn", "x"),
                                "podSelector": {"matchLabels": {"pod": "b"}}})])],
        [ingress("x/a", False), pair("y/b", "x/a", True), pair("z/b", "x/a", True)])
    add("should enforce policy based on Multiple PodSelectors and NamespaceSelectors", 80,
        [policy("allow-ns-y-z-pod-b-c", "x", A,
                ingress=[_from({"namespaceSelector": expr(NAME, "NotIn", "x"),
                                "podSelector": expr("pod", "In", "b", "c")})])],
        [peer("x", "x/a", False), pair("y/a", "x/a", False), pair("z/a", "x/a", False)])
    add("should enforce policy based on any PodSelectors", 80,
        [policy("allow-ns-x-pod-b-c", "x", A,
                ingress=[_from({"podSelector": {"matchLabels": {"pod": "b"}}},
                               {"podSelector": {"matchLabels": {"pod": "c"}}})])],
        [ingress("x/a", False), pair("x/b", "x/a", True), pair("x/c", "x/a", True)])
    add("should enforce policy to allow traffic only from a pod in a different namespace based on "
        "PodSelector and NamespaceSelector", 80,
        [policy("allow-ns-y-pod-a-via-namespace-pod-selector", "x", A,
                ingress=[_from({"namespaceSelector": ns_is("y"), "podSelector": {"matchLabels": A}})])],
        [ingress("x/a", False), pair("y/a", "x/a", True)])
    port81_y = policy("allow-client-a-via-ns-selector", "x", A,
                      ingress=[_from({"namespaceSelector": ns_is("y")},
                                     ports=[{"port": 81, "protocol": "TCP"}])])
    allow_y = [peer("x", "x/a", False), peer("y", "x/a", True), peer("z", "x/a", False)]
    add("should enforce policy based on Ports", 81, [port81_y], allow_y, ports=(81,))
    stacked = "should enforce multiple, stacked policies with overlapping podSelectors"
    add(stacked, 81, [port81_y], allow_y, "port 81", ports=(80, 81))
    add(stacked, 80, [port81_y], [ingress("x/a", False)], "port 80", ports=(80, 81))
    port80_y = policy("allow-client-a-via-ns-selector-80", "x", A,
                      ingress=[_from({"namespaceSelector": ns_is("y")},
                                     ports=[{"port": 80, "protocol": "TCP"}])])
    add(stacked, 80, [port81_y, port80_y], allow_y, "port 80 unblocked", ports=(80, 81))
    allow_all = policy("allow-all", "x", ingress=[{}])
    for port in (80, 81):
        add("should support allow-all policy", port, [allow_all], [], f"port {port}", ports=(80, 81))
    named81 = policy("allow-all", "x", ingress=[{"ports": [{"port": "serve-81-tcp"}]}])
    add("should allow ingress access on one named port", 81, [named81], [], "port 81", ports=(80, 81))
    add("should allow ingress access on one named port", 80, [named81], [peer("", "x", False)],
        "port 80", ports=(80, 81))
    named80_y = policy("allow-client-a-via-ns-selector-80", "x", A,
                       ingress=[_from({"namespaceSelector": ns_is("y")},
                                      ports=[{"port": "serve-80-tcp", "protocol": "TCP"}])])
    add("should allow ingress access from namespace on one named port", 80, [named80_y],
        [peer("x", "x/a", False), peer("z", "x/a", False)], "port 80", ports=(80, 81))
    add("should allow ingress access from namespace on one named port", 81, [named80_y],
        [ingress("x/a", False)], "port 81", ports=(80, 81))
    named_eg = policy("allow-egress", "x", egress=[{"ports": [{"port": "serve-80-tcp"}]}])
    add("should allow egress access on one named port", 80, [named_eg], [], "port 80", ports=(80, 81))
    add("should allow egress access on one named port", 81, [named_eg], [peer("x", "", False)],
        "port 81", ports=(80, 81))
    add("should enforce updated policy", 81,
        [policy("allow-all-mutate-to-deny-all", "x", ingress=[{}])], [], "allow all", ports=(81,))
    add("should enforce updated policy", 81,
        [policy("allow-all-mutate-to-deny-all", "x", ingress=[])], [peer("", "x", False)],
        "deny all", ports=(81,))
    ns2 = policy("allow-client-a-via-ns-selector", "x", A,
                 ingress=[_from({"namespaceSelector": {"matchLabels": {"ns2": "updated"}}})])
    add("should allow ingress access from updated namespace", 80, [ns2], [ingress("x/a", False)],
        "before")
    add("should allow ingress access from updated namespace", 80, [ns2],
        [ingress("x/a", False), peer("y", "", True)], "y labelled ns2=updated",
        ns_labels={"y": {"ns2": "updated"}})
    pod2 = policy("allow-client-a-via-pod-selector", "x", A,
                  ingress=[_from({"podSelector": {"matchLabels": {"pod": "b", "pod2": "updated"}}})])
    add("should allow ingress access from updated pod", 80, [pod2], [ingress("x/a", False)], "before")
    add("should allow ingress access from updated pod", 80, [pod2],
        [ingress("x/a", False), pair("x/b", "x/a", True)], "x/b labelled pod2=updated",
        pod_labels={"x/b": {"pod2": "updated"}})
    add("should deny ingress from pods on other namespaces", 80,
        [policy("deny-empty-policy", "x", ingress=[_from({"podSelector": {}})])],
        [peer("y", "x", False), peer("z", "x", False)])
    isolated = policy("deny-ingress-via-label-selector", "x", {"target": "isolated"}, ingress=[])
    add("should deny ingress access to updated pod", 80, [isolated], [], "before")
    add("should deny ingress access to updated pod", 80, [isolated], [ingress("x/a", False)],
        "x/a labelled target=isolated", pod_labels={"x/a": {"target": "isolated"}})
    add("should deny egress from pods based on PodSelector", 80,
        [policy("deny-egress-pod-a", "x", A, egress=[])], [egress("x/a", False)])
    add("should deny egress from all pods in a namespace", 80,
        [policy("deny-egress-ns-x", "x", egress=[])], [peer("x", "", False)])
    both = policy("allow-client-a-via-pod-selector", "x", A,
                  ingress=[_from({"podSelector": {"matchLabels": {"pod": "b"}}})],
                  egress=[{"ports": [{"port": 80}]}])
    add("should work with Ingress, Egress specified together", 80, [both],
        [ingress("x/a", False), pair("x/b", "x/a", True)], "port 80", ports=(80, 81))
    add("should work with Ingress, Egress specified together", 81, [both],
        [ingress("x/a", False), egress("x/a", False), pair("x/b", "x/a", True)], "port 81",
        ports=(80, 81))
    from_xa = _from({"namespaceSelector": ns_is("x"), "podSelector": {"matchLabels": A}})
    add("should support denying of egress traffic on the client side (even if the server "
        "explicitly allows this traffic)", 80,
        [policy("allow-to-ns-y-pod-a", "x", A,
                egress=[_to({"namespaceSelector": ns_is("y"), "podSelector": {"matchLabels": A}})]),
         policy("allow-from-xa-on-ya-match-selector", "y", A, ingress=[from_xa]),
         policy("allow-from-xa-on-yb-match-selector", "y", {"pod": "b"}, ingress=[from_xa])],
        [peer("x/a", "", False), peer("", "y/a", False), peer("x/a", "y/a", True),
         peer("", "y/b", False)])
    add("should enforce egress policy allowing traffic to a server in a different namespace based "
        "on PodSelector and NamespaceSelector", 80,
        [policy("allow-to-ns-y-pod-a", "x", A,
                egress=[_to({"namespaceSelector": ns_is("y"), "podSelector": {"matchLabels": A}})])],
        [egress("x/a", False), pair("x/a", "y/a", True)])
    by_proto = policy("allow-ingress-by-proto", "x", A, ingress=[{"ports": [{"protocol": "TCP"}]}])
    add("should enforce ingress policy allowing any port traffic to a server on a specific "
        "protocol", 80, [by_proto], [], "TCP", protocols=("TCP", "UDP"))
    add("should enforce ingress policy allowing any port traffic to a server on a specific "
        "protocol", 80, [by_proto], [peer("", "x/a", False)], "UDP", protocol="UDP",
        protocols=("TCP", "UDP"))
    only80_in = policy("allow-ingress-port-80", "x", ingress=[{"ports": [{"port": 80}]}])
    test = "should enforce multiple ingress policies with ingress allow-all policy taking precedence"
    add(test, 81, [only80_in], [peer("", "x", False)], "port 80 only", ports=(81,))
    add(test, 81, [only80_in, policy("allow-ingress", "x", ingress=[{}])], [], "allow all",
        ports=(81,))
    only80_eg = policy("allow-egress-port-80", "x", egress=[{"ports": [{"port": 80}]}])
    test = "should enforce multiple egress policies with egress allow-all policy taking precedence"
    add(test, 81, [only80_eg], [peer("x", "", False)], "port 80 only", ports=(81,))
    add(test, 81, [only80_eg, policy("allow-egress", "x", egress=[{}])], [], "allow all",
        ports=(81,))
    test = "should stop enforcing policies after they are deleted"
    add(test, 80, [DENY_ALL_X], [peer("x", "", False), peer("", "x", False)], "deny all")
    add(test, 80, [], [], "deleted")
    # --- the ipBlock tests: CIDRs built from pod IPs ------------------------------------------
    add("should allow egress access to server in CIDR block", 80,
        [policy("allow-client-a-via-cidr-egress-rule", "x", A,
                egress=[_to({"ipBlock": {"cidr": cidr("y/b")}})])],
        [egress("x/a", False), pair("x/a", "y/b", True)])
    except_b = policy("allow-client-a-via-cidr-egress-rule", "x", A,
                      egress=[_to({"ipBlock": {"cidr": cidr("x/a", 4), "except": [cidr("x/b")]}})])
    add("should enforce except clause while egress access to server in CIDR block", 80,
        [except_b], [pair("x/a", "x/b", False)])
    test = "should ensure an IP overlapping both IPBlock.CIDR and IPBlock.Except is allowed"
    add(test, 80, [except_b], [pair("x/a", "x/b", False)], "except")
    add(test, 80, [policy("allow-client-a-via-cidr-egress-rule", "x", A,
                          egress=[_to({"ipBlock": {"cidr": cidr("x/b")}})])],
        [egress("x/a", False), pair("x/a", "x/b", True)], "updated to the excepted IP")
    # ------------------------------------------------------------------------------------------
    test = ("should enforce policies to check ingress and egress policies can be controlled "
            "independently based on PodSelector")
    allow_eg_a = policy("allow-egress-for-target", "x", A, egress=[{}])
    add(test, 80, [allow_eg_a], [], "egress allowed")
    add(test, 80, [allow_eg_a, policy("deny-ingress-via-label-selector", "x", A, ingress=[])],
        [ingress("x/a", False)], "ingress denied")
    add("should not mistakenly treat 'protocol: SCTP' as 'protocol: TCP', even if the plugin "
        "doesn't support SCTP", 81,
        [DENY_INGRESS_X, policy("allow-only-sctp-ingress-on-port-81", "x", A,
                                ingress=[{"ports": [{"port": 81, "protocol": "SCTP"}]}])],
        [peer("", "x", False)], ports=(81,))
    add("should properly isolate pods that are selected by a policy allowing SCTP, even if the "
        "plugin doesn't support SCTP", 81,
        [policy("allow-only-sctp-ingress-on-port-80", "x", A,
                ingress=[{"ports": [{"port": 80, "protocol": "SCTP"}]}])],
        [ingress("x/a", False)], ports=(81,))
    add("should not allow access by TCP when a policy specifies only UDP", 81,
        [policy("allow-only-udp-ingress-on-port-81", "x", A,
                ingress=[{"ports": [{"port": 81, "protocol": "UDP"}]}])],
        [ingress("x/a", False)], ports=(81,))
    add("should enforce policy to allow traffic based on NamespaceSelector with MatchLabels using "
        "default ns label", 80,
        [policy("allow-client-a-via-ns-selector-for-immutable-ns-label", "x", A,
                ingress=[_from({"namespaceSelector": ns_is("y")})])], only_y)
    add("should enforce policy based on NamespaceSelector with MatchExpressions using default ns "
        "label", 80,
        [policy("allow-ns-y-match-selector-for-immutable-ns-label", "x", A,
                egress=[_to({"namespaceSelector": expr(NAME, "NotIn", "y")})])],
        [peer("x/a", "y", False)])
    # --- the UDP and SCTP variants ------------------------------------------------------------
    for proto in ("UDP", "SCTP"):
        add("should support a 'default-deny-ingress' policy", 80,
            [policy("deny-all", "x", ingress=[])], [peer("", "x", False)], proto, proto,
            protocols=(proto,))
        add("should enforce policy based on Ports", 81,
            [policy("allow-ingress-on-port-81-ns-x", "x", A,
                    ingress=[_from({"namespaceSelector": ns_is("y")},
                                   ports=[{"port": 81, "protocol": proto}])])],
            [peer("x", "x/a", False), peer("z", "x/a", False)], proto, proto, ports=(81,),
            protocols=(proto,))
        add("should enforce policy to allow traffic only from a pod in a different namespace based "
            "on PodSelector and NamespaceSelector", 80,
            [policy("allow-ns-y-pod-a-via-namespace-pod-selector", "x", A,
                    ingress=[_from({"namespaceSelector": ns_is("y"),
                                    "podSelector": {"matchLabels": A}})])],
            [ingress("x/a", False), pair("y/a", "x/a", True)], proto, proto, protocols=(proto,))
    return s


STATES = _states()
