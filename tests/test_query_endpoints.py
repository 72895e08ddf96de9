"""The endpoint grammar (docs/queries.md): every form parses to the endpoint it names, and
malformed text is a clear EndpointError (a ValueError)."""

from __future__ import annotations

import pytest

from analyzer.model.connset import cidr_interval
from analyzer.query.endpoints import (INTERNET, Addresses, EndpointError, NewPod, PodRef, PodSelection,
                                WorkloadRef, parse_endpoint)
from analyzer.model.selectors import LabelSelector, Requirement


def sel(*reqs: Requirement) -> LabelSelector:
    return LabelSelector.build(None, reqs)


@pytest.mark.parametrize("text, expected", [
    ("shop/web", WorkloadRef("shop", "web")),
    ("shop/web[StatefulSet]", WorkloadRef("shop", "web", "StatefulSet")),
    ("shop/pod/web-0", PodRef("shop", "web-0")),
    ("shop/*", PodSelection(namespace="shop")),
    ("shop:app=web,tier!=db", PodSelection(sel(Requirement("app", "In", frozenset({"web"})),
                                               Requirement("tier", "NotIn", frozenset({"db"}))),
                                           "shop")),
    ("shop:tier in (a, b),!debug,canary,env notin (dev)",
     PodSelection(sel(Requirement("tier", "In", frozenset({"a", "b"})),
                      Requirement("debug", "DoesNotExist"), Requirement("canary", "Exists"),
                      Requirement("env", "NotIn", frozenset({"dev"}))), "shop")),
    ("ns:team=payments/app=api", PodSelection(sel(Requirement("app", "In", frozenset({"api"}))), None,
                                              sel(Requirement("team", "In", frozenset({"payments"}))))),
    ("ns:kubernetes.io/metadata.name=dev",
     PodSelection(sel(), None, sel(Requirement("kubernetes.io/metadata.name", "In", frozenset({"dev"}))))),
    ("*", PodSelection()),
    ("internet", INTERNET),
    ("new:dev", NewPod("dev")),
    ("new:dev:app=x", NewPod("dev", sel(Requirement("app", "In", frozenset({"x"}))))),
    ("new:*", NewPod(None)),
])
def test_each_form_parses_to_its_endpoint(text, expected):
    assert parse_endpoint(text) == expected


@pytest.mark.parametrize("text", ["203.0.113.0/24", "10.1.2.3", "2001:db8::/32", "::1"])
def test_addresses_and_cidrs_are_address_ranges(text):
    e = parse_endpoint(text)
    assert isinstance(e, Addresses)
    lo, hi = cidr_interval(text)
    assert e.addresses.intervals == ((lo, hi),)


@pytest.mark.parametrize("text", ["shop/web", "shop/pod/web-0", "shop:app=web,tier!=db",
                                  "ns:team=payments/app=api", "*", "new:dev:app=x", "new:*", "shop/*"])
def test_printing_an_endpoint_gives_text_that_parses_back_to_it(text):
    e = parse_endpoint(text)
    assert parse_endpoint(str(e)) == e


@pytest.mark.parametrize("text", ["", "shop!", "a:,", "a:b=c,", "new:", "new:Bad Name", "shop:app in (a",
                                  "shop:app=web;x"])
def test_malformed_text_is_an_endpoint_error(text):
    with pytest.raises(EndpointError):
        parse_endpoint(text)
    assert issubclass(EndpointError, ValueError)


@pytest.mark.parametrize("text", ["1.2.3.4/33", "300.1.1.1/8", "shop:app in ()", "ns:", "ns:x=y/",
                                  "new:dev:"])
def test_malformed_endpoints_are_rejected_with_a_reason(text):
    from analyzer.query.endpoints import EndpointError, parse_endpoint

    with pytest.raises(EndpointError):
        parse_endpoint(text)
