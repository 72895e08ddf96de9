"""The connection-set algebra (analyzer.model.connset) obeys the laws of sets, in canonical form.

Every generated value is checked against a brute-force model: an :class:`IntervalSet` over a small
universe is the Python set of its members, a :class:`ConnectionSet` the set of its (protocol, port)
pairs. Canonical form makes ``==`` semantic equality, which is what lets the engine cache and compare
sets freely.
"""

from __future__ import annotations

import ipaddress

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.model.connset import (ALL_CONNECTIONS, ALL_IPS, ALL_IPV4, ALL_IPV6, ALL_PORTS, EMPTY,
                              IP_MAX, NO_CONNECTIONS, PROTOCOLS, V4_MAX, V6_BASE, ConnectionSet,
                              IntervalSet, cidr_interval, ip_block_set, range_text, split_families)

LAWS = settings(max_examples=100, deadline=None)

UNIVERSE = range(0, 24)  # small enough to enumerate, big enough for gaps and adjacency

pair = st.tuples(st.integers(0, 23), st.integers(0, 23))
interval_sets = st.lists(pair, max_size=6).map(IntervalSet.of)
PORTS = range(1, 13)
port_pair = st.tuples(st.integers(1, 12), st.integers(1, 12))
conn_sets = st.lists(st.tuples(st.sampled_from(PROTOCOLS), port_pair), max_size=6).map(
    lambda items: ConnectionSet.of([(p, IntervalSet.of([span])) for p, span in items]))


def members(s: IntervalSet) -> set[int]:
    return {v for v in UNIVERSE if v in s}


def brute(s: IntervalSet) -> set[int]:
    """Members by expanding the intervals (independent of ``__contains__``)."""
    return {v for lo, hi in s.intervals for v in range(lo, hi + 1)}


def conn_members(c: ConnectionSet) -> set[tuple[str, int]]:
    return {(p, port) for p in PROTOCOLS for port in PORTS if c.allows(p, port)}


def is_canonical(s: IntervalSet) -> bool:
    ivs = s.intervals
    return (all(lo <= hi for lo, hi in ivs)
            and all(a_hi + 1 < b_lo for (_, a_hi), (b_lo, _) in zip(ivs, ivs[1:])))


def conn_is_canonical(c: ConnectionSet) -> bool:
    protos = [p for p, _ in c.by_protocol]
    return (protos == sorted(set(protos)) and all(s and is_canonical(s) for _, s in c.by_protocol))


# --- IntervalSet ---------------------------------------------------------------------------------

@LAWS
@given(st.lists(pair, max_size=8))
def test_of_builds_the_canonical_form_of_the_union_of_its_pairs(pairs):
    s = IntervalSet.of(pairs)
    assert is_canonical(s)
    assert brute(s) == {v for lo, hi in pairs for v in range(lo, hi + 1)}


@LAWS
@given(interval_sets, interval_sets)
def test_equality_is_equality_of_members(a, b):
    assert (a == b) == (brute(a) == brute(b))
    # the same members spelled as single points give the same value
    assert IntervalSet.of((v, v) for v in brute(a)) == a
    assert hash(IntervalSet.of((v, v) for v in brute(a))) == hash(a)


@LAWS
@given(interval_sets, interval_sets)
def test_union_intersection_difference_agree_with_python_sets(a, b):
    for result, expected in ((a | b, brute(a) | brute(b)),
                             (a & b, brute(a) & brute(b)),
                             (a - b, brute(a) - brute(b))):
        assert is_canonical(result)
        assert brute(result) == expected
    assert members(a) == brute(a)  # __contains__ agrees with the intervals


@LAWS
@given(interval_sets, interval_sets, interval_sets)
def test_union_and_intersection_are_associative_commutative_and_distributive(a, b, c):
    assert a | b == b | a
    assert a & b == b & a
    assert (a | b) | c == a | (b | c)
    assert (a & b) & c == a & (b & c)
    assert a & (b | c) == (a & b) | (a & c)
    assert a | (b & c) == (a | b) & (a | c)


