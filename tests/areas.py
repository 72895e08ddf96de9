"""Canonical forms for comparing connectivity as sets, shared by the tests that compare kreach
with hand-derived and peer expectations: equal coverage gives equal values however the
intervals were split."""

from __future__ import annotations

Intervals = tuple[tuple[int, int], ...]
Area = tuple[tuple[tuple[int, int], Intervals], ...]


def merge(intervals) -> Intervals:
    """Canonical union of closed integer intervals: sorted, disjoint, non-adjacent."""
    out: list[list[int]] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


def area(rectangles) -> Area:
    """Canonical form of a union of (ip_lo, ip_hi, port_lo, port_hi) rectangles: port bands
    (ports clamped to 1-65535), each with the merged address intervals allowed on all its ports."""
    rects = [(ilo, ihi, max(plo, 1), min(phi, 65535)) for ilo, ihi, plo, phi in rectangles
             if max(plo, 1) <= min(phi, 65535)]
    cuts = sorted({r[2] for r in rects} | {r[3] + 1 for r in rects})
    bands: list[tuple[tuple[int, int], Intervals]] = []
    for lo, nxt in zip(cuts, cuts[1:]):
        ips = merge((r[0], r[1]) for r in rects if r[2] <= lo and nxt - 1 <= r[3])
        if not ips:
            continue
        if bands and bands[-1][1] == ips and bands[-1][0][1] == lo - 1:
            bands[-1] = ((bands[-1][0][0], nxt - 1), ips)
        else:
            bands.append(((lo, nxt - 1), ips))
    return tuple(bands)
