"""Loading (analyzer.inputs.loading): every way manifests arrive, and every way they can be unreadable.

Each case states which objects are found, with the line each starts on, and which diagnostics
(code and exact line) are reported. Unreadable input never raises: it becomes a diagnostic, and
the rest of the input is still loaded.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.diagnostics import Severity
from analyzer.inputs.loading import _only_directives, load_paths, split_documents
from analyzer.source import STDIN


def write(path: Path, text: str | bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return str(path)


def found(result) -> list[tuple[str, str, int]]:
    """(kind, name, line) of every object loaded."""
    return [(m.kind, m.name, m.source.line) for m in result.manifests]


def codes(result) -> list[tuple[str, int | None]]:
    """(code, line) of every diagnostic."""
    return [(d.code, d.line) for d in result.diagnostics]


POD = "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\n"


# --- the ways manifests arrive --------------------------------------------------------------------

def test_multi_document_yaml_keeps_each_documents_line_and_index(tmp_path):
    f = write(tmp_path / "m.yaml", "---\n" + POD.format(name="a") + "---\n\n" + POD.format(name="b")
              + "...\n---\n" + POD.format(name="c"))
    r = load_paths([f])
    assert found(r) == [("Pod", "a", 2), ("Pod", "b", 7), ("Pod", "c", 12)]
    assert [m.source.doc for m in r.manifests] == [0, 1, 2]
    assert r.diagnostics == ()


def test_crlf_line_endings_load_like_lf(tmp_path):
    text = (POD.format(name="a") + "---\n" + POD.format(name="b")).replace("\n", "\r\n")
    r = load_paths([write(tmp_path / "crlf.yaml", text.encode())])
    assert found(r) == [("Pod", "a", 1), ("Pod", "b", 5)]
    assert r.diagnostics == ()


def test_kind_list_yields_its_items_at_their_own_lines(tmp_path):
    f = write(tmp_path / "list.yaml", """\
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Namespace
  metadata: {name: shop}
- apiVersion: v1
  kind: Pod
  metadata: {name: web, namespace: shop}
""")
    r = load_paths([f])
    assert found(r) == [("Namespace", "shop", 4), ("Pod", "web", 7)]
    assert r.manifests[1].namespace == "shop"
    assert r.diagnostics == ()


def test_typed_list_items_without_kind_take_the_lists_item_kind(tmp_path):
    f = write(tmp_path / "pods.yaml", """\
# kubectl get pods -o yaml
---
# nothing but a comment
---
apiVersion: v1
kind: PodList
items:
- metadata: {name: p1}
- metadata:
    name: p2
""")
    r = load_paths([f])
    assert found(r) == [("Pod", "p1", 8), ("Pod", "p2", 9)]
    assert {m.api_version for m in r.manifests} == {"v1"}
    assert r.diagnostics == ()  # the comments-only documents are silently skipped


def test_json_files_and_json_lists(tmp_path):
    single = write(tmp_path / "pod.json", '{"apiVersion": "v1",\n "kind": "Pod",\n "metadata": {"name": "j"}}\n')
    listed = write(tmp_path / "list.json", '{"apiVersion": "v1", "kind": "List", "items": [\n'
                   '  {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j1"}},\n'
                   '  {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}]}\n')
    r = load_paths([single, listed])
    assert found(r) == [("Pod", "j", 1), ("Pod", "j1", 2), ("Namespace", "n", 3)]
    assert r.diagnostics == ()


def test_stdin_yaml_and_json(tmp_path):
    r = load_paths(["-"], stdin_text=POD.format(name="a") + "---\n" + POD.format(name="b"))
    assert found(r) == [("Pod", "a", 1), ("Pod", "b", 5)]
    assert {m.source.file for m in r.manifests} == {STDIN}
    r = load_paths(["-"], stdin_text='{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "j"}}')
    assert found(r) == [("Pod", "j", 1)]


def test_directories_are_read_recursively_in_sorted_order_manifest_suffixes_only(tmp_path):
    write(tmp_path / "d" / "b.yaml", POD.format(name="b"))
    write(tmp_path / "d" / "a" / "x.yml", POD.format(name="x"))
    write(tmp_path / "d" / "a" / "y.json", '{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "y"}}')
    write(tmp_path / "d" / "a" / "z.YAML", POD.format(name="z"))
    write(tmp_path / "d" / "notes.txt", POD.format(name="txt"))
    write(tmp_path / "d" / "chart.tpl", POD.format(name="tpl"))
    write(tmp_path / "d" / "yaml", POD.format(name="nosuffix"))
    r = load_paths([str(tmp_path / "d")])
    assert [m.name for m in r.manifests] == ["b", "x", "y", "z"]  # files of a folder before subfolders
    assert r.files_read == 4
    assert r.diagnostics == ()


def test_a_file_named_explicitly_is_read_whatever_its_suffix(tmp_path):
    r = load_paths([write(tmp_path / "pods.txt", POD.format(name="a"))])
    assert found(r) == [("Pod", "a", 1)]


# --- unreadable input -----------------------------------------------------------------------------

def test_a_broken_document_in_the_middle_costs_only_itself(tmp_path):
    f = write(tmp_path / "m.yaml", """\
