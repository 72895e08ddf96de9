"""Labels and ports for witnesses of pods that do not exist yet, without a solver.

* a conjunction of label selectors is satisfiable iff, key by key, the ``In`` sets (minus the
  ``NotIn`` values) leave a value and ``DoesNotExist`` is not asked together with presence;
  values are otherwise free strings (:func:`satisfy`, which also builds the labels);
* the negation of a requirement is again a requirement (:func:`negate`);
* a witness port is picked as a reader would (:func:`first_port`).
"""

from __future__ import annotations

from typing import Iterable, Mapping, Sequence

from ..model.connset import ConnectionSet
from ..model.selectors import Requirement

OTHER = "<other>"  # a label value no selector mentions (as in Z3 witnesses)
NEW_NAMESPACE = "<new namespace>"  # a witness's namespace that does not exist yet

Labels = dict[str, str]


def satisfy(requirements: Iterable[Requirement], present: frozenset[str] = frozenset(),
            excluded: Mapping[str, frozenset[str]] | None = None) -> Labels | None:
    """Labels meeting every requirement (keys in ``present`` must be there, with a value not in
    ``excluded[key]``), or None when no labels do. Keys a requirement lets be absent are left
    out; a value forced to exist but not to be any listed value is :data:`OTHER`."""
    excluded = excluded or {}
    keys: dict[str, list] = {k: [None, set(), True, False] for k in present}
    for r in requirements:
        k = keys.setdefault(r.key, [None, set(), False, False])  # in-set, not-in, present, absent
        if r.operator == "In":
            k[0] = set(r.values) if k[0] is None else k[0] & r.values
            k[2] = True
        elif r.operator == "NotIn":
            k[1] |= r.values
        elif r.operator == "Exists":
            k[2] = True
        else:
            k[3] = True
    out: Labels = {}
    for key, (in_set, not_in, must_be, must_not) in keys.items():
        if must_not:
            if must_be:
                return None
            continue
        if in_set is not None:
            values = in_set - not_in - excluded.get(key, frozenset())
            if not values:
                return None
            out[key] = min(values)
        elif must_be:
            out[key] = OTHER
    return out


_NEGATION = {"In": "NotIn", "NotIn": "In", "Exists": "DoesNotExist", "DoesNotExist": "Exists"}


def negate(r: Requirement) -> Requirement:
    """The requirement that holds exactly when ``r`` does not (NotIn holds on an absent key)."""
    return Requirement(r.key, _NEGATION[r.operator], r.values)


# Ports a reader recognises, shown when the destination declares none (a new pod, an address)
# rather than the lowest allowed port (TCP 1 says nothing).
COMMON_PORTS = (443, 80, 8080, 53)


def first_port(conns: ConnectionSet, declared: Sequence[int] = ()) -> tuple[str, int]:
    """A port ``conns`` allows, as a reader would pick it (like Z3 witnesses): TCP on a
    ``declared`` port (the destination's container ports), else a common TCP port, else the
    lowest TCP port, else a declared port of UDP or SCTP, else the lowest."""
    tcp = conns.get("TCP")
    for n in (*sorted(declared), *COMMON_PORTS):
        if n in tcp:
            return "TCP", n
    if tcp:
        return "TCP", next(iter(tcp))[0]
    for proto in ("UDP", "SCTP"):
        ports = conns.get(proto)
        for n in sorted(declared):
            if n in ports:
                return proto, n
    for proto in ("UDP", "SCTP"):
        ports = conns.get(proto)
        if ports:
            return proto, next(iter(ports))[0]
    raise ValueError("empty connection set")
