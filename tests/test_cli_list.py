"""``kreach list`` from the outside: formats, levels, ``-o``, exit codes, and bad input.

Exit codes follow ruff: 0 when the input could be analysed (errors in some objects are printed on
stderr and those objects skipped), 2 when nothing usable was read, when ``--strict`` meets an
error, or on a usage error. No input ever produces a traceback.
"""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from typer.testing import CliRunner

from analyzer.cli import app

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"
DOCS = ROOT / "docs" / "output.md"

# The kreach.connectivity/v1 document; docs/output.md holds the same schema (checked below).
PORT_RANGES = {"type": "array", "minItems": 1,
               "items": {"type": "array", "minItems": 2, "maxItems": 2,
                         "items": {"type": "integer", "minimum": 1, "maximum": 65535}}}
SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "kreach.connectivity/v1",
    "type": "object",
    "required": ["schema", "level", "endpoints", "connections", "diagnostics"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": "kreach.connectivity/v1"},
        "level": {"enum": ["workload", "pod"]},
        "endpoints": {"type": "object", "additionalProperties": {"$ref": "#/$defs/endpoint"}},
        "connections": {"type": "array", "items": {"$ref": "#/$defs/connection"}},
        "diagnostics": {"type": "array", "items": {"$ref": "#/$defs/diagnostic"}},
    },
    "$defs": {
        "endpoint": {"oneOf": [
            {"type": "object", "additionalProperties": False,
             "required": ["type", "namespace", "name", "kind", "pods", "labels"],
             "properties": {"type": {"const": "workload"}, "namespace": {"type": "string"},
                            "name": {"type": "string"}, "kind": {"type": "string"},
                            "pods": {"type": "integer", "minimum": 0},
                            "labels": {"type": "object", "additionalProperties": {"type": "string"}}}},
            {"type": "object", "additionalProperties": False,
             "required": ["type", "namespace", "name", "workload"],
             "properties": {"type": {"const": "pod"}, "namespace": {"type": "string"},
                            "name": {"type": "string"}, "workload": {"type": "string"},
                            "ips": {"type": "array", "minItems": 1, "items": {"type": "string"}}}},
            {"type": "object", "additionalProperties": False, "required": ["type", "ranges"],
             "properties": {"type": {"const": "external"},
                            "ranges": {"type": "array", "minItems": 1,
                                       "items": {"type": "string", "pattern": "^[0-9a-f.:]+-[0-9a-f.:]+$"}}}},
            {"type": "object", "additionalProperties": False, "required": ["type"],
             "properties": {"type": {"const": "ingress-controller"}}},
        ]},
        "connection": {
            "type": "object", "additionalProperties": False,
            "required": ["src", "dst", "protocols", "allowed_by"],
            "properties": {
                "src": {"type": "string"}, "dst": {"type": "string"},
                "protocols": {"type": "object", "minProperties": 1, "additionalProperties": False,
                              "properties": {"TCP": PORT_RANGES, "UDP": PORT_RANGES, "SCTP": PORT_RANGES}},
                "allowed_by": {"type": "object", "additionalProperties": False,
                               "required": ["egress", "ingress"],
                               "properties": {"egress": {"type": "array", "items": {"$ref": "#/$defs/rule_ref"}},
                                              "ingress": {"type": "array", "items": {"$ref": "#/$defs/rule_ref"}}}},
            },
        },
        "rule_ref": {"oneOf": [
            {"type": "object", "additionalProperties": False,  # a rule of an admin policy
             "required": ["policy", "kind", "direction", "rule", "file", "line", "action", "priority"],
             "properties": {"policy": {"type": "string"},
                            "kind": {"enum": ["AdminNetworkPolicy", "BaselineAdminNetworkPolicy",
                                              "ClusterNetworkPolicy"]},
                            "direction": {"enum": ["ingress", "egress"]},
                            "rule": {"type": "integer", "minimum": 0},
                            "file": {"type": ["string", "null"]},
                            "line": {"type": ["integer", "null"], "minimum": 1},
                            "action": {"enum": ["Allow", "Accept", "Pass"]},
                            "priority": {"type": ["integer", "null"]}}},
            {"type": "object", "additionalProperties": False,
             "required": ["policy", "kind", "direction", "rule", "file", "line"],
             "properties": {"policy": {"type": "string"}, "kind": {"const": "NetworkPolicy"},
                            "direction": {"enum": ["ingress", "egress"]},
                            "rule": {"type": "integer", "minimum": 0},
                            "file": {"type": ["string", "null"]},
                            "line": {"type": ["integer", "null"], "minimum": 1}}},
            {"type": "object", "additionalProperties": False,
             "required": ["policy", "kind", "direction", "reason"],
             "properties": {"policy": {"const": None}, "kind": {"const": "default"},
                            "direction": {"enum": ["ingress", "egress"]},
                            "reason": {"const": "not isolated"}}},
        ]},
        "diagnostic": {
            "type": "object", "additionalProperties": False,
            "required": ["code", "severity", "message", "file", "line"],
            "properties": {"code": {"type": "string", "pattern": "^KR[0-9]{3}$"},
                           "severity": {"enum": ["error", "warning", "info"]},
                           "message": {"type": "string"},
                           "file": {"type": ["string", "null"]},
                           "line": {"type": ["integer", "null"], "minimum": 1}},
        },
    },
}


