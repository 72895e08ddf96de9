"""The ``kreach.audit/v1`` JSON document (schema in docs/output.md), also the data the HTML page
embeds."""

from __future__ import annotations

from typing import Any

from .audit import Audit, Exposure

SCHEMA = "kreach.audit/v1"


def share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def exposure_dict(e: Exposure) -> dict[str, Any]:
    return {"workload": e.workload, "source": e.source, "from": list(e.ranges),
            "protocols": e.conns.to_json(), "ports": e.conns.to_text(),
            "allowed_by": [str(r) for r in e.rules], "direction": e.direction}


def document(report: Audit, diagnostics=()) -> dict[str, Any]:
    inv, cov = report.inventory, report.coverage
    return {
        "schema": SCHEMA,
        "inventory": {"namespaces": inv.namespaces, "workloads": inv.workloads, "pods": inv.pods,
                      "policies": dict(inv.policies)},
        "coverage": {
            "workloads": cov.workloads,
            "ingress_isolated": cov.ingress_isolated, "egress_isolated": cov.egress_isolated,
            "ingress_share": share(cov.ingress_isolated, cov.workloads),
            "egress_share": share(cov.egress_isolated, cov.workloads),
            "namespaces": [{"namespace": n.namespace, "workloads": n.workloads,
                            "ingress_isolated": n.ingress_isolated,
                            "egress_isolated": n.egress_isolated} for n in cov.namespaces],
        },
        "exposure": [exposure_dict(e) for e in report.exposure],
        "egress": [exposure_dict(e) for e in report.egress],
        "blast_radius": {
            "hops": report.hops,
            "workloads": [{"workload": b.workload, "reachable": len(b.reachable),
                           "by_hop": [list(level) for level in b.by_hop]}
                          for b in report.blast_radius],
        },
        "crown_jewels": {
            "patterns": list(report.crown_jewel_patterns),
            "paths": [{"jewel": j.jewel, "reachable_from_outside": j.reachable,
                       "path": [{"src": h.src, "dst": h.dst, "protocols": h.conns.to_json(),
                                 "ports": h.conns.to_text()} for h in j.hops]}
                      for j in report.jewels],
        },
        "lint": [f.to_dict() for f in report.lint],
        "assertions": _assertions(report.assertions),
        "notes": list(report.notes),
        "diagnostics": [d.to_dict() for d in diagnostics],
    }


def _assertions(report) -> dict[str, Any] | None:
    if report is None:
        return None
    results = []
    for r in report.results:
        results.append({"name": r.assertion.name, "kind": r.assertion.kind,
                        "status": r.status.value, "expected": r.expected, "found": r.found})
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return {"file": report.file, "counts": counts, "results": results}
