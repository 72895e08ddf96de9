"""Partial objects (issue 8 item 3): the smallest broken part that cannot change a policy's
meaning is dropped, the rest analysed. A workload whose container-port entry is malformed still
exists (netpol-analyzer reads it the same way); a broken policy is skipped whole, and says so."""

from __future__ import annotations


import pytest

from analyzer.analysis import analyze
from analyzer.model.cluster import ContainerPort

WORKLOAD = """apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: c
        image: x
        ports:
        - {broken}
        - {{name: http, containerPort: 8080}}
"""


@pytest.mark.parametrize("broken, line, reason", [
    ("{containerport: 80}", 13, "containerPort"),
    ("{name: metrics}", 13, "containerPort"),
    ("{containerPort: 70000}", 13, "port 70000 is out of range 1-65535"),
    ("{containerPort: 80, protocol: HTTP}", 13, "invalid protocol 'HTTP'"),
    ("{containerPort: 80, name: Bad_Name}", 13, "invalid port name 'Bad_Name'"),
    ("just-a-string", 13, "expected object, got string"),
])
@pytest.mark.parametrize("schema", [True, False])
def test_a_malformed_container_port_entry_is_dropped_and_the_workload_analysed(tmp_path, broken, line, reason, schema):
    f = tmp_path / "w.yaml"
    f.write_text(WORKLOAD.format(broken=broken))
    from analyzer.analysis import Options

    a = analyze([str(f)], Options(schema=schema))
    [pod] = a.cluster.pods
    assert pod.workload == "shop/web[Deployment]"
    assert pod.ports == (ContainerPort(8080, "TCP", "http"),)
    dropped = [d for d in a.diagnostics if d.code == "KR120"]
    assert [d.line for d in dropped] == [line]
    assert reason in dropped[0].message
    assert dropped[0].message.endswith("this container-port entry is dropped, the rest of the "
                                       "Deployment is analysed")


def test_a_broken_policy_is_skipped_whole_and_says_so(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text("""apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: half, namespace: shop}
spec:
  podSelector: {}
  ingress:
  - from: [{podSelector: {}}]
  - from: [{ipBlock: {cidr: 10.0.0.0/33}}]
""")
    a = analyze([str(f)])
    assert a.cluster.policies == ()
    [d] = [d for d in a.diagnostics if d.code == "KR110"]
    assert d.message == ("NetworkPolicy shop/half: invalid CIDR '10.0.0.0/33'; the whole policy is "
                         "skipped (read in part it could allow what it does not)")
