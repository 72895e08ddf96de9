"""The fast block YAML reader (analyzer.inputs.block_yaml) against PyYAML, its reference.

kreach reads every YAML document with ``BlockReader.read`` first and composes it with PyYAML
only when the reader declines (returns None). The contract checked here, on hand-written
examples and on generated documents:

* whenever the reader answers, its answer is exactly what ``construct(compose_safely(text))``
  builds: the same values, of the same Python types (``True`` is not ``1``, ``"1"`` is not
  ``1``), with every mapping's keys in the same order;
* it never answers for a text PyYAML rejects (a YAML error, a duplicate key, a nesting depth
  over the limit): that would silently accept input kreach must report with file and line.

Declining is always allowed by the contract; a few examples also pin down that the common
manifest forms are read fast (otherwise the reader would be correct and useless).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.inputs.limits import LimitExceeded, Limits
from analyzer.inputs.loading import (_BLOCK, DuplicateKey, _only_comments, compose_safely,
                                     construct, split_documents)

_REJECTED = (yaml.YAMLError, DuplicateKey, LimitExceeded)
# examples of each slow property: bounded for CI (the whole suite runs there); the long profile
# (KREACH_HYPOTHESIS_PROFILE=long, as in test_query_agreement.py) runs 20,000-30,000
MANY = 30_000 if os.environ.get("KREACH_HYPOTHESIS_PROFILE") == "long" else 1_500


def pyyaml_reads(text: str, max_depth: int = 200) -> tuple[bool, object]:
    """(True, value) as loading.py builds it with PyYAML, or (False, the error)."""
    limits = Limits(max_depth=max_depth)
    try:
        return True, construct(compose_safely(text, limits), limits)
    except _REJECTED as e:
        return False, e


def same(a: object, b: object) -> bool:
    """Equal values of identical types, mappings with their keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return (len(a) == len(b) and all(same(k, j) for k, j in zip(a, b))
                and all(same(a[k], b[k]) for k in a))
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)  # type: ignore[arg-type]
    return a == b


def check_agrees(text: str, max_depth: int = 200) -> bool:
    """Assert the contract for ``text``; True when the reader answered."""
    fast = _BLOCK.read(text, max_depth)
    if fast is None:
        return False
    ok, want = pyyaml_reads(text, max_depth)
    assert ok, f"the reader accepted {text!r}, which PyYAML rejects: {want}"
    value, flag = fast
    assert flag is True
    assert same(value, want), f"{text!r}: reader {value!r} != PyYAML {want!r}"
    return True


# --- examples: read fast, and exactly as PyYAML reads them ------------------------------------

