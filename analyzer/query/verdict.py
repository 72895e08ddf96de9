"""Query results as data: the answer, a witness, and the rules responsible. Writers render them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..engine.compile import RuleRef
from ..model.connset import ConnectionSet


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
class Finding:
    """One exposure: ``workload`` is reachable from ``source`` on ``conns``."""

    severity: str  # critical | high | medium | low
    kind: str  # internet | new-namespace | new-pod | other-namespace | not-isolated
    workload: str
    source: str
    conns: ConnectionSet | None
    allowed_by: tuple[RuleRef, ...] = ()
    witness: Witness | None = None


SEVERITIES = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class ExposureReport:
    findings: tuple[Finding, ...]
    unknown: tuple[str, ...] = ()


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
        where = "a new namespace " + (",".join(f"{k}={v}" for k, v in e.namespace_labels) or "")
    return f"a new pod in {where}" + (f" with {'; '.join(parts)}" if parts else " (any labels)")
