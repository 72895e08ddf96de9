"""``kreach lint``: findings about what the policies mean (docs/lint.md).

Thin: read ``[tool.kreach]`` and ``[tool.kreach.lint]``, analyse, call
:func:`analyzer.lint.lint`, pick a writer, map the outcome to an exit code: 0 no finding at or
above ``--fail-on``, 1 some, 2 bad input (nothing usable, an input error under ``--strict``, or
broken lint settings). Input diagnostics are always reported: a finding never hides them.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .app import EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, _pick, _report, _settings, app
from .io import emit


class LintFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    sarif = "sarif"


class FailOn(str, Enum):
    error = "error"
    warning = "warning"
    info = "info"


def _split(values: Optional[List[str]]) -> Optional[List[str]]:
    if values is None:
        return None
    return [c for v in values for c in v.split(",") if c.strip()]


@app.command("lint")
def lint_(
    paths: List[str] = typer.Argument(..., help="Manifest files or directories ('-' for stdin)."),
    fmt: LintFormat = typer.Option(LintFormat.text, "--format", "-f", help="Output format."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to FILE instead of stdout."),
    select: Optional[List[str]] = typer.Option(
        None, "--select", help="Report only these codes or prefixes (comma-separated, repeatable)."),
    ignore: Optional[List[str]] = typer.Option(
        None, "--ignore", help="Never report these codes or prefixes (comma-separated, repeatable)."),
    fail_on: Optional[FailOn] = typer.Option(
        None, "--fail-on", help="Lowest severity that makes the exit status 1 (default: warning)."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when there are findings."),
    strict: Optional[bool] = typer.Option(None, "--strict/--no-strict",
                                          help="Exit 2 if any input error was found."),
    k8s_version: Optional[str] = typer.Option(None, "--k8s-version",
                                              help="Kubernetes version of the schemas (default: latest)."),
    schema: Optional[bool] = typer.Option(None, "--schema/--no-schema",
                                          help="Validate objects against the Kubernetes JSON schemas."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only error diagnostics."),
) -> None:
    """Lint NetworkPolicies: missing baselines, selectors matching nothing, allow-all holes,
    DNS, redundant/shadowed/equivalent/vacuous policies. Exit 0 clean, 1 findings, 2 bad input."""
    from ..analysis import Options, analyze
    from ..diagnostics import Severity
    from ..lint import lint, lint_settings
    from ..writers.lint_formats import render_lint

    settings = _settings()
    table = settings.get("lint")
    lint_cfg, cfg_diags = lint_settings(table, source=settings.source, select=_split(select),
                                        ignore=_split(ignore),
                                        fail_on=fail_on.value if fail_on else None)
    if any(d.severity is Severity.ERROR for d in cfg_diags):
        _report(cfg_diags, quiet=False)
        raise typer.Exit(EXIT_BAD_INPUT)
    strict_v = _pick(strict, settings, "strict", False)
    options = Options(k8s_version=_pick(k8s_version, settings, "k8s-version", None),
                      schema=_pick(schema, settings, "schema", True))
    stdin_text = sys.stdin.read() if "-" in paths else None
    try:
        analysis = analyze(paths, options, stdin_text=stdin_text)
    except ValueError as e:  # e.g. an unsupported --k8s-version
        typer.echo(f"kreach: error: {e}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    report = lint(analysis, lint_cfg)
    diags = tuple(cfg_diags) + report.diagnostics
    if fmt in (LintFormat.text,):  # the other formats carry them
        _report(diags, quiet)
    elif fmt is not LintFormat.text:
        _report([d for d in diags if d.severity is Severity.ERROR], quiet=True)
    if analysis.is_empty:
        raise typer.Exit(EXIT_BAD_INPUT)
    emit(render_lint(report, fmt.value), output)
    if strict_v and analysis.has_errors:
        raise typer.Exit(EXIT_BAD_INPUT)
    if report.failing() and not exit_zero:
        raise typer.Exit(EXIT_FINDINGS)
    raise typer.Exit(EXIT_OK)
