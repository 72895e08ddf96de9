"""Connectivity assertions for pytest (or any test runner).

    from analyzer.testing import load_cluster, assert_reachable, assert_not_reachable

    cluster = load_cluster("deploy/")
    assert_reachable(cluster, "shop/web", "shop/api", port=9000)
    assert_not_reachable(cluster, "internet", "shop/db")

Each helper returns the :class:`~analyzer.assertions.Result` when the assertion holds and raises
``AssertionError`` otherwise, with what was expected, what was found, the counterexample (pods,
protocol, port) and the rules responsible. The helpers hide themselves from tracebacks. With the
pytest plugin (installed with kreach) the ``kreach_cluster`` fixture loads the manifests named by
``--kreach-manifests`` or the ``kreach_manifests`` ini option.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from ..analysis import Analysis, Options, analyze
from ..assertions.model import Assertion, Isolated, OnlyFrom, PortFilter, Reach
from ..assertions.results import Result, Status
from ..assertions.runner import Checker, CheckOptions
from ..diagnostics import Diagnostic, Severity
from ..source import SourceRef

_HERE = SourceRef("<python>")


class KreachCluster:
    """Manifests loaded and analysed once, ready for any number of assertions."""

    def __init__(self, analysis: Analysis, options: CheckOptions = CheckOptions()) -> None:
        self.analysis = analysis
        self.checker = Checker(analysis, options)

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self.analysis.diagnostics

    def check(self, assertion: Assertion) -> Result:
        return self.checker.run(assertion)


def load_cluster(*paths: str, options: CheckOptions = CheckOptions()) -> KreachCluster:
    """Analyse the manifests under ``paths``; raise ``ValueError`` when nothing usable is there."""
    analysis = analyze(list(paths), Options(k8s_version=options.k8s_version, schema=options.schema))
    return _checked(analysis, options, ", ".join(paths))


def cluster_from_manifests(documents: Iterable[dict],
                           options: CheckOptions = CheckOptions()) -> KreachCluster:
    """Analyse Kubernetes objects given as dicts (e.g. from :mod:`analyzer.testing.strategies`)."""
    import yaml

    text = yaml.safe_dump_all(list(documents), sort_keys=False)
    analysis = analyze(["-"], Options(k8s_version=options.k8s_version, schema=options.schema),
                       stdin_text=text)
    return _checked(analysis, options, "the given objects")


def _checked(analysis: Analysis, options: CheckOptions, where: str) -> KreachCluster:
    if analysis.is_empty:
        errors = "; ".join(str(d) for d in analysis.diagnostics if d.severity is Severity.ERROR)
        raise ValueError(f"kreach: nothing to analyse in {where}" + (f": {errors}" if errors else ""))
    refuse_partial(analysis.diagnostics, options, where)
    return KreachCluster(analysis, options)


def refuse_partial(diagnostics: Iterable[Diagnostic], options: CheckOptions, where: str) -> None:
    """Fail closed, as ``kreach check`` does: ``ValueError`` naming every policy left out of
    the analysis (skipped as invalid, or of a kind kreach does not model), unless
    ``options.allow_partial``."""
    from ..inputs.kinds import describe_left_out, policies_left_out

    left = policies_left_out(diagnostics)
    if left and not options.allow_partial:
        lines = "\n".join(f"  {d}" for d in left)
        raise ValueError(f"kreach: {where} is only partly analysed, so answers may be wrong for "
                         f"the cluster: {describe_left_out(left)}\n{lines}\n"
                         "(allow-partial = true in [tool.kreach], or "
                         "CheckOptions(allow_partial=True), accepts this)")


def failure_message(result: Result) -> str:
    """What a failed assertion says: expected, found, counterexample and the rules responsible."""
    from ..writers.check_text import result_lines

    lines = [line[8:] if line.startswith(" " * 8) else line for line in result_lines(result)[1:]]
    return "\n".join(lines)


def _enforce(cluster: KreachCluster, name: str, check) -> Result:
    __tracebackhide__ = True
    result = cluster.check(Assertion(name, check, _HERE))
    if result.status is Status.ERROR:
        raise ValueError("; ".join(d.message for d in result.diagnostics) or result.found)
    if not result.passed:
        raise AssertionError(failure_message(result))
    return result


def assert_reachable(cluster: KreachCluster, src: str, dst: str, port: int | None = None,
                     protocol: str | None = None) -> Result:
    """Some connection from ``src`` to ``dst`` (on ``port``/``protocol`` if given) is allowed."""
    __tracebackhide__ = True
    return _enforce(cluster, f"{src} reaches {dst}", Reach(src, dst, port, protocol, True))


def assert_not_reachable(cluster: KreachCluster, src: str, dst: str, port: int | None = None,
                         protocol: str | None = None) -> Result:
    """No connection from ``src`` to ``dst`` (on ``port``/``protocol`` if given) is allowed."""
    __tracebackhide__ = True
    return _enforce(cluster, f"{src} does not reach {dst}", Reach(src, dst, port, protocol, False))


def assert_only_from(cluster: KreachCluster, dst: str, sources: Sequence[str],
                     ports: Sequence[int] | None = None, protocol: str | None = None) -> Result:
    """Exactly ``sources`` (existing pods or addresses) reach ``dst`` on the given ports. A
    single endpoint may be given as a plain string."""
    __tracebackhide__ = True
    if isinstance(sources, str):
        sources = [sources]
    if ports is not None and not all(isinstance(p, int) for p in ports):
        raise TypeError(f"ports must be integers, not {ports!r}")
    filt = PortFilter(None if ports is None else tuple((p, p) for p in sorted(ports)), protocol)
    return _enforce(cluster, f"only {', '.join(sources)} reach {dst}",
                    OnlyFrom(dst, tuple(sources), filt))


def assert_isolated(cluster: KreachCluster, namespace: str, direction: str = "both") -> Result:
    """Every possible pod of ``namespace`` (existing or not) is isolated in ``direction``
    (``ingress``, ``egress`` or ``both``), proved by the symbolic engine."""
    __tracebackhide__ = True
    if direction not in ("ingress", "egress", "both"):
        raise ValueError(f"direction must be ingress, egress or both, not {direction!r}")
    return _enforce(cluster, f"{namespace} is isolated", Isolated(namespace, direction))


__all__ = ["KreachCluster", "assert_isolated", "assert_not_reachable", "assert_only_from",
           "assert_reachable", "cluster_from_manifests", "failure_message", "load_cluster"]
