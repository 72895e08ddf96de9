"""``kreach compare A B``: equivalent, A ⊂ B, B ⊂ A or incomparable, with a witness connection
for each direction of difference. Exit 0 equivalent (with ``--per-policy``: strongly
equivalent), 1 otherwise, 2 bad input (either side unreadable or empty)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import List, Optional

import typer

from .app import (EXCLUDE, EXIT_BAD_INPUT, EXIT_FINDINGS, EXIT_OK, K8S, NAMESPACE, OUTPUT, QUIET,
                  SCHEMA, STRICT, VERBOSE, InputFlags, _pick, _report, _settings, app, load_input,
                  setting_format)
from .io import emit


class CompareFormat(str, Enum):
    text = "text"
    json = "json"


@app.command("compare", short_help="Are two inputs equivalent, or is one contained?")
def compare_(
    a: str = typer.Argument(..., metavar="A", help="First input: a file or directory "
                            "(several: A1,A2)."),
    b: str = typer.Argument(..., metavar="B", help="Second input, as A."),
    per_policy: bool = typer.Option(False, "--per-policy",
                                    help="Also compare policy by policy (strong equivalence)."),
    fmt: Optional[CompareFormat] = typer.Option(None, "--format", "-f", metavar="text|json",
                                                help="Output format (default: text)."),
    output: Optional[Path] = OUTPUT,
    strict: Optional[bool] = STRICT,
    k8s_version: Optional[str] = K8S,
    schema: Optional[bool] = SCHEMA,
    namespace: Optional[str] = NAMESPACE,
    exclude: Optional[List[str]] = EXCLUDE,
    quiet: bool = QUIET,
    verbose: bool = VERBOSE,
) -> None:
    """Compare the connections two inputs allow. Exit 0 equivalent, 1 not, 2 bad input."""
    from ..compare import compare, strongly_equivalent
    from ..messages import diagnostic
    from ..writers import compare_json, compare_text

    settings = _settings()
    fmt_v = fmt.value if fmt else setting_format(settings, ("text", "json"), "text")
    flags = InputFlags(k8s_version, schema, namespace, exclude, strict, quiet, verbose)
    sides = []
    bad = []
    for name, arg in (("A", a), ("B", b)):
        paths = [p for p in arg.split(",") if p]
        analysis = load_input(paths, flags, settings)
        if analysis.is_empty:
            d = diagnostic("KR510", None, side=f"{name} ({', '.join(paths)})")
            _report([d], quiet=False)
            bad.append(d)
        sides.append((paths, analysis))
    (pa, aa), (pb, ab) = sides
    if bad or (_pick(strict, settings, "strict", False) and (aa.has_errors or ab.has_errors)):
        raise typer.Exit(EXIT_BAD_INPUT)
    result = compare(aa, ab, per_policy=per_policy)
    if fmt_v == "json":
        text = compare_json.render(result, pa, pb, aa.diagnostics + ab.diagnostics)
    else:
        text = compare_text.render(result, ", ".join(pa), ", ".join(pb))
    emit(text, output)
    same = strongly_equivalent(result) if per_policy else result.equivalent
    raise typer.Exit(EXIT_OK if same else EXIT_FINDINGS)
