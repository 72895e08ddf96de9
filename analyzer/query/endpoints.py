"""Endpoint expressions: the one small grammar every query command and the Python API use.

========================  ==========================================================================
expression                endpoint
========================  ==========================================================================
``shop/web``              the pods of workload ``web`` in ``shop`` (any kind; ``shop/web[StatefulSet]``
                          picks one kind)
``shop/pod/web-0``        the pod ``web-0`` in ``shop`` (``shop/web-0``, as ``list --level pod`` prints it,
                          names it too when no workload has that name)
``web``, ``web[Kind]``    a workload (or pod) by name alone, when the name is in one namespace only
``shop/*``                every pod of namespace ``shop``
``shop:app=web,tier!=db`` pods of ``shop`` meeting every label requirement
``ns:team=pay/app=api``   pods labelled ``app=api`` in namespaces labelled ``team=pay`` (pod part optional)
``*``                     every pod in the cluster
``internet``              every address outside the modelled pods (all of IPv4 and IPv6)
``203.0.113.0/24``        an address range (or a single address; ``10.0.0.0-10.0.0.255`` as kreach prints it)
``new:dev``               a pod that does not exist yet, in namespace ``dev``, with any labels
``new:dev:app=x``         the same, with at least the labels the requirements demand
``new:dev:{}``            the same, with no labels at all
``new:*`` ``new:*:app=x`` a new pod in any namespace, existing or not
``svc/shop/api``          the pods Service ``api`` of ``shop`` selects
``svc/shop/api:http``     the same, on the Service port ``http`` (name or number): the question is
                          asked on its targetPort, resolved on the selected pods
========================  ==========================================================================

Label requirements follow the Kubernetes set-based syntax: ``key=value`` (or ``==``),
``key!=value``, ``key``, ``!key``, ``key in (a,b)``, ``key notin (a,b)``, separated by commas.
Parsing only builds values; resolving them against a cluster is the query engine's job.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from ..model.connset import ALL_IPS, V6_BASE, IntervalSet, cidr_interval
from ..model.selectors import LabelSelector, MATCH_ALL, Requirement


class EndpointError(ValueError):
    """An endpoint expression that does not parse."""


@dataclass(frozen=True)
class WorkloadRef:
    namespace: str
    name: str
    kind: str | None = None

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}" + (f"[{self.kind}]" if self.kind else "")


@dataclass(frozen=True)
class PodRef:
    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/pod/{self.name}"


@dataclass(frozen=True)
class PodSelection:
    """Existing pods chosen by namespace (name or selector) and pod labels. ``namespace`` and
    ``namespace_selector`` both None: every namespace."""

    pod_selector: LabelSelector = MATCH_ALL
    namespace: str | None = None
    namespace_selector: LabelSelector | None = None

    def __str__(self) -> str:
        if self.namespace is not None:
            return f"{self.namespace}:{self.pod_selector}" if not self.pod_selector.is_empty \
                else f"{self.namespace}/*"
        if self.namespace_selector is not None:
            pods = "" if self.pod_selector.is_empty else f"/{self.pod_selector}"
            return f"ns:{self.namespace_selector}{pods}"
        return "*" if self.pod_selector.is_empty else f"*:{self.pod_selector}"


@dataclass(frozen=True)
class Addresses:
    """Addresses outside the cluster, in the shared v4/v6 integer space of :mod:`connset`."""

    addresses: IntervalSet
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class NewPod:
    """A hypothetical pod: ``namespace`` None means any namespace, existing or new. Its labels
    are free except what ``pod_selector`` demands; ``no_labels``: it has no labels at all
    (``new:dev:{}``, as ``labels: {}`` in a manifest)."""

    namespace: str | None
    pod_selector: LabelSelector = MATCH_ALL
    no_labels: bool = False

    def __str__(self) -> str:
        ns = self.namespace if self.namespace is not None else "*"
        if self.no_labels:
            return f"new:{ns}:{{}}"
        return f"new:{ns}" + ("" if self.pod_selector.is_empty else f":{self.pod_selector}")


@dataclass(frozen=True)
class NameRef:
    """A workload or pod named without its namespace: it must be unique across namespaces."""

    name: str
    kind: str | None = None

    def __str__(self) -> str:
        return self.name + (f"[{self.kind}]" if self.kind else "")


@dataclass(frozen=True)
class ServiceRef:
    """The pods a Service selects; ``port`` (a Service port name or number) fixes the port of
    the question to that port's targetPort."""

    namespace: str
    name: str
    port: str | int | None = None

    def __str__(self) -> str:
        return f"svc/{self.namespace}/{self.name}" + ("" if self.port is None else f":{self.port}")


