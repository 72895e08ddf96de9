"""Validation: what kreach refuses to model, what it only warns about, and where it points.

Each bad input is a small manifest; the line the diagnostic must point at is marked ``# <-``.
"""

from __future__ import annotations

import textwrap

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analyzer.diagnostics import Severity
from analyzer.inputs.loading import Locator, Manifest, load_paths
from analyzer.source import SourceRef
from analyzer.inputs.validation import (SchemaValidator, UnsupportedVersionError, schema_validator,
                                 validate_manifests)

POLICY_HEAD = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: np
  namespace: ns1
spec:
  podSelector: {}
"""


def policy(body: str) -> str:
    return POLICY_HEAD + textwrap.indent(textwrap.dedent(body), "  ")


def validate(tmp_path, text: str, **options):
    path = tmp_path / "m.yaml"
    path.write_text(textwrap.dedent(text))
    loaded = load_paths([str(path)])
    assert not loaded.diagnostics
    return validate_manifests(loaded.manifests, loaded.locator, **options)


def marked_line(text: str) -> int:
    lines = [i for i, ln in enumerate(textwrap.dedent(text).splitlines(), 1) if "# <-" in ln]
    assert len(lines) == 1, "each case marks exactly one line"
    return lines[0]


# (case id, manifest with the expected line marked, code); every one is an error that skips
# the object, with or without the schema layer
SEMANTIC_CASES = [
    ("cidr prefix too long", policy("""
        ingress:
        - from:
          - ipBlock:
              cidr: 10.0.0.0/33  # <-
        """), "KR110"),
    ("cidr octet out of range", policy("""
        egress:
        - to:
          - ipBlock:
              cidr: 300.1.1.1/8  # <-
        """), "KR110"),
    ("cidr without prefix length", policy("""
        ingress:
        - from:
          - ipBlock:
              cidr: 10.0.0.0  # <-
        """), "KR110"),
    ("ipv6 cidr prefix too long", policy("""
        ingress:
        - from:
          - ipBlock:
              cidr: 2001:db8::/129  # <-
        """), "KR110"),
    ("except outside cidr", policy("""
        ingress:
        - from:
          - ipBlock:
              cidr: 10.0.0.0/16
              except:
              - 10.0.0.0/24
              - 10.1.0.0/24  # <-
        """), "KR111"),
    ("except equal to cidr", policy("""
        ingress:
        - from:
          - ipBlock:
              cidr: 10.0.0.0/16
              except: [10.0.0.0/16]  # <-
        """), "KR111"),
    ("except of the other IP family", policy("""
        ingress:
        - from:
          - ipBlock:
              cidr: 10.0.0.0/8
              except:
              - 2001:db8::/64  # <-
        """), "KR111"),
    ("invalid except", policy("""
        ingress:
        - from:
          - ipBlock:
              cidr: 10.0.0.0/8
              except:
              - 10.0.0/33  # <-
        """), "KR110"),
    ("except entry is a number", policy("""
        ingress:
        - from:
          - ipBlock:
              cidr: 10.0.0.0/8
              except:
              - 5  # <-
        """), "KR101"),
    ("port 70000", policy("""
        ingress:
        - ports:
          - port: 70000  # <-
        """), "KR112"),
    ("port 0", policy("""
        ingress:
        - ports:
          - port: 0  # <-
        """), "KR112"),
    ("endPort less than port", policy("""
        egress:
        - ports:
          - port: 9000
            endPort: 8000  # <-
        """), "KR113"),
    ("endPort with a named port", policy("""
        egress:
        - ports:
          - port: http
            endPort: 8000  # <-
        """), "KR113"),
    ("endPort without port", policy("""
        egress:
        - ports:
          - endPort: 8000  # <-
        """), "KR113"),
    ("endPort out of range", policy("""
        egress:
        - ports:
          - port: 80
            endPort: 65536  # <-
        """), "KR112"),
    ("protocol ICMP", policy("""
        ingress:
        - ports:
          - protocol: ICMP  # <-
            port: 80
        """), "KR116"),
    ("In without values", policy("""
        ingress:
        - from:
          - podSelector:
              matchExpressions:
              - key: app
                operator: In  # <-
        """), "KR114"),
    ("NotIn with empty values", policy("""
        ingress:
        - from:
          - namespaceSelector:
              matchExpressions:
              - key: app
                operator: NotIn  # <-
                values: []
        """), "KR114"),
    ("Exists with values", policy("""
        ingress:
        - from:
          - podSelector:
              matchExpressions:
              - key: app
                operator: Exists
                values: [a]  # <-
        """), "KR114"),
    ("unknown operator", policy("""
        ingress:
        - from:
          - podSelector:
              matchExpressions:
              - key: app
                operator: Equals  # <-
                values: [a]
        """), "KR114"),
    ("selector label key with spaces", policy("""
        ingress:
        - from:
          - podSelector:
              matchLabels:
                "my app": web  # <-
        """), "KR117"),
    ("named port with capitals", policy("""
        ingress:
        - ports:
          - port: HTTP  # <-
        """), "KR118"),
    ("named port of digits only", policy("""
        ingress:
        - ports:
          - port: "80"  # <-
        """), "KR118"),
    ("ports is a string", policy("""
        ingress:
        - ports: "80"  # <-
        """), "KR101"),
    ("from is a mapping", policy("""
        ingress:
        - from: {podSelector: {}}  # <-
        """), "KR101"),
    ("ipBlock together with podSelector", policy("""
        ingress:
        - from:
          - podSelector: {}
            ipBlock: {cidr: 10.0.0.0/8}  # <-
        """), "KR119"),
    ("unknown policy type", policy("""
        policyTypes:
        - Ingress
        - Egres  # <-
        """), "KR119"),
    ("metadata label value too long", """\
        apiVersion: v1
        kind: Namespace
        metadata:
          name: n1
          labels:
            team: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa  # <-
        """, "KR117"),
    ("label value is a number", """\
        apiVersion: v1
        kind: Namespace
        metadata:
          name: n1
          labels:
            version: 2  # <-
        """, "KR101"),
    ("containerPort 70000", """\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: ns1}
        spec:
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
              - name: web
                image: nginx
                ports:
                - containerPort: 70000  # <-
        """, "KR120"),
    ("container port name too long", """\
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: ns1}
        spec:
          containers:
          - name: c
            ports:
            - containerPort: 80
              name: a-very-long-port-name  # <-
        """, "KR120"),
    ("container port protocol ICMP", """\
        apiVersion: batch/v1
        kind: CronJob
        metadata: {name: cj, namespace: ns1}
        spec:
          schedule: "* * * * *"
          jobTemplate:
            spec:
              template:
                spec:
                  containers:
                  - name: c
                    ports:
                    - containerPort: 80
                      protocol: ICMP  # <-
        """, "KR120"),
    ("hostNetwork is a string", """\
        apiVersion: v1
        kind: Pod
        metadata: {name: p, namespace: ns1}
        spec:
          hostNetwork: "yes"  # <-
          containers:
          - name: c
        """, "KR101"),
    ("service selector with a bad value", """\
        apiVersion: v1
        kind: Service
        metadata: {name: s, namespace: ns1}
        spec:
          selector:
            app: -web  # <-
          ports:
          - port: 80
        """, "KR117"),
    ("service targetPort 0", """\
        apiVersion: v1
        kind: Service
        metadata: {name: s, namespace: ns1}
        spec:
          selector: {app: web}
          ports:
          - port: 80
            targetPort: 0  # <-
        """, "KR112"),
    ("metadata without name", """\
        apiVersion: v1
        kind: Namespace
        metadata: {labels: {a: b}}  # <-
        """, "KR101"),
    # the API server validates an object's namespace as a Namespace's name: an RFC 1123 label
    ("a placeholder left in as the namespace", """\
        apiVersion: networking.k8s.io/v1
        kind: NetworkPolicy
        metadata:
          name: np
          namespace: YOUR_NAMESPACE  # <-
        spec: {podSelector: {}}
        """, "KR119"),
    ("a namespace named with capitals and an underscore", """\
        apiVersion: v1
        kind: Namespace
        metadata:
          name: Team_A  # <-
        """, "KR119"),
    ("a namespace name of 64 characters", f"""\
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: d
          namespace: {"n" * 64}  # <-
        spec:
          selector: {{matchLabels: {{app: d}}}}
          template:
            metadata: {{labels: {{app: d}}}}
            spec: {{containers: [{{name: c, image: x}}]}}
        """, "KR119"),
]


@pytest.mark.parametrize("schema", [True, False], ids=["schema", "no-schema"])
@pytest.mark.parametrize("text,code", [c[1:] for c in SEMANTIC_CASES],
                         ids=[c[0] for c in SEMANTIC_CASES])
def test_bad_object_is_skipped_with_a_located_error(tmp_path, text, code, schema):
    result = validate(tmp_path, text, schema=schema)
    if code == "KR120":  # a broken container-port entry is dropped, the object kept (issue 8.3)
        assert len(result.manifests) == 1
    else:
        assert result.manifests == ()
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    assert [(d.code, d.line) for d in errors][:1] == [(code, marked_line(text))], result.diagnostics


SCHEMA_CASES = [
    ("unknown apiVersion of NetworkPolicy", """\
        apiVersion: networking.k8s.io/v2  # <-
        kind: NetworkPolicy
        metadata: {name: np}
        spec: {podSelector: {}}
        """, "KR103"),
    ("unknown apiVersion of Deployment", """\
        apiVersion: apps/v1beta9  # <-
        kind: Deployment
        metadata: {name: d}
        """, "KR103"),
    ("misspelt field in a policy", policy("""
        ingres: [{}]  # <-
        """), "KR101"),
    ("replicas as a string", """\
        apiVersion: apps/v1
        kind: StatefulSet
        metadata: {name: s, namespace: ns1}
        spec:
          replicas: "3"  # <-
          serviceName: s
          selector: {matchLabels: {app: s}}
          template:
            metadata: {labels: {app: s}}
            spec: {containers: [{name: c}]}
        """, "KR101"),
]


@pytest.mark.parametrize("text,code", [c[1:] for c in SCHEMA_CASES], ids=[c[0] for c in SCHEMA_CASES])
def test_schema_violation_in_an_interpreted_field_skips_the_object(tmp_path, text, code):
    result = validate(tmp_path, text)
    assert result.manifests == ()
    assert [(d.code, d.severity, d.line) for d in result.diagnostics] == \
        [(code, Severity.ERROR, marked_line(text))]


VALID = """\
apiVersion: v1
kind: Namespace
metadata:
  name: ns1
  labels: {kubernetes.io/metadata.name: ns1, team: a}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns1}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        ports: [{containerPort: 8080, name: http, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ns1}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: ns1}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - ipBlock: {cidr: 10.0.0.1/8, except: [10.1.0.0/16]}
    - ipBlock: {cidr: "2001:db8::/32", except: ["2001:db8:1::/48"]}
    - namespaceSelector: {matchExpressions: [{key: team, operator: NotIn, values: [b]}]}
      podSelector: {matchExpressions: [{key: app, operator: Exists}]}
    ports:
    - {port: 8000, endPort: 9000, protocol: UDP}
    - {port: http}
  egress:
  - {}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: ns2}
