"""The admin-policy benchmark of issue #11: `kreach list` on a generated cluster with and without
50 AdminNetworkPolicy / BaselineAdminNetworkPolicy rules (target: at most 1.5x the time without).

The generated cluster (``gen_cluster.py``, the ``medium`` scale of ``run.py`` by default, ~10k
pods) is read twice by the same checkout: as generated, and with one more file holding 12
AdminNetworkPolicies of 4 rules each (priorities 10..120; subjects by ``env``/``team`` namespace
labels and ``tier`` pod labels; Allow, Deny and Pass; pods, namespaces and networks peers;
numeric, range and named ports) and a BaselineAdminNetworkPolicy of 2 rules: 50 rules in all.

    python benchmarks/admin_policies.py --repeat 3      # writes the RESULTS.md section

Writes the section between the ``admin-policies`` markers of RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import sys
import time
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
from pod_ips import time_list  # noqa: E402
from run import OWN_GENERATOR, SCALES, ensure_cluster, machine_info, write_section  # noqa: E402

BEGIN, END = "<!-- admin-policies: begin -->", "<!-- admin-policies: end -->"
TEAMS = ("accounts", "billing", "catalog", "checkout", "identity", "search")
ENVS = ("dev", "staging", "prod")
TIERS = ("web", "api", "db", "worker")


def admin_objects() -> list[dict]:
    """12 ANPs x 4 rules + a BANP x 2 rules = 50 rules."""
    out = []
    for i in range(12):
        team, env, tier = TEAMS[i % len(TEAMS)], ENVS[i % len(ENVS)], TIERS[i % len(TIERS)]
        subject = ({"namespaces": {"matchLabels": {"env": env}}} if i % 2 else
                   {"pods": {"namespaceSelector": {"matchLabels": {"team": team}},
                             "podSelector": {"matchLabels": {"tier": tier}}}})
        out.append({
            "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
            "metadata": {"name": f"bench-anp-{i:02d}"},
            "spec": {"priority": 10 * (i + 1), "subject": subject,
                     "ingress": [
                         {"name": "monitoring-scrapes", "action": "Allow",
                          "from": [{"namespaces": {"matchLabels": {"team": "monitoring"}}}],
                          "ports": [{"namedPort": "metrics"}]},
                         {"name": "no-other-env", "action": "Deny",
                          "from": [{"namespaces": {"matchExpressions": [
                              {"key": "env", "operator": "NotIn", "values": [env]}]}}],
                          "ports": [{"portRange": {"protocol": "TCP", "start": 1, "end": 9000}}]}],
                     "egress": [
                         {"name": "same-team-is-up-to-the-team", "action": "Pass",
                          "to": [{"pods": {"namespaceSelector": {"matchLabels": {"team": team}},
                                           "podSelector": {}}}]},
                         {"name": "no-private-ranges", "action": "Deny",
                          "to": [{"networks": ["10.0.0.0/8", "192.168.0.0/16"]}],
                          "ports": [{"portNumber": {"protocol": "TCP", "port": 5432}}]}]},
        })
    out.append({
        "apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "BaselineAdminNetworkPolicy",
        "metadata": {"name": "default"},
        "spec": {"subject": {"namespaces": {}},
                 "ingress": [{"name": "no-cross-team-db", "action": "Deny",
                              "from": [{"namespaces": {"matchLabels": {"env": "dev"}}}],
                              "ports": [{"portNumber": {"protocol": "TCP", "port": 5432}}]}],
                 "egress": [{"name": "internet-ok", "action": "Allow",
                             "to": [{"networks": ["0.0.0.0/0"]}]}]},
    })
    return out


def with_admin(manifests: Path, out: Path) -> int:
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(manifests, out)
    objs = admin_objects()
    (out / "zz-admin-policies.yaml").write_text(yaml.safe_dump_all(objs, sort_keys=False))
    return sum(len(o["spec"].get("ingress", [])) + len(o["spec"].get("egress", [])) for o in objs)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", default="medium", choices=sorted(SCALES))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--kreach", default=f"{shlex.quote(sys.executable)} -m analyzer")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/kreach-bench"))
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    a = ap.parse_args(argv)
    scale = SCALES[a.scale]
    manifests, counts = ensure_cluster(a.cache, OWN_GENERATOR, "own", scale, a.seed)
    admin_dir = a.cache / "clusters" / f"admin-{scale.name}-seed{a.seed}"
    rules = with_admin(manifests, admin_dir)
    kreach = shlex.split(a.kreach)
    load = "/".join(f"{x:.1f}" for x in os.getloadavg())
    # the two inputs take turns, so a change in the machine's load hits both alike
    plain, admin = [], []
    for _ in range(a.repeat):
        plain += time_list([(kreach, REPO)], manifests, 1, a.timeout)
        admin += time_list([(kreach, REPO)], admin_dir, 1, a.timeout)
    med = lambda xs: sorted(xs)[len(xs) // 2]  # noqa: E731
    t_plain, t_admin = med([s for s, _ in plain]), med([s for s, _ in admin])
    rss_plain, rss_admin = max(r for _, r in plain), max(r for _, r in admin)
    ratio = t_admin / t_plain
    lines = [BEGIN, "## Admin policies (issue #11)", "",
             f"`python benchmarks/admin_policies.py --scale {a.scale} --repeat {a.repeat}` "
             f"({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {machine_info()['cpu']}, "
             f"Python {platform.python_version()}, load {load} — shared machine, figures noisy). "
             f"The generated `{a.scale}` cluster ({counts.get('pods', 0):,} pods) as generated, and "
             f"with {rules} AdminNetworkPolicy/BaselineAdminNetworkPolicy rules added (12 ANPs, one "
             "BANP; see `benchmarks/admin_policies.py`).", "",
             "| input | command | median s | peak RSS MiB | target | result |",
             "|---|---|---:|---:|---|---|",
             f"| with {rules} admin rules | `list DIR --format json -o /dev/null` | {t_admin:.2f} | "
             f"{rss_admin:.0f} | ≤ 1.5× without (here {ratio:.2f}×) | "
             f"{'pass' if ratio <= 1.5 else 'FAIL'} |",
             f"| without | `list DIR --format json -o /dev/null` | {t_plain:.2f} | {rss_plain:.0f} | - | - |",
             END]
    section = "\n".join(lines) + "\n"
    write_section(a.output, BEGIN, END, section)
    print(section)
    return 0 if ratio <= 1.5 else 1


if __name__ == "__main__":
    sys.exit(main())