Endpoint = WorkloadRef | PodRef | PodSelection | Addresses | NewPod | NameRef | ServiceRef

INTERNET = Addresses(ALL_IPS, "internet")

_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?"
_NAME_RE = re.compile(rf"^{_NAME}\Z")
_WORKLOAD_RE = re.compile(rf"^({_NAME})/({_NAME})(\[([A-Za-z]+)\])?\Z")
_POD_RE = re.compile(rf"^({_NAME})/pod/({_NAME})\Z")
_SERVICE_RE = re.compile(rf"^svc/({_NAME})/({_NAME})(:({_NAME}))?\Z")
_BARE_RE = re.compile(rf"^({_NAME})(\[([A-Za-z]+)\])?\Z")
_KEY_RE = re.compile(rf"({_NAME}/)?{_NAME}")
_VALUE_RE = re.compile(rf"({_NAME})?")


def parse_endpoint(text: str) -> Endpoint:
    """Parse one endpoint expression; raise :class:`EndpointError` saying what is wrong."""
    s = text.strip()
    if not s:
        raise EndpointError("empty endpoint")
    if s == "*":
        return PodSelection()
    if s == "internet":
        return INTERNET
    addresses = _addresses(s)
    if addresses is not None:
        return addresses
    if s.startswith("new:"):
        return _new_pod(s[4:], text)
    if s.startswith("ns:"):
        ns_reqs, rest = _Requirements(s[3:], text).parse(stop="/")
        pods = MATCH_ALL
        if rest is not None:
            pods, _ = _Requirements(rest, text).parse()
        return PodSelection(pods, None, ns_reqs)
    if s.startswith("*:"):
        return PodSelection(_Requirements(s[2:], text).parse()[0])
    if m := _SERVICE_RE.match(s):
        port = m.group(6)
        return ServiceRef(m.group(1), m.group(3), int(port) if port and port.isdigit() else port)
    if s.startswith("svc/"):
        raise EndpointError(f"{text!r}: expected svc/NAMESPACE/NAME or svc/NAMESPACE/NAME:PORT")
    if m := _POD_RE.match(s):
        return PodRef(m.group(1), m.group(3))
    if s.endswith("/*") and _NAME_RE.match(s[:-2]):
        return PodSelection(MATCH_ALL, s[:-2])
    if m := _WORKLOAD_RE.match(s):
        return WorkloadRef(m.group(1), m.group(3), m.group(6))
    if m := _BARE_RE.match(s):
        return NameRef(m.group(1), m.group(4))
    if ":" in s:
        ns, reqs = s.split(":", 1)
        if not _NAME_RE.match(ns):
            raise EndpointError(f"{text!r}: {ns!r} is not a namespace name")
        return PodSelection(_Requirements(reqs, text).parse()[0], ns)
    raise EndpointError(
        f"{text!r} is not an endpoint; expected ns/workload, ns/pod/name, a bare name, ns:labels, "
        "ns:nslabels/podlabels, svc/ns/name[:port], *, internet, a CIDR, or new:ns[:labels]")


_ADDRESS_CHARS = re.compile(r"^[0-9a-fA-F:.]+(/\d+)?\Z")


def _addresses(s: str) -> Addresses | None:
    if "-" in s:
        return _address_range(s)
    if not _ADDRESS_CHARS.match(s) or ("." not in s and ":" not in s):
        return None
    try:
        ipaddress.ip_network(s, strict=False)
    except ValueError as e:
        if re.match(r"^(\d{1,3}\.){3}\d{1,3}(/\d+)?\Z", s) or s.count(":") >= 2:
            raise EndpointError(f"{s!r} is not a valid address or CIDR: {e}") from None
        return None
    return Addresses(IntervalSet.span(*cidr_interval(s)), s)


