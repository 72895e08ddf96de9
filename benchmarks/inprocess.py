#!/usr/bin/env python3
"""In-process benchmarks of the kreach library on one generated cluster directory.

What a long-lived caller (an editor, a CI loop, a service) pays once the model is loaded:

* ``load``: ``analyzer.analyze([DIR])`` (read, validate, model, compile, evaluate), once;
* ``encode``: building the Z3 encoding of a query engine (``Engine.from_analysis``), once;
* ``query``: ``analyzer.query.can.can(engine, SRC, DST, port=P)`` for ``--queries`` pairs of
  existing workloads (half allowed pairs, half random ones), with the engine reused;
* ``recheck``: ``analyzer.engine.incremental.apply_policy_change`` removing one policy
  (``remove="ns/name"``) and adding it back, for ``--policies`` policies.

The cyclic garbage collector is off during timed sections, as ``kreach`` runs (cli.run()).
Prints one JSON object (``--json``) or a short text summary; run.py calls it with ``--json`` in
a fresh process per cluster so that the peak RSS is that of this one model.

    python benchmarks/inprocess.py /tmp/kreach-bench/clusters/own-medium-seed1/manifests
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import resource
import statistics
import sys
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(REPO))


@dataclass(frozen=True)
class Timing:
    """One in-process measurement: a single figure (``once``) or a sample of repeated calls."""

    name: str
    detail: str
    samples_ms: tuple[float, ...] = ()
    note: str = ""  # why there are no samples, or what the samples cover
    ok: bool = True

    @property
    def median_ms(self) -> float | None:
        return statistics.median(self.samples_ms) if self.samples_ms else None

    @property
    def max_ms(self) -> float | None:
        return max(self.samples_ms) if self.samples_ms else None

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "median_ms": self.median_ms, "max_ms": self.max_ms}


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """Call ``fn`` with the cyclic GC off; return its result and the wall time in ms."""
    gc.disable()
    try:
        start = time.perf_counter()
        result = fn()
        return result, (time.perf_counter() - start) * 1000
    finally:
        gc.enable()


def _failure(name: str, detail: str, exc: BaseException) -> Timing:
    last = traceback.format_exception_only(type(exc), exc)[-1].strip()
    return Timing(name, detail, note=f"n/a: {last}", ok=False)


def query_pairs(analysis, count: int, seed: int) -> list[tuple[str, str, int | None]]:
    """``count`` (src, dst, port) between existing workloads that have pods: half of them pairs
    the analysis allows something between (on the destination's first container port if that is
    allowed, else on any port), half random pairs (mostly denied by the deny-all baselines), every
    other one of those across namespaces."""
    rng = random.Random(seed)
    cluster, reach = analysis.cluster, analysis.reachability
    port_of: dict[str, int] = {}
    workloads_of_class: dict[int, set[str]] = {}
    for i, pod in enumerate(cluster.pods):
        if pod.ports and not pod.host_network:
            port_of.setdefault(pod.workload, pod.ports[0].number)
            workloads_of_class.setdefault(reach.index.pod_class[i], set()).add(pod.workload)
    ref = {w.id: f"{w.namespace}/{w.name}" for w in cluster.workloads}
    by_ns: dict[str, list[str]] = {}
    for w in cluster.workloads:
        if w.id in port_of:
            by_ns.setdefault(w.namespace, []).append(w.id)
    namespaces = sorted(ns for ns, ws in by_ns.items() if len(ws) >= 2)
    edges = sorted((s, d) for s, d in reach.class_edges if s in workloads_of_class and d in workloads_of_class)
    pairs: list[tuple[str, str, int | None]] = []
    for i in range(count * 10):  # same-workload picks are skipped and retried
        if len(pairs) == count:
            break
        if i % 2 == 0 and edges:
            s, d = rng.choice(edges)
            src = rng.choice(sorted(workloads_of_class[s]))
            dst = rng.choice(sorted(workloads_of_class[d] - {src}) or [src])
            if src == dst:
                continue
            conns = reach.class_edges[(s, d)].conns
            port = port_of[dst] if conns.allows("TCP", port_of[dst]) else None
            pairs.append((ref[src], ref[dst], port))
        elif namespaces:
            ns = rng.choice(namespaces)
            src = rng.choice(by_ns[ns])
            other = ns if i % 4 == 1 or len(namespaces) < 2 else rng.choice([n for n in namespaces if n != ns])
            dst = rng.choice([w for w in by_ns[other] if w != src])
            pairs.append((ref[src], ref[dst], port_of[dst]))
    return pairs


def bench_queries(analysis, count: int, seed: int) -> list[Timing]:
    detail = "Engine.from_analysis(analysis).encoding"
    try:
        from analyzer.query.can import can
        from analyzer.query.engine import Engine
    except Exception as exc:  # the query engine is optional for this benchmark
        return [_failure("encode", detail, exc), _failure("query", "can(engine, SRC, DST, port=P)", exc)]
    try:
        engine, build_ms = _timed(lambda: Engine.from_analysis(analysis))
        _, encode_ms = _timed(lambda: engine.encoding)
        encode = Timing("encode", detail, (build_ms + encode_ms,), "once")
    except Exception as exc:
        return [_failure("encode", detail, exc), _failure("query", "can(engine, SRC, DST, port=P)", exc)]
    pairs = query_pairs(analysis, count, seed)
    if not pairs:
        return [encode, Timing("query", "can(engine, SRC, DST, port=P)", note="n/a: no workload pairs", ok=False)]
    samples, answers = [], {}
    try:
        for src, dst, port in pairs:
            verdict, ms = _timed(lambda: can(engine, src, dst, port=port))
            samples.append(ms)
            answers[verdict.answer.value] = answers.get(verdict.answer.value, 0) + 1
    except Exception as exc:
        return [encode, _failure("query", "can(engine, SRC, DST, port=P)", exc)]
    summary = ", ".join(f"{n} {a}" for a, n in sorted(answers.items()))
    return [encode, Timing("query", "can(engine, SRC, DST, port=P)", tuple(samples),
                           f"{len(samples)} workload pairs, about half of them allowed ones ({summary})",
                           ok="unknown" not in answers)]


def bench_recheck(analysis, count: int, seed: int) -> list[Timing]:
    from analyzer.engine.incremental import apply_policy_change

    reach = analysis.reachability
    policies = list(reach.cluster.policies)
    chosen = random.Random(seed).sample(policies, min(count, len(policies)))
    removed, added, fallbacks, mismatched = [], [], 0, 0
    original = {k: a.conns for k, a in reach.class_edges.items()}
    try:
        for policy in chosen:
            gone, ms_remove = _timed(lambda: apply_policy_change(reach, remove=policy.id))
            back, ms_add = _timed(lambda: apply_policy_change(gone.reachability, policy))
            removed.append(ms_remove)
            added.append(ms_add)
            fallbacks += (not gone.incremental) + (not back.incremental)
            # untimed sanity check: removing and re-adding a policy changes nothing
            if {k: a.conns for k, a in back.reachability.class_edges.items()} != original:
                mismatched += 1
    except Exception as exc:
        return [_failure("recheck-remove", 'apply_policy_change(reach, remove="ns/name")', exc),
                _failure("recheck-add", "apply_policy_change(reach, policy)", exc)]
    note = (f"{len(chosen)} policies; {fallbacks} of {2 * len(chosen)} calls fell back to a full "
            f"evaluation; {mismatched} round trips changed the result")
    return [Timing("recheck-remove", 'apply_policy_change(reach, remove="ns/name")', tuple(removed), note,
                   ok=mismatched == 0),
            Timing("recheck-add", "apply_policy_change(reach, policy) (re-adding it)", tuple(added), note,
                   ok=mismatched == 0)]


def run(directory: Path, queries: int = 20, policies: int = 20, seed: int = 1) -> dict[str, Any]:
    import analyzer

    analysis, load_ms = _timed(lambda: analyzer.analyze([str(directory)]))
    timings = [Timing("load", "analyzer.analyze([DIR])", (load_ms,), "once")]
    timings += bench_queries(analysis, queries, seed)
    timings += bench_recheck(analysis, policies, seed)
    cluster = analysis.cluster
    return {"directory": str(directory), "pods": len(cluster.pods), "policies": len(cluster.policies),
            "classes": len(analysis.reachability.index.classes),
            "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "timings": [t.to_json() for t in timings]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("directory", type=Path, help="a cluster's manifest directory")
    ap.add_argument("--queries", type=int, default=20, help="can queries to time")
    ap.add_argument("--policies", type=int, default=20, help="policies to remove and re-add")
    ap.add_argument("--seed", type=int, default=1, help="choice of query pairs and policies")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    a = ap.parse_args(argv)
    result = run(a.directory, a.queries, a.policies, a.seed)
    if a.json:
        print(json.dumps(result))
        return 0
    print(f"{result['pods']:,} pods, {result['policies']:,} policies, {result['classes']:,} pod classes, "
          f"peak RSS {result['peak_rss_mib']:.0f} MiB")
    for t in result["timings"]:
        figures = (f"median {t['median_ms']:.1f} ms, max {t['max_ms']:.1f} ms"
                   if t["median_ms"] is not None else "")
        print(f"  {t['name']:<15} {figures:<36} {t['note']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
