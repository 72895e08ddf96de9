"""What ``kreach check --base REV`` adds to a report: the assertions the change breaks, apart
from those failing already (text after the report; a ``base`` member in JSON)."""

from __future__ import annotations

from ..diff.assertions import CheckComparison


def _where(r) -> str:
    return f"{r.assertion.source.file}:{r.assertion.source.line}"


def render_text(c: CheckComparison) -> str:
    lines = [f"against {c.base}: {len(c.broken)} broken by this change, "
             f"{len(c.already_failing)} already failing, {len(c.fixed)} fixed"]
    for label, results in (("broken by this change", c.broken),
                           ("already failing", c.already_failing), ("fixed", c.fixed)):
        for r in results:
            lines.append(f"  {label + ':':22} {r.assertion.name}  ({_where(r)})")
    return "\n".join(lines) + "\n"


def to_json(c: CheckComparison) -> dict:
    names = lambda rs: [r.assertion.name for r in rs]  # noqa: E731
    return {"rev": c.base, "broken": names(c.broken), "already_failing": names(c.already_failing),
            "fixed": names(c.fixed)}