READ_FAST = [
    "key:\n- a\n- b\n",                      # an indentless sequence
    "- key:\n  - x\n  - y\n",                # an indentless sequence under an item's key
    "a:\n- b: 1\n  c:\n  - d\n- e\n",        # nested sequences of mappings
    "a:\n- b\nc: 1\n",                       # a key after an indentless sequence
    "- a:\n  - b\n  c: 1\n",
    "- a:\n  - b\n- c\n",
    "a:\n  b:\n  - c\n  d: 1\n",
    "a:\n- b:\n  - c\n",
    "a:\nb:\n",                              # empty values are null
    "-\n",                                   # a lone dash is a null item
    "-\n-\n",
    "- \n- a\n",
    "-\n  a: 1\n",                           # an item's mapping on the lines below
    "-\n  - 1\n",
    "a:\n-\n  b: 1\n",
    "a:\n  -\n    - 1\n",
    "- #c\n  a: 1\n",
    "-   a: 1\n    b: 2\n",                  # an item's mapping at a wider indent
    " a: 1\n b: 2\n",                        # a whole document indented
    "# c\na: 1 # c\n# c\nb: # c\n  c: 2\n",  # comments everywhere
    "a:\n# c\n  b: 1\n",
    "a:\n  # c\n  b: 1\n",
    "---\na: 1\n",
    "--- \na: 1\n",
    "# head\n---\na: 1\n",
    "a:   \n  b: 1\n",                       # trailing spaces after a key
    "a: 'b' # c\n",                          # quoted values
    "a: \"yes\"\n",
    "a: ''\n",
    "a: \"\"\n",
    "a: ' '\n",
    "a: \"x: y\"\n",
    "a: 'x # y'\n",
    "a: \"'\"\n",
    "a: '\"'\n",
    "a: \"x\" \n",
    "a: b#c\n",                              # '#' without a space before it is text
    "a: b #c\n",
    "a: b:c\n",
    "a: http://x\n",
    "a: x'y\n",
    "a: -b\n",
    "a: ?b\n",
    "a: :b\n",
    "a: {}\n",
    "a: [] # none\n",
    "a: { }\nb: [ ]\n",
    "\"app.kubernetes.io/name\": web\n'k8s-app': dns\n\"\": 1\n",  # quoted keys
    "- \"k\": v\n  'j': [x]\n",
    "command: [\"/bin/sh\", \"-c\", \"echo a, b # c: d\"]\n",  # one-line flow sequences
    "policyTypes: [Ingress, Egress] # both\n",
    "a: ['x', \"y\"]\nb: [\"a\",\"b\"]\nc: [ 80 , 443 ]\nd: [yes, null, a-b, c.d/e]\n",
    "- [a]\n- []\n",
    "- a:b\n",                               # no space after ':': a scalar, not a key
    "- a :b\n",
    "a: =\n",                                # the YAML 1.1 value key, read as text
    "a: ~\nb: Null\nc: null\nd:\n",          # nulls
    "a: yes\nb: On\nc: off\nd: NO\ne: true\nf: False\n",  # YAML 1.1 booleans
    "a: 0\nb: 12345678901234567890\nc: 7\n",   # integers
    "a: 1e3\nb: 0o17\nc: 2001-12-14\nd: 2001-12-14T21:59:43.10-05:00\n",  # text, timestamps as text
    "a.b/c: 1\na-: 2\na_b: 3\n0o1: 4\n2001-12-14: 5\n",  # odd keys that are still strings
]


@pytest.mark.parametrize("text", READ_FAST)
def test_common_block_forms_are_read_fast_and_exactly_as_pyyaml_reads_them(text):
    assert check_agrees(text), f"the reader declined {text!r}"


# --- examples: PyYAML rejects them, so the reader must decline ----------------------------------

REJECTED_BY_PYYAML = [
    "a: 1\na: 2\n",                          # duplicate keys (KR009)
    "- a: 1\n  a: 2\n",
    "a: 1\nb:\n  - x\nb: 2\n",
    "a:\n  b: 1\n c: 2\n",                   # bad indentation
    "a:\n  - b\n - c\n",
    "a:\n  b:\n  - c\n d: 1\n",
    "- a\n-b\n",
    " a: 1\nb: 2\n",
    "a: b: c\n",                             # mapping values are not allowed here
    "a: 'b'c\n",
    "a: \"b\"c\n",
    "a: - b\n",
    "a: @x\n",
    "a: `x\n",
    "a: []x\n",
    "a: 1\n...\nb: 2\n",
    "a: 1\n---\nb: 2\n",                     # two documents in one text
    "a: 'it''s\n",
    "\"a b\": 1\n\"a b\": 2\n",                # a duplicate quoted key
    "\"a\": 1\na: 2\n",                         # the same key, quoted and plain
    "a: [a]\n  b\n",
    "a: [\"x\"]x\n",
]


@pytest.mark.parametrize("text", REJECTED_BY_PYYAML)
def test_the_reader_declines_every_text_pyyaml_rejects(text):
    ok, _ = pyyaml_reads(text)
    assert not ok, f"PyYAML now reads {text!r}: move it to another list"
    assert _BLOCK.read(text, 200) is None


# --- examples: valid YAML outside the reader's part of it (declined, or read exactly) ---------