def kreach(*args: str, stdin: str | None = None):
    result = CliRunner().invoke(app, ["list", *args], input=stdin)
    # an uncaught exception would be a traceback for the user
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stdout + result.stderr
    return result


def check_document(doc: dict, level: str) -> None:
    """The schema, plus what a schema cannot say: references resolve, and the level is kept."""
    jsonschema.validate(doc, SCHEMA)
    assert doc["level"] == level
    ends = doc["endpoints"]
    for c in doc["connections"]:
        assert c["src"] in ends and c["dst"] in ends and c["src"] != c["dst"]
        for ranges in c["protocols"].values():
            assert all(lo <= hi for lo, hi in ranges)
            assert all(a[1] + 1 < b[0] for a, b in zip(ranges, ranges[1:])), "ranges not canonical"
        # a connection between two modelled endpoints is allowed on both sides
        if ends[c["src"]]["type"] != "external" and ends[c["dst"]]["type"] != "external":
            assert c["allowed_by"]["egress"] and c["allowed_by"]["ingress"]
    internal = {e["type"] for e in ends.values()} - {"external"}
    assert internal == {level}
    if level == "pod":
        assert all(e["workload"].startswith(e["namespace"] + "/") for e in ends.values() if e["type"] == "pod")


def test_the_schema_in_the_docs_is_the_one_tested_here():
    text = DOCS.read_text()
    block = re.search(r"<!-- schema -->\s*```json\n(.*?)```", text, re.S)
    assert block, "docs/output.md must hold the schema in a ```json block after <!-- schema -->"
    assert json.loads(block.group(1)) == SCHEMA


def test_the_examples_in_the_docs_are_what_kreach_prints(monkeypatch):
    monkeypatch.chdir(ROOT)  # the examples use paths relative to the repository root
    examples = re.findall(r"```\n\$ kreach list (.+?)\n(.*?)```", DOCS.read_text(), re.S)
    assert len(examples) >= 5
    for args, printed in examples:
        result = kreach(*args.split())
        assert result.exit_code == 0
        assert result.stdout == printed, f"docs/output.md is stale for `kreach list {args}`"


# --- formats ---------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_json() -> dict:
    result = kreach(str(DEMO), "--format", "json")
    assert result.exit_code == 0 and result.stderr == ""
    return json.loads(result.stdout)


def conn_text(protocols: dict) -> str:
    if all(protocols.get(p) == [[1, 65535]] for p in ("SCTP", "TCP", "UDP")):
        return "All Connections"
    return ",".join(f"{p} " + ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in protocols[p])
                    for p in sorted(protocols))


def test_json_on_the_demo_follows_the_schema(demo_json):
    check_document(demo_json, "workload")
    assert demo_json["diagnostics"] == []
    refs = [r for c in demo_json["connections"] for side in ("egress", "ingress")
            for r in c["allowed_by"][side]]
    assert any(r["policy"] is None for r in refs) and any(r["policy"] for r in refs)
    assert all(r["file"].startswith(str(DEMO)) for r in refs if r["policy"])


