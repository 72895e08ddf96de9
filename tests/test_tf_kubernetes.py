"""The Terraform Kubernetes provider's schema -> Kubernetes objects, one resource type at a time.

Each case writes a resource's attribute values as `terraform show -json` prints them (every
nested block a list, snake_case names, ``port`` as a string, an empty list for a block not
written) and the YAML object the provider creates from them; the two must be the same object.
"""

from __future__ import annotations

import pytest
import yaml

from analyzer.inputs.tf_kubernetes import KINDS, to_object

META = {"name": "x", "namespace": "shop", "labels": {"app": "web"}, "annotations": None,
        "generate_name": "", "uid": "", "resource_version": "", "generation": 0}


def sel(labels=None, exprs=()):
    return [{"match_labels": labels, "match_expressions": list(exprs)}]


def template(ports):
    return [{"metadata": [{"labels": {"app": "web"}, "annotations": None, "name": ""}],
             "spec": [{"host_network": False, "init_container": [],
                       "container": [{"name": "web", "image": "nginx", "port": ports}]}]}]


CONTAINER_PORTS = [{"container_port": 8080, "name": "http", "protocol": "TCP", "host_port": 0,
                    "host_ip": ""}]
POD_YAML = """
  containers:
  - name: web
    image: nginx
    ports: [{containerPort: 8080, name: http, protocol: TCP}]
"""
TEMPLATE_YAML = """
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        ports: [{containerPort: 8080, name: http, protocol: TCP}]
"""

