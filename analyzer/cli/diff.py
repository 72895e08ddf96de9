"""``kreach diff``: which connections a change opens and closes, between two paths or two git
revisions. Exit 0 (1 with ``--fail-on`` when such a change exists), 2 bad input."""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .app import (EXCLUDE, EXIT_BAD_INPUT, EXIT_FINDINGS, K8S, NAMESPACE, OUTPUT, QUIET, SCHEMA, STRICT,
                  VERBOSE, InputFlags, Level, _pick, _settings, app, load_input, load_pair,
                  must_have_input)
from .inputs import HELM_VALUES, RENDER, VAR_FILES, VARS, input_options
from .io import emit


class DiffFormat(str, Enum):
    txt = "txt"
    json = "json"
    md = "md"
    csv = "csv"
    github = "github"


class FailOn(str, Enum):
    added = "added"
    removed = "removed"
    changed = "changed"
    any = "any"


def _fail(message: str) -> None:
    typer.echo(f"kreach: error: {message}", err=True)
    raise typer.Exit(EXIT_BAD_INPUT)


@app.command("diff", short_help="What a change opens and closes (paths or git revisions).")
def diff_(
    paths: Optional[List[str]] = typer.Argument(
        None, metavar="[OLD NEW | PATH...]",
        help="OLD NEW (two files or directories), or with --base the paths to compare (default: .)."),
    base: Optional[str] = typer.Option(None, "--base", metavar="REV",
                                       help="Compare the paths at git revision REV (OLD) ..."),
    head: Optional[str] = typer.Option(None, "--head", metavar="REV",
                                       help="... with revision REV (NEW; default: the working tree)."),
    level: Optional[Level] = typer.Option(None, "--level", metavar="workload|pod",
                                          help="Compare workloads (default) or pods."),
    fmt: DiffFormat = typer.Option(DiffFormat.txt, "--format", "-f", metavar="txt|json|md|csv|github",
                                   help="Output format."),
    output: Optional[Path] = OUTPUT,
    fail_on: Optional[FailOn] = typer.Option(None, "--fail-on", metavar="added|removed|changed|any",
                                             help="Exit 1 when a change of this kind exists."),
    strict: Optional[bool] = STRICT,
    k8s_version: Optional[str] = K8S,
    schema: Optional[bool] = SCHEMA,
    namespace: Optional[str] = NAMESPACE,
    exclude: Optional[List[str]] = EXCLUDE,
    quiet: bool = QUIET,
    verbose: bool = VERBOSE,
    plan: Optional[Path] = typer.Option(
        None, "--plan", metavar="PLAN.json",
        help="Compare what a Terraform plan changes: its prior state (OLD) with its planned "
             "state (NEW), from terraform show -json."),
    var: Optional[List[str]] = VARS, var_file: Optional[List[str]] = VAR_FILES,
    render_: bool = RENDER, helm_values: Optional[List[str]] = HELM_VALUES,
) -> None:
    """Which connections does a change open and close? Every ordered pair whose allowed
    connections differ between OLD and NEW, with the rules responsible on each side.

    kreach diff OLD NEW, or kreach diff --base REV [--head REV] [PATH...] to read git revisions
    straight from the repository (no checkout)."""
    from ..diff import diff
    from ..writers.diff_formats import render_diff

    settings = _settings()
    paths = list(paths or [])
    inputs = input_options(var, var_file, render_, helm_values)
    if plan is None and base is None and len(paths) == 2 and paths[0] == paths[1] \
            and paths[0].lower().endswith(".json"):
        plan, paths = Path(paths[0]), []  # one plan as both sides: what it changes
    if plan is not None:
        if paths or base is not None or head is not None:
            _fail("--plan compares the two states of one plan: give no other paths or revisions")
        level_v = _pick(level.value if level else None, settings, "level", "workload")
        flags = InputFlags(k8s_version, schema, namespace, exclude, strict, quiet, verbose, inputs)
        old = load_input([str(plan)], replace(flags, inputs=replace(inputs, plan_side="prior")),
                         settings, level_v)
        new = load_input([str(plan)], flags, settings, level_v)
        result = diff(old, new, old_label=f"{plan} (prior state)", new_label=f"{plan} (planned)")
        emit(render_diff(result, fmt.value), output)
        if not old.is_empty or old.has_errors:  # a plan that creates everything has no "before"
            must_have_input(old, flags, settings)
        must_have_input(new, flags, settings)
        if fail_on is not None and result.has(fail_on.value):
            raise typer.Exit(EXIT_FINDINGS)
        return
    if base is None:
        if head is not None:
            _fail("--head needs --base (the revision to compare it with)")
        if len(paths) != 2 or "-" in paths:
            _fail("give two paths, OLD and NEW, or --base REV (see kreach diff --help)")
        old_paths, new_paths = [paths[0]], [paths[1]]
        old_label, new_label = paths[0], paths[1]
    else:
        if "-" in paths:
            _fail("standard input cannot be read at a git revision")
        old_paths = new_paths = paths or ["."]
        old_label, new_label = base, head or "working tree"
    level_v = _pick(level.value if level else None, settings, "level", "workload")
    flags = InputFlags(k8s_version, schema, namespace, exclude, strict, quiet, verbose, inputs)
    old, new = load_pair(old_paths, new_paths, flags, settings, level_v, base, head)
    result = diff(old, new, old_label=old_label, new_label=new_label)
    emit(render_diff(result, fmt.value), output)
    must_have_input(old, flags, settings)
    must_have_input(new, flags, settings)
    if fail_on is not None and result.has(fail_on.value):
        raise typer.Exit(EXIT_FINDINGS)
