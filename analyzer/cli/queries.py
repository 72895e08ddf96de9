"""The questions: ``can``, ``who-can-reach``, ``reachable-from``, ``exposure``, ``isolated``.

z3 is imported inside the commands, so ``kreach list`` never loads it."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .app import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, _pick, _report, _settings, app
from .io import emit



class VerdictFormat(str, Enum):
    txt = "txt"
    json = "json"


class Protocol(str, Enum):
    TCP = "TCP"
    UDP = "UDP"
    SCTP = "SCTP"


def _analyze_for_query(paths: Optional[List[str]], k8s_version: Optional[str],
                       schema: Optional[bool], quiet: bool):
    from ..analysis import Options, analyze

    settings = _settings()
    paths = paths or ["."]
    stdin_text = sys.stdin.read() if "-" in paths else None
    options = Options(k8s_version=_pick(k8s_version, settings, "k8s-version", None),
                      schema=_pick(schema, settings, "schema", True))
    try:
        analysis = analyze(paths, options, stdin_text=stdin_text)
    except ValueError as e:
        typer.echo(f"kreach: error: {e}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    _report(analysis.diagnostics, quiet)
    if analysis.is_empty:
        raise typer.Exit(EXIT_BAD_INPUT)
    return analysis


def _engine(analysis, timeout: float):
    from ..query.engine import Engine, QueryOptions

    return Engine.from_analysis(analysis, QueryOptions(timeout_ms=int(timeout * 1000)))


def _locators(engine):
    def txt(ref):
        line = engine.line(ref)
        return f"{ref.source.file}:{line}" if ref.source and line else (
            ref.source.file if ref.source else None)

    def js(ref):
        return (ref.source.file, engine.line(ref)) if ref.source else None

    return txt, js




_PATHS = typer.Argument(None, help="Manifest files or directories ('-' for stdin; default: .).")
_TIMEOUT = typer.Option(5.0, "--timeout", help="Seconds per solver call; beyond it the answer is 'unknown'.")
_QUIET = typer.Option(False, "--quiet", "-q", help="Print only error diagnostics.")
_SCHEMA = typer.Option(None, "--schema/--no-schema", help="Validate objects against the Kubernetes JSON schemas.")
_K8S = typer.Option(None, "--k8s-version", help="Kubernetes version of the schemas (default: latest).")
_OUTPUT = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout.")


@app.command("can")
def can_(
    src: str = typer.Argument(..., help="Source endpoint (see docs/queries.md)."),
    dst: str = typer.Argument(..., help="Destination endpoint."),
    paths: Optional[List[str]] = _PATHS,
    port: Optional[int] = typer.Option(None, "--port", "-p", help="Destination port."),
    protocol: Optional[Protocol] = typer.Option(None, "--protocol", case_sensitive=False,
                                                help="TCP, UDP or SCTP."),
    fmt: VerdictFormat = typer.Option(VerdictFormat.txt, "--format", "-f", help="Output format."),
    output: Optional[Path] = _OUTPUT,
    timeout: float = _TIMEOUT,
    k8s_version: Optional[str] = _K8S,
    schema: Optional[bool] = _SCHEMA,
    quiet: bool = _QUIET,
) -> None:
    """Can SRC connect to DST? Exit 0 yes, 1 no, 2 error or unknown."""
    from ..query.can import can
    from ..query.verdict import Answer
    from ..writers import verdict_json, verdict_txt

    analysis = _analyze_for_query(paths, k8s_version, schema, quiet)
    engine = _engine(analysis, timeout)
    try:
        verdict = can(engine, src, dst, port=port, protocol=protocol.value if protocol else None)
    except ValueError as e:  # a bad endpoint expression or one that names nothing
        typer.echo(f"kreach: error: {e}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    txt, js = _locators(engine)
    emit(verdict_json.render(verdict, js) if fmt is VerdictFormat.json
          else verdict_txt.render(verdict, txt), output)
    raise typer.Exit({Answer.YES: EXIT_OK, Answer.NO: EXIT_FINDINGS}.get(verdict.answer, EXIT_BAD_INPUT))


def _render(fmt: VerdictFormat, name: str, result, engine) -> str:
    from ..writers import verdict_json, verdict_txt

    txt, js = _locators(engine)
    module, locate = (verdict_json, js) if fmt is VerdictFormat.json else (verdict_txt, txt)
    return getattr(module, name)(result, locate)


def _peers_command(endpoint: str, paths, port, fmt, output, timeout, k8s_version, schema, quiet,
                   direction: str) -> None:
    from ..query.peers import reachable_from, who_can_reach

    analysis = _analyze_for_query(paths, k8s_version, schema, quiet)
    engine = _engine(analysis, timeout)
    try:
        report = (who_can_reach if direction == "to" else reachable_from)(engine, endpoint, port)
    except ValueError as e:
        typer.echo(f"kreach: error: {e}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    emit(_render(fmt, "render_peers", report, engine), output)
    if report.unknown:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command("who-can-reach")
def who_can_reach_(
    dst: str = typer.Argument(..., help="Destination endpoint (existing pods)."),
    paths: Optional[List[str]] = _PATHS,
    port: Optional[int] = typer.Option(None, "--port", "-p", help="Only this destination port."),
    fmt: VerdictFormat = typer.Option(VerdictFormat.txt, "--format", "-f", help="Output format."),
    output: Optional[Path] = _OUTPUT, timeout: float = _TIMEOUT, k8s_version: Optional[str] = _K8S,
    schema: Optional[bool] = _SCHEMA, quiet: bool = _QUIET,
) -> None:
    """Every workload, address range and not-yet-existing pod that can reach DST."""
    _peers_command(dst, paths, port, fmt, output, timeout, k8s_version, schema, quiet, "to")


@app.command("reachable-from")
def reachable_from_(
    src: str = typer.Argument(..., help="Source endpoint (existing pods)."),
    paths: Optional[List[str]] = _PATHS,
    port: Optional[int] = typer.Option(None, "--port", "-p", help="Only this destination port."),
    fmt: VerdictFormat = typer.Option(VerdictFormat.txt, "--format", "-f", help="Output format."),
    output: Optional[Path] = _OUTPUT, timeout: float = _TIMEOUT, k8s_version: Optional[str] = _K8S,
    schema: Optional[bool] = _SCHEMA, quiet: bool = _QUIET,
) -> None:
    """Every workload, address range and not-yet-existing pod SRC can reach."""
    _peers_command(src, paths, port, fmt, output, timeout, k8s_version, schema, quiet, "from")


class ExposureSource(str, Enum):
    internet = "internet"
    cluster = "cluster"
    namespace = "namespace"


@app.command("exposure")
def exposure_(
    paths: Optional[List[str]] = _PATHS,
    source: Optional[ExposureSource] = typer.Option(None, "--from", help="Only exposure from the internet, from the cluster, or from other namespaces."),
    hypothetical: bool = typer.Option(True, "--hypothetical/--no-hypothetical",
                                      help="Also report exposure to pods that do not exist yet."),
    fmt: VerdictFormat = typer.Option(VerdictFormat.txt, "--format", "-f", help="Output format."),
    output: Optional[Path] = _OUTPUT, timeout: float = _TIMEOUT, k8s_version: Optional[str] = _K8S,
    schema: Optional[bool] = _SCHEMA, quiet: bool = _QUIET,
) -> None:
    """Every workload and port reachable from outside, from other namespaces or from pods that do not exist yet, and every workload no policy isolates; most severe first. Exit 1 if any."""
    from ..query.exposure import exposure

    analysis = _analyze_for_query(paths, k8s_version, schema, quiet)
    engine = _engine(analysis, timeout)
    report = exposure(engine, source.value if source else None, hypothetical)
    emit(_render(fmt, "render_exposure", report, engine), output)
    if report.unknown:
        raise typer.Exit(EXIT_BAD_INPUT)
    raise typer.Exit(EXIT_FINDINGS if report.findings else EXIT_OK)


class Direction(str, Enum):
    ingress = "ingress"
    egress = "egress"
    both = "both"


@app.command("isolated")
def isolated_(
    namespace: str = typer.Argument(..., help="Namespace to check."),
    paths: Optional[List[str]] = _PATHS,
    direction: Direction = typer.Option(Direction.both, "--direction", "-d", help="ingress, egress or both."),
    fmt: VerdictFormat = typer.Option(VerdictFormat.txt, "--format", "-f", help="Output format."),
    output: Optional[Path] = _OUTPUT, timeout: float = _TIMEOUT, k8s_version: Optional[str] = _K8S,
    schema: Optional[bool] = _SCHEMA, quiet: bool = _QUIET,
) -> None:
    """Prove every possible pod of NAMESPACE is isolated, or show labels that escape.
    Exit 0 isolated, 1 not, 2 error or unknown."""
    from ..query.isolation import isolated
    from ..query.verdict import Answer

    analysis = _analyze_for_query(paths, k8s_version, schema, quiet)
    engine = _engine(analysis, timeout)
    directions = ["Ingress", "Egress"] if direction is Direction.both else [direction.value.capitalize()]
    try:
        verdicts = [isolated(engine, namespace, d) for d in directions]
    except ValueError as e:
        typer.echo(f"kreach: error: {e}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    emit("".join(_render(fmt, "render_isolation", v, engine) for v in verdicts), output)
    answers = {v.answer for v in verdicts}
    raise typer.Exit(EXIT_BAD_INPUT if Answer.UNKNOWN in answers
                     else EXIT_FINDINGS if Answer.NO in answers else EXIT_OK)