@LAWS
@given(interval_sets, interval_sets, interval_sets)
def test_de_morgan_relative_to_any_universe(u, a, b):
    assert u - (a | b) == (u - a) & (u - b)
    assert u - (a & b) == (u - a) | (u - b)


@LAWS
@given(interval_sets, interval_sets)
def test_identities_with_empty_and_self(a, b):
    assert a | EMPTY == a and a & EMPTY == EMPTY and a - EMPTY == a
    assert a - a == EMPTY and a | a == a and a & a == a
    assert (a - b) | (a & b) == a
    assert (a - b) & b == EMPTY


@LAWS
@given(interval_sets, interval_sets)
def test_issubset_and_size_agree_with_python_sets(a, b):
    assert a.issubset(b) == (brute(a) <= brute(b))
    assert (a & b).issubset(a)
    assert a.size() == len(brute(a))
    assert bool(a) == bool(brute(a))


def test_adjacent_and_overlapping_intervals_merge_and_reversed_pairs_are_empty():
    assert IntervalSet.of([(5, 7), (1, 4)]).intervals == ((1, 7),)
    assert IntervalSet.of([(1, 3), (5, 7)]).intervals == ((1, 3), (5, 7))
    assert IntervalSet.of([(1, 10), (3, 4)]).intervals == ((1, 10),)
    assert IntervalSet.of([(9, 2)]) == EMPTY
    assert IntervalSet.span(9, 2) == EMPTY
    assert ALL_PORTS.intervals == ((1, 65535),)


# --- ConnectionSet -------------------------------------------------------------------------------

@LAWS
@given(conn_sets, conn_sets)
def test_connection_set_operations_agree_with_sets_of_protocol_port_pairs(a, b):
    for result, expected in ((a | b, conn_members(a) | conn_members(b)),
                             (a & b, conn_members(a) & conn_members(b)),
                             (a - b, conn_members(a) - conn_members(b))):
        assert conn_is_canonical(result)
        assert conn_members(result) == expected
    assert a.issubset(b) == (conn_members(a) <= conn_members(b))
    assert (a == b) == (conn_members(a) == conn_members(b))
    assert bool(a) == bool(conn_members(a))


@LAWS
@given(conn_sets, conn_sets, conn_sets)
def test_connection_set_laws(a, b, c):
    assert a | b == b | a and a & b == b & a
    assert (a | b) | c == a | (b | c) and (a & b) & c == a & (b & c)
    assert a & (b | c) == (a & b) | (a & c)
    assert c - (a | b) == (c - a) & (c - b)
    assert c - (a & b) == (c - a) | (c - b)
    assert a | NO_CONNECTIONS == a and a & ALL_CONNECTIONS == a
    assert a.issubset(ALL_CONNECTIONS) and NO_CONNECTIONS.issubset(a)


@LAWS
@given(conn_sets)
def test_complement_within_all_connections(a):
    rest = ALL_CONNECTIONS - a
    assert rest & a == NO_CONNECTIONS
    assert (rest | a).is_all()
    assert (rest | a) == ALL_CONNECTIONS


def test_empty_protocols_are_dropped_so_equal_sets_are_equal_values():
    assert ConnectionSet.of({"TCP": EMPTY, "UDP": IntervalSet.span(53, 53)}) == \
        ConnectionSet.ports("UDP", 53, 53)
    assert ConnectionSet.ports("TCP", 80, 80) - ConnectionSet.ports("TCP") == NO_CONNECTIONS
    assert ConnectionSet.of([("TCP", IntervalSet.span(1, 100)), ("TCP", IntervalSet.span(101, 65535))]) \
        == ConnectionSet.ports("TCP")


@pytest.mark.parametrize("conns, text", [
    (ConnectionSet.of({"TCP": IntervalSet.of([(80, 80), (8080, 8090)]),
                       "UDP": IntervalSet.span(53, 53)}), "TCP 80,8080-8090,UDP 53"),
    (ConnectionSet.of({p: ALL_PORTS for p in PROTOCOLS}), "All Connections"),
    (ALL_CONNECTIONS, "All Connections"),
    (NO_CONNECTIONS, "No Connections"),
    (ConnectionSet.ports("TCP") | ConnectionSet.ports("UDP"), "TCP 1-65535,UDP 1-65535"),
    (ConnectionSet.ports("UDP", 53, 53) | ConnectionSet.ports("SCTP", 9000, 9001), "SCTP 9000-9001,UDP 53"),
])
def test_to_text(conns, text):
    assert conns.to_text() == text