def test_txt_csv_md_and_dot_list_the_same_connections_as_json(demo_json):
    expected = [(c["src"], c["dst"], conn_text(c["protocols"])) for c in demo_json["connections"]]
    assert expected, "the demo has connections"

    txt = kreach(str(DEMO)).stdout  # txt is the default
    assert [tuple(re.fullmatch(r"(\S+) => (\S+) : (.+)", ln).groups()) for ln in txt.splitlines()] == expected

    rows = list(csv.reader(io.StringIO(kreach(str(DEMO), "--format", "csv").stdout)))
    assert rows[0] == ["src", "dst", "conn"] and [tuple(r) for r in rows[1:]] == expected

    md = kreach(str(DEMO), "--format", "md").stdout.splitlines()
    assert md[:2] == ["| src | dst | conn |", "|-----|-----|------|"]
    assert [tuple(cell.strip() for cell in ln.strip("|").split(" | ")) for ln in md[2:]] == expected

    dot = kreach(str(DEMO), "--format", "dot").stdout
    assert dot.startswith("digraph kreach {") and dot.rstrip().endswith("}")
    edges = re.findall(r'^\t"([^"]+)" -> "([^"]+)" \[label="([^"]+)"\];$', dot, re.M)
    assert edges == expected
    for node in demo_json["endpoints"]:
        assert f'"{node}"' in dot


def test_pod_level_lists_pods_and_replicas_of_one_workload(demo_json):
    result = kreach(str(DEMO), "--level", "pod", "--format", "json")
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    check_document(doc, "pod")
    workloads = {k: v for k, v in demo_json["endpoints"].items() if v["type"] == "workload"}
    pods = [v for v in doc["endpoints"].values() if v["type"] == "pod"]
    assert len(pods) == sum(w["pods"] for w in workloads.values())
    assert {p["workload"] for p in pods} == set(workloads)
    # web -> api is allowed for every pair of their pods
    web_api = {(c["src"], c["dst"]) for c in doc["connections"]
               if c["src"].startswith("shop/web-") and c["dst"].startswith("shop/api-")}
    assert len(web_api) == workloads["shop/web[Deployment]"]["pods"] * workloads["shop/api[Deployment]"]["pods"]


def test_output_file(tmp_path):
    out = tmp_path / "report.json"
    result = kreach(str(DEMO), "--format", "json", "-o", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    check_document(json.loads(out.read_text()), "workload")
    txt = tmp_path / "report.txt"
    assert kreach(str(DEMO), "--output", str(txt)).exit_code == 0
    assert txt.read_text() == kreach(str(DEMO)).stdout


def test_stdin_is_read_for_dash():
    result = kreach("-", stdin=(DEMO / "shop.yaml").read_text())
    assert result.exit_code == 0 and "shop/web[Deployment]" in result.stdout


# --- exit codes and bad input ----------------------------------------------------------------

GOOD = """\
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: t, labels: {app: a}}
spec:
  containers: [{name: main, image: nginx}]
"""

POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: t}
spec:
  podSelector: {}
