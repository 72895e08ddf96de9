"""Helm charts and kustomizations: rendered with --render by the tools on PATH, else one hint.

The tools are fakes put first on PATH: each records its arguments and prints what the real one
would (helm's ``# Source:`` comments included), so the tests say exactly what kreach runs and
how it reads the result.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.analysis import InputOptions, Options, analyze
from analyzer.cli import app

POLICY = """\
# Source: shop/templates/netpol.yaml
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny
  namespace: shop
spec:
  podSelector: {}
  policyTypes: [Ingress]
"""
DEPLOY = """\
# Source: shop/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
"""


def kreach(*args: str):
    return CliRunner().invoke(app, list(args))


def fake_tool(bin_dir: Path, name: str, stdout: str, code: int = 0, stderr: str = "") -> Path:
    """An executable ``name`` that records its argv in ``<name>.args`` and prints ``stdout``."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    (bin_dir / f"{name}.out").write_text(stdout)
    script = bin_dir / name
    script.write_text(textwrap.dedent(f"""\
        #!{sys.executable}
        import sys, pathlib
        here = pathlib.Path(__file__).parent
        (here / "{name}.args").write_text("\\n".join(sys.argv[1:]))
        sys.stdout.write((here / "{name}.out").read_text())
        sys.stderr.write({stderr!r})
        sys.exit({code})
    """))
    script.chmod(0o755)
    return bin_dir


@pytest.fixture
def chart(tmp_path: Path) -> Path:
    d = tmp_path / "charts" / "shop"
    (d / "templates").mkdir(parents=True)
    (d / "Chart.yaml").write_text("apiVersion: v2\nname: shop\nversion: 0.1.0\n")
    (d / "values.yaml").write_text("replicas: 1\n")
    (d / "templates" / "netpol.yaml").write_text(
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n"
        "  name: {{ .Release.Name }}-deny\n  {{- with .Values.labels }}\n  labels: {{ toYaml . }}\n"
        "  {{- end }}\nspec:\n  podSelector: {}\n")
    return d


