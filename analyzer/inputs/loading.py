"""Reading manifests: files, directories and stdin into located :class:`Manifest` records.

Only safe loading is used (libyaml's C loader when available). Each YAML document is parsed on its
own, so one broken document costs only itself. Nothing here interprets Kubernetes semantics: it
only finds objects, remembers where they came from, and turns anything unreadable into a
diagnostic.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, Sequence

import yaml

from ..diagnostics import Diagnostic
from ..messages import diagnostic
from ..source import STDIN, SourceRef
from .options import InputOptions

try:  # the C loader is ~10x faster; fall back to the pure-Python safe loader
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeLoader

_SCALAR_TAGS: dict[tuple[str, tuple[bool, bool]], str] = {}


class _Loader(_Base):  # type: ignore[misc, valid-type]
    """The safe loader with tag resolution memoised. The C parser calls back into Python to
    resolve the tag of every scalar; with no path resolvers (the safe loader has none) the tag
    depends only on the scalar's text and quoting, and manifests repeat the same few thousand
    scalars, so a memo removes about a third of the parse time."""

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode:
            key = (value, implicit)
            tag = _SCALAR_TAGS.get(key)
            if tag is None:
                if len(_SCALAR_TAGS) > 200_000:  # bound the memo on huge, varied inputs
                    _SCALAR_TAGS.clear()
                tag = _SCALAR_TAGS[key] = super().resolve(kind, value, implicit)
            return tag
        return super().resolve(kind, value, implicit)

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
TERRAFORM_SUFFIX = ".tf"
# kreach's own files and tool configs that live beside manifests: skipped when a directory is
# walked (still read when named explicitly)
CONFIG_FILES = frozenset({"kreach.yaml", "kreach.yml", ".pre-commit-config.yaml",
                          ".pre-commit-hooks.yaml"})
_DOC_START = re.compile(r"^---(?=[ \t]|$)", re.MULTILINE)
_DOC_END = re.compile(r"^\.\.\.[ \t]*$", re.MULTILINE)

MODELLED_KINDS = frozenset({
    "Namespace", "Pod", "Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job",
    "CronJob", "ReplicationController", "Service", "NetworkPolicy",
    "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy", "Node",
})


_T = "tag:yaml.org,2002:"
_STR, _INT, _BOOL, _NULL, _MAP, _SEQ, _FLOAT, _TIMESTAMP = (
    _T + t for t in ("str", "int", "bool", "null", "map", "seq", "float", "timestamp"))
_SAFE = yaml.constructor.SafeConstructor()


def construct(node: Any) -> Any:
    """Python data from a composed YAML node, as ``yaml.safe_load`` would build it, but faster
    (no generic constructor dispatch), and with timestamps kept as strings, as Kubernetes reads
    them. Merge keys and recursive aliases take the safe constructor's path."""
    if node is None:
        return None
    try:
        return _build(node, {})
    except (_Fallback, RecursionError):
        return _SAFE.construct_document(node)


class _Fallback(Exception):
    pass


class DuplicateKey(Exception):
    """A mapping names the same key twice. YAML forbids it; the usual cause is two documents
    written one after the other without ``---``, which would silently merge two objects."""

    def __init__(self, key: Any, line: int):
        super().__init__(key, line)
        self.key, self.line = key, line


def _build(node: Any, memo: dict[int, Any]) -> Any:
    tag = node.tag
    if tag == _STR:
        return node.value
    if tag == _MAP or tag == _SEQ:
        hit = memo.get(id(node))
        if hit is not None:
            return hit
        if tag == _SEQ:
            out: Any = [_build(x, memo) for x in node.value]
        else:
            out = {}
            for k, v in node.value:
                if k.tag not in (_STR, _INT, _BOOL, _NULL, _FLOAT, _TIMESTAMP):
                    raise _Fallback  # merge keys (<<) and complex keys
                key = _build(k, memo)
                if key in out:
                    raise DuplicateKey(key, k.start_mark.line)
                out[key] = _build(v, memo)
        memo[id(node)] = out
        return out
    if tag == _INT:
        v = node.value
        return int(v) if v.isdigit() else _SAFE.construct_yaml_int(node)
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return node.value.lower() in ("yes", "true", "on")
    if tag == _TIMESTAMP:
        return node.value
    if tag == _FLOAT:
        return _SAFE.construct_yaml_float(node)
    return _SAFE.construct_object(node, deep=True)


