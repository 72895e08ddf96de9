"""Terraform configurations (``.tf`` files) read statically, as Terraform would plan them.

A directory's ``.tf`` files form one module. Parsing is python-hcl2's (its lark grammar, with a
line on every node); evaluation is :mod:`.hcl_eval`'s. The reader resolves what a plan would
know from the configuration alone: variables (``-var``, ``--var-file``, ``terraform.tfvars``,
``*.auto.tfvars``, defaults, in Terraform's order of precedence), locals, references between
resources (``kubernetes_namespace_v1.x.metadata[0].name``), ``count`` and ``for_each``,
``dynamic`` blocks, local child modules (``source = "./net"``) and their outputs. Each resource
instance of the Kubernetes provider becomes an object through :mod:`.tf_kubernetes`, located at
its block and each field at its line.

What cannot be known statically (a computed attribute, a data source, a variable without a
value) is a warning naming the expression and its line, and the resource is analysed without
the part that depends on it, in the direction that allows less: a peer or port of a policy
rule is dropped (the whole rule when none is left, so a rule never widens to "all"); an unknown
pod selector, policy type, name or namespace skips the resource.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from lark import Tree

from ..diagnostics import Diagnostic
from ..messages import diagnostic
from ..source import SourceRef
from .hcl_eval import NOT_MINE, Evaluator, Unknown, apply_steps, first_unknown, kids
from .options import InputOptions
from .tf_kubernetes import is_kubernetes, to_object

_META_ATTRS = frozenset({"count", "for_each", "depends_on", "provider"})
_META_BLOCKS = frozenset({"lifecycle", "provisioner", "connection", "timeouts"})
_MODULE_ARGS = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})


class Files:
    """Where a module's files are read: the disk, or given texts (a git revision's blobs,
    by path)."""

    def __init__(self, texts: Mapping[str, str] | None = None, prefix: str = ""):
        self.texts = None if texts is None else {os.path.normpath(k): v for k, v in texts.items()}
        self.prefix = prefix  # what locations show before a path (``REV:`` for a git revision)

    def label(self, path: str) -> str:
        return f"{self.prefix}{path}"

    def read(self, path: str) -> str:
        if self.texts is not None:
            try:
                return self.texts[os.path.normpath(path)]
            except KeyError:
                raise OSError(f"{path} is not in the revision read") from None
        with open(path, encoding="utf-8-sig") as fh:
            return fh.read()

    def listdir(self, directory: str) -> list[str]:
        if self.texts is not None:
            d = os.path.normpath(directory)
            return sorted({os.path.basename(p) for p in self.texts if os.path.dirname(p) == d})
        return sorted(os.listdir(directory)) if os.path.isdir(directory) else []

    def isfile(self, path: str) -> bool:
        if self.texts is not None:
            return os.path.normpath(path) in self.texts
        return os.path.isfile(path)


DISK = Files()


@dataclass
class _File:
    path: str
    text: str
    tree: Tree | None


@dataclass
class _Block:
    type: str
    labels: list[str]
    body: Tree
    file: _File
    line: int


def read_modules(modules: Mapping[str, list[str]], inputs: InputOptions,
                 files: Files = DISK
                 ) -> Iterator[tuple[dict, SourceRef, Mapping[tuple, int]] | Diagnostic]:
    """Objects of every root module (directory -> its ``.tf`` files), read from ``files``."""
    counter = [0]
    roots = {d: Module(d, sorted(fs), "", _root_variables(d, inputs, [], files), [], counter,
                       files=files)
             for d, fs in modules.items()}
    called = {os.path.normpath(os.path.join(d, src)) for d, m in roots.items()
              for src in m.local_sources()}
    for directory in sorted(roots):
        if os.path.normpath(directory) in called:
            continue  # a child module of another directory given: read through its caller
        diags: list[Diagnostic] = []
        variables = _root_variables(directory, inputs, diags, files)
        module = Module(directory, sorted(modules[directory]), "", variables, diags, counter,
                        files=files)
        yield from module.objects()
        yield from diags


class Module:
    """One module instance: its blocks, its variables' values and its resources."""

    def __init__(self, directory: str, tf_files: list[str], prefix: str,
                 variables: Mapping[str, Any], diags: list[Diagnostic], counter: list[int],
                 depth: int = 0, files: Files = DISK):
        self.directory, self.prefix, self.diags, self.counter = directory, prefix, diags, counter
        self.depth, self.files = depth, files
        self.given = dict(variables)
        self.blocks: list[_Block] = []
        for path in tf_files:
            self.blocks += _parse(path, diags, files)
        self.variables = {b.labels[0]: b for b in self.blocks if b.type == "variable" and b.labels}
        self.locals: dict[str, tuple[Tree, _File]] = {}
        for b in self.blocks:
            if b.type == "locals":
                for attr in _attributes(b.body):
                    self.locals[attr[0]] = (attr[1], b.file)
        self.resources = {(b.labels[0], b.labels[1]): b for b in self.blocks
                          if b.type == "resource" and len(b.labels) == 2}
        self.calls = {b.labels[0]: b for b in self.blocks if b.type == "module" and b.labels}
        self.outputs = {b.labels[0]: b for b in self.blocks if b.type == "output" and b.labels}
        self._cache: dict[Any, Any] = {}
        self._busy: set[Any] = set()
        self._children: dict[str, Module | None] = {}

    def local_sources(self) -> list[str]:
        """The ``source`` of each module call written as a literal local path."""
        out = []
        for block in self.calls.values():
            for name, expr, _ in _attributes(block.body):
                if name == "source":
                    v = Evaluator(block.file.path, block.file.text, _NoScope()).eval(expr)
                    if isinstance(v, str) and v.startswith(("./", "../")):
                        out.append(v)
        return out

    # --- what the module yields ---------------------------------------------------------------

    def objects(self) -> Iterator[tuple[dict, SourceRef, Mapping[tuple, int]]]:
        for (rtype, name), block in self.resources.items():
            if not is_kubernetes(rtype):
                continue
            address = f"{self.prefix}{rtype}.{name}"
            instances = self._instances(block, address)
            if instances is None:
                continue
            for key, bound in instances:
                inst = address + _key_suffix(key)
                built = self._object(block, inst, bound)
                if built is not None:
                    yield built
        for name in self.calls:
            child = self._child(name)
            if child is not None:
                yield from child.objects()

    def _object(self, block: _Block, address: str, bound: dict
                ) -> tuple[dict, SourceRef, Mapping[tuple, int]] | None:
        rtype = block.labels[0]
        lines: dict[tuple, int] = {(): block.line}
        ev = Evaluator(block.file.path, block.file.text, self, bound)
        values = self._body(block.body, ev, (), lines, address)
        self.counter[0] += 1
        source = SourceRef(block.file.path, block.line, self.counter[0], origin=address)
        obj, origins = to_object(rtype, values)
        if obj is None:
            self.diags.append(diagnostic("KR712", source, address=address,
                                         detail="no manifest" if rtype == "kubernetes_manifest"
                                         else "nothing to read"))
            return None
        unknowns = list(_unknowns_in(obj, (), origins.paths))
        if unknowns:
            drops, skip = _decide(obj.get("kind"), rtype, [p for p, _ in unknowns])
            drops = _escalate(values, drops)
            for (tf_path, u), skipped in zip(unknowns, skip):
                if any(skip) and not skipped:
                    continue  # the resource is skipped: only its causes are worth reporting
                outcome = "resource skipped" if skipped else \
                    f"analysed without {_dotted(drops[tf_path])}"
                self.diags.append(diagnostic("KR711", SourceRef(u.file, u.line, origin=address),
                                             address=address, expr=u.expr, why=u.why,
                                             outcome=outcome))
            if any(skip):
                return None
            values, lines = _rebuild(values, lines, set(drops.values()))
            obj, origins = to_object(rtype, values)
            if obj is None or first_unknown(obj) is not None:
                return None
        field_lines = {k8s: _line_at(lines, tf) for k8s, tf in origins.paths.items()}
        field_lines[()] = block.line
        return obj, source, field_lines

    # --- bodies, blocks, dynamic blocks ------------------------------------------------------

    def _body(self, body: Tree, ev: Evaluator, path: tuple, lines: dict, address: str) -> dict:
        out: dict[str, Any] = {}
        for child in kids(body):
            if child.data == "attribute":
                name = _name(child)
                if name in _META_ATTRS and not path:
                    continue
                out[name] = ev.eval(kids(child)[1])
                lines[(*path, name)] = child.meta.line
            elif child.data == "block":
                btype, labels = _block_head(child, ev)
                if btype in _META_BLOCKS:
                    continue
                if btype == "dynamic" and labels:
                    self._dynamic(child, labels[0], ev, path, lines, out, address)
                    continue
                items = out.setdefault(btype, [])
                lines[(*path, btype, len(items))] = child.meta.line
                items.append(self._body(_block_body(child), ev, (*path, btype, len(items)),
                                        lines, address))
        return out

    def _dynamic(self, node: Tree, name: str, ev: Evaluator, path: tuple, lines: dict,
                 out: dict, address: str) -> None:
        body = _block_body(node)
        attrs = dict((n, e) for n, e, _ in _attributes(body))
        iterator = name
        if "iterator" in attrs:
            it = kids(attrs["iterator"])
            iterator = it[0].children[0].value if it and it[0].data == "identifier" else name
        collection = ev.eval(attrs["for_each"]) if "for_each" in attrs else None
        content = next((c for c in kids(body) if c.data == "block" and _name(c) == "content"), None)
        items = out.setdefault(name, [])
        if isinstance(collection, Unknown) or content is None:
            u = collection if isinstance(collection, Unknown) else \
                ev.unknown(node, "a dynamic block without content")
            self.diags.append(diagnostic("KR711", SourceRef(u.file, u.line, origin=address),
                                         address=address, expr=u.expr, why=u.why,
                                         outcome=f"analysed without these {name} blocks"))
            return
        for key, value in _each(collection):
            inner = ev.with_bound(**{iterator: {"key": key, "value": value}})
            lines[(*path, name, len(items))] = content.meta.line
            items.append(self._body(_block_body(content), inner, (*path, name, len(items)),
                                    lines, address))

    # --- count and for_each --------------------------------------------------------------------

    def _instances(self, block: _Block, address: str) -> list[tuple[Any, dict]] | None:
        """(instance key, names bound in it) of a resource; None (reported) when unknown."""
        attrs = {n: (e, line) for n, e, line in _attributes(block.body)}
        ev = Evaluator(block.file.path, block.file.text, self)
        if "count" in attrs:
            n = ev.eval(attrs["count"][0])
            if isinstance(n, bool) or not isinstance(n, (int, float)):
                self._unresolved(block, address, attrs["count"][0], ev, n, "count")
                return None
            return [(i, {"count": {"index": i}}) for i in range(int(n))]
        if "for_each" in attrs:
            coll = ev.eval(attrs["for_each"][0])
            if first_unknown(coll) is not None or not isinstance(coll, (dict, list)):
                self._unresolved(block, address, attrs["for_each"][0], ev, coll, "for_each")
                return None
            return [(k, {"each": {"key": k, "value": v}}) for k, v in _each(coll)]
        return [(None, {})]

    def _unresolved(self, block: _Block, address: str, node: Tree, ev: Evaluator, got: Any,
                    what: str) -> None:
        u = first_unknown(got) or ev.unknown(node, f"{what} is a {type(got).__name__}")
        self.diags.append(diagnostic("KR711", SourceRef(u.file, u.line, origin=address),
                                     address=address, expr=u.expr, why=u.why,
                                     outcome=f"resource skipped (its {what} decides its instances)"))

    # --- the scope: names an expression can use ------------------------------------------------

    def lookup(self, root: str, steps: list, node: Tree, ev: Evaluator) -> Any:
        value = self._lookup(root, steps, node, ev)
        if isinstance(value, Unknown) and (value.file, value.line) != (ev.file, node.meta.line):
            # name the reference here, and the cause where it is
            return Unknown(ev.source(node), ev.file, node.meta.line,
                           f"it depends on {value.expr} at {value.file}:{value.line}: {value.why}")
        return value

    def _lookup(self, root: str, steps: list, node: Tree, ev: Evaluator) -> Any:
        if root == "var" and steps and isinstance(steps[0], str):
            return apply_steps(self._variable(steps[0], node, ev), steps[1:], ev, node)
        if root == "local" and steps and isinstance(steps[0], str):
            return apply_steps(self._local(steps[0], node, ev), steps[1:], ev, node)
        if root == "path" and steps and steps[0] in ("module", "root", "cwd"):
            return self.directory
        if root == "terraform" and steps and steps[0] == "workspace":
            return "default"
        if root == "data":
            return ev.unknown(node, "data sources are read from the cluster at plan time")
        if root == "module" and len(steps) >= 2 and isinstance(steps[0], str):
            return apply_steps(self._output(steps[0], steps[1], node, ev), steps[2:], ev, node)
        if root in ("count", "each", "self"):
            return ev.unknown(node, f"{root} is not available here")
        if steps and isinstance(steps[0], str) and (root, steps[0]) in self.resources:
            return apply_steps(self._resource_value(root, steps[0], node, ev), steps[1:], ev, node)
        if "_" in root and steps and isinstance(steps[0], str):
            return ev.unknown(node, f"no resource {root}.{steps[0]} in {self.directory}")
        return NOT_MINE

    def _variable(self, name: str, node: Tree, ev: Evaluator) -> Any:
        if name in self.given:
            return self.given[name]
        block = self.variables.get(name)
        if block is None:
            return ev.unknown(node, f"no variable {name!r} is declared")
        default = next((e for n, e, _ in _attributes(block.body) if n == "default"), None)
        if default is None:
            return ev.unknown(node, "the variable has no default and no value was given "
                                    "(-var / --var-file)")
        return self._memo(("var", name), lambda: Evaluator(block.file.path, block.file.text,
                                                           self).eval(default), node, ev)

    def _local(self, name: str, node: Tree, ev: Evaluator) -> Any:
        if name not in self.locals:
            return ev.unknown(node, f"no local value {name!r}")
        expr, file = self.locals[name]
        return self._memo(("local", name), lambda: Evaluator(file.path, file.text, self).eval(expr),
                          node, ev)

    def _resource_value(self, rtype: str, name: str, node: Tree, ev: Evaluator) -> Any:
        block = self.resources[(rtype, name)]

        def build() -> Any:
            address = f"{self.prefix}{rtype}.{name}"
            instances = self._quiet_instances(block)
            if isinstance(instances, Unknown):
                return instances
            values = {}
            for key, bound in instances:
                e = Evaluator(block.file.path, block.file.text, self, bound)
                values[key] = self._body(block.body, e, (), {}, address)
            if list(values) == [None]:
                return values[None]
            if all(isinstance(k, int) for k in values):
                return [values[k] for k in sorted(values)]
            return values

        return self._memo(("resource", rtype, name), build, node, ev)

    def _quiet_instances(self, block: _Block) -> list[tuple[Any, dict]] | Unknown:
        attrs = {n: e for n, e, _ in _attributes(block.body)}
        ev = Evaluator(block.file.path, block.file.text, self)
        if "count" in attrs:
            n = ev.eval(attrs["count"])
            if isinstance(n, (int, float)) and not isinstance(n, bool):
                return [(i, {"count": {"index": i}}) for i in range(int(n))]
            return first_unknown(n) or ev.unknown(attrs["count"], "count is not a number")
        if "for_each" in attrs:
            coll = ev.eval(attrs["for_each"])
            if first_unknown(coll) is None and isinstance(coll, (dict, list)):
                return [(k, {"each": {"key": k, "value": v}}) for k, v in _each(coll)]
            return first_unknown(coll) or ev.unknown(attrs["for_each"], "for_each is not a collection")
        return [(None, {})]

    def _memo(self, key: Any, build: Any, node: Tree, ev: Evaluator) -> Any:
        if key in self._cache:
            return self._cache[key]
        if key in self._busy:
            return ev.unknown(node, "the value refers to itself")
        self._busy.add(key)
        try:
            value = build()
        finally:
            self._busy.discard(key)
        self._cache[key] = value
        return value

    # --- child modules -------------------------------------------------------------------------

    def _child(self, name: str) -> "Module | None":
        if name in self._children:
            return self._children[name]
        self._children[name] = None
        block = self.calls[name]
        attrs = {n: e for n, e, _ in _attributes(block.body)}
        ev = Evaluator(block.file.path, block.file.text, self)
        source = ev.eval(attrs["source"]) if "source" in attrs else None
        address = f"{self.prefix}module.{name}"
        if not isinstance(source, str) or not source.startswith(("./", "../")):
            self.diags.append(diagnostic("KR714", SourceRef(block.file.path, block.line,
                                                            origin=address),
                                         name=address, detail=repr(source) if not
                                         isinstance(source, Unknown) else source.expr))
            return None
        if "count" in attrs or "for_each" in attrs or self.depth > 20:
            self.diags.append(diagnostic("KR712", SourceRef(block.file.path, block.line,
                                                            origin=address),
                                         address=address, detail="count and for_each on modules "
                                                                 "are not read"))
            return None
        directory = os.path.normpath(os.path.join(self.directory, source))
        tf_files = [os.path.join(directory, f) for f in self.files.listdir(directory)
                    if f.endswith(".tf")]
        if not tf_files:
            self.diags.append(diagnostic("KR714", SourceRef(block.file.path, block.line,
                                                            origin=address),
                                         name=address, detail=f"{source!r} (no .tf files there)"))
            return None
        given = {n: ev.eval(e) for n, e in attrs.items() if n not in _MODULE_ARGS}
        child = Module(directory, tf_files, address + ".", given, self.diags, self.counter,
                       self.depth + 1, self.files)
        self._children[name] = child
        return child

    def _output(self, module: str, name: str, node: Tree, ev: Evaluator) -> Any:
        if module not in self.calls:
            return ev.unknown(node, f"no module {module!r}")
        child = self._child(module)
        if child is None or name not in child.outputs:
            return ev.unknown(node, f"module {module} has no output {name!r} kreach can read")
        block = child.outputs[name]
        value = next((e for n, e, _ in _attributes(block.body) if n == "value"), None)
        if value is None:
            return ev.unknown(node, "the output has no value")
        return child._memo(("output", name), lambda: Evaluator(block.file.path, block.file.text,
                                                               child).eval(value), node, ev)


