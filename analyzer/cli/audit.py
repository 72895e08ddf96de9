"""``kreach audit``: the auditor's report (inventory, isolation coverage, exposure, lint,
assertions, blast radius) as a terminal summary, JSON, Markdown or one self-contained HTML page.

Exit 0 when the report was written (an audit reports; it does not judge), 2 on bad input."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .app import (EXCLUDE, EXIT_OK, K8S, NAMESPACE, OUTPUT, PATHS, QUIET, SCHEMA,
                  STRICT, VERBOSE, InputFlags, _report, _settings, app, load_input,
                  must_have_input, setting_format)
from .io import emit


class AuditFormat(str, Enum):
    text = "text"
    json = "json"
    md = "md"
    html = "html"


@app.command("audit", short_help="Auditor's report: coverage, exposure, lint, blast radius.")
def audit_(
    paths: Optional[List[str]] = PATHS,
    fmt: Optional[AuditFormat] = typer.Option(None, "--format", "-f", metavar="text|json|md|html",
                                              help="Output format (default: text)."),
    output: Optional[Path] = OUTPUT,
    crown_jewels: Optional[List[str]] = typer.Option(
        None, "--crown-jewels", metavar="PATTERNS",
        help="Sensitive workloads: ns/name, globs (payments/*) or labels (app=db); comma-separated, repeatable."),
    hops: int = typer.Option(3, "--hops", min=1, max=20, help="Blast radius: hops to follow from each exposed workload."),
    lint_: bool = typer.Option(True, "--lint/--no-lint", help="Include kreach lint's findings."),
    assertions: bool = typer.Option(True, "--assertions/--no-assertions",
                                    help="Include the results of the configured kreach.yaml, if any."),
    strict: Optional[bool] = STRICT,
    k8s_version: Optional[str] = K8S,
    schema: Optional[bool] = SCHEMA,
    namespace: Optional[str] = NAMESPACE,
    exclude: Optional[List[str]] = EXCLUDE,
    quiet: bool = QUIET,
    verbose: bool = VERBOSE,
) -> None:
    """How well the policies protect the cluster: inventory, isolation coverage per namespace,
    exposure from outside (edge first), lint findings, assertion results and the blast radius of
    every exposed workload, with paths to the crown jewels."""
    from ..report import audit
    from ..report.document import document

    settings = _settings()
    fmt_v = fmt.value if fmt else setting_format(settings, tuple(f.value for f in AuditFormat), "text")
    flags = InputFlags(k8s_version, schema, namespace, exclude, strict, quiet, verbose)
    patterns = [p.strip() for v in (crown_jewels or settings.get("crown-jewels", []) or []) for p in str(v).split(",") if p.strip()]
    with _progress("analysing"):
        analysis = load_input(paths, flags, settings)
    must_have_input(analysis, flags, settings)
    with _progress("auditing"):
        findings = _lint(analysis, settings) if lint_ else ()
        checked = _assertions(settings, paths or []) if assertions else None
        report = audit(analysis, crown_jewels=patterns, hops=hops, lint=findings, assertions=checked)
    if fmt_v == "json":
        import json

        text = json.dumps(document(report, analysis.diagnostics), indent=2) + "\n"
    elif fmt_v == "md":
        from ..report.markdown import render

        text = render(report)
    elif fmt_v == "html":
        from ..report.html import render_audit

        text = render_audit(report, analysis.view)
    else:
        from ..report.terminal import render

        text = render(report, color=output is None and sys.stdout.isatty())
    emit(text, output)
    raise typer.Exit(EXIT_OK)


def _lint(analysis, settings):
    from ..lint import lint, lint_settings

    cfg, diags = lint_settings(settings.get("lint"), source=settings.source)
    _report(diags, quiet=False)
    return lint(analysis, cfg).findings


def _assertions(settings, paths):
    """The results of the assertion file beside the manifests (a kreach.yaml in the one
    directory given) or configured for this directory; None when there is none."""
    import os

    from ..assertions import CheckOptions, check_file, find_assertion_file

    beside = [os.path.join(p, "kreach.yaml") for p in paths if os.path.isdir(p)]
    path = beside[0] if len(beside) == 1 and os.path.isfile(beside[0]) else find_assertion_file().path
    if path is None:
        return None
    return check_file(path, CheckOptions(schema=settings.get("schema", True),
                                         k8s_version=settings.get("k8s-version")))


class _progress:
    """A spinner on stderr while a step runs, only when stderr is a terminal."""

    def __init__(self, what: str) -> None:
        self.what, self.status = what, None

    def __enter__(self):
        if sys.stderr.isatty():
            from rich.console import Console

            self.status = Console(stderr=True).status(f"kreach: {self.what}…")
            self.status.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)
