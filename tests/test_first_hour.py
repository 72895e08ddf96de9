"""The first hour of a new user (issue #9): each test is one stumble from trying kreach on real
repositories, written as the behaviour that replaced it."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer import Options, analyze
from analyzer.cli import app
from analyzer.query.engine import Engine, QueryError

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"

DEPLOY = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}{namespace}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec: {{containers: [{{name: c, image: x, ports: [{{containerPort: 8080}}]}}]}}
"""
CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n"


def deploy(name: str, namespace: str | None = None) -> str:
    return DEPLOY.format(name=name, namespace=f"\n  namespace: {namespace}" if namespace else "")


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(app, list(args), input=stdin)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty repository as the working directory (settings are looked up to its root)."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- 1. a forgotten argument never reads the current directory ----------------------------------


def test_a_path_in_an_endpoints_place_is_named_and_nothing_is_read(project):
    shutil.copytree(DEMO, project / "demo")
    (project / "junk.yaml").write_text("{{ broken\n")  # would be a KR001 if '.' were read
    result = run("can", "shop/web", "demo")
    assert result.exit_code == 2
    assert "'demo' is a path on disk, not an endpoint" in result.stderr
    assert "KR0" not in result.stderr


def test_endpoint_syntax_is_checked_before_anything_is_loaded(project):
    result = run("can", "shop:app in (a", "shop/api", "no/such/dir")
    assert result.exit_code == 2
    assert "expected ',' or ')'" in result.stderr and "KR007" not in result.stderr


def test_directory_walks_skip_vcs_virtualenvs_dependencies_and_caches_and_say_so_once(project):
    (project / "k8s").mkdir()
    (project / "k8s" / "app.yaml").write_text(deploy("web", "shop"))
    for junk in (".git/objects", "node_modules/pkg", "__pycache__", ".venv/lib", "myenv/lib", ".cache"):
        (project / junk).mkdir(parents=True, exist_ok=True)
        (project / junk / "bad.yaml").write_text("{{ not: yaml\n")
    (project / "myenv" / "pyvenv.cfg").write_text("home = /usr\n")
    result = run("list", ".")
    assert result.exit_code == 0, result.stderr
    notes = [ln for ln in result.stderr.splitlines() if "KR050" in ln]
    assert len(notes) == 1 and "did not read 6 directories" in notes[0]
    assert "KR001" not in result.stderr


def test_exclude_globs_from_the_flag_and_from_settings(project):
    for d in ("base", "charts/x/templates", "overlays/dev"):
        (project / d).mkdir(parents=True)
    (project / "base" / "web.yaml").write_text(deploy("web", "shop"))
    (project / "charts" / "x" / "templates" / "t.yaml").write_text("{{ .Values.x }}\n")
    (project / "overlays" / "dev" / "api.yaml").write_text(deploy("api", "shop"))
    flag = run("list", ".", "--exclude", "charts", "--exclude", "overlays/*")
    assert flag.exit_code == 0 and "KR001" not in flag.stderr
    assert "shop/api" not in flag.stdout and "shop/web" in flag.stdout
    (project / "pyproject.toml").write_text('[tool.kreach]\nexclude = ["charts"]\n')
    from_settings = run("list", ".")
    assert "KR001" not in from_settings.stderr and "shop/api" in from_settings.stdout


# --- 2. every id kreach prints is an endpoint ----------------------------------------------------


def _printed_ids(level: str) -> set[str]:
    out = run("list", str(DEMO), "--level", level).stdout
    return {side.strip() for line in out.splitlines() for side in line.split(" : ")[0].split(" => ")}


@pytest.fixture(scope="module")
def engine():
    return Engine.from_analysis(analyze([str(DEMO)], Options()))


@pytest.mark.parametrize("level", ["workload", "pod"])
def test_every_id_list_prints_resolves_back(engine, level):
    ids = _printed_ids(level)
    assert ids
    for text in ids:
        engine.resolve(text)  # raises on an id that names nothing


def test_pod_ids_in_both_spellings_and_witness_ids_resolve_to_the_same_pod(engine):
    one = {engine.resolve(t).groups.popitem()[1] for t in ("shop/web-0", "shop/pod/web-0", "web-0")}
    assert len(one) == 1
    witness = run("can", "shop/web", "shop/api", str(DEMO)).stdout
    src_id = re.search(r"witness: (\S+) \((\S+)\)", witness)
    for text in src_id.groups():
        engine.resolve(text)


