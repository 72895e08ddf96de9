"""``kreach list``: every allowed connection."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import List, Optional

import typer

from .app import (REV, EXIT_BAD_INPUT, EXCLUDE, K8S, NAMESPACE, OUTPUT, PATHS, QUIET, SCHEMA, STRICT, VERBOSE,
                  InputFlags,
                  Level, ListFormat, _pick, _settings, app, load_input, must_have_input,
                  setting_format)
from .inputs import HELM_VALUES, RENDER, VAR_FILES, VARS, input_options
from .io import emit_stream


@app.command("list", short_help="Every allowed connection, one line per pair of endpoints.")
def list_(
    paths: Optional[List[str]] = PATHS,
    level: Optional[Level] = typer.Option(None, "--level", metavar="workload|pod",
                                          help="Report workloads (default) or pods."),
    fmt: Optional[ListFormat] = typer.Option(None, "--format", "-f", metavar="txt|json|csv|md|dot|html|svg",
                                             help="Output format (default: txt)."),
    output: Optional[Path] = OUTPUT,
    strict: Optional[bool] = STRICT,
    k8s_version: Optional[str] = K8S,
    schema: Optional[bool] = SCHEMA,
    namespace: Optional[str] = NAMESPACE,
    exclude: Optional[List[str]] = EXCLUDE, rev: Optional[str] = REV,
    quiet: bool = QUIET,
    verbose: bool = VERBOSE,
    var: Optional[List[str]] = VARS, var_file: Optional[List[str]] = VAR_FILES,
    render_: bool = RENDER, helm_values: Optional[List[str]] = HELM_VALUES,
    no_cache: bool = typer.Option(False, "--no-cache",
                                  help="Parse and validate every file again (no reuse from ~/.cache/kreach)."),
) -> None:
    """List every allowed connection: one line per ordered pair of endpoints.

    Defaults come from the tool.kreach table of the nearest pyproject.toml; flags override them."""
    from ..analysis_cache import cached_stream
    from ..writers import stream

    settings = _settings()
    level_v = _pick(level.value if level else None, settings, "level", "workload")
    fmt_v = fmt.value if fmt else setting_format(settings, tuple(f.value for f in ListFormat), "txt")
    flags = InputFlags(k8s_version, schema, namespace, exclude, strict, quiet, verbose,
                       input_options(var, var_file, render_, helm_values), no_cache=no_cache,
                       rev=rev)
    analysis = load_input(paths, flags, settings, level_v)
    from ..writers.svg_writer import WriterUnavailable

    try:
        chunks = cached_stream(analysis, fmt_v, stream)  # kept beside a cached analysis
        first = next(chunks, "")  # a writer that cannot run says so before anything is written
    except WriterUnavailable as e:
        typer.echo(f"kreach: error: {e}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    emit_stream(itertools.chain((first,), chunks), output)
    must_have_input(analysis, flags, settings)