@dataclass(frozen=True, slots=True)
class Manifest:
    """One Kubernetes object as written in the input. ``body`` is the parsed document and is
    never mutated after loading."""

    api_version: str
    kind: str
    name: str
    namespace: str | None
    body: Mapping[str, Any]
    source: SourceRef

    @property
    def display(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


@dataclass(frozen=True, slots=True)
class Chunk:
    """One YAML document's text and the 1-based line where it starts in its file."""

    text: str
    first_line: int
    index: int


@dataclass
class Locator:
    """Maps (source, field path) to a line number, re-reading the input only when asked.

    Lines of individual fields are needed only for diagnostics, so they are not computed while
    loading; the file is re-parsed on demand and the node trees cached here.
    """

    _nodes: dict[tuple[str, int], Any] = field(default_factory=dict)
    _chunks: dict[str, list[Chunk]] = field(default_factory=dict)
    # objects that were not written as YAML (Terraform, HCL): field path -> line, given by
    # their reader
    _pinned: dict[tuple[str, int], Mapping[tuple, int]] = field(default_factory=dict)

    def remember(self, file: str, chunks: list[Chunk]) -> None:
        self._chunks[file] = chunks

    def keep(self, file: str, doc: int, node: Any) -> None:
        self._nodes[(file, doc)] = node

    def pin(self, source: SourceRef, lines: Mapping[tuple, int]) -> None:
        """Lines of an object another reader built: its field paths -> lines."""
        self._pinned[(source.file, source.doc)] = lines

    def line(self, source: SourceRef, path: Sequence[str | int] = ()) -> int:
        """Line of the node at ``path`` inside the document of ``source`` (or the closest
        ancestor that exists); falls back to ``source.line``."""
        pinned = self._pinned.get((source.file, source.doc))
        if pinned is not None:
            full = (*source.path, *path)
            for n in range(len(full), -1, -1):
                if full[:n] in pinned:
                    return pinned[full[:n]]
            return source.line
        try:
            node = self._document_node(source)
        except Exception:  # re-parsing may fail for reasons already reported at load time
            return source.line
        if node is None:
            return source.line
        chunk_line = self._chunk_first_line(source)
        best = node.start_mark.line
        for key in (*source.path, *path):
            found = _child(node, key)
            if found is None:
                break
            node, best = found
        return best + chunk_line

    def _chunk(self, file: str, doc: int) -> Chunk | None:
        chunks = self._chunks.get(file) or []
        # chunk i has index i (split_documents numbers them in order)
        return chunks[doc] if 0 <= doc < len(chunks) and chunks[doc].index == doc else None

    def _chunk_first_line(self, source: SourceRef) -> int:
        chunk = self._chunk(source.file, source.doc)
        return chunk.first_line if chunk else 1

    def _document_node(self, source: SourceRef) -> Any:
        key = (source.file, source.doc)
        if key not in self._nodes:
            chunk = self._chunk(source.file, source.doc)
            self._nodes[key] = None if chunk is None else yaml.compose(chunk.text, Loader=_Loader)
        return self._nodes[key]


def _child(node: Any, key: str | int) -> tuple[Any, int] | None:
    """The child node at ``key`` and the 0-based line that names it (the key's line for a
    mapping entry, the item's line for a sequence entry)."""
    if isinstance(node, yaml.MappingNode) and isinstance(key, str):
        for k, v in node.value:
            if getattr(k, "value", None) == key:
                return v, k.start_mark.line
    if isinstance(node, yaml.SequenceNode) and isinstance(key, int) and 0 <= key < len(node.value):
        item = node.value[key]
        return item, item.start_mark.line
    return None


@dataclass(frozen=True)
class LoadResult:
    manifests: tuple[Manifest, ...]
    diagnostics: tuple[Diagnostic, ...]
    locator: Locator
    files_read: int


# Directories a walk never enters: version control, virtualenvs, dependency and cache folders
# hold no manifests of the project, and reading them costs minutes and thousands of diagnostics.
# Hidden directories (``.git``, ``.venv``, ``.terraform``, ...) are skipped too. A path named on
# the command line is always read.
SKIPPED_DIRS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})


def _is_skipped_dir(root: str, name: str) -> bool:
    return (name.startswith(".") or name in SKIPPED_DIRS
            or os.path.isfile(os.path.join(root, name, "pyvenv.cfg")))  # any virtualenv


