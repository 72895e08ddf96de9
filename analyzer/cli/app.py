"""The ``kreach`` app and what every command shares: parse options, call the library, pick a writer, map the outcome
to an exit code (0 ok, 1 findings, 2 bad input or usage). Only the cli package exits."""

from __future__ import annotations

import gc
import math
import os
import sys
import traceback
from dataclasses import dataclass
from enum import Enum
from typing import Any

import typer
from typer.core import TyperGroup
from typer.exceptions import TyperException

from .. import __version__
from ..diagnostics import Severity

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2


class _Guarded(TyperGroup):
    """The command group with the last line of defence: an exception no command expected is a
    bug, reported as one line ``kreach: internal error: ...`` and exit 2, never a traceback
    that exits 1 -- for ``can`` and ``check`` exit 1 means "no" / "an assertion failed", and a
    crash must never read as a verdict in CI. ``KREACH_DEBUG=1`` adds the traceback."""

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException, SystemExit, KeyboardInterrupt,
                BrokenPipeError):
            raise
        except BaseException as e:  # noqa: BLE001 - the point of this class
            internal_error(e)
            raise typer.Exit(EXIT_BAD_INPUT) from None


def internal_error(e: BaseException) -> None:
    from ..diagnostics import escape_controls

    text = " ".join(str(e).split())[:300]
    typer.echo(escape_controls(f"kreach: internal error: {type(e).__name__}"
                               + (f": {text}" if text else "")
                               + " (this is a bug in kreach; KREACH_DEBUG=1 shows where)"), err=True)
    if os.environ.get("KREACH_DEBUG", "") not in ("", "0"):
        traceback.print_exception(e, file=sys.stderr)


app = typer.Typer(
    cls=_Guarded,
    name="kreach",
    help="Static connectivity analysis for Kubernetes NetworkPolicies.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: one line per command, metavars as written in the docs
)


class Level(str, Enum):
    workload = "workload"
    pod = "pod"


class ListFormat(str, Enum):
    txt = "txt"
    json = "json"
    csv = "csv"
    md = "md"
    dot = "dot"
    html = "html"
    svg = "svg"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"kreach {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
    no_cache: bool = typer.Option(False, "--no-cache",
                                  help="Parse and validate every file again (no reuse from ~/.cache/kreach)."),
) -> None:
    """Static connectivity analysis for Kubernetes NetworkPolicies."""
    global _NO_CACHE
    _NO_CACHE = no_cache


_NO_CACHE = False


def _report(diagnostics, quiet: bool, verbose: bool = False) -> None:
    """Diagnostics on stderr. Objects of kinds kreach does not model are summed up in one line
    unless ``verbose`` (-v) asks for each of them."""
    from ..inputs.summary import summarize_skipped

    for d in (diagnostics if verbose else summarize_skipped(diagnostics)):
        if quiet and d.severity is not Severity.ERROR:
            continue
        typer.echo(str(d), err=True)


def _settings():
    """``[tool.kreach]`` of the nearest pyproject.toml; a broken table is bad input (exit 2)."""
    from ..inputs.config import find_settings

    settings = find_settings()
    _report(settings.diagnostics, quiet=False)
    if any(d.severity is Severity.ERROR for d in settings.diagnostics):
        raise typer.Exit(EXIT_BAD_INPUT)
    return settings


def _pick(flag, settings, key: str, default):
    """A flag given on the command line wins over [tool.kreach], which wins over the default."""
    if flag is not None:
        return flag
    return settings.get(key, default)


def setting_format(settings, supported: tuple[str, ...], default: str) -> str:
    """[tool.kreach] ``format`` for a command that supports it (``txt`` and ``text`` are one
    format); a format the command does not have leaves the command's default."""
    value = settings.get("format")
    for name in (value, {"txt": "text", "text": "txt"}.get(value)):
        if name in supported:
            return name
    return default


# Options every command that reads manifests shares (one definition, one help text).
PATHS = typer.Argument(None, metavar="[PATH...]", show_default=False,
                       help="Manifest files or directories ('-' for stdin; default: .).")
