"""Evaluating assertions: each one into a :class:`Result` with its witness and rules.

Existing pods and addresses are answered from the concrete class engine (every class pair is
already evaluated, so a check is a few dictionary look-ups); pods that do not exist yet and
namespace isolation are asked of the Z3 query engine, whose encoding is built only when first
needed. A failed ``expect: allow`` is explained by Z3 too: which side blocks, and the part of
each close rule that does not match.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from typing import Iterable, Iterator

from ..analysis import Analysis, Options, analyze
from ..engine.compile import RuleRef
from ..model.connset import (ALL_CONNECTIONS, ALL_IPS, ALL_PORTS, EMPTY, PROTOCOLS, ConnectionSet,
                       IntervalSet, address_text, example_address, range_text, split_families)
from ..query.feasibility import COMMON_PORTS
from ..diagnostics import Diagnostic
from ..inputs.loading import discover
from ..query.endpoints import Addresses, NewPod, parse_endpoint
from ..query.names import hint
from ..messages import diagnostic
from ..source import SourceRef
from .loader import load_assertions
from .model import (Assertion, AssertionFile, Exposure, Isolated, MaxReachable, OnlyFrom, OnlyTo, PortFilter,
                    Reach)
from .results import CheckReport, Example, Result, RuleHit, Status


ASSERTION_FILE_NAMES = ("kreach.yaml", "kreach.yml")  # never read as manifests


@dataclass(frozen=True)
class CheckOptions:
    timeout_ms: int = 5000  # per solver call
    max_examples: int = 5  # counterexamples kept per result
    schema: bool = True  # validate manifests against the Kubernetes JSON schemas
    k8s_version: str | None = None
    allow_partial: bool = False  # accept manifests some of whose policies were left out
    namespace: str | None = None  # of manifests that name none (kubectl -n)
    exclude: tuple[str, ...] = ()  # globs a directory walk leaves out
    rev: str | None = None  # read the manifests at this git revision (the assertions as they are)
    cache: bool = False  # reuse earlier runs' work (analyzer.analysis_cache); the CLI's default is on
    jobs: int | None = 1  # processes reading a large input (Options.jobs); the CLI's default: one per CPU


class Unresolved(Exception):
    """An endpoint of an assertion matches nothing; carries the located diagnostic."""

    def __init__(self, diag: Diagnostic) -> None:
        super().__init__(diag.message)
        self.diagnostic = diag


@dataclass(frozen=True)
class Selection:
    """Existing pods (indexes into ``Cluster.pods``) and external addresses."""

    pods: frozenset[int] = frozenset()
    addresses: IntervalSet = EMPTY


@dataclass(frozen=True)
class _Flow:
    src: tuple[int, ...] | IntervalSet
    dst: tuple[int, ...] | IntervalSet
    conns: ConnectionSet
    egress: frozenset[RuleRef]
    ingress: frozenset[RuleRef]


# --- entry points ------------------------------------------------------------------------------


def check_file(path: str, options: CheckOptions = CheckOptions()) -> CheckReport:
    """Load the assertion file at ``path``, analyse the manifests it names, run every assertion."""
    loaded = load_assertions(path)
    if loaded.file is None:
        return CheckReport(path, (), (), loaded.diagnostics)
    checker, diags = open_manifests(loaded.file, options)
    diags = loaded.diagnostics + _located(loaded.file, diags, options)
    if checker is None:
        return CheckReport(path, loaded.file.manifests, (), diags)
    results = tuple(checker.run(a) for a in loaded.file.assertions)
    return CheckReport(path, loaded.file.manifests, results, diags)


_PATH_PROBLEMS = ("KR005", "KR007", "KR012", "KR013")


def _located(file: AssertionFile, diags: tuple[Diagnostic, ...],
             options: CheckOptions) -> tuple[Diagnostic, ...]:
    """The manifests' diagnostics, plus what the assertion file must answer for, located in it:
    a manifests entry that names nothing readable (KR317), and policies left out of the
    analysis (KR320; a warning, KR321, with ``allow_partial``). Both fail ``kreach check``:
    an answer about a cluster kreach only partly sees must not pass as a verdict."""
    from ..inputs.kinds import describe_left_out, policies_left_out

    at = SourceRef(file.path, file.manifests_line)
    named = {os.path.normpath(p) for p in file.manifests}
    extra = [diagnostic("KR317", at, where=file.path, path=d.source.file,
                        detail=d.message)
             for d in diags if d.code in _PATH_PROBLEMS and d.source is not None
             and os.path.normpath(d.source.file) in named]
    left = policies_left_out(diags)
    if left:
        extra.append(diagnostic("KR321" if options.allow_partial else "KR320", at,
                                detail=describe_left_out(left)))
    return tuple(diags) + tuple(extra)


def open_manifests(file: AssertionFile, options: CheckOptions = CheckOptions()
                   ) -> tuple["Checker | None", tuple[Diagnostic, ...]]:
    """Analyse the manifests an assertion file names; None when nothing usable was read."""
    if options.rev is not None:  # GitError when the revision cannot be read
        analysis = analyze(list(file.manifests), Options(
            k8s_version=options.k8s_version, schema=options.schema, namespace=options.namespace,
            exclude=options.exclude, jobs=options.jobs), rev=options.rev)
        return (None if analysis.is_empty else Checker(analysis, options)), analysis.diagnostics
    files, missing = discover(file.manifests, options.exclude)
    this = os.path.abspath(file.path)
    # "manifests: [.]" holds the assertion file itself, and a directory may hold others
    files = [f for f in files if os.path.abspath(f) != this
             and os.path.basename(f) not in ASSERTION_FILE_NAMES]
    analysis = analyze(files, Options(k8s_version=options.k8s_version, schema=options.schema,
                                      namespace=options.namespace, cache=options.cache,
                                      jobs=options.jobs))
    diags = tuple(missing) + analysis.diagnostics
    if analysis.is_empty:
        return None, diags
    return Checker(analysis, options), diags


class Checker:
    """Evaluates assertions against one analysis; the Z3 engine is shared and built lazily."""

    def __init__(self, analysis: Analysis, options: CheckOptions = CheckOptions()) -> None:
        self.analysis = analysis
        self.options = options
        self.cluster = analysis.cluster
        self.reach = analysis.reachability
        self._members: dict[tuple[int, frozenset[int]], tuple[int, ...]] = {}

    @cached_property
    def engine(self):
        from ..query.engine import Engine, QueryOptions  # z3 only when a check needs it

        return Engine.from_analysis(self.analysis, QueryOptions(timeout_ms=self.options.timeout_ms))

    @cached_property
    def everything(self) -> Selection:
        return Selection(frozenset(range(len(self.cluster.pods))), ALL_IPS)

    def run(self, assertion: Assertion) -> Result:
        check = assertion.check
        method = {Reach: self.reach_check, OnlyFrom: self.only_from, OnlyTo: self.only_to,
                  Isolated: self.isolated, Exposure: self.exposure,
                  MaxReachable: self.max_reachable}[type(check)]
        try:
            return method(assertion, check)
        except Unresolved as e:
            return Result(assertion, Status.ERROR, "an endpoint that names something",
                          e.diagnostic.message, diagnostics=(e.diagnostic,))
        except ValueError as e:  # a question the engine cannot ask (QueryError, EndpointError)
            d = diagnostic("KR315", assertion.source, where=f"assertion {assertion.name!r}",
                           detail=str(e))
            return Result(assertion, Status.ERROR, "a question kreach can answer", str(e),
                          diagnostics=(d,))

    # --- resolving --------------------------------------------------------------------------

    def select(self, assertion: Assertion, key: str, text: str) -> Selection:
        e = parse_endpoint(text)
        if isinstance(e, Addresses):
            return Selection(frozenset(), e.addresses)
        pods = frozenset(self._pod_indexes(e))
        if not pods:
            raise Unresolved(diagnostic("KR307", assertion.at(key), where=f"assertion {assertion.name!r}",
                                        key=key.split(".")[0], endpoint=text,
                                        hint=hint(self.engine.cluster, e)))
        return Selection(pods)

    def _pod_indexes(self, e) -> list[int]:
        return self.engine.pod_indexes(e)  # resolution only: the encoding is not built

    def union(self, assertion: Assertion, key: str, texts: Iterable[str]) -> Selection:
        pods: frozenset[int] = frozenset()
        addresses = EMPTY
        for i, t in enumerate(texts):
            s = self.select(assertion, f"{key}.{i}", t)
            pods |= s.pods
            addresses = addresses | s.addresses
        return Selection(pods, addresses)

    # --- concrete flows ---------------------------------------------------------------------

    def members(self, c: int, pods: frozenset[int]) -> tuple[int, ...]:
        key = (c, pods)
        hit = self._members.get(key)
        if hit is None:
            hit = self._members[key] = tuple(p for p in self.reach.index.classes[c].pods if p in pods)
        return hit

    def flows(self, src: Selection, dst: Selection, filt: ConnectionSet) -> Iterator[_Flow]:
        """Every allowed class-level flow from ``src`` to ``dst`` within ``filt``."""
        reach, index = self.reach, self.reach.index
        src_classes = sorted({index.pod_class[i] for i in src.pods})
        dst_classes = sorted({index.pod_class[i] for i in dst.pods})
        for s in src_classes:
            for d in dst_classes:
                a = reach.class_edges.get((s, d))
                if a is None:
                    continue
                conns = a.conns & filt
                if not conns:
                    continue
                sp, dp = self.members(s, src.pods), self.members(d, dst.pods)
                if s == d:  # a pod is never its own peer: keep pods that have another partner
                    sp, dp = (tuple(x for x in sp if dp != (x,)),
                              tuple(y for y in dp if sp != (y,)))
                    if not sp or not dp:
                        continue
                yield _Flow(sp, dp, conns, a.egress, a.ingress)
        if dst.addresses:
            for s in src_classes:
                for bits, a in reach.to_ip.get(s, ()):
                    hit = IntervalSet.of(reach.atoms_of(bits)) & dst.addresses
                    conns = a.conns & filt
                    if hit and conns:
                        yield _Flow(self.members(s, src.pods), hit, conns, a.egress, a.ingress)
        if src.addresses:
            for d in dst_classes:
                for bits, a in reach.from_ip.get(d, ()):
                    hit = IntervalSet.of(reach.atoms_of(bits)) & src.addresses
                    conns = a.conns & filt
                    if hit and conns:
                        yield _Flow(hit, self.members(d, dst.pods), conns, a.egress, a.ingress)

    # --- describing -------------------------------------------------------------------------

    def hit(self, ref: RuleRef, role: str) -> RuleHit:
        if ref.is_default:
            return RuleHit(str(ref), "default", ref.direction)
        line = self.analysis.locator.line(ref.source, ref.path) if ref.source else None
        return RuleHit(str(ref), role, ref.direction, ref.policy, ref.index,
                       ref.source.file if ref.source else None, line)

    def pod_text(self, i: int) -> str:
        p = self.cluster.pods[i]
        return f"{p.namespace}/pod/{p.name} ({p.workload})"

    def side_text(self, side: tuple[int, ...] | IntervalSet, avoid: int | None = None) -> str:
        if isinstance(side, IntervalSet):
            return address_text(example_address(side))
        pod = next((p for p in side if p != avoid), side[0])
        return self.pod_text(pod)

    def example(self, f: _Flow) -> Example:
        declared: tuple = ()
        if isinstance(f.dst, tuple) and f.dst:
            declared = self.cluster.pods[f.dst[0]].ports
        proto, port = _one_connection(f.conns, declared)
        src = self.side_text(f.src)
        avoid = f.src[0] if isinstance(f.src, tuple) else None
        rules = tuple(self.hit(r, "allows") for r in sorted(f.egress) + sorted(f.ingress))
        return Example(src, self.side_text(f.dst, avoid), proto, port, f.conns.to_text(), rules)

    # --- one method per kind ----------------------------------------------------------------

    def reach_check(self, a: Assertion, c: Reach) -> Result:
        flow = " ".join(str(x) for x in (c.protocol, c.port) if x)
        expected = f"{c.src} -> {c.dst}{' ' + flow if flow else ''} " + (
            "allowed" if c.expect_allow else "denied")
        if isinstance(parse_endpoint(c.src), NewPod) or isinstance(parse_endpoint(c.dst), NewPod):
            return self.reach_symbolic(a, c, expected)
        src, dst = self.select(a, "from", c.src), self.select(a, "to", c.dst)
        filt = _filter(PortFilter(None if c.port is None else ((c.port, c.port),), c.protocol))
        examples = []
        for f in self.flows(src, dst, filt):
            examples.append(self.example(f))
            if len(examples) >= self.options.max_examples:
                break
        if examples:
            status = Status.PASSED if c.expect_allow else Status.FAILED
            return Result(a, status, expected, "allowed", tuple(examples))
        if not c.expect_allow:
            return Result(a, Status.PASSED, expected, "denied")
        return self.explain_denial(a, c, expected)

    def reach_symbolic(self, a: Assertion, c: Reach, expected: str) -> Result:
        from ..query.can import can
        from ..query.verdict import Answer

        for key, text in (("from", c.src), ("to", c.dst)):
            if not isinstance(parse_endpoint(text), NewPod):
                self.select(a, key, text)  # a located error if it names nothing
        v = can(self.engine, c.src, c.dst, port=c.port, protocol=c.protocol)
        if v.answer is Answer.UNKNOWN:
            return Result(a, Status.UNKNOWN, expected, "unknown", notes=(v.note or "",))
        if v.answer is Answer.YES:
            w = v.witness
            rules = [self.hit(r, "allows") for side in (v.egress, v.ingress) if side is not None
                     for r in side.allowed_by]
            ex = Example(_witness_text(w.src), _witness_text(w.dst), w.protocol, w.port, None,
                         tuple(rules))
            return Result(a, Status.PASSED if c.expect_allow else Status.FAILED, expected,
                          "allowed", (ex,))
        if not c.expect_allow:
            return Result(a, Status.PASSED, expected, "denied")
        return self._denied_result(a, expected, v)

    def explain_denial(self, a: Assertion, c: Reach, expected: str) -> Result:
        from ..query.can import can
        from ..query.verdict import Answer

        v = can(self.engine, c.src, c.dst, port=c.port, protocol=c.protocol)
        if v.answer is not Answer.NO:  # the engines disagree or Z3 gave up: say so, still a failure
            return Result(a, Status.FAILED, expected, "denied",
                          notes=(f"the symbolic engine answered {v.answer.value}; "
                                 "no explanation of the denial is available",))
        return self._denied_result(a, expected, v)

    def _denied_result(self, a: Assertion, expected: str, v) -> Result:
        rules: list[RuleHit] = []
        notes: list[str] = []
        for side in (v.egress, v.ingress):
            if side is None or not side.applies or not side.blocks:
                continue
            d = side.direction.lower()
            if side.denied_by:
                rules += [self.hit(r, "denies") for r in side.denied_by]
                notes.append(f"{d} blocked: denied by " + "; ".join(str(r) for r in side.denied_by))
            rules += [self.hit(r, "isolates") for r in side.isolated_by]
            if side.isolated_by or not side.denied_by:
                notes.append(f"{d} blocked: isolated by "
                             + "; ".join(str(r) for r in side.isolated_by))
            for m in side.mismatches[: self.options.max_examples]:
                rules.append(self.hit(m.rule, "close"))
                notes.append(f"{m.rule}: {m.expected} does not match {m.found}")
        if v.note:
            notes.append(v.note)
        ex = Example(v.src, v.dst, v.protocol, v.port, None, tuple(dict.fromkeys(rules)))
        return Result(a, Status.FAILED, expected, "denied", (ex,), tuple(notes))

    def _only(self, a: Assertion, fixed: Selection, listed: Selection, texts: tuple[str, ...],
              key: str, filt: ConnectionSet, outgoing: bool, expected: str) -> Result:
        """only-from (``outgoing`` False: who reaches ``fixed``) and only-to (True)."""
        everything = self.everything
        flows = self.flows(fixed, everything, filt) if outgoing else self.flows(everything, fixed, filt)
        extra: dict[str, Example] = {}
        for f in flows:
            other = f.dst if outgoing else f.src
            if isinstance(other, IntervalSet):
                outside = other - listed.addresses
                for lo, hi in split_families(outside):
                    name = range_text(lo, hi)
                    part = IntervalSet.span(lo, hi)
                    g = _Flow(f.src, part, f.conns, f.egress, f.ingress) if outgoing else \
                        _Flow(part, f.dst, f.conns, f.egress, f.ingress)
                    extra.setdefault(name, self.example(g))
                continue
            outside = tuple(p for p in other if p not in listed.pods)
            by_workload: dict[str, list[int]] = {}
            for p in outside:
                by_workload.setdefault(self.cluster.pods[p].workload, []).append(p)
            for w, pods in by_workload.items():
                g = _Flow(f.src, tuple(pods), f.conns, f.egress, f.ingress) if outgoing else \
                    _Flow(tuple(pods), f.dst, f.conns, f.egress, f.ingress)
                extra.setdefault(w, self.example(g))
        unused = []
        for i, t in enumerate(texts):
            one = self.select(a, f"{key}.{i}", t)
            pairs = self.flows(fixed, one, filt) if outgoing else self.flows(one, fixed, filt)
            if next(pairs, None) is None:
                unused.append(t)
        if not extra and not unused:
            return Result(a, Status.PASSED, expected, "exactly the listed endpoints")
        found = []
        if extra:
            names = sorted(extra)
            found.append(("also reaches " if outgoing else "also reached from ")
                         + _names(names))
        if unused:
            found.append("listed but " + ("not reached: " if outgoing else "reaching nothing: ")
                         + ", ".join(unused))
        examples = tuple(extra[n] for n in sorted(extra))[: self.options.max_examples]
        return Result(a, Status.FAILED, expected, "; ".join(found), examples)

    def only_from(self, a: Assertion, c: OnlyFrom) -> Result:
        dst = self.select(a, "to", c.dst)
        listed = self.union(a, "only-from", c.sources)
        expected = f"only {', '.join(c.sources)} reach {c.dst} ({c.filter})"
        return self._only(a, dst, listed, c.sources, "only-from", _filter(c.filter), False, expected)

    def only_to(self, a: Assertion, c: OnlyTo) -> Result:
        src = self.select(a, "from", c.src)
        listed = self.union(a, "only-to", c.destinations)
        expected = f"{c.src} reaches only {', '.join(c.destinations)} ({c.filter})"
        return self._only(a, src, listed, c.destinations, "only-to", _filter(c.filter), True, expected)

    def isolated(self, a: Assertion, c: Isolated) -> Result:
        from ..query.isolation import isolated
        from ..query.verdict import Answer

        if self.cluster.namespace(c.namespace) is None:
            raise Unresolved(diagnostic("KR313", a.at("isolated.namespace"),
                                        where=f"assertion {a.name!r}", namespace=c.namespace))
        directions = ("Ingress", "Egress") if c.direction == "both" else (c.direction.capitalize(),)
        expected = f"every possible pod of {c.namespace} isolated for {c.direction}"
        examples, notes, unknown = [], [], False
        for d in directions:
            v = isolated(self.engine, c.namespace, d)
            if v.answer is Answer.UNKNOWN:
                unknown = True
                notes.append(f"{d.lower()}: {v.note}")
            elif v.answer is Answer.NO:
                rules = tuple(self.hit(r, "isolates") for r in v.policies)
                examples.append(Example(_witness_text(v.escape), f"not isolated for {d.lower()}",
                                        rules=rules))
                if not v.policies:
                    notes.append(f"no {d.lower()} policy in {c.namespace}")
        if examples:
            found = "a pod can escape: " + "; ".join(f"{e.src} ({e.dst})" for e in examples)
            return Result(a, Status.FAILED, expected, found, tuple(examples), tuple(notes))
        if unknown:
            return Result(a, Status.UNKNOWN, expected, "unknown", notes=tuple(notes))
        return Result(a, Status.PASSED, expected, "isolated (proved)")

    def exposure(self, a: Assertion, c: Exposure) -> Result:
        from ..query.exposure import exposure

        allowed: dict[str, list[ConnectionSet | None]] = {}
        for i, entry in enumerate(c.allow_only):
            key = f"exposure.allow-only.{i}"
            sel = self.select(a, key, entry.endpoint)
            conns = None if entry.filter.is_everything else _filter(entry.filter)
            for w in {self.cluster.pods[p].workload for p in sel.pods}:
                allowed.setdefault(w, []).append(conns)
        expected = f"exposed from {c.source}: " + (", ".join(str(e) for e in c.allow_only)
                                                   or "nothing")
        report = exposure(self.engine, ("ingress",))
        kinds = _EXPOSURE_KINDS[c.source]
        extra: list[Example] = []
        for f in report.findings:
            if f.peer.kind not in kinds or _covered(f, allowed.get(f.workload)):
                continue
            rules = tuple(self.hit(r, "allows") for r in f.allowed_by if not r.is_default)
            conns = f.conns.to_text() if f.peer.kind != "unprotected" else \
                "All Connections (no policy isolates it for ingress)"
            extra.append(Example(f.source, f.workload, None, None, conns, rules))
        notes = tuple(f"the solver gave up on {u}" for u in report.unknown)
        if extra:
            found = "also exposed: " + _names(sorted({f"{e.dst} <= {e.src}" for e in extra}))
            return Result(a, Status.FAILED, expected, found,
                          tuple(extra[: self.options.max_examples]), notes)
        if report.unknown:
            return Result(a, Status.UNKNOWN, expected, "unknown", notes=notes)
        return Result(a, Status.PASSED, expected, "nothing else is exposed")

    def max_reachable(self, a: Assertion, c: MaxReachable) -> Result:
        src = self.select(a, "max-reachable.from", c.src)
        own = {self.cluster.pods[p].workload for p in src.pods}
        reached: dict[str, _Flow] = {}
        everything = Selection(self.everything.pods)
        for f in self.flows(src, everything, ALL_CONNECTIONS):
            for p in f.dst:
                w = self.cluster.pods[p].workload
                if w not in own and w not in reached:
                    reached[w] = _Flow(f.src, (p,), f.conns, f.egress, f.ingress)
        expected = f"{c.src} reaches at most {c.count} other workload" + ("s" if c.count != 1 else "")
        found = f"reaches {len(reached)}" + (f": {_names(sorted(reached))}" if reached else "")
        if len(reached) <= c.count:
            return Result(a, Status.PASSED, expected, found)
        examples = tuple(self.example(reached[w]) for w in sorted(reached))[: self.options.max_examples]
        return Result(a, Status.FAILED, expected, found, examples)


# which exposure findings (peer kinds, ingress) an ``exposure: {from: ...}`` check is about
_EXPOSURE_KINDS = {"internet": ("unprotected", "external"),
                   "cluster": ("unprotected", "cluster", "namespaces", "pods")}


def _covered(finding, allowed: list[ConnectionSet | None] | None) -> bool:
    if not allowed:
        return False
    if any(x is None for x in allowed):
        return True
    union = ConnectionSet()
    for x in allowed:
        union = union | x
    return finding.conns.issubset(union)


def _filter(f: PortFilter) -> ConnectionSet:
    if f.is_everything:
        return ALL_CONNECTIONS
    ports = IntervalSet.of(f.ports) if f.ports is not None else ALL_PORTS
    protocols = (f.protocol,) if f.protocol else PROTOCOLS
    return ConnectionSet.of([(p, ports) for p in protocols])


def _one_connection(conns: ConnectionSet, declared=()) -> tuple[str | None, int | None]:
    """One allowed connection to show: a port the destination declares if one is allowed
    (TCP first), else the lowest allowed port."""
    for p in sorted(declared, key=lambda p: (p.protocol != "TCP", p.number)):
        if conns.allows(p.protocol, p.number):
            return p.protocol, p.number
    for n in COMMON_PORTS:
        if conns.allows("TCP", n):
            return "TCP", n
    for proto in ("TCP", "UDP", "SCTP"):
        ports = conns.get(proto)
        if ports:
            return proto, next(iter(ports))[0]
    return None, None


def _witness_text(e) -> str:
    from ..query.verdict import describe_endpoint

    return "?" if e is None else describe_endpoint(e)


def _names(names: list[str], limit: int = 10) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")