def _excluded(rel: str, exclude: Sequence[str]) -> bool:
    """``rel`` (relative to the walked directory, ``/``-separated) matches a glob of
    ``exclude``: the whole relative path, any leading part of it, or its last component."""
    parts = rel.split("/")
    candidates = {rel, parts[-1], *("/".join(parts[:i]) for i in range(1, len(parts)))}
    return any(fnmatch.fnmatchcase(c, g.rstrip("/")) for g in exclude for c in candidates)


def discover(paths: Iterable[str], exclude: Sequence[str] = ()) -> tuple[list[str], list[Diagnostic]]:
    """Expand directories recursively (manifest suffixes only, sorted); keep files as given.

    A walk skips hidden and dependency directories (:data:`SKIPPED_DIRS`, virtualenvs) and
    whatever matches an ``exclude`` glob, and says so once (KR050)."""
    files: list[str] = []
    diags: list[Diagnostic] = []
    skipped: list[str] = []
    for p in paths:
        if p == "-":
            files.append(STDIN)
        elif os.path.isdir(p):
            found = []
            for root, dirs, names in os.walk(p):
                dirs.sort()
                if is_render_unit(names):  # a chart or kustomization: read as one, rendered
                    found.append(root)
                    dirs[:] = []
                    continue
                keep = []
                for d in dirs:
                    rel = os.path.relpath(os.path.join(root, d), p).replace(os.sep, "/")
                    if _is_skipped_dir(root, d) or (exclude and _excluded(rel, exclude)):
                        skipped.append(os.path.join(root, d))
                    else:
                        keep.append(d)
                dirs[:] = keep
                for n in sorted(names):
                    rel = os.path.relpath(os.path.join(root, n), p).replace(os.sep, "/")
                    if _is_input_name(n) and not (exclude and _excluded(rel, exclude)):
                        found.append(os.path.join(root, n))
            if not found:
                diags.append(diagnostic("KR005", SourceRef(p), detail=f"directory {p}"))
            files += found
        elif os.path.exists(p):
            files.append(p)
        else:
            diags.append(diagnostic("KR007", SourceRef(p), detail=p))
    if skipped:
        shown = ", ".join(skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
        diags.append(diagnostic("KR050", None, count=len(skipped),
                                ies="y" if len(skipped) == 1 else "ies", detail=shown))
    return files, diags


def _is_input_name(name: str) -> bool:
    low = name.lower()
    return (low.endswith(MANIFEST_SUFFIXES) and name not in CONFIG_FILES
            and not low.endswith(".tfvars.json")) or low.endswith(TERRAFORM_SUFFIX)


def is_render_unit(names: Iterable[str]) -> bool:
    """A directory holding a Helm chart or a kustomization (rendered, not read file by file)."""
    from .render import is_unit

    return is_unit(names)


def split_documents(text: str) -> list[Chunk]:
    """Split a YAML stream at ``---`` lines, keeping each document's first line number."""
    chunks: list[Chunk] = []
    starts = [0] + [m.start() for m in _DOC_START.finditer(text)]
    index = 0
    line, counted = 1, 0  # line number at offset `counted`; advanced as we go (linear)
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        piece = text[start:end]
        if i == 0 and len(starts) > 1 and _only_directives(piece):
            continue  # text before the first '---': nothing, comments or %YAML/%TAG directives
        end_marker = _DOC_END.search(piece)
        if end_marker:
            piece = piece[: end_marker.start()]
        line += text.count("\n", counted, start)
        counted = start
        chunks.append(Chunk(piece, line, index))
        index += 1
    return chunks


def load_paths(paths: Sequence[str], stdin_text: str | None = None,
               inputs: InputOptions | None = None, exclude: Sequence[str] = ()) -> LoadResult:
    """Read every manifest under ``paths`` (``-`` is stdin, whose text is ``stdin_text``);
    Terraform (``.tf``, plan and state JSON), charts and kustomizations as ``inputs`` says;
    directory walks leave out what matches a glob of ``exclude``."""
    locator = Locator()
    inputs = inputs or InputOptions()
    files, diags = discover(paths, exclude)
    manifests: list[Manifest] = []
    for item in _load_files(files, stdin_text, locator, inputs):
        (manifests if isinstance(item, Manifest) else diags).append(item)
    if files and not manifests and not any(d.code == "KR005" for d in diags):
        where = ", ".join(paths) if paths else "the input"
        diags.append(diagnostic("KR005", SourceRef(paths[0]) if len(paths) == 1 else None,
                                detail=where))
    return LoadResult(tuple(manifests), tuple(diags), locator, len(files))


def _load_files(files: list[str], stdin_text: str | None, locator: Locator,
                inputs: InputOptions) -> Iterator[Manifest | Diagnostic]:
    """Each file by its kind: directories found by discover are charts or kustomizations;
    ``.tf`` files are read together, one Terraform module per directory."""
    modules: dict[str, list[str]] = {}
    for f in files:
        if f != STDIN and f.lower().endswith(TERRAFORM_SUFFIX):
            modules.setdefault(os.path.dirname(f) or ".", []).append(f)
        elif f != STDIN and os.path.isdir(f):
            from .render import read_unit

            yield from _built(read_unit(f, inputs, locator), locator)
        else:
            yield from _load_file(f, stdin_text, locator, inputs)
    if modules:
        from .hcl import read_modules

        yield from _built(read_modules(modules, inputs), locator)


def _built(items: Iterable[Any], locator: Locator) -> Iterator[Manifest | Diagnostic]:
    """Objects another reader built, ``(body, source, lines)``, through the same gate as the
    manifests read here; rendered text ``(name, text)`` through the YAML reader."""
    for item in items:
        if isinstance(item, Diagnostic):
            yield item
        elif len(item) == 2:
            name, text = item
            yield from _load_text(name, text, locator, InputOptions())
        else:
            body, source, lines = item
            if lines:
                locator.pin(source, lines)
            yield from _objects(body, source, locator)


def _read_text(path: str, stdin_text: str | None) -> str:
    if path == STDIN:
        return (stdin_text or "").replace("\r\n", "\n")
    with open(path, "rb") as fh:
        data = fh.read()
    if b"\x00" in data:
        raise ValueError("binary file (contains NUL bytes)")
    return data.decode("utf-8-sig").replace("\r\n", "\n")


def _load_file(path: str, stdin_text: str | None, locator: Locator,
               inputs: InputOptions) -> Iterator[Manifest | Diagnostic]:
    try:
        text = _read_text(path, stdin_text)
    except (OSError, ValueError) as e:  # UnicodeDecodeError is a ValueError
        yield diagnostic("KR002", SourceRef(path), detail=_short(e))
        return
    yield from _load_text(path, text, locator, inputs)


def _load_text(path: str, text: str, locator: Locator,
               inputs: InputOptions) -> Iterator[Manifest | Diagnostic]:
    if not text.strip():
        yield diagnostic("KR006", SourceRef(path))
        return
    if path.lower().endswith(".json") or (path == STDIN and text.lstrip().startswith("{")):
        yield from _load_json(path, text, locator, inputs)
        return
    chunks = split_documents(text)
    locator.remember(path, chunks)
    templated = 0
    for chunk in chunks:
        if not chunk.text.strip() or _only_comments(chunk.text):
            continue
        try:
            node = yaml.compose(chunk.text, Loader=_Loader)
            doc = construct(node)
        except DuplicateKey as e:
            yield diagnostic("KR009", SourceRef(path, chunk.first_line + e.line, chunk.index),
                             key=e.key)
            continue
        except yaml.YAMLError as e:
            if "{{" in chunk.text:  # a Helm template: one hint for the file, not a wall of KR001
                templated += 1
                continue
            line = chunk.first_line + _mark_line(e, chunk.text)
            yield diagnostic("KR001", SourceRef(path, line, chunk.index), detail=_yaml_problem(e))
            continue
        if doc is None:
            continue
        if isinstance(doc, dict) and doc.get("kind") == "NetworkPolicy":
            # reports cite policy rules by line: keep the (small) node tree at hand
            locator.keep(path, chunk.index, node)
        yield from _objects(doc, SourceRef(path, chunk.first_line + _content_offset(chunk.text), chunk.index),
                            locator)
    if templated:
        yield diagnostic("KR723", SourceRef(path, 1), count=templated)


def _load_json(path: str, text: str, locator: Locator,
               inputs: InputOptions) -> Iterator[Manifest | Diagnostic]:
    locator.remember(path, [Chunk(text, 1, 0)])
    try:
        doc = json.loads(text, object_pairs_hook=_unique_pairs)
    except json.JSONDecodeError as e:
        yield diagnostic("KR008", SourceRef(path, e.lineno, 0), detail=e.msg)
        return
    except DuplicateKey as e:
        yield diagnostic("KR009", SourceRef(path, 1, 0), key=e.key)
        return
    from .terraform_json import is_terraform_json, read as read_terraform

    if is_terraform_json(doc):
        yield from _built(read_terraform(path, text, doc, inputs.plan_side), locator)
        return
    yield from _objects(doc, SourceRef(path, 1, 0), locator)


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise DuplicateKey(k, 0)
        out[k] = v
    return out


def _objects(doc: Any, source: SourceRef, locator: Locator,
             implied: tuple[str, str] | None = None) -> Iterator[Manifest | Diagnostic]:
    if not isinstance(doc, dict):
        yield diagnostic("KR003", source, detail=f"a {type(doc).__name__}, not a mapping")
        return
    kind, api = doc.get("kind"), doc.get("apiVersion")
    if implied and kind is None and api is None:
        # items of a typed list (PodList, NamespaceList, ...) may omit their kind and apiVersion
        api, kind = implied
        doc = {**doc, "apiVersion": api, "kind": kind}
    if isinstance(kind, str) and kind.endswith("List") and isinstance(doc.get("items"), list):
        item_kind = kind[: -len("List")]
        implied_items = (str(api), item_kind) if item_kind and isinstance(api, str) else None
        for i, item in enumerate(doc["items"]):
            where = SourceRef(source.file, 0, source.doc, (*source.path, "items", i))
            item_source = SourceRef(source.file, locator.line(where), source.doc, where.path)
            yield from _objects(item, item_source, locator, implied_items)
        return
    if not isinstance(kind, str) or not kind or not isinstance(api, str) or not api:
        missing = " and ".join(k for k, v in (("apiVersion", api), ("kind", kind))
                               if not isinstance(v, str) or not v)
        yield diagnostic("KR003", source, detail=f"no {missing}")
        return
    if kind not in MODELLED_KINDS:
        yield diagnostic("KR004", source, kind=kind)
        return
    meta = doc.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    name = meta.get("name")
    ns = meta.get("namespace")
    yield Manifest(api, kind, name if isinstance(name, str) else "",
                   ns if isinstance(ns, str) and ns else None, doc, source)


def with_namespace(manifests: Sequence[Manifest], namespace: str) -> tuple[Manifest, ...]:
    """Put namespaced objects that name no namespace into ``namespace``, as ``kubectl apply -n``
    does (a Namespace object is cluster-scoped and keeps none)."""
    out = []
    for m in manifests:
        if m.namespace is None and m.kind != "Namespace":
            meta = m.body.get("metadata")
            meta = {**meta, "namespace": namespace} if isinstance(meta, dict) else {"namespace": namespace}
            m = Manifest(m.api_version, m.kind, m.name, namespace, {**m.body, "metadata": meta}, m.source)
        out.append(m)
    return tuple(out)


def _only_directives(text: str) -> bool:
    """Blank lines, comments and directives only. A %TAG directive would matter only for
    custom tags, which safe loading rejects anyway; the default YAML version is the same."""
    return all(not ln.strip() or ln.lstrip().startswith(("#", "%")) for ln in text.splitlines())


def _only_comments(text: str) -> bool:
    return all(not ln.strip() or ln.lstrip().startswith("#") or ln.strip() == "---"
               for ln in text.splitlines())


def _content_offset(text: str) -> int:
    """Lines from the chunk start to its first content line (skipping '---', blanks, comments)."""
    for i, ln in enumerate(text.splitlines()):
        s = ln.strip()
        if s and not s.startswith("#") and s != "---":
            return i
    return 0


def _mark_line(e: yaml.YAMLError, text: str = "") -> int:
    """0-based line of a YAML error; an error found at the end of the text (an unclosed
    bracket, say) is placed where the construct it was reading began."""
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    if mark is None:
        return 0
    context = getattr(e, "context_mark", None)
    if context is not None and text and mark.line >= text.rstrip("\n").count("\n") + 1:
        return context.line
    return mark.line


def _yaml_problem(e: yaml.YAMLError) -> str:
    problem = getattr(e, "problem", None)
    context = getattr(e, "context", None)
    if problem:
        return f"{problem}" + (f" ({context})" if context else "")
    return _short(e)


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
