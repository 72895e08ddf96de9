"""Where a piece of input came from: file, line and document index.

Every loaded object and every diagnostic carries a :class:`SourceRef`, so an answer can always
point back at the manifest line responsible.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class SourceRef:
    """A location in the input. ``line`` is 1-based; 0 means unknown. ``doc`` is the 0-based
    index of the YAML document (or list item) inside the file."""

    file: str
    line: int = 0
    doc: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


STDIN = "<stdin>"