OUTSIDE = [
    "\"a\\\"b\": 1\n",                         # quoted keys with escapes
    "'a''b': 1\n",
    "\"a\":1\n",
    "\"a\" : 1\n",
    "a: 'it''s'\n",                          # '' escapes
    "a: \"a\\\"b\"\n",                       # backslash escapes
    "a: \"\\n\"\n",
    "a: b\n  c\n",                           # a plain scalar continued on the next line
    "- x\n  y\n",
    "- a\n  - b\n",                         # also one scalar: "a - b"
    "a: 'b\n  c'\n",
    "a: \"b\n  c\"\n",
    "key: |\n  x\n",                         # block scalars
    "key: >-\n  x\n  y\n",
    "? a\n: b\n",                            # complex keys
    "a: &x 1\nb: *x\n",                      # anchors and aliases
    "base: &b {x: 1}\nc:\n  <<: *b\n",       # merge keys
    "a: !!str 1\n",                          # tags
    "a: {b: 1}\n",                           # flow collections
    "a: [1, 2]\n",
    "a: [a,]\n",                              # flow sequences outside the simple form
    "a: [a, ]\n",
    "a: [a b]\n",
    "a: [\"a\": 1]\n",
    "a: [1.5, 0x1, 010, ~]\n",
    "a: ['it''s']\n",
    "a: [\"a\\\"b\"]\n",
    "a: [a, [b]]\n",
    "a: [a, {b: 1}]\n",
    "a: [-a]\n",
    "a: [a:b]\n",
    "a: [\n  a]\n",
    "- - a\n",
    # other integers (010 is 8 in YAML 1.1), and floats: each on its own, so that one declined
    # value does not hide another
    *(f"a: {v}\n" for v in ("-1", "+1", "010", "0010", "09", "0x1f", "1_000", "0b101", "1:30",
                            "00", "-0", "0.5", ".inf", "-.inf", ".NaN", "1.5e3", "1e+3")),
    *(f"- {v}\n" for v in ("010", "0.5", "0x1f")),
    *(f"a: [{v}]\n" for v in ("010", "0.5", "0x1f", "1_0")),
    "1: a\n",                                # keys that are not strings
    "true: a\n",
    "null: a\n",
    "~: a\n",
    "=: a\n",
    "a:b: 1\n",
    "a: value:\n",
    "a: b :\n",
    "a: ? b\n",
    "a: : b\n",
    "--- #c\na: 1\n",
    "%YAML 1.1\n---\na: 1\n",
    "a: 1\r\nb: 2\r\n",                     # carriage returns
    "a:\tb\n",                               # tabs
    "a: caf\u00e9\n",                        # non-ASCII text
    "\ufeffa: 1\n",
    "# only a comment\n",
    "---\n",
    "plain\n",
    "'quoted'\n",
    "-   a: 1\n  b: 2\n",
    "- a: 1\n   b: 2\n",
    "a: 1\n  # c\n",
    "a: 1\n b\n",                           # one scalar: "1 b"
    "a: {}#x\n",
    "a: [80]#c\n",
]


@pytest.mark.parametrize("text", OUTSIDE)
def test_yaml_outside_plain_block_style_is_declined_or_read_exactly(text):
    check_agrees(text)


@pytest.mark.parametrize("text", ["a: 1\n", "- a\n- b\n", "a:\n  b: 1\n"])
def test_a_document_written_twice_is_read_the_same_both_times(text):
    # the reader remembers what each line says: the second read must not differ
    first, second = _BLOCK.read(text, 200), _BLOCK.read(text, 200)
    assert first is not None and same(first[0], second[0])
    first[0].clear() if isinstance(first[0], (dict, list)) else None
    assert same(_BLOCK.read(text, 200)[0], second[0])  # answers share no mutable state


# --- the nesting depth limit -------------------------------------------------------------------

@pytest.mark.parametrize("text, deepest", [
    ("a:\n  b: 1\n", 2),
    ("a: {}\n", 2),                          # an empty collection is a level too
    ("a: []\n", 2),
    ("- []\n", 2),
    ("a:\n  b: {}\n", 3),
    ("a:\n  b: []\n", 3),
    ("a:\n  - {}\n", 3),
    ("a:\n- b: 1\n", 3),
    ("- a: 1\n", 2),
    ("-\n  - 1\n", 2),
    ("a:\n  -\n    - 1\n", 3),
    ("a: [x]\n", 2),                        # a flow sequence too
    ("a:\n  - [x, y]\n", 3),
])
def test_a_document_deeper_than_the_limit_is_left_to_pyyaml_which_reports_it(text, deepest):
    assert pyyaml_reads(text, deepest)[0] and not pyyaml_reads(text, deepest - 1)[0]
    assert check_agrees(text, deepest)
    assert _BLOCK.read(text, deepest - 1) is None


