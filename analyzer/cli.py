"""The ``kreach`` command line: parse options, call the library, pick a writer, map the outcome
to an exit code (0 ok, 1 findings, 2 bad input or usage). Only this module exits."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from . import __version__
from .diagnostics import Severity

app = typer.Typer(
    name="kreach",
    help="Static connectivity analysis for Kubernetes NetworkPolicies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2


class Level(str, Enum):
    workload = "workload"
    pod = "pod"


class ListFormat(str, Enum):
    txt = "txt"
    json = "json"
    csv = "csv"
    md = "md"
    dot = "dot"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kreach {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Static connectivity analysis for Kubernetes NetworkPolicies."""


def _report(diagnostics, quiet: bool) -> None:
    for d in diagnostics:
        if quiet and d.severity is not Severity.ERROR:
            continue
        typer.echo(str(d), err=True)


@app.command("list")
def list_(
    paths: List[str] = typer.Argument(..., help="Manifest files or directories ('-' for stdin)."),
    level: Level = typer.Option(Level.workload, "--level", help="Report workloads or pods."),
    fmt: ListFormat = typer.Option(ListFormat.txt, "--format", "-f", help="Output format."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout."),
    strict: bool = typer.Option(False, "--strict", help="Exit 2 if any input error was found."),
    k8s_version: Optional[str] = typer.Option(None, "--k8s-version",
                                              help="Kubernetes version of the schemas (default: latest)."),
    schema: bool = typer.Option(True, "--schema/--no-schema",
                                help="Validate objects against the Kubernetes JSON schemas."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only error diagnostics."),
) -> None:
    """List every allowed connection: one line per ordered pair of endpoints."""
    from .analysis import Options, analyze
    from .writers import render

    stdin_text = sys.stdin.read() if "-" in paths else None
    try:
        analysis = analyze(paths, Options(level=level.value, k8s_version=k8s_version, schema=schema),
                           stdin_text=stdin_text)
    except ValueError as e:  # e.g. an unsupported --k8s-version
        typer.echo(f"kreach: error: {e}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    _report(analysis.diagnostics, quiet)
    text = render(analysis, fmt.value)
    if output is None or str(output) == "-":
        sys.stdout.write(text)
    else:
        output.write_text(text)
    if analysis.is_empty or (strict and analysis.has_errors):
        raise typer.Exit(EXIT_BAD_INPUT)


def run() -> None:
    """Console-script entry point."""
    app()
