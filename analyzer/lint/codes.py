"""Every lint code, its default severity and a one-line summary, in one place.

Lint codes (``KRL`` + three digits) name findings about what the policies *mean*; they live in
their own namespace, apart from the ``KR`` diagnostics about unreadable input. Codes are stable:
users select, ignore and suppress them, CI systems key on them. Never reuse a code for a
different meaning; retire it instead. docs/lint.md has one section per code.

KRL1xx  baselines            KRL2xx  selection and ports       KRL3xx  allow-all holes
KRL4xx  DNS and addresses    KRL5xx  policy algebra (redundant, shadowed, equivalent, vacuous)
"""

from __future__ import annotations

from dataclasses import dataclass

from ..diagnostics import Severity


@dataclass(frozen=True, slots=True)
class Code:
    code: str
    name: str  # a short kebab-case name, as ruff gives its rules
    severity: Severity  # the default severity
    summary: str


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

CODES: dict[str, Code] = {c.code: c for c in (
    Code("KRL101", "no-ingress-baseline", _W,
         "A namespace with pods has no policy isolating all its pods for ingress (default deny)."),
    Code("KRL102", "no-egress-baseline", _I,
         "A namespace with pods has no policy isolating all its pods for egress (default deny)."),
    Code("KRL201", "policy-selects-no-pod", _I,
         "A policy's podSelector selects no pod in the input (it may select pods created later)."),
    Code("KRL202", "empty-policy", _W,
         "A policy's podSelector can never select any pod (contradictory requirements)."),
    Code("KRL203", "dangling-peer", _I,
         "A rule peer matches no pod in the input (it may match pods created later)."),
    Code("KRL204", "peer-never-matches", _W,
         "A rule peer can never match any pod (contradictory requirements)."),
    Code("KRL205", "selects-host-network", _W,
         "A policy selects hostNetwork pods, for which enforcement is implementation-defined."),
    Code("KRL211", "undeclared-named-port", _W,
         "A named port that no pod on the receiving side declares: it allows nothing."),
    Code("KRL212", "dns-port-without-protocol", _W,
         "Port 53 without a protocol means TCP only; DNS mostly uses UDP."),
    Code("KRL301", "peer-matches-every-pod", _W,
         "A rule peer matches every pod of every namespace ({}-like), or egress is open to all."),
    Code("KRL302", "internet-ingress-to-internal", _W,
         "Ingress from 0.0.0.0/0 or ::/0 to workloads no LoadBalancer/NodePort Service exposes."),
    Code("KRL303", "allow-all-rule", _E,
         "An ingress rule with no ports and no peer restriction: every pod and address, every port."),
    Code("KRL401", "no-dns-egress", _W,
         "Pods isolated for egress may send traffic but cannot reach DNS (port 53)."),
    Code("KRL402", "ipblock-covers-pods", _W,
         "An ipBlock covers the IP of a pod in the input; pods should be selected by labels."),
    Code("KRL403", "ipblock-covers-service", _W,
         "An ipBlock covers a Service ClusterIP, which never matches after kube-proxy's DNAT."),
    Code("KRL501", "redundant-rule", _W,
         "Removing the rule changes no connection between anything in the input."),
    Code("KRL502", "shadowed-rule", _W,
         "The rule allows a subset of what another rule of a policy selecting the same pods allows."),
    Code("KRL503", "redundant-policy", _W,
         "Removing the policy changes no connection between anything in the input."),
    Code("KRL504", "equivalent-policies", _W,
         "Two policies select the same pods and allow exactly the same connections."),
    Code("KRL505", "vacuous-policy", _W,
         "The policy isolates pods but its rules allow everything again: alone it changes nothing."),
)}


def expand(patterns: list[str] | tuple[str, ...]) -> tuple[set[str], list[str]]:
    """Codes matching each pattern: a full code (``KRL203``), a prefix (``KRL2``, ``KRL``) or
    ``ALL``. Returns the codes and the patterns that matched nothing."""
    out: set[str] = set()
    unknown: list[str] = []
    for p in patterns:
        p = p.strip().upper()
        hit = set(CODES) if p == "ALL" else {c for c in CODES if c.startswith(p)} if p else set()
        if not hit:
            unknown.append(p)
        out |= hit
    return out, unknown
