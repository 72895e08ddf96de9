"""A fast reader for the plain block YAML most manifests are written in, with PyYAML as the
reference and the fallback.

Composing a document with libyaml builds a Python node (and its marks) for every scalar and
calls back into Python to resolve each one's tag; on a large input that is over half of the
whole run. Most manifests use a small part of YAML: block mappings and sequences, one entry
per line, plain or simply quoted scalars and keys, ``{}``, and one-line flow sequences such as
``command: ["sh", "-c"]`` or ``policyTypes: [Ingress, Egress]``. :meth:`BlockReader.read`
reads exactly that part line by line and returns ``None`` for anything else (other flow
collections, block and multi-line scalars, anchors, aliases, tags, escapes, complex keys,
duplicate keys, tabs, non-ASCII text, anything it does not recognise), so that the caller
reads the document with PyYAML instead, which then also reports any error. Where it answers,
the answer is what :func:`analyzer.inputs.loading.construct` builds from libyaml's nodes:
the same values, of the same types, in the same order, within the same nesting depth
(property-tested against it in tests/test_block_yaml.py), with each plain scalar's tag
resolved by the same YAML 1.1 resolver.
"""

from __future__ import annotations

import re
from typing import Any, Callable

# a mapping key kreach reads fast: an unquoted, ASCII, simple name (label keys, field names)
_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*")
# anything a line may hold that this reader leaves to PyYAML: tabs, carriage returns, other
# control and non-ASCII characters
_UNUSUAL = re.compile(r"[^\n\x20-\x7e]")
# first characters of a value that make it something other than a plain scalar here
_INDICATORS = frozenset("[]{},#&*!|>%@`'\"")

_T = "tag:yaml.org,2002:"
_STR, _INT, _BOOL, _NULL, _TIMESTAMP = (_T + t for t in ("str", "int", "bool", "null", "timestamp"))
_PLAIN = (True, False)  # the "implicit" flags libyaml passes the resolver for a plain scalar


class _Unsupported(Exception):
    """The document uses YAML this reader leaves to PyYAML."""


class _Frame:
    """An open collection: its column, and the dict or list being filled."""

    __slots__ = ("column", "value", "is_seq")

    def __init__(self, column: int, value: Any, is_seq: bool) -> None:
        self.column, self.value, self.is_seq = column, value, is_seq


# what a line says (see BlockReader._line): nothing (blank, comment), a "---" marker, or
# (column, is item, inner column, key or None, what the value is, the value)
_SKIP, _MARKER = 0, 1
# the value: a scalar, on the lines below, {}, a one-line flow sequence (its items as a tuple)
_SCALAR, _BELOW, _EMPTY_MAP, _SEQ = 0, 1, 2, 3
_MEMO_LIMIT = 100_000  # lines remembered (then forgotten all at once)
_MEMO_LINE = 200  # longer lines are not remembered: they rarely repeat, and would keep a huge file alive


