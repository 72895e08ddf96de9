#!/usr/bin/env python3
"""Whole-process benchmarks of the kreach CLI on generated clusters.

For each selected scale the runner generates a seeded cluster (cached under ``--cache``), runs
each kreach command ``--repeat`` times through a tiny wrapper process (so the peak RSS is that of
one run), and writes ``benchmarks/RESULTS.md`` (plus ``--json FILE``). Commands beyond ``list``
(``exposure``, ``can``) are run only if ``kreach --help`` lists them. With ``--compare-nca`` the
same directories are also given to IBM network-config-analyzer 2.1.0 (installed into its own
venv) and the kreach/nca time ratio is reported.

    python benchmarks/run.py --scales small,medium --repeat 3
    python benchmarks/run.py --scales small --compare-nca
    python benchmarks/run.py --kreach "python -m analyzer" --generator shared

Benchmarks are not tests: nothing here is collected by pytest.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OWN_GENERATOR = HERE / "gen_cluster.py"
SHARED_GENERATOR = REPO.parent / "shared" / "bench" / "gen_cluster.py"
NCA_PACKAGE = "network-config-analyzer==2.1.0"


@dataclass(frozen=True)
class Scale:
    name: str
    namespaces: int
    workloads_per_ns: int
    replicas: int
    policies_per_ns: int
    target_seconds: float  # median wall time of `list` a run must stay under to pass

    def generator_args(self, seed: int) -> list[str]:
        return ["--namespaces", str(self.namespaces), "--workloads-per-ns", str(self.workloads_per_ns),
                "--replicas", str(self.replicas), "--policies-per-ns", str(self.policies_per_ns),
                "--seed", str(seed)]


# Targets are wall-clock budgets for one whole `kreach` process (start-up included) on a
# 2-core machine; override with --target NAME=SECONDS.
SCALES = {s.name: s for s in (
    Scale("small", 20, 25, 3, 20, target_seconds=5.0),
    Scale("medium", 100, 34, 3, 20, target_seconds=30.0),
    Scale("large", 500, 67, 3, 20, target_seconds=300.0),
)}

# Runs one command, then prints {"seconds", "max_rss_kib", "returncode", "timed_out", "stderr"}.
# A fresh interpreter per run makes RUSAGE_CHILDREN's ru_maxrss the peak of exactly this run.
MEASURE = r"""
import json, resource, subprocess, sys, time
timeout, cmd = float(sys.argv[1]), sys.argv[2:]
start = time.perf_counter()
try:
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, timeout=timeout)
    rc, err, timed_out = p.returncode, p.stderr, False
except subprocess.TimeoutExpired as e:
    rc, err, timed_out = None, e.stderr or b"", True
seconds = time.perf_counter() - start
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "max_rss_kib": rss, "returncode": rc, "timed_out": timed_out,
                  "stderr": err.decode("utf-8", "replace")[-1500:]}))