def test_a_bare_name_unique_across_namespaces_is_accepted_an_ambiguous_one_is_not(tmp_path):
    (tmp_path / "a.yaml").write_text(deploy("web", "shop") + "---\n" + deploy("api", "shop")
                                     + "---\n" + deploy("api", "dev"))
    e = Engine.from_analysis(analyze([str(tmp_path)], Options()))
    assert e.resolve("web").endpoint.name == "web"
    with pytest.raises(QueryError, match="api is in 2 namespaces; say which: dev/api, shop/api"):
        e.resolve("api")


@pytest.mark.parametrize("text, meant", [
    ("shop/wbe", "shop/web"), ("shp/web", "shop/web"), ("wbe", "web"),
    ("shop:app=wbe", "shop:app=web"), ("shop/web[StatefulSet]", "shop/web[Deployment]"),
])
def test_an_endpoint_that_matches_nothing_gets_did_you_mean(engine, text, meant):
    with pytest.raises(QueryError, match=re.escape(f"did you mean {meant}")):
        engine.resolve(text)


# --- 3. one summary line for the objects kreach does not model -----------------------------------


def test_skipped_objects_are_one_summary_line_and_verbose_lists_them(project):
    docs = [CONFIGMAP.format(name=f"c{i}") for i in range(3)]
    docs += ["apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n", deploy("web", "shop")]
    (project / "all.yaml").write_text("---\n".join(docs))
    quiet = run("list", "all.yaml")
    assert quiet.exit_code == 0
    assert [ln for ln in quiet.stderr.splitlines() if "KR051" in ln] == [
        "info[KR051]: skipped 4 objects of 2 kinds kreach does not model: ConfigMap (3), "
        "Secret (1); -v lists them"]
    verbose = run("list", "all.yaml", "-v")
    assert verbose.stderr.count("KR004") == 4 and "KR051" not in verbose.stderr


# --- 5. -n/--namespace --------------------------------------------------------------------------


def test_namespace_flag_places_objects_that_name_none_as_kubectl_does(project):
    (project / "app.yaml").write_text(deploy("web") + "---\n" + deploy("api", "other"))
    assert "default/web[Deployment]" in run("list", "app.yaml").stdout
    placed = run("list", "app.yaml", "-n", "shop").stdout
    assert "shop/web[Deployment]" in placed and "other/api[Deployment]" in placed
    assert "default/" not in placed
    assert run("can", "shop/web", "other/api", "app.yaml", "--namespace", "shop").exit_code == 0


# --- 6. every [tool.kreach] key applies where it makes sense; unknown keys are located -------------


def test_settings_format_applies_to_every_command_that_has_it(project):
    (project / "pyproject.toml").write_text('[tool.kreach]\nformat = "json"\n')
    for args in (["list", str(DEMO)], ["can", "shop/web", "shop/api", str(DEMO)],
                 ["exposure", str(DEMO)], ["check", str(DEMO / "kreach.yaml")]):
        out = run(*args).stdout
        assert json.loads(out), args


def test_an_unknown_settings_key_gets_did_you_mean_and_its_line(project):
    (project / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.kreach]\nstrict = true\n'
                                            'formt = "json"\n')
    result = run("list", str(DEMO))
    assert result.exit_code == 2
    assert ("pyproject.toml:6: error[KR311]: pyproject.toml [tool.kreach]: unknown key 'formt' in "
            "[tool.kreach]; did you mean 'format'?") in result.stderr


# --- 11. help reads like the docs ----------------------------------------------------------------


def test_help_lists_each_command_on_one_line():
    """At an 80-column terminal (click leaves 78): a short help that wraps breaks the table."""
    out = CliRunner().invoke(app, ["--help"], terminal_width=78).stdout
    commands = out.split("Commands:")[1].splitlines()[1:]
    names = [ln.split()[0] for ln in commands if ln.strip()]
    assert {"list", "can", "who-can-reach", "reachable-from", "exposure", "isolated", "check"} <= set(names)
    assert all(re.match(r"^  \S+ +\S", ln) for ln in commands if ln.strip())  # no continuation lines


def test_metavars_read_like_the_docs():
    out = run("can", "--help").stdout
    assert "[PATH...]" in out and "--protocol TCP|UDP|SCTP" in out and "-f, --format txt|json" in out
    assert "reachable-from" in run("--help").stdout
    assert "exposure" in run("reachable-from", "--help").stdout


