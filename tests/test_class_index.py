"""The class index builds a selector's bitset only when a selector asks for it, so memory grows
with what the answer needs: 200k namespaces each with its own name label must not cost one
200k-bit integer per namespace."""

from analyzer.engine.classes import BitIndex, bits_of


def test_bits_of_sets_exactly_the_given_positions():
    assert bits_of([]) == 0
    assert bits_of([0, 3]) == 0b1001
    many = list(range(0, 1000, 7))
    assert bits_of(many) == sum(1 << i for i in many)


def test_a_key_becomes_a_bitset_only_when_asked_for():
    index = BitIndex()
    for i in range(10_000):
        index.add(("kubernetes.io/metadata.name", f"ns-{i}"), i)
        index.add("team", i)
    assert index.get(("kubernetes.io/metadata.name", "ns-9999")) == 1 << 9999
    assert index.get("team") == (1 << 10_000) - 1
    assert index.get("absent") == 0
    assert len(index._bits) == 2  # the other 9,999 name labels stay position lists


def test_namespaces_without_selectors_build_no_namespace_bitsets(tmp_path):
    from analyzer import analyze

    docs = "".join(f"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns-{i}\n"
                   for i in range(2_000))
    (tmp_path / "ns.yaml").write_text(docs)
    analysis = analyze([str(tmp_path)])
    assert not analysis.reachability.index._ns_label._bits


def test_refining_many_regions_groups_bits_by_the_regions_that_hold_them():
    from analyzer.engine import evaluate

    regions = [(0b0011, "a"), (0b0110, "b"), (0b1000, "c")] + [(1 << (10 + i), i) for i in range(60)]
    by_split = sorted(evaluate._refine(regions[:3]))
    assert by_split == [(0b0001, (0,)), (0b0010, (0, 1)), (0b0100, (1,)), (0b1000, (2,))]
    assert sorted(evaluate._refine_by_signature(regions[:3])) == by_split
    many = sorted(evaluate._refine(regions))  # past the split limit: by signature
    assert many[:4] == by_split and len(many) == 64