"""


@dataclass(frozen=True)
class Run:
    seconds: float
    max_rss_kib: int
    returncode: int | None
    timed_out: bool
    stderr: str


@dataclass
class Measurement:
    scale: str
    tool: str  # "kreach" or "nca"
    command: str  # shown in the table, with the cluster directory abbreviated to DIR
    argv: list[str]
    pods: int
    policies: int
    target_seconds: float | None
    runs: list[Run] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        # list/exposure exit 0; `can` may answer "no" with 1; 2 and above mean an error
        return bool(self.runs) and all(r.returncode in (0, 1) and not r.timed_out for r in self.runs)

    @property
    def median_seconds(self) -> float | None:
        return statistics.median(r.seconds for r in self.runs) if self.runs else None

    @property
    def peak_rss_mib(self) -> float | None:
        return max(r.max_rss_kib for r in self.runs) / 1024 if self.runs else None

    @property
    def verdict(self) -> str:
        if not self.ok:
            return "timeout" if any(r.timed_out for r in self.runs) else "error"
        if self.target_seconds is None:
            return "-"
        return "pass" if self.median_seconds <= self.target_seconds else "FAIL"

    def to_json(self) -> dict[str, Any]:
        return {"scale": self.scale, "tool": self.tool, "command": self.command, "argv": self.argv,
                "pods": self.pods, "policies": self.policies, "target_seconds": self.target_seconds,
                "median_seconds": self.median_seconds, "peak_rss_mib": self.peak_rss_mib,
                "verdict": self.verdict, "runs": [asdict(r) for r in self.runs]}


# ------------------------------------------------------------------------------------------
# clusters
# ------------------------------------------------------------------------------------------

def generator_path(choice: str) -> Path:
    if choice == "own":
        return OWN_GENERATOR
    if choice == "shared":
        if not SHARED_GENERATOR.is_file():
            sys.exit(f"--generator shared: {SHARED_GENERATOR} not found")
        return SHARED_GENERATOR
    return Path(choice).resolve()


def ensure_cluster(cache: Path, generator: Path, label: str, scale: Scale, seed: int) -> tuple[Path, dict]:
    """Generate the cluster unless the cache already holds one made with the same arguments and
    generator source. Returns (manifest directory, counts including cluster-wide objects)."""
    base = cache / "clusters" / f"{label}-{scale.name}-seed{seed}"
    manifests, counts_file = base / "manifests", base / "counts.json"
    key = {"generator": str(generator), "generator_mtime": generator.stat().st_mtime_ns,
           "args": scale.generator_args(seed)}
    if counts_file.is_file():
        cached = json.loads(counts_file.read_text())
        if cached.get("key") == key:
            return manifests, cached
    if manifests.exists():
        shutil.rmtree(manifests)
    manifests.mkdir(parents=True)
    started = time.perf_counter()
    out = subprocess.run([sys.executable, str(generator), *key["args"], "--out", str(manifests)],
                         check=True, capture_output=True, text=True).stdout
    counts = _counts(manifests, out)
    counts["key"] = key
    counts["generate_seconds"] = round(time.perf_counter() - started, 2)
    counts_file.write_text(json.dumps(counts, indent=2, sort_keys=True) + "\n")
    return manifests, counts


def _counts(manifests: Path, stdout: str) -> dict:
    """Pods and policies of the whole cluster, cluster-wide objects included.

    The project's generator prints totals as JSON. The shared one leaves a manifest.json in the
    directory with cluster-wide objects counted apart; it is moved out of the directory so that
    every file there is a manifest (kreach and nca would otherwise try to read it)."""
    stray = manifests / "manifest.json"
    if stray.is_file():
        data = json.loads(stray.read_text())
        stray.unlink()
        wide = data.get("cluster_wide", {})
        return {key: data[key] + wide.get(key, 0) for key in ("namespaces", "pods", "policies")}
    data = json.loads(stdout)
    return {key: data[key] for key in ("namespaces", "pods", "policies")}


def probe_pair(manifests: Path) -> tuple[str, str, int]:
    """A (source, destination, port) for `kreach can`: the first web and the first api
    Deployment of the first namespace file, and the api's first container port."""
    import yaml

    first = sorted(manifests.glob("ns-*.yaml"))[0]
    found: dict[str, tuple[str, int]] = {}
    for doc in yaml.load_all(first.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
        if doc and doc.get("kind") == "Deployment":
            tier = doc["spec"]["template"]["metadata"]["labels"].get("tier")
            port = doc["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
            found.setdefault(tier, (f"{doc['metadata']['namespace']}/{doc['metadata']['name']}", port))
    src, dst = found.get("web") or next(iter(found.values())), found.get("api") or next(iter(found.values()))
    return src[0], dst[0], dst[1]


# ------------------------------------------------------------------------------------------
# commands
# ------------------------------------------------------------------------------------------

def default_kreach() -> str:
    return "kreach" if shutil.which("kreach") else f"{shlex.quote(sys.executable)} -m analyzer"


def subcommands(kreach: list[str]) -> set[str]:
    """Names listed under "Commands" in `kreach --help` (typer/rich box or plain layout)."""
    try:
        out = subprocess.run([*kreach, "--help"], capture_output=True, text=True, cwd=REPO,
                             timeout=60, env={**os.environ, "COLUMNS": "200", "NO_COLOR": "1"})
    except (OSError, subprocess.TimeoutExpired):
        return set()
    names, in_commands = set(), False
    for line in out.stdout.splitlines():
        if re.search(r"\bCommands\b", line):
            in_commands = True
            continue
        if in_commands:
            m = re.match(r"^[\s│|]*([a-z][a-z0-9_-]*)(\s{2,}|\s*[│|]?\s*$)", line)
            if m:
                names.add(m.group(1))
            elif re.match(r"^\s*[╰└]", line) or (line.strip() and not line.startswith((" ", "│"))):
                in_commands = False
    return names


def kreach_commands(kreach: list[str], available: set[str], manifests: Path) -> list[tuple[str, list[str]]]:
    """(display, argv) of each command to time for one cluster directory."""
    d = str(manifests)
    cmds = [("list DIR --format json -o /dev/null", [*kreach, "list", d, "--format", "json", "-o", os.devnull])]
    if "exposure" in available:
        cmds.append(("exposure DIR", [*kreach, "exposure", d]))
    if "can" in available:
        src, dst, port = probe_pair(manifests)
        cmds.append((f"can DIR --from {src} --to {dst} --port {port}",
                     [*kreach, "can", d, "--from", src, "--to", dst, "--port", str(port)]))
    return cmds


def nca_executable(venv: Path) -> Path:
    """The venv's nca, installing network-config-analyzer into a new venv if needed."""
    nca = venv / "bin" / "nca"
    if not nca.exists():
        print(f"installing {NCA_PACKAGE} into {venv} ...", file=sys.stderr)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", NCA_PACKAGE], check=True)
    return nca


def nca_command(nca: Path, manifests: Path) -> tuple[str, list[str]]:
    # --connectivity takes the policies, -r the pods/namespaces; without -r nca asks a live cluster
    d = str(manifests)
    return "nca --connectivity DIR -r DIR", [str(nca), "--connectivity", d, "-r", d]


def measure(argv: list[str], timeout: float) -> Run:
    out = subprocess.run([sys.executable, "-c", MEASURE, str(timeout), *argv], cwd=REPO,
                         capture_output=True, text=True, check=True)
    return Run(**json.loads(out.stdout))


def time_command(m: Measurement, repeat: int, timeout: float) -> Measurement:
    for i in range(repeat):
        run = measure(m.argv, timeout)
        m.runs.append(run)
        status = "timeout" if run.timed_out else f"rc={run.returncode}"
        print(f"  {m.scale:<6} {m.tool:<6} {m.command}: {run.seconds:.2f} s, "
              f"{run.max_rss_kib / 1024:.0f} MiB, {status}", file=sys.stderr)
        if run.timed_out or run.returncode not in (0, 1):
            if run.stderr.strip():
                print("    " + run.stderr.strip().splitlines()[-1], file=sys.stderr)
            break  # no point repeating a failure
    return m


# ------------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------------

def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        ram = f"{mem_kib / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        ram = "unknown"
    return {"cpu": cpu, "cores": os.cpu_count(), "ram": ram, "python": platform.python_version(),
            "os": f"{platform.system()} {platform.release()}"}


def fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def growth_lines(results: list[Measurement]) -> list[str]:
    lines = []
    for command in dict.fromkeys(m.command for m in results if m.tool == "kreach"):
        rows = [m for m in results if m.tool == "kreach" and m.command == command and m.ok]
        if len(rows) < 2:
            continue
        lo, hi = rows[0], rows[-1]
        lines.append(f"- `{command}`, {lo.scale} → {hi.scale}: pods ×{hi.pods / lo.pods:.1f}, "
                     f"policies ×{hi.policies / lo.policies:.1f}, time ×{hi.median_seconds / lo.median_seconds:.1f} "
                     f"({fmt(lo.median_seconds)} s → {fmt(hi.median_seconds)} s), "
                     f"peak RSS ×{hi.peak_rss_mib / lo.peak_rss_mib:.1f} "
                     f"({fmt(lo.peak_rss_mib, 0)} → {fmt(hi.peak_rss_mib, 0)} MiB)")
    return lines or ["- (needs at least two scales)"]


def nca_ratio_lines(results: list[Measurement]) -> list[str]:
    lines = []
    for nca in (m for m in results if m.tool == "nca"):
        kreach = next((m for m in results if m.tool == "kreach" and m.scale == nca.scale
                       and m.command.startswith("list ")), None)
        if kreach and kreach.ok and nca.ok:
            lines.append(f"- {nca.scale}: kreach list {fmt(kreach.median_seconds)} s, "
                         f"nca {fmt(nca.median_seconds)} s → kreach/nca = "
                         f"{kreach.median_seconds / nca.median_seconds:.3f} "
                         f"(kreach {nca.median_seconds / kreach.median_seconds:.1f}× faster); "
                         f"peak RSS {fmt(kreach.peak_rss_mib, 0)} vs {fmt(nca.peak_rss_mib, 0)} MiB")
        else:
            lines.append(f"- {nca.scale}: no ratio (kreach {kreach.verdict if kreach else 'not run'}, "
                         f"nca {nca.verdict})")
    return lines


def render_markdown(command_line: str, info: dict, meta: dict, results: list[Measurement]) -> str:
    out = ["# kreach benchmark results", "",
           "Regenerate with (from the repository root):", "", "```sh", command_line, "```", "",
           f"Generated {meta['date']} by `benchmarks/run.py`; do not edit by hand.", "",
           "## Machine", "",
           f"- CPU: {info['cpu']} ({info['cores']} cores)",
           f"- RAM: {info['ram']}",
           f"- Python: {info['python']} ({info['os']})",
           f"- kreach: `{meta['kreach']}`",
           f"- cluster generator: `{meta['generator']}`, seed {meta['seed']}",
           f"- repeats: {meta['repeat']} (median wall time; peak RSS is the largest of the runs; "
           "each run is a whole process, start-up included)", "",
           "## Results", "",
           "| scale | pods | policies | tool | command | median s | peak RSS MiB | target s | result |",
           "|---|---:|---:|---|---|---:|---:|---:|---|"]
    for m in results:
        out.append(f"| {m.scale} | {m.pods:,} | {m.policies:,} | {m.tool} | `{m.command}` | "
                   f"{fmt(m.median_seconds)} | {fmt(m.peak_rss_mib, 0)} | "
                   f"{fmt(m.target_seconds, 0) if m.target_seconds else '-'} | {m.verdict} |")
    out += ["", "Targets apply to kreach only (median wall time of one whole process).", "",
            "## Growth", "", *growth_lines(results), ""]
    if any(m.tool == "nca" for m in results):
        out += ["## Compared with network-config-analyzer", "",
                f"`{NCA_PACKAGE}` in its own venv, `nca --connectivity DIR -r DIR` (default txt "
                "output) on the same directories, same run.", "", *nca_ratio_lines(results), ""]
    return "\n".join(out)


# ------------------------------------------------------------------------------------------
# main
# ------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--scales", default="small,medium", help=f"comma-separated, of {', '.join(SCALES)}")
    ap.add_argument("--repeat", type=int, default=3, help="runs per command (median is reported)")
    ap.add_argument("--kreach", default=default_kreach(), help="how to invoke kreach")
    ap.add_argument("--generator", default="own",
                    help="own (benchmarks/gen_cluster.py), shared (../shared/bench/gen_cluster.py) or a path")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/kreach-bench"),
                    help="where generated clusters (and the nca venv) are kept")
    ap.add_argument("--timeout", type=float, default=900, help="seconds before one run is killed")
    ap.add_argument("--target", action="append", default=[], metavar="SCALE=SECONDS",
                    help="override a scale's time target")
    ap.add_argument("--output", type=Path, default=HERE / "RESULTS.md", help="Markdown report ('-' for none)")
    ap.add_argument("--json", type=Path, help="also write the results as JSON to this file")
    ap.add_argument("--compare-nca", action="store_true", help="also time network-config-analyzer")
    ap.add_argument("--nca-scales", default="small", help="scales nca is run on")
    ap.add_argument("--nca-repeat", type=int, default=1, help="runs per scale for nca (it is slow)")
    ap.add_argument("--nca-venv", type=Path, help="venv for nca (default: CACHE/nca-venv)")
    a = ap.parse_args(argv)
    for name in (a.scales + "," + a.nca_scales).split(","):
        if name not in SCALES:
            ap.error(f"unknown scale {name!r}; choose from {', '.join(SCALES)}")
    if a.repeat < 1 or a.nca_repeat < 1:
        ap.error("--repeat and --nca-repeat must be at least 1")
    return a


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    targets = {name: s.target_seconds for name, s in SCALES.items()}
    for item in a.target:
        name, _, seconds = item.partition("=")
        targets[name] = float(seconds)
    kreach = shlex.split(a.kreach)
    generator = generator_path(a.generator)
    label = a.generator if a.generator in ("own", "shared") else generator.stem
    available = subcommands(kreach)
    print(f"kreach: {a.kreach} (commands: {', '.join(sorted(available)) or 'none detected'})", file=sys.stderr)
    nca = nca_executable(a.nca_venv or a.cache / "nca-venv") if a.compare_nca else None
    nca_scales = set(a.nca_scales.split(",")) if nca else set()

    results: list[Measurement] = []
    for name in a.scales.split(","):
        scale = SCALES[name]
        manifests, counts = ensure_cluster(a.cache, generator, label, scale, a.seed)
        print(f"{name}: {counts['pods']:,} pods, {counts['policies']:,} policies in {manifests}", file=sys.stderr)
        for display, cmd in kreach_commands(kreach, available, manifests):
            m = Measurement(name, "kreach", display, cmd, counts["pods"], counts["policies"], targets[name])
            results.append(time_command(m, a.repeat, a.timeout))
        if name in nca_scales:
            display, cmd = nca_command(nca, manifests)
            m = Measurement(name, "nca", display, cmd, counts["pods"], counts["policies"], None)
            results.append(time_command(m, a.nca_repeat, a.timeout))

    info = machine_info()
    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "kreach": a.kreach, "seed": a.seed,
            "generator": os.path.relpath(generator, REPO), "repeat": a.repeat}
    command_line = shlex.join(["python", os.path.relpath(Path(sys.argv[0]).resolve(), REPO), *sys.argv[1:]]) \
        if argv is None else shlex.join(["python", "benchmarks/run.py", *argv])
    if str(a.output) != "-":
        a.output.write_text(render_markdown(command_line, info, meta, results))
        print(f"wrote {a.output}", file=sys.stderr)
    if a.json:
        a.json.write_text(json.dumps({"command": command_line, "machine": info, **meta,
                                      "results": [m.to_json() for m in results]}, indent=2) + "\n")
        print(f"wrote {a.json}", file=sys.stderr)
    return 0 if all(m.verdict in ("pass", "-") for m in results) else 1


if __name__ == "__main__":
    sys.exit(main())