apiVersion: v1
kind: Pod
metadata: {name: a}
---
apiVersion: v1
kind: Pod
metadata:
  name: b: c
---
apiVersion: v1
kind: Pod
metadata: {name: c}
""")
    r = load_paths([f])
    assert found(r) == [("Pod", "a", 1), ("Pod", "c", 10)]
    assert codes(r) == [("KR001", 8)]
    (d,) = r.diagnostics
    assert d.severity is Severity.ERROR and d.source.doc == 1
    assert str(d).startswith(f"{f}:8: error[KR001]: YAML syntax error: mapping values are not allowed")


def test_a_tab_indented_list_is_a_syntax_error_at_the_tab(tmp_path):
    f = write(tmp_path / "tab.yaml", POD.format(name="ok") + "---\napiVersion: v1\nkind: List\nitems:\n"
              "\t- apiVersion: v1\n\t  kind: Pod\n")
    r = load_paths([f])
    assert found(r) == [("Pod", "ok", 1)]
    assert codes(r) == [("KR001", 8)]


def test_an_empty_file_is_a_warning_and_nothing_usable_is_an_error(tmp_path):
    empty = write(tmp_path / "empty.yaml", "")
    blank = write(tmp_path / "blank.yaml", "\n  \n")
    r = load_paths([empty, blank])
    assert [(d.code, d.file, d.severity) for d in r.diagnostics[:2]] == [
        ("KR006", empty, Severity.WARNING), ("KR006", blank, Severity.WARNING)]
    assert [d.code for d in r.diagnostics[2:]] == ["KR005"]  # and nothing at all was found
    # next to a usable file, an empty one is only a warning
    r = load_paths([empty, write(tmp_path / "ok.yaml", POD.format(name="a"))])
    assert codes(r) == [("KR006", None)] and found(r) == [("Pod", "a", 1)]


def test_a_binary_file_cannot_be_read(tmp_path):
    binary = write(tmp_path / "image.yaml", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    latin1 = write(tmp_path / "latin1.yaml", "metadata: {name: caf\xe9}\n".encode("latin-1"))
    r = load_paths([binary, latin1, write(tmp_path / "ok.yaml", POD.format(name="a"))])
    assert [(d.code, d.file) for d in r.diagnostics] == [("KR002", binary), ("KR002", latin1)]
    assert all(d.severity is Severity.ERROR for d in r.diagnostics)
    assert found(r) == [("Pod", "a", 1)]


def test_a_missing_path_is_reported_and_the_other_paths_still_load(tmp_path):
    missing = str(tmp_path / "nope.yaml")
    r = load_paths([missing, write(tmp_path / "ok.yaml", POD.format(name="a"))])
    assert [(d.code, d.file, d.severity) for d in r.diagnostics] == [("KR007", missing, Severity.ERROR)]
    assert found(r) == [("Pod", "a", 1)]


def test_a_directory_without_manifests(tmp_path):
    (tmp_path / "docs").mkdir()
    write(tmp_path / "docs" / "README.md", "# not a manifest\n")
    r = load_paths([str(tmp_path / "docs")])
    assert [(d.code, d.file, d.severity) for d in r.diagnostics] == [
        ("KR005", str(tmp_path / "docs"), Severity.ERROR)]
    assert r.manifests == () and r.files_read == 0


def test_unknown_kinds_are_skipped_with_an_info(tmp_path):
    f = write(tmp_path / "m.yaml", POD.format(name="a") + "---\napiVersion: v1\nkind: ConfigMap\n"
              "metadata: {name: cfg}\n")
    r = load_paths([f])
    assert found(r) == [("Pod", "a", 1)]
    assert [(d.code, d.line, d.severity) for d in r.diagnostics] == [("KR004", 5, Severity.INFO)]
    assert "ConfigMap" in r.diagnostics[0].message


@pytest.mark.parametrize("document, detail", [
    ("- a\n- b\n", "a sequence, not a mapping (kubectl rejects it)"),
    ("just a string\n", "a string, not a mapping (kubectl rejects it)"),
])
def test_a_document_that_is_not_a_mapping_is_an_error(tmp_path, document, detail):
    f = write(tmp_path / "m.yaml", POD.format(name="a") + "---\n# a comment first\n" + document)
    r = load_paths([f])
    assert found(r) == [("Pod", "a", 1)]
    assert [(d.code, d.line, d.severity) for d in r.diagnostics] == [("KR018", 6, Severity.ERROR)]
    assert detail in r.diagnostics[0].message


@pytest.mark.parametrize("document, detail", [
    ("metadata: {name: x}\n", "no apiVersion and kind"),
    ("apiVersion: v1\nmetadata: {name: x}\n", "no kind"),
])
def test_mappings_that_are_not_objects_are_skipped_with_a_warning(tmp_path, document, detail):
    f = write(tmp_path / "m.yaml", POD.format(name="a") + "---\n# a comment first\n" + document)
    r = load_paths([f])
    assert found(r) == [("Pod", "a", 1)]
    assert [(d.code, d.line, d.severity) for d in r.diagnostics] == [("KR003", 6, Severity.WARNING)]
    assert detail in r.diagnostics[0].message


def test_broken_json_is_located(tmp_path):
    f = write(tmp_path / "bad.json", '{"apiVersion": "v1",\n "kind": "Pod",,\n}')
    r = load_paths([f, write(tmp_path / "ok.yaml", POD.format(name="a"))])
    assert codes(r) == [("KR008", 2)]
    assert found(r) == [("Pod", "a", 1)]


def test_a_duplicate_key_is_an_error_not_a_silent_merge(tmp_path):
    """Two documents without '---' between them would merge into one object; YAML forbids the
    duplicate keys that result, and so does kreach (KR009), as kubectl does."""
    from analyzer.inputs.loading import load_paths

    f = tmp_path / "merged.yaml"
    f.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"
                 "apiVersion: v1\nkind: Namespace\nmetadata: {name: b}\n")
    result = load_paths([str(f)])
    assert [(d.code, d.line) for d in result.diagnostics if d.code == "KR009"] == [("KR009", 4)]
    assert result.manifests == ()


def test_a_duplicate_key_in_json_is_an_error_too(tmp_path):
    from analyzer.inputs.loading import load_paths

    f = tmp_path / "dup.json"
    f.write_text('{"apiVersion": "v1", "kind": "Namespace", "kind": "Pod", "metadata": {"name": "a"}}')
    result = load_paths([str(f)])
    assert "KR009" in [d.code for d in result.diagnostics]
    assert result.manifests == ()


def test_lines_inside_a_kind_list_point_at_the_item_and_its_fields(tmp_path):
    """What `kubectl get -o yaml` prints: diagnostics and rule references must name the item's
    own lines, not the List's first line."""
    from analyzer.analysis import analyze
    from analyzer.writers.json_writer import document

    f = tmp_path / "list.yaml"
    f.write_text("""apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: a, namespace: x, labels: {app: a}}
  spec: {containers: [{name: c, image: i}]}
- apiVersion: networking.k8s.io/v1
  kind: NetworkPolicy
  metadata: {name: p, namespace: x}
  spec:
    podSelector: {}
    ingress:
    - from:
      - ipBlock:
          cidr: 10.0.0.0/8
          except:
          - 11.0.0.0/16
    - from:
      - podSelector: {}
""")
    analysis = analyze([str(f)])
    assert [(d.code, d.line) for d in analysis.diagnostics if d.code == "KR111"] == [("KR111", 18)]
    f.write_text(f.read_text().replace("11.0.0.0/16", "10.1.0.0/16"))
    doc = document(analyze([str(f)]))
    lines = {r["line"] for c in doc["connections"] for r in c["allowed_by"]["ingress"] if r["policy"]}
    assert lines == {14}  # the ipBlock rule; the second rule has no other pod to admit


