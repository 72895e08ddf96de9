"""The pod-IP benchmark of issue #8: `kreach list` on a generated cluster exported as pods with IPs,
with ipBlocks that cover 10 % of those pods, against a baseline kreach on the same input.

The generated cluster (``gen_cluster.py``, the ``medium`` scale of ``run.py`` by default) is turned
into what ``kubectl get ns,pods,svc,netpol -A -o yaml`` would print for it: every controller becomes
its pods (owned by a ReplicaSet, StatefulSet or DaemonSet, ``--nodes`` pods per DaemonSet), each
with ``status.podIP(s)``; namespaces, services and policies are kept. Namespace *i* gets the
addresses 10.64.0.0 + 256 *i* onwards, so per namespace a handful of CIDRs covers exactly its first
10 % of pods: one ingress policy (``tier: db`` pods admit those CIDRs on TCP 5432) and one egress
policy (``tier: web`` pods may send to them, minus one address) per namespace use them.

    python benchmarks/pod_ips.py --repeat 3 --baseline-cwd /tmp/kreach-before   # RESULTS.md section

Writes the section between the ``pod-ips`` markers of RESULTS.md (``run.py`` keeps it). The
baseline is any other checkout of kreach (``--baseline-cwd``), e.g. the commit before pods had IPs.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from run import (MEASURE, OWN_GENERATOR, SCALES, Run, ensure_cluster, machine_info,  # noqa: E402
                 write_section)

BEGIN, END = "<!-- pod-ips: begin -->", "<!-- pod-ips: end -->"
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
CONTROLLERS = {"Deployment": "ReplicaSet", "StatefulSet": "StatefulSet", "DaemonSet": "DaemonSet",
               "ReplicaSet": "ReplicaSet", "ReplicationController": "ReplicationController"}


def export_with_ips(src: Path, out: Path, nodes: int, fraction: float) -> dict:
    """Write the export of the cluster in ``src`` to ``out``; return counts."""
    out.mkdir(parents=True, exist_ok=True)
    counts = {"pods": 0, "covered": 0, "policies": 0}
    namespaces: dict[str, int] = {}
    for path in sorted(src.glob("*.yaml")):
        docs = [d for d in yaml.load_all(path.read_text(), Loader=LOADER) if d]
        kept, pods_by_ns = [], {}
        for d in docs:
            kind = d.get("kind")
            if kind in CONTROLLERS:
                pods_by_ns.setdefault(d["metadata"].get("namespace", "default"), []).extend(
                    _pods(d, nodes))
            else:
                kept.append(d)
                counts["policies"] += kind == "NetworkPolicy"
        for ns, pods in pods_by_ns.items():
            index = namespaces.setdefault(ns, len(namespaces))
            base = int(ipaddress.IPv4Address("10.64.0.0")) + 256 * index
            for j, pod in enumerate(pods):
                ip = str(ipaddress.IPv4Address(base + 1 + j))
                pod["status"] = {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}]}
            covered = max(1, round(len(pods) * fraction))
            cidrs = [str(n) for n in ipaddress.summarize_address_range(
                ipaddress.IPv4Address(base + 1), ipaddress.IPv4Address(base + covered))]
            kept += pods + _policies(ns, cidrs, str(ipaddress.IPv4Address(base + 1)))
            counts["pods"] += len(pods)
            counts["covered"] += covered
            counts["policies"] += 2
        (out / path.name).write_text(yaml.dump_all(kept, Dumper=DUMPER, sort_keys=False))
    return counts


def _pods(controller: dict, nodes: int) -> list[dict]:
    meta, spec = controller["metadata"], controller.get("spec", {})
    kind = controller["kind"]
    template = spec.get("template", {})
    count = nodes if kind == "DaemonSet" else int(spec.get("replicas", 1) or 1)
    owner = meta["name"] + ("-5d8f7c6b9" if kind == "Deployment" else "")
    out = []
    for i in range(count):
        labels = dict(template.get("metadata", {}).get("labels", {}))
        out.append({"apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": f"{owner}-{i}", "namespace": meta.get("namespace", "default"),
                                 "labels": labels,
                                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": CONTROLLERS[kind],
                                                      "name": owner, "uid": f"uid-{owner}",
                                                      "controller": True}]},
                    "spec": template.get("spec", {})})
    return out


def _policies(ns: str, cidrs: list[str], excepted: str) -> list[dict]:
    def policy(name: str, spec: dict) -> dict:
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": name, "namespace": ns}, "spec": spec}

    return [
        policy("db-from-pod-ips", {
            "podSelector": {"matchLabels": {"tier": "db"}}, "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"ipBlock": {"cidr": c}} for c in cidrs],
                         "ports": [{"protocol": "TCP", "port": 5432}]}]}),
        policy("web-to-pod-ips", {
            "podSelector": {"matchLabels": {"tier": "web"}}, "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": _block(c, excepted)} for c in cidrs]}]}),
    ]


def _block(cidr: str, excepted: str) -> dict:
    """The ipBlock of ``cidr``, minus ``excepted`` when it lies strictly inside."""
    net = ipaddress.ip_network(cidr)
    if ipaddress.ip_address(excepted) in net and net.prefixlen < 32:
        return {"cidr": cidr, "except": [f"{excepted}/32"]}
    return {"cidr": cidr}


def time_list(runs: list[tuple[list[str], Path]], directory: Path, repeat: int,
              timeout: float) -> list[tuple[float, float]]:
    """Median seconds and peak RSS (MiB) of ``kreach list`` per (command, working directory),
    the commands taking turns so that a change in the machine's load hits them alike. In a
    checkout, ``python -m analyzer`` imports that checkout's ``analyzer``."""
    samples: list[list[Run]] = [[] for _ in runs]
    for _ in range(repeat):
        for (kreach, cwd), got in zip(runs, samples):
            argv = [*kreach, "list", str(directory), "--format", "json", "-o", os.devnull]
            out = subprocess.run([sys.executable, "-c", MEASURE, str(timeout), *argv], cwd=cwd,
                                 capture_output=True, text=True, check=True)
            r = Run(**json.loads(out.stdout))
            if r.returncode != 0:
                sys.exit(f"{shlex.join(argv)} (in {cwd}) failed: {r.stderr[-500:]}")
            got.append(r)
            print(f"  {cwd}: {r.seconds:.2f} s, {r.max_rss_kib / 1024:.0f} MiB", file=sys.stderr)
    return [(statistics.median(r.seconds for r in got), max(r.max_rss_kib for r in got) / 1024)
            for got in samples]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="medium", choices=sorted(SCALES))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--nodes", type=int, default=3, help="pods per DaemonSet in the export")
    ap.add_argument("--fraction", type=float, default=0.1, help="share of pods the ipBlocks cover")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--kreach", default=f"{shlex.quote(sys.executable)} -m analyzer")
    ap.add_argument("--baseline-cwd", type=Path, help="a checkout of the kreach to compare with")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/kreach-bench"))
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    a = ap.parse_args(argv)
    scale = SCALES[a.scale]
    manifests, _ = ensure_cluster(a.cache, OWN_GENERATOR, "own", scale, a.seed)
    export = a.cache / "clusters" / f"pod-ips-{scale.name}-seed{a.seed}"
    counts = export_with_ips(manifests, export, a.nodes, a.fraction)
    kreach = shlex.split(a.kreach)
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    checkouts = [(kreach, REPO)] + ([(kreach, a.baseline_cwd.resolve())] if a.baseline_cwd else [])
    timed = time_list(checkouts, export, a.repeat, a.timeout)
    rows = [("kreach (this checkout)", *timed[0])]
    ratio = None
    if a.baseline_cwd:
        rows.append((f"baseline ({_describe(a.baseline_cwd)})", *timed[1]))
        ratio = timed[0][0] / timed[1][0]
    command = (f"python benchmarks/pod_ips.py --scale {a.scale} --repeat {a.repeat}"
               + (" --baseline-cwd DIR" if a.baseline_cwd else ""))
    lines = [BEGIN, "## Pod IPs and ipBlocks over pods (issue #8)", "",
             f"`{command}` ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; "
             f"{machine_info()['cpu']}, Python {platform.python_version()}, load {load} "
             "— shared machine, figures noisy). The generated cluster exported as pods with "
             f"`status.podIP` ({counts['pods']:,} pods, {counts['policies']:,} policies), ipBlocks "
             f"in two policies per namespace covering {counts['covered']:,} of the pods "
             f"({100 * counts['covered'] / counts['pods']:.0f} %); see `benchmarks/pod_ips.py`.", "",
             "| kreach | command | median s | peak RSS MiB | target | result |",
             "|---|---|---:|---:|---|---|"]
    for i, (who, seconds, rss) in enumerate(rows):
        target, verdict = "-", "-"
        if i == 0 and ratio is not None:
            target, verdict = f"≤ 1.3× baseline (here {ratio:.2f}×)", "pass" if ratio <= 1.3 else "FAIL"
        lines.append(f"| {who} | `list DIR --format json -o /dev/null` | {seconds:.2f} | {rss:.0f} | "
                     f"{target} | {verdict} |")
    lines.append(END)
    section = "\n".join(lines) + "\n"
    write_section(a.output, BEGIN, END, section)
    print(section)
    return 0 if ratio is None or ratio <= 1.3 else 1


def _describe(cwd: Path) -> str:
    r = subprocess.run(["git", "log", "-1", "--format=%h %s"], cwd=cwd, capture_output=True, text=True)
    return r.stdout.strip()[:60] or str(cwd)


if __name__ == "__main__":
    sys.exit(main())
