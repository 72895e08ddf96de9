"""Hostile and broken input (issue 17): every reproducer of the fuzzing round is a located
diagnostic for its own document or file, never a traceback, a hang or unbounded memory, and the
valid input beside it is still analysed.

The reproducers live in tests/data/hardening/ (one file each); the limits are tested at, just
below and just above their values; the CLI's last line of defence turns any unexpected
exception into ``kreach: internal error`` and exit 2, never 1 (which means "no" for ``can``).
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from analyzer.analysis import Options, analyze
from analyzer.cli import app
from analyzer.diagnostics import Severity
from analyzer.inputs.limits import Limits
from analyzer.inputs.loading import _Loader, construct, load_paths

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"
CORPUS = ROOT / "tests" / "data" / "hardening"
runner = CliRunner()


def codes(result) -> list[tuple[str, int | None]]:
    return [(d.code, d.line) for d in result.diagnostics]


def kreach(*args: str, input: bytes | None = None, env: dict | None = None,
           memory_mb: int = 1024) -> subprocess.CompletedProcess:
    """kreach in a child process under a memory cap (prlimit-style), so a regression that
    materialises billions of objects fails the test instead of the machine."""
    def cap() -> None:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return subprocess.run([sys.executable, "-m", "analyzer", *args], cwd=ROOT, input=input,
                          capture_output=True, timeout=120, preexec_fn=cap,
                          env={**os.environ, **(env or {})})


# --- the corpus: each file alone is a located error; beside the demo, the demo still works ---

EXPECTED = {
    "tag-int-on-sequence.yaml": ("KR001", 6, "tag !!int cannot apply to a sequence"),
    "tag-map-on-sequence.yaml": ("KR001", 6, "tag !!map cannot apply to a sequence"),
    "tag-seq-on-mapping.yaml": ("KR001", 6, "tag !!seq cannot apply to a mapping"),
    "tag-bool-on-sequence.yaml": ("KR001", 6, "tag !!bool cannot apply to a sequence"),
    "tag-int-on-text.yaml": ("KR001", 6, "'abc' is not an integer"),
    "non-utf8.yaml": ("KR002", 3, "not UTF-8: byte 0xe9 on line 3"),
    "alias-bomb.yaml": ("KR010", 12, "alias expansions per document"),
    "aliases-n4.yaml": ("KR010", 7, "alias expansions per document"),
    "json-1000-deep.json": ("KR010", 1, "levels of nesting"),
    "deep-list-in-typed-field.yaml": ("KR010", 5, "levels of nesting"),
    "null-beside-600-deep-unknown.yaml": ("KR010", 6, "levels of nesting"),
    "kind-wrong-case.yaml": ("KR016", 1, "did you mean NetworkPolicy?"),
    "label-key-trailing-newline.yaml": ("KR117", 5, "invalid label key 'app\\n'"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_reproducer_is_one_located_diagnostic_and_the_valid_input_is_still_analysed(name):
    code, line, text = EXPECTED[name]
    path = str(CORPUS / name)
    result = analyze([path, str(DEMO)], Options(schema=True))
    mine = [d for d in result.diagnostics if d.file == path]
    assert [(d.code, d.line) for d in mine] == [(code, line)]
    assert text in mine[0].message
    alone = analyze([str(DEMO)])
    assert result.objects == alone.objects
    assert result.reachability.cluster.pods == alone.reachability.cluster.pods


def test_every_file_of_the_corpus_is_covered():
    covered = set(EXPECTED) | {"replicas-int32-max.yaml", "kind-with-newline.yaml",
                               "json-surrogate-pair.json", "value-key-enum.yaml"}
    assert {p.name for p in CORPUS.iterdir()} == covered


def test_the_whole_corpus_at_once_through_the_cli_exits_0_with_the_demo_analysed():
    out = kreach("list", str(CORPUS), str(DEMO))
    assert out.returncode == 0, out.stderr
    assert b"shop/web[Deployment] => shop/api[Deployment]" in out.stdout
    assert b"Traceback" not in out.stderr


# --- tags, '=' and what safe_load reads ---------------------------------------------------------

def build(text: str):
    return construct(yaml.compose(text, Loader=_Loader))


@pytest.mark.parametrize("text", [
    "a: !!str [1]", "a: !!float abc", "a: !!bool maybe", "a: !!int {b: 1}", "a: !custom deny",
    "a: !!python/object:os.system ls",
])
def test_an_explicit_tag_that_does_not_fit_its_node_is_a_yaml_error(text):
    with pytest.raises(yaml.YAMLError):
        build(text)


def test_the_value_key_is_the_string_it_looks_like():
    # YAML 1.1's "=" type has no constructor in PyYAML; Kubernetes and YAML 1.2 read a string
    assert build("enum:\n- =\n- '!='\n- =~\n") == {"enum": ["=", "!=", "=~"]}
    result = load_paths([str(CORPUS / "value-key-enum.yaml")])
    assert codes(result) == []
    assert result.manifests[0].body["ops"] == ["=", "!=", "=~"]


@pytest.mark.parametrize("text", [
    "a: 0o17\nb: 0x1f\nc: 1_000\nd: +12\ne: 1:30\nf: -0",
    "a: .inf\nb: -.Inf\nc: 1e3\nd: 3.",
    "a: yes\nb: Off\nc: ~\nd: null\ne: ''",
    "a: !!str 12\nb: !!int '7'\nc: !!float 1\nd: !!bool true",
    "base: &b {x: 1, y: [1, 2]}\nuse: *b\nmerged: {<<: *b, z: 3}",
    "? [a, b]\n: complex-keys-are-not-hashable",
])
def test_the_fast_builder_reads_what_safe_load_reads(text):
    try:
        expected = yaml.safe_load(text)
    except yaml.YAMLError:
        with pytest.raises(yaml.YAMLError):
            build(text)
        return
    assert build(text) == expected


# --- stdin ---------------------------------------------------------------------------------

def test_a_non_utf8_byte_on_stdin_is_a_located_error_and_the_directory_beside_it_is_analysed():
    out = kreach("list", "-", str(DEMO), input=b"apiVersion: v1\nkind: Namespace\nmetadata: {name: caf\xe9}\n")
    assert out.returncode == 0
    assert b"<stdin>:3: error[KR002]: cannot read file: not UTF-8: byte 0xe9 on line 3" in out.stderr
    assert b"shop/web[Deployment]" in out.stdout


def test_stdin_closed_is_reported_not_a_crash():
    out = subprocess.run([sys.executable, "-m", "analyzer", "list", "-", str(DEMO)], cwd=ROOT,
                         capture_output=True, stdin=subprocess.DEVNULL, timeout=60)
    assert out.returncode == 0 and b"Traceback" not in out.stderr
    closed = subprocess.run(f"{sys.executable} -m analyzer list - {DEMO} <&-", shell=True,
                            cwd=ROOT, capture_output=True, timeout=60)
    assert closed.returncode == 0
    assert b"<stdin>: error[KR002]: cannot read file: standard input is closed" in closed.stderr


# --- limits: at, just below and just above ------------------------------------------------

NS = "apiVersion: v1\nkind: Namespace\nmetadata: {{name: n{i}}}\n"


def names(result) -> list[str]:
    return [m.name for m in result.manifests]


def test_bytes_per_file_at_below_and_above_the_limit(tmp_path):
    text = NS.format(i=0)
    f = tmp_path / "m.yaml"
    f.write_text(text)
    size = len(text.encode())
    for limit, loaded in ((size + 1, True), (size, True), (size - 1, False)):
        result = load_paths([str(f)], limits=Limits(max_file_bytes=limit))
        assert bool(result.manifests) is loaded
        if not loaded:
            [d] = [d for d in result.diagnostics if d.code == "KR010"]
            assert f"the limit of {limit:,} bytes per file (KREACH_MAX_FILE_BYTES=N raises it)" \
                in d.message
    stdin = load_paths(["-"], stdin_text=text.encode(), limits=Limits(max_file_bytes=size - 1))
    assert [d.code for d in stdin.diagnostics][:1] == ["KR010"]


def test_documents_per_file_at_below_and_above_the_limit(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text("---\n".join(NS.format(i=i) for i in range(5)))
    for limit, count in ((6, 5), (5, 5), (4, 4)):
        result = load_paths([str(f)], limits=Limits(max_documents=limit))
        assert len(result.manifests) == count
        over = [d for d in result.diagnostics if d.code == "KR010"]
        assert bool(over) is (count < 5)
    [d] = over
    assert d.line == 16 and "everything from document 5 on" in d.message
    assert d.message.startswith("the file (5 documents) exceeds the limit of 4 documents per file")
    assert "KREACH_MAX_DOCUMENTS" in d.message


def test_alias_expansions_at_below_and_above_the_limit(tmp_path):
    # *a stands for 1 sequence + 3 scalars = 4 nodes; two aliases expand to 8
    f = tmp_path / "m.yaml"
    f.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\nx: &a [1, 2, 3]\ny: *a\nz: *a\n")
    for limit, loaded in ((9, True), (8, True), (7, False)):
        result = load_paths([str(f)], limits=Limits(max_alias_nodes=limit))
        assert bool(result.manifests) is loaded, limit
    assert "KREACH_MAX_ALIAS_NODES" in result.diagnostics[0].message
    assert result.diagnostics[0].line == 4  # the anchor of what expanded too far


@pytest.mark.parametrize("suffix, nested", [
    (".yaml", lambda d: "x: " + "[" * d + "]" * d),
    (".json", lambda d: '{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}, "x": '
     + "[" * d + "]" * d + "}"),
])
def test_nesting_depth_at_below_and_above_the_limit(tmp_path, suffix, nested):
    f = tmp_path / f"m{suffix}"
    # the root mapping is level 1, x's outermost list level 2
    head = "apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n" if suffix == ".yaml" else ""
    for depth, loaded in ((8, True), (9, True), (10, False)):
        f.write_text(head + nested(depth))
        result = load_paths([str(f)], limits=Limits(max_depth=10))
        assert bool(result.manifests) is loaded, depth
    assert "the limit of 10 levels of nesting (KREACH_MAX_DEPTH=N raises it)" in \
        result.diagnostics[0].message


def test_a_document_deep_enough_to_overflow_the_c_parser_is_refused_before_parsing(tmp_path):
    f = tmp_path / "deep.yaml"
    f.write_text("x: " + "[" * 50_000 + "]" * 50_000 + "\n---\n" + NS.format(i=1))
    out = kreach("list", str(f), "--level", "pod")
    assert out.returncode == 0 or out.returncode == 2, out.stderr
    assert b"KR010" in out.stderr and b"levels of nesting" in out.stderr
    block = tmp_path / "block.yaml"
    block.write_text("- " * 30_000 + "x\n")
    assert b"KR010" in kreach("list", str(block)).stderr


def test_the_limits_come_from_the_environment_and_cannot_be_switched_off():
    env = {"KREACH_MAX_DEPTH": "50", "KREACH_MAX_DOCUMENTS": "1_000", "KREACH_MAX_FILE_BYTES": "0",
           "KREACH_MAX_ALIAS_NODES": "lots"}
    limits = Limits.from_env(env)
    assert (limits.max_depth, limits.max_documents) == (50, 1000)
    assert limits.max_file_bytes == Limits().max_file_bytes  # 0 and junk keep the default
    assert limits.max_alias_nodes == Limits().max_alias_nodes
    assert Limits.from_env({"KREACH_MAX_DEPTH": "100000"}).max_depth == 900  # the stack's bound


def test_two_billion_replicas_are_a_hundred_pods_and_a_note():
    out = kreach("list", str(CORPUS / "replicas-int32-max.yaml"), "--level", "pod",
                 memory_mb=700)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count(b"=> a/many-") == 100 * 100 + 100  # each pod to each, and from outside
    assert b"info[KR204]: Deployment a/many asks for 2,147,483,647 replicas; 100 of them are " \
           b"modelled" in out.stderr
    env = kreach("list", str(CORPUS / "replicas-int32-max.yaml"), "--level", "pod",
                 env={"KREACH_MAX_PODS_PER_WORKLOAD": "3"})
    assert env.stdout.count(b"=> a/many-") == 3 * 3 + 3


def test_two_replicas_below_the_limit_are_two_pods_and_no_note(tmp_path):
    f = tmp_path / "d.yaml"
    f.write_text((CORPUS / "replicas-int32-max.yaml").read_text().replace("2147483647", "2"))
    result = analyze([str(f)], Options(limits=Limits(max_pods_per_workload=2)))
    assert len(result.cluster.pods) == 2 and "KR204" not in [d.code for d in result.diagnostics]
    result = analyze([str(f)], Options(limits=Limits(max_pods_per_workload=1)))
    assert len(result.cluster.pods) == 1 and "KR204" in [d.code for d in result.diagnostics]


# --- what a walk meets ---------------------------------------------------------------------

def test_a_fifo_and_a_link_to_dev_zero_in_a_walked_directory_are_skipped_not_read(tmp_path):
    (tmp_path / "ok.yaml").write_text(NS.format(i=1))
    os.mkfifo(tmp_path / "fifo.yaml")
    os.symlink("/dev/zero", tmp_path / "zero.yaml")
    out = kreach("list", str(tmp_path))
    assert out.returncode == 0
    err = out.stderr.decode()
    assert f"{tmp_path}/fifo.yaml: warning[KR011]: not a regular file (a FIFO); skipped" in err
    assert f"{tmp_path}/zero.yaml: warning[KR011]: not a regular file (a device, reached " \
           f"through a symbolic link to /dev/zero); skipped" in err


def test_dev_zero_named_explicitly_is_refused_after_one_read():
    out = kreach("list", "/dev/zero", str(DEMO))
    assert out.returncode == 0
    assert b"/dev/zero: error[KR002]: cannot read file: binary file" in out.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root can list any directory")
def test_an_unlistable_subdirectory_is_reported(tmp_path):
    (tmp_path / "ok.yaml").write_text(NS.format(i=1))
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        result = load_paths([str(tmp_path)])
    finally:
        locked.chmod(0o755)
    assert ("KR012", None) in codes(result)


def test_an_unlistable_subdirectory_is_reported_even_as_root(tmp_path, monkeypatch):
    (tmp_path / "ok.yaml").write_text(NS.format(i=1))
    (tmp_path / "locked").mkdir()
    real_scandir = os.scandir

    def scandir(path):
        if str(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    result = load_paths([str(tmp_path)])
    assert names(result) == ["n1"]
    [d] = result.diagnostics
    assert d.code == "KR012" and d.severity is Severity.ERROR
    assert d.message == f"cannot list directory: {tmp_path}/locked: Permission denied; its files are skipped"


def test_a_symlink_loop_is_called_a_loop_not_missing(tmp_path):
    os.symlink(tmp_path / "b.yaml", tmp_path / "a.yaml")
    os.symlink(tmp_path / "a.yaml", tmp_path / "b.yaml")
    os.symlink(tmp_path / "nowhere", tmp_path / "dangling.yaml")
    (tmp_path / "ok.yaml").write_text(NS.format(i=1))
    result = load_paths([str(tmp_path)])
    messages = [d.message for d in result.diagnostics]
    assert f"cannot follow symbolic link: {tmp_path}/a.yaml: symbolic link loop" in messages
    assert (f"cannot follow symbolic link: {tmp_path}/dangling.yaml points to "
            f"'{tmp_path}/nowhere', which does not exist") in messages
    explicit = load_paths([str(tmp_path / "a.yaml")])
    assert "symbolic link loop" in explicit.diagnostics[0].message


# --- diagnostics that cannot lie -------------------------------------------------------------

def test_a_kind_holding_a_newline_cannot_forge_a_diagnostic_line():
    out = kreach("list", str(CORPUS / "kind-with-newline.yaml"), str(DEMO))
    lines = out.stderr.decode().splitlines()
    assert not any(line.startswith("x.yaml:1: error[KR999]") for line in lines)
    assert any("Thing\\nx.yaml:1:" in line for line in lines)
    verbose = kreach("list", "-v", str(CORPUS / "kind-with-newline.yaml"), str(DEMO))
    assert "Thing\\nx.yaml:1: error[KR999]: forged objects are not modelled" in verbose.stderr.decode()


def test_escaped_surrogate_pairs_in_json_keep_every_line_number():
    result = load_paths([str(CORPUS / "json-surrogate-pair.json")])
    assert result.manifests[0].body["metadata"]["annotations"]["smile"] == "\U0001f642"
    checked = analyze([str(CORPUS / "json-surrogate-pair.json")])
    assert codes(checked) == [("KR102", 9)]


# --- kinds ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, suggestion", [
    ("Networkpolicy", "NetworkPolicy"), ("networkpolicy", "NetworkPolicy"),
    ("NetworkPolcy", "NetworkPolicy"), ("Deployments", "Deployment"), ("statefulset", "StatefulSet"),
])
def test_a_kind_a_letter_or_case_away_from_a_modelled_one_is_a_warning_with_a_suggestion(tmp_path, kind, suggestion):
    f = tmp_path / "m.yaml"
    f.write_text(f"apiVersion: v1\nkind: {kind}\nmetadata: {{name: x}}\n")
    [d] = [d for d in load_paths([str(f)]).diagnostics if d.code not in ("KR005", "KR052")]
    assert (d.code, d.severity) == ("KR016", Severity.WARNING)
    assert f"did you mean {suggestion}?" in d.message


@pytest.mark.parametrize("kind", ["ConfigMap", "ServiceMonitor", "PodDisruptionBudget", "Secret",
                                  "ServiceAccount", "Endpoints", "NetworkAttachmentDefinition"])
def test_ordinary_unmodelled_kinds_get_no_suggestion(tmp_path, kind):
    f = tmp_path / "m.yaml"
    f.write_text(f"apiVersion: v1\nkind: {kind}\nmetadata: {{name: x}}\n")
    [d] = [d for d in load_paths([str(f)]).diagnostics if d.code not in ("KR005", "KR052")]
    assert d.code == "KR004"


# --- the CLI's last line of defence ------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["list", str(DEMO)], ["can", "shop/web", "shop/api", str(DEMO)],
    ["check", str(DEMO / "kreach.yaml")],
])
def test_an_unexpected_exception_is_an_internal_error_with_exit_2_never_1(monkeypatch, argv):
    import analyzer.analysis

    def broken(*args, **kwargs):
        raise KeyError("boom\nforged line")

    monkeypatch.setattr(analyzer.analysis, "analyze", broken)
    monkeypatch.setattr("analyzer.assertions.runner.analyze", broken)
    monkeypatch.delenv("KREACH_DEBUG", raising=False)
    result = runner.invoke(app, argv)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines == ["kreach: internal error: KeyError: 'boom\\nforged line' (this is a bug in "
                     "kreach; KREACH_DEBUG=1 shows where)"]
    monkeypatch.setenv("KREACH_DEBUG", "1")
    debug = runner.invoke(app, argv)
    assert debug.exit_code == 2 and "Traceback (most recent call last)" in debug.stderr


@pytest.mark.parametrize("command", [["can", "shop/web", "shop/api", str(DEMO)],
                                     ["who-can-reach", "shop/db", str(DEMO)],
                                     ["check", str(DEMO / "kreach.yaml")]])
@pytest.mark.parametrize("value", ["inf", "nan", "-1", "0"])
def test_a_timeout_that_is_not_a_finite_positive_number_is_a_usage_error(command, value):
    result = runner.invoke(app, [*command, "--timeout", value])
    assert result.exit_code == 2
    assert "must be a finite number of seconds above 0" in result.output + result.stderr


# --- list streams its output -----------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["txt", "json", "csv"])
def test_list_output_is_written_piece_by_piece_and_equals_the_whole(fmt):
    import types

    from analyzer.writers import render, stream

    analysis = analyze([str(DEMO)], Options(level="pod"))
    chunks = stream(analysis, fmt)
    assert isinstance(chunks, types.GeneratorType)  # made as it is written, never held whole
    pieces = list(chunks)
    assert len(pieces) > 3 or fmt == "csv"
    assert "".join(pieces) == render(analysis, fmt)