NAMESPACE = typer.Option(None, "--namespace", "-n", metavar="NS",
                         help="Namespace of objects that name none (as kubectl -n; default: default).")
EXCLUDE = typer.Option(None, "--exclude", metavar="GLOB",
                       help="Leave out files and directories matching GLOB when walking a directory (repeatable).")
VERBOSE = typer.Option(False, "--verbose", "-v", help="List every skipped object, not just their summary.")
QUIET = typer.Option(False, "--quiet", "-q", help="Print only error diagnostics.")
SCHEMA = typer.Option(None, "--schema/--no-schema", help="Validate objects against the Kubernetes JSON schemas.")
K8S = typer.Option(None, "--k8s-version", metavar="X.Y", help="Kubernetes version of the schemas (default: latest).")
STRICT = typer.Option(None, "--strict/--no-strict", help="Exit 2 if any input error was found.")
OUTPUT = typer.Option(None, "--output", "-o", metavar="FILE", help="Write to FILE instead of stdout.")
REV = typer.Option(None, "--rev", metavar="REV",
                   help="Read the paths as they are at git revision REV (no checkout).")


@dataclass(frozen=True)
class InputFlags:
    """The command-line flags about reading manifests; None means "not given"."""

    k8s_version: str | None = None
    schema: bool | None = None
    namespace: str | None = None
    exclude: list[str] | None = None
    strict: bool | None = None
    quiet: bool = False
    verbose: bool = False
    inputs: Any = None  # InputOptions: Terraform variables, Helm/Kustomize rendering
    no_cache: bool = False  # --no-cache on the command itself (kreach --no-cache CMD works for all)
    rev: str | None = None  # read the paths at this git revision


