"""Assertions as data: what a ``kreach.yaml`` file asks, each assertion located in its file.

One frozen dataclass per kind of check; an :class:`Assertion` pairs a check with its name and the
line of every key it was written with, so results and diagnostics can point back at the YAML.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..source import SourceRef

DIRECTIONS = ("ingress", "egress", "both")
EXPOSURE_SOURCES = ("internet", "cluster")


@dataclass(frozen=True)
class PortFilter:
    """The connections a check is about: ``ports`` None is every port; ``protocol`` None is
    every protocol. ``ports`` holds inclusive (low, high) ranges."""

    ports: tuple[tuple[int, int], ...] | None = None
    protocol: str | None = None

    @property
    def is_everything(self) -> bool:
        return self.ports is None and self.protocol is None

    def __str__(self) -> str:
        ports = "" if self.ports is None else ",".join(
            str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in self.ports)
        return " ".join(x for x in (self.protocol, ports) if x) or "any port"


@dataclass(frozen=True)
class Reach:
    """``from: X, to: Y [, port, protocol], expect: allow|deny``."""

    src: str
    dst: str
    port: int | None
    protocol: str | None
    expect_allow: bool

    kind = "reach"


@dataclass(frozen=True)
class OnlyFrom:
    """``to: Y, only-from: [A, B]``: exactly these sources reach Y on the filtered connections."""

    dst: str
    sources: tuple[str, ...]
    filter: PortFilter = PortFilter()

    kind = "only-from"


@dataclass(frozen=True)
class OnlyTo:
    """``from: X, only-to: [A, B]``: X reaches exactly these destinations."""

    src: str
    destinations: tuple[str, ...]
    filter: PortFilter = PortFilter()

    kind = "only-to"


@dataclass(frozen=True)
class Isolated:
    """``isolated: {namespace: N, direction: ingress|egress|both}``, for every possible pod."""

    namespace: str
    direction: str = "both"

    kind = "isolated"


@dataclass(frozen=True)
class Allowed:
    """One ``allow-only`` entry of an exposure check: a workload endpoint, on some ports."""

    endpoint: str
    filter: PortFilter = PortFilter()

    def __str__(self) -> str:
        return self.endpoint if self.filter.is_everything else f"{self.endpoint} ({self.filter})"


@dataclass(frozen=True)
class Exposure:
    """``exposure: {from: internet|cluster, allow-only: [...]}``: nothing else is exposed."""

    source: str
    allow_only: tuple[Allowed, ...] = ()

    kind = "exposure"


@dataclass(frozen=True)
class MaxReachable:
    """``max-reachable: {from: X, count: N}``: X reaches at most N other workloads."""

    src: str
    count: int

    kind = "max-reachable"


Check = Reach | OnlyFrom | OnlyTo | Isolated | Exposure | MaxReachable


@dataclass(frozen=True)
class Assertion:
    """A named check and where it was written. ``lines`` maps each key path (``"to"``,
    ``"exposure.from"``, ``"only-from.1"``) to its 1-based line."""

    name: str
    check: Check
    source: SourceRef
    lines: tuple[tuple[str, int], ...] = ()
    description: str | None = None

    @property
    def kind(self) -> str:
        return self.check.kind

    def line_of(self, key: str) -> int:
        """The line of ``key`` (or of the assertion when that key was not written)."""
        return dict(self.lines).get(key, self.source.line)

    def at(self, key: str) -> SourceRef:
        return SourceRef(self.source.file, self.line_of(key), self.source.doc)


@dataclass(frozen=True)
class AssertionFile:
    """A loaded assertion file: the manifests it names (paths as given to the loader, already
    joined with the file's directory) and its assertions."""

    path: str
    manifests: tuple[str, ...]
    assertions: tuple[Assertion, ...]
    manifests_line: int = 0  # where the manifests key is written (1-based; 0 unknown)
