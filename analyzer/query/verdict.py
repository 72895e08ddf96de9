"""Query results as data: the answer, a witness, and the rules responsible. Writers render them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..engine.compile import RuleRef
from ..engine.edge import Reached
from ..model.cluster import NAME_LABEL
from ..model.connset import ConnectionSet
from ..model.selectors import LabelSelector


class Answer(str, Enum):
    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"  # the solver gave up (timeout); never read as yes or no


@dataclass(frozen=True)
class PodWitness:
    """A concrete pod, or (``hypothetical``) the labels a pod that does not exist yet needs.
    ``labels`` of a hypothetical pod are only those the policies look at; ``absent`` lists keys
    it must not carry; ``ports`` container ports it must name; ``namespace_labels`` are given
    when its namespace does not exist yet."""

    namespace: str
    name: str | None = None
    workload: str | None = None
    hypothetical: bool = False
    labels: tuple[tuple[str, str], ...] = ()
    absent: tuple[str, ...] = ()
    ports: tuple[tuple[str, str, int], ...] = ()
    namespace_labels: tuple[tuple[str, str], ...] | None = None

    def __str__(self) -> str:
        if not self.hypothetical:
            return f"{self.namespace}/pod/{self.name}"
        return f"new:{self.namespace}"


@dataclass(frozen=True)
class AddressWitness:
    address: str

    def __str__(self) -> str:
        return self.address


Endpoint = PodWitness | AddressWitness


@dataclass(frozen=True)
class Witness:
    src: Endpoint
    dst: Endpoint
    protocol: str
    port: int


@dataclass(frozen=True)
class Mismatch:
    """The part of a rule that does not match: ``part`` is one of ``namespace``,
    ``namespaceSelector``, ``podSelector``, ``ipBlock``, ``pods``, ``ports``, ``policy``;
    ``expected`` is what the rule asks for, ``found`` what the query has."""

    rule: RuleRef
    peer: int | None
    part: str
    expected: str
    found: str


@dataclass(frozen=True)
class SideReport:
    """One direction of the connection. ``isolated_by``: the policies selecting the pod in this
    direction (empty: not isolated); ``allowed_by``: rules that allow the witness (or the
    default); ``mismatches``: for a denied side, the part of each close rule that fails."""

    direction: str
    applies: bool  # False for the address side of pod<->address traffic
    isolated_by: tuple[RuleRef, ...] = ()
    allowed_by: tuple[RuleRef, ...] = ()
    blocks: bool = False
    mismatches: tuple[Mismatch, ...] = ()
    denied_by: tuple[RuleRef, ...] = ()  # admin Deny rules that decide against the connection


@dataclass(frozen=True)
class Verdict:
    src: str
    dst: str
    protocol: str | None
    port: int | None
    answer: Answer
    witness: Witness | None = None
    egress: SideReport | None = None
    ingress: SideReport | None = None
    note: str | None = None  # e.g. why the answer is unknown, or that no port suits both sides

    @property
    def allowed(self) -> bool:
        return self.answer is Answer.YES


@dataclass(frozen=True)
class PeerRow:
    """One endpoint of a who-can-reach / reachable-from answer. ``group`` is ``workload``,
    ``external`` or ``hypothetical``; hypothetical rows carry a witness instead of a full port set."""

    group: str
    name: str
    namespace: str | None
    conns: ConnectionSet | None = None
    witness: Witness | None = None


@dataclass(frozen=True)
class PeerReport:
    endpoint: str
    direction: str  # "to": who can reach endpoint; "from": what endpoint can reach
    port: int | None
    rows: tuple[PeerRow, ...]
    unknown: tuple[str, ...] = ()  # hypothetical sources the solver could not decide


@dataclass(frozen=True)
class IsolationVerdict:
    """Is every possible pod of ``namespace`` isolated in ``direction``? ``answer`` YES is a proof;
    NO comes with ``escape``: the labels of a pod no policy selects."""

    namespace: str
    direction: str
    answer: Answer
    escape: PodWitness | None = None
    policies: tuple[RuleRef, ...] = ()  # the policies of that direction in the namespace
    note: str | None = None


@dataclass(frozen=True)
class PeerClass:
    """Who a finding is about, described by selectors as the policies state it.

    ``kind``: ``external`` (address ``ranges``), ``cluster`` (every pod of every namespace,
    existing or not), ``namespaces`` (every pod of the namespace ``namespace`` or of namespaces
    matching ``namespace_selector``), ``pods`` (pods matching ``pod_selector`` there; with neither
    namespace field: in every namespace), ``unprotected`` (no policy isolates the workload in
    that direction: anyone). ``namespace_selector`` None with ``namespace`` None and kind
    ``pods``/``namespaces`` does not occur."""

    kind: str
    ranges: tuple[str, ...] = ()
    namespace: str | None = None
    namespace_selector: LabelSelector | None = None
    pod_selector: LabelSelector | None = None

    def __str__(self) -> str:
        return describe_peer(self)


@dataclass(frozen=True)
class Finding:
    """One exposure: in ``direction``, ``workload`` may exchange ``conns`` with ``peer``.
    ``named_ports`` are (protocol, name) pairs the rules allow that cannot be resolved to numbers
    without the peer (egress towards pods that do not exist). ``edge``: the routes through which
    outside traffic actually arrives (edge-exposed findings come first)."""

    severity: str  # critical | high | medium | low
    direction: str  # ingress | egress
    workload: str
    peer: PeerClass
    conns: ConnectionSet
    allowed_by: tuple[RuleRef, ...] = ()
    witness: Witness | None = None
    named_ports: tuple[tuple[str, str], ...] = ()
    edge: tuple[Reached, ...] = ()

    @property
    def kind(self) -> str:
        return self.peer.kind

    @property
    def source(self) -> str:
        return describe_peer(self.peer)


SEVERITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class ExposureReport:
    """``findings`` most severe first (edge-exposed first within a severity); ``dead_routes``: routes
    the workload's policies block; ``unknown``: questions a solver gave up on."""

    findings: tuple[Finding, ...]
    unknown: tuple[str, ...] = ()
    dead_routes: tuple[Reached, ...] = ()