spec: {podSelector: {}}
"""


@pytest.mark.parametrize("schema", [True, False], ids=["schema", "no-schema"])
def test_valid_objects_are_kept_in_order_without_diagnostics(tmp_path, schema):
    result = validate(tmp_path, VALID, schema=schema)
    assert [(m.kind, m.display) for m in result.manifests] == [
        ("Namespace", "ns1"), ("Deployment", "ns1/web"), ("Service", "ns1/web"),
        ("NetworkPolicy", "ns1/np"), ("NetworkPolicy", "ns2/np")]
    assert result.diagnostics == ()


PEER_STYLE_POD = """\
apiVersion: v1
kind: Pod
metadata:
  name: p1
  namespace: default
  labels: {app: a}
  ownerReferences:
  - apiVersion: apps/v1
    kind: ReplicaSet
    name: rs1
  - name: only-a-name  # <-
spec:
  containers:
  - ports:
    - containerPort: 80
status:
  podIP: 10.0.0.5
"""


def test_peer_style_manifests_missing_image_name_or_uid_are_kept_with_warnings(tmp_path):
    result = validate(tmp_path, PEER_STYLE_POD)
    assert [m.name for m in result.manifests] == ["p1"]
    assert {d.code for d in result.diagnostics} == {"KR102"}
    assert all(d.severity is Severity.WARNING for d in result.diagnostics)
    lines = {d.line for d in result.diagnostics}
    assert marked_line(PEER_STYLE_POD) in lines      # the ownerReference without uid and kind
    assert 14 in lines                               # the container without a name


def test_duplicate_object_keeps_the_first_and_points_at_it(tmp_path):
    text = """\
        apiVersion: v1
        kind: Service
        metadata: {name: s}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: s, namespace: default}  # <-
        """
    result = validate(tmp_path, text)
    assert [m.source.line for m in result.manifests] == [1]
    [d] = result.diagnostics
    assert (d.code, d.severity, d.line) == ("KR115", Severity.ERROR, marked_line(text))
    assert "m.yaml:3" in d.message


def test_same_name_in_other_namespace_or_kind_is_no_duplicate(tmp_path):
    text = """\
        apiVersion: v1
        kind: Service
        metadata: {name: s, namespace: a}
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: s, namespace: b}
        ---
        apiVersion: v1
        kind: Pod
        metadata: {name: s, namespace: a}
        """
    assert len(validate(tmp_path, text).manifests) == 3


def test_null_fields_mean_absent_and_are_dropped_from_kept_bodies(tmp_path):
    result = validate(tmp_path, policy("""
        ingress:
        - from: null
          ports: null
        egress: null
        """))
    [m] = result.manifests
    assert m.body["spec"] == {"podSelector": {}, "ingress": [{}]}


def test_k8s_version_selects_the_schemas_and_an_unknown_one_is_refused():
    assert SchemaValidator("v1.29").version == "1.29"
    assert SchemaValidator("1.29.3").version == "1.29"
    with pytest.raises(UnsupportedVersionError):
        SchemaValidator("1.2")


# --- the compiled schema predicate agrees with jsonschema ------------------------------------

def _manifest(body: dict) -> Manifest:
    return Manifest(body.get("apiVersion"), body.get("kind"), "x", None, body, SourceRef("mem", 1))


def _jsonschema_valid(validator: SchemaValidator, m: Manifest) -> bool:
    from referencing import Registry, Resource

    schema, _ = validator._kind(m.api_version, m.kind)
    registry = Resource.from_contents(validator._definitions) @ Registry()
    return jsonschema.Draft202012Validator(schema, registry=registry).is_valid(m.body)


GARBAGE = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 70000) | st.floats(allow_nan=False) |
    st.sampled_from(["", "80", "http", "TCP", "In", "10.0.0.0/8", "a b"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["port", "ports", "from", "ipBlock", "cidr", "except", "podSelector", "name",
                         "matchLabels", "containers", "labels", "x"]), inner, max_size=3),
    max_leaves=8)

SPOTS = [("spec",), ("spec", "podSelector"), ("spec", "ingress"), ("spec", "ingress", 0, "from"),
         ("spec", "ingress", 0, "ports", 0), ("spec", "ingress", 0, "ports", 0, "port"),
         ("spec", "ingress", 0, "from", 0, "ipBlock"),
         ("spec", "ingress", 0, "from", 0, "ipBlock", "except"), ("metadata",), ("metadata", "labels"),
         ("metadata", "ownerReferences"), ("spec", "egress", 0, "to", 0, "podSelector")]


def _base_policy() -> dict:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "np", "namespace": "a", "labels": {"a": "b"}},
            "spec": {"podSelector": {}, "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
                                                     "ports": [{"port": 80}]}],
                     "egress": [{"to": [{"podSelector": {}}]}]}}


def _put(body: dict, path: tuple, value) -> dict:
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return body


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spot=st.sampled_from(SPOTS), garbage=GARBAGE)
def test_garbage_anywhere_never_raises_and_the_predicate_agrees_with_jsonschema(spot, garbage):
    m = _manifest(_put(_base_policy(), spot, garbage))
    validator = schema_validator(None)
    assert (validator.issues(m) == ()) == _jsonschema_valid(validator, m)
    for schema in (True, False):
        result = validate_manifests([m], Locator(), schema=schema)
        for kept in result.manifests:
            _read_policy_as_a_model_builder_would(kept.body)
        if not result.manifests:
            assert any(d.severity is Severity.ERROR for d in result.diagnostics)


def _read_policy_as_a_model_builder_would(body: dict) -> None:
    """Reads every interpreted field trusting its type; raises if validation let garbage by."""
    meta = body["metadata"]
    assert isinstance(meta["name"], str) and isinstance(meta.get("namespace", ""), str)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.get("labels", {}).items())
    spec = body.get("spec", {})
    selectors = [spec.get("podSelector", {})]
    for direction, peers in (("ingress", "from"), ("egress", "to")):
        for rule in spec.get(direction, []):
            for peer in rule.get(peers, []):
                selectors += [peer.get("podSelector", {}), peer.get("namespaceSelector", {})]
                block = peer.get("ipBlock")
                if block is not None:
                    assert block["cidr"].count("/") == 1
                    assert all(e.count("/") == 1 for e in block.get("except", []))
            for port in rule.get("ports", []):
                assert isinstance(port.get("port", 1), (int, str))
                assert port.get("protocol", "TCP") in ("TCP", "UDP", "SCTP")
    for sel in selectors:
        assert all(isinstance(v, str) for v in sel.get("matchLabels", {}).values())
        for expr in sel.get("matchExpressions", []):
            assert isinstance(expr["key"], str) and expr["operator"] in ("In", "NotIn", "Exists",
                                                                         "DoesNotExist")
            assert all(isinstance(v, str) for v in expr.get("values", []))


def test_predicate_agrees_with_jsonschema_on_the_test_manifests(tmp_path):
    validator = schema_validator(None)
    texts = [VALID, PEER_STYLE_POD] + [c[1] for c in SEMANTIC_CASES + SCHEMA_CASES]
    checked = 0
    for i, text in enumerate(texts):
        path = tmp_path / f"m{i}.yaml"
        path.write_text(textwrap.dedent(text))
        for m in load_paths([str(path)]).manifests:
            if validator.has_schema(m.api_version, m.kind):
                assert (validator.issues(m) == ()) == _jsonschema_valid(validator, m), text
                checked += 1
    assert checked > 40


ADMIN_POLICY = """\
    apiVersion: policy.networking.k8s.io/v1alpha1
    kind: AdminNetworkPolicy
    metadata: {name: guard%s}
    spec:
      priority: 10
      subject: {namespaces: {}}
      ingress:
      - name: deny-all
        action: Deny
        from: [{namespaces: {}}]
    """


def test_a_namespace_written_on_a_cluster_scoped_object_is_ignored_as_the_api_server_ignores_it(tmp_path):
    # rest.BeforeCreate clears it before validation: not a reason to skip the policy
    result = validate(tmp_path, ADMIN_POLICY % ", namespace: Not_A_Label")
    assert len(result.manifests) == 1 and not result.diagnostics


def test_kubectl_style_n_leaves_cluster_scoped_objects_out_of_the_namespace(tmp_path):
    from analyzer.inputs.loading import with_namespace

    (tmp_path / "m.yaml").write_text(textwrap.dedent(ADMIN_POLICY % "") + "---\n" + textwrap.dedent("""\
        apiVersion: v1
        kind: Service
        metadata: {name: s}
        spec: {selector: {app: a}, ports: [{port: 80}]}
        """))
    loaded = load_paths([str(tmp_path / "m.yaml")])
    anp, svc = with_namespace(loaded.manifests, "team-a")
    assert anp.namespace is None and "namespace" not in anp.body["metadata"]
    assert svc.namespace == "team-a" and svc.body["metadata"]["namespace"] == "team-a"