# --- variables given on the command line -------------------------------------------------------

def _root_variables(directory: str, inputs: InputOptions, diags: list[Diagnostic],
                    files: Files = DISK) -> dict[str, Any]:
    """Terraform's precedence: terraform.tfvars, *.auto.tfvars (by name), then --var-file and
    --var in the order given (later wins)."""
    values: dict[str, Any] = {}
    auto = [os.path.join(directory, "terraform.tfvars"), os.path.join(directory, "terraform.tfvars.json")]
    auto += [os.path.join(directory, f) for f in files.listdir(directory)
             if f.endswith((".auto.tfvars", ".auto.tfvars.json"))]
    for path in auto:
        if files.isfile(path):
            values.update(_tfvars(path, diags, files))
    for path in inputs.tf_var_files:
        values.update(_tfvars(path, diags))
    for item in inputs.tf_vars:
        name, sep, raw = item.partition("=")
        if not sep or not name.strip():
            diags.append(diagnostic("KR713", None, detail=f"--var {item!r}: expected NAME=VALUE"))
            continue
        values[name.strip()] = _var_value(raw)
    return values


def _var_value(raw: str) -> Any:
    """A ``-var`` value: an HCL expression when it reads as a list, map, number or bool
    (Terraform converts by the variable's type), otherwise the string itself."""
    text = raw.strip()
    if text[:1] in ("[", "{") or text in ("true", "false") or _is_number(text):
        parsed = _parse_expression(text)
        if parsed is not _FAILED and first_unknown(parsed) is None:
            return parsed
    return raw


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


