"""KRL501/KRL503 judge a rule by the connections it really opens: each namespace's rules on their
own pods, and a rule towards pods that never send it nothing is redundant until they do."""

from __future__ import annotations

from analyzer import Options, analyze
from analyzer.lint import LintSettings, lint

REDUNDANT = frozenset({"KRL501", "KRL502", "KRL503"})


def _namespace(name: str) -> str:
    return f"""\
apiVersion: v1
kind: Namespace
metadata: {{name: {name}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: app, namespace: {name}, labels: {{app: app}}}}
spec: {{containers: [{{name: main, image: example, ports: [{{containerPort: 80}}]}}]}}
---
"""


def _deny_all(ns: str) -> str:
    return f"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: deny-all, namespace: {ns}}}
spec: {{podSelector: {{}}, policyTypes: [Ingress, Egress]}}
---
"""


def _allow_dns(ns: str, name: str = "allow-dns") -> str:
    return f"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: {name}, namespace: {ns}}}
spec:
  podSelector: {{}}
  policyTypes: [Egress]
  egress:
  - to: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: kube-system}}}},
           podSelector: {{matchLabels: {{k8s-app: kube-dns}}}}}}]
    ports: [{{protocol: UDP, port: 53}}, {{protocol: TCP, port: 53}}]
---
"""


COREDNS = """\
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: Pod
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec: {containers: [{name: coredns, image: coredns, ports: [{containerPort: 53, protocol: UDP}]}]}
---
"""


def _redundant(text: str) -> set[tuple[str, str, str | None]]:
    analysis = analyze(["-"], Options(schema=False), stdin_text=text)
    report = lint(analysis, LintSettings(select=REDUNDANT))
    return {(f.code, f.policy, f.rule and f"{f.rule.direction} #{f.rule.index}")
            for f in report.findings}


DNS_OVER_UDP_ONLY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns-over-udp, namespace: kube-system}
spec:
  podSelector: {matchLabels: {k8s-app: kube-dns}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {}}]
    ports: [{protocol: UDP, port: 53}]
---
"""


def test_many_namespaces_reaching_one_dns_server_are_judged_each_on_its_own_pods():
    namespaces = [f"team-{i}" for i in range(6)]
    text = COREDNS + DNS_OVER_UDP_ONLY + "".join(
        _namespace(ns) + _deny_all(ns) + _allow_dns(ns) for ns in namespaces)
    assert _redundant(text) == set()  # every namespace needs its own DNS rule
    # a rule towards the server's metrics port, which the server never accepts, is redundant
    # in the one namespace that has it
    tcp_and_web = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: dns-and-web, namespace: team-3}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}},
           podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{protocol: TCP, port: 9153}]
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: team-4}}}]
    ports: [{port: 80}]
---
"""
    accepted = _ingress_from("team-4", "team-3")  # so that the second rule matters
    assert _redundant(text + tcp_and_web + accepted) == {
        ("KRL501", "team-3/dns-and-web", "Egress #0")}


def _ingress_from(ns: str, *sources: str) -> str:
    rules = "\n".join(
        f"  - from: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {s}}}}}}}]\n"
        f"    ports: [{{port: 80}}]" for s in sources)
    return f"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: web-from, namespace: {ns}}}
spec:
  podSelector: {{}}
  policyTypes: [Ingress]
  ingress:
{rules}
---
"""


def _egress_to(ns: str, dst: str) -> str:
    return f"""\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {{name: to-{dst}, namespace: {ns}}}
spec:
  podSelector: {{}}
  policyTypes: [Egress]
  egress:
  - to: [{{namespaceSelector: {{matchLabels: {{kubernetes.io/metadata.name: {dst}}}}}}}]
    ports: [{{port: 80}}]
---
"""


def test_an_ingress_rule_from_pods_that_never_send_is_redundant_until_they_do():
    # web accepts from closed (egress denied) and from open (no policy at all)
    text = (_namespace("web") + _deny_all("web") + _namespace("closed") + _deny_all("closed")
            + _namespace("open") + _ingress_from("web", "closed", "open"))
    assert _redundant(text) == {("KRL501", "web/web-from", "Ingress #0")}
    # once closed may send to web on port 80, the rule admits what is sent: it matters
    assert _redundant(text + _egress_to("closed", "web")) == set()
