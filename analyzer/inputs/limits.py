"""Resource limits of the reader: what one input may cost before kreach refuses it.

Small inputs can be made to cost unbounded time or memory (a YAML alias bomb expands 1 KB into
gigabytes; a file that never ends, such as ``/dev/zero``; a document nested ten thousand levels
deep overflows the C parser's stack). Each limit below stops one of these with a located error
that names the limit and the environment variable that raises it; the rest of the input is still
analysed. The defaults are far above anything a real cluster export needs.

=========================  ===============================  ==============================
limit                      default                          raise it with
=========================  ===============================  ==============================
bytes per file (or stdin)  256 MiB                          ``KREACH_MAX_FILE_BYTES``
documents per file         100,000                          ``KREACH_MAX_DOCUMENTS``
alias expansions           100,000 nodes per document       ``KREACH_MAX_ALIAS_NODES``
nesting depth              200 levels                       ``KREACH_MAX_DEPTH``
pods per workload          100 (the rest are identical)     ``KREACH_MAX_PODS_PER_WORKLOAD``
=========================  ===============================  ==============================

An alias expansion counts every node reached through an alias (``*name``), as if the alias were
written out; documents without aliases never count. The nesting depth cannot be raised beyond
:data:`HARD_MAX_DEPTH`: deeper documents would overflow the interpreter's stack.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Mapping

HARD_MAX_DEPTH = 900  # Python's recursion limit is 1000; the reader keeps a margin

ENV = {
    "max_file_bytes": "KREACH_MAX_FILE_BYTES",
    "max_documents": "KREACH_MAX_DOCUMENTS",
    "max_alias_nodes": "KREACH_MAX_ALIAS_NODES",
    "max_depth": "KREACH_MAX_DEPTH",
    "max_pods_per_workload": "KREACH_MAX_PODS_PER_WORKLOAD",
}

DESCRIPTION = {
    "max_file_bytes": "bytes per file",
    "max_documents": "documents per file",
    "max_alias_nodes": "alias expansions per document",
    "max_depth": "levels of nesting",
    "max_pods_per_workload": "pods per workload",
}


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 256 * 1024 * 1024
    max_documents: int = 100_000
    max_alias_nodes: int = 100_000
    max_depth: int = 200
    max_pods_per_workload: int = 100

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Limits":
        """The defaults, overridden by ``KREACH_MAX_*`` variables holding positive integers
        (anything else is ignored: a limit is never switched off by a typo)."""
        env = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            text = env.get(ENV[f.name], "").strip().replace("_", "")
            if text.isdigit() and int(text) > 0:
                values[f.name] = int(text)
        if "max_depth" in values:
            values["max_depth"] = min(values["max_depth"], HARD_MAX_DEPTH)
        return cls(**values)

    def exceeded(self, name: str) -> str:
        """The text that names limit ``name`` and how to raise it."""
        return f"the limit of {getattr(self, name):,} {DESCRIPTION[name]} ({ENV[name]}=N raises it)"


class LimitExceeded(Exception):
    """An input went over one of the :class:`Limits`; ``detail`` says which and where."""

    def __init__(self, detail: str, line: int = 0) -> None:
        super().__init__(detail)
        self.detail, self.line = detail, line
