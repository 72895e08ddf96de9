"""The ``kreach`` command line: one module per command group, wired to one typer app.

Only this package exits; the library (everything outside ``analyzer.cli``) never prints or exits."""

from .app import app, run

__all__ = ["app", "run"]
