"""Where a piece of input came from: file, line and document index.

Every loaded object and every diagnostic carries a :class:`SourceRef`, so an answer can always
point back at the manifest line responsible.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class SourceRef:
    """A location in the input. ``line`` is 1-based; 0 means unknown. ``doc`` is the 0-based
    index of the YAML document inside the file (of the resource, for Terraform); ``path`` leads from that document's root to the
    object (``("items", 3)`` for the fourth object of a ``kind: List``)."""

    file: str
    line: int = 0
    doc: int = 0
    path: tuple[str | int, ...] = ()  # where the object sits inside its document (List items)
    # what wrote the object when it is not a manifest: a Terraform resource address
    # (``module.net.kubernetes_network_policy_v1.deny_all``) or a chart template
    origin: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


STDIN = "<stdin>"
