"""Single checks on small inputs, where a fixture folder would say less than the assertion."""

from __future__ import annotations

from analyzer import Options, analyze
from analyzer.lint import LintSettings, lint

PODS = """\
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default, labels: {app: web}}
spec: {containers: [{name: main, image: example}]}
---
"""


def _findings(text: str, *codes: str):
    analysis = analyze(["-"], Options(schema=False), stdin_text=text)
    return lint(analysis, LintSettings(select=frozenset(codes))).findings


def test_open_egress_is_a_warning_and_open_ingress_the_error():
    text = PODS + """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: open, namespace: default}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress: [{}]
  egress: [{}]
"""
    found = {(f.code, f.rule.direction) for f in _findings(text, "KRL301", "KRL303")}
    assert found == {("KRL303", "Ingress"), ("KRL301", "Egress")}


def test_a_policy_in_a_namespace_without_pods_says_where_matching_pods_are():
    text = PODS + """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: my-namespace}
spec: {podSelector: {matchLabels: {app: web}}}
"""
    (f,) = _findings(text, "KRL201")
    assert f.message.endswith("(namespace my-namespace has no pods in the input; matching pods "
                              "are in default)")
    assert f.hypothetical is not None and f.hypothetical.namespace == "my-namespace"


def test_dns_through_a_peer_outside_the_input_counts():
    text = PODS + """\
apiVersion: v1
kind: Pod
metadata: {name: api, namespace: default, labels: {app: api}}
spec: {containers: [{name: main, image: example}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-egress, namespace: default}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: api}}}]
    ports: [{port: 8080}]
  - to: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}},
          podSelector: {matchLabels: {k8s-app: kube-dns}}}]
    ports: [{port: 53, protocol: UDP}]
"""
    assert _findings(text, "KRL401") == ()