class BlockReader:
    """Reads documents in plain block YAML (:meth:`read`), resolving plain scalars with
    ``resolve(kind, value, implicit)`` (a YAML loader's tag resolver; ``scalar_node`` is its
    scalar node class) and YAML 1.1's boolean words ``bools``. Manifests repeat the same lines
    over and over (``protocol: TCP``, ``- name: http``), so what each line says is remembered."""

    def __init__(self, resolve: Callable[[Any, str, tuple], str], scalar_node: Any,
                 bools: dict[str, bool]) -> None:
        self._resolve, self._node, self._bools = resolve, scalar_node, bools
        self._lines: dict[str, Any] = {}

    def read(self, text: str, max_depth: int) -> tuple[Any, bool] | None:
        """``(value, True)`` for a document in the part of YAML this reader knows; None for
        any other (read it with PyYAML). A document nesting deeper than ``max_depth`` is left
        to PyYAML too (which reports it)."""
        if _UNUSUAL.search(text) is not None:
            return None
        try:
            return self._read(text, max_depth), True
        except _Unsupported:
            return None

    def lines(self, text: str, max_depth: int) -> "DocumentLines | None":
        """The document with the line of each of its entries (:class:`DocumentLines`), or None
        where :meth:`read` would give None: find its lines with PyYAML's nodes then."""
        if _UNUSUAL.search(text) is not None:
            return None
        lines: dict[Any, int] = {}
        try:
            value = self._read(text, max_depth, lines)
        except _Unsupported:
            return None
        return DocumentLines(value, lines)

    def _read(self, text: str, max_depth: int, lines: dict | None = None) -> Any:
        """The document's value; with ``lines``, also the 0-based line of each entry, keyed by
        (id of its mapping or sequence, key or index), and of the document under None."""
        memo = self._lines
        if len(memo) > _MEMO_LIMIT:
            memo.clear()
        stack: list[_Frame] = []
        # a key or sequence entry whose value is on the lines below: (container, slot, column)
        pending: tuple[Any, Any, int] | None = None
        scalar_column = -1  # a line ending in a scalar: a deeper line after it would continue it
        started = False
        for number, line in enumerate(text.split("\n")):
            said = memo.get(line)
            if said is None:
                said = self._line(line)
                if len(line) <= _MEMO_LINE:
                    memo[line] = said
            if said is _SKIP:
                continue
            if said is _MARKER:
                if started:
                    raise _Unsupported  # a second document
                started = True
                continue
            started = True
            column, is_item, inner, key, kind, value = said
            if column <= scalar_column:
                scalar_column = -1
            elif scalar_column >= 0:
                raise _Unsupported  # a multi-line plain scalar
            if pending is not None:
                owner, slot, at = pending
                pending = None
                if column > at or (is_item and column == at and type(owner) is dict):
                    nested: Any = [] if is_item else {}
                    owner[slot] = nested
                    if len(stack) >= max_depth:
                        raise _Unsupported
                    stack.append(_Frame(column, nested, is_item))
                    if lines is not None and type(owner) is list:
                        lines[(id(owner), slot)] = number  # the entry starts where its value does
                elif lines is not None and type(owner) is list:
                    raise _Unsupported  # a null entry ("-" alone): PyYAML's nodes place it
            if not stack:
                stack.append(_Frame(column, [] if is_item else {}, is_item))
                if lines is not None:
                    lines[None] = number
            else:
                top = stack[-1]
                while top.column > column:
                    stack.pop()
                    if not stack:
                        raise _Unsupported  # less indented than the document's first line
                    top = stack[-1]
                if top.is_seq and not is_item and top.column == column and len(stack) > 1:
                    stack.pop()  # the end of a sequence written at its key's column
                    top = stack[-1]
                if top.column != column or top.is_seq != is_item:
                    raise _Unsupported  # indentation PyYAML must judge (or reject)
            target = stack[-1].value
            if is_item:
                if key is None:
                    if kind >= _EMPTY_MAP and len(stack) >= max_depth:
                        raise _Unsupported  # an empty collection is a level of nesting too
                    target.append(None if kind == _BELOW else value if kind == _SCALAR
                                  else {} if kind == _EMPTY_MAP else list(value))
                    if lines is not None:
                        lines[(id(target), len(target) - 1)] = number
                        if kind == _SEQ:
                            lines.update(((id(target[-1]), i), number) for i in range(len(value)))
                    if kind == _BELOW:
                        pending = (target, len(target) - 1, column)
                    else:
                        scalar_column = column
                    continue
                mapping: dict = {}
                target.append(mapping)
                if lines is not None:
                    lines[(id(target), len(target) - 1)] = number
                if len(stack) >= max_depth:
                    raise _Unsupported
                stack.append(_Frame(inner, mapping, False))
                target = mapping
            if key in target:
                raise _Unsupported  # a duplicate key: PyYAML reports it
            if lines is not None:
                lines[(id(target), key)] = number
            if kind == _SCALAR:
                target[key] = value
                scalar_column = inner
            elif kind == _BELOW:
                target[key] = None
                pending = (target, key, inner)
            else:
                if len(stack) >= max_depth:
                    raise _Unsupported  # an empty collection is a level of nesting too
                target[key] = {} if kind == _EMPTY_MAP else list(value)
                scalar_column = inner
                if lines is not None and kind == _SEQ:
                    lines.update(((id(target[key]), i), number) for i in range(len(value)))
        if not stack:
            raise _Unsupported  # nothing but comments and markers: PyYAML says what that is
        return stack[0].value

    def _line(self, line: str) -> Any:
        """What ``line`` says, on its own (raises :class:`_Unsupported`)."""
        body = line.lstrip(" ")
        if not body or body[0] == "#":
            return _SKIP
        column = len(line) - len(body)
        if column == 0 and (body.startswith("---") or body.startswith("...") or body[0] == "%"):
            if body.rstrip(" ") != "---":
                raise _Unsupported  # a marker with content, a document end, a directive
            return _MARKER
        is_item = body[0] == "-" and (len(body) == 1 or body[1] == " ")
        rest, inner = body, column
        if is_item:
            rest = body[1:].lstrip(" ")
            inner = column + len(body) - len(rest)
            if not rest or rest[0] == "#":
                return (column, True, inner, None, _BELOW, None)
            if rest[0] == "-" and (len(rest) == 1 or rest[1] == " "):
                raise _Unsupported  # "- - x"
        quoted = rest[0] == '"' or rest[0] == "'"
        if quoted:  # a quoted key is text as written
            end = _quoted(rest, 0)[1]
        else:
            match = _KEY.match(rest)
            end = match.end() if match is not None else 0
        if not end or rest[end:end + 1] != ":" or (len(rest) > end + 1 and rest[end + 1] != " "):
            if not is_item:
                raise _Unsupported
            kind, value = self._value(rest)
            return (column, True, inner, None, kind, value)
        if end > 1024:
            raise _Unsupported  # longer than YAML allows an implicit key
        key = rest[1:end - 1] if quoted else self._scalar(rest[:end])
        if type(key) is not str:
            raise _Unsupported  # a key read as a number, boolean or null
        value_text = rest[end + 1:].lstrip(" ")
        if not value_text or value_text[0] == "#":
            return (column, is_item, inner, key, _BELOW, None)
        kind, value = self._value(value_text)
        return (column, is_item, inner, key, kind, value)

    def _value(self, rest: str) -> tuple[int, Any]:
        """What ``rest``, the rest of a line, holds: a scalar or an empty flow collection."""
        first = rest[0]
        if first in _INDICATORS:
            if first == "'" or first == '"':
                value, end = _quoted(rest, 0)
                if not _ends(rest, end):
                    raise _Unsupported  # '' (an escaped quote), or text after the closing quote
                return _SCALAR, value
            if first == "{":
                at = len(rest) - len(rest[1:].lstrip(" "))
                if rest[at:at + 1] == "}" and _ends(rest, at + 1):
                    return _EMPTY_MAP, None
            elif first == "[":
                return _SEQ, self._flow_sequence(rest)
            raise _Unsupported
        if first in "-?:" and (len(rest) == 1 or rest[1] == " "):
            raise _Unsupported
        cut = rest.find(" #")
        if cut >= 0:
            rest = rest[:cut]
        rest = rest.rstrip(" ")
        if ": " in rest or rest[-1] == ":":
            raise _Unsupported
        return _SCALAR, self._scalar(rest)

    def _flow_sequence(self, rest: str) -> tuple:
        """The items of a flow sequence written on one line (``["a", 'b', c]``, ``[ ]``) whose
        items are quoted scalars without escapes or simple plain names, as a tuple."""
        items: list[Any] = []
        at, size = 1, len(rest)
        while True:
            while at < size and rest[at] == " ":
                at += 1
            if at >= size:
                raise _Unsupported  # a flow sequence going on over lines
            first = rest[at]
            if first == "]" and not items:
                at += 1
                break
            if first == '"' or first == "'":
                item, at = _quoted(rest, at)
                items.append(item)
            else:
                plain = _KEY.match(rest, at)
                if plain is None:
                    raise _Unsupported  # any other plain scalar, a nested collection, a comment
                items.append(self._scalar(plain.group()))
                at = plain.end()
            while at < size and rest[at] == " ":
                at += 1
            if rest[at:at + 1] == "]":
                at += 1
                break
            if rest[at:at + 1] != ",":
                raise _Unsupported  # '' (an escaped quote), "a b", a pair ("a": 1), ...
            at += 1  # the next item must follow: "[a, ]" is left to PyYAML
        if not _ends(rest, at):
            raise _Unsupported
        return tuple(items)

    def _scalar(self, value: str) -> Any:
        """A plain scalar's value, as the safe constructor reads it (timestamps kept as text)."""
        tag = self._resolve(self._node, value, _PLAIN)
        if tag == _STR or tag == _TIMESTAMP:
            return value
        if tag == _INT and value.isdigit() and (value[0] != "0" or len(value) == 1):
            return int(value)
        if tag == _NULL:
            return None
        if tag == _BOOL:
            return self._bools[value.lower()]
        raise _Unsupported  # other numbers, merge keys, ...