# --- 7. CI paths are relative to the repository root ---------------------------------------------


def test_ci_annotations_and_sarif_name_files_from_the_repository_root(project, monkeypatch):
    deploy_dir = project / "deploy"
    shutil.copytree(DEMO, deploy_dir / "manifests")
    failing = (ROOT / "fixtures" / "failing" / "kreach.yaml").read_text()
    (deploy_dir / "kreach.yaml").write_text(failing.replace("manifests: [../demo]", "manifests: [manifests]"))
    monkeypatch.chdir(deploy_dir)
    github = run("check", "--format", "github").stdout
    files = set(re.findall(r"file=([^,]+),", github))
    assert files == {"deploy/kreach.yaml", "deploy/manifests/policies-payments.yaml"}
    sarif = json.loads(run("check", "--format", "sarif").stdout)
    uris = {loc["physicalLocation"]["artifactLocation"]["uri"]
            for r in sarif["runs"][0]["results"]
            for loc in r.get("locations", []) + r.get("relatedLocations", [])}
    assert uris == files


# --- 9. empty or one-sided input says so ---------------------------------------------------------


def test_policies_without_workloads_warn_and_exposure_does_not_pretend_to_answer(project):
    shutil.copy(DEMO / "policies-shop.yaml", project / "policies.yaml")
    listed = run("list", "policies.yaml")
    assert listed.exit_code == 0
    assert "warning[KR053]: the input holds 8 network policies but no pod or workload" in listed.stderr
    exposed = run("exposure", "policies.yaml")
    assert exposed.exit_code == 2 and "no exposure found" not in exposed.stdout
    assert "exposure is about workloads" in exposed.stderr


def test_a_directory_of_kinds_kreach_does_not_model_says_so(project):
    (project / "cm.yaml").write_text("---\n".join(CONFIGMAP.format(name=n) for n in "ab"))
    result = run("list", ".")
    assert result.exit_code == 2
    assert "error[KR052]: nothing in . is of a kind kreach models" in result.stderr
    assert "2 objects of other kinds" in result.stderr


def test_reachable_from_internet_points_to_exposure():
    result = run("reachable-from", "internet", str(DEMO))
    assert result.exit_code == 2
    assert "run kreach exposure --direction ingress" in result.stderr


# --- 10. hypothetical pods: any labels, or none --------------------------------------------------


def test_new_pod_with_no_labels_is_the_narrowest_question(engine):
    from analyzer.query.can import can
    from analyzer.query.verdict import Answer

    assert can(engine, "new:shop", "shop/api").answer is Answer.YES      # some labels get in
    assert can(engine, "new:shop:{}", "shop/api").answer is Answer.NO    # no labels: denied
    assert can(engine, "new:dev:{}", "payments/ledger").answer is Answer.YES  # the debug hole


# --- 8. witnesses a person can read -------------------------------------------------------------


def test_a_witness_is_never_a_pod_to_itself_when_another_pod_shows_the_same(tmp_path):
    (tmp_path / "d.yaml").write_text(DEPLOY.format(name="web", namespace="\n  namespace: a")
                                     .replace("spec:\n  selector", "spec:\n  replicas: 2\n  selector"))
    out = run("can", "a/web", "a/web", str(tmp_path)).stdout
    assert "witness: a/pod/web-0 (a/web[Deployment]) -> a/pod/web-1 (a/web[Deployment]) TCP 8080" in out


@pytest.mark.parametrize("args, shown", [
    (["internet", "shop/web"], "witness: 1.0.0.1 -> shop/pod/web-0"),
    (["payments/gateway", "internet"], "-> 203.0.113.1 TCP 443"),   # not the range's .0
    (["::/0", "payments/ledger"], "witness: 200::1 -> payments/pod/ledger-0"),
])
def test_an_internet_witness_is_a_plain_public_address_of_the_range(args, shown):
    assert shown in run("can", *args, str(DEMO)).stdout


def test_failed_assertions_show_a_public_address_and_a_declared_port():
    out = run("check", str(ROOT / "fixtures" / "failing" / "kreach.yaml")).stdout
    assert "counterexample: 1.0.0.1 -> payments/pod/ledger-0 (payments/ledger[Deployment]) TCP 7070" in out


