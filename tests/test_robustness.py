"""No input makes kreach raise: any field of a valid manifest replaced by a value of any type is
either analysed or reported as a diagnostic, and every writer still renders the result."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.analysis import Options, analyze
from analyzer.writers import FORMATS, render
from analyzer.writers.svg_writer import WriterUnavailable

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "demo"
DOCUMENTS = [d for f in sorted(DEMO.glob("*.yaml")) if f.name != "kreach.yaml"
             for d in yaml.safe_load_all(f.read_text()) if d]

JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
    st.text(max_size=12), st.sampled_from(["10.0.0.0/33", "::/129", "70000", "http", "", "In"]),
    st.lists(st.integers(), max_size=3), st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from paths(v, prefix + (i,))


def replaced(doc, path, value):
    doc = copy.deepcopy(doc)
    if not path:
        return value
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


@st.composite
def mutated_documents(draw):
    docs = list(DOCUMENTS)
    for _ in range(draw(st.integers(1, 3))):
        i = draw(st.integers(0, len(docs) - 1))
        path = draw(st.sampled_from(list(paths(docs[i]))))
        docs[i] = replaced(docs[i], path, draw(JUNK))
    return docs


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_documents(), st.booleans(), st.sampled_from(["workload", "pod"]))
def test_any_field_of_any_type_is_analysed_or_reported_never_raised(docs, schema, level):
    text = yaml.safe_dump_all(docs)
    analysis = analyze(["-"], Options(level=level, schema=schema), stdin_text=text)
    for fmt in FORMATS:
        try:
            render(analysis, fmt)
        except WriterUnavailable:
            # svg runs Graphviz's dot, which can itself fail on a graph ("trouble in init_rank",
            # seen on a generated input): the CLI reports it as a message, it is not a crash
            pass


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(tmp_path_factory, data):
    f = tmp_path_factory.mktemp("bytes") / "x.yaml"
    f.write_bytes(data)
    analysis = analyze([str(f)])
    render(analysis, "json")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_documents())
def test_the_query_engine_answers_on_whatever_survived_validation(docs):
    from analyzer.query.engine import Engine
    from analyzer.query.exposure import exposure
    from analyzer.query.isolation import isolated

    analysis = analyze(["-"], stdin_text=yaml.safe_dump_all(docs))
    if analysis.is_empty:
        return
    engine = Engine.from_analysis(analysis)
    exposure(engine)
    for ns in {p.namespace for p in analysis.cluster.pods}:
        isolated(engine, ns, "Ingress")
