"""Two analyses in, one :class:`~analyzer.diff.model.Diff` out. Pure: nothing is read or printed.

A pair of endpoints is compared on what is allowed between them; the change of a pair is the
difference of what ``kreach list`` prints for it in OLD and in NEW. Pairs with an address range
need care, because each analysis cuts the address space at its own ipBlock boundaries and its
ranges may overlap: for one workload and one direction, both sides are cut at every boundary of
either, each piece gets the union of what the ranges covering it allow, and neighbouring pieces
that changed in the same way are merged back into maximal ranges.

The rules named for a change are those that allow the pair on one side and not on the other: a
rule counts as the same on both sides when it has the same policy, direction and index and the
same compiled content (selected pods, peers, ports), so a rule whose ports were edited is named
on both sides. When no rule differs (a workload's labels or ports changed, not a policy), every
rule of each side is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

from ..analysis import Analysis, Outcome
from ..diagnostics import Diagnostic
from ..engine.compile import RuleRef
from ..engine.evaluate import Allowance
from ..engine.graph import ConnectivityView, build_view
from ..model.connset import NO_CONNECTIONS, V6_BASE, ConnectionSet, range_text
from .model import ADDED, CHANGED, REMOVED, Diff, PairChange, RuleAt

if TYPE_CHECKING:
    from ..inputs.loading import Locator


@dataclass(frozen=True)
class Side(Outcome):
    """What a diff reads of one analysis, at one level: its endpoints and connections, the
    content of each rule (to tell a rule edited from one unchanged), its diagnostics and usable
    objects, and the locator that gives its rules' lines. Plain data, so that one side can be
    computed in another process (:mod:`analyzer.diff.pair`) and sent back without its locator."""

    level: str
    nodes: Mapping[str, Mapping[str, Any]]
    edges: Mapping[tuple[str, str], Allowance]
    content: Mapping[tuple, Any]
    diagnostics: tuple[Diagnostic, ...]
    objects: int
    locator: "Locator | None" = None

    @classmethod
    def of(cls, analysis: Analysis, level: str | None = None) -> "Side":
        level = level or analysis.options.level
        view = _view(analysis, level)
        content: dict[tuple, Any] = {}
        for t in analysis.reachability.compiled.targets:
            content[_identity(t.ref)] = (t.namespace, t.pod_selector)
            for r in t.rules:
                content[_identity(r.ref)] = (t.namespace, t.pod_selector, r.peers, r.ports)
        return cls(level, view.nodes, view.edges, content, analysis.diagnostics, analysis.objects,
                   analysis.locator)



def diff(old: Analysis | Side, new: Analysis | Side, *, level: str | None = None,
         old_label: str = "old", new_label: str = "new") -> Diff:
    """Every ordered pair whose allowed connections differ between ``old`` and ``new`` (two
    analyses, or what a diff reads of them: :class:`Side`), at ``level`` (default: the level
    ``new`` was analysed at)."""
    level = level or (new.level if isinstance(new, Side) else new.options.level)
    ov, nv = _side(old, level), _side(new, level)
    sides = (_Side(ov), _Side(nv))
    endpoints: dict[str, dict[str, Any]] = {}
    internal_old = {k for k, d in ov.nodes.items() if d["type"] != "external"}
    internal_new = {k for k, d in nv.nodes.items() if d["type"] != "external"}
    appeared = internal_new - internal_old
    vanished = internal_old - internal_new
    changes: list[PairChange] = []

    def add(src: str, dst: str, a: Allowance | None, b: Allowance | None) -> None:
        before = a.conns if a else NO_CONNECTIONS
        after = b.conns if b else NO_CONNECTIONS
        if before == after:
            return
        kind = ADDED if not before else REMOVED if not after else CHANGED
        rb, ra = _responsible(sides, src, dst, a, b)
        for e in (src, dst):
            if e not in endpoints:
                endpoints[e] = dict(nv.nodes.get(e) or ov.nodes[e])
        changes.append(PairChange(src, dst, kind, before, after, rb, ra,
                                  tuple(e for e in (src, dst) if e in appeared),
                                  tuple(e for e in (src, dst) if e in vanished)))

    old_ext, new_ext = _external_sides(ov), _external_sides(nv)
    internal = internal_old | internal_new
    for key in ov.edges.keys() | nv.edges.keys():
        if key[0] in internal and key[1] in internal:
            a, b = ov.edges.get(key), nv.edges.get(key)
            if a is None or b is None or a.conns != b.conns:
                add(key[0], key[1], a, b)
    for key in old_ext.keys() | new_ext.keys():
        a_list, b_list = old_ext.get(key, []), new_ext.get(key, [])
        if _plain(a_list) == _plain(b_list):
            continue
        endpoint, outwards = key
        for lo, hi, a, b in _pieces(a_list, b_list):
            ext = range_text(lo, hi)
            endpoints.setdefault(ext, dict(type="external", ranges=[ext], interval=(lo, hi)))
            src, dst = (endpoint, ext) if outwards else (ext, endpoint)
            add(src, dst, a, b)

    def order(node: str) -> tuple:
        data = endpoints[node]
        if data["type"] == "external":
            return (0, data["interval"][0], data["interval"][1], "")
        return (1, 0, 0, node)

    changes.sort(key=lambda c: (order(c.src), order(c.dst)))
    for e in appeared | vanished:
        endpoints.setdefault(e, dict(nv.nodes.get(e) or ov.nodes[e]))
    return Diff(level, endpoints, tuple(changes), tuple(sorted(appeared)), tuple(sorted(vanished)),
                old_label, new_label, ov.diagnostics + nv.diagnostics)


def _side(x: Analysis | Side, level: str) -> Side:
    if not isinstance(x, Side):
        return Side.of(x, level)
    if x.level != level:
        raise ValueError(f"a side read at {x.level} level cannot be compared at {level} level")
    return x


def _view(analysis: Analysis, level: str) -> ConnectivityView:
    if analysis.options.level == level:
        return analysis.view
    return build_view(analysis.reachability, level)  # type: ignore[arg-type]


class _Side:
    """One side with what is needed to name its rules: their content and their lines."""

    def __init__(self, side: Side):
        self.side = side
        self.content = side.content
        self._at: dict[RuleRef, RuleAt] = {}
        # endpoints whose side no policy isolates: the implicit allowance is not a change there
        self.open_egress = {s for (s, _), a in side.edges.items() if any(r.is_default for r in a.egress)}
        self.open_ingress = {d for (_, d), a in side.edges.items() if any(r.is_default for r in a.ingress)}

    def keeps_default(self, ref: RuleRef, src: str, dst: str) -> bool:
        return (src in self.open_egress) if ref.direction.lower() == "egress" else (dst in self.open_ingress)

    def at(self, ref: RuleRef) -> RuleAt:
        hit = self._at.get(ref)
        if hit is None:
            src, locator = ref.source, self.side.locator
            line = locator.line(src, ref.path) if src is not None and locator is not None else None
            hit = self._at[ref] = RuleAt(ref, src.file if src else None, line or None)
        return hit


def _identity(ref: RuleRef) -> tuple:
    return (ref.kind, ref.policy, ref.direction, ref.index)


def _refs(a: Allowance | None) -> list[RuleRef]:
    if a is None:
        return []
    return sorted(a.egress | a.ingress, key=_ref_key)


def _ref_key(r: RuleRef) -> tuple:
    return (r.direction, r.kind, r.policy or "", -1 if r.index is None else r.index)


def _only(refs: Sequence[RuleRef], others: Sequence[RuleRef], mine: _Side, theirs: _Side,
          src: str, dst: str) -> list[RuleRef]:
    """Rules of ``refs`` that are not among ``others`` with the same content. The implicit
    allowance of a side no policy isolates counts as present on the other side when that side
    is not isolated there either (a pair that is closed at its ingress keeps its open egress)."""
    other_ids = {_identity(r) for r in others}
    out = []
    for r in refs:
        if r.is_default:
            if _identity(r) not in other_ids and not theirs.keeps_default(r, src, dst):
                out.append(r)
        elif _identity(r) not in other_ids or mine.content.get(_identity(r)) != theirs.content.get(_identity(r)):
            out.append(r)
    return out


def _responsible(sides: tuple[_Side, _Side], src: str, dst: str, a: Allowance | None,
                 b: Allowance | None) -> tuple[tuple[RuleAt, ...], tuple[RuleAt, ...]]:
    old, new = sides
    ra, rb = _refs(a), _refs(b)
    before, after = _only(ra, rb, old, new, src, dst), _only(rb, ra, new, old, src, dst)
    if not before and not after:  # no rule changed: the pods or their ports did
        before, after = ra, rb
    return tuple(old.at(r) for r in before), tuple(new.at(r) for r in after)


_Entry = tuple[int, int, Allowance]


def _external_sides(view: Side) -> dict[tuple[str, bool], list[_Entry]]:
    """(internal endpoint, outwards?) -> the address ranges it reaches or is reached from."""
    out: dict[tuple[str, bool], list[_Entry]] = {}
    nodes = view.nodes
    for (s, d), a in view.edges.items():
        ns, nd = nodes[s], nodes[d]
        if ns["type"] == "external" and nd["type"] != "external":
            lo, hi = ns["interval"]
            out.setdefault((d, False), []).append((lo, hi, a))
        elif nd["type"] == "external" and ns["type"] != "external":
            lo, hi = nd["interval"]
            out.setdefault((s, True), []).append((lo, hi, a))
    return out


def _plain(entries: Iterable[_Entry]) -> list[tuple[int, int, ConnectionSet]]:
    return sorted((lo, hi, a.conns) for lo, hi, a in entries)


def _cover(entries: Sequence[_Entry], lo: int, hi: int) -> Allowance | None:
    got: Allowance | None = None
    for elo, ehi, a in entries:
        if elo <= lo and hi <= ehi:
            got = a if got is None else got | a
    return got


def _pieces(old: Sequence[_Entry], new: Sequence[_Entry]):
    """Address pieces where the two sides differ, merged into maximal ranges that changed
    alike: (lo, hi, old allowance, new allowance)."""
    cuts = sorted({lo for lo, _, _ in (*old, *new)} | {hi + 1 for _, hi, _ in (*old, *new)}
                  | {V6_BASE})
    out: list[list[Any]] = []
    for i in range(len(cuts) - 1):
        lo, hi = cuts[i], cuts[i + 1] - 1
        a, b = _cover(old, lo, hi), _cover(new, lo, hi)
        ca = a.conns if a else NO_CONNECTIONS
        cb = b.conns if b else NO_CONNECTIONS
        if ca == cb:
            continue
        if out and out[-1][1] + 1 == lo and lo != V6_BASE and _same(out[-1][2], a) and _same(out[-1][3], b):
            out[-1][1] = hi
        else:
            out.append([lo, hi, a, b])
    return [tuple(p) for p in out]


def _same(x: Allowance | None, y: Allowance | None) -> bool:
    return x == y if x is None or y is None else (x.conns, x.egress, x.ingress) == (y.conns, y.egress, y.ingress)