# --- property (a): Python data dumped in block style by PyYAML ---------------------------------

YAML11_SPECIALS = [
    "yes", "no", "Yes", "NO", "on", "off", "On", "OFF", "y", "n", "true", "False", "~", "null",
    "Null", "", " ", "0x1f", "010", "0o17", "0b11", "1_000", "1.5", "1e3", ".inf", "-.inf",
    ".nan", "2001-12-14", "2001-12-14 21:59:43.10 -5", "1:30", "=", "<<", "-", "?", ":", "-1",
    "+1", "0", "00", "-0", "a: b", "a #b", "a#b", "'", '"', "''", "it's", "- a", "-a", "? a",
    "?a", ": a", ":a", "*a", "&a", "!a", "!!str", "%a", "@a", "`a", "|", ">", "{}", "[]",
    "{a: 1}", "[a]", "a,b", "#", "a:", "a :", "x\\y", "\\n", "---", "...", "- - a", "a\tb",
    "caf\u00e9", "line\nbreak", " lead", "trail ", "TCP", "UDP", "http", "80", "443",
]
K8S_KEYS = [
    "apiVersion", "kind", "metadata", "name", "namespace", "labels", "annotations", "spec",
    "podSelector", "matchLabels", "matchExpressions", "key", "operator", "values", "ingress",
    "egress", "from", "to", "ports", "port", "protocol", "endPort", "ipBlock", "cidr", "except",
    "policyTypes", "namespaceSelector", "containers", "containerPort", "app",
    "app.kubernetes.io/name", "kubernetes.io/metadata.name", "helm.sh/chart", "k8s-app",
    "tier", "role", "version", "_x", "0", "1e3",
]
label_names = st.from_regex(r"\A[a-z0-9]([-a-z0-9_.]{0,10}[a-z0-9])?(/[a-z][-a-z0-9.]{0,8})?\Z")
keys = st.one_of(st.sampled_from(K8S_KEYS), label_names, st.sampled_from(YAML11_SPECIALS),
                 st.integers(-5, 5), st.booleans())
texts = st.one_of(
    st.sampled_from(YAML11_SPECIALS), label_names,
    st.text(alphabet=st.sampled_from(list("ab01 :#'\"-?*&!|>%@`,[]{}\\.~=\t\n\u00e9")), max_size=12),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), texts,
                    st.floats(allow_nan=True, allow_infinity=True))
data = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20)
dump_options = st.fixed_dictionaries({
    "indent": st.integers(2, 6),
    "width": st.sampled_from([20, 40, 80, 1000]),
    "explicit_start": st.booleans(),
    "allow_unicode": st.booleans(),
    "default_flow_style": st.sampled_from([False, False, None]),  # None: leaves as [a, b], {a: 1}
})


def _dumped(value, options) -> str:
    return yaml.safe_dump(value, sort_keys=False, **options)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data, dump_options)
def test_data_dumped_in_block_style_is_read_exactly_as_pyyaml_reads_it(value, options):
    check_agrees(_dumped(value, options))


@pytest.mark.slow
@settings(max_examples=MANY * 2 // 3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data, dump_options)
def test_data_dumped_in_block_style_is_read_exactly_as_pyyaml_reads_it_many_times(value, options):
    check_agrees(_dumped(value, options))


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.sampled_from(K8S_KEYS), st.one_of(st.none(), st.booleans(), st.integers(0, 70000), label_names),
                       min_size=1, max_size=8), st.booleans())
def test_dumped_manifest_like_mappings_of_plain_values_are_read_fast(value, start):
    # names, numbers, booleans and nulls written by safe_dump, plain or quoted, are within the
    # reader's part
    assert check_agrees(yaml.safe_dump(value, sort_keys=False, explicit_start=start, width=1000))


# --- property (b): documents made of random lines ----------------------------------------------