def load_input(paths, flags: InputFlags, settings, level: str = "workload", shared=None):
    """Read and analyse ``paths`` (at ``flags.rev`` when given) with flags over [tool.kreach]
    over defaults; report the diagnostics; exit 2 when the input cannot be read at all (an
    unknown revision, say). ``shared`` shares parsed files between two loads (kreach diff)."""
    from ..analysis import analyze
    from ..inputs.git import GitError

    paths = list(paths or ["."])
    options = analysis_options(flags, settings, level)
    if flags.rev is not None and "-" in paths:
        typer.echo("kreach: error: standard input cannot be read at a git revision (--rev)", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    stdin_text = read_stdin(paths)
    try:
        analysis = analyze(paths, options, stdin_text=stdin_text, rev=flags.rev, shared=shared)
    except (ValueError, GitError) as e:  # e.g. an unsupported --k8s-version, an unknown revision
        typer.echo(f"kreach: error: {e}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    _report(analysis.diagnostics, flags.quiet, flags.verbose)
    _KEPT.append(analysis)  # freed with the process (see run)
    return analysis


def load_pair(old_paths, new_paths, flags: InputFlags, settings, level: str,
              old_rev: str | None, new_rev: str | None):
    """:func:`load_input` for the two inputs of a comparison (OLD at ``old_rev``, NEW at
    ``new_rev``), read once and analysed side by side; NEW may come back as what a diff reads
    of it (:class:`~analyzer.diff.compute.Side`)."""
    from ..diff.pair import analyze_pair
    from ..inputs.git import GitError

    options = analysis_options(flags, settings, level)
    try:
        old, new = analyze_pair(list(old_paths or ["."]), list(new_paths or ["."]), options,
                                old_rev=old_rev, new_rev=new_rev, level=level)
    except (ValueError, GitError) as e:  # e.g. an unsupported --k8s-version, an unknown revision
        typer.echo(f"kreach: error: {e}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    for analysis in (old, new):
        _report(analysis.diagnostics, flags.quiet, flags.verbose)
        _KEPT.append(analysis)  # freed with the process (see run)
    return old, new


# Analyses the command read, kept until the process ends: freeing millions of objects one by one
# when a command returns costs ~0.5 s at 150k pods, for memory the process is about to give back
_KEPT: list = []


def analysis_options(flags: InputFlags, settings, level: str = "workload"):
    """The library's Options from the flags, over [tool.kreach], over the defaults."""
    from ..analysis import Options

    exclude = tuple(flags.exclude or ()) + tuple(settings.get("exclude", ()))
    return Options(level=level, k8s_version=_pick(flags.k8s_version, settings, "k8s-version", None),
                   schema=_pick(flags.schema, settings, "schema", True),
                   namespace=_pick(flags.namespace, settings, "namespace", None), exclude=exclude,
                   cache=not flags.no_cache and cache_on(settings),
                   jobs=None,  # a large input is read on every CPU (KREACH_JOBS)
                   **({"inputs": flags.inputs} if flags.inputs is not None else {}))


def cache_on(settings) -> bool:
    """Reuse what earlier runs read and analysed (~/.cache/kreach): unless ``kreach --no-cache``
    or ``cache = false`` in [tool.kreach]."""
    return not _NO_CACHE and bool(settings.get("cache", True))


def must_have_input(analysis, flags: InputFlags, settings) -> None:
    if analysis.is_empty or (_pick(flags.strict, settings, "strict", False) and analysis.has_errors):
        raise typer.Exit(EXIT_BAD_INPUT)


def read_stdin(paths) -> bytes | None:
    """The bytes of standard input when ``-`` is among ``paths`` (the reader decodes them and
    reports what is not UTF-8); None when stdin is closed or unreadable, which the reader
    reports as a located error. At most one byte more than the file-size limit is read."""
    if "-" not in paths:
        return None
    from ..inputs.limits import Limits

    stream = getattr(sys.stdin, "buffer", None) if sys.stdin is not None else None
    if stream is None:
        if sys.stdin is None:
            return None
        try:
            text = sys.stdin.read()  # a test runner's text stream
        except (OSError, ValueError):
            return None
        return text.encode("utf-8", "surrogateescape") if isinstance(text, str) else text
    try:
        return stream.read(Limits.from_env().max_file_bytes + 1)
    except (OSError, ValueError):
        return None


def check_timeout(value: float | None) -> float | None:
    """``--timeout``: a finite number of seconds above zero (inf, nan and negatives are usage
    errors, not a solver told to wait forever or never)."""
    if value is not None and (not math.isfinite(value) or value <= 0):
        raise typer.BadParameter(f"must be a finite number of seconds above 0, not {value}")
    return value


def timeout_seconds(flag: float | None, settings) -> float:
    """The solver timeout: ``--timeout`` over [tool.kreach] ``timeout`` over 5 seconds; a
    configured value that is not a finite positive number is bad input (exit 2)."""
    value = _pick(flag, settings, "timeout", 5.0)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or value <= 0:
        typer.echo(f"kreach: error: [tool.kreach] timeout must be a finite number of seconds "
                   f"above 0, not {value!r}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
    return float(value)


def run() -> None:
    """Console-script entry point.

    The cyclic garbage collector is switched off for the life of the process: an analysis
    builds millions of small acyclic objects that reference counting frees anyway, and the
    collector's repeated scans of them cost about half the run time on large inputs. The
    process ends when the command does, so nothing accumulates; it ends with
    :func:`_fast_exit`, after flushing its output."""
    gc.disable()
    try:
        app(prog_name="kreach")
        code: Any = 0
    except SystemExit as e:
        code = e.code
    _fast_exit(code)


def _fast_exit(code: Any) -> None:
    """End the process once its output is flushed, without tearing down the heap object by
    object (as mypy does): every file a command writes is closed by then, and nothing else needs
    the interpreter's shutdown."""
    if isinstance(code, str):  # sys.exit("message"): print it, exit 1, as Python would
        print(code, file=sys.stderr)
        code = 1
    elif code is None:
        code = 0
    elif not isinstance(code, int):
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away (kreach list | head)
            pass
    os._exit(code)




# Each command group lives in its own module and registers itself on import.
from . import list as _list, queries as _queries  # noqa: E402,F401
from . import lint as _lint  # noqa: E402,F401
from . import compare as _compare  # noqa: E402,F401
from . import audit as _audit  # noqa: E402,F401
from .check import register as _register_check
_register_check(app)
from . import diff as _diff  # noqa: E402,F401
