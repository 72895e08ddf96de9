"""The ``kreach`` app and what every command shares: parse options, call the library, pick a writer, map the outcome
to an exit code (0 ok, 1 findings, 2 bad input or usage). Only the cli package exits."""

from __future__ import annotations

import gc
from enum import Enum

import typer

from .. import __version__
from ..diagnostics import Severity

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


def run() -> None:
    """Console-script entry point.

    The cyclic garbage collector is switched off for the life of the process: an analysis
    builds millions of small acyclic objects that reference counting frees anyway, and the
    collector's repeated scans of them cost about half the run time on large inputs. The
    process ends when the command does, so nothing accumulates."""
    gc.disable()
    app(prog_name="kreach")




# Each command group lives in its own module and registers itself on import.
from . import list as _list, queries as _queries  # noqa: E402,F401
from .check import register as _register_check
_register_check(app)
