"""``kreach lint``: what a reviewer should be told about a set of NetworkPolicies before merge.

One function is the whole API: :func:`lint` takes an :class:`~analyzer.analysis.Analysis` and
:class:`LintSettings` and returns a :class:`LintReport` of frozen :class:`Finding` records (code,
severity, message, file:line, policy and rule, and for a selector matching nothing the pod that
would match). Each family of checks is one module with a ``check(ctx)`` generator:

=================  ===========  ===============================================================
module             codes        what
=================  ===========  ===============================================================
``baseline``       KRL101-102   namespaces without a default-deny baseline
``selection``      KRL201-205   policies and peers selecting nothing; hostNetwork pods
``ports``          KRL211-212   named ports nobody declares; port 53 without a protocol
``holes``          KRL301-303   allow-all peers, internet ingress, the temporary debug hole
``dns``            KRL401       egress isolation without DNS
``ipblocks``       KRL402-403   ipBlocks covering pod IPs or Service ClusterIPs
``redundancy``     KRL501-505   redundant/shadowed rules, redundant/equivalent/vacuous policies
=================  ===========  ===============================================================

Input diagnostics are carried in the report unchanged: a finding never hides an input error.
"""

from __future__ import annotations

from ..analysis import Analysis
from ..diagnostics import sort_key
from . import baseline, dns, holes, ipblocks, ports, redundancy, selection
from .codes import CODES, Code
from .context import LintContext
from .findings import Finding, HypotheticalPod, LintReport, LintSettings
from .settings import lint_settings
from .suppress import covering, read_suppressions

FAMILIES = (baseline, selection, ports, holes, dns, ipblocks, redundancy)


def lint(analysis: Analysis, settings: LintSettings = LintSettings()) -> LintReport:
    ctx = LintContext(analysis, settings)
    raw: list[Finding] = []
    for family in FAMILIES:
        if not any(settings.enabled(c) for c in _codes_of(family)):
            continue  # the algebra is the expensive family: skip what nobody asked for
        raw += [f for f in family.check(ctx) if settings.enabled(f.code)]
    comments, diags, comment_only = read_suppressions(analysis.locator)
    findings: list[Finding] = []
    suppressed: list[tuple[Finding, str]] = []
    used: set = set()
    for f in raw:
        f = _with_severity(f, settings)
        s = covering(f, comments, comment_only) if comments else None
        if s is None:
            findings.append(f)
        else:
            used.add((s.source.file, s.source.line))
            suppressed.append((f, s.reason))
    from ..messages import diagnostic

    for key, s in comments.items():
        if key not in used and s.codes and any(settings.enabled(c) for c in s.codes):
            diags.append(diagnostic("KR504", s.source, codes=", ".join(sorted(s.codes))))
    order = lambda f: (f.file or "", f.line or 0, f.code, f.message)  # noqa: E731
    findings.sort(key=order)
    suppressed.sort(key=lambda fs: order(fs[0]))
    all_diags = tuple(sorted(analysis.diagnostics + tuple(diags), key=sort_key))
    return LintReport(tuple(findings), tuple(suppressed), all_diags, settings)


def _codes_of(family) -> tuple[str, ...]:
    prefix = {baseline: ("KRL101", "KRL102"),
              selection: ("KRL201", "KRL202", "KRL203", "KRL204", "KRL205"),
              ports: ("KRL211", "KRL212"), holes: ("KRL301", "KRL302", "KRL303"),
              dns: ("KRL401",), ipblocks: ("KRL402", "KRL403"),
              redundancy: ("KRL501", "KRL502", "KRL503", "KRL504", "KRL505")}
    return prefix[family]


def _with_severity(f: Finding, settings: LintSettings) -> Finding:
    sev = settings.severity(f.code, f.severity)
    if sev is f.severity:
        return f
    from dataclasses import replace

    return replace(f, severity=sev)


__all__ = ["CODES", "Code", "Finding", "HypotheticalPod", "LintReport", "LintSettings", "lint",
           "lint_settings"]