@pytest.fixture
def only(monkeypatch, tmp_path):
    """PATH holding only the fake tools given (so no real helm or kubectl is found)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", str(bin_dir))
    return bin_dir


def test_a_chart_without_render_gets_one_hint_not_yaml_errors(chart, only):
    result = kreach("list", str(chart.parent.parent))
    assert result.exit_code == 2  # nothing usable
    errors = [ln for ln in result.stderr.splitlines() if "KR001" in ln]
    assert errors == []
    assert (f"{chart / 'Chart.yaml'}:1: warning[KR720]: Helm chart {chart} is not read as "
            f"manifests (templates need rendering): run `helm template {chart} | kreach list -`, "
            "or pass --render") in result.stderr


def test_render_runs_helm_template_with_the_values_files_and_locates_objects_in_templates(chart, only):
    fake_tool(only, "helm", "---\n" + POLICY + "---\n" + DEPLOY)
    values = chart / "prod.yaml"
    values.write_text("labels: {env: prod}\n")
    a = analyze([str(chart.parent.parent)], Options(inputs=InputOptions(
        render=True, helm_values=(str(values),))))
    assert (only / "helm.args").read_text().splitlines() == ["template", str(chart), "--values", str(values)]
    assert a.objects == 2 and not a.has_errors
    result = kreach("list", "--helm-values", str(values), str(chart))
    assert result.exit_code == 0
    result = kreach("can", "internet", "shop/web", str(chart), "--render")
    assert result.exit_code == 1
    assert f"({chart / 'templates' / 'netpol.yaml'}:" in result.stdout


def test_render_without_helm_on_path_says_how_to_render_it(chart, only):
    result = kreach("list", "--render", str(chart))
    assert result.exit_code == 2
    assert (f"error[KR721]: --render: helm is not on PATH; render it yourself: "
            f"`helm template {chart} | kreach list -`") in result.stderr


def test_a_failing_helm_is_reported_with_its_message(chart, only):
    fake_tool(only, "helm", "", code=1, stderr="Error: parse error at (shop/templates/x.yaml:3)\n")
    result = kreach("list", "--render", str(chart))
    assert result.exit_code == 2
    assert (f"error[KR722]: `helm template {chart}` failed (exit 1): Error: parse error at "
            "(shop/templates/x.yaml:3)") in result.stderr


def test_a_kustomization_is_rendered_by_kubectl_and_located_at_it(tmp_path, only):
    k = tmp_path / "overlay"
    k.mkdir()
    (k / "kustomization.yaml").write_text("resources: [../base]\n")
    fake_tool(only, "kubectl", POLICY.replace("# Source: shop/templates/netpol.yaml\n", ""))
    hint = kreach("list", str(k))
    assert f"run `kubectl kustomize {k} | kreach list -`, or pass --render" in hint.stderr
    result = kreach("list", "--render", str(k))
    assert result.exit_code == 0, result.stderr
    assert (only / "kubectl.args").read_text().splitlines() == ["kustomize", str(k)]
    a = analyze([str(k)], Options(inputs=InputOptions(render=True)))
    assert a.objects == 1 and not a.has_errors


def test_kustomize_build_is_used_when_kubectl_is_missing(tmp_path, only):
    k = tmp_path / "base"
    k.mkdir()
    (k / "kustomization.yaml").write_text("resources: [netpol.yaml]\n")
    fake_tool(only, "kustomize", POLICY)
    result = kreach("list", "--render", str(k))
    assert result.exit_code == 0, result.stderr
    assert (only / "kustomize.args").read_text().splitlines() == ["build", str(k)]


def test_templates_outside_a_chart_get_one_hint_for_all_files(tmp_path):
    for i in range(5):
        (tmp_path / f"t{i}.yaml").write_text(
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Values.name }}\n"
            "spec:\n  ports:\n  {{- range .Values.ports }}\n  - port: {{ . }}\n  {{- end }}\n")
    (tmp_path / "ns.yaml").write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n")
    result = kreach("list", str(tmp_path))
    assert result.exit_code == 0
    lines = [ln for ln in result.stderr.splitlines() if "KR0" in ln or "KR7" in ln]
    assert lines == [f"{tmp_path / 't0.yaml'}:1: warning[KR723]: 5 document(s) in 5 YAML file(s) hold "
                     "template syntax ({{ }}) outside a chart and are skipped (this file is the "
                     "first): render them and pipe them in (`helm template CHART | kreach list -`)"]


@pytest.mark.skipif(shutil.which("helm") is None, reason="helm is not installed")
def test_a_real_helm_renders_a_chart(chart):  # pragma: no cover - depends on the machine
    a = analyze([str(chart)], Options(inputs=InputOptions(render=True)))
    assert a.objects == 1


def _overlay_tree(root: Path) -> Path:
    base = root / "base"
    base.mkdir(parents=True)
    (base / "kustomization.yaml").write_text("resources: [policy.yaml]\n")
    (base / "policy.yaml").write_text(POLICY.replace("# Source: shop/templates/netpol.yaml\n", "")
                                      .replace("  namespace: shop\n", ""))
    for env in ("dev", "prod"):
        overlay = root / "overlays" / env
        overlay.mkdir(parents=True)
        (overlay / "kustomization.yaml").write_text(f"namespace: {env}\nresources: [../../base]\n")
    return root


def test_a_walk_renders_overlays_and_reads_bases_only_through_them(tmp_path, only):
    root = _overlay_tree(tmp_path / "k")
    result = kreach("list", str(root))
    hints = [ln for ln in result.stderr.splitlines() if "KR720" in ln]
    assert [h.split(": warning")[0] for h in hints] == [
        f"{root / 'overlays' / 'dev' / 'kustomization.yaml'}:1",
        f"{root / 'overlays' / 'prod' / 'kustomization.yaml'}:1"]
    assert "kustomization " + str(root / "base") in kreach("list", str(root / "base")).stderr


@pytest.mark.skipif(shutil.which("kubectl", path=os.defpath + ":/usr/bin:/usr/local/bin") is None,
                    reason="kubectl is not installed")
def test_a_real_kubectl_renders_each_overlay_once(tmp_path):  # pragma: no cover - machine
    root = _overlay_tree(tmp_path / "k")
    a = analyze([str(root)], Options(inputs=InputOptions(render=True)))
    names = sorted(f"{p.namespace}/{p.name}" for p in a.cluster.policies)
    assert names == ["dev/deny", "prod/deny"] and not a.has_errors


def test_helm_output_is_split_into_the_templates_it_came_from_subcharts_included():
    from analyzer.inputs.render import split_by_source

    out = ("---\n# Source: app/templates/a.yaml\nkind: A\n---\n# Source: app/charts/db/templates/np.yaml\n"
           "kind: B\n---\n# Source: app/templates/a.yaml\nkind: C\n")
    parts = dict(split_by_source(out, "deploy/app-chart"))
    assert list(parts) == ["deploy/app-chart/templates/a.yaml", "deploy/app-chart/charts/db/templates/np.yaml"]
    assert parts["deploy/app-chart/templates/a.yaml"].count("---") == 2  # both documents of a.yaml