_FAILED = object()


def _parse_expression(text: str) -> Any:
    try:
        import hcl2

        tree = hcl2.parses_to_tree(f"v = {text}\n")
        attr = next(c for c in kids(kids(tree)[0]) if c.data == "attribute")
        return Evaluator("<-var>", text, _NoScope()).eval(kids(attr)[1])
    except Exception:
        return _FAILED


class _NoScope:
    def lookup(self, root: str, steps: list, node: Tree, ev: Evaluator) -> Any:
        return NOT_MINE


def _tfvars(path: str, diags: list[Diagnostic], files: Files = DISK) -> dict[str, Any]:
    try:
        text = files.read(path)
    except (OSError, UnicodeDecodeError) as e:
        diags.append(diagnostic("KR713", SourceRef(path), detail=f"cannot read {path}: {e}"))
        return {}
    path = files.label(path)
    if path.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as e:
            diags.append(diagnostic("KR713", SourceRef(path, e.lineno), detail=f"JSON syntax error: {e.msg}"))
            return {}
        return data if isinstance(data, dict) else {}
    file = _File(path, text, None)
    tree = _parse_tree(file, diags)
    if tree is None:
        return {}
    ev = Evaluator(path, text, _NoScope())
    out = {}
    for name, expr, line in _attributes(kids(tree)[0]):
        value = ev.eval(expr)
        if first_unknown(value) is not None:
            u = first_unknown(value)
            diags.append(diagnostic("KR713", SourceRef(path, line),
                                    detail=f"{name}: cannot evaluate {u.expr} ({u.why})"))
            continue
        out[name] = value
    return out


