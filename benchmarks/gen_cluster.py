#!/usr/bin/env python3
"""Seeded synthetic Kubernetes cluster for kreach benchmarks.

The cluster looks like a multi-team production cluster:

* namespaces labelled ``team`` / ``env`` / ``kubernetes.io/metadata.name``;
* per namespace, workloads cycling through four tiers (web, api, backend, data): Deployments,
  a few DaemonSets, StatefulSets for the data tier, each pod template carrying ``app``, ``tier``,
  ``team``, ``version`` and named container ports (http, grpc, db, metrics, sometimes UDP statsd);
* one Service per workload (headless for StatefulSets);
* per namespace, ``--policies-per-ns`` NetworkPolicies: a default deny-all (ingress and egress),
  DNS egress to kube-dns, then a weighted mix of: same-app traffic, calls from the upstream tier on
  a named port, cross-namespace peers (namespaceSelector + podSelector), ipBlock with except, port
  ranges (endPort), metrics scraping from the monitoring namespace on a named port, UDP and SCTP
  egress, egress to external CIDRs, matchExpressions selectors (In / NotIn / Exists) and egress
  from the backend tier to a database;
* cluster-wide: kube-system with CoreDNS, monitoring with Prometheus and a node-exporter
  DaemonSet, ingress-nginx with its controller, and two policies for them.

Layout of ``--out``: ``00-platform.yaml`` for the cluster-wide objects and ``ns-<name>.yaml`` per
namespace, nothing else (so every file in the directory is a manifest). Object counts are printed
as JSON on stdout and, with ``--counts FILE``, written to FILE.

Only ``random.Random(seed)`` is used, so equal arguments give byte-identical files.

    python benchmarks/gen_cluster.py --namespaces 20 --workloads-per-ns 25 --replicas 3 \\
        --policies-per-ns 20 --seed 1 --out /tmp/cluster
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from dataclasses import dataclass
from typing import Any, Callable

import yaml

Obj = dict[str, Any]

TEAMS = ("orders", "payments", "search", "accounts", "media", "logistics",
         "pricing", "fraud", "messaging", "catalog", "loyalty", "reporting")
ENVS = ("prod", "staging", "dev")
VERSIONS = ("v1", "v2", "v3")
TIER_ORDER = ("web", "api", "backend", "data")
CALLER_OF = {"api": "web", "backend": "api", "data": "backend"}  # callee tier -> caller tier
PUBLIC_CIDRS = ("35.190.0.0/16", "52.84.0.0/14", "104.16.0.0/12", "140.82.112.0/20",
                "151.101.0.0/16", "199.232.0.0/16")
PRIVATE_CIDRS = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")


@dataclass(frozen=True)
class Port:
    name: str
    number: int
    protocol: str = "TCP"


METRICS = Port("metrics", 9100)
STATSD = Port("statsd", 8125, "UDP")
DATABASES = {"postgres": 5432, "mysql": 3306, "redis": 6379, "cassandra": 9042, "kafka": 9092}
STEMS = {
    "web": ("storefront", "dashboard", "console", "landing"),
    "api": ("edge", "graphql", "public-api", "bff"),
    "backend": ("billing", "ledger", "router", "indexer", "notifier", "session"),
    "data": tuple(DATABASES),
}


@dataclass(frozen=True)
class Workload:
    namespace: str
    app: str
    kind: str
    tier: str
    team: str
    version: str
    ports: tuple[Port, ...]
    pods: int

    @property
    def labels(self) -> Obj:
        return {"app": self.app, "tier": self.tier, "team": self.team, "version": self.version}

    def port_named(self, *names: str) -> Port:
        """The first port whose name is one of ``names``, else the first port."""
        return next((p for p in self.ports if p.name in names), self.ports[0])


@dataclass(frozen=True)
class Namespace:
    name: str
    team: str
    env: str
    workloads: tuple[Workload, ...]


# ------------------------------------------------------------------------------------------
# topology
# ------------------------------------------------------------------------------------------

def make_workload(rng: random.Random, namespace: str, team: str, index: int,
                  replicas: int, nodes: int) -> Workload:
    tier = TIER_ORDER[index % len(TIER_ORDER)]  # every tier present once there are 4 workloads
    stem = rng.choice(STEMS[tier])
    if tier == "data":
        kind, ports = "StatefulSet", [Port("db", DATABASES[stem])]
    else:
        kind = "DaemonSet" if rng.random() < 0.08 else "Deployment"
        ports = {"web": [Port("http", 8080)],
                 "api": [Port("http", 8080), Port("grpc", 9090)],
                 "backend": [Port("grpc", 9090)]}[tier]
    if rng.random() < 0.1:
        ports.append(STATSD)
    ports.append(METRICS)
    return Workload(namespace=namespace, app=f"{stem}-{index:02d}", kind=kind, tier=tier,
                    team=team, version=rng.choice(VERSIONS), ports=tuple(ports),
                    pods=nodes if kind == "DaemonSet" else replicas)


def make_namespaces(rng: random.Random, count: int, per_ns: int, replicas: int,
                    nodes: int) -> list[Namespace]:
    namespaces = []
    for i in range(count):
        team, env = TEAMS[i % len(TEAMS)], rng.choice(ENVS)
        name = f"{team}-{env}-{i:03d}"
        workloads = tuple(make_workload(rng, name, team, j, replicas, nodes) for j in range(per_ns))
        namespaces.append(Namespace(name, team, env, workloads))
    return namespaces


# ------------------------------------------------------------------------------------------
# manifests
# ------------------------------------------------------------------------------------------

def namespace_object(name: str, labels: Obj) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name, **labels}}}


def container_ports(ports: tuple[Port, ...]) -> list[Obj]:
    return [{"name": p.name, "containerPort": p.number}
            | ({} if p.protocol == "TCP" else {"protocol": p.protocol}) for p in ports]


def controller(kind: str, name: str, namespace: str, labels: Obj, selector: Obj,
               ports: tuple[Port, ...], image: str, pods: int) -> Obj:
    spec: Obj = {}
    if kind != "DaemonSet":
        spec["replicas"] = pods
    if kind == "StatefulSet":
        spec["serviceName"] = name
    spec["selector"] = {"matchLabels": selector}
    spec["template"] = {"metadata": {"labels": labels},
                        "spec": {"containers": [{"name": name, "image": image,
                                                 "ports": container_ports(ports)}]}}
    return {"apiVersion": "apps/v1", "kind": kind,
            "metadata": {"name": name, "namespace": namespace, "labels": selector}, "spec": spec}


def service(name: str, namespace: str, selector: Obj, ports: tuple[Port, ...],
            headless: bool = False) -> Obj:
    spec: Obj = {"clusterIP": "None"} if headless else {}
    spec["selector"] = selector
    spec["ports"] = [{"name": p.name, "port": p.number, "targetPort": p.name,
                      "protocol": p.protocol} for p in ports]
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def workload_objects(w: Workload) -> list[Obj]:
    selector = {"app": w.app, "tier": w.tier}
    image = f"registry.example.com/{w.team}/{w.app}:{w.version}"
    return [controller(w.kind, w.app, w.namespace, w.labels, selector, w.ports, image, w.pods),
            service(w.app, w.namespace, selector, w.ports, headless=w.kind == "StatefulSet")]


def network_policy(name: str, namespace: str, selected: Obj, *, ingress: list | None = None,
                   egress: list | None = None) -> Obj:
    """``ingress``/``egress`` of None leave that direction out of policyTypes."""
    spec: Obj = {"podSelector": selected}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    spec["policyTypes"] = [t for t, rules in (("Ingress", ingress), ("Egress", egress))
                           if rules is not None]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def port(value: int | str, protocol: str | None = "TCP", end: int | None = None) -> Obj:
    rule: Obj = {} if protocol is None else {"protocol": protocol}
    rule["port"] = value
    if end is not None:
        rule["endPort"] = end
    return rule


def app_selector(w: Workload) -> Obj:
    return {"matchLabels": {"app": w.app}}


# ------------------------------------------------------------------------------------------
# policy kinds: each returns (selected pods, ingress rules | None, egress rules | None)
# ------------------------------------------------------------------------------------------

Rules = tuple[Obj, list | None, list | None]


def pick(rng: random.Random, ns: Namespace, *tiers: str) -> Workload:
    pool = [w for w in ns.workloads if not tiers or w.tier in tiers]
    return rng.choice(pool or list(ns.workloads))


def same_app(rng: random.Random, ns: Namespace, cluster: list[Namespace]) -> Rules:
    w = pick(rng, ns)
    peers = [{"podSelector": app_selector(w)}]
    return (app_selector(w),
            [{"from": peers, "ports": [port(w.port_named("http", "grpc", "db").name, None)]}],
            [{"to": peers}])


def from_caller_tier(rng: random.Random, ns: Namespace, cluster: list[Namespace]) -> Rules:
    w = pick(rng, ns, rng.choice(("api", "backend", "data")))
    caller = CALLER_OF.get(w.tier, "web")
    return ({"matchLabels": {"app": w.app, "tier": w.tier}},
            [{"from": [{"podSelector": {"matchLabels": {"tier": caller}}}],
              "ports": [port(w.port_named("http", "grpc", "db").name)]}], None)


def cross_namespace(rng: random.Random, ns: Namespace, cluster: list[Namespace]) -> Rules:
    w = pick(rng, ns, "api", "backend")
    other = rng.choice(cluster)
    served = w.port_named("grpc", "http")
    peer = {"namespaceSelector": {"matchLabels": {"team": other.team, "env": other.env}},
            "podSelector": {"matchLabels": {"tier": rng.choice(("web", "api", "backend"))}}}
    value = served.name if rng.random() < 0.5 else served.number
    return app_selector(w), [{"from": [peer], "ports": [port(value)]}], None


def ipblock_except(rng: random.Random, ns: Namespace, cluster: list[Namespace]) -> Rules:
    w = pick(rng, ns, "web", "api")
    if rng.random() < 0.5:
        cidr, holes = "10.0.0.0/8", {f"10.{rng.randrange(256)}.0.0/16" for _ in range(rng.randint(1, 3))}
    else:
        cidr, holes = "172.16.0.0/12", {f"172.{rng.randrange(16, 32)}.0.0/16"
                                        for _ in range(rng.randint(1, 3))}
    return (app_selector(w),
            [{"from": [{"ipBlock": {"cidr": cidr, "except": sorted(holes)}}],
              "ports": [port(8080), port(8443)]}], None)


def port_range(rng: random.Random, ns: Namespace, cluster: list[Namespace]) -> Rules:
    start = rng.choice((5000, 7000, 30000, 32000))
    return ({"matchLabels": {"tier": "backend", "team": ns.team}}, None,
            [{"to": [{"podSelector": {"matchLabels": {"tier": "data"}}}],
              "ports": [port(start, end=start + rng.choice((10, 100, 767)))]}])


def metrics_scrape(rng: random.Random, ns: Namespace, cluster: list[Namespace]) -> Rules:
    scraper = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}},
               "podSelector": {"matchLabels": {"app": "prometheus"}}}
    return {}, [{"from": [scraper], "ports": [port(METRICS.name)]}], None


def udp_sctp(rng: random.Random, ns: Namespace, cluster: list[Namespace]) -> Rules:
    w = pick(rng, ns)
    if rng.random() < 0.6:
        ports = [port(STATSD.number, "UDP"), port(STATSD.name, "UDP")]
    else:
        ports = [port(3868, "SCTP"), port(2905, "SCTP", end=2910)]
    return (app_selector(w), None,
            [{"to": [{"namespaceSelector": {"matchLabels": {"team": ns.team}}}], "ports": ports}])


def egress_external(rng: random.Random, ns: Namespace, cluster: list[Namespace]) -> Rules:
    w = pick(rng, ns, "api", "backend")
    if rng.random() < 0.5:
        to = [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_CIDRS)}}]
    else:
        to = [{"ipBlock": {"cidr": c}} for c in sorted(rng.sample(PUBLIC_CIDRS, 2))]
    return app_selector(w), None, [{"to": to, "ports": [port(443), port(80)]}]


def match_expressions(rng: random.Random, ns: Namespace, cluster: list[Namespace]) -> Rules:
    tiers = sorted(rng.sample(TIER_ORDER, 2))
    # named ports the selected tiers actually serve
    names = sorted({p.name for w in ns.workloads if w.tier in tiers for p in w.ports} - {"metrics", "statsd"})
    selected = {"matchExpressions": [
        {"key": "tier", "operator": "In", "values": tiers},
        {"key": "version", "operator": "NotIn", "values": [rng.choice(VERSIONS)]}]}
    callers = {"matchExpressions": [{"key": "team", "operator": "Exists"},
                                    {"key": "tier", "operator": "In", "values": ["api", "web"]}]}
    envs = {"matchExpressions": [{"key": "env", "operator": "In", "values": sorted({ns.env, "prod"})}]}
    return (selected,
            [{"from": [{"podSelector": callers}, {"namespaceSelector": envs, "podSelector": callers}],
              "ports": [port(n, None) for n in names or ["http"]]}], None)


def egress_to_database(rng: random.Random, ns: Namespace, cluster: list[Namespace]) -> Rules:
    db = pick(rng, ns, "data")
    return ({"matchLabels": {"tier": "backend"}}, None,
            [{"to": [{"podSelector": app_selector(db)}], "ports": [port(db.port_named("db").number)]}])


PolicyKind = Callable[[random.Random, Namespace, list[Namespace]], Rules]
MIX: tuple[tuple[str, PolicyKind, int], ...] = (  # (name prefix, builder, weight)
    ("same-app", same_app, 3),
    ("from-caller-tier", from_caller_tier, 4),
    ("cross-namespace", cross_namespace, 4),
    ("ipblock-except", ipblock_except, 2),
    ("port-range", port_range, 2),
    ("metrics-scrape", metrics_scrape, 2),
    ("udp-sctp", udp_sctp, 1),
    ("egress-external", egress_external, 2),
    ("match-expressions", match_expressions, 2),
    ("egress-to-database", egress_to_database, 2),
)


def namespace_policies(rng: random.Random, ns: Namespace, cluster: list[Namespace],
                       count: int) -> list[Obj]:
    fixed = [
        network_policy("default-deny-all", ns.name, {}, ingress=[], egress=[]),
        network_policy("allow-dns", ns.name, {}, egress=[{
            "to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
            "ports": [port(53, "UDP"), port(53, "TCP")]}]),
    ][:count]
    names, builders, weights = zip(*MIX)
    mixed = []
    for i in range(count - len(fixed)):
        k = rng.choices(range(len(MIX)), weights=weights)[0]
        selected, ingress, egress = builders[k](rng, ns, cluster)
        mixed.append(network_policy(f"{names[k]}-{i:03d}", ns.name, selected,
                                    ingress=ingress, egress=egress))
    return fixed + mixed


def platform_objects(nodes: int) -> list[Obj]:
    """kube-system, monitoring and ingress-nginx with their workloads and policies."""
    dns = {"k8s-app": "kube-dns"}
    prom = {"app": "prometheus", "tier": "backend", "team": "platform", "version": "v2"}
    exporter = {"app": "node-exporter", "tier": "backend", "team": "platform", "version": "v1"}
    nginx = {"app": "ingress-nginx", "tier": "web", "team": "platform", "version": "v1"}
    dns_ports = (Port("dns", 53, "UDP"), Port("dns-tcp", 53), Port("metrics", 9153))
    return [
        namespace_object("kube-system", {}),
        namespace_object("monitoring", {"team": "platform", "env": "prod"}),
        namespace_object("ingress-nginx", {"team": "platform", "env": "prod"}),
        controller("Deployment", "coredns", "kube-system", dns, dns, dns_ports,
                   "registry.k8s.io/coredns:1", 2),
        service("kube-dns", "kube-system", dns, dns_ports[:2]),
        controller("Deployment", "prometheus", "monitoring", prom, {"app": "prometheus"},
                   (Port("http", 9090), Port("metrics", 9091)), "quay.io/prometheus:2", 1),
        controller("DaemonSet", "node-exporter", "monitoring", exporter, {"app": "node-exporter"},
                   (METRICS,), "quay.io/node-exporter:1", nodes),
        controller("Deployment", "ingress-nginx-controller", "ingress-nginx", nginx,
                   {"app": "ingress-nginx"},
                   (Port("http", 80), Port("https", 443), Port("metrics", 10254)),
                   "registry.k8s.io/ingress-nginx:1", 2),
        network_policy("prometheus-scrape", "monitoring", {"matchLabels": {"app": "prometheus"}},
                       egress=[{"to": [{"namespaceSelector": {}}],
                                "ports": [port("metrics"), port(9100), port(9153)]}]),
        network_policy("ingress-to-web", "ingress-nginx", {"matchLabels": {"app": "ingress-nginx"}},
                       ingress=[{"from": [{"ipBlock": {"cidr": "0.0.0.0/0"}}],
                                 "ports": [port(80), port(443)]}],
                       egress=[{"to": [{"namespaceSelector": {"matchLabels": {"env": "prod"}},
                                        "podSelector": {"matchLabels": {"tier": "web"}}}],
                                "ports": [port("http")]}]),
    ]


# ------------------------------------------------------------------------------------------
# output
# ------------------------------------------------------------------------------------------

class _NoAliasDumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Never emit anchors/aliases: shared dicts would otherwise become *refs."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def write_documents(path: str, docs: list[Obj]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        yaml.dump_all(docs, f, Dumper=_NoAliasDumper, sort_keys=False, explicit_start=True,
                      default_flow_style=False)


def count(docs: list[Obj], nodes: int) -> dict[str, int]:
    kinds = [d["kind"] for d in docs]
    return {
        "namespaces": kinds.count("Namespace"),
        "workloads": sum(k in ("Deployment", "StatefulSet", "DaemonSet") for k in kinds),
        "pods": sum(d["spec"].get("replicas", nodes) for d in docs
                    if d["kind"] in ("Deployment", "StatefulSet", "DaemonSet")),
        "services": kinds.count("Service"),
        "policies": kinds.count("NetworkPolicy"),
    }


def generate(namespaces: int, workloads_per_ns: int, replicas: int, policies_per_ns: int,
             seed: int, out: str, nodes: int = 3) -> dict[str, Any]:
    """Write the cluster into ``out`` (stale ``ns-*.yaml`` removed) and return its counts."""
    rng = random.Random(seed)
    cluster = make_namespaces(rng, namespaces, workloads_per_ns, replicas, nodes)
    os.makedirs(out, exist_ok=True)
    for stale in sorted(os.listdir(out)):
        if stale.startswith("ns-") and stale.endswith(".yaml"):
            os.remove(os.path.join(out, stale))
    totals = dict.fromkeys(("namespaces", "workloads", "pods", "services", "policies"), 0)
    files = [("00-platform.yaml", platform_objects(nodes))]
    for ns in cluster:
        docs = [namespace_object(ns.name, {"team": ns.team, "env": ns.env})]
        for w in ns.workloads:
            docs.extend(workload_objects(w))
        docs.extend(namespace_policies(rng, ns, cluster, policies_per_ns))
        files.append((f"ns-{ns.name}.yaml", docs))
    for name, docs in files:
        write_documents(os.path.join(out, name), docs)
        for key, n in count(docs, nodes).items():
            totals[key] += n
    kinds: dict[str, int] = {}
    for _, docs in files:
        for d in docs:
            if d["kind"] == "NetworkPolicy":
                prefix = d["metadata"]["name"].rstrip("0123456789").rstrip("-")
                kinds[prefix] = kinds.get(prefix, 0) + 1
    return {**totals, "policy_kinds": dict(sorted(kinds.items())), "seed": seed,
            "args": {"namespaces": namespaces, "workloads_per_ns": workloads_per_ns,
                     "replicas": replicas, "policies_per_ns": policies_per_ns, "nodes": nodes}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--namespaces", type=int, default=5)
    ap.add_argument("--workloads-per-ns", type=int, default=10)
    ap.add_argument("--replicas", type=int, default=2, help="pods per Deployment/StatefulSet")
    ap.add_argument("--policies-per-ns", type=int, default=5,
                    help="NetworkPolicies per namespace (deny-all and DNS first, then the mix)")
    ap.add_argument("--nodes", type=int, default=3, help="pods per DaemonSet")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True, help="directory to write the manifests into")
    ap.add_argument("--counts", help="also write the object counts as JSON to this file")
    a = ap.parse_args(argv)
    if min(a.namespaces, a.workloads_per_ns, a.replicas, a.nodes) < 1 or a.policies_per_ns < 0:
        ap.error("sizes must be positive (policies-per-ns may be 0)")
    counts = generate(a.namespaces, a.workloads_per_ns, a.replicas, a.policies_per_ns, a.seed,
                      a.out, a.nodes)
    text = json.dumps(counts, indent=2, sort_keys=True) + "\n"
    if a.counts:
        with open(a.counts, "w", encoding="utf-8") as f:
            f.write(text)
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
