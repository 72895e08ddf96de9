"""``kreach compare`` as text: the relation in one line, then for each direction of difference
the witness connection with the rules that allow it and the policies that isolate its ends on
the other side (file:line each)."""

from __future__ import annotations

from ..compare import A_IN_B, B_IN_A, EQUIVALENT, Comparison, Witness, strongly_equivalent

HEADS = {
    EQUIVALENT: "equivalent: {a} and {b} allow exactly the same connections",
    A_IN_B: "A ⊂ B: everything {a} allows, {b} allows too, and more",
    B_IN_A: "B ⊂ A: everything {b} allows, {a} allows too, and more",
    "incomparable": "incomparable: each of {a} and {b} allows something the other does not",
}


def _where(ref) -> str:
    if ref.source is None:
        return str(ref)
    return f"{ref} ({ref.source})"


def witness_lines(label: str, w: Witness, allowing: str, other: str) -> list[str]:
    lines = [f"  {label}: {w.src} -> {w.dst} {w.protocol} {w.port} "
             f"({allowing} allows {w.allowed.to_text()}; {other} allows "
             f"{w.denied.to_text() if w.denied else 'nothing'} there)"]
    lines += [f"    allowed in {allowing} by {_where(r)}" for r in w.allowed_by]
    lines += [f"    {r.direction.lower()} isolated in {other} by {_where(r)}" for r in w.isolated_by]
    return lines


def render_lines(c: Comparison, a: str, b: str) -> list[str]:
    lines = [HEADS[c.relation].format(a=a, b=b)]
    if c.only_in_a:
        lines += witness_lines("only in A", c.only_in_a, "A", "B")
    if c.only_in_b:
        lines += witness_lines("only in B", c.only_in_b, "B", "A")
    if c.pods_only_in_a:
        lines.append(f"  not compared, pods only in A: {', '.join(c.pods_only_in_a)}")
    if c.pods_only_in_b:
        lines.append(f"  not compared, pods only in B: {', '.join(c.pods_only_in_b)}")
    return lines


def render(c: Comparison, a: str, b: str) -> str:
    lines = render_lines(c, a, b)
    if c.per_policy:
        strong = strongly_equivalent(c)
        lines.append(f"per policy: {'strongly equivalent' if strong else 'not strongly equivalent'}"
                     f" ({sum(1 for _, p in c.per_policy if p.equivalent)} of {len(c.per_policy)} "
                     f"policies equivalent alone)")
        for pid, p in c.per_policy:
            if p.equivalent:
                continue
            sub = render_lines(p, f"{pid} in A", f"{pid} in B")
            lines.append(f"  {pid}: {sub[0]}")
            lines += ["  " + x for x in sub[1:] if "not compared" not in x]
    return "\n".join(lines) + "\n"