# --- parsing ---------------------------------------------------------------------------------

def _parse(path: str, diags: list[Diagnostic], files: Files = DISK) -> list[_Block]:
    shown = files.label(path)
    try:
        text = files.read(path).replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError) as e:
        diags.append(diagnostic("KR002", SourceRef(shown), detail=str(e)))
        return []
    file = _File(shown, text, None)
    tree = _parse_tree(file, diags)
    if tree is None:
        return []
    file.tree = tree
    blocks = []
    ev = Evaluator(shown, text, _NoScope())
    for child in kids(kids(tree)[0]):
        if child.data == "block":
            btype, labels = _block_head(child, ev)
            blocks.append(_Block(btype, labels, _block_body(child), file, child.meta.line))
    return blocks


def _parse_tree(file: _File, diags: list[Diagnostic]) -> Tree | None:
    import hcl2
    from lark.exceptions import LarkError, UnexpectedInput

    try:
        return hcl2.parses_to_tree(file.text)
    except UnexpectedInput as e:
        detail = _syntax_detail(e)
        diags.append(diagnostic("KR710", SourceRef(file.path, getattr(e, "line", 0) or 0),
                                detail=detail))
    except (LarkError, Exception) as e:  # the parser's own errors are all reported, never raised
        diags.append(diagnostic("KR710", SourceRef(file.path), detail=str(e).splitlines()[0]
                                if str(e) else type(e).__name__))
    return None