def test_a_port_for_a_destination_that_declares_none_is_a_common_one_not_tcp_1():
    from analyzer.model.connset import ALL_CONNECTIONS
    from analyzer.query.feasibility import first_port

    assert first_port(ALL_CONNECTIONS) == ("TCP", 443)
    assert first_port(ALL_CONNECTIONS, [9100]) == ("TCP", 9100)
    assert "TCP 1\n" not in run("exposure", str(DEMO)).stdout


def test_the_blocked_line_of_a_failed_assert_reachable_keeps_its_port():
    from analyzer.testing import assert_reachable, load_cluster

    with pytest.raises(AssertionError) as failure:
        assert_reachable(load_cluster(str(DEMO)), "shop/web", "shop/db", port=5432)
    assert "blocked: shop/web -> shop/db 5432\n" in str(failure.value)


def test_hypothetical_witnesses_take_label_values_from_the_input(engine, tmp_path):
    from analyzer.query.can import can
    from analyzer.query.isolation import isolated

    verdict = can(engine, "new:shop:tier", "shop/api")
    assert dict(verdict.witness.src.labels)["tier"] in {"frontend", "backend", "data"}  # not <other>
    (tmp_path / "a.yaml").write_text(deploy("cart", "shop") + "---\n" + deploy("db", "shop") + "---\n"
                                     "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
                                     "metadata: {name: db, namespace: shop}\n"
                                     "spec: {podSelector: {matchLabels: {app: db}}, policyTypes: [Ingress]}\n")
    e = Engine.from_analysis(analyze([str(tmp_path)], Options()))
    escape = isolated(e, "shop", "Ingress").escape
    assert set(dict(escape.labels).values()) <= {"cart"}  # an input value, or no label: never <other>


# --- what new users tripped over on public repositories ------------------------------------------


def test_an_old_api_version_names_the_current_one_and_nothing_left_is_a_warning(project):
    (project / "old.yaml").write_text(deploy("web", "shop").replace("apps/v1", "extensions/v1beta1")
                                      + "---\napiVersion: apps/v1\nkind: NetworkPolicy\n"
                                      "metadata: {name: p, namespace: shop}\nspec: {podSelector: {}}\n"
                                      "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
                                      "spec: {selector: {app: web}, ports: [{port: 80}]}\n")
    result = run("list", ".")
    assert "Deployment is apps/v1 today" in result.stderr
    assert "NetworkPolicy is networking.k8s.io/v1 today" in result.stderr
    assert "warning[KR055]: no pod, workload or network policy is left to analyse" in result.stderr
    assert "./" not in result.stderr and "\nold.yaml:1" in result.stderr


def test_a_service_name_as_endpoint_points_to_the_workload_behind_it(tmp_path):
    (tmp_path / "a.yaml").write_text(deploy("web", "emojivoto") + "---\napiVersion: v1\nkind: Service\n"
                                     "metadata: {name: web-svc, namespace: emojivoto}\n"
                                     "spec: {selector: {app: web}, ports: [{port: 80, targetPort: 8080}]}\n")
    e = Engine.from_analysis(analyze([str(tmp_path)], Options()))
    with pytest.raises(QueryError, match="web-svc matches no pod in the input; did you mean emojivoto/web"):
        e.resolve("web-svc")


def test_a_kustomization_file_named_with_the_manifests_is_a_note_not_a_warning(project):
    (project / "web.yml").write_text(deploy("web", "shop"))
    (project / "kustomization.yml").write_text("resources:\n- web.yml\n")
    result = run("list", "web.yml", "kustomization.yml")
    assert result.exit_code == 0 and "KR003" not in result.stderr
    assert "kustomization.yml:1: info[KR056]: a kustomization file, not a Kubernetes object" in result.stderr


def test_a_selection_no_pod_matches_points_to_the_new_pod_form(engine):
    with pytest.raises(QueryError, match=r"ask about new:shop:role=db$"):
        engine.resolve("shop:role=db")


def test_settings_strict_applies_to_the_questions_too(project):
    (project / "m.yaml").write_text(deploy("web", "shop") + "---\napiVersion: networking.k8s.io/v1\n"
                                    "kind: NetworkPolicy\nmetadata: {name: bad, namespace: shop}\n"
                                    "spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: nope}}]}]}\n")
    assert run("can", "shop/web", "internet", "m.yaml").exit_code in (0, 1)
    (project / "pyproject.toml").write_text("[tool.kreach]\nstrict = true\n")
    assert run("can", "shop/web", "internet", "m.yaml").exit_code == 2