def _quoted(rest: str, at: int) -> tuple[str, int]:
    """The text of the quoted scalar starting at ``at`` (its quote) and the offset after its
    closing quote, for one without escapes closed on this line (else :class:`_Unsupported`:
    PyYAML reads it). A ``''`` inside a single-quoted one ends it here, so the text after it
    is what callers refuse."""
    quote = rest[at]
    close = rest.find(quote, at + 1)
    if close < 0:
        raise _Unsupported  # a quoted scalar going on over lines
    text = rest[at + 1:close]
    if quote == '"' and "\\" in text:
        raise _Unsupported  # escapes
    return text, close + 1


def _ends(rest: str, at: int) -> bool:
    """Whether nothing but blanks and a comment (after a blank) follow offset ``at``."""
    tail = rest[at:].lstrip(" ")
    return not tail or (tail[0] == "#" and rest[at] == " ")


class DocumentLines:
    """A document read by :meth:`BlockReader.lines`: its value, and the 0-based line of the
    document and of each entry, as PyYAML's nodes give them (a mapping entry's line is its
    key's, a sequence entry's is where its value starts)."""

    __slots__ = ("value", "_lines")

    def __init__(self, value: Any, lines: dict[Any, int]) -> None:
        self.value, self._lines = value, lines

    @property
    def line(self) -> int:
        return self._lines[None]

    def child(self, value: Any, key: str | int) -> tuple[Any, int] | None:
        """The entry ``key`` of ``value`` (a mapping or sequence of this document) and its
        line; None when there is no such entry."""
        if type(value) is dict and isinstance(key, str) and key in value:
            return value[key], self._lines[(id(value), key)]
        if type(value) is list and isinstance(key, int) and 0 <= key < len(value):
            return value[key], self._lines[(id(value), key)]
        return None
