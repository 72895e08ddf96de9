"""Terraform configurations (``.tf``) read statically.

What a plan would know from the configuration alone is resolved (variables and their values
from the command line, locals, references between resources, count, for_each, dynamic blocks,
local modules); what it would not is a warning naming the expression and its line, and the
resource is analysed without the part that depends on it, in the direction that allows less.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer.analysis import InputOptions, Options, analyze
from analyzer.cli import app

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "fixtures" / "demo"
HCL = ROOT / "fixtures" / "terraform" / "hcl"


def kreach(*args: str):
    return CliRunner().invoke(app, list(args))


def module(tmp_path: Path, **files: str) -> Path:
    for name, text in files.items():
        path = tmp_path / name.replace("__", "/")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def load(path: Path, **inputs):
    return analyze([str(path)], Options(inputs=InputOptions(**inputs)))


def objects(path: Path, **inputs) -> tuple[dict[str, dict], list]:
    from analyzer.inputs.loading import load_paths

    loaded = load_paths([str(path)], inputs=InputOptions(**inputs))
    return ({f"{m.kind}:{m.display}": dict(m.body) for m in loaded.manifests},
            [str(d) for d in loaded.diagnostics])


# --- the demo ----------------------------------------------------------------------------------

def test_the_demo_as_terraform_lists_exactly_the_demo():
    demo = kreach("list", str(DEMO)).stdout
    result = kreach("list", str(HCL))
    assert result.exit_code == 0
    assert result.stderr == ""
    assert result.stdout == demo


def test_a_variable_given_on_the_command_line_closes_the_debug_hole(tmp_path):
    demo = set(kreach("list", str(DEMO)).stdout.splitlines())
    closed = set(kreach("list", str(HCL), "--var", "debug_open_payments=false").stdout.splitlines())
    assert {line for line in demo - closed} == {
        line for line in demo if "=> payments/" in line and "All Connections" in line}
    tfvars = tmp_path / "fix.tfvars"
    tfvars.write_text("debug_open_payments = false\n")
    assert set(kreach("list", str(HCL), "--var-file", str(tfvars)).stdout.splitlines()) == closed


def test_rules_are_cited_at_their_tf_blocks():
    result = kreach("can", "shop/web", "shop/api", str(HCL))
    lines = (HCL / "policies.tf").read_text().splitlines()
    cited = [int(w.rstrip(")").rsplit(":", 1)[1]) for w in result.stdout.split() if "policies.tf:" in w]
    assert [lines[n - 1].strip() for n in cited] == ["egress {", "ingress {"]


# --- what is resolved ----------------------------------------------------------------------------

POLICY = '''
resource "kubernetes_network_policy_v1" "p" {
  metadata {
    name      = "p"
    namespace = %s
  }
  spec {
    pod_selector {
      match_labels = %s
    }
    policy_types = ["Ingress"]
    ingress {
      from {
        ip_block {
          cidr = %s
        }
      }
      ports {
        port = %s
      }
    }
  }
}
'''


@pytest.mark.parametrize("namespace, labels, cidr, port, extra, expected", [
    ('"shop"', '{ app = "web" }', '"10.0.0.0/8"', '"8080"', "",
     ("shop", {"app": "web"}, "10.0.0.0/8", 8080)),
    ("var.ns", "local.labels", 'cidrsubnet("10.0.0.0/8", 8, 1)', "var.port", '''
     variable "ns" { default = "shop" }
     variable "port" { default = 443 }
     locals { labels = merge({ app = "web" }, { tier = "front" }) }
     ''', ("shop", {"app": "web", "tier": "front"}, "10.1.0.0/16", 443)),
    ("kubernetes_namespace_v1.n.metadata[0].name", '{ for k in ["a", "b"] : k => upper(k) }',
     'format("%s/%d", "10.0.0.0", 8)', '"${local.p}"', '''
     locals { p = "http" }
     resource "kubernetes_namespace_v1" "n" {
       metadata { name = "team-${lower("X")}" }
     }
     ''', ("team-x", {"a": "A", "b": "B"}, "10.0.0.0/8", "http")),
    ('var.enabled ? "on" : "off"', "{ (local.key) = 1 + 2 * 3 }", 'join("/", ["0.0.0.0", "0"])',
     'tostring(80)', '''
     variable "enabled" {
       type    = bool
       default = true
     }
     locals { key = "app" }
     ''', ("on", {"app": 7}, "0.0.0.0/0", 80)),
])
def test_expressions_a_plan_knows_from_the_configuration(tmp_path, namespace, labels, cidr, port,
                                                         extra, expected):
    module(tmp_path, **{"main.tf": POLICY % (namespace, labels, cidr, port) + textwrap.dedent(extra)})
    found, diags = objects(tmp_path)
    ns, match, block, number = expected
    policy = found[f"NetworkPolicy:{ns}/p"]
    assert diags == []
    assert policy["spec"]["podSelector"] == {"matchLabels": match}
    assert policy["spec"]["ingress"] == [{"from": [{"ipBlock": {"cidr": block}}],
                                          "ports": [{"port": number}]}]


def test_variables_from_defaults_tfvars_and_the_command_line_in_terraforms_order(tmp_path):
    module(tmp_path, **{
        "main.tf": POLICY % ("var.ns", "{}", '"0.0.0.0/0"', '"80"') + 'variable "ns" { default = "d" }\n',
        "terraform.tfvars": 'ns = "from-tfvars"\n',
        "b.auto.tfvars": 'ns = "from-auto"\n',
        "given.tfvars": 'ns = "from-var-file"\n',
    })
    assert "NetworkPolicy:from-auto/p" in objects(tmp_path)[0]
    assert "NetworkPolicy:from-var-file/p" in objects(tmp_path, tf_var_files=(str(tmp_path / "given.tfvars"),))[0]
    assert "NetworkPolicy:cli/p" in objects(tmp_path, tf_var_files=(str(tmp_path / "given.tfvars"),),
                                            tf_vars=("ns=cli",))[0]


def test_count_for_each_and_dynamic_blocks_make_instances_and_blocks(tmp_path):
    module(tmp_path, **{"main.tf": '''
        variable "teams" { default = ["b", "a"] }
        resource "kubernetes_namespace_v1" "team" {
          for_each = toset(var.teams)
          metadata {
            name   = each.value
            labels = { team = each.key }
          }
        }
        resource "kubernetes_network_policy_v1" "deny" {
          count = length(var.teams)
          metadata {
            name      = "deny-${count.index}"
            namespace = kubernetes_namespace_v1.team[var.teams[count.index]].metadata[0].name
          }
          spec {
            pod_selector {}
            policy_types = ["Ingress"]
            dynamic "ingress" {
              for_each = { web = 80, api = 9000 }
              iterator = rule
              content {
                from {
                  pod_selector {
                    match_labels = { app = rule.key }
                  }
                }
                ports {
                  port = rule.value
                }
              }
            }
          }
        }
    '''})
    found, diags = objects(tmp_path)
    assert diags == []
    assert sorted(found) == ["Namespace:a", "Namespace:b", "NetworkPolicy:a/deny-1",
                             "NetworkPolicy:b/deny-0"]
    assert found["Namespace:a"]["metadata"]["labels"] == {"team": "a"}
    assert found["NetworkPolicy:b/deny-0"]["spec"]["ingress"] == [
        {"from": [{"podSelector": {"matchLabels": {"app": "api"}}}], "ports": [{"port": 9000}]},
        {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}], "ports": [{"port": 80}]},
    ]


def test_kubernetes_manifest_holds_any_object(tmp_path):
    module(tmp_path, **{"main.tf": '''
        resource "kubernetes_manifest" "deny" {
          manifest = {
            apiVersion = "networking.k8s.io/v1"
            kind       = "NetworkPolicy"
            metadata   = { name = "deny", namespace = "shop" }
            spec       = { podSelector = {}, policyTypes = ["Ingress"] }
          }
        }
    '''})
    found, diags = objects(tmp_path)
    assert found["NetworkPolicy:shop/deny"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}


def test_a_local_module_is_read_with_its_arguments_and_addresses_name_it(tmp_path):
    module(tmp_path, **{
        "main.tf": '''
            module "net" {
              source    = "./net"
              namespace = "shop"
            }
            resource "kubernetes_namespace_v1" "n" {
              metadata { name = module.net.namespace }
            }
        ''',
        "net__main.tf": '''
            variable "namespace" {}
            output "namespace" { value = var.namespace }
            resource "kubernetes_network_policy_v1" "deny_all" {
              metadata {
                name      = "deny-all"
                namespace = var.namespace
              }
              spec {
                pod_selector {}
                policy_types = ["Ingress", "Egress"]
                ingress {
                  from {
                    ip_block { cidr = "1.2.3.0/33" }
                  }
                }
              }
            }
        ''',
    })
    found, diags = objects(tmp_path)
    assert sorted(found) == ["Namespace:shop", "NetworkPolicy:shop/deny-all"]
    a = load(tmp_path)
    bad = [d for d in a.diagnostics if d.code == "KR110"]
    assert len(bad) == 1 and bad[0].source.origin == "module.net.kubernetes_network_policy_v1.deny_all"
    assert str(bad[0]).startswith(f"{tmp_path / 'net' / 'main.tf'}:14: error[KR110]")
    assert str(bad[0]).endswith("[module.net.kubernetes_network_policy_v1.deny_all]")


# --- what is not resolved -------------------------------------------------------------------------

def test_an_unknown_peer_is_left_out_and_its_rule_with_it_when_nothing_is_left(tmp_path):
    module(tmp_path, **{"main.tf": '''
        data "kubernetes_namespace_v1" "other" {
          metadata { name = "other" }
        }
        resource "kubernetes_network_policy_v1" "p" {
          metadata {
            name      = "p"
            namespace = "shop"
          }
          spec {
            pod_selector {}
            policy_types = ["Ingress"]
            ingress {
              from {
                namespace_selector {
                  match_labels = { team = data.kubernetes_namespace_v1.other.metadata[0].labels.team }
                }
              }
            }
            ingress {
              from {
                pod_selector {
                  match_labels = { app = "web" }
                }
              }
              from {
                ip_block { cidr = var.office }
              }
            }
          }
        }
        variable "office" { type = string }
    '''})
    found, diags = objects(tmp_path)
    main = tmp_path / "main.tf"
    assert diags == [
        f"{main}:16: warning[KR711]: kubernetes_network_policy_v1.p: cannot resolve "
        "data.kubernetes_namespace_v1.other.metadata[0].labels.team statically (data sources are "
        "read from the cluster at plan time); analysed without spec[0].ingress[0]",
        f"{main}:27: warning[KR711]: kubernetes_network_policy_v1.p: cannot resolve var.office "
        "statically (the variable has no default and no value was given (-var / --var-file)); "
        "analysed without spec[0].ingress[1].from[1]",
    ]
    # the first rule had only the unknown peer: dropped whole, never widened to "from anywhere"
    assert found["NetworkPolicy:shop/p"]["spec"]["ingress"] == [
        {"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}]


@pytest.mark.parametrize("where", ["namespace = var.ns", "name = var.ns"])
def test_an_unknown_name_or_namespace_skips_the_resource(tmp_path, where):
    module(tmp_path, **{"main.tf": f'''
        variable "ns" {{}}
        resource "kubernetes_network_policy_v1" "p" {{
          metadata {{
            name      = "p"
            {where}
          }}
          spec {{
            pod_selector {{}}
            policy_types = ["Ingress"]
          }}
        }}
    '''})
    found, diags = objects(tmp_path)
    assert found == {}
    assert len(diags) == 2  # the skipped resource, and nothing usable left
    assert "cannot resolve var.ns statically" in diags[0] and diags[0].endswith("resource skipped")


def test_an_unknown_pod_selector_skips_the_policy_and_an_unknown_count_the_resource(tmp_path):
    module(tmp_path, **{"main.tf": '''
        resource "kubernetes_network_policy_v1" "p" {
          metadata {
            name      = "p"
            namespace = "shop"
          }
          spec {
            pod_selector {
              match_labels = { app = kubernetes_deployment_v1.d.metadata[0].uid }
            }
            policy_types = ["Ingress"]
          }
        }
        resource "kubernetes_deployment_v1" "d" {
          count = var.n
          metadata {
            name      = "d"
            namespace = "shop"
          }
        }
        variable "n" { type = number }
    '''})
    found, diags = objects(tmp_path)
    assert found == {}
    assert any("kubernetes_deployment_v1.d: cannot resolve var.n statically" in d and
               d.endswith("resource skipped (its count decides its instances)") for d in diags)
    assert any("kubernetes_network_policy_v1.p: cannot resolve" in d and ":9:" in d and
               d.endswith("resource skipped") for d in diags)


def test_a_syntax_error_skips_its_file_and_the_rest_of_the_module_is_read(tmp_path):
    module(tmp_path, **{
        "bad.tf": 'resource "kubernetes_namespace_v1" "x" {\n  metadata {\n    name = \n  }\n}\n',
        "good.tf": 'resource "kubernetes_namespace_v1" "y" {\n  metadata { name = "y" }\n}\n',
    })
    result = kreach("list", str(tmp_path))
    assert result.exit_code == 0
    assert f"{tmp_path / 'bad.tf'}:3: error[KR710]: HCL syntax error: unexpected end of line; this file is skipped" in result.stderr
    found, _ = objects(tmp_path)
    assert list(found) == ["Namespace:y"]
    assert kreach("list", "--strict", str(tmp_path)).exit_code == 2


def test_a_registry_module_is_named_not_read(tmp_path):
    module(tmp_path, **{"main.tf": '''
        module "np" {
          source  = "terraform-module/netpol/kubernetes"
          version = "1.0.0"
        }
        resource "kubernetes_namespace_v1" "y" {
          metadata { name = "y" }
        }
    '''})
    found, diags = objects(tmp_path)
    assert list(found) == ["Namespace:y"]
    assert diags == [f"{tmp_path / 'main.tf'}:2: warning[KR714]: module module.np: source "
                     "'terraform-module/netpol/kubernetes' is not a local directory; its resources "
                     "are not read"]


def test_a_malformed_var_is_a_usage_error():
    result = kreach("list", str(HCL), "--var", "debug_open_payments")
    assert result.exit_code == 2


# --- the expression language, one form at a time ----------------------------------------------

@pytest.mark.parametrize("expr, value", [
    ('"a-${1 + 1}"', "a-2"),
    ("[for s in [\"b\", \"a\", \"c\"] : upper(s) if s != \"c\"]", ["B", "A"]),
    ('{ for k, v in { a = 1, b = 2 } : v => k }', {"1": "a", "2": "b"}),
    ('[{ n = "x" }, { n = "y" }][*].n', ["x", "y"]),
    ('try(undefined_thing.x, "fallback")', "fallback"),
    ('lookup({ a = 1 }, "b", 3)', 3),
    ('concat(["a"], ["b"])', ["a", "b"]),
    ('flatten([["a"], [["b"]]])', ["a", "b"]),
    ('cidrhost("10.0.0.0/24", 5)', "10.0.0.5"),
    ('coalesce("", "x")', "x"),
    ('!true || 3 >= 3', True),
    ('tonumber("8080")', 8080),
    ('"$${literal}"', "${literal}"),
    ('<<-EOT\n    line\n  EOT\n', "line\n"),
    ('format("%s:%d", "a", 1)', "a:1"),
    ('keys({ b = 1, a = 2 })', ["a", "b"]),
])
def test_expression(expr, value):
    from analyzer.inputs.hcl import _parse_expression

    assert _parse_expression(expr) == value


@pytest.mark.parametrize("expr, why", [
    ("timestamp()", "function timestamp() is not evaluated statically"),
    ('"%{ if true }x%{ endif }"', "template directives"),
    ("1 + \"a\"", "+ of int and str"),
])
def test_expressions_kreach_does_not_evaluate_are_unknown_with_a_reason(expr, why):
    from analyzer.inputs.hcl import _FAILED, Evaluator, _NoScope, kids

    import hcl2

    tree = hcl2.parses_to_tree(f"v = {expr}\n")
    attr = next(c for c in kids(kids(tree)[0]) if c.data == "attribute")
    got = Evaluator("x.tf", f"v = {expr}\n", _NoScope()).eval(kids(attr)[1])
    assert got is not _FAILED and why in got.why and got.line == 1


@pytest.mark.parametrize("field, value, outcome", [
    ("policy_types", "var.types", "resource skipped"),
    ("pod_selector { match_labels = var.labels }\n    policy_types", '["Ingress"]', "resource skipped"),
])
def test_unknown_whole_values_are_judged_never_silently_dropped(tmp_path, field, value, outcome):
    module(tmp_path, **{"main.tf": f'''
        variable "types" {{}}
        variable "labels" {{}}
        resource "kubernetes_network_policy_v1" "p" {{
          metadata {{
            name      = "p"
            namespace = "shop"
          }}
          spec {{
            {field} = {value}
          }}
        }}
    '''})
    found, diags = objects(tmp_path)
    assert found == {}
    assert diags[0].endswith(outcome) and "KR711" in diags[0]
