"""Which kinds of object kreach models, and what it says about the kinds it does not.

Every object the reader finds falls in one of four classes (:func:`classify`):

* **modelled** -- Namespaces, Pods and their controllers, Services, Kubernetes NetworkPolicies,
  admin policies, and the edge (Ingress, OpenShift Route, Gateway API HTTPRoute/GRPCRoute/Gateway);
* **changes reachability** -- policy kinds of other APIs (Cilium, Calico, Antrea, Istio) that
  a cluster enforces alongside NetworkPolicies. kreach ignores them, so its answers may be wrong for that cluster: each such object is a *warning*, and
  ``kreach check`` fails closed on them (unless ``--allow-partial``);
* **creates pods** -- custom resources whose operator runs pods (Prometheus, Alertmanager, ...):
  those pods are invisible to kreach; named in the summary of unmodelled kinds;
* **other** -- everything else (ConfigMaps, RBAC, CRDs ...): no effect on reachability.

Kinds are matched with their API group, because names collide: Calico's and Antrea's
``NetworkPolicy`` are not Kubernetes' ``NetworkPolicy``. This module is the one place to edit
when a kind becomes modelled (remove it from :data:`REACHABILITY_KINDS`).
"""

from __future__ import annotations

import difflib
from enum import Enum
from typing import Iterable, Sequence

from ..diagnostics import Diagnostic, Severity

# kind -> API groups it is modelled in ("" is the core group)
MODELLED: dict[str, frozenset[str]] = {
    "Namespace": frozenset({""}),
    "Pod": frozenset({""}),
    "ReplicationController": frozenset({""}),
    "Service": frozenset({""}),
    "Deployment": frozenset({"apps", "extensions"}),
    "ReplicaSet": frozenset({"apps", "extensions"}),
    "StatefulSet": frozenset({"apps"}),
    "DaemonSet": frozenset({"apps", "extensions"}),
    "Job": frozenset({"batch"}),
    "CronJob": frozenset({"batch"}),
    "NetworkPolicy": frozenset({"networking.k8s.io", "extensions"}),
    "AdminNetworkPolicy": frozenset({"policy.networking.k8s.io"}),
    "BaselineAdminNetworkPolicy": frozenset({"policy.networking.k8s.io"}),
    "ClusterNetworkPolicy": frozenset({"policy.networking.k8s.io"}),
    "Node": frozenset({""}),  # owner of static (mirror) pods
    # the edge: what routes outside traffic to Services (analyzer.model.edge)
    "Ingress": frozenset({"networking.k8s.io", "extensions"}),
    "Route": frozenset({"route.openshift.io"}),
    "HTTPRoute": frozenset({"gateway.networking.k8s.io"}),
    "GRPCRoute": frozenset({"gateway.networking.k8s.io"}),
    "Gateway": frozenset({"gateway.networking.k8s.io"}),
}
# modelled custom resources: no bundled schema validates them
CRD_KINDS = frozenset({"Route", "HTTPRoute", "GRPCRoute", "Gateway"})
MODELLED_KINDS = frozenset(MODELLED)
# modelled kinds that live outside namespaces: the API server clears a namespace written on them
# (rest.BeforeCreate), and `kubectl apply -n` does not put them in one
CLUSTER_SCOPED_KINDS = frozenset({"Namespace", "Node", "AdminNetworkPolicy",
                                  "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy"})

# (API group, kind) of policies that change reachability but are not modelled
REACHABILITY_KINDS: frozenset[tuple[str, str]] = frozenset({
    ("cilium.io", "CiliumNetworkPolicy"),
    ("cilium.io", "CiliumClusterwideNetworkPolicy"),
    ("crd.projectcalico.org", "NetworkPolicy"),
    ("crd.projectcalico.org", "GlobalNetworkPolicy"),
    ("projectcalico.org", "NetworkPolicy"),
    ("projectcalico.org", "GlobalNetworkPolicy"),
    ("crd.antrea.io", "NetworkPolicy"),
    ("crd.antrea.io", "ClusterNetworkPolicy"),
    ("security.antrea.tanzu.vmware.com", "NetworkPolicy"),
    ("security.antrea.tanzu.vmware.com", "ClusterNetworkPolicy"),
    ("security.istio.io", "AuthorizationPolicy"),
})

