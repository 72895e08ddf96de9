"""Fuzzing the command line (issue 17): mutated manifests, mutated assertion files and arbitrary
endpoint strings never make kreach raise. Every run exits 0, 1 or 2 without an internal error,
and a valid manifest beside a broken one is still analysed.

The default run keeps example counts small; ``-m slow`` runs many more. Failures found by the
fuzzing round are kept as a regression corpus in tests/data/hardening/ (see test_hardening.py).
Also here: the fast YAML node builder reads what ``yaml.safe_load`` reads (issue 8 item 6), and
output is deterministic across hash seeds and the order paths are given in.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from analyzer.cli import app
from analyzer.inputs.limits import LimitExceeded
from analyzer.inputs.loading import DuplicateKey, _Loader, construct

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"
SHOP = (DEMO / "shop.yaml").read_text()
ASSERTIONS = (DEMO / "kreach.yaml").read_text()
runner = CliRunner()

# what YAML and Kubernetes manifests are made of: the mutations splice these in
TOKENS = ["!!int", "!!map", "!!seq", "!!bool", "!!str", "!!float", "!!binary", "!!set", "!custom",
          "&a", "*a", "<<:", "- =", "=", "~", "null", "[", "]", "{", "}", ":", "- ", "---", "...",
          "\t", "\n", "#", "'", '"', "\\u0000", "\x00", "\xe9", "\u202e", "1e999", "-1",
          "2147483647", "0x1F", "0o7", "10.0.0.0/33", "::/129", "In", "NotIn", "Exists",
          "matchLabels:", "matchExpressions:", "podSelector:", "ipBlock:", "ports:", "port:",
          "kind: Networkpolicy", "kind: CiliumNetworkPolicy", "apiVersion: cilium.io/v2",
          "replicas: 99999999", "[" * 300, "]" * 300]


@st.composite
def mutated(draw, text: str) -> str:
    """``text`` with a few tokens or random characters inserted, deleted or swapped."""
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        op = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.one_of(st.sampled_from(TOKENS), st.text(max_size=6)))
        if op == "insert":
            text = text[:at] + piece + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 40)):]
        else:
            text = text[:at] + piece + text[at + len(piece):]
    return text


def no_crash(result) -> None:
    assert result.exit_code in (0, 1, 2), (result.exit_code, result.output, result.exception)
    assert "internal error" not in result.stderr, result.stderr
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


FAST = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SLOW = settings(max_examples=600, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def check_manifests(tmp_path: Path, text: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8", errors="surrogatepass")
    good = DEMO / "payments.yaml"
    result = runner.invoke(app, ["list", str(bad), str(good), str(DEMO / "policies-payments.yaml")])
    no_crash(result)
    assert "payments/gateway[Deployment]" in result.stdout  # the valid file is still analysed


@FAST
@given(text=mutated(SHOP))
def test_mutated_manifests_never_crash_and_the_valid_file_is_still_analysed(tmp_path, text):
    check_manifests(tmp_path, text)


@pytest.mark.slow
@SLOW
@given(text=mutated(SHOP))
def test_mutated_manifests_never_crash_many(tmp_path, text):
    check_manifests(tmp_path, text)


def check_assertions(tmp_path: Path, text: str) -> None:
    file = tmp_path / "kreach.yaml"
    file.write_text(text.replace("manifests: [.]", f"manifests: [{DEMO}]"), encoding="utf-8",
                    errors="surrogatepass")
    no_crash(runner.invoke(app, ["check", str(file), "--timeout", "2"]))


@FAST
@given(text=mutated(ASSERTIONS))
def test_mutated_assertion_files_never_crash(tmp_path, text):
    check_assertions(tmp_path, text)


@pytest.mark.slow
@SLOW
@given(text=mutated(ASSERTIONS))
def test_mutated_assertion_files_never_crash_many(tmp_path, text):
    check_assertions(tmp_path, text)


ENDPOINT_PARTS = ["shop", "web", "/", "pod", ":", "=", ",", "[", "]", "Deployment", "*", "new",
                  "internet", "10.0.0.0/8", "::1", "-", "!", "in", "notin", "(", ")", " ", "\n",
                  "app", "ns", "payments", "ledger", "0.0.0.0/0", "\u202e", "\x00"]
ENDPOINTS = st.one_of(st.lists(st.sampled_from(ENDPOINT_PARTS), max_size=6).map("".join),
                      st.text(max_size=12))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(src=ENDPOINTS, dst=ENDPOINTS)
def test_arbitrary_endpoint_strings_never_crash(src, dst):
    no_crash(runner.invoke(app, ["can", src, dst, str(DEMO), "--timeout", "2"]))
    no_crash(runner.invoke(app, ["who-can-reach", dst, str(DEMO), "--timeout", "2"]))


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(src=ENDPOINTS, dst=ENDPOINTS)
def test_arbitrary_endpoint_strings_never_crash_many(src, dst):
    no_crash(runner.invoke(app, ["can", src, dst, str(DEMO), "--timeout", "2"]))


# --- the fast node builder reads what yaml.safe_load reads (issue 8 item 6) ------------------

SCALAR_TEXTS = ["=", "~", "null", "Null", "yes", "No", "on", "OFF", "y", "0o17", "0x1F", "1_000",
                "+1", "-0", "0", "007", "1:20", "190:20:30", ".inf", "-.Inf", ".NaN", "1e3", "3.",
                "6.8523015e+5", "!!str 1", "!!int '7'", "!!float 1", "!!bool true", "'quoted'",
                '"esc\\tape"', "a b", "[1, 2]", "{a: 1}", "[]", "{}", "!!null ''", "2001-12-14",
                "!!binary aGVsbG8=", "!!set {a, b}", "!!omap [{a: 1}]", "!custom x", "!!int abc",
                "!!seq {a: 1}", "!!map [a]", "- =", ">-\n    folded", "|\n    literal"]


def normal(value):
    """safe_load's data with what kreach reads differently by design made comparable: NaN
    (never equal to itself)."""
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, dict):
        return {normal(k): normal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normal(v) for v in value]
    return value


def has_dates(value) -> bool:
    if isinstance(value, (date, datetime)):
        return True
    if isinstance(value, dict):
        return any(has_dates(k) or has_dates(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_dates(v) for v in value)
    return False


@st.composite
def yaml_documents(draw) -> str:
    keys = draw(st.lists(st.sampled_from(["a", "b", "c", "=", "1", "true", "null"]), min_size=1,
                         max_size=4))
    lines = []
    for k in keys:
        value = draw(st.one_of(st.sampled_from(SCALAR_TEXTS),
                               st.text(alphabet="ab01.:-+_eE xyn", max_size=6)))
        if value.startswith("- ") or "\n" in value:
            lines.append(f"{k}:\n  {value}" if value.startswith("- ") else f"{k}: {value}")
        else:
            lines.append(f"{k}: {value}")
    if draw(st.booleans()):
        lines.append("anchored: &x {p: 1, q: [2, 3]}\nuse: *x")
    return "\n".join(lines) + "\n"


def agree(text: str) -> None:
    try:
        expected = yaml.safe_load(text)
        failed = None
    except Exception as e:  # noqa: BLE001 - safe_load also raises ValueError (!!int abc)
        expected, failed = None, e
    try:
        got = construct(yaml.compose(text, Loader=_Loader))
    except (yaml.YAMLError, DuplicateKey, LimitExceeded) as e:
        # kreach is stricter than safe_load only about duplicate keys (YAML forbids them) and
        # its resource limits (an alias bomb safe_load shares, every later stage would expand)
        assert failed is not None or isinstance(e, (DuplicateKey, LimitExceeded)), (text, e)
        return
    if failed is not None:
        # the one thing kreach reads that safe_load does not: YAML 1.1's "=" value key
        assert "tag:yaml.org,2002:value" in str(failed), (text, failed)
        return
    if has_dates(expected):
        return  # timestamps stay strings in kreach, as Kubernetes reads them
    assert normal(got) == normal(expected), text


@settings(max_examples=150, deadline=None)
@given(yaml_documents())
def test_the_node_builder_reads_what_safe_load_reads(text):
    agree(text)


@pytest.mark.slow
@settings(max_examples=3000, deadline=None)
@given(yaml_documents())
def test_the_node_builder_reads_what_safe_load_reads_many(text):
    agree(text)


def test_the_builder_agrees_on_every_demo_and_spec_manifest():
    files = sorted(ROOT.glob("fixtures/**/*.yaml")) + sorted(
        p for p in ROOT.glob("tests/data/**/*.yaml") if "hardening" not in str(p))
    for f in files:
        for chunk in f.read_text(errors="replace").split("\n---"):
            agree(chunk)


# --- determinism ---------------------------------------------------------------------------------

def kreach(*args: str, seed: str) -> bytes:
    out = subprocess.run([sys.executable, "-m", "analyzer", *args], cwd=ROOT, capture_output=True,
                         timeout=120, env={**os.environ, "PYTHONHASHSEED": seed})
    return out.stdout + out.stderr


def test_output_is_the_same_for_any_hash_seed_and_any_order_of_paths(tmp_path):
    files = sorted(str(p) for p in DEMO.glob("*.yaml") if p.name != "kreach.yaml")
    (tmp_path / "broken.yaml").write_text("kind: Networkpolicy\napiVersion: v1\nmetadata: {name: x}\n"
                                          "---\nx: !!int [1]\n")
    args = ["list", "--format", "json", "--level", "pod"]
    first = kreach(*args, *files, str(tmp_path), seed="0")
    assert kreach(*args, *files, str(tmp_path), seed="12345") == first
    assert kreach(*args, str(tmp_path), *reversed(files), seed="777") == first
