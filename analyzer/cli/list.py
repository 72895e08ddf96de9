"""``kreach list``: every allowed connection."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

import typer

from .app import EXIT_BAD_INPUT, Level, ListFormat, _pick, _report, _settings, app
from .io import emit


@app.command("list")
def list_(
    paths: List[str] = typer.Argument(..., help="Manifest files or directories ('-' for stdin)."),
    level: Optional[Level] = typer.Option(None, "--level", help="Report workloads (default) or pods."),
    fmt: Optional[ListFormat] = typer.Option(None, "--format", "-f", help="Output format (default: txt)."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout."),
    strict: Optional[bool] = typer.Option(None, "--strict/--no-strict",
                                          help="Exit 2 if any input error was found."),
    k8s_version: Optional[str] = typer.Option(None, "--k8s-version",
                                              help="Kubernetes version of the schemas (default: latest)."),
    schema: Optional[bool] = typer.Option(None, "--schema/--no-schema",
                                          help="Validate objects against the Kubernetes JSON schemas."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only error diagnostics."),
) -> None:
    """List every allowed connection: one line per ordered pair of endpoints.

    Defaults come from the tool.kreach table of the nearest pyproject.toml; flags override them."""
    from ..analysis import Options, analyze
    from ..writers import render

    settings = _settings()
    level_v = _pick(level.value if level else None, settings, "level", "workload")
    fmt_v = _pick(fmt.value if fmt else None, settings, "format", "txt")
    strict_v = _pick(strict, settings, "strict", False)
    options = Options(level=level_v, k8s_version=_pick(k8s_version, settings, "k8s-version", None),
                      schema=_pick(schema, settings, "schema", True))
    stdin_text = sys.stdin.read() if "-" in paths else None
    try:
        analysis = analyze(paths, options, stdin_text=stdin_text)
    except ValueError as e:  # e.g. an unsupported --k8s-version
        typer.echo(f"kreach: error: {e}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    _report(analysis.diagnostics, quiet)
    emit(render(analysis, fmt_v), output)
    if analysis.is_empty or (strict_v and analysis.has_errors):
        raise typer.Exit(EXIT_BAD_INPUT)