# (API group, kind) of custom resources whose operator creates pods kreach cannot see
POD_CREATING_KINDS: frozenset[tuple[str, str]] = frozenset({
    ("monitoring.coreos.com", "Prometheus"),
    ("monitoring.coreos.com", "PrometheusAgent"),
    ("monitoring.coreos.com", "Alertmanager"),
    ("monitoring.coreos.com", "ThanosRuler"),
    ("argoproj.io", "Rollout"),
    ("serving.knative.dev", "Service"),
    ("elasticsearch.k8s.elastic.co", "Elasticsearch"),
    ("kibana.k8s.elastic.co", "Kibana"),
    ("kafka.strimzi.io", "Kafka"),
    ("postgresql.cnpg.io", "Cluster"),
    ("acid.zalan.do", "postgresql"),
})


class KindClass(str, Enum):
    MODELLED = "modelled"
    CHANGES_REACHABILITY = "changes-reachability"
    CREATES_PODS = "creates-pods"
    OTHER = "other"


def api_group(api_version: str) -> str:
    """``networking.k8s.io/v1`` -> ``networking.k8s.io``; ``v1`` -> ``""`` (the core group)."""
    return api_version.rpartition("/")[0]


def classify(api_version: str, kind: str) -> KindClass:
    group = api_group(api_version)
    if (group, kind) in REACHABILITY_KINDS:
        return KindClass.CHANGES_REACHABILITY
    if group in MODELLED.get(kind, ()):
        return KindClass.MODELLED
    if (group, kind) in POD_CREATING_KINDS:
        return KindClass.CREATES_PODS
    if kind in MODELLED:
        # a modelled kind under an unknown group is still read as that kind: schema validation
        # reports the unsupported apiVersion (KR103), which is more useful than silence
        return KindClass.MODELLED
    return KindClass.OTHER


def did_you_mean(kind: str) -> str | None:
    """The modelled kind that ``kind`` most likely misspells (a different case, a letter or two
    off), or None. Used only for kinds that are neither modelled nor known elsewhere."""
    lowered = {k.lower(): k for k in MODELLED}
    if kind.lower() in lowered:
        return lowered[kind.lower()]
    close = difflib.get_close_matches(kind.lower(), list(lowered), n=1, cutoff=0.85)
    return lowered[close[0]] if close else None


# kinds whose objects kreach models as policies: one of them skipped means answers may be wrong
POLICY_KINDS = frozenset({"NetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy",
                          "ClusterNetworkPolicy"})


def policies_left_out(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics that say a policy governing reachability was not analysed: a policy
    skipped as invalid (any KR1xx error about a policy kind), an object of a reachability-
    changing kind kreach does not model (KR015), or a kind that misspells a policy kind
    (KR016). ``kreach check`` fails closed on them."""
    out = []
    for d in diagnostics:
        if d.code == "KR015":
            out.append(d)
        elif d.code == "KR016" and d.kind is not None and did_you_mean(d.kind) in POLICY_KINDS:
            out.append(d)
        elif (d.code.startswith("KR1") and d.severity is Severity.ERROR
              and d.kind in POLICY_KINDS):
            out.append(d)
    return out


def describe_left_out(left: Sequence[Diagnostic], shown: int = 3) -> str:
    """``2 policy objects left out: a.yaml:3 (KR015), b.yaml:9 (KR101)`` (the first few)."""
    where = [f"{d.source or '<input>'} ({d.code})" for d in left[:shown]]
    more = f" and {len(left) - shown} more" if len(left) > shown else ""
    noun = "policy object" if len(left) == 1 else "policy objects"
    return f"{len(left)} {noun} left out: {', '.join(where)}{more}"
