"""AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy: bad input is a located
error that skips the object (the rest is analysed, --strict exits 2); warnings for what the API
leaves open or kreach cannot see; rules named with kind, name, index and priority.

The semantics themselves are checked by the hand-derived cases in fixtures/spec/admin-*,
fixtures/spec/cnp-* (tests/test_spec_cases.py), the peer cases (tests/test_conformance.py) and the
two-engine agreement properties (tests/test_query_agreement.py).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer import analyze
from analyzer.cli import app

PODS = """\
apiVersion: v1
kind: Namespace
metadata: {name: t}
---
apiVersion: v1
kind: Pod
metadata: {name: a, namespace: t, labels: {app: a}}
spec: {containers: [{name: main, image: nginx}]}
---
apiVersion: v1
kind: Pod
metadata: {name: b, namespace: t, labels: {app: b}}
spec: {containers: [{name: main, image: nginx}]}
"""

GOOD_ANP = """\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: good}
spec:
  priority: 3
  subject: {namespaces: {}}
  ingress:
  - {action: Deny, from: [{namespaces: {}}]}
"""


def anp(spec: str, kind: str = "AdminNetworkPolicy", version: str = "v1alpha1",
        name: str = "bad") -> str:
    return (f"apiVersion: policy.networking.k8s.io/{version}\nkind: {kind}\nmetadata: {{name: {name}}}\n"
            "spec:\n" + textwrap.indent(textwrap.dedent(spec), "  ") + "\n")


BAD = [
    ("KR130", anp("subject: {namespaces: {}}\ningress: [{action: Deny, from: [{namespaces: {}}]}]")),
    ("KR131", anp("priority: 1001\nsubject: {namespaces: {}}")),
    ("KR132", anp("tier: Middle\npriority: 1\nsubject: {namespaces: {}}", "ClusterNetworkPolicy",
                  "v1alpha2")),
    ("KR133", anp("priority: 1\nsubject: {}")),
    ("KR134", anp("priority: 1\nsubject: {namespaces: {}}\negress:\n"
                  + "".join("- {action: Deny, to: [{namespaces: {}}]}\n" for _ in range(101)))),
    ("KR135", anp("subject: {namespaces: {}}", "BaselineAdminNetworkPolicy", name="not-default")),
    ("KR136", anp("priority: 1\nsubject: {namespaces: {}}\ningress: [{action: Accept, from: [{namespaces: {}}]}]")),
    ("KR137", anp("priority: 1\nsubject: {namespaces: {}}\ningress: [{action: Deny, from: []}]")),
    ("KR139", anp("priority: 1\nsubject: {namespaces: {}}\ningress: [{action: Deny, from: [{networks: [10.0.0.0/8]}]}]")),
    ("KR139", anp("priority: 1\nsubject: {namespaces: {}}\ningress: [{action: Deny, from: [{nodes: {}}]}]")),
    ("KR138", anp("priority: 1\nsubject: {namespaces: {}}\negress: [{action: Deny, to: [{}]}]")),
    ("KR110", anp("priority: 1\nsubject: {namespaces: {}}\negress: [{action: Deny, to: [{networks: [10.0.0.0]}]}]")),
    ("KR141", anp("priority: 1\nsubject: {namespaces: {}}\negress: [{action: Deny, to: [{namespaces: {}}], "
                  "ports: [{portRange: {protocol: TCP, start: 90, end: 80}}]}]")),
    ("KR112", anp("priority: 1\nsubject: {namespaces: {}}\negress: [{action: Deny, to: [{namespaces: {}}], "
                  "ports: [{portNumber: {protocol: TCP, port: 70000}}]}]")),
    ("KR103", anp("priority: 1\nsubject: {namespaces: {}}", version="v1beta9")),
]


@pytest.mark.parametrize("code,text", BAD, ids=[f"{c}-{i}" for i, (c, _) in enumerate(BAD)])
def test_bad_admin_policy_is_a_located_error_and_the_rest_is_analysed(tmp_path, code, text):
    path = tmp_path / "in.yaml"
    path.write_text(PODS + "---\n" + GOOD_ANP + "---\n" + text)
    analysis = analyze([str(path)])
    errors = [d for d in analysis.diagnostics if d.severity.value == "error"]
    assert [d.code for d in errors] == [code], errors
    assert errors[0].source is not None and errors[0].source.line > PODS.count("\n") + GOOD_ANP.count("\n")
    # the bad policy is skipped; the good one is kept and still denies a <-> b
    assert [p.name for p in analysis.cluster.admin_policies] == ["good"]
    assert not any("t/a" in s and "t/b" in d for s, d in analysis.graph.edges)
    strict = CliRunner().invoke(app, ["list", str(path), "--strict"])
    assert strict.exit_code == 2


def test_rules_are_named_with_kind_name_index_and_priority(tmp_path):
    path = tmp_path / "in.yaml"
    path.write_text(PODS + "---\n" + GOOD_ANP)
    result = CliRunner().invoke(app, ["can", "t/pod/a", "t/pod/b", str(path)])
    assert result.exit_code == 1
    assert "ingress: denied by AdminNetworkPolicy good ingress rule #0 (priority 3)" in result.stdout
    rule_line = PODS.count("\n") + 1 + GOOD_ANP.splitlines().index("  - {action: Deny, from: [{namespaces: {}}]}") + 1
    assert f"({path}:{rule_line})" in result.stdout  # the rule's own line


def test_same_priority_policies_that_can_disagree_are_warned_about_with_both_places(tmp_path):
    path = tmp_path / "in.yaml"
    other = GOOD_ANP.replace("name: good", "name: also-three").replace("Deny", "Allow")
    path.write_text(PODS + "---\n" + GOOD_ANP + "---\n" + other)
    warnings = [d for d in analyze([str(path)]).diagnostics if d.code == "KR220"]
    assert len(warnings) == 1
    text = warnings[0].message
    assert "also-three" in text and "good" in text and "priority 3" in text and f"{path}:" in text
    # the same action twice cannot change an answer: no warning
    path.write_text(PODS + "---\n" + GOOD_ANP + "---\n" + GOOD_ANP.replace("name: good", "name: twin"))
    assert not [d for d in analyze([str(path)]).diagnostics if d.code == "KR220"]


def test_nodes_peers_without_node_objects_are_warned_about_and_match_nothing(tmp_path):
    path = tmp_path / "in.yaml"
    path.write_text(PODS + "---\n" + anp("priority: 1\nsubject: {namespaces: {}}\n"
                                         "egress: [{action: Deny, to: [{nodes: {}}]}]"))
    analysis = analyze([str(path)])
    assert [d.code for d in analysis.diagnostics if d.code.startswith("KR22")] == ["KR221"]
    assert any("t/a" in s and "t/b" in d for s, d in analysis.graph.edges)


def test_nodes_peers_match_the_addresses_of_the_selected_nodes(tmp_path):
    path = tmp_path / "in.yaml"
    path.write_text(PODS + "---\n" + anp("priority: 1\nsubject: {namespaces: {}}\n"
                                         "egress: [{action: Deny, to: [{nodes: {matchLabels: {role: infra}}}]}]")
                    + "---\napiVersion: v1\nkind: Node\nmetadata: {name: n1, labels: {role: infra}}\n"
                      "status: {addresses: [{type: InternalIP, address: 192.0.2.10}]}\n")
    result = CliRunner().invoke(app, ["can", "t/pod/a", "192.0.2.10", str(path)])
    assert result.exit_code == 1, result.stdout
    assert CliRunner().invoke(app, ["can", "t/pod/a", "192.0.2.11", str(path)]).exit_code == 0


def test_a_new_pod_in_a_new_namespace_is_a_subject_of_cluster_wide_policies(tmp_path):
    """Admin policies are cluster-scoped: a namespace that does not exist yet is covered too."""
    path = tmp_path / "in.yaml"
    path.write_text(PODS + "---\n" + GOOD_ANP)
    result = CliRunner().invoke(app, ["can", "new:*", "t/pod/b", str(path)])
    assert result.exit_code == 1, result.stdout


def test_a_field_the_api_does_not_define_skips_the_policy(tmp_path):
    """An early draft's `notSameLabels` (seen in published examples) is not a v1alpha1 field: the
    API server would drop it and leave the peer selecting every namespace; kreach says so."""
    path = tmp_path / "in.yaml"
    path.write_text(PODS + "---\n" + anp(
        "subject: {namespaces: {}}\ningress:\n- action: Deny\n  from:\n"
        "  - namespaces: {notSameLabels: [kubernetes.io/metadata.name]}",
        "BaselineAdminNetworkPolicy", name="default"))
    errors = [d for d in analyze([str(path)]).diagnostics if d.severity.value == "error"]
    assert [(d.code, "notSameLabels" in d.message) for d in errors] == [("KR101", True)]


def test_an_assertion_failure_names_the_admin_rule_that_denies(tmp_path):
    (tmp_path / "in.yaml").write_text(PODS + "---\n" + GOOD_ANP)
    (tmp_path / "kreach.yaml").write_text(
        "manifests: [in.yaml]\nassertions:\n"
        "  - {name: a reaches b, from: t/a, to: t/b, port: 80, expect: allow}\n")
    result = CliRunner().invoke(app, ["check", str(tmp_path / "kreach.yaml")])
    assert result.exit_code == 1, result.stdout
    assert "denied by AdminNetworkPolicy good ingress rule #0 (priority 3)" in result.stdout


def test_an_action_of_the_wrong_type_is_a_located_error_not_a_crash(tmp_path):
    from analyzer import analyze

    (tmp_path / "anp.yaml").write_text("""\
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: odd}
spec:
  priority: 1
  subject: {namespaces: {}}
  ingress:
  - action: [Deny]
    from: [{namespaces: {}}]
""")
    analysis = analyze([str(tmp_path)])
    assert not analysis.cluster.admin_policies
    assert any(d.code == "KR136" for d in analysis.diagnostics)


def test_isolated_says_admin_policies_decide_apart_from_networkpolicy_isolation():
    from analyzer import analyze
    from analyzer.query.engine import Engine
    from analyzer.query.isolation import isolated

    engine = Engine.from_analysis(analyze([str(Path(__file__).resolve().parent.parent / "fixtures" / "demo")]))
    verdict = isolated(engine, "shop", "Ingress")
    assert verdict.answer.value == "yes"
    assert verdict.note == ("NetworkPolicy isolation only: 1 admin policy decides (AdminNetworkPolicy) apart "
                            "from it; kreach can / kreach exposure say what gets through")