CASES = {
    "kubernetes_network_policy_v1": ({"metadata": [META], "spec": [{
        "pod_selector": sel(None, [{"key": "tier", "operator": "In", "values": ["a", "b"]}]),
        "policy_types": ["Ingress", "Egress"],
        "ingress": [
            {"from": [{"ip_block": [{"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}],
                       "namespace_selector": [], "pod_selector": []},
                      {"ip_block": [], "namespace_selector": [None], "pod_selector": sel({"app": "a"})}],
             "ports": [{"port": "8080", "protocol": "TCP", "end_port": 8090},
                       {"port": "http", "protocol": "", "end_port": 0}]},
            {"from": [], "ports": []},
        ],
        "egress": [{"to": [{"ip_block": [], "pod_selector": [],
                            "namespace_selector": sel({"kubernetes.io/metadata.name": "kube-system"})}],
                    "ports": [{"port": "53", "protocol": "UDP"}]}],
    }]}, """
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: x, namespace: shop, labels: {app: web}}
spec:
  podSelector: {matchExpressions: [{key: tier, operator: In, values: [a, b]}]}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}
    - namespaceSelector: {}
      podSelector: {matchLabels: {app: a}}
    ports:
    - {port: 8080, protocol: TCP, endPort: 8090}
    - {port: http}
  - {}
  egress:
  - to:
    - namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: kube-system}}
    ports:
    - {port: 53, protocol: UDP}
"""),
    "kubernetes_namespace_v1": ({"metadata": [{**META, "namespace": None}]}, """
apiVersion: v1
kind: Namespace
metadata: {name: x, labels: {app: web}}
"""),
    "kubernetes_pod_v1": ({"metadata": [META], "spec": [{
        "host_network": True, "container": [{"name": "web", "image": "nginx",
                                             "port": CONTAINER_PORTS}]}]}, """
apiVersion: v1
kind: Pod
metadata: {name: x, namespace: shop, labels: {app: web}}
spec:
  hostNetwork: true""" + POD_YAML),
    "kubernetes_deployment_v1": ({"metadata": [META], "spec": [{
        "replicas": "3", "selector": sel({"app": "web"}), "template": template(CONTAINER_PORTS)}]},
        """
apiVersion: apps/v1
kind: Deployment
metadata: {name: x, namespace: shop, labels: {app: web}}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:""" + TEMPLATE_YAML),
    "kubernetes_stateful_set_v1": ({"metadata": [META], "spec": [{
        "replicas": "1", "service_name": "db", "selector": sel({"app": "web"}),
        "template": template(CONTAINER_PORTS)}]}, """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: x, namespace: shop, labels: {app: web}}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: web}}
  template:""" + TEMPLATE_YAML),
    "kubernetes_daemonset": ({"metadata": [META], "spec": [{
        "selector": sel({"app": "web"}), "template": template(CONTAINER_PORTS)}]}, """
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: x, namespace: shop, labels: {app: web}}
spec:
  selector: {matchLabels: {app: web}}
  template:""" + TEMPLATE_YAML),
    "kubernetes_job_v1": ({"metadata": [META], "spec": [{
        "selector": [], "template": template(CONTAINER_PORTS)}]}, """
apiVersion: batch/v1
kind: Job
metadata: {name: x, namespace: shop, labels: {app: web}}
spec:
  template:""" + TEMPLATE_YAML),
    "kubernetes_cron_job_v1": ({"metadata": [META], "spec": [{
        "schedule": "*/5 * * * *", "job_template": [{"metadata": [{}], "spec": [{
            "template": template(CONTAINER_PORTS)}]}]}]}, """
apiVersion: batch/v1
kind: CronJob
metadata: {name: x, namespace: shop, labels: {app: web}}
spec:
  schedule: "*/5 * * * *"
  jobTemplate:
    metadata: {}
    spec:
      template:""" + TEMPLATE_YAML.replace("\n    ", "\n        ")),
    "kubernetes_service_v1": ({"metadata": [META], "spec": [{
        "selector": {"app": "web"}, "type": "ClusterIP", "cluster_ip": "10.0.0.1",
        "port": [{"name": "http", "port": 80, "target_port": "http", "protocol": "TCP",
                  "node_port": 0, "app_protocol": ""},
                 {"name": "metrics", "port": 9100, "target_port": "9100", "protocol": "TCP"}]}]},
        """
apiVersion: v1
kind: Service
metadata: {name: x, namespace: shop, labels: {app: web}}
spec:
  selector: {app: web}
  type: ClusterIP
  ports:
  - {name: http, port: 80, targetPort: http, protocol: TCP}
  - {name: metrics, port: 9100, targetPort: 9100, protocol: TCP}
"""),
}


@pytest.mark.parametrize("resource_type", sorted(CASES))
def test_each_resource_type_becomes_the_equivalent_yaml_object(resource_type):
    values, expected = CASES[resource_type]
    obj, _origins = to_object(resource_type, values)
    assert obj == yaml.safe_load(expected)


def test_the_v1_and_unversioned_names_are_the_same_resource():
    for name, kind in KINDS.items():
        other = name[:-3] if name.endswith("_v1") else name + "_v1"
        if other in KINDS:
            assert KINDS[other] == kind
    assert KINDS["kubernetes_daemonset"] == KINDS["kubernetes_daemon_set_v1"] == ("apps/v1", "DaemonSet")


def test_a_namespaced_resource_without_namespace_is_in_default_as_the_provider_defaults_it():
    obj, _ = to_object("kubernetes_network_policy", {"metadata": [{"name": "x"}],
                                                      "spec": [{"pod_selector": [None],
                                                                "policy_types": ["Ingress"]}]})
    assert obj["metadata"] == {"name": "x", "namespace": "default"}
    assert obj["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_kubernetes_manifest_is_the_object_it_holds_of_any_kind():
    manifest = {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
                "metadata": {"name": "deny"}, "spec": {"priority": 10, "subject": {"namespaces": {}}}}
    obj, origins = to_object("kubernetes_manifest", {"manifest": manifest, "object": None})
    assert obj == manifest
    assert origins.paths[("spec", "priority")] == ("manifest", "spec", "priority")


def test_origins_lead_from_kubernetes_fields_to_provider_attributes():
    values, _ = CASES["kubernetes_network_policy_v1"]
    _, origins = to_object("kubernetes_network_policy_v1", values)
    assert origins.paths[("spec", "ingress", 0, "from", 0, "ipBlock", "except")] == \
        ("spec", 0, "ingress", 0, "from", 0, "ip_block", 0, "except")
    assert origins.paths[("spec", "egress", 0, "ports", 0, "port")] == \
        ("spec", 0, "egress", 0, "ports", 0, "port")
    assert origins.paths[("metadata", "name")] == ("metadata", 0, "name")


def test_types_of_other_providers_and_unmodelled_kubernetes_types_are_not_objects():
    assert to_object("aws_instance", {})[0] is None
    assert to_object("kubernetes_config_map_v1", {"metadata": [META]})[0] is None
