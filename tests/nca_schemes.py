"""Reading network-config-analyzer scheme files (``../shared/peer-cases/nca``) into kreach
analyses: one per named network config, policies filtered to the config's own list, and
``config/namespace/policy`` names narrowed to that one policy (as NCA's
``clone_with_just_one_policy``). Only what the ``core`` group uses is understood: paths to files
or directories (``dir/**`` recursive), global and per-config namespaceList/podList/resourceList,
networkPolicyList."""

from __future__ import annotations

import csv
import json
import tempfile
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import yaml

from analyzer import Options, analyze
from analyzer.analysis import Analysis
from analyzer.engine.evaluate import evaluate

ROOT = Path(__file__).resolve().parent.parent
NCA = (ROOT / ".." / "shared" / "peer-cases" / "nca").resolve()
QUERIES = ("sanity", "redundancy", "emptiness", "vacuity", "equivalence", "strongEquivalence",
           "containment", "twoWayContainment")


def rows() -> list[dict]:
    index = NCA / "INDEX.tsv"
    if not index.exists():
        return []
    with open(index, newline="") as fh:
        out = [r for r in csv.DictReader(fh, delimiter="\t")
               if r["group"] == "core" and r["query_type"] in QUERIES and not r["unresolved_inputs"]]
    seen, unique = set(), []
    for r in out:  # the same query printed in several formats is one expectation
        key = (r["scheme_file"], r["query_type"], r["configs"], r["expected_result"])
        if key not in seen:
            seen.add(key)
            unique.append(r)
    return unique


def _paths(base: Path, entry) -> list[str]:
    if entry is None or entry == "":
        return []
    entries = entry if isinstance(entry, list) else [entry]
    out = []
    for e in entries:
        if not isinstance(e, str) or e in ("k8s", "calico", "istio"):
            continue
        e = e.split("#", 1)[0].strip()
        if e.startswith("https://"):  # NCA's own repository on GitHub: the copy here
            tail = e.split("/tests/", 1)[-1]
            e = str(NCA / "core" / "tests" / tail)
        if e.endswith("/**"):
            e = e[:-3]
        p = (base / e).resolve()
        if p.exists():
            out.append(str(p))
    return out


@lru_cache(maxsize=None)
def scheme(path: str) -> dict:
    return yaml.safe_load((NCA / path).read_text())


@lru_cache(maxsize=None)
def config(scheme_file: str, name: str) -> Analysis:
    """The analysis of network config ``name`` (or ``name/ns/policy``)."""
    s = scheme(scheme_file)
    base = (NCA / scheme_file).parent
    cfg_name, _, one = name.partition("/")
    cfg = next(c for c in s["networkConfigList"] if c["name"] == cfg_name)
    topo = []
    for key in ("namespaceList", "podList"):
        topo += _paths(base, cfg.get(key, s.get(key)))
    res_cfg = _paths(base, cfg.get("resourceList"))
    res_global = _paths(base, s.get("resourceList"))
    policies = _paths(base, cfg.get("networkPolicyList"))
    if not topo and not res_cfg:
        topo = res_global
    inputs = list(dict.fromkeys(_cleaned(t) for t in topo + res_cfg)) + policies
    analysis = analyze(list(dict.fromkeys(inputs)), Options(schema=False))
    policy_files = set(policies) | set(res_cfg)
    keep = tuple(p for p in analysis.cluster.policies
                 if _within(p.source.file, policy_files)
                 and (not one or p.id == one))
    return rebuilt(analysis, keep)


_CLEAN = Path(tempfile.mkdtemp(prefix="kreach-nca-"))


@lru_cache(maxsize=None)
def _cleaned(path: str) -> str:
    """NCA's pod lists write ``ports: {}`` for containers without ports (an object where the
    API has an array, which kreach rejects with the pod): a copy without those, for topology
    files only (policies are read as they are)."""
    p = Path(path)
    if p.is_dir() or p.suffix != ".json":
        return path
    text = p.read_text()
    if '"ports": {}' not in text:
        return path
    data = json.loads(text)
    for item in data.get("items", []) if isinstance(data, dict) else []:
        for c in (item.get("spec") or {}).get("containers") or []:
            if isinstance(c, dict) and c.get("ports") == {}:
                del c["ports"]
    out = _CLEAN / f"{abs(hash(path))}-{p.name}"
    out.write_text(json.dumps(data))
    return str(out)


def _within(file: str, roots: set[str]) -> bool:
    f = str(Path(file).resolve())
    return any(f == r or f.startswith(r.rstrip("/") + "/") for r in roots)


def rebuilt(analysis: Analysis, policies) -> Analysis:
    cluster = replace(analysis.cluster, policies=tuple(policies))
    return replace(analysis, cluster=cluster, reachability=evaluate(cluster))


def configs_of(row: dict) -> list[str]:
    return [c for c in row["configs"].split(",") if c]
