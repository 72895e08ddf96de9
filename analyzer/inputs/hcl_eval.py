"""Static evaluation of HCL expressions, as far as they can be known without Terraform.

Input is the parse tree python-hcl2's grammar produces (a lark tree whose nodes carry lines).
Values are plain Python data (str, int, float, bool, None, list, dict); anything that cannot be
known before ``terraform apply`` or without the provider (a computed attribute, a data source, a
variable with no value, a function kreach does not evaluate) is an :class:`Unknown` that names
the expression and its line. Unknowns propagate: an operation on one yields it, so the first
cause is the one reported. Nothing here raises on user input.

Names are resolved through a :class:`Scope` given by the module reader (variables, locals,
resources, ``count``/``each``/iterators); this module knows only the expression language.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Protocol

from lark import Token, Tree

_MISSING = object()


@dataclass(frozen=True)
class Unknown:
    """A value kreach cannot know statically: ``expr`` as written, where, and why."""

    expr: str
    file: str
    line: int
    why: str


class Scope(Protocol):
    def lookup(self, root: str, steps: list, node: Tree, ev: "Evaluator") -> Any:
        """The value of the traversal ``root.steps...`` (steps are attribute names as str,
        ``("index", value)`` pairs, or :data:`SPLAT`), or :data:`NOT_MINE` when ``root`` is not
        a name it holds."""


NOT_MINE = object()
SPLAT = object()


def first_unknown(value: Any) -> Unknown | None:
    """The first Unknown inside ``value`` (depth first), if any."""
    if isinstance(value, Unknown):
        return value
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        for v in value:
            u = first_unknown(v)
            if u is not None:
                return u
    return None


def kids(node: Tree) -> list:
    """Children that carry meaning (no punctuation tokens, newlines or comments)."""
    return [c for c in node.children
            if isinstance(c, Tree) and c.data != "new_line_or_comment"]


class Evaluator:
    """Evaluates expression nodes of one file against a scope."""

    def __init__(self, file: str, text: str, scope: Scope, bound: Mapping[str, Any] | None = None):
        self.file, self.text, self.scope = file, text, scope
        self.bound: dict[str, Any] = dict(bound or {})  # for-expression and iterator variables

    def with_bound(self, **names: Any) -> "Evaluator":
        e = Evaluator(self.file, self.text, self.scope, self.bound)
        e.bound.update(names)
        return e

    # --- helpers ---------------------------------------------------------------------------

    def source(self, node: Tree) -> str:
        meta = node.meta
        if getattr(meta, "empty", True):
            return "?"
        return " ".join(self.text[meta.start_pos:meta.end_pos].split())

    def unknown(self, node: Tree, why: str) -> Unknown:
        line = getattr(node.meta, "line", 0) if not getattr(node.meta, "empty", True) else 0
        return Unknown(self.source(node), self.file, line, why)

    # --- expressions -----------------------------------------------------------------------

    def eval(self, node: Any) -> Any:
        if isinstance(node, Token):
            return node.value
        handler = getattr(self, "_" + node.data, None)
        if handler is None:
            return self.unknown(node, f"{node.data.replace('_', ' ')} is not evaluated statically")
        try:
            return handler(node)
        except RecursionError:
            return self.unknown(node, "nested too deeply")

    def _expr_term(self, node: Tree) -> Any:
        inner = kids(node)
        if len(inner) == 1:
            return self.eval(inner[0])
        return self.unknown(node, "unexpected expression")

    def _int_lit(self, node: Tree) -> Any:
        return int(node.children[0].value)

    def _float_lit(self, node: Tree) -> Any:
        v = float(node.children[0].value)
        return int(v) if v.is_integer() else v

    def _literal_value(self, node: Tree) -> Any:
        return {"true": True, "false": False, "null": None}[node.children[0].value]

    def _identifier(self, node: Tree) -> Any:
        return self._resolve(node.children[0].value, [], node)

    def _string(self, node: Tree) -> Any:
        parts: list[Any] = []
        for part in node.children:
            if isinstance(part, Token):
                continue  # the quotes
            piece = part.children[0]
            if isinstance(piece, Token):
                if piece.type == "ESCAPED_INTERPOLATION":
                    parts.append(piece.value[1:])
                elif piece.type == "ESCAPED_DIRECTIVE":
                    parts.append(piece.value[1:])
                else:
                    parts.append(_unescape(piece.value))
            elif piece.data == "interpolation":
                parts.append(("value", self.eval(kids(piece)[0])))
            else:
                return self.unknown(node, "template directives (%{ }) are not evaluated")
        if len(parts) == 1 and isinstance(parts[0], tuple):
            return parts[0][1]  # "${x}" is x itself, of any type
        out = []
        for p in parts:
            v = p[1] if isinstance(p, tuple) else p
            if isinstance(v, Unknown):
                return v
            s = _to_string(v)
            if s is None:
                return self.unknown(node, "a value that is not a string in a template")
            out.append(s)
        return "".join(out)

    def _heredoc_template(self, node: Tree, trim: bool = False) -> Any:
        text = node.children[0].value
        body = text.split("\n", 1)[1] if "\n" in text else ""
        body = body.rstrip("\n")
        body = body[: body.rfind("\n") + 1] if "\n" in body else ""
        if trim:
            lines = body.split("\n")
            indent = min((len(ln) - len(ln.lstrip()) for ln in lines if ln.strip()), default=0)
            body = "\n".join(ln[indent:] for ln in lines)
        if "${" in body or "%{" in body:
            return self.unknown(node, "templates in heredocs are not evaluated")
        return body

    def _heredoc_template_trim(self, node: Tree) -> Any:
        return self._heredoc_template(node, trim=True)

    def _tuple(self, node: Tree) -> Any:
        return [self.eval(c) for c in kids(node)]

    def _object(self, node: Tree) -> Any:
        out: dict[Any, Any] = {}
        for elem in kids(node):
            key_node, value_node = kids(elem)
            key = self._object_key(key_node)
            if isinstance(key, Unknown):
                return key
            out[key] = self.eval(value_node)
        return out

    def _object_key(self, node: Tree) -> Any:
        inner = kids(node)
        if not inner:
            return node.children[0].value if node.children else ""
        term = inner[0]
        if term.data == "keyword":
            return term.children[0].value
        # a bare name is the key itself, not a reference
        if term.data == "expr_term":
            sub = kids(term)
            if len(sub) == 1 and sub[0].data == "identifier":
                return sub[0].children[0].value
        key = self.eval(term)
        if isinstance(key, Unknown):
            return key
        return _to_string(key) if not isinstance(key, str) else key

    def _conditional(self, node: Tree) -> Any:
        cond, yes, no = kids(node)
        c = self.eval(cond)
        if isinstance(c, Unknown):
            return c
        if not isinstance(c, bool):
            return self.unknown(cond, "a condition that is not a bool")
        return self.eval(yes if c else no)

    def _unary_op(self, node: Tree) -> Any:
        op = node.children[0].value
        v = self.eval(kids(node)[0])
        if isinstance(v, Unknown):
            return v
        if op == "-" and isinstance(v, (int, float)) and not isinstance(v, bool):
            return -v
        if op == "!" and isinstance(v, bool):
            return not v
        return self.unknown(node, f"{op} of a {type(v).__name__}")

    def _binary_op(self, node: Tree) -> Any:
        left_node, term = kids(node)
        op_node, right_node = kids(term)
        op = op_node.children[0].value
        left = self.eval(left_node)
        if op in ("&&", "||") and isinstance(left, bool):
            if (op == "&&" and not left) or (op == "||" and left):
                return left
        right = self.eval(right_node)
        for v in (left, right):
            if isinstance(v, Unknown):
                return v
        try:
            return _BINARY[op](left, right)
        except (TypeError, ValueError, ZeroDivisionError, KeyError):
            return self.unknown(node, f"{op} of {type(left).__name__} and {type(right).__name__}")

    def _function_call(self, node: Tree) -> Any:
        parts = kids(node)
        names = [p.children[0].value for p in parts if p.data == "identifier"]
        name = "::".join(names)
        args_node = next((p for p in parts if p.data == "arguments"), None)
        arg_nodes = kids(args_node) if args_node is not None else []
        expand = args_node is not None and any(
            isinstance(c, Token) and c.type == "ELLIPSIS" for c in args_node.children)
        if name in ("try", "can"):
            for a in arg_nodes:
                v = self.eval(a)
                if first_unknown(v) is None:
                    return True if name == "can" else v
            return False if name == "can" and arg_nodes else self.unknown(node, "no argument of try is known")
        args = [self.eval(a) for a in arg_nodes]
        if expand and args and isinstance(args[-1], list):
            args = args[:-1] + args[-1]
        fn = _FUNCTIONS.get(name)
        if fn is None:
            return self.unknown(node, f"function {name}() is not evaluated statically")
        if name != "coalesce":
            u = first_unknown(args)
            if u is not None:
                return u
        try:
            return fn(*args)
        except Exception as e:  # a wrong argument is the user's input: report, never raise
            return self.unknown(node, f"{name}(): {e}")

    # --- traversals ------------------------------------------------------------------------

    def _get_attr_expr_term(self, node: Tree) -> Any:
        return self._traversal(node)

    _index_expr_term = _get_attr_expr_term
    _attr_splat_expr_term = _get_attr_expr_term
    _full_splat_expr_term = _get_attr_expr_term

    def _traversal(self, node: Tree) -> Any:
        steps: list[Any] = []
        cur: Any = node
        while isinstance(cur, Tree) and cur.data in ("get_attr_expr_term", "index_expr_term",
                                                     "attr_splat_expr_term", "full_splat_expr_term",
                                                     "expr_term"):
            if cur.data == "expr_term":
                inner = kids(cur)
                if len(inner) != 1:
                    break
                cur = inner[0]
                continue
            base, step = kids(cur)[0], kids(cur)[1]
            steps[:0] = self._steps(step)
            cur = base
        if isinstance(cur, Tree) and cur.data == "identifier":
            return self._resolve(cur.children[0].value, steps, node)
        return apply_steps(self.eval(cur), steps, self, node)

    def _steps(self, step: Tree) -> list[Any]:
        if step.data == "get_attr":
            return [kids(step)[0].children[0].value]
        if step.data == "braces_index":
            return [("index", self.eval(kids(step)[0]))]
        if step.data == "short_index":
            return [("index", int(step.children[1].value))]
        if step.data in ("attr_splat", "full_splat"):
            out: list[Any] = [SPLAT]
            for s in kids(step):
                out += self._steps(s)
            return out
        return [("index", self.unknown(step, "unexpected index"))]

    def _resolve(self, root: str, steps: list, node: Tree) -> Any:
        if root in self.bound:
            return apply_steps(self.bound[root], steps, self, node)
        got = self.scope.lookup(root, steps, node, self)
        if got is NOT_MINE:
            return self.unknown(node, f"{root} is not a name kreach knows here")
        return got

    # --- for expressions -------------------------------------------------------------------

    def _for_tuple_expr(self, node: Tree) -> Any:
        return self._for(node, tuple_form=True)

    def _for_object_expr(self, node: Tree) -> Any:
        return self._for(node, tuple_form=False)

    def _for(self, node: Tree, tuple_form: bool) -> Any:
        parts = kids(node)
        intro = parts[0]
        names = [c.children[0].value for c in kids(intro) if c.data == "identifier"]
        collection_node = [c for c in kids(intro) if c.data != "identifier"][0]
        collection = self.eval(collection_node)
        if isinstance(collection, Unknown):
            return collection
        cond = next((p for p in parts if p.data == "for_cond"), None)
        body = [p for p in parts[1:] if p.data != "for_cond"]
        grouping = any(isinstance(c, Token) and c.type == "ELLIPSIS" for c in node.children)
        out_list: list[Any] = []
        out_map: dict[Any, Any] = {}
        for key, value in _pairs(collection):
            bound = {names[-1]: value}
            if len(names) == 2:
                bound[names[0]] = key
            ev = self.with_bound(**bound)
            if cond is not None:
                keep = ev.eval(kids(cond)[0])
                if isinstance(keep, Unknown):
                    return keep
                if keep is not True:
                    continue
            if tuple_form:
                out_list.append(ev.eval(body[0]))
                continue
            k = ev.eval(body[0])
            if isinstance(k, Unknown):
                return k
            v = ev.eval(body[1])
            if grouping:
                out_map.setdefault(_to_string(k), []).append(v)
            else:
                out_map[_to_string(k)] = v
        return out_list if tuple_form else out_map


def apply_steps(value: Any, steps: list, ev: Evaluator, node: Tree) -> Any:
    """Follow attribute names, indexes and splats into a value."""
    for i, step in enumerate(steps):
        if isinstance(value, Unknown):
            return value
        if step is SPLAT:
            rest = steps[i + 1:]
            items = value if isinstance(value, list) else ([] if value is None else [value])
            return [apply_steps(v, rest, ev, node) for v in items]
        key = step[1] if isinstance(step, tuple) else step
        if isinstance(key, Unknown):
            return key
        if isinstance(value, dict):
            k = _to_string(key) if not isinstance(key, str) else key
            if k not in value:
                return ev.unknown(node, f"no attribute or key {k!r} in the configuration "
                                        "(computed by the provider, or known only after apply)")
            value = value[k]
        elif isinstance(value, list) and isinstance(key, (int, float)) and not isinstance(key, bool):
            if not 0 <= int(key) < len(value):
                return ev.unknown(node, f"index {key} out of range")
            value = value[int(key)]
        else:
            return ev.unknown(node, f"cannot index a {type(value).__name__} with {key!r}")
    return value


def _pairs(collection: Any) -> Iterator[tuple[Any, Any]]:
    if isinstance(collection, dict):
        yield from sorted(collection.items(), key=lambda kv: str(kv[0]))
    elif isinstance(collection, list):
        yield from enumerate(collection)


def _unescape(text: str) -> str:
    try:
        from hcl2.utils import process_escape_sequences

        return process_escape_sequences(text)
    except Exception:  # pragma: no cover - depends on the installed python-hcl2
        return text.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\")


def _to_string(v: Any) -> str | None:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)
    if isinstance(v, str):
        return v
    return None


def _number(v: Any) -> int | float:
    if isinstance(v, bool):
        raise TypeError("a bool is not a number")
    if isinstance(v, (int, float)):
        return v
    if isinstance(v, str):
        f = float(v)
        return int(f) if f.is_integer() else f
    raise TypeError(f"{type(v).__name__} is not a number")


def _eq(a: Any, b: Any) -> bool:
    return a == b and type(a) is type(b) or (
        isinstance(a, (int, float)) and isinstance(b, (int, float))
        and not isinstance(a, bool) and not isinstance(b, bool) and a == b)


_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": lambda a, b: _number(a) + _number(b),
    "-": lambda a, b: _number(a) - _number(b),
    "*": lambda a, b: _number(a) * _number(b),
    "/": lambda a, b: _number(a) / _number(b),
    "%": lambda a, b: _number(a) % _number(b),
    "==": _eq,
    "!=": lambda a, b: not _eq(a, b),
    "<": lambda a, b: _number(a) < _number(b),
    ">": lambda a, b: _number(a) > _number(b),
    "<=": lambda a, b: _number(a) <= _number(b),
    ">=": lambda a, b: _number(a) >= _number(b),
    "&&": lambda a, b: _bool(a) and _bool(b),
    "||": lambda a, b: _bool(a) or _bool(b),
}


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    raise TypeError("not a bool")


def _merge(*maps: Any) -> dict:
    out: dict = {}
    for m in maps:
        if m is None:
            continue
        if not isinstance(m, dict):
            raise TypeError("merge takes maps")
        out.update(m)
    return out


def _flatten(v: Any) -> list:
    out: list = []
    for x in v:
        out += _flatten(x) if isinstance(x, list) else [x]
    return out


def _format(fmt: str, *args: Any) -> str:
    it = iter(args)

    def one(m: re.Match) -> str:
        if m.group(0) == "%%":
            return "%"
        v = next(it)
        return json.dumps(v) if m.group(1) == "q" else (_to_string(v) or json.dumps(v))

    return re.sub(r"%%|%[-+ #0-9.]*([sdvqftbeEgGxXo])", one, fmt)


def _coalesce(*args: Any) -> Any:
    for a in args:
        if isinstance(a, Unknown):
            return a
        if a is not None and a != "":
            return a
    raise ValueError("no non-null argument")


def _cidrsubnet(prefix: str, newbits: Any, netnum: Any) -> str:
    net = ipaddress.ip_network(prefix, strict=False)
    subnets = list(net.subnets(prefixlen_diff=int(newbits))) if int(newbits) <= 16 else None
    if subnets is None:
        raise ValueError("too many new bits to enumerate")
    return str(subnets[int(netnum)])


def _cidrhost(prefix: str, hostnum: Any) -> str:
    net = ipaddress.ip_network(prefix, strict=False)
    return str(net[int(hostnum)])


def _tolist(v: Any) -> list:
    if isinstance(v, list):
        return list(v)
    raise TypeError("not a list or set")


def _toset(v: Any) -> list:
    out: list = []
    for x in _tolist(v):
        if x not in out:
            out.append(x)
    return sorted(out, key=lambda x: (str(type(x)), str(x)))


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "merge": _merge,
    "concat": lambda *ls: [x for lst in ls for x in _tolist(lst)],
    "lookup": lambda m, k, *d: m[k] if k in m else (d[0] if d else (_ for _ in ()).throw(KeyError(k))),
    "tostring": lambda v: _to_string(v) if v is not None else None,
    "tonumber": lambda v: None if v is None else _number(v),
    "tobool": lambda v: v if isinstance(v, bool) or v is None else {"true": True, "false": False}[v],
    "tolist": _tolist,
    "toset": _toset,
    "tomap": lambda v: dict(v),
    "upper": lambda s: s.upper(),
    "lower": lambda s: s.lower(),
    "title": lambda s: s.title(),
    "trimspace": lambda s: s.strip(),
    "trimprefix": lambda s, p: s[len(p):] if s.startswith(p) else s,
    "trimsuffix": lambda s, p: s[: -len(p)] if p and s.endswith(p) else s,
    "replace": lambda s, a, b: s.replace(a, b),
    "format": _format,
    "join": lambda sep, lst: sep.join(_to_string(x) or "" for x in lst),
    "split": lambda sep, s: s.split(sep),
    "length": lambda v: len(v),
    "keys": lambda m: sorted(m),
    "values": lambda m: [m[k] for k in sorted(m)],
    "contains": lambda lst, v: v in lst,
    "element": lambda lst, i: lst[int(i) % len(lst)],
    "index": lambda lst, v: lst.index(v),
    "coalesce": _coalesce,
    "coalescelist": lambda *ls: next(x for x in ls if x),
    "compact": lambda lst: [x for x in lst if x not in (None, "")],
    "distinct": lambda lst: [x for i, x in enumerate(lst) if x not in lst[:i]],
    "flatten": _flatten,
    "range": lambda *a: list(range(*(int(x) for x in a))),
    "zipmap": lambda ks, vs: dict(zip(ks, vs)),
    "setunion": lambda *ls: _toset([x for lst in ls for x in lst]),
    "min": lambda *a: min(_number(x) for x in a),
    "max": lambda *a: max(_number(x) for x in a),
    "abs": lambda v: abs(_number(v)),
    "jsonencode": lambda v: json.dumps(v, separators=(",", ":")),
    "jsondecode": lambda s: json.loads(s),
    "cidrsubnet": _cidrsubnet,
    "cidrhost": _cidrhost,
    "strcontains": lambda s, sub: sub in s,
    "startswith": lambda s, p: s.startswith(p),
    "endswith": lambda s, p: s.endswith(p),
    "substr": lambda s, off, n: s[int(off):] if int(n) < 0 else s[int(off):int(off) + int(n)],
    "sort": lambda lst: sorted(lst, key=str),
    "reverse": lambda lst: list(reversed(lst)),
    "slice": lambda lst, a, b: lst[int(a):int(b)],
    "alltrue": lambda lst: all(x is True for x in lst),
    "anytrue": lambda lst: any(x is True for x in lst),
    "sum": lambda lst: sum(_number(x) for x in lst),
    "one": lambda lst: (lst[0] if len(lst) == 1 else None) if len(lst) <= 1 else
    (_ for _ in ()).throw(ValueError("more than one element")),
}
