"""Re-checking one changed policy without recomputing everything.

Given an evaluated :class:`~analyzer.engine.evaluate.Reachability` and one policy added, replaced or
removed, :func:`apply_policy_change` re-evaluates only what that policy can touch:

* destinations the old or new policy selects for ingress (their whole column of sources);
* for sources it selects for egress, the destinations its old or new egress rules name;
* the address sides of the classes it selects.

It falls back to a full evaluation, and says so, when the change cannot be absorbed: the new
policy reads a label key or a named port the pod classes were not split on, brings a new
ipBlock boundary, covers pod IPs the classes were not split on (an ipBlock over addresses no
earlier ipBlock covered, where some pod has its IP), or changes which pods are isolated for
egress (that changes every column).
Either way the connections equal those of a fresh :func:`~analyzer.engine.evaluate.evaluate` of the
changed cluster (address atoms may stay finer than needed after a removal; ranges are merged
when reported).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from .addresses import AddressAtoms
from .classes import iter_bits, selector_keys
from .admin import compile_cluster
from .compile import CompiledPolicies, compile_policies
from ..model.admin import AdminPolicy
from ..model.connset import NO_CONNECTIONS, ConnectionSet
from .evaluate import (Allowance, Reachability, _Evaluator, evaluate, evaluate_tables,
                       ip_partition)
from ..model.cluster import INGRESS, NetworkPolicy


@dataclass(frozen=True)
class ClassChange:
    """The allowed connections from one pod class to another before and after the change."""

    src: int
    dst: int
    before: ConnectionSet
    after: ConnectionSet


@dataclass(frozen=True)
class Recheck:
    reachability: Reachability
    changes: tuple[ClassChange, ...]  # pod-class pairs whose connections changed
    address_sides_changed: tuple[int, ...]  # classes whose external connectivity changed
    incremental: bool  # False: a full evaluation was needed

    def endpoint_changes(self) -> list[tuple[str, str, ConnectionSet, ConnectionSet]]:
        """The changes at workload level: (src workload, dst workload, before, after)."""
        reach = self.reachability
        wl_of: dict[int, set[str]] = {}
        for i, pod in enumerate(reach.cluster.pods):
            wl_of.setdefault(reach.index.pod_class[i], set()).add(pod.workload)
        out = []
        for ch in self.changes:
            for s in sorted(wl_of.get(ch.src, ())):
                for d in sorted(wl_of.get(ch.dst, ())):
                    if s != d:
                        out.append((s, d, ch.before, ch.after))
        return out


def apply_policy_change(reach: Reachability, new: NetworkPolicy | None = None, *,
                        remove: str | None = None) -> Recheck:
    """Add or replace ``new`` (matched by namespace/name), or remove the policy ``remove``
    ("namespace/name"), and return the new result with what changed."""
    if new is None and remove is None:
        raise ValueError("give a policy to add or replace, or the id of one to remove")
    old_id = new.id if new is not None else remove
    policies = tuple(p for p in reach.cluster.policies if p.id != old_id)
    if new is not None:
        policies += (new,)
    cluster = replace(reach.cluster, policies=policies)
    new_targets = compile_policies((new,)) if new is not None else CompiledPolicies((), ())
    compiled = CompiledPolicies(
        tuple(t for t in reach.compiled.ingress if t.policy != old_id) + new_targets.ingress,
        tuple(t for t in reach.compiled.egress if t.policy != old_id) + new_targets.egress,
        reach.compiled.admin)  # the admin tiers are unchanged; evaluation consults them

    tables = reach.tables
    keys, names = selector_keys(new_targets)
    starts = {lo for lo, _ in reach.ip_atoms}
    fits = (tables is not None
            and keys <= reach.index.label_keys and names <= reach.index.port_names
            and {lo for lo, _ in ip_partition(new_targets)} <= starts
            and not reach.index.splits_for(AddressAtoms.of(new_targets, reach.ip_atoms)))
    if not fits:
        return _full(reach, cluster, compiled)
    assert tables is not None
    before = _Evaluator(tables)
    tables = tables.copy()
    old_entries = tables.remove_policy(old_id)
    for t in new_targets.targets:
        tables.add_target(t)
    after = _Evaluator(tables)
    if after.iso_eg != before.iso_eg:
        return _full(reach, cluster, compiled, tables)

    index = tables.index
    new_entries = tables.targets.get(old_id, [])
    dst_cols = 0
    src_rows = 0
    for direction, selected, ids in old_entries:
        if direction == INGRESS:
            dst_cols |= selected
        else:
            src_rows |= selected
            for rid in ids:
                dst_cols |= reach.tables.rules[rid].peer_bits  # type: ignore[union-attr]
    for direction, selected, ids in new_entries:
        if direction == INGRESS:
            dst_cols |= selected
        else:
            src_rows |= selected
            for rid in ids:
                dst_cols |= tables.rules[rid].peer_bits

    edges = dict(reach.class_edges)
    changes: list[ClassChange] = []
    for d in iter_bits(dst_cols):
        old_col = {s: a for bits, a in before.column(d) for s in iter_bits(bits)}
        new_col = {s: a for bits, a in after.column(d) for s in iter_bits(bits)}
        for s in old_col.keys() | new_col.keys():
            a_old, a_new = old_col.get(s), new_col.get(s)
            if a_new is None:
                del edges[(s, d)]
            else:
                edges[(s, d)] = a_new
            c_old = a_old.conns if a_old else NO_CONNECTIONS
            c_new = a_new.conns if a_new else NO_CONNECTIONS
            if c_old != c_new:
                changes.append(ClassChange(s, d, c_old, c_new))
    from_ip = dict(reach.from_ip)
    to_ip = dict(reach.to_ip)
    sides: set[int] = set()
    for c in iter_bits(dst_cols | src_rows):
        f, t = after.from_ip(c), after.to_ip(c)
        if _conns(f) != _conns(from_ip[c]) or _conns(t) != _conns(to_ip[c]):
            sides.add(c)
        from_ip[c], to_ip[c] = f, t
    result = Reachability(cluster, compiled, index, reach.ip_atoms, edges, from_ip, to_ip,
                          after.iso_in, after.iso_eg, tables)
    changes.sort(key=lambda ch: (ch.src, ch.dst))
    return Recheck(result, tuple(changes), tuple(sorted(sides)), True)


def apply_admin_change(reach: Reachability, new: AdminPolicy | None = None, *,
                       remove: str | None = None) -> Recheck:
    """Add or replace the admin policy ``new`` (AdminNetworkPolicy, BaselineAdminNetworkPolicy or
    ClusterNetworkPolicy, matched by kind and name), or remove the one named ``remove``
    ("Kind/name" or a bare name). Always a full evaluation (``incremental`` is False): an admin
    rule can reorder decisions for any pair its subject and peers meet, across every tier."""
    if new is None and remove is None:
        raise ValueError("give an admin policy to add or replace, or the name of one to remove")
    if new is not None:
        gone = lambda p: p.kind == new.kind and p.name == new.name  # noqa: E731
    else:
        kind, _, name = remove.rpartition("/")
        gone = lambda p: p.name == name and (not kind or p.kind == kind)  # noqa: E731
    admin = tuple(p for p in reach.cluster.admin_policies if not gone(p))
    if new is not None:
        admin += (new,)
    cluster = replace(reach.cluster, admin_policies=admin)
    compiled = compile_cluster(cluster)
    return _full(reach, cluster, compiled)


def _conns(side: tuple[tuple[int, Allowance], ...]) -> tuple:
    return tuple((bits, a.conns) for bits, a in side)


def _full(reach: Reachability, cluster, compiled: CompiledPolicies, tables=None) -> Recheck:
    fresh = evaluate(cluster, compiled) if tables is None else evaluate_tables(cluster, compiled, tables)
    if fresh.index.classes != reach.index.classes:
        # classes were split differently: compare at class level is meaningless, report all
        changes = tuple(ClassChange(s, d, NO_CONNECTIONS, a.conns)
                        for (s, d), a in sorted(fresh.class_edges.items()))
        return Recheck(fresh, changes, tuple(range(len(fresh.index.classes))), False)
    changes = []
    for key in sorted(reach.class_edges.keys() | fresh.class_edges.keys()):
        a, b = reach.class_edges.get(key), fresh.class_edges.get(key)
        ca, cb = (a.conns if a else NO_CONNECTIONS), (b.conns if b else NO_CONNECTIONS)
        if ca != cb:
            changes.append(ClassChange(key[0], key[1], ca, cb))
    sides = tuple(c for c in range(len(fresh.index.classes))
                  if _conns(fresh.from_ip[c]) != _conns(reach.from_ip[c])
                  or _conns(fresh.to_ip[c]) != _conns(reach.to_ip[c]))
    return Recheck(fresh, tuple(changes), sides, False)