def _syntax_detail(e: Any) -> str:
    token = getattr(e, "token", None)
    if token is not None and str(token).startswith("\n"):
        return "unexpected end of line"
    if token is not None and str(token):
        return f"unexpected {str(token).splitlines()[0][:40]!r}"
    char = getattr(e, "char", None)
    if char:
        return f"unexpected character {char!r}"
    return "unexpected end of file" if type(e).__name__ == "UnexpectedEOF" else type(e).__name__


def _name(node: Tree) -> str:
    first = node.children[0]
    if isinstance(first, Tree):
        tok = first.children[0]
        return tok.value if hasattr(tok, "value") else str(tok)
    return str(first)


def _block_head(node: Tree, ev: Evaluator) -> tuple[str, list[str]]:
    heads = [c for c in kids(node) if c.data != "body"]
    names: list[str] = []
    for h in heads:
        if h.data == "string":
            v = ev.eval(h)
            names.append(v if isinstance(v, str) else "?")
        else:
            names.append(_name(h) if h.data != "identifier" else h.children[0].value)
    return (names[0] if names else "?"), names[1:]


def _block_body(node: Tree) -> Tree:
    return next(c for c in kids(node) if c.data == "body")


def _attributes(body: Tree) -> list[tuple[str, Tree, int]]:
    return [(_name(c), kids(c)[1], c.meta.line) for c in kids(body) if c.data == "attribute"]


