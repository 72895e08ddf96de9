"""Pods with known IPs: read from status.podIPs, matched by ipBlocks, split into classes only
where an ipBlock boundary separates them, and re-checked incrementally like everything else."""

from __future__ import annotations

import json

from analyzer.engine.evaluate import evaluate
from analyzer.engine.incremental import apply_policy_change
from analyzer.model.cluster import IPBlock, NetworkPolicy, Peer, Rule, EGRESS
from analyzer.model.connset import address_value
from analyzer.model.selectors import LabelSelector
from analyzer.testing import cluster_from_manifests

from test_incremental import pod_pairs


def pod(name: str, *ips: str, labels: dict | None = None, phase: str = "Running", ns: str = "t",
        owner: dict | None = None) -> dict:
    meta: dict = {"name": name, "namespace": ns, "labels": labels or {"app": name}}
    if owner:
        meta["ownerReferences"] = [owner]
    out = {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
           "spec": {"containers": [{"name": "main", "image": "x"}]}}
    if ips:
        out["status"] = {"phase": phase, "podIP": ips[0], "podIPs": [{"ip": ip} for ip in ips]}
    return out


def egress_to(name: str, select: dict, *blocks: dict) -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": "t"},
            "spec": {"podSelector": {"matchLabels": select}, "policyTypes": ["Egress"],
                     "egress": [{"to": [{"ipBlock": b} for b in blocks]}]}}


def analysis_of(*objects):
    return cluster_from_manifests(list(objects)).analysis


def test_pod_ips_are_read_from_the_status_of_a_pod():
    a = analysis_of(pod("dual", "10.0.0.5", "fd00::5"), pod("none"))
    ips = {p.name: p.ip_texts for p in a.cluster.pods}
    assert ips == {"dual": ("10.0.0.5", "fd00::5"), "none": ()}


def test_a_terminated_pod_has_released_its_ip():
    a = analysis_of(pod("done", "10.0.0.5", phase="Succeeded"), pod("failed", "10.0.0.6", phase="Failed"))
    assert all(p.ips == () for p in a.cluster.pods)


def test_an_invalid_pod_ip_is_a_located_warning_and_the_pod_is_kept():
    a = analysis_of(pod("bad", "10.0.0.300"))
    [d] = [d for d in a.diagnostics if d.code == "KR210"]
    assert d.source is not None and d.source.line is not None
    assert "10.0.0.300" in d.message
    assert [p.name for p in a.cluster.pods] == ["bad"] and a.cluster.pods[0].ips == ()


def test_pods_are_split_by_ip_only_where_an_ipblock_boundary_separates_them():
    same_side = analysis_of(pod("a", "10.0.0.5", labels={"app": "x"}),
                            pod("b", "10.0.0.6", labels={"app": "x"}),
                            egress_to("out", {"app": "x"}, {"cidr": "10.0.0.0/16"}))
    assert len(same_side.reachability.index.classes) == 1
    split = analysis_of(pod("a", "10.0.0.5", labels={"app": "x"}),
                        pod("b", "10.0.0.6", labels={"app": "x"}),
                        egress_to("out", {"app": "x"}, {"cidr": "10.0.0.0/16", "except": ["10.0.0.6/32"]}))
    assert len(split.reachability.index.classes) == 2
    no_blocks = analysis_of(pod("a", "10.0.0.5", labels={"app": "x"}), pod("b", labels={"app": "x"}))
    assert len(no_blocks.reachability.index.classes) == 1


def test_an_ip_outside_every_ipblock_looks_like_no_ip():
    a = analysis_of(pod("a", "192.168.0.1", labels={"app": "x"}), pod("b", labels={"app": "x"}),
                    egress_to("out", {"app": "x"}, {"cidr": "10.0.0.0/8"}))
    assert len(a.reachability.index.classes) == 1


def test_egress_ipblock_reaches_the_pod_whose_ip_it_holds():
    a = analysis_of(pod("client", "10.0.0.1"), pod("server", "10.0.0.9"), pod("other", "10.0.0.8"),
                    egress_to("to-server", {"app": "client"}, {"cidr": "10.0.0.9/32"}))
    edges = a.view.edges
    assert ("t/client[Pod]", "t/server[Pod]") in edges
    assert ("t/client[Pod]", "t/other[Pod]") not in edges


def _with_policy(objects, policy):
    base = evaluate(cluster_from_manifests(objects).analysis.cluster)
    result = apply_policy_change(base, policy)
    fresh = evaluate(result.reachability.cluster)
    assert {k: v.conns for k, v in pod_pairs(result.reachability).items()} == \
        {k: v.conns for k, v in pod_pairs(fresh).items()}
    return result


def _policy(cidr: str) -> NetworkPolicy:
    src = cluster_from_manifests([pod("x")]).analysis.cluster.pods[0].source
    return NetworkPolicy("t", "new", LabelSelector.build({"app": "client"}), frozenset({EGRESS}), (),
                         (Rule(EGRESS, 0, (Peer(ip_block=IPBlock(cidr)),), None),), src)


def test_a_policy_bringing_a_new_ipblock_boundary_falls_back_to_a_full_evaluation():
    objects = [pod("client", "10.0.0.1"), pod("server", "10.0.0.9")]
    result = _with_policy(objects, _policy("10.0.0.9/32"))
    assert not result.incremental