SOUP_KEYS = ["a", "b", "name", "app.kubernetes.io/name", "k8s-app", "0", "1", "true", "yes",
             "null", "~", "<<", "=", "-x", "?x", "a:b", "a b", "\"q\"", "'q'", "\"a\\\"b\"",
             "caf\u00e9", "x" * 3, "_", "1.5", "0x1", "2001-12-14", "\"a: b\"", "'a #b'",
             "\"a\"b", "'a''b'", "\"\"", "\"a", "'"]
SOUP_VALUES = ["x", "TCP", "80", "0", "010", "0x1f", "1_000", "1.5", "-1", ".inf", "yes", "Off",
               "~", "null", "=", "<<", "'q'", "\"q\"", "''", "\"\"", "'it''s'", "\"a\\\"b\"",
               "'a' b", "\"a\"#c", "{}", "[]", "{ }", "{a: 1}", "[1, 2]", "|", ">", "|-", "&a",
               "&a x", "*a", "!!str x", "!x y", "# c", "x # c", "x#c", "a: b", "a:", "b:c",
               "- x", "-x", "? x", "?x", ": x", ":x", "@x", "`x", "%x", ",x", "x,y", "x]",
               "'open", "\"open", "close'", "[a, b]", "[a,b]", "[\"a\", 'b']", "[ ]", "[a, ]",
               "[a,]", "[a b]", "[\"a\": 1]", "[\"a\"b]", "['a''b']", "[1, yes, ~]", "[[a]]", "[a",
               "[\"a,]\"]", "[a] #c", "[a]#c", "{ }", "{ a }", "2001-12-14", "1:30", "x\t", "caf\u00e9", "\u00e9"]
indents = st.integers(0, 6).map(lambda n: " " * n)
prefixes = st.sampled_from(["", "", "", "- ", "-", "- - ", "-  ", "? ", ": "])
soup_key = st.sampled_from(SOUP_KEYS)
separators = st.sampled_from([":", ": ", ":  ", ":", " :", ""])
soup_value = st.sampled_from(SOUP_VALUES)
trailing = st.sampled_from(["", "", "", " ", "  ", " # c", "#c", "\r", "\t"])
whole_lines = st.sampled_from(["", "#c", "  # c", "---", "--- ", "--- x", "--- #c", "...",
                               "%YAML 1.1", "\t", "-", "- ", " -", "x", "'x'"])
composed = st.builds(
    lambda i, p, body, t: i + p + body + t, indents, prefixes,
    st.one_of(st.builds(lambda k, s, v: k + s + v, soup_key, separators, soup_value),
              st.builds(lambda k, s: k + s, soup_key, separators),
              soup_value),
    trailing)
soup_lines = st.one_of(composed, composed, composed, whole_lines)
soups = st.builds(lambda lines, end: "\n".join(lines) + end,
                  st.lists(soup_lines, min_size=1, max_size=10), st.sampled_from(["", "\n"]))

# documents that mostly hold together: the same fragments, laid out as a growing tree
tree_lines = st.builds(
    lambda p, k, s, v, t: p + k + s + v + t,
    st.sampled_from(["", "", "- ", "-   ", "-"]), soup_key,
    st.sampled_from([":", ": ", ": ", ": "]),
    st.one_of(st.just(""), st.just(""), soup_value), st.sampled_from(["", "", " ", " # c"]))


@st.composite
def trees(draw) -> str:
    lines, column = [], 0
    for _ in range(draw(st.integers(1, 12))):
        column = max(0, column + draw(st.sampled_from([-4, -2, -2, 0, 0, 0, 2, 2, 1, 4])))
        lines.append(" " * column + draw(tree_lines))
    return "\n".join(lines) + "\n"


def check_soup(text: str, max_depth: int = 200) -> None:
    fast = _BLOCK.read(text, max_depth)
    ok, want = pyyaml_reads(text, max_depth)
    if not ok:
        assert fast is None, f"the reader accepted {text!r}, which PyYAML rejects: {want}"
    elif fast is not None:
        assert same(fast[0], want), f"{text!r}: reader {fast[0]!r} != PyYAML {want!r}"