def _each(collection: Any) -> list[tuple[Any, Any]]:
    """for_each pairs: a map's keys and values, a set's elements as both."""
    if isinstance(collection, dict):
        return sorted(collection.items(), key=lambda kv: str(kv[0]))
    return [(v, v) for v in sorted({json.dumps(v, sort_keys=True): v for v in collection}.values(),
                                   key=lambda v: str(v))]


def _key_suffix(key: Any) -> str:
    if key is None:
        return ""
    return f"[{key}]" if isinstance(key, int) else f"[{json.dumps(str(key))}]"


# --- unknowns: where they are and what to leave out --------------------------------------------

def _unknowns_in(value: Any, k8s: tuple, origins: Mapping[tuple, tuple]) -> Iterator[tuple[tuple, Unknown]]:
    """(attribute path, Unknown) of every unknown in a built object."""
    if isinstance(value, Unknown):
        yield _tf_path(k8s, origins), value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _unknowns_in(v, (*k8s, k), origins)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _unknowns_in(v, (*k8s, i), origins)


def _tf_path(k8s: tuple, origins: Mapping[tuple, tuple]) -> tuple:
    for n in range(len(k8s), -1, -1):
        if k8s[:n] in origins:
            return (*origins[k8s[:n]], *k8s[n:])
    return k8s