def describe_selector(sel: LabelSelector) -> str:
    """A selector as netpol-analyzer prints it: ``k=v`` for one value, the rest as
    ``{Key:k,Operator:Op,Values:[a b],}``."""
    parts = []
    for r in sel.requirements:
        if r.operator == "In" and len(r.values) == 1:
            parts.append(f"{r.key}={next(iter(r.values))}")
        else:
            vals = " ".join(sorted(r.values))
            parts.append(f"{{Key:{r.key},Operator:{r.operator},Values:[{vals}],}}")
    return "{" + ",".join(parts) + "}"


def describe_peer(p: PeerClass) -> str:
    """``[namespace with {team=a}]/[pod with {role=x}]``, ``backend/[all pods]``, ``entire-cluster``,
    address ranges: the words netpol-analyzer uses for the same set."""
    if p.kind == "external":
        return ",".join(p.ranges)
    if p.kind == "cluster":
        return "entire-cluster"
    if p.kind == "unprotected":
        return "anyone (not protected)"
    if p.namespace is not None:
        ns = p.namespace
    elif p.namespace_selector is None or p.namespace_selector.is_empty:
        ns = "[all namespaces]"
    else:
        reqs = p.namespace_selector.requirements
        if len(reqs) == 1 and reqs[0].key == NAME_LABEL and reqs[0].operator == "In" \
                and len(reqs[0].values) == 1:
            ns = next(iter(reqs[0].values))
        else:
            ns = f"[namespace with {describe_selector(p.namespace_selector)}]"
    pods = "[all pods]" if p.pod_selector is None or p.pod_selector.is_empty \
        else f"[pod with {describe_selector(p.pod_selector)}]"
    return f"{ns}/{pods}"


def describe_endpoint(e) -> str:
    """One line naming a witness endpoint: an address, a pod, or what a new pod needs."""
    if isinstance(e, AddressWitness):
        return e.address
    assert isinstance(e, PodWitness)
    if not e.hypothetical:
        return f"{e.namespace}/pod/{e.name} ({e.workload})"
    parts = []
    if e.labels:
        parts.append("labels " + ",".join(f"{k}={v}" for k, v in e.labels))
    if e.absent:
        parts.append("no label " + ",".join(e.absent))
    if e.ports:
        parts.append("naming " + ",".join(f"{p} port {n}={num}" for p, n, num in e.ports))
    where = f"namespace {e.namespace}"
    if e.namespace_labels is not None:
        labels = ",".join(f"{k}={v}" for k, v in e.namespace_labels)
        where = "a new namespace" + (f" {labels}" if labels else "")
    return f"a new pod in {where}" + (f" with {'; '.join(parts)}" if parts else " (any labels)")
