"""The Terraform Kubernetes provider's resources as the Kubernetes objects they create.

The provider (hashicorp/kubernetes) writes each object in its own schema: snake_case names,
every nested block a list (``metadata[0]``, ``spec[0].pod_selector[0]``), singular block names
for repeated fields (``container``, ``port``), ``port``/``target_port`` as strings parsed like
``intstr.Parse`` (``"8080"`` is the number 8080, ``"http"`` a port name), and an empty list for
a block that is not written. This module turns one resource's attribute values (as Terraform's
JSON output and the HCL reader both give them) into the object the provider would send to the
API server, for the fields kreach models; other fields are left out, as the API server would
default them.

``to_object`` also returns where each Kubernetes field came from (a path in the resource's
attributes), so that locations of rules and fields can point at the Terraform source.
``kubernetes_manifest`` is the object itself (``manifest``), any kind.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Mapping

from .hcl_eval import Unknown

Path = tuple[str | int, ...]

# resource type (with and without the _v1 suffix) -> (apiVersion, kind)
KINDS: dict[str, tuple[str, str]] = {}
for _type, _api, _kind in (
    ("network_policy", "networking.k8s.io/v1", "NetworkPolicy"),
    ("namespace", "v1", "Namespace"),
    ("pod", "v1", "Pod"),
    ("service", "v1", "Service"),
    ("deployment", "apps/v1", "Deployment"),
    ("stateful_set", "apps/v1", "StatefulSet"),
    ("daemon_set", "apps/v1", "DaemonSet"),
    ("job", "batch/v1", "Job"),
    ("cron_job", "batch/v1", "CronJob"),
    ("replication_controller", "v1", "ReplicationController"),
):
    KINDS[f"kubernetes_{_type}"] = KINDS[f"kubernetes_{_type}_v1"] = (_api, _kind)
KINDS["kubernetes_daemonset"] = KINDS["kubernetes_daemon_set_v1"]
MANIFEST = "kubernetes_manifest"
_NAMESPACED = frozenset(k for k, (_, kind) in KINDS.items() if kind != "Namespace")


def is_kubernetes(resource_type: str) -> bool:
    return resource_type in KINDS or resource_type == MANIFEST


class Origins:
    """Kubernetes field path -> attribute path it was built from."""

    def __init__(self) -> None:
        self.paths: dict[Path, Path] = {}

    def add(self, k8s: Path, tf: Path) -> None:
        self.paths.setdefault(k8s, tf)


def to_object(resource_type: str, values: Mapping[str, Any]) -> tuple[dict | None, Origins]:
    """The Kubernetes object a resource of ``resource_type`` with attribute ``values`` stands
    for (None if the type is not one the provider maps to a modelled object), with origins."""
    origins = Origins()
    if resource_type == MANIFEST:
        manifest = values.get("manifest")
        if not isinstance(manifest, Mapping):
            return None, origins
        _trace(manifest, (), ("manifest",), origins)
        return dict(manifest), origins
    if resource_type not in KINDS:
        return None, origins
    api, kind = KINDS[resource_type]
    body: dict[str, Any] = {"apiVersion": api, "kind": kind}
    origins.add((), ())
    meta = _metadata(_block(values, "metadata"), ("metadata", 0), ("metadata",), origins)
    if resource_type in _NAMESPACED and "namespace" not in meta:
        meta["namespace"] = "default"  # the provider's default for every namespaced resource
    body["metadata"] = meta
    spec = _block(values, "spec")
    build = _SPECS.get(kind)
    if build is not None and spec is not None:
        body["spec"] = build(spec, ("spec", 0), ("spec",), origins)
    return body, origins


# --- helpers -------------------------------------------------------------------------------

def _block(values: Mapping[str, Any] | None, key: str) -> Mapping[str, Any] | None:
    """The single block ``key`` (a one-element list in the provider's schema): None when not
    written, ``{}`` when written empty."""
    if not isinstance(values, Mapping):
        return None
    v = values.get(key)
    if isinstance(v, list):
        if not v:
            return None
        v = v[0] if v[0] is not None else {}
    return v if isinstance(v, Mapping) else None


def _blocks(values: Mapping[str, Any], key: str) -> list[tuple[int, Mapping[str, Any]]]:
    v = values.get(key)
    if not isinstance(v, list):
        return []
    return [(i, item if isinstance(item, Mapping) else {}) for i, item in enumerate(v)]


def _given(v: Any) -> bool:
    """A value the provider would send: not null, not an empty string, list or map."""
    return v is not None and v != "" and v != [] and v != {}


def _copy(src: Mapping[str, Any], key: str, dst: dict, out_key: str, tf: Path, k8s: Path,
          origins: Origins, convert: Callable[[Any], Any] = lambda v: v) -> None:
    v = src.get(key)
    if _given(v):
        # an Unknown (a value a static read of HCL cannot know) is kept for its reader to judge
        dst[out_key] = v if isinstance(v, Unknown) else convert(v)
        origins.add((*k8s, out_key), (*tf, key))


def _as_map(v: Any) -> Any:
    """A copy of a map; anything else as it is (validation reports a wrong type)."""
    return dict(v) if isinstance(v, Mapping) else v


def _as_list(v: Any) -> Any:
    return list(v) if isinstance(v, (list, tuple)) else v


def int_or_string(v: Any) -> Any:
    """``intstr.Parse``: a decimal string becomes a number, anything else stays a string."""
    if isinstance(v, str) and re.fullmatch(r"-?\d+", v.strip()):
        return int(v)
    return v


def _int(v: Any) -> Any:
    if isinstance(v, str) and re.fullmatch(r"-?\d+", v.strip()):
        return int(v)
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def _trace(value: Any, k8s: Path, tf: Path, origins: Origins) -> None:
    """Origins for a value copied as is (kubernetes_manifest, label maps)."""
    origins.add(k8s, tf)
    if isinstance(value, Mapping):
        for k, v in value.items():
            if isinstance(k, str):
                _trace(v, (*k8s, k), (*tf, k), origins)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _trace(v, (*k8s, i), (*tf, i), origins)


# --- metadata and selectors ----------------------------------------------------------------

def _metadata(m: Mapping[str, Any] | None, tf: Path, k8s: Path, origins: Origins) -> dict:
    out: dict[str, Any] = {}
    origins.add(k8s, tf)
    if not m:
        return out
    for key, out_key in (("name", "name"), ("namespace", "namespace"), ("labels", "labels"),
                         ("annotations", "annotations"), ("generate_name", "generateName")):
        _copy(m, key, out, out_key, tf, k8s, origins, _as_map)
    return out


def _selector(s: Mapping[str, Any], tf: Path, k8s: Path, origins: Origins) -> dict:
    """A label selector block: ``match_labels`` map, ``match_expressions`` blocks."""
    out: dict[str, Any] = {}
    origins.add(k8s, tf)
    _copy(s, "match_labels", out, "matchLabels", tf, k8s, origins, _as_map)
    exprs = []
    for i, e in _blocks(s, "match_expressions"):
        expr: dict[str, Any] = {}
        where = (*k8s, "matchExpressions", len(exprs))
        origins.add(where, (*tf, "match_expressions", i))
        _copy(e, "key", expr, "key", (*tf, "match_expressions", i), where, origins)
        _copy(e, "operator", expr, "operator", (*tf, "match_expressions", i), where, origins)
        values = e.get("values")
        if isinstance(values, Unknown) or (isinstance(values, list) and values):
            expr["values"] = values if isinstance(values, Unknown) else _as_list(values)
            origins.add((*where, "values"), (*tf, "match_expressions", i, "values"))
        exprs.append(expr)
    if exprs:
        out["matchExpressions"] = exprs
        origins.add((*k8s, "matchExpressions"), (*tf, "match_expressions"))
    return out


def _selector_block(src: Mapping[str, Any], key: str, tf: Path, k8s: Path,
                    origins: Origins) -> dict | None:
    """A selector written as a block: absent (empty list) is None, ``x {}`` is ``{}``."""
    raw = src.get(key)
    if not isinstance(raw, list) or not raw:
        return None
    first = raw[0] if isinstance(raw[0], Mapping) else {}
    return _selector(first, (*tf, key, 0), k8s, origins)


# --- NetworkPolicy -------------------------------------------------------------------------

def _network_policy(spec: Mapping[str, Any], tf: Path, k8s: Path, origins: Origins) -> dict:
    out: dict[str, Any] = {}
    origins.add(k8s, tf)
    pod_selector = _selector_block(spec, "pod_selector", tf, (*k8s, "podSelector"), origins)
    out["podSelector"] = pod_selector if pod_selector is not None else {}
    for direction, peers_key, out_peers in (("ingress", "from", "from"), ("egress", "to", "to")):
        rules = []
        for i, rule in _blocks(spec, direction):
            rtf, rk8s = (*tf, direction, i), (*k8s, direction, len(rules))
            origins.add(rk8s, rtf)
            r: dict[str, Any] = {}
            ports = [_policy_port(p, (*rtf, "ports", j), (*rk8s, "ports", j), origins)
                     for j, p in _blocks(rule, "ports")]
            peers = [_peer(p, (*rtf, peers_key, j), (*rk8s, out_peers, j), origins)
                     for j, p in _blocks(rule, peers_key)]
            if ports:
                r["ports"] = ports
                origins.add((*rk8s, "ports"), (*rtf, "ports"))
            if peers:
                r[out_peers] = peers
                origins.add((*rk8s, out_peers), (*rtf, peers_key))
            rules.append(r)
        if rules:
            out[direction] = rules
            origins.add((*k8s, direction), (*tf, direction))
    types = spec.get("policy_types")
    if isinstance(types, Unknown) or (isinstance(types, list) and types):
        out["policyTypes"] = types if isinstance(types, Unknown) else _as_list(types)
        origins.add((*k8s, "policyTypes"), (*tf, "policy_types"))
    return out


def _policy_port(p: Mapping[str, Any], tf: Path, k8s: Path, origins: Origins) -> dict:
    out: dict[str, Any] = {}
    origins.add(k8s, tf)
    _copy(p, "port", out, "port", tf, k8s, origins, int_or_string)
    _copy(p, "protocol", out, "protocol", tf, k8s, origins)
    end = p.get("end_port")
    if _given(end) and end != 0:
        out["endPort"] = _int(end)
        origins.add((*k8s, "endPort"), (*tf, "end_port"))
    return out


def _peer(p: Mapping[str, Any], tf: Path, k8s: Path, origins: Origins) -> dict:
    out: dict[str, Any] = {}
    origins.add(k8s, tf)
    raw = p.get("ip_block")
    if isinstance(raw, list) and raw:
        block = raw[0] if isinstance(raw[0], Mapping) else {}
        btf, bk8s = (*tf, "ip_block", 0), (*k8s, "ipBlock")
        ip: dict[str, Any] = {}
        origins.add(bk8s, btf)
        _copy(block, "cidr", ip, "cidr", btf, bk8s, origins)
        _copy(block, "except", ip, "except", btf, bk8s, origins, _as_list)
        out["ipBlock"] = ip
    for key, out_key in (("namespace_selector", "namespaceSelector"), ("pod_selector", "podSelector")):
        sel = _selector_block(p, key, tf, (*k8s, out_key), origins)
        if sel is not None:
            out[out_key] = sel
    return out


# --- workloads -----------------------------------------------------------------------------

def _pod_spec(s: Mapping[str, Any], tf: Path, k8s: Path, origins: Origins) -> dict:
    out: dict[str, Any] = {}
    origins.add(k8s, tf)
    for key, out_key in (("container", "containers"), ("init_container", "initContainers")):
        containers = []
        for i, c in _blocks(s, key):
            ctf, ck8s = (*tf, key, i), (*k8s, out_key, i)
            origins.add(ck8s, ctf)
            container: dict[str, Any] = {}
            _copy(c, "name", container, "name", ctf, ck8s, origins)
            _copy(c, "image", container, "image", ctf, ck8s, origins)
            ports = []
            for j, port in _blocks(c, "port"):
                ptf, pk8s = (*ctf, "port", j), (*ck8s, "ports", j)
                origins.add(pk8s, ptf)
                cp: dict[str, Any] = {}
                _copy(port, "name", cp, "name", ptf, pk8s, origins)
                _copy(port, "container_port", cp, "containerPort", ptf, pk8s, origins, _int)
                _copy(port, "protocol", cp, "protocol", ptf, pk8s, origins)
                if _given(port.get("host_port")) and port.get("host_port") != 0:
                    _copy(port, "host_port", cp, "hostPort", ptf, pk8s, origins, _int)
                _copy(port, "host_ip", cp, "hostIP", ptf, pk8s, origins)
                ports.append(cp)
            if ports:
                container["ports"] = ports
            containers.append(container)
        if containers:
            out[out_key] = containers
    if s.get("host_network") is True:
        out["hostNetwork"] = True
        origins.add((*k8s, "hostNetwork"), (*tf, "host_network"))
    return out


def _template(t: Mapping[str, Any], tf: Path, k8s: Path, origins: Origins) -> dict:
    out: dict[str, Any] = {}
    origins.add(k8s, tf)
    meta = _block(t, "metadata")
    out["metadata"] = _metadata(meta, (*tf, "metadata", 0), (*k8s, "metadata"), origins)
    spec = _block(t, "spec")
    if spec is not None:
        out["spec"] = _pod_spec(spec, (*tf, "spec", 0), (*k8s, "spec"), origins)
    return out


def _workload(spec: Mapping[str, Any], tf: Path, k8s: Path, origins: Origins) -> dict:
    """Deployment, StatefulSet, DaemonSet, ReplicationController and Job specs."""
    out: dict[str, Any] = {}
    origins.add(k8s, tf)
    replicas = spec.get("replicas")  # a string in the provider's schema ("" when unset)
    if _given(replicas):
        out["replicas"] = _int(replicas)
        origins.add((*k8s, "replicas"), (*tf, "replicas"))
    raw = spec.get("selector")
    if isinstance(raw, Mapping) and raw:  # ReplicationController: a plain map
        out["selector"] = _as_map(raw)
        origins.add((*k8s, "selector"), (*tf, "selector"))
    else:
        sel = _selector_block(spec, "selector", tf, (*k8s, "selector"), origins)
        if sel is not None:
            out["selector"] = sel
    _copy(spec, "service_name", out, "serviceName", tf, k8s, origins)
    template = _block(spec, "template")
    if template is not None:
        out["template"] = _template(template, (*tf, "template", 0), (*k8s, "template"), origins)
    return out


def _cron_job(spec: Mapping[str, Any], tf: Path, k8s: Path, origins: Origins) -> dict:
    out: dict[str, Any] = {}
    origins.add(k8s, tf)
    _copy(spec, "schedule", out, "schedule", tf, k8s, origins)
    jt = _block(spec, "job_template")
    if jt is not None:
        jtf, jk8s = (*tf, "job_template", 0), (*k8s, "jobTemplate")
        origins.add(jk8s, jtf)
        job: dict[str, Any] = {"metadata": _metadata(_block(jt, "metadata"), (*jtf, "metadata", 0),
                                                     (*jk8s, "metadata"), origins)}
        js = _block(jt, "spec")
        if js is not None:
            job["spec"] = _workload(js, (*jtf, "spec", 0), (*jk8s, "spec"), origins)
        out["jobTemplate"] = job
    return out


# --- Service -------------------------------------------------------------------------------

def _service(spec: Mapping[str, Any], tf: Path, k8s: Path, origins: Origins) -> dict:
    out: dict[str, Any] = {}
    origins.add(k8s, tf)
    _copy(spec, "selector", out, "selector", tf, k8s, origins, _as_map)
    _copy(spec, "type", out, "type", tf, k8s, origins)
    ports = []
    for i, p in _blocks(spec, "port"):
        ptf, pk8s = (*tf, "port", i), (*k8s, "ports", i)
        origins.add(pk8s, ptf)
        sp: dict[str, Any] = {}
        _copy(p, "name", sp, "name", ptf, pk8s, origins)
        _copy(p, "port", sp, "port", ptf, pk8s, origins, _int)
        _copy(p, "target_port", sp, "targetPort", ptf, pk8s, origins, int_or_string)
        _copy(p, "protocol", sp, "protocol", ptf, pk8s, origins)
        if _given(p.get("node_port")) and p.get("node_port") != 0:
            _copy(p, "node_port", sp, "nodePort", ptf, pk8s, origins, _int)
        ports.append(sp)
    if ports:
        out["ports"] = ports
    return out


_SPECS: dict[str, Callable[[Mapping[str, Any], Path, Path, Origins], dict]] = {
    "NetworkPolicy": _network_policy,
    "Pod": _pod_spec,
    "Deployment": _workload,
    "StatefulSet": _workload,
    "DaemonSet": _workload,
    "ReplicationController": _workload,
    "Job": _workload,
    "CronJob": _cron_job,
    "Service": _service,
}