def _decide(kind: Any, rtype: str, paths: list[tuple]) -> tuple[dict[tuple, tuple], list[bool]]:
    """For each unknown's attribute path: skip the resource, or drop which part of it."""
    base = ("manifest",) if rtype == "kubernetes_manifest" else ()
    drops: dict[tuple, tuple] = {}
    skip: list[bool] = []
    for p in paths:
        rel = p[len(base):]
        head = [x for x in rel if not isinstance(x, int)]
        if head[:2] in (["metadata", "name"], ["metadata", "namespace"]) or \
                (base and head[:1] in (["kind"], ["apiVersion"])) or not rel:
            skip.append(True)
            continue
        if kind == "NetworkPolicy":
            spec = _policy_part(rel, bool(base))
            if spec is None:
                skip.append(True)
                continue
            drops[p] = (*base, *spec)
        else:
            drops[p] = p
        skip.append(False)
    return drops, skip


def _policy_part(rel: tuple, manifest: bool) -> tuple | None:
    """The part of a policy to leave out for an unknown at ``rel``: a peer or a port, else the
    rule; None when the unknown is in what the policy selects or its types."""
    if manifest:  # Kubernetes field names: spec.ingress[i].from[j]
        if len(rel) < 2 or rel[1] not in ("ingress", "egress"):
            return None if rel[:1] == ("spec",) else rel
        if len(rel) >= 5 and rel[3] in ("from", "to", "ports"):
            return rel[:5]
        return rel[:3] if len(rel) >= 3 else None
    # the provider's schema: spec[0].ingress[i].from[j]
    if len(rel) < 3 or rel[2] not in ("ingress", "egress"):
        return None if rel[:1] == ("spec",) else rel
    if len(rel) >= 6 and rel[4] in ("from", "to", "ports"):
        return rel[:6]
    return rel[:4] if len(rel) >= 4 else None


def _escalate(values: Any, drops: dict[tuple, tuple]) -> dict[tuple, tuple]:
    """A policy rule left with no peers (or no ports) where it had some is dropped whole, so
    that it never widens to every peer (or every port)."""
    parts = set(drops.values())
    whole = set()
    for rule in {d[:-2] for d in parts if len(d) >= 2 and d[-2] in ("from", "to", "ports")}:
        for key in ("from", "to", "ports"):
            items = _get(values, (*rule, key))
            if isinstance(items, list) and items and \
                    all((*rule, key, i) in parts for i in range(len(items))):
                whole.add(rule)
    return {u: next((r for r in whole if d[:len(r)] == r), d) for u, d in drops.items()}


def _rebuild(values: Any, lines: dict, drops: set[tuple]) -> tuple[Any, dict]:
    """``values`` without the parts at ``drops``, and the lines of what is left."""
    new_lines: dict[tuple, int] = {}

    def walk(v: Any, old: tuple, new: tuple) -> Any:
        if old in drops:
            return _DROP
        if old in lines:
            new_lines[new] = lines[old]
        if isinstance(v, dict):
            out = {}
            for k, x in v.items():
                r = walk(x, (*old, k), (*new, k))
                if r is not _DROP:
                    out[k] = r
            return out
        if isinstance(v, list):
            out_l = []
            for i, x in enumerate(v):
                r = walk(x, (*old, i), (*new, len(out_l)))
                if r is not _DROP:
                    out_l.append(r)
            return out_l
        return v

    return walk(values, (), ()), new_lines


_DROP = object()


def _get(value: Any, path: tuple) -> Any:
    for k in path:
        if isinstance(value, dict) and k in value:
            value = value[k]
        elif isinstance(value, list) and isinstance(k, int) and 0 <= k < len(value):
            value = value[k]
        else:
            return None
    return value


def _line_at(lines: Mapping[tuple, int], path: tuple) -> int:
    for n in range(len(path), -1, -1):
        if path[:n] in lines:
            return lines[path[:n]]
    return lines.get((), 0)


def _dotted(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out
