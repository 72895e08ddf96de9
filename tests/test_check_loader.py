"""The assertion-file loader: every problem is a located diagnostic, never ignored."""

from __future__ import annotations

import os
import textwrap

import pytest

from analyzer.assertions import find_assertion_file, parse_assertions
from analyzer.assertions.model import (Exposure, Isolated, MaxReachable, OnlyFrom, OnlyTo,
                                       PortFilter, Reach)


def load(text: str):
    return parse_assertions(textwrap.dedent(text), "dir/kreach.yaml")


def problems(text: str) -> list[tuple[str, int, str]]:
    return [(d.code, d.line, d.message) for d in load(text).diagnostics]


def test_every_kind_is_read_with_the_line_of_each_key():
    loaded = load("""\
        manifests: [../deploy, more.yaml]
        assertions:
          - name: r
            from: internet
            to: shop/web
            port: 8080
            protocol: TCP
            expect: allow
          - name: of
            to: shop/db
            only-from: [shop/api, 10.0.0.0/8]
            ports: [5432, "9000-9100"]
          - name: ot
            from: shop/api
            only-to: shop/db
          - name: iso
            isolated: {namespace: shop}
          - name: exp
            exposure:
              from: internet
              allow-only: [shop/web, {to: shop/api, port: 9000, protocol: TCP}]
          - name: max
            max-reachable: {from: shop/web, count: 2}
        """)
    assert loaded.diagnostics == ()
    f = loaded.file
    assert f.manifests == ("deploy", "dir/more.yaml")
    checks = [a.check for a in f.assertions]
    assert checks[0] == Reach("internet", "shop/web", 8080, "TCP", True)
    assert checks[1] == OnlyFrom("shop/db", ("shop/api", "10.0.0.0/8"),
                                 PortFilter(((5432, 5432), (9000, 9100))))
    assert checks[2] == OnlyTo("shop/api", ("shop/db",))
    assert checks[3] == Isolated("shop", "both")
    assert isinstance(checks[4], Exposure) and checks[4].allow_only[1].filter == \
        PortFilter(((9000, 9000),), "TCP")
    assert checks[5] == MaxReachable("shop/web", 2)
    r = f.assertions[0]
    assert (r.source.line, r.line_of("to"), r.line_of("expect")) == (3, 5, 8)
    assert f.assertions[1].line_of("only-from.1") == 11


def test_a_typo_in_a_key_is_reported_at_its_line_with_a_suggestion():
    found = problems("""\
        manifests: .
        assertions:
          - name: db
            to: shop/db
            only_from: [shop/api]
        """)
    assert ("KR303", 5, "assertion 'db': unknown key 'only_from'; did you mean 'only-from'?") in found
    assert [c for c, _, _ in found] == ["KR303", "KR308"]


def test_a_key_of_another_kind_is_an_error():
    assert problems("""\
        manifests: .
        assertions:
          - name: x
            from: shop/web
            to: shop/db
            expect: deny
            only-to: [shop/api]
        """)[0][:2] == ("KR303", 7)


def test_bad_values_are_located():
    found = problems("""\
        manifests: .
        assertions:
          - name: a
            from: "shop:app=web,"
            to: shop/db
            expect: maybe
          - name: b
            from: shop/web
            to: shop/db
            protocol: tcp
            port: 70000
            expect: deny
          - name: c
            isolated: {namespace: shop, direction: sideways}
          - name: d
            max-reachable: {from: "new:dev", count: -1}
        """)
    codes = [(c, line) for c, line, _ in found]
    assert ("KR306", 4) in codes  # endpoint does not parse
    assert ("KR305", 6) in codes  # expect
    assert ("KR305", 10) in codes and "write 'TCP'" in found[codes.index(("KR305", 10))][2]
    assert ("KR305", 11) in codes  # port out of range
    assert ("KR305", 14) in codes  # direction
    assert ("KR314", 16) in codes  # a new: pod cannot be counted


def test_missing_keys_duplicate_names_and_empty_files():
    found = problems("""\
        assertions:
          - from: shop/web
            to: shop/db
            expect: deny
          - name: same
            isolated: {namespace: a}
          - name: same
            isolated: {namespace: b}
        """)
    assert ("KR304", 1) in [(c, line) for c, line, _ in found]  # manifests
    assert ("KR304", 2) in [(c, line) for c, line, _ in found]  # name
    assert any(c == "KR309" and line == 7 and "line 5" in m for c, line, m in found)
    assert load("manifests: .\nassertions: []\n").diagnostics[0].code == "KR312"
    assert load("manifests: [a\n").diagnostics[0].code == "KR302"
    assert load("manifests: .\nasertions: []\n").diagnostics[0].message.endswith(
        "did you mean 'assertions'?")


def test_an_assertion_with_a_problem_is_not_run_half_read():
    loaded = load("""\
        manifests: .
        assertions:
          - name: iso
            isolated: {namespace: shop, directon: ingress}
        """)
    assert loaded.file.assertions == ()
    assert loaded.diagnostics[0].code == "KR303"


def test_the_file_is_found_in_pyproject_or_by_name_going_up(tmp_path, monkeypatch):
    (tmp_path / ".git").mkdir()
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    monkeypatch.chdir(sub)
    assert find_assertion_file().path is None
    assert find_assertion_file().diagnostics[0].code == "KR310"
    (tmp_path / "kreach.yaml").write_text("manifests: .\nassertions: []\n")
    assert os.path.samefile(find_assertion_file().path, tmp_path / "kreach.yaml")
    (tmp_path / "a" / "pyproject.toml").write_text('[tool.kreach]\nassertions = "ci/checks.yaml"\n')
    assert find_assertion_file().diagnostics[0].code == "KR310"  # it names a missing file
    (tmp_path / "a" / "ci").mkdir()
    (tmp_path / "a" / "ci" / "checks.yaml").write_text("manifests: .\nassertions: []\n")
    assert os.path.samefile(find_assertion_file().path, tmp_path / "a" / "ci" / "checks.yaml")
    (tmp_path / "a" / "pyproject.toml").write_text('[tool.kreach]\nasertions = "x"\n')
    assert find_assertion_file().diagnostics[0].code == "KR311"


@pytest.mark.parametrize("text", ["", "- a\n", "manifests: [1]\nassertions: []\n"])
def test_a_file_that_is_not_an_assertion_file_is_an_error(text):
    loaded = load(text)
    assert loaded.file is None and loaded.diagnostics[0].code == "KR305"
