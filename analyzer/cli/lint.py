"""``kreach lint``: findings about what the policies mean (docs/lint.md).

Thin: read ``[tool.kreach]`` and ``[tool.kreach.lint]``, analyse, call
:func:`analyzer.lint.lint`, pick a writer, map the outcome to an exit code: 0 no finding at or
above ``--fail-on``, 1 some, 2 bad input (nothing usable, an input error under ``--strict``, or
broken lint settings). Input diagnostics are always reported: a finding never hides them.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .app import (REV, EXCLUDE, EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, K8S, NAMESPACE, OUTPUT, PATHS,
                  QUIET, SCHEMA, STRICT, VERBOSE, InputFlags, _report, _settings, app, load_input,
                  must_have_input, setting_format)
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


@app.command("lint", short_help="Review findings: baselines, holes, redundant rules.")
def lint_(
    paths: Optional[List[str]] = PATHS,
    fmt: Optional[LintFormat] = typer.Option(None, "--format", "-f", metavar="text|json|github|sarif",
                                             help="Output format (default: text)."),
    output: Optional[Path] = OUTPUT,
    select: Optional[List[str]] = typer.Option(
        None, "--select", metavar="CODES",
        help="Report only these codes or prefixes (comma-separated, repeatable)."),
    ignore: Optional[List[str]] = typer.Option(
        None, "--ignore", metavar="CODES",
        help="Never report these codes or prefixes (comma-separated, repeatable)."),
    fail_on: Optional[FailOn] = typer.Option(
        None, "--fail-on", metavar="error|warning|info",
        help="Lowest severity that makes the exit status 1 (default: warning)."),
    exit_zero: bool = typer.Option(False, "--exit-zero", help="Exit 0 even when there are findings."),
    strict: Optional[bool] = STRICT,
    k8s_version: Optional[str] = K8S,
    schema: Optional[bool] = SCHEMA,
    namespace: Optional[str] = NAMESPACE,
    exclude: Optional[List[str]] = EXCLUDE, rev: Optional[str] = REV,
    quiet: bool = QUIET,
    verbose: bool = VERBOSE,
) -> None:
    """Lint NetworkPolicies: missing baselines, selectors matching nothing, allow-all holes,
    DNS, redundant/shadowed/equivalent/vacuous policies. Exit 0 clean, 1 findings, 2 bad input."""
    from ..diagnostics import Severity
    from ..lint import lint, lint_settings
    from ..writers.lint_formats import render_lint

    settings = _settings()
    lint_cfg, cfg_diags = lint_settings(settings.get("lint"), source=settings.source,
                                        select=_split(select), ignore=_split(ignore),
                                        fail_on=fail_on.value if fail_on else None)
    _report(cfg_diags, quiet=False)
    if any(d.severity is Severity.ERROR for d in cfg_diags):
        raise typer.Exit(EXIT_BAD_INPUT)
    fmt_v = fmt.value if fmt else setting_format(settings, tuple(f.value for f in LintFormat), "text")
    flags = InputFlags(k8s_version, schema, namespace, exclude, strict, quiet, verbose, rev=rev)
    analysis = load_input(paths, flags, settings)
    if analysis.is_empty:
        must_have_input(analysis, flags, settings)
    report = lint(analysis, lint_cfg)
    own = [d for d in report.diagnostics if d not in analysis.diagnostics]
    _report(own, quiet)  # suppression comments; the input's were reported by load_input
    emit(render_lint(report, fmt_v), output)
    must_have_input(analysis, flags, settings)
    if report.failing() and not exit_zero:
        raise typer.Exit(EXIT_FINDINGS)
    raise typer.Exit(EXIT_OK)
