"""Writing a command's output: stdout or ``-o FILE``. An unwritable file is bad input (exit 2),
never a traceback."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterable, Optional

import typer

EXIT_BAD_INPUT = 2


def emit(text: str, output: Optional[Path]) -> None:
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        return
    try:
        output.write_text(text)
    except OSError as e:
        typer.echo(f"kreach: error: cannot write {output}: {e.strerror or e}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)


def emit_stream(chunks: Iterable[str], output: Optional[Path]) -> None:
    """Write ``chunks`` as they come (a huge listing is never held whole in memory)."""
    if output is None or str(output) == "-":
        write = sys.stdout.write
        for chunk in chunks:
            write(chunk)
        return
    try:
        with open(output, "w", encoding="utf-8") as fh:
            for chunk in chunks:
                fh.write(chunk)
    except OSError as e:
        typer.echo(f"kreach: error: cannot write {output}: {e.strerror or e}", err=True)
        raise typer.Exit(EXIT_BAD_INPUT)
