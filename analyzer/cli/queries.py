"""The questions: ``can``, ``who-can-reach``, ``reachable-from``, ``exposure``, ``isolated``.

z3 is imported inside the commands, so ``kreach list`` never loads it."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .app import (REV, check_timeout, timeout_seconds, EXCLUDE, EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, K8S, NAMESPACE, OUTPUT, PATHS, QUIET,
                  SCHEMA, VERBOSE, InputFlags, _settings, app, load_input, must_have_input,
                  setting_format)
from .inputs import HELM_VALUES, RENDER, VAR_FILES, VARS, input_options
from .io import emit


class VerdictFormat(str, Enum):
    txt = "txt"
    json = "json"


class Protocol(str, Enum):
    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


def _check_endpoints(paths: Optional[List[str]], *endpoints: str) -> None:
    """Endpoint syntax is checked before anything is read, and an endpoint that is really a
    path on disk (a forgotten argument shifts the manifests into an endpoint's place) is named
    as such instead of reading the current directory."""
    from ..query.endpoints import EndpointError, parse_endpoint

    for text in endpoints:
        try:
            parse_endpoint(text)
        except EndpointError as e:
            typer.echo(f"kreach: error: {e}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT)
    if not paths:
        for text in endpoints:
            if os.path.exists(text):
                typer.echo(f"kreach: error: {text!r} is a path on disk, not an endpoint: a "
                           "missing argument? The endpoints come first, then the manifests, "
                           "e.g. kreach can shop/web shop/api fixtures/demo (to mean the "
                           "endpoint, name the manifests, even '.')", err=True)
                raise typer.Exit(EXIT_BAD_INPUT)


def _analyze_for_query(paths: Optional[List[str]], flags: InputFlags, settings):
    analysis = load_input(paths, flags, settings)
    must_have_input(analysis, InputFlags(), settings)  # [tool.kreach] strict applies here too
    return analysis


def _engine(analysis, timeout: Optional[float], settings):
    from ..query.engine import Engine, QueryOptions

    seconds = timeout_seconds(timeout, settings)
    return Engine.from_analysis(analysis, QueryOptions(timeout_ms=int(seconds * 1000)))


def _format(fmt: Optional[VerdictFormat], settings) -> VerdictFormat:
    return fmt or VerdictFormat(setting_format(settings, ("txt", "json"), "txt"))


def _locators(engine):
    def txt(ref):
        line = engine.line(ref)
        return f"{ref.source.file}:{line}" if ref.source and line else (
            ref.source.file if ref.source else None)

    def js(ref):
        return (ref.source.file, engine.line(ref)) if ref.source else None

    return txt, js


_TIMEOUT = typer.Option(None, "--timeout", metavar="SECONDS", callback=check_timeout,
                        help="Seconds per solver call (default 5); beyond it the answer is 'unknown'.")
_FORMAT = typer.Option(None, "--format", "-f", metavar="txt|json", help="Output format (default: txt).")
_PORT = typer.Option(None, "--port", "-p", metavar="PORT", help="Only this destination port.")


@app.command("can", short_help="Can SRC connect to DST? (exit 0 yes, 1 no)")
def can_(
    src: str = typer.Argument(..., metavar="SRC", help="Source endpoint (see docs/queries.md)."),
    dst: str = typer.Argument(..., metavar="DST", help="Destination endpoint."),
    paths: Optional[List[str]] = PATHS,
    port: Optional[int] = typer.Option(None, "--port", "-p", metavar="PORT", help="Destination port."),
    protocol: Optional[Protocol] = typer.Option(None, "--protocol", case_sensitive=False,
                                                metavar="TCP|UDP|SCTP", help="Protocol (default: any)."),
    fmt: Optional[VerdictFormat] = _FORMAT,
    output: Optional[Path] = OUTPUT,
    timeout: Optional[float] = _TIMEOUT,
    k8s_version: Optional[str] = K8S,
    schema: Optional[bool] = SCHEMA,
    namespace: Optional[str] = NAMESPACE,
    exclude: Optional[List[str]] = EXCLUDE, rev: Optional[str] = REV,
    quiet: bool = QUIET,
    verbose: bool = VERBOSE,
    var: Optional[List[str]] = VARS, var_file: Optional[List[str]] = VAR_FILES,
    render_: bool = RENDER, helm_values: Optional[List[str]] = HELM_VALUES,
) -> None:
    """Can SRC connect to DST? Exit 0 yes, 1 no, 2 error or unknown."""
    from ..query.can import can
    from ..query.verdict import Answer
    from ..writers import verdict_json, verdict_txt

    _check_endpoints(paths, src, dst)
    settings = _settings()
    analysis = _analyze_for_query(paths, InputFlags(k8s_version, schema, namespace, exclude, rev=rev,
                                                    quiet=quiet, verbose=verbose,
                               inputs=input_options(var, var_file, render_, helm_values)), settings)
    engine = _engine(analysis, timeout, settings)
    try:
        verdict = can(engine, src, dst, port=port, protocol=protocol.value if protocol else None)
    except ValueError as e:  # a bad endpoint expression or one that names nothing
        typer.echo(f"kreach: error: {e}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    txt, js = _locators(engine)
    emit(verdict_json.render(verdict, js) if _format(fmt, settings) is VerdictFormat.json
         else verdict_txt.render(verdict, txt), output)
    raise typer.Exit({Answer.YES: EXIT_OK, Answer.NO: EXIT_FINDINGS}.get(verdict.answer, EXIT_BAD_INPUT))


def _render(fmt: VerdictFormat, name: str, result, engine) -> str:
    from ..writers import verdict_json, verdict_txt

    txt, js = _locators(engine)
    module, locate = (verdict_json, js) if fmt is VerdictFormat.json else (verdict_txt, txt)
    return getattr(module, name)(result, locate)


def _peers_command(endpoint: str, paths, port, fmt, output, timeout, flags: InputFlags,
                   direction: str) -> None:
    from ..query.peers import reachable_from, who_can_reach

    _check_endpoints(paths, endpoint)
    settings = _settings()
    analysis = _analyze_for_query(paths, flags, settings)
    engine = _engine(analysis, timeout, settings)
    try:
        report = (who_can_reach if direction == "to" else reachable_from)(engine, endpoint, port)
    except ValueError as e:
        typer.echo(f"kreach: error: {e}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    emit(_render(_format(fmt, settings), "render_peers", report, engine), output)
    if report.unknown:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command("who-can-reach", short_help="Who can reach DST: workloads, address ranges, new pods.")
def who_can_reach_(
    dst: str = typer.Argument(..., metavar="DST", help="Destination endpoint (existing pods)."),
    paths: Optional[List[str]] = PATHS,
    port: Optional[int] = _PORT,
    fmt: Optional[VerdictFormat] = _FORMAT,
    output: Optional[Path] = OUTPUT, timeout: Optional[float] = _TIMEOUT, k8s_version: Optional[str] = K8S,
    schema: Optional[bool] = SCHEMA, namespace: Optional[str] = NAMESPACE,
    exclude: Optional[List[str]] = EXCLUDE, rev: Optional[str] = REV, quiet: bool = QUIET, verbose: bool = VERBOSE,
    var: Optional[List[str]] = VARS, var_file: Optional[List[str]] = VAR_FILES,
    render_: bool = RENDER, helm_values: Optional[List[str]] = HELM_VALUES,
) -> None:
    """Every workload, address range and not-yet-existing pod that can reach DST."""
    _peers_command(dst, paths, port, fmt, output, timeout,
                   InputFlags(k8s_version, schema, namespace, exclude, rev=rev, quiet=quiet, verbose=verbose,
                               inputs=input_options(var, var_file, render_, helm_values)), "to")


@app.command("reachable-from", short_help="What SRC can reach: workloads, address ranges, new pods.")
def reachable_from_(
    src: str = typer.Argument(..., metavar="SRC", help="Source endpoint (existing pods; for the internet see exposure)."),
    paths: Optional[List[str]] = PATHS,
    port: Optional[int] = _PORT,
    fmt: Optional[VerdictFormat] = _FORMAT,
    output: Optional[Path] = OUTPUT, timeout: Optional[float] = _TIMEOUT, k8s_version: Optional[str] = K8S,
    schema: Optional[bool] = SCHEMA, namespace: Optional[str] = NAMESPACE,
    exclude: Optional[List[str]] = EXCLUDE, rev: Optional[str] = REV, quiet: bool = QUIET, verbose: bool = VERBOSE,
    var: Optional[List[str]] = VARS, var_file: Optional[List[str]] = VAR_FILES,
    render_: bool = RENDER, helm_values: Optional[List[str]] = HELM_VALUES,
) -> None:
    """Every workload, address range and not-yet-existing pod SRC can reach."""
    _peers_command(src, paths, port, fmt, output, timeout,
                   InputFlags(k8s_version, schema, namespace, exclude, rev=rev, quiet=quiet, verbose=verbose,
                               inputs=input_options(var, var_file, render_, helm_values)), "from")


class Direction(str, Enum):
    ingress = "ingress"
    egress = "egress"
    both = "both"


class Severity(str, Enum):
    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"


@app.command("exposure", short_help="What each workload's policies open, both ways, and the edge.")
def exposure_(
    paths: Optional[List[str]] = PATHS,
    direction: Direction = typer.Option(Direction.both, "--direction", "-d", metavar="ingress|egress|both",
                                        help="Direction to report (default: both)."),
    min_severity: Severity = typer.Option(Severity.low, "--min-severity", metavar="critical|high|medium|low",
                                          help="Report findings at least this severe."),
    fmt: Optional[VerdictFormat] = _FORMAT,
    output: Optional[Path] = OUTPUT, timeout: Optional[float] = _TIMEOUT, k8s_version: Optional[str] = K8S,
    schema: Optional[bool] = SCHEMA, namespace: Optional[str] = NAMESPACE,
    exclude: Optional[List[str]] = EXCLUDE, rev: Optional[str] = REV, quiet: bool = QUIET, verbose: bool = VERBOSE,
    var: Optional[List[str]] = VARS, var_file: Optional[List[str]] = VAR_FILES,
    render_: bool = RENDER, helm_values: Optional[List[str]] = HELM_VALUES,
) -> None:
    """What each workload's policies open, in both directions: address ranges, the entire cluster, namespaces and pods described by selectors (pods that may not exist yet), and workloads no policy isolates; edge-exposed and most severe first. Exit 1 if any."""
    from ..query.exposure import DIRECTIONS, exposure

    settings = _settings()
    analysis = _analyze_for_query(paths, InputFlags(k8s_version, schema, namespace, exclude, rev=rev,
                                                    quiet=quiet, verbose=verbose,
                               inputs=input_options(var, var_file, render_, helm_values)), settings)
    if not analysis.cluster.pods:  # "no exposure found" would read as a result; it is not one
        typer.echo("kreach: error: exposure is about workloads, and the input holds no pod or "
                   "workload; add the workloads' manifests", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    engine = _engine(analysis, timeout, settings)
    directions = DIRECTIONS if direction is Direction.both else (direction.value,)
    report = exposure(engine, directions, min_severity.value)
    emit(_render(_format(fmt, settings), "render_exposure", report, engine), output)
    if report.unknown:
        raise typer.Exit(EXIT_BAD_INPUT)
    raise typer.Exit(EXIT_FINDINGS if report.findings or report.dead_routes else EXIT_OK)


@app.command("isolated", short_help="Is every possible pod of NAMESPACE isolated?")
def isolated_(
    ns: str = typer.Argument(..., metavar="NAMESPACE", help="Namespace to check."),
    paths: Optional[List[str]] = PATHS,
    direction: Direction = typer.Option(Direction.both, "--direction", "-d", metavar="ingress|egress|both",
                                        help="Direction to prove (default: both)."),
    fmt: Optional[VerdictFormat] = _FORMAT,
    output: Optional[Path] = OUTPUT, timeout: Optional[float] = _TIMEOUT, k8s_version: Optional[str] = K8S,
    schema: Optional[bool] = SCHEMA, namespace: Optional[str] = NAMESPACE,
    exclude: Optional[List[str]] = EXCLUDE, rev: Optional[str] = REV, quiet: bool = QUIET, verbose: bool = VERBOSE,
    var: Optional[List[str]] = VARS, var_file: Optional[List[str]] = VAR_FILES,
    render_: bool = RENDER, helm_values: Optional[List[str]] = HELM_VALUES,
) -> None:
    """Prove every possible pod of NAMESPACE is isolated, or show labels that escape.
    Exit 0 isolated, 1 not, 2 error or unknown."""
    from ..query.isolation import isolated
    from ..query.verdict import Answer

    settings = _settings()
    analysis = _analyze_for_query(paths, InputFlags(k8s_version, schema, namespace, exclude, rev=rev,
                                                    quiet=quiet, verbose=verbose,
                               inputs=input_options(var, var_file, render_, helm_values)), settings)
    engine = _engine(analysis, timeout, settings)
    directions = ["Ingress", "Egress"] if direction is Direction.both else [direction.value.capitalize()]
    try:
        verdicts = [isolated(engine, ns, d) for d in directions]
    except ValueError as e:
        typer.echo(f"kreach: error: {e}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    emit("".join(_render(_format(fmt, settings), "render_isolation", v, engine) for v in verdicts), output)
    answers = {v.answer for v in verdicts}
    raise typer.Exit(EXIT_BAD_INPUT if Answer.UNKNOWN in answers
                     else EXIT_FINDINGS if Answer.NO in answers else EXIT_OK)