def test_a_leading_zero_integer_is_octal_as_yaml_1_1_and_kubernetes_read_it():
    import yaml

    from analyzer.inputs.limits import Limits
    from analyzer.inputs.loading import compose_safely, construct

    for text in ("a: 010", "a: 0", "a: 0010", "a: 10", "a: 09"):
        assert construct(compose_safely(text + "\n", Limits()), Limits()) == yaml.safe_load(text), text


_LINES = ["---", "--- ", "---\t", "---x", " ---", "a: 1", "...", "... ", "b: ---", "", "%YAML 1.1",
          "# c", "----", "--- !!map"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(_LINES), max_size=8), st.booleans())
def test_documents_start_at_every_dashes_line_and_nowhere_else(lines, newline):
    """A document starts at a line that is ``---`` alone or followed by a blank: the reference
    is the plain multi-line pattern the fast search replaced."""
    text = "\n".join(lines) + ("\n" if newline else "")
    starts = [0] + [m.start() for m in re.finditer(r"^---(?=[ \t]|$)", text, re.MULTILINE)]
    chunks = split_documents(text)
    expected = len(starts) - (1 if len(starts) > 1 and _only_directives(text[:starts[1]]) else 0)
    assert len(chunks) == expected
    assert [c.first_line for c in chunks] == [
        text.count("\n", 0, s) + 1 for i, s in enumerate(starts)
        if not (i == 0 and len(starts) > 1 and _only_directives(text[:starts[1]]))]