def test_to_json_lists_closed_port_intervals_per_protocol():
    conns = ConnectionSet.of({"UDP": IntervalSet.span(53, 53),
                              "TCP": IntervalSet.of([(80, 80), (8080, 8090)])})
    assert conns.to_json() == {"TCP": [[80, 80], [8080, 8090]], "UDP": [[53, 53]]}
    assert NO_CONNECTIONS.to_json() == {}


# --- addresses -----------------------------------------------------------------------------------

def v4(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def v6(text: str) -> int:
    return V6_BASE + int(ipaddress.IPv6Address(text))


def test_ip_block_with_except_leaves_the_holes_out():
    s = ip_block_set("10.0.0.0/8", ["10.1.0.0/16", "10.3.0.0/16"])
    assert s.intervals == ((v4("10.0.0.0"), v4("10.0.255.255")),
                           (v4("10.2.0.0"), v4("10.2.255.255")),
                           (v4("10.4.0.0"), v4("10.255.255.255")))
    assert s.size() == 2**24 - 2 * 2**16


def test_ip_block_ignores_host_bits_as_kubernetes_does():
    assert cidr_interval("10.0.0.1/8") == cidr_interval("10.0.0.0/8")
    assert ip_block_set("192.168.1.7/32") == IntervalSet.span(v4("192.168.1.7"), v4("192.168.1.7"))


def test_ipv6_blocks_live_above_every_ipv4_address():
    s = ip_block_set("2001:db8::/32", ["2001:db8:1::/48"])
    assert s.issubset(ALL_IPV6) and not (s & ALL_IPV4)
    assert s.intervals[0] == (v6("2001:db8::"), v6("2001:db8:0:ffff:ffff:ffff:ffff:ffff"))
    assert ip_block_set("0.0.0.0/0") == ALL_IPV4
    assert ip_block_set("::/0") == ALL_IPV6
    assert ALL_IPV4 | ALL_IPV6 == ALL_IPS


@pytest.mark.parametrize("lo, hi, text", [
    (v4("0.0.0.0"), v4("9.255.255.255"), "0.0.0.0-9.255.255.255"),
    (v4("10.0.0.0"), v4("10.0.0.0"), "10.0.0.0-10.0.0.0"),
    (v6("::"), v6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    (v6("2001:db8::"), v6("2001:db8:0:ffff:ffff:ffff:ffff:ffff"),
     "2001:db8::-2001:db8:0:ffff:ffff:ffff:ffff:ffff"),
])
def test_range_text(lo, hi, text):
    assert range_text(lo, hi) == text


def test_split_families_cuts_only_intervals_that_straddle_the_boundary():
    straddling = IntervalSet.span(v4("255.255.255.254"), v6("::5"))
    assert straddling.intervals == ((V4_MAX - 1, V6_BASE + 5),)  # one interval in the shared space
    pieces = split_families(straddling)
    assert [range_text(lo, hi) for lo, hi in pieces] == ["255.255.255.254-255.255.255.255", "::-::5"]
    assert [range_text(lo, hi) for lo, hi in split_families(ALL_IPS)] == \
        ["0.0.0.0-255.255.255.255", "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"]
    inside = ip_block_set("10.0.0.0/8") | ip_block_set("fd00::/8")
    assert split_families(inside) == inside


@LAWS
@given(st.lists(st.tuples(st.integers(0, IP_MAX), st.integers(0, IP_MAX)), max_size=4))
def test_split_families_keeps_the_members_and_never_straddles(pairs):
    s = IntervalSet.of(pairs)
    split = split_families(s)
    assert (split & ALL_IPV4) | (split & ALL_IPV6) == s
    assert all(hi <= V4_MAX or lo >= V6_BASE for lo, hi in split)
