"""Cluster-wide policies: AdminNetworkPolicy and BaselineAdminNetworkPolicy
(policy.networking.k8s.io/v1alpha1) and ClusterNetworkPolicy (v1alpha2), and Nodes.

All three kinds become one :class:`AdminPolicy`: a *tier* (``Admin`` above NetworkPolicies,
``Baseline`` below them), a priority within the tier, a subject, and ordered rules whose action
is ``Allow`` (v1alpha2 spells it ``Accept``), ``Deny`` or ``Pass``. The v1alpha1 and v1alpha2
spellings of subjects, peers and ports are normalised here, so the engine sees one shape:

=====================================  ===============================================
manifest                               model
=====================================  ===============================================
subject.namespaces: S                  subject_ns = S, subject_pods = MATCH_ALL
subject.pods: {namespaceSelector, podSelector}   subject_ns, subject_pods
peer namespaces: S                     AdminPeer("namespaces", namespace_selector=S)
peer pods: {namespaceSelector, podSelector}      AdminPeer("pods", ...)
peer networks: [CIDR...]               AdminPeer("networks", networks=...)
peer nodes: S                          AdminPeer("nodes", node_selector=S)
portNumber / portRange / namedPort     AdminPort (protocol, start, end) or named
protocols: tcp/udp/sctp destinationPort number/range; destinationNamedPort   the same
=====================================  ===============================================

The builder assumes :mod:`analyzer.inputs.validation` type-checked the interpreted fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Mapping
from typing import Any

from .selectors import LabelSelector, MATCH_ALL
from ..source import SourceRef

# ALLOW, DENY, PASS and the kind names are re-exported: the engine and tests read them from here
from ..inputs.admin_validation import (ACTIONS, ADMIN_KINDS, ALLOW, ANP, BANP, CNP, DENY, PASS,  # noqa: F401
                                      PRIORITY_RANGE)

ADMIN_TIER, BASELINE_TIER = "Admin", "Baseline"


@dataclass(frozen=True, slots=True)
class AdminPeer:
    """One peer. ``kind`` is ``namespaces``, ``pods``, ``networks``, ``nodes`` or ``domainNames``
    (the last is not modelled: it matches nothing kreach can see)."""

    kind: str
    namespace_selector: LabelSelector | None = None
    pod_selector: LabelSelector | None = None
    networks: tuple[str, ...] = ()
    node_selector: LabelSelector | None = None


@dataclass(frozen=True, slots=True)
class AdminPort:
    """A port match: ``named`` set -> a destination container port of that name (any protocol);
    otherwise ``protocol`` ports ``start``-``end``."""

    protocol: str = "TCP"
    start: int = 1
    end: int = 65535
    named: str | None = None


@dataclass(frozen=True, slots=True)
class AdminRule:
    """``ports`` None: every port of every protocol."""

    direction: str  # INGRESS or EGRESS
    index: int
    name: str | None
    action: str  # ALLOW, DENY or PASS (the meaning; ``written`` is the manifest's word)
    written: str
    peers: tuple[AdminPeer, ...]
    ports: tuple[AdminPort, ...] | None


@dataclass(frozen=True, slots=True)
class AdminPolicy:
    kind: str
    name: str
    tier: str  # ADMIN_TIER or BASELINE_TIER
    priority: int | None  # None: the (single) BaselineAdminNetworkPolicy
    subject_ns: LabelSelector
    subject_pods: LabelSelector
    ingress: tuple[AdminRule, ...]
    egress: tuple[AdminRule, ...]
    source: SourceRef

    @property
    def id(self) -> str:
        return self.name

    @property
    def order(self) -> tuple:
        """Evaluation order within the tier: priority (lower first), then name. Kinds never mix
        in practice; a BaselineAdminNetworkPolicy comes after Baseline ClusterNetworkPolicies."""
        return (self.priority if self.priority is not None else PRIORITY_RANGE[1] + 1, self.name)


@dataclass(frozen=True, slots=True)
class Node:
    name: str
    labels: tuple[tuple[str, str], ...]
    addresses: tuple[str, ...]  # status.addresses of type InternalIP / ExternalIP
    source: SourceRef


# --- building ----------------------------------------------------------------------------


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _list(obj: Any) -> list:
    return obj if isinstance(obj, list) else []


def admin_policy(kind: str, name: str, body: Mapping[str, Any], source: SourceRef,
                 selector_from) -> AdminPolicy:
    spec = body.get("spec") if isinstance(body.get("spec"), Mapping) else {}
    subject = spec.get("subject") if isinstance(spec.get("subject"), Mapping) else {}
    if subject.get("pods") is not None:
        sns = selector_from(_get(subject, "pods", "namespaceSelector"))
        spods = selector_from(_get(subject, "pods", "podSelector"))
    else:
        sns, spods = selector_from(subject.get("namespaces")), MATCH_ALL
    if kind == CNP:
        tier = BASELINE_TIER if spec.get("tier") == BASELINE_TIER else ADMIN_TIER
    else:
        tier = ADMIN_TIER if kind == ANP else BASELINE_TIER
    priority = spec.get("priority") if kind != BANP else None
    rules = {}
    for direction, key, peer_key in (("Ingress", "ingress", "from"), ("Egress", "egress", "to")):
        out = []
        for i, r in enumerate(_list(spec.get(key))):
            r = r if isinstance(r, Mapping) else {}
            written = str(r.get("action"))
            peers = tuple(_peer(p, selector_from) for p in _list(r.get(peer_key))
                          if isinstance(p, Mapping))
            ports = (_cnp_ports(r.get("protocols")) if kind == CNP else _anp_ports(r.get("ports")))
            name_ = r.get("name")
            out.append(AdminRule(direction, i, name_ if isinstance(name_, str) and name_ else None,
                                 ACTIONS[kind].get(written, DENY), written, peers, ports))
        rules[direction] = tuple(out)
    return AdminPolicy(kind, name, tier, priority if isinstance(priority, int) else None,
                       sns, spods, rules["Ingress"], rules["Egress"], source)


def _peer(p: Mapping[str, Any], selector_from) -> AdminPeer:
    if p.get("namespaces") is not None:
        return AdminPeer("namespaces", namespace_selector=selector_from(p["namespaces"]))
    if p.get("pods") is not None:
        return AdminPeer("pods", namespace_selector=selector_from(_get(p, "pods", "namespaceSelector")),
                         pod_selector=selector_from(_get(p, "pods", "podSelector")))
    if p.get("networks") is not None:
        return AdminPeer("networks", networks=tuple(str(n).strip() for n in _list(p["networks"])))
    if p.get("nodes") is not None:
        return AdminPeer("nodes", node_selector=selector_from(p["nodes"]))
    return AdminPeer("domainNames")


def _anp_ports(items: Any) -> tuple[AdminPort, ...] | None:
    if not isinstance(items, list) or not items:
        return None
    out = []
    for p in items:
        if not isinstance(p, Mapping):
            continue
        if isinstance(p.get("namedPort"), str):
            out.append(AdminPort(named=p["namedPort"]))
        elif isinstance(p.get("portNumber"), Mapping):
            n = p["portNumber"]
            out.append(AdminPort(str(n.get("protocol") or "TCP"), n.get("port"), n.get("port")))
        elif isinstance(p.get("portRange"), Mapping):
            r = p["portRange"]
            out.append(AdminPort(str(r.get("protocol") or "TCP"), r.get("start"), r.get("end")))
    return tuple(out)


def _cnp_ports(items: Any) -> tuple[AdminPort, ...] | None:
    if not isinstance(items, list) or not items:
        return None
    out = []
    for p in items:
        if not isinstance(p, Mapping):
            continue
        if isinstance(p.get("destinationNamedPort"), str):
            out.append(AdminPort(named=p["destinationNamedPort"]))
            continue
        for proto in ("tcp", "udp", "sctp"):
            if isinstance(p.get(proto), Mapping):
                dp = _get(p, proto, "destinationPort")
                if isinstance(_get(dp, "number"), int):
                    out.append(AdminPort(proto.upper(), dp["number"], dp["number"]))
                elif isinstance(_get(dp, "range"), Mapping):
                    out.append(AdminPort(proto.upper(), dp["range"].get("start"), dp["range"].get("end")))
                else:  # a protocol without a port: every port of it
                    out.append(AdminPort(proto.upper()))
    return tuple(out)


def node(name: str, body: Mapping[str, Any], source: SourceRef, labels) -> Node:
    addrs = tuple(str(a.get("address")) for a in _list(_get(body, "status", "addresses"))
                  if isinstance(a, Mapping) and a.get("type") in ("InternalIP", "ExternalIP")
                  and isinstance(a.get("address"), str))
    return Node(name, labels, addrs, source)
