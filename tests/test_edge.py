"""The edge of the cluster (``fixtures/edge``): Services, Ingress, Route, HTTPRoute/GRPCRoute.

A workload is reached from outside when an object routes to it and its ingress policies admit the
sender on the target port; ``list`` shows the ingress controller's connections, ``exposure``
marks edge-exposed findings and lists dead routes, and every route that leads nowhere is a
located warning.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analyzer import analyze
from analyzer.cli import app
from analyzer.engine.edge import edge_routes
from analyzer.model.edge import edge_object, resolve
from analyzer.query.engine import Engine
from analyzer.query.exposure import exposure
from analyzer.source import SourceRef

ROOT = Path(__file__).resolve().parents[1]
EDGE = str(ROOT / "fixtures" / "edge")
SRC = SourceRef("x.yaml", 1)
runner = CliRunner()


@pytest.fixture(scope="module")
def analysis():
    return analyze([EDGE])


def test_the_ingress_controller_reaches_the_named_target_port_the_policy_admits(analysis):
    edges = {(s, d): a.conns.to_text() for (s, d), a in analysis.view.edges.items()
             if s == "{ingress-controller}"}
    # web: Service port 80 -> targetPort "http" -> containerPort 8080, open to every pod
    # api: routed to 9000, but only pods of shop are admitted: no connection, a dead route
    assert edges == {("{ingress-controller}", "shop/web[Deployment]"): "TCP 8080"}


def test_the_connectivity_json_has_an_ingress_controller_endpoint():
    out = runner.invoke(app, ["list", EDGE, "--format", "json", "-q"]).stdout
    doc = json.loads(out)
    assert doc["endpoints"]["{ingress-controller}"] == {"type": "ingress-controller"}
    [c] = [c for c in doc["connections"] if c["src"] == "{ingress-controller}"]
    assert c["protocols"] == {"TCP": [[8080, 8080]]} and c["allowed_by"]["egress"] == []


def test_each_route_that_leads_nowhere_is_a_located_warning(analysis):
    found = {(d.code, d.source.line) for d in analysis.diagnostics if d.code.startswith("KR24")}
    assert found == {
        ("KR240", 71),   # Service orphan: its selector matches no pod
        ("KR241", 99),   # the Ingress backend naming Service gone
        ("KR243", 140),  # Service web-admin: targetPort "admin" no pod declares
        ("KR244", 75),   # the Ingress route to api, blocked by api's policy
    }


def test_exposure_ranks_edge_exposed_findings_first_and_lists_dead_routes(analysis):
    report = exposure(Engine.from_analysis(analysis), ("ingress",))
    first = report.findings[0]
    assert (first.workload, first.peer.kind) == ("shop/web[Deployment]", "cluster")
    assert [(r.route.kind, r.route.port) for r in first.edge] == [("Ingress", 8080)]
    assert not any(f.edge for f in report.findings[1:])
    assert {(r.route.kind, r.route.name, r.route.port) for r in report.dead_routes} == {
        ("Ingress", "shop/shop", 9000), ("Service", "shop/api", 9000)}


def test_a_load_balancer_is_admitted_when_an_outside_address_may_reach_the_port(analysis):
    reached, _ = edge_routes(analysis.reachability)
    lb = [r for r in reached if r.route.kind == "Service"]
    assert [(r.route.name, r.admitted) for r in lb] == [("shop/api", False)]


def body(spec):
    return {"spec": spec}


@pytest.mark.parametrize("kind, spec, expected", [
    ("Ingress", {"defaultBackend": {"service": {"name": "a", "port": {"number": 80}}}}, [("ns", "a", 80)]),
    ("Ingress", {"rules": [{"http": {"paths": [{"backend": {"service": {"name": "a", "port": {"name": "web"}}}}]}}]},
     [("ns", "a", "web")]),
    ("Route", {"to": {"kind": "Service", "name": "a"}, "port": {"targetPort": "http"},
               "alternateBackends": [{"kind": "Service", "name": "b"}]}, [("ns", "a", "http"), ("ns", "b", "http")]),
    ("Route", {"to": {"kind": "Service", "name": "a"}}, [("ns", "a", None)]),
    ("HTTPRoute", {"parentRefs": [{"name": "gw"}],
                   "rules": [{"backendRefs": [{"name": "a", "port": 8080}, {"name": "b", "namespace": "other", "port": 80},
                                              {"name": "x", "kind": "ServiceImport"}]}]},
     [("ns", "a", 8080), ("other", "b", 80)]),
])
def test_backends_are_read_from_each_kind(kind, spec, expected):
    e = edge_object(kind, "ns", "r", body(spec), SRC)
    assert [(b.namespace, b.service, b.port) for b in e.backends] == expected


def test_a_route_picks_service_ports_by_target_port_an_ingress_by_port_number_or_name():
    cluster = analyze([EDGE]).cluster
    from dataclasses import replace
    route = edge_object("Route", "shop", "r", body({"to": {"kind": "Service", "name": "web"},
                                                    "port": {"targetPort": "http"}}), SRC)
    wrong = edge_object("Ingress", "shop", "i", body({"defaultBackend": {"service": {
        "name": "web", "port": {"number": 8080}}}}), SRC)  # 8080 is the targetPort, not the port
    routes, problems = resolve(replace(cluster, edges=(route, wrong)))
    assert {(r.kind, r.workload, r.port) for r in routes if r.kind == "Route"} == {
        ("Route", "shop/web[Deployment]", 8080)}
    assert [p.code for p in problems if p.code == "KR242"] == ["KR242"]


# --- Services as endpoints ------------------------------------------------------------------------

@pytest.mark.parametrize("text, ns, name, port", [
    ("svc/shop/api", "shop", "api", None),
    ("svc/shop/api:grpc", "shop", "api", "grpc"),
    ("svc/shop/api:443", "shop", "api", 443),
])
def test_a_service_endpoint_parses_and_prints_back(text, ns, name, port):
    from analyzer.query.endpoints import ServiceRef, parse_endpoint

    e = parse_endpoint(text)
    assert e == ServiceRef(ns, name, port) and str(e) == text


@pytest.mark.parametrize("args, code, says", [
    (["shop/web", "svc/shop/api:443"], 0, "TCP 9000"),     # port 443 -> targetPort 9000
    (["shop/api", "svc/shop/web:http"], 0, "TCP 8080"),    # named targetPort "http" on the pods
    (["shop/api", "svc/shop/web:http", "--port", "80"], 2, "leads to TCP 8080"),
    (["shop/api", "svc/shop/web:nope"], 2, "has no port nope (ports: http)"),
    (["shop/api", "svc/shop/gone"], 2, "no Service shop/gone"),
    (["shop/api", "svc/shop/orphan"], 2, "matches no pod"),
])
def test_can_asks_about_the_target_port_of_a_service_port(args, code, says):
    result = runner.invoke(app, ["can", args[0], args[1], EDGE, "-q", *args[2:]])
    assert result.exit_code == code, result.output
    assert says in result.output


# --- Gateway API: a route carries outside traffic only through a Gateway that admits it -----------

def _http_route(parents):
    return edge_object("HTTPRoute", "shop", "r", body({
        "parentRefs": parents, "rules": [{"backendRefs": [{"name": "web", "port": 80}]}]}), SRC)


def _gateway(namespace, allowed):
    listener = {"name": "http", "port": 80, "protocol": "HTTP"}
    if allowed is not None:
        listener["allowedRoutes"] = {"namespaces": allowed}
    return edge_object("Gateway", namespace, "gw", body({"gatewayClassName": "x", "listeners": [listener]}), SRC)


@pytest.mark.parametrize("parents, gateway, routed", [
    ([{"name": "gw"}], ("shop", None), True),                                  # Same (default), same namespace
    ([{"name": "gw", "namespace": "infra"}], ("infra", None), False),          # Same, other namespace
    ([{"name": "gw", "namespace": "infra"}], ("infra", {"from": "All"}), True),
    ([{"name": "gw", "namespace": "infra"}],
     ("infra", {"from": "Selector", "selector": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}}), True),
    ([{"name": "gw", "namespace": "infra"}],
     ("infra", {"from": "Selector", "selector": {"matchLabels": {"team": "none"}}}), False),
    ([{"name": "elsewhere", "namespace": "infra"}], ("infra", None), True),    # its Gateway is not in the input
    ([], ("shop", {"from": "All"}), False),                                     # attached to no Gateway
])
def test_an_http_route_is_routed_only_through_a_gateway_that_admits_its_namespace(parents, gateway, routed):
    from dataclasses import replace

    cluster = analyze([EDGE]).cluster
    routes, _ = resolve(replace(cluster, edges=(_http_route(parents), _gateway(*gateway))))
    assert any(r.kind == "HTTPRoute" for r in routes) is routed
