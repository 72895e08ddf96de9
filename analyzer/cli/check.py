"""``kreach check``: run the assertions of a ``kreach.yaml`` file (see docs/ci.md).

Thin like the rest of the CLI: find the file, call :func:`analyzer.assertions.check_file`, pick a
writer, map the outcome to an exit code: 0 every assertion passed, 1 some failed, 2 bad input
(an unreadable or invalid assertion file, an endpoint that names nothing, manifests with errors
that leave nothing to analyse, or an answer the solver could not give).
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .app import (REV, EXCLUDE, K8S, NAMESPACE, OUTPUT, QUIET, SCHEMA, VERBOSE, _pick, _report, _settings,
                  cache_on, check_timeout, setting_format, timeout_seconds)
from .io import emit

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class CheckFormat(str, Enum):
    text = "text"
    json = "json"
    junit = "junit"
    github = "github"
    sarif = "sarif"


def exit_code(report, strict: bool = False) -> int:
    from ..assertions.results import Status
    from ..diagnostics import has_errors

    if report.file is None or not report.results and has_errors(report.diagnostics):
        return EXIT_BAD_INPUT
    if strict and has_errors(report.diagnostics):
        return EXIT_BAD_INPUT
    statuses = {r.status for r in report.results}
    if Status.ERROR in statuses or Status.UNKNOWN in statuses:
        return EXIT_BAD_INPUT
    if any(d.source is not None and d.source.file == report.file and d.severity.value == "error"
           for d in report.diagnostics):
        return EXIT_BAD_INPUT  # an assertion that could not be read is never silently skipped
    return EXIT_FAILED if Status.FAILED in statuses else EXIT_OK


def check(
    file: Optional[Path] = typer.Argument(
        None, help="Assertion file (default: kreach.yaml, or [tool.kreach] assertions in the "
                   "nearest pyproject.toml)."),
    fmt: Optional[CheckFormat] = typer.Option(None, "--format", "-f", metavar="text|json|junit|github|sarif",
                                              help="Output format (default: text)."),
    output: Optional[Path] = OUTPUT,
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when assertions fail."),
    timeout: Optional[float] = typer.Option(None, "--timeout", metavar="SECONDS", callback=check_timeout,
                                            help="Seconds per solver call (default 5)."),
    schema: Optional[bool] = SCHEMA,
    k8s_version: Optional[str] = K8S,
    namespace: Optional[str] = NAMESPACE,
    exclude: Optional[List[str]] = EXCLUDE,
    rev: Optional[str] = REV,
    base: Optional[str] = typer.Option(
        None, "--base", metavar="REV",
        help="Also run the assertions on the manifests at git revision REV and report apart the "
             "ones this change breaks (exit 1 only for those) from those already failing."),
    strict: Optional[bool] = typer.Option(None, "--strict/--no-strict",
                                          help="Exit 2 if any input error was found."),
    allow_partial: Optional[bool] = typer.Option(
        None, "--allow-partial/--no-allow-partial",
        help="Pass even when policies were left out of the analysis (skipped as invalid, or of a "
             "kind kreach does not model); by default that is exit 2."),
    quiet: bool = QUIET,
    verbose: bool = VERBOSE,
) -> None:
    """Run every assertion of an assertion file. Exit 0 all pass, 1 some fail, 2 bad input.

    Fails closed: when any policy in the manifests was left out of the analysis, the answers may
    be wrong for the cluster, and the run exits 2 unless --allow-partial."""
    from ..assertions import CheckOptions, CheckReport, check_file, find_assertion_file
    from ..inputs.git import GitError
    from ..writers.check_formats import render_check

    settings = _settings()  # flags win over [tool.kreach], which wins over the defaults
    fmt = fmt or CheckFormat(setting_format(settings, tuple(f.value for f in CheckFormat), "text"))
    options = CheckOptions(timeout_ms=int(timeout_seconds(timeout, settings) * 1000),
                           schema=_pick(schema, settings, "schema", True),
                           k8s_version=_pick(k8s_version, settings, "k8s-version", None),
                           namespace=_pick(namespace, settings, "namespace", None),
                           exclude=tuple(exclude or ()) + tuple(settings.get("exclude", ())),
                           allow_partial=_pick(allow_partial, settings, "allow-partial", False),
                           rev=rev, cache=cache_on(settings), jobs=None)
    if file is None:
        found = find_assertion_file(".")
        path, diags = found.path, found.diagnostics
    else:
        path, diags = str(file), ()
    if path is None:
        report = CheckReport(None, (), (), tuple(diags))
    else:
        try:
            report = check_file(path, options)
            base_report = check_file(path, replace(options, rev=base)) if base else None
        except (ValueError, GitError) as e:  # an unsupported --k8s-version, an unknown revision
            typer.echo(f"kreach: error: {e}", err=True)
            raise typer.Exit(EXIT_BAD_INPUT)
        report = CheckReport(report.file, report.manifests, report.results,
                             tuple(diags) + report.diagnostics)
    if fmt not in (CheckFormat.github, CheckFormat.sarif, CheckFormat.json):  # those carry them
        _report(report.diagnostics, quiet, verbose)
    code = exit_code(report, strict=_pick(strict, settings, "strict", False))
    if base is None or path is None:
        emit(render_check(report, fmt.value), output)
    else:
        code = _against_base(report, base_report, base, fmt, output, code)
    raise typer.Exit(EXIT_OK if exit_zero and code == EXIT_FAILED else code)


def _against_base(report, base_report, base: str, fmt: CheckFormat, output, code: int) -> int:
    """Write the report with the comparison to ``base``; the exit code: 2 for bad input on
    this side, 1 when the change breaks an assertion, else 0 (failures the base revision
    already had are reported, and do not fail the run)."""
    import json

    from ..diff.assertions import compare_checks
    from ..writers import check_base, check_json
    from ..writers.check_formats import render_check

    comparison = compare_checks(base, base_report, report)
    if fmt is CheckFormat.json:
        doc = check_json.to_json(report)
        doc["base"] = check_base.to_json(comparison)
        emit(json.dumps(doc, indent=2) + "\n", output)
    elif fmt is CheckFormat.text:
        emit(render_check(report, "text") + check_base.render_text(comparison), output)
    else:
        emit(render_check(report, fmt.value), output)
    # the base revision's own input problems are not this change's: shown, never fatal (an
    # assertion it could not run counts as not passing there)
    _report(tuple(d for d in base_report.diagnostics if d.severity.value == "error"), True, False)
    if code == EXIT_BAD_INPUT:
        return EXIT_BAD_INPUT
    return EXIT_FAILED if comparison.breaks_something else EXIT_OK


def register(app: typer.Typer) -> None:
    """Add the ``check`` command to the ``kreach`` application."""
    app.command("check", short_help="Run the assertions of kreach.yaml (exit 1 if any fails).")(check)