"""

# (id, file name, content, severity, code, line or None for a file-level problem)
BAD_INPUTS = [
    ("broken yaml", "broken.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: b: c\n",
     "error", "KR001", 4),
    ("tab-indented list", "tabs.yaml", "apiVersion: v1\nkind: List\nitems:\n\t- apiVersion: v1\n",
     "error", "KR001", 4),
    ("cidr /33", "cidr.yaml", POLICY + "  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/33\n",
     "error", "KR110", 9),
    ("port 70000", "port.yaml", POLICY + "  ingress:\n  - ports:\n    - port: 70000\n", "error", "KR112", 8),
    ("In without values", "in.yaml",
     POLICY.replace("podSelector: {}", "podSelector:\n    matchExpressions:\n    - {key: app, operator: In}"),
     "error", "KR114", 7),
    ("unknown apiVersion", "api.yaml", POLICY.replace("networking.k8s.io/v1", "networking.k8s.io/v9"),
     "error", "KR103", 1),
    ("empty file", "empty.yaml", "", "warning", "KR006", None),
    ("binary file", "binary.yaml", b"\x7fELF\x02\x01\x01\x00\x00\x00", "error", "KR002", None),
    ("directory with no manifests", "nothing-here", None, "error", "KR005", None),
]


def make(tmp_path: Path, name: str, content: str | bytes | None) -> str:
    path = tmp_path / name
    if content is None:
        path.mkdir()
        (path / "README.md").write_text("no manifests\n")
    elif isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return str(path)


def located(path: str, severity: str, code: str, line: int | None) -> str:
    return f"{path}:{line}: {severity}[{code}]: " if line else f"{path}: {severity}[{code}]: "


@pytest.mark.parametrize("case, name, content, severity, code, line", BAD_INPUTS,
                         ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_located_and_the_rest_is_still_analysed(tmp_path, case, name, content,
                                                             severity, code, line):
    good = make(tmp_path, "good.yaml", GOOD)
    bad = make(tmp_path, name, content)
    result = kreach(good, bad)
    assert result.exit_code == 0
    assert located(bad, severity, code, line) in result.stderr
    assert "t/a[Pod] => 0.0.0.0-255.255.255.255 : All Connections" in result.stdout
    strict = kreach("--strict", good, bad)
    assert strict.exit_code == (2 if severity == "error" else 0)
    assert strict.stdout == result.stdout  # --strict changes the exit code, not the answer


UNUSABLE = [c for c in BAD_INPUTS if c[4] in ("KR001", "KR002", "KR005")]


@pytest.mark.parametrize("case, name, content, severity, code, line", UNUSABLE, ids=[c[0] for c in UNUSABLE])
def test_nothing_usable_exits_2(tmp_path, case, name, content, severity, code, line):
    bad = make(tmp_path, name, content)
    result = kreach(bad)
    assert result.exit_code == 2
    assert located(bad, severity, code, line) in result.stderr


def test_an_empty_directory_and_a_missing_path_exit_2(tmp_path):
    (tmp_path / "empty").mkdir()
    result = kreach(str(tmp_path / "empty"))
    assert result.exit_code == 2 and "error[KR005]" in result.stderr
    missing = str(tmp_path / "missing.yaml")
    result = kreach(missing)
    assert result.exit_code == 2 and f"{missing}: error[KR007]: " in result.stderr


def test_valid_input_exits_0_quietly():
    result = kreach(str(DEMO), "--strict")
    assert result.exit_code == 0 and result.stderr == ""


@pytest.mark.parametrize("args", [["--format", "yaml"], ["--level", "namespace"], ["--no-such-flag"]])
def test_usage_errors_exit_2(args):
    result = kreach(str(DEMO), *args)
    assert result.exit_code == 2 and result.stdout == ""


def test_the_real_process_never_shows_a_traceback(tmp_path):
    """One whole-process run over every bad input at once, next to a good file."""
    paths = [make(tmp_path, "good.yaml", GOOD)]
    paths += [make(tmp_path, name, content) for _, name, content, *_ in BAD_INPUTS]
    proc = subprocess.run([sys.executable, "-m", "analyzer", "list", *paths, str(tmp_path / "missing")],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stderr
    for (_, name, _, severity, code, line), path in zip(BAD_INPUTS, paths[1:]):
        assert located(path, severity, code, line) in proc.stderr
    assert f"{tmp_path / 'missing'}: error[KR007]: " in proc.stderr
    assert "t/a[Pod] => 0.0.0.0-255.255.255.255 : All Connections" in proc.stdout


def test_the_process_ends_after_flushing_all_output_with_the_command_exit_code(tmp_path):
    """kreach ends its process without freeing the analysis object by object: everything written
    to a pipe or a file is there, and the exit code is the command's."""
    import subprocess
    import sys

    from typer.testing import CliRunner

    from analyzer.cli import app

    def kreach(*args):
        return subprocess.run([sys.executable, "-m", "analyzer", *args], capture_output=True,
                              text=True, cwd=Path(__file__).resolve().parent.parent)

    piped = kreach("list", "fixtures/demo", "--format", "json")
    assert piped.returncode == 0
    assert piped.stdout == CliRunner().invoke(app, ["list", "fixtures/demo", "--format", "json"]).stdout
    written = kreach("list", "fixtures/demo", "-o", str(tmp_path / "out.txt"))
    assert written.returncode == 0 and (tmp_path / "out.txt").read_text().count("=>") > 5
    no = kreach("can", "shop/web", "shop/db", "fixtures/demo", "--port", "5432")
    assert no.returncode == 1 and no.stdout.startswith("no: shop/web -> shop/db")
    assert kreach("can", "shop/api", "shop/db", "fixtures/demo").returncode == 0
    assert kreach("list", "/no/such/path").returncode == 2