def test_a_policy_covering_pod_ips_no_earlier_ipblock_covered_falls_back_too():
    """Its boundaries are old ones (0.0.0.0/0 cuts nothing new), but the pod at 192.168.0.1 was
    in the class of pods without IP until now."""
    objects = [pod("client", "10.0.0.1"), pod("far", "192.168.0.1", labels={"app": "server"}),
               pod("near", labels={"app": "server"}),
               egress_to("old", {"app": "none"}, {"cidr": "10.0.0.0/8"})]
    result = _with_policy(objects, _policy("0.0.0.0/0"))
    assert not result.incremental


def test_a_policy_over_already_split_addresses_is_rechecked_incrementally():
    objects = [pod("client", "10.0.0.1"), pod("server", "10.0.0.9"),
               egress_to("old", {"app": "client"}, {"cidr": "10.0.0.8/29", "except": ["10.0.0.9/32"]}),
               egress_to("other", {"app": "none"}, {"cidr": "10.0.0.9/32"})]
    result = _with_policy(objects, _policy("10.0.0.9/32"))
    assert result.incremental
    assert any(ch.after for ch in result.changes)


def test_a_mirror_pod_owned_by_its_node_is_its_own_workload():
    node = {"apiVersion": "v1", "kind": "Node", "name": "node-1", "uid": "u", "controller": True}
    a = analysis_of(pod("etcd-node-1", owner=node, ns="kube-system"),
                    pod("kube-apiserver-node-1", owner=node, ns="kube-system"))
    assert sorted(w.id for w in a.cluster.workloads) == [
        "kube-system/etcd-node-1[Pod]", "kube-system/kube-apiserver-node-1[Pod]"]


def test_address_values_share_one_space():
    assert address_value("0.0.0.1") == 1
    assert address_value("::1") == 2**32 + 1


def test_pod_level_json_lists_the_ips_of_pods_that_have_them():
    from pathlib import Path
    from test_cli_list import check_document, kreach

    case = Path(__file__).resolve().parents[1] / "fixtures" / "spec" / "ipblock-pod-ip"
    result = kreach(str(case), "--level", "pod", "--format", "json")
    doc = json.loads(result.stdout)
    check_document(doc, "pod")
    assert doc["endpoints"]["t/dual"]["ips"] == ["10.1.0.6", "fd00::6"]
    assert "ips" not in doc["endpoints"]["t/noip"]


def _controller(kind: str, name: str, owner: tuple[str, str] | None = None, replicas: int = 1) -> dict:
    meta: dict = {"name": name, "namespace": "t"}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1],
                                    "uid": "u", "controller": True}]
    template = {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "c", "image": "x"}]}}
    spec: dict = {"template": template, "selector": {"matchLabels": {"app": "web"}}}
    if kind == "CronJob":
        spec = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}
    elif kind != "Job":
        spec["replicas"] = replicas
    api = "batch/v1" if kind in ("Job", "CronJob") else "apps/v1"
    return {"apiVersion": api, "kind": kind, "metadata": meta, "spec": spec}


def test_an_export_of_a_deployment_its_replicasets_and_pods_is_one_workload_of_real_pods():
    """`kubectl get all -o yaml` holds the Deployment, its ReplicaSets (old ones scaled to 0) and
    the pods of the current one: the pods, with their IPs, are the Deployment's; nothing is made
    up from a template (that would add pods without IPs)."""
    rs = {"kind": "ReplicaSet", "name": "web-5d8f"}
    a = analysis_of(_controller("Deployment", "web"),
                    _controller("ReplicaSet", "web-5d8f", ("Deployment", "web")),
                    _controller("ReplicaSet", "web-old", ("Deployment", "web"), replicas=0),
                    pod("web-5d8f-abcde", "10.1.0.4", labels={"app": "web"},
                        owner={"apiVersion": "apps/v1", **rs, "uid": "u", "controller": True}))
    assert [w.id for w in a.cluster.workloads] == ["t/web[Deployment]"]
    assert [(p.name, p.workload, p.ip_texts) for p in a.cluster.pods] == [
        ("web-5d8f-abcde", "t/web[Deployment]", ("10.1.0.4",))]


def test_a_cronjobs_job_pods_are_the_cronjobs():
    job = {"apiVersion": "batch/v1", "kind": "Job", "name": "nightly-2925", "uid": "u", "controller": True}
    a = analysis_of(_controller("CronJob", "nightly"),
                    _controller("Job", "nightly-2925", ("CronJob", "nightly")),
                    pod("nightly-2925-xyz", "10.1.0.9", labels={"app": "web"}, owner=job))
    assert [p.workload for p in a.cluster.pods] == ["t/nightly[CronJob]"]


def test_a_replicaset_whose_deployment_is_not_in_the_input_is_still_named():
    rs = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "web-5d8f", "uid": "u", "controller": True}
    a = analysis_of(pod("web-5d8f-abcde", "10.1.0.4", owner=rs))
    assert [w.id for w in a.cluster.workloads] == ["t/web-5d8f[ReplicaSet]"]
