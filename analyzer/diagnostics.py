"""Diagnostics as data: a stable code, a severity, a message and a source location.

Message texts live in :mod:`analyzer.messages`; this module only holds the record type and
helpers for collections of diagnostics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Iterable

from .source import SourceRef


# C0/C1 controls, zero-width and bidirectional formatting characters, line/paragraph separators
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


def escape_controls(text: str) -> str:
    """``text`` with every control or invisible formatting character written as an escape
    (``\\n``, ``\\x1b``, ``\\u202e``), so that one diagnostic is always one honest line."""
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    code: str
    severity: Severity
    message: str
    source: SourceRef | None = None
    kind: str | None = None  # the kind of object it is about, when it is about one

    @property
    def file(self) -> str | None:
        return self.source.file if self.source else None

    @property
    def line(self) -> int | None:
        return self.source.line if self.source and self.source.line else None

    def __str__(self) -> str:
        where = f"{escape_controls(str(self.source))}: " if self.source else ""
        origin = self.source.origin if self.source else ""
        origin = f" [{escape_controls(origin)}]" if origin and origin not in self.message else ""
        return f"{where}{self.severity.value}[{self.code}]: {self.message}{origin}"

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "file": self.file,
            "line": self.line,
        }


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.severity is Severity.ERROR for d in diagnostics)


def sort_key(d: Diagnostic) -> tuple:
    s = d.source
    return (s.file if s else "", s.line if s else 0, d.code, d.message)
