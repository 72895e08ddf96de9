#!/usr/bin/env python3
"""A seeded assertion file of 50 assertions over a generated cluster, for timing `kreach check`.

Workload names are read from the generated manifests with PyYAML (not through the analyzer), so
the file can be written before kreach runs. Every assertion kind appears:

    20 reach (existing workload to workload on the destination's first port, expect alternating
       deny/allow)   5 internet to a workload, deny   8 only-from (a workload, from its namespace)
    5 only-to (a workload, to its namespace)   5 max-reachable (count 50)
    3 isolated (a namespace, both directions)   3 reach from `new:NS` (deny)
    1 exposure (from internet, nothing allowed)

Many of them fail on a generated cluster, which is expected: the benchmark times the run, and
`kreach check` exits 1 when some assertion fails.

    python benchmarks/assertions.py DIR OUT.yaml [--seed N]
"""

from __future__ import annotations

import argparse
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

WORKLOAD_KINDS = ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob")
DEFAULT_PORT = 8080  # when a destination declares no numeric container port
COUNTS = {"reach": 20, "internet": 5, "only-from": 8, "only-to": 5, "max-reachable": 5,
          "isolated": 3, "new-pod": 3, "exposure": 1}
TOTAL = sum(COUNTS.values())  # 50


@dataclass(frozen=True, order=True)
class Workload:
    namespace: str
    name: str
    port: int

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}"


def workloads(manifests: Path) -> list[Workload]:
    """The workload controllers of every *.yaml / *.yml file under ``manifests``, sorted."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    found = set()
    files = sorted(p for p in manifests.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file())
    for path in files:
        for doc in yaml.load_all(path.read_text(), Loader=loader):
            if isinstance(doc, dict) and doc.get("kind") in WORKLOAD_KINDS:
                meta = doc.get("metadata") or {}
                found.add(Workload(meta.get("namespace") or "default", meta["name"], _first_port(doc)))
    return sorted(found)


def _first_port(doc: dict) -> int:
    spec = doc.get("spec") or {}
    if doc.get("kind") == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    pod = ((spec.get("template") or {}).get("spec")) or {}
    for container in pod.get("containers") or ():
        for port in container.get("ports") or ():
            if isinstance(port.get("containerPort"), int):
                return port["containerPort"]
    return DEFAULT_PORT


def assertions(found: list[Workload], seed: int = 1) -> list[dict[str, Any]]:
    """Exactly ``TOTAL`` assertions over ``found`` (at least two workloads), chosen by ``seed``."""
    if len(found) < 2:
        raise ValueError(f"need at least two workloads, found {len(found)}")
    rnd = random.Random(seed)
    namespaces = sorted({w.namespace for w in found})
    out: list[dict[str, Any]] = []
    for i in range(COUNTS["reach"]):
        src, dst = rnd.sample(found, 2)
        out.append({"name": f"reach {i}", "from": src.ref, "to": dst.ref, "port": dst.port,
                    "expect": "allow" if i % 2 else "deny"})
    for i in range(COUNTS["internet"]):
        out.append({"name": f"internet {i}", "from": "internet", "to": rnd.choice(found).ref,
                    "expect": "deny"})
    for i in range(COUNTS["only-from"]):
        dst = rnd.choice(found)
        out.append({"name": f"only-from {i}", "to": dst.ref, "only-from": [f"{dst.namespace}/*"]})
    for i in range(COUNTS["only-to"]):
        src = rnd.choice(found)
        out.append({"name": f"only-to {i}", "from": src.ref, "only-to": [f"{src.namespace}/*"]})
    for i in range(COUNTS["max-reachable"]):
        out.append({"name": f"max-reachable {i}",
                    "max-reachable": {"from": rnd.choice(found).ref, "count": 50}})
    for i in range(COUNTS["isolated"]):
        out.append({"name": f"isolated {i}",
                    "isolated": {"namespace": rnd.choice(namespaces), "direction": "both"}})
    for i in range(COUNTS["new-pod"]):
        dst = rnd.choice(found)
        out.append({"name": f"new pod {i}", "from": f"new:{rnd.choice(namespaces)}", "to": dst.ref,
                    "port": dst.port, "expect": "deny"})
    out.append({"name": "exposure", "exposure": {"from": "internet", "allow-only": []}})
    return out


def write_assertion_file(manifests: Path, out: Path, seed: int = 1) -> Path:
    """Write the assertion file for the cluster in ``manifests`` to ``out`` (which must not be
    inside ``manifests``, or kreach would read it as a manifest). Same input, same bytes."""
    manifests, out = manifests.resolve(), out.resolve()
    if out.is_relative_to(manifests):
        raise ValueError(f"{out} is inside the manifest directory {manifests}")
    content = {"manifests": [str(manifests)], "assertions": assertions(workloads(manifests), seed)}
    text = yaml.safe_dump(content, sort_keys=False, default_flow_style=False, width=120)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.is_file() or out.read_text() != text:
        out.write_text(text)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("manifests", type=Path, help="directory of a generated cluster")
    ap.add_argument("out", type=Path, help="assertion file to write (outside the directory)")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args(argv)
    try:
        path = write_assertion_file(a.manifests, a.out, a.seed)
    except ValueError as e:
        ap.error(str(e))
    print(f"wrote {TOTAL} assertions to {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