@settings(max_examples=300, deadline=None)
@given(soups)
def test_documents_of_random_lines_are_declined_when_pyyaml_rejects_them_and_read_exactly_otherwise(text):
    check_soup(text)


@settings(max_examples=300, deadline=None)
@given(trees(), st.integers(1, 6))
def test_random_block_trees_are_declined_when_pyyaml_rejects_them_and_read_exactly_otherwise(text, depth):
    check_soup(text)
    check_soup(text, depth)


@pytest.mark.slow
@settings(max_examples=MANY, deadline=None)
@given(soups)
def test_documents_of_random_lines_agree_with_pyyaml_many_times(text):
    check_soup(text)


@pytest.mark.slow
@settings(max_examples=MANY, deadline=None)
@given(trees(), st.integers(1, 6))
def test_random_block_trees_agree_with_pyyaml_many_times(text, depth):
    check_soup(text)
    check_soup(text, depth)


# --- real manifests: the peer tools' test cases and kreach's own fixtures -------------------------

ROOT = Path(__file__).resolve().parents[1]
CORPORA = {"peer-cases": ROOT.parent / "shared" / "peer-cases", "fixtures": ROOT / "fixtures",
           "tests-data": ROOT / "tests" / "data"}


@pytest.mark.parametrize("name", sorted(CORPORA))
def test_every_document_of_real_manifest_folders_is_read_as_pyyaml_reads_it(name):
    # manifests nobody here wrote (netpol-analyzer's and network-config-analyzer's test cases)
    # and kreach's fixtures, every document on its own, as loading.py splits them
    paths = sorted(CORPORA[name].rglob("*.y*ml"))
    if not paths:
        pytest.skip(f"no {name} here")
    documents = answered = 0
    for path in paths:
        text = path.read_text(encoding="utf-8", errors="replace")
        for chunk in split_documents(text):
            if chunk.text.strip() and not _only_comments(chunk.text):
                documents += 1
                try:
                    answered += check_soup_answered(chunk.text)
                except AssertionError as e:
                    raise AssertionError(f"{path}:{chunk.first_line}: {e}") from None
    assert documents > 0
    if name == "peer-cases":  # most real manifests are read fast (5.9% fell back when written)
        assert answered > 0.9 * documents


def check_soup_answered(text: str) -> bool:
    """:func:`check_soup`; True when the reader answered."""
    check_soup(text)
    return _BLOCK.read(text, 200) is not None


# --- property (c): one-line flow sequences and quoted keys, the forms read beyond plain block ----

FLOW_ITEMS = ["a", "b-c", "d.e/f", "80", "0", "010", "09", "0x1", "1.5", "1_0", "yes", "No", "null",
              "~", "\"x\"", "'y'", "\"\"", "''", "\"a,b\"", "'a]'", "\"#\"", "'# c'", "\"a: b\"",
              "2001-12-14", "True", "1e3", "_x", "\"a\\\"b\"", "'a''b'", "a b", "a:b", "a: b", "-a",
              "- a", "?a", "[a]", "{a: 1}", "{}", "&x a", "*x", "!!str a", "\"a\"b", "a#b", "a #b",
              "", " ", "<<", "="]
FLOW_KEYS = ["a", "\"a\"", "'a'", "\"a b\"", "'a: b'", "\"a #b\"", "\"a\\\"b\"", "'a''b'", "\"\"",
             "\"a\"b", "'a", "\"1\"", "'true'", "\"~\""]
flow_separators = st.sampled_from([", ", ", ", ",", " , ", " ", ",,", ""])


@st.composite
def flow_documents(draw) -> str:
    items = draw(st.lists(st.sampled_from(FLOW_ITEMS), max_size=4))
    body = "".join(item + (draw(flow_separators) if i < len(items) - 1 else "")
                   for i, item in enumerate(items))
    flow = ("[" + draw(st.sampled_from(["", " "])) + body + draw(st.sampled_from(["", "", " ", ",", ", "]))
            + "]" + draw(st.sampled_from(["", "", " ", " # c", "#c", " x", "]"])))
    key, other = draw(st.sampled_from(FLOW_KEYS)), draw(st.sampled_from(FLOW_KEYS))
    return draw(st.sampled_from([
        f"{key}: {flow}\n",
        f"- {flow}\n- x\n",
        f"x:\n  {key}: {flow}\n  {other}: 1\n",
        f"- {key}: {flow}\n  {other}:\n  - y\n",
        f"{key}:\n- {flow}\n{other}: z\n",
    ]))