def _address_range(s: str) -> Addresses | None:
    """``FIRST-LAST``, the form kreach prints external ranges in (both ends included)."""
    first, _, last = s.partition("-")
    if not (_ADDRESS_CHARS.match(first) and _ADDRESS_CHARS.match(last)) or "/" in first + last:
        return None
    try:
        a, b = ipaddress.ip_address(first), ipaddress.ip_address(last)
    except ValueError:
        return None
    if a.version != b.version or int(a) > int(b):
        raise EndpointError(f"{s!r}: a range goes from a lower to a higher address of one family")
    base = 0 if a.version == 4 else V6_BASE
    return Addresses(IntervalSet.span(base + int(a), base + int(b)), s)


def _new_pod(rest: str, text: str) -> NewPod:
    ns, sep, reqs = rest.partition(":")
    if ns != "*" and not _NAME_RE.match(ns):
        raise EndpointError(f"{text!r}: expected new:NAMESPACE or new:* before the labels")
    if sep and reqs.strip() == "{}":
        return NewPod(None if ns == "*" else ns, MATCH_ALL, no_labels=True)
    selector = _Requirements(reqs, text).parse()[0] if sep else MATCH_ALL
    return NewPod(None if ns == "*" else ns, selector)


class _Requirements:
    """A recursive-descent reader of comma-separated label requirements."""

    def __init__(self, s: str, text: str) -> None:
        self.s, self.text, self.i = s, text, 0

    def error(self, what: str) -> EndpointError:
        return EndpointError(f"{self.text!r}: {what} at {self.s[self.i:]!r}" if self.i < len(self.s)
                             else f"{self.text!r}: {what} at the end")

    def parse(self, stop: str | None = None) -> tuple[LabelSelector, str | None]:
        """Requirements up to the end (or up to ``stop``; the rest after it is returned)."""
        reqs: list[Requirement] = []
        if self.i >= len(self.s) or (stop is not None and self.s.startswith(stop, self.i)):
            raise self.error("expected label requirements")
        while self.i < len(self.s):
            reqs.append(self.requirement())
            if self.i == len(self.s):
                break
            c = self.s[self.i]
            if stop is not None and c == stop:
                return LabelSelector.build(None, tuple(reqs)), self.s[self.i + 1:]
            if c != ",":
                raise self.error("expected ','")
            self.i += 1
            if self.i == len(self.s):
                raise self.error("expected a requirement after ','")
        return LabelSelector.build(None, tuple(reqs)), None

    def skip_spaces(self) -> None:
        while self.i < len(self.s) and self.s[self.i] == " ":
            self.i += 1

    def take(self, regex: re.Pattern, what: str) -> str:
        m = regex.match(self.s, self.i)
        if m is None or (what == "a label key" and not m.group(0)):
            raise self.error(f"expected {what}")
        self.i = m.end()
        return m.group(0)

    def requirement(self) -> Requirement:
        self.skip_spaces()
        if self.s.startswith("!", self.i):
            self.i += 1
            return Requirement(self.take(_KEY_RE, "a label key"), "DoesNotExist")
        key = self.take(_KEY_RE, "a label key")
        rest = self.s[self.i:]
        for op, name in (("!=", "NotIn"), ("==", "In"), ("=", "In")):
            if rest.startswith(op):
                self.i += len(op)
                return Requirement(key, name, frozenset({self.take(_VALUE_RE, "a label value")}))
        m = re.match(r" +(in|notin) *\(", rest)
        if m:
            self.i += m.end()
            values = []
            while True:
                self.skip_spaces()
                if self.s.startswith(")", self.i) and not values:
                    raise self.error("expected at least one value in the set")
                values.append(self.take(_VALUE_RE, "a label value"))
                self.skip_spaces()
                if self.s.startswith(")", self.i):
                    self.i += 1
                    break
                if not self.s.startswith(",", self.i):
                    raise self.error("expected ',' or ')'")
                self.i += 1
            return Requirement(key, "In" if m.group(1) == "in" else "NotIn", frozenset(values))
        self.skip_spaces()
        return Requirement(key, "Exists")


def format_selector(selector: LabelSelector) -> str:
    """The selector in this grammar (``{}`` for the empty one)."""
    return str(selector)