@settings(max_examples=300, deadline=None)
@given(flow_documents(), st.sampled_from([200, 1, 2, 3]))
def test_flow_sequences_and_quoted_keys_are_declined_when_pyyaml_rejects_them_and_read_exactly_otherwise(
        text, depth):
    check_soup(text, depth)


@pytest.mark.slow
@settings(max_examples=MANY, deadline=None)
@given(flow_documents(), st.sampled_from([200, 1, 2, 3]))
def test_flow_sequences_and_quoted_keys_agree_with_pyyaml_many_times(text, depth):
    check_soup(text, depth)


# --- lines: where each entry is, as PyYAML's nodes say ----------------------------------------
# Reports cite rules by line; the locator asks the block reader for a document's lines
# (BlockReader.lines) and PyYAML's node tree only where the reader declines.

def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


def check_lines(text: str) -> bool:
    """Every entry's line from the reader is the one PyYAML's nodes give; True if it answered."""
    from analyzer.inputs.loading import _child, _Loader

    found = _BLOCK.lines(text, 200)
    if found is None:
        return False
    assert same(found.value, _BLOCK.read(text, 200)[0])
    root = yaml.compose(text, Loader=_Loader)
    for path in _paths(found.value):
        value, line, node, want = found.value, found.line, root, root.start_mark.line
        for key in path:
            value, line = found.child(value, key)
            node, want = _child(node, key)
        assert line == want, f"{text!r}: {path} on line {line}, PyYAML says {want}"
    assert found.child(found.value, "no-such-key") is None and found.child(found.value, 10**6) is None
    return True


@pytest.mark.parametrize("text", ["-\n  a: 1\n  b: [x, y]\n- c\n", "a:\n-\n  b: 1\n", "a:\n  -\n    - x\n",
                                  "# c\n---\n\nkind: X\nspec:\n  ingress:\n  - from:\n    - podSelector: {}\n"])
def test_an_entry_whose_value_starts_on_the_next_line_is_on_the_line_pyyaml_gives(text):
    assert check_lines(text)


def test_a_null_sequence_entry_is_left_to_pyyaml_nodes():
    assert _BLOCK.read("- \n- a\n", 200) is not None and _BLOCK.lines("- \n- a\n", 200) is None


@pytest.mark.parametrize("text", READ_FAST)
def test_every_entry_of_a_common_form_is_on_the_line_pyyaml_gives(text):
    assert check_lines(text) or "- \n" in text or text.rstrip().endswith("-")


@settings(max_examples=300, deadline=None)
@given(trees())
def test_every_entry_of_a_random_tree_is_on_the_line_pyyaml_gives(text):
    if pyyaml_reads(text)[0]:
        check_lines(text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data, dump_options)
def test_every_entry_of_dumped_data_is_on_the_line_pyyaml_gives(value, options):
    check_lines(_dumped(value, options))


def test_every_entry_of_the_peer_cases_is_on_the_line_pyyaml_gives():
    paths = sorted(CORPORA["peer-cases"].rglob("*.y*ml"))
    if not paths:
        pytest.skip("no peer cases here")
    answered = 0
    for path in paths:
        for chunk in split_documents(path.read_text(encoding="utf-8", errors="replace")):
            if chunk.text.strip() and not _only_comments(chunk.text):
                try:
                    answered += check_lines(chunk.text)
                except AssertionError as e:
                    raise AssertionError(f"{path}:{chunk.first_line}: {e}") from None
    assert answered > 1000


def test_long_lines_are_read_but_not_remembered():
    from analyzer.inputs import block_yaml

    value = "x" * (block_yaml._MEMO_LINE + 1)
    text = f"a: {value}\nb: short\n"
    assert _BLOCK.read(text, 200)[0] == {"a": value, "b": "short"}
    assert f"a: {value}" not in _BLOCK._lines and "b: short" in _BLOCK._lines
