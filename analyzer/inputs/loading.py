"""Reading manifests: files, directories and stdin into located :class:`Manifest` records.

Only safe loading is used (libyaml's C loader when available). Each YAML document is parsed on its
own, so one broken document costs only itself. Nothing here interprets Kubernetes semantics: it
only finds objects, remembers where they came from, and turns anything unreadable into a
diagnostic.
"""

from __future__ import annotations

import errno
import fnmatch
import json
import os
import re
import stat
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator, Mapping, Sequence

import yaml

from ..diagnostics import Diagnostic
from ..messages import diagnostic
from ..source import STDIN, SourceRef
from .block_yaml import BlockReader, DocumentLines
from .kinds import CLUSTER_SCOPED_KINDS, KindClass, classify, did_you_mean
from .limits import Limits, LimitExceeded
from .options import InputOptions

try:  # the C loader is ~10x faster; fall back to the pure-Python safe loader
    _Base: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Base = yaml.SafeLoader

_SCALAR_TAGS: dict[tuple[str, tuple[bool, bool]], str] = {}
_VALUE_TAG, _STR_TAG = "tag:yaml.org,2002:value", "tag:yaml.org,2002:str"


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
                tag = super().resolve(kind, value, implicit)
                if tag == _VALUE_TAG:
                    # YAML 1.1's "=" value key has no constructor in the safe loader, so a CRD's
                    # `- =` enum entry would be an error; every YAML 1.2 reader and Kubernetes
                    # read it as the string "="
                    tag = _STR_TAG
                _SCALAR_TAGS[key] = tag
            return tag
        return super().resolve(kind, value, implicit)

_BLOCK = BlockReader(_Loader("").resolve, yaml.ScalarNode, yaml.constructor.SafeConstructor.bool_values)

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "kustomization")
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
TERRAFORM_SUFFIX = ".tf"
# kreach's own files and tool configs that live beside manifests: skipped when a directory is
# walked (still read when named explicitly)
CONFIG_FILES = frozenset({"kreach.yaml", "kreach.yml", ".pre-commit-config.yaml",
                          ".pre-commit-hooks.yaml"})
# a "---" line, found by the newline before it (a literal search, several times faster than
# a MULTILINE "^" tried at every position); one at the very start is checked apart
_DOC_START = re.compile(r"\n---(?=[ \t\n]|\Z)")
_DOC_END = re.compile(r"^\.\.\.[ \t]*$", re.MULTILINE)

_T = "tag:yaml.org,2002:"
_STR, _INT, _BOOL, _NULL, _MAP, _SEQ, _FLOAT, _TIMESTAMP, _VALUE = (
    _T + t for t in ("str", "int", "bool", "null", "map", "seq", "float", "timestamp", "value"))
_SCALAR_KEY_TAGS = (_STR, _INT, _BOOL, _NULL, _FLOAT, _TIMESTAMP)
_BOOLS = yaml.constructor.SafeConstructor.bool_values
_ConstructorError = yaml.constructor.ConstructorError


def construct(node: Any, limits: Limits | None = None) -> Any:
    """Python data from a composed YAML node, as ``yaml.safe_load`` would build it, but faster
    (no generic constructor dispatch), with timestamps kept as strings, as Kubernetes reads them,
    and within ``limits`` (nesting depth, alias expansions: :class:`LimitExceeded`). Merge keys
    and complex keys take the safe constructor's path. An explicit tag that does not fit its
    node (``!!int [1]``, ``!!int abc``) is a :class:`yaml.YAMLError`, as with ``safe_load``."""
    if node is None:
        return None
    ctx = _Context(limits or Limits())
    try:
        return _build(node, ctx, 1)
    except _Fallback:
        _measure(node, ctx.limits)
        try:
            return yaml.constructor.SafeConstructor().construct_document(node)
        except RecursionError:
            raise LimitExceeded(ctx.limits.exceeded("max_depth"), node.start_mark.line) from None
        except yaml.YAMLError:
            raise
        except Exception as e:  # a value the safe constructor cannot convert
            raise _ConstructorError(None, None, _short(e), node.start_mark) from None


class _Fallback(Exception):
    pass


class DuplicateKey(Exception):
    """A mapping names the same key twice. YAML forbids it; the usual cause is two documents
    written one after the other without ``---``, which would silently merge two objects."""

    def __init__(self, key: Any, line: int, first: int | None = None):
        super().__init__(key, line)
        self.key, self.line = key, line
        self.first = line if first is None else first  # 0-based line of the first occurrence


class _Context:
    """State of one document's construction: built collections by node (a second visit is an
    alias), and how many nodes aliases have expanded to so far."""

    __slots__ = ("memo", "sizes", "aliased", "limits")

    def __init__(self, limits: Limits) -> None:
        self.memo: dict[int, Any] = {}
        self.sizes: dict[int, int] = {}
        self.aliased = 0
        self.limits = limits

    def alias(self, node: Any) -> None:
        """Count the nodes an alias to ``node`` stands for. The built value is shared, but every
        later stage (validation, null removal) walks it as if written out: a 1 KB alias bomb
        would cost gigabytes there."""
        self.aliased += _expanded_size(node, self.sizes)
        if self.aliased > self.limits.max_alias_nodes:
            raise LimitExceeded(self.limits.exceeded("max_alias_nodes"), node.start_mark.line)


def _wrong_node(node: Any, tag: str) -> _ConstructorError:
    kind = {"scalar": "a scalar", "sequence": "a sequence", "mapping": "a mapping"}.get(
        getattr(node, "id", ""), "a node")
    return _ConstructorError(None, None, f"tag !!{tag.removeprefix(_T)} cannot apply to {kind}",
                             node.start_mark)


def _build(node: Any, ctx: _Context, depth: int) -> Any:
    tag = node.tag
    if tag == _STR:
        v = node.value
        if type(v) is str:
            return v
        raise _wrong_node(node, tag)
    if tag == _MAP or tag == _SEQ:
        hit = ctx.memo.get(id(node))
        if hit is not None:
            ctx.alias(node)
            return hit
        if depth > ctx.limits.max_depth:
            raise LimitExceeded(ctx.limits.exceeded("max_depth"), node.start_mark.line)
        if tag == _SEQ:
            if type(node) is not yaml.SequenceNode:
                raise _wrong_node(node, tag)
            out: Any = [_build(x, ctx, depth + 1) for x in node.value]
        else:
            if type(node) is not yaml.MappingNode:
                raise _wrong_node(node, tag)
            out = {}
            for k, v in node.value:
                if k.tag not in _SCALAR_KEY_TAGS:
                    raise _Fallback  # merge keys (<<) and complex keys
                key = _build(k, ctx, depth + 1)
                if key in out:
                    first = next((kk.start_mark.line for kk, _ in node.value
                                  if kk.value == k.value), k.start_mark.line)
                    raise DuplicateKey(key, k.start_mark.line, first)
                out[key] = _build(v, ctx, depth + 1)
        ctx.memo[id(node)] = out
        return out
    v = node.value
    if type(v) is not str:  # every other tag the safe loader knows is a scalar's
        if tag in _SCALAR_KEY_TAGS:
            raise _wrong_node(node, tag)
        return _other(node, ctx)
    if tag == _INT:
        if v.isdigit() and (v[0] != "0" or len(v) == 1):  # a leading 0 is octal in YAML 1.1
            return int(v)
        try:
            return _SAFE.construct_yaml_int(node)
        except ValueError:
            raise _ConstructorError(None, None, f"{v!r} is not an integer", node.start_mark) from None
    if tag == _NULL:
        return None
    if tag == _BOOL:
        b = _BOOLS.get(v.lower())
        if b is None:
            raise _ConstructorError(None, None, f"{v!r} is not a boolean", node.start_mark)
        return b
    if tag == _TIMESTAMP:
        return v
    if tag == _FLOAT:
        try:
            return _SAFE.construct_yaml_float(node)
        except ValueError:
            raise _ConstructorError(None, None, f"{v!r} is not a number", node.start_mark) from None
    return _other(node, ctx)


def _other(node: Any, ctx: _Context) -> Any:
    """Any other tag (``!!binary``, ``!!set``, ``!!omap``, an unknown ``!custom``): exactly what
    the safe constructor makes of it, or its error."""
    _measure(node, ctx.limits)
    try:
        return yaml.constructor.SafeConstructor().construct_document(node)
    except yaml.YAMLError:
        raise
    except RecursionError:
        raise LimitExceeded(ctx.limits.exceeded("max_depth"), node.start_mark.line) from None
    except Exception as e:
        raise _ConstructorError(None, None, _short(e), node.start_mark) from None


_SAFE = yaml.constructor.SafeConstructor()  # stateless for the scalar conversions used above


def _children(node: Any) -> list:
    if type(node) is yaml.MappingNode:
        return [c for pair in node.value for c in pair]
    return node.value if type(node) is yaml.SequenceNode else []


def _expanded_size(node: Any, sizes: dict[int, int]) -> int:
    """Nodes under ``node`` (itself included) with every alias written out; iterative, memoised
    by node, for a node whose construction has finished (so it holds no cycle)."""
    stack = [(node, False)]
    while stack:
        n, children_done = stack.pop()
        if id(n) in sizes:
            continue
        kids = [c for c in _children(n) if type(c) is not yaml.ScalarNode]
        if children_done:
            sizes[id(n)] = 1 + len(_children(n)) - len(kids) + sum(sizes[id(c)] for c in kids)
        else:
            stack.append((n, True))
            stack.extend((c, False) for c in kids if id(c) not in sizes)
    return sizes[id(node)]


def _measure(node: Any, limits: Limits) -> None:
    """Depth and alias expansions of a node tree that may hold cycles (a recursive alias), for
    the safe constructor's path: :class:`LimitExceeded` when over a limit."""
    expanded = 0
    seen: set[int] = set()
    stack = [(node, 1)]
    while stack:
        n, depth = stack.pop()
        if depth > limits.max_depth:
            raise LimitExceeded(limits.exceeded("max_depth"), n.start_mark.line)
        if id(n) in seen:
            expanded += 1
            if expanded > limits.max_alias_nodes:
                raise LimitExceeded(limits.exceeded("max_alias_nodes"), n.start_mark.line)
        elif type(n) is not yaml.ScalarNode:
            seen.add(id(n))
        stack.extend((c, depth + 1) for c in _children(n))


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
    # a file's documents, or its text until they are first asked for (remember_text)
    _chunks: dict[str, list[Chunk] | str] = field(default_factory=dict)
    # objects that were not written as YAML (Terraform, HCL): field path -> line, given by
    # their reader
    _pinned: dict[tuple[str, int], Mapping[tuple, int]] = field(default_factory=dict)

    def remember(self, file: str, chunks: list[Chunk]) -> None:
        self._chunks[file] = chunks

    def remember_text(self, file: str, text: str) -> None:
        """Keep ``text`` as ``file``'s, cut into documents (:func:`split_documents`) only when
        a line of it is first asked for: a file read ahead or from the cache may never be."""
        self._chunks[file] = text

    def documents(self) -> Iterator[tuple[str, list[Chunk]]]:
        """Every kept file with its documents."""
        for file in list(self._chunks):
            yield file, self._documents(file)

    def _documents(self, file: str) -> list[Chunk]:
        kept = self._chunks.get(file)
        if isinstance(kept, str):
            kept = self._chunks[file] = split_documents(kept)
        return kept or []

    def keep(self, file: str, doc: int, node: Any) -> None:
        self._nodes[(file, doc)] = node

    def pin(self, source: SourceRef, lines: Mapping[tuple, int]) -> None:
        """Lines of an object another reader built: its field paths -> lines."""
        self._pinned[(source.file, source.doc)] = lines

    def adopt(self, other: "Locator", other_file: str, file: str) -> None:
        """Take what ``other`` knows of ``other_file`` as what this locator knows of ``file``
        (the same text read under another name: the same file at another git revision)."""
        if other_file in other._chunks:
            self._chunks[file] = other._chunks[other_file]
        for table, own in ((other._nodes, self._nodes), (other._pinned, self._pinned)):
            for (f, doc), value in list(table.items()):
                if f == other_file:
                    own[(file, doc)] = value

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
        if isinstance(node, DocumentLines):  # read by the block reader
            value, best = node.value, node.line
            for key in (*source.path, *path):
                found = node.child(value, key)
                if found is None:
                    break
                value, best = found
            return best + chunk_line
        best = node.start_mark.line
        for key in (*source.path, *path):
            found = _child(node, key)
            if found is None:
                break
            node, best = found
        return best + chunk_line

    @property
    def files(self) -> tuple[str, ...]:
        """The YAML files whose text is kept."""
        return tuple(self._chunks)

    def numbered_lines(self, file: str) -> Iterator[tuple[int, str]]:
        """(1-based line number, text) of every kept line of ``file``."""
        for chunk in self._documents(file):
            for i, text in enumerate(chunk.text.splitlines()):
                yield chunk.first_line + i, text

    def text_line(self, file: str, line: int) -> str | None:
        """The text of 1-based ``line`` of ``file`` as it was read (comments included), or None
        when that line was not kept (an unknown file, or a line outside every document)."""
        for chunk in self._documents(file):
            offset = line - chunk.first_line
            if offset >= 0:
                lines = chunk.text.splitlines()
                if offset < len(lines):
                    return lines[offset]
        return None

    def _chunk(self, file: str, doc: int) -> Chunk | None:
        chunks = self._documents(file)
        # chunk i has index i (split_documents numbers them in order)
        return chunks[doc] if 0 <= doc < len(chunks) and chunks[doc].index == doc else None

    def _chunk_first_line(self, source: SourceRef) -> int:
        chunk = self._chunk(source.file, source.doc)
        return chunk.first_line if chunk else 1

    def _document_node(self, source: SourceRef) -> Any:
        """The document's lines: the block reader's where it reads the document (several
        times faster), else PyYAML's node tree."""
        key = (source.file, source.doc)
        if key not in self._nodes:
            chunk = self._chunk(source.file, source.doc)
            self._nodes[key] = None if chunk is None else (
                _BLOCK.lines(chunk.text, Limits().max_depth)
                or yaml.compose(chunk.text, Loader=_Loader))
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
    keys: Mapping[str, str] = field(default_factory=dict)  # file -> content key (cached runs)


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
    whatever matches an ``exclude`` glob, and says so once (KR050).

    In a walked directory only regular files are read (a FIFO or a link to ``/dev/zero`` named
    ``*.yaml`` would hang or never end); a file named explicitly is read whatever it is, so
    ``kreach list <(kubectl get ...)`` works. Unlistable directories and broken or looping
    symbolic links are reported, never skipped in silence."""
    files: list[str] = []
    diags: list[Diagnostic] = []
    skipped: list[str] = []
    for p in paths:
        if p == "-":
            files.append(STDIN)
        elif os.path.isdir(p):
            found = []

            def unlistable(e: OSError) -> None:
                where = e.filename or p
                diags.append(diagnostic("KR012", SourceRef(str(where)),
                                        detail=f"{where}: {e.strerror or e}"))

            for root, dirs, names in os.walk(p, onerror=unlistable):
                dirs.sort()
                if is_render_unit(names):  # a chart or kustomization: read as one, rendered
                    found.append(os.path.normpath(root))
                    dirs[:] = []
                    continue
                keep = []
                for d in dirs:
                    rel = os.path.relpath(os.path.join(root, d), p).replace(os.sep, "/")
                    if _is_skipped_dir(root, d) or (exclude and _excluded(rel, exclude)):
                        skipped.append(os.path.normpath(os.path.join(root, d)))
                    else:
                        keep.append(d)
                dirs[:] = keep
                for n in sorted(names):
                    rel = os.path.relpath(os.path.join(root, n), p).replace(os.sep, "/")
                    if not _is_input_name(n) or (exclude and _excluded(rel, exclude)):
                        continue
                    full = os.path.normpath(os.path.join(root, n))  # no ./ prefix
                    problem = _not_regular(full)
                    if problem is None:
                        found.append(full)
                    else:
                        diags.append(problem)
            if not found:
                diags.append(diagnostic("KR005", SourceRef(p), detail=f"directory {p}"))
            files += found
        elif os.path.exists(p):
            files.append(p)
        elif os.path.islink(p):
            diags.append(_link_problem(p))
        else:
            diags.append(diagnostic("KR007", SourceRef(p), detail=p))
    if skipped:
        shown = ", ".join(skipped[:5]) + (f" and {len(skipped) - 5} more" if len(skipped) > 5 else "")
        diags.append(diagnostic("KR050", None, count=len(skipped),
                                ies="y" if len(skipped) == 1 else "ies", detail=shown))
    return files, diags


def _not_regular(path: str) -> Diagnostic | None:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return _link_problem(path)
    if stat.S_ISREG(mode):
        return None
    what = ("a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode) or
            stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "not a file")
    if os.path.islink(path):
        what += f", reached through a symbolic link to {os.path.realpath(path)}"
    return diagnostic("KR011", SourceRef(path), detail=what)


def _link_problem(path: str) -> Diagnostic:
    """The true reason a path that is listed cannot be opened: a symbolic link loop, a link to
    nothing, or an error reading the link."""
    try:
        os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return diagnostic("KR013", SourceRef(path), detail=f"{path}: symbolic link loop")
        if os.path.islink(path):
            return diagnostic("KR013", SourceRef(path),
                              detail=f"{path} points to {os.readlink(path)!r}, which does not exist")
        return diagnostic("KR002", SourceRef(path), detail=f"{e.strerror or e}")
    return diagnostic("KR007", SourceRef(path), detail=path)


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
    first = [0] if text.startswith("---") and text[3:4] in ("", " ", "\t", "\n") else []
    starts = [0] + first + [m.start() + 1 for m in _DOC_START.finditer(text)]
    ends = "..." in text  # a document end marker is rare: look for one only if it can be there
    index = 0
    line, counted = 1, 0  # line number at offset `counted`; advanced as we go (linear)
    for i, start in enumerate(starts):
        end = starts[i + 1] if i + 1 < len(starts) else len(text)
        piece = text[start:end]
        if i == 0 and len(starts) > 1 and _only_directives(piece):
            continue  # text before the first '---': nothing, comments or %YAML/%TAG directives
        end_marker = _DOC_END.search(piece) if ends else None
        if end_marker:
            piece = piece[: end_marker.start()]
        line += text.count("\n", counted, start)
        counted = start
        chunks.append(Chunk(piece, line, index))
        index += 1
    return chunks


def load_paths(paths: Sequence[str], stdin_text: str | bytes | None = None,
               inputs: InputOptions | None = None, exclude: Sequence[str] = (),
               limits: Limits | None = None, cache: Any = None,
               shared: "ParseCache | None" = None) -> LoadResult:
    """Read every manifest under ``paths`` (``-`` is stdin, whose content is ``stdin_text``:
    text, or bytes decoded here as UTF-8; None when stdin could not be read); Terraform (``.tf``,
    plan and state JSON), charts and kustomizations as ``inputs`` says; directory walks leave
    out what matches a glob of ``exclude``; within ``limits`` (default: :meth:`Limits.from_env`).
    With a :class:`~analyzer.inputs.cache.DocumentCache`, a YAML file read before with the same
    text and options is not parsed again. With ``shared``, a text already parsed in this run
    under another name (the same file at another git revision) is not parsed again either."""
    limits = limits or Limits.from_env()
    locator = Locator()
    inputs = inputs or InputOptions()
    files, diags = discover(paths, exclude)
    manifests: list[Manifest] = []
    keys: dict[str, str] = {}
    for item in _load_files(files, stdin_text, locator, inputs, limits, (cache, keys, shared)):
        (manifests if isinstance(item, Manifest) else diags).append(item)
    if files and not manifests and not any(d.code == "KR005" for d in diags):
        where = ", ".join(paths) if paths else "the input"
        at = SourceRef(paths[0]) if len(paths) == 1 else None
        others = sum(1 for d in diags if d.code in ("KR004", "KR015", "KR016", "KR017"))
        if others:  # objects, but none of a kind kreach models: say that, not "no manifests"
            diags.append(diagnostic("KR052", at, detail=where, count=others,
                                    s="" if others == 1 else "s"))
        elif any(d.code in _SAYS_WHY_EMPTY for d in diags):
            pass  # a chart, kustomization or template hint already says what to do instead
        else:
            diags.append(diagnostic("KR005", at, detail=where))
    return LoadResult(tuple(manifests), tuple(diags), locator, len(files), keys)


_SAYS_WHY_EMPTY = frozenset({"KR704", "KR720", "KR721", "KR722", "KR723"})


def _load_files(files: list[str], stdin_text: str | bytes | None, locator: Locator,
                inputs: InputOptions, limits: Limits,
                cache: tuple[Any, ...] = (None, {})) -> Iterator[Manifest | Diagnostic]:
    """Each file by its kind: directories found by discover are charts or kustomizations;
    ``.tf`` files are read together, one Terraform module per directory."""
    templated: list[Diagnostic] = []
    for item in _load_each(files, stdin_text, locator, inputs, limits, cache):
        if isinstance(item, Diagnostic) and item.code == "KR723":
            templated.append(item)  # one hint for all template files, not one per file
        else:
            yield item
    if templated:
        count = sum(int(d.message.split(" ", 1)[0]) for d in templated)
        yield diagnostic("KR723", templated[0].source, count=count, files=len(templated))


def _load_each(files: list[str], stdin_text: str | bytes | None, locator: Locator,
               inputs: InputOptions, limits: Limits,
               cache: tuple[Any, ...] = (None, {})) -> Iterator[Manifest | Diagnostic]:
    modules: dict[str, list[str]] = {}
    units = [f for f in files if f != STDIN and os.path.isdir(f)]
    if units:
        from .render import read_unit, referenced

        built_on = referenced(units)  # bases and components: read through their overlays
    for f in files:
        if f != STDIN and f.lower().endswith(TERRAFORM_SUFFIX):
            modules.setdefault(os.path.dirname(f) or ".", []).append(f)
        elif f != STDIN and os.path.isdir(f):
            if os.path.normpath(f) not in built_on or len(units) == 1:
                yield from _built(read_unit(f, inputs, locator), locator, limits)
        else:
            yield from _load_file(f, stdin_text, locator, inputs, limits, cache)
    if modules:
        from .hcl import read_modules

        yield from _built(read_modules(modules, inputs), locator, limits)


def _built(items: Iterable[Any], locator: Locator,
           limits: Limits | None = None) -> Iterator[Manifest | Diagnostic]:
    """Objects another reader built, ``(body, source, lines)``, through the same gate as the
    manifests read here; rendered text ``(name, text)`` through the YAML reader."""
    for item in items:
        if isinstance(item, Diagnostic):
            yield item
        elif len(item) == 2:
            name, text = item
            yield from _load_text(name, text, locator, InputOptions(), limits or Limits.from_env())
        else:
            body, source, lines = item
            if lines:
                locator.pin(source, lines)
            yield from _objects(body, source, locator)


_PROBE = 64 * 1024  # the first read: enough to tell a binary file before reading it all


def _read_bytes(path: str, limit: int) -> bytes:
    """At most ``limit`` bytes of ``path`` (:class:`LimitExceeded` beyond); a file with a NUL
    byte in its first 64 KiB is refused before the rest is read (``/dev/zero``)."""
    with open(path, "rb") as fh:
        data = fh.read(min(_PROBE, limit + 1))
        if b"\x00" in data:
            raise ValueError("binary file (contains NUL bytes)")
        if len(data) > limit:
            raise LimitExceeded("its size")
        if len(data) == min(_PROBE, limit + 1):
            data += fh.read(limit + 1 - len(data))
    if len(data) > limit:
        raise LimitExceeded("its size")
    return data


def _read_text(path: str, stdin_text: str | bytes | None, limits: Limits) -> str:
    if path == STDIN:
        if stdin_text is None:
            raise OSError("standard input is closed")
        data = stdin_text
        if len(data) > limits.max_file_bytes:
            raise LimitExceeded("its size")
    else:
        data = _read_bytes(path, limits.max_file_bytes)
    if isinstance(data, bytes):
        if b"\x00" in data:
            raise ValueError("binary file (contains NUL bytes)")
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = data[: e.start].count(b"\n") + 1
            raise _NotUtf8(f"not UTF-8: byte 0x{data[e.start]:02x} on line {line}", line) from None
    return data.replace("\r\n", "\n")


class _NotUtf8(ValueError):
    def __init__(self, text: str, line: int) -> None:
        super().__init__(text)
        self.line = line


def _load_file(path: str, stdin_text: str | bytes | None, locator: Locator,
               inputs: InputOptions, limits: Limits,
               cache: tuple[Any, ...] = (None, {}), content: str | bytes | None = None
               ) -> Iterator[Manifest | Diagnostic]:
    """One file; ``content`` is its content when it is not on disk (a git blob), checked as
    standard input is (size, NUL bytes, UTF-8)."""
    try:
        text = (_read_text(path, stdin_text, limits) if content is None
                else _read_text(STDIN, content, limits))
    except LimitExceeded:
        yield diagnostic("KR010", SourceRef(path), detail="the file",
                         limit=limits.exceeded("max_file_bytes"), skipped="the whole file")
        return
    except _NotUtf8 as e:
        yield diagnostic("KR002", SourceRef(path, e.line), detail=str(e))
        return
    except (OSError, ValueError) as e:
        yield diagnostic("KR002", SourceRef(path), detail=_short(e))
        return
    store, keys = cache[:2]
    shared = cache[2] if len(cache) > 2 else None
    if shared is not None:  # ``store`` may hold this file read ahead (inputs/parallel.py)
        yield from shared.load(path, text, locator, inputs, limits, store)
        return
    # JSON (and Terraform's state files) are not cached: a Terraform document's objects carry
    # their field lines in the locator (pinned), which a cached run would not have
    if store is None or path.lower().endswith((".json", ".tfstate")) or \
            (path == STDIN and text.lstrip().startswith("{")):
        yield from _load_text(path, text, locator, inputs, limits)
        return
    from .cache import text_key

    key = keys[path] = text_key(path, text, limits, inputs)
    items = store.get(key)
    if items is not None:
        locator.remember_text(path, text)  # lines are found again on demand
    else:
        items = list(_load_text(path, text, locator, inputs, limits))
        store.put(key, items)
    yield from items


@dataclass
class ParseCache:
    """Files already parsed in this run, by their text: a file that is the same at two git
    revisions (or in two inputs) is parsed once, and its objects relabelled with the other
    file name. One cache serves one set of :class:`InputOptions` and :class:`Limits`."""

    _entries: dict[str, tuple[str, list, "Locator"]] = field(default_factory=dict)
    hits: int = 0
    names: dict[str, tuple[int, str]] = field(default_factory=dict)
    validation: "SharedValidation" = field(default_factory=lambda: SharedValidation())
    # the on-disk document cache (analyzer.inputs.cache), keyed here by content alone: a file
    # read in an earlier run, at any revision or path, is not parsed or validated again
    disk: Any = None

    def load(self, name: str, text: str, locator: "Locator", inputs: InputOptions,
             limits: Limits, prefetched: Any = None) -> list[Manifest | Diagnostic]:
        """The objects of ``text`` read as ``name``: parsed now, taken from an earlier read of
        the same text (relabelled), or from what ``prefetched`` (an
        :class:`~analyzer.inputs.parallel.Prefetched`) read ahead, with its validation outcome."""
        entry = self._entries.get(text)
        if entry is None:
            own = Locator()
            ahead = prefetched.take(name, text) if prefetched is not None else None
            content = self.content_key(text, limits, inputs) if self.disk is not None else None
            stored = self.disk.get(content) if content is not None and ahead is None else None
            if ahead is not None:
                items = ahead[0]
                own.remember_text(name, text)
            elif stored is not None:  # read in an earlier run, perhaps under another name
                items = [_renamed(item, stored[0], name) for item in stored[1]]
                own.remember_text(name, text)
            else:
                items = list(_load_text(name, text, own, inputs, limits))
            if content is not None:
                if stored is None:
                    self.disk.put(content, (name, items))
                self.validation.on_disk(id(items), content, self.disk)
            if ahead is not None:
                _, outcomes, key_tail = ahead
                self.validation.seed(("validated", id(items), *key_tail), name, outcomes)
            self._entries[text] = entry = (name, items, own)
        else:
            self.hits += 1
        first, items, own = entry
        self.names[name] = (id(items), name)
        locator.adopt(own, first, name)
        return items if first == name else [_renamed(item, first, name) for item in items]

    def knows(self, text: str, limits: Limits | None = None,
              inputs: InputOptions | None = None) -> bool:
        """Whether ``text`` was read already in this run (or, given the ``limits`` and
        ``inputs`` it is read with, is in the on-disk cache)."""
        if text in self._entries:
            return True
        if self.disk is None or limits is None or inputs is None:
            return False
        return self.disk.has(self.content_key(text, limits, inputs))

    @staticmethod
    def content_key(text: str, limits: Limits, inputs: InputOptions) -> str:
        from .cache import text_key

        return text_key("", text, limits, inputs)  # no name: objects are relabelled

    def keys(self) -> dict[str, tuple[int, str]]:
        """File name -> validation key (the same for the same text under any name)."""
        return dict(self.names)


class SharedValidation:
    """What validating a file's objects found, kept for the same text read under another name
    in this run (a file unchanged between two revisions is validated once). It answers the
    calls :func:`~analyzer.inputs.validation.validate_manifests` makes on a document cache,
    with :meth:`ParseCache.keys` as the keys: ``key`` drops the file name from the key and
    remembers it, ``get`` relabels the stored diagnostics with it."""

    def __init__(self) -> None:
        self._store: dict[tuple, tuple[str, Any]] = {}
        self._file = ""
        self._content: dict[int, str] = {}  # id(items) -> content key in the on-disk cache
        self._disk: Any = None

    def on_disk(self, items_id: int, content: str, disk: Any) -> None:
        """Outcomes for the objects ``items_id`` are also kept in ``disk`` under ``content``."""
        self._content[items_id] = content
        self._disk = disk

    def _disk_key(self, key: tuple) -> str | None:
        content = self._content.get(key[1]) if self._disk is not None and len(key) > 1 else None
        return None if content is None else self._disk.key("validated", content, *key[2:])

    def key(self, *parts: Any) -> tuple:
        out = []
        for p in parts:
            if isinstance(p, tuple) and len(p) == 2 and isinstance(p[1], str):
                self._file = p[1]
                p = p[0]
            out.append(p)
        return tuple(out)

    def get(self, key: tuple) -> Any:
        hit = self._store.get(key)
        if hit is None:
            disk_key = self._disk_key(key)
            hit = self._disk.get(disk_key) if disk_key is not None else None
            if hit is None:
                return None
            self._store[key] = hit
        first, outcomes = hit
        if first == self._file:
            return outcomes
        return [(status, body, [_renamed(d, first, self._file) for d in found])
                for status, body, found in outcomes]

    def put(self, key: tuple, value: Any) -> None:
        self.seed(key, self._file, value)

    def seed(self, key: tuple, file: str, outcomes: Any) -> None:
        """The outcome for ``file``'s objects, found before validation asks (read ahead)."""
        self._store[key] = (file, outcomes)
        disk_key = self._disk_key(key)
        if disk_key is not None:
            self._disk.put(disk_key, (file, outcomes))


def _renamed(item: Manifest | Diagnostic, old: str, name: str) -> Manifest | Diagnostic:
    s = item.source
    if s is None or s.file != old:
        return item
    return replace(item, source=replace(s, file=name))


def load_texts(named: Sequence[tuple[str, str | bytes]], shared: ParseCache | None = None,
               where: str = "the input", inputs: InputOptions | None = None,
               limits: Limits | None = None, store: Any = None) -> LoadResult:
    """Read manifests whose content is already in memory, each with the name its locations
    carry (``REV:path`` for a file read from git). ``shared`` shares parses between calls;
    ``store`` holds what helper processes read ahead (with ``shared`` only)."""
    locator = Locator()
    inputs = inputs or InputOptions()
    limits = limits or Limits.from_env()
    manifests: list[Manifest] = []
    diags: list[Diagnostic] = []
    # .tf files are read together, one module per directory, per revision (``REV:`` prefix)
    terraform: dict[str, dict[str, str]] = {}
    for name, content in named:
        if name.lower().endswith(TERRAFORM_SUFFIX):
            rev, sep, rel = name.partition(":")
            prefix, rel = (rev + sep, rel) if sep else ("", name)
            terraform.setdefault(prefix, {})[rel] = content.decode("utf-8-sig", "replace") \
                if isinstance(content, bytes) else content
            continue
        for item in _load_file(name, None, locator, inputs, limits,
                               (store if shared is not None else None, {}, shared), content):
            (manifests if isinstance(item, Manifest) else diags).append(item)
    for prefix, texts in terraform.items():
        from .hcl import Files, read_modules

        modules: dict[str, list[str]] = {}
        for rel in texts:
            modules.setdefault(os.path.dirname(rel) or ".", []).append(rel)
        for item in _built(read_modules(modules, inputs, Files(texts, prefix)), locator, limits):
            (manifests if isinstance(item, Manifest) else diags).append(item)
    if not manifests:
        diags.append(diagnostic("KR005", None, detail=where))
    return LoadResult(tuple(manifests), tuple(diags), locator, len(named))


def _load_text(path: str, text: str, locator: Locator, inputs: InputOptions,
               limits: Limits) -> Iterator[Manifest | Diagnostic]:
    if not text.strip():
        yield diagnostic("KR006", SourceRef(path))
        return
    if path.lower().endswith((".json", ".tfstate")) or (path == STDIN and text.lstrip().startswith("{")):
        yield from _load_json(path, text, locator, inputs, limits)
        return
    chunks = split_documents(text)
    locator.remember(path, chunks)
    if len(chunks) > limits.max_documents:
        first = chunks[limits.max_documents]
        yield diagnostic("KR010", SourceRef(path, first.first_line, first.index),
                         detail=f"the file ({len(chunks):,} documents)",
                         limit=limits.exceeded("max_documents"),
                         skipped=f"everything from document {first.index + 1} on")
        chunks = chunks[: limits.max_documents]
    templated = 0
    for chunk in chunks:
        if not chunk.text.strip() or _only_comments(chunk.text):
            continue
        try:
            fast = _BLOCK.read(chunk.text, limits.max_depth)
            if fast is not None:  # plain block YAML: read without composing nodes
                doc, node = fast[0], None
            else:
                node = compose_safely(chunk.text, limits)
                doc = construct(node, limits)
        except DuplicateKey as e:
            yield diagnostic("KR009", SourceRef(path, chunk.first_line + e.line, chunk.index),
                             key=e.key)
            continue
        except LimitExceeded as e:
            yield diagnostic("KR010", SourceRef(path, chunk.first_line + e.line, chunk.index),
                             detail="this document", limit=e.detail, skipped="the document")
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
        if node is not None and isinstance(doc, dict) and doc.get("kind") == "NetworkPolicy":
            # reports cite policy rules by line: keep the (small) node tree at hand (the
            # locator composes it when asked for a document read without one)
            locator.keep(path, chunk.index, node)
        yield from _objects(doc, SourceRef(path, chunk.first_line + _content_offset(chunk.text), chunk.index),
                            locator)
    if templated:
        yield diagnostic("KR723", SourceRef(path, 1), count=templated, files=1)


# libyaml composes nested collections recursively in C: about 20,000 levels overflow the stack
# and kill the process. Any text below this bound is safe without looking closer.
_C_SAFE_DEPTH = 5_000


def compose_safely(text: str, limits: Limits) -> Any:
    """``yaml.compose`` that never overflows the C stack: a text that could nest deeper than
    :data:`_C_SAFE_DEPTH` is first measured with the (iterative) event parser."""
    try:
        if len(text) > _C_SAFE_DEPTH and _nesting_bound(text) > _C_SAFE_DEPTH:
            depth = 0
            for event in yaml.parse(text, Loader=_Loader):
                if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                    depth += 1
                    if depth > limits.max_depth:
                        raise LimitExceeded(limits.exceeded("max_depth"), event.start_mark.line)
                elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                    depth -= 1
        return yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as e:
        # PyYAML >= 6.0.4 bounds nesting itself (its scanner may stop before kreach counts to
        # its own limit): the same limit, reported the same way
        if "maximum nesting depth" in str(e):
            mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
            raise LimitExceeded(limits.exceeded("max_depth"), mark.line if mark else 0) from None
        raise


def _nesting_bound(text: str) -> int:
    """An upper bound of the nesting depth of a YAML text: block collections nest only by
    indenting (at most two levels per column: ``- - x``, ``a:`` then ``- x``), flow collections
    only by brackets."""
    longest = max(map(len, text.split("\n")))
    return 2 * longest + 2 + text.count("[") + text.count("{")


def _json_depth_over(doc: Any, limit: int) -> bool:
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, (dict, list)))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, (dict, list)))
    return False


# Escaped UTF-16 surrogates are valid JSON but not valid YAML; the locator reads a JSON file
# with the YAML parser (to find the line of a field), so they are replaced there by a stand-in.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}(?:\\u[dD][c-fC-F][0-9a-fA-F]{2})?")


def _load_json(path: str, text: str, locator: Locator, inputs: InputOptions,
               limits: Limits) -> Iterator[Manifest | Diagnostic]:
    locator.remember(path, [Chunk(_SURROGATE_ESCAPE.sub(r"\\ufffd", text), 1, 0)])
    try:
        doc = json.loads(text, object_pairs_hook=_unique_pairs)
    except json.JSONDecodeError as e:
        yield diagnostic("KR008", SourceRef(path, e.lineno, 0), detail=e.msg)
        return
    except DuplicateKey as e:
        yield diagnostic("KR009", SourceRef(path, 1, 0), key=e.key)
        return
    except RecursionError:
        too_deep = True
    else:
        too_deep = (text.count("[") + text.count("{") > limits.max_depth
                    and _json_depth_over(doc, limits.max_depth))
    if too_deep:
        yield diagnostic("KR010", SourceRef(path, 1, 0), detail="the JSON document",
                         limit=limits.exceeded("max_depth"), skipped="the file")
        return
    from .terraform_json import is_state_file, is_terraform_json, read as read_terraform

    if is_terraform_json(doc) or is_state_file(doc):
        yield from _built(read_terraform(path, text, doc, inputs.plan_side), locator, limits)
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
        yield diagnostic("KR018", source, detail=_a(doc))
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
        if os.path.basename(source.file).lower() in KUSTOMIZATION_FILES:
            folder = os.path.dirname(source.file) or "."
            yield diagnostic("KR056", source, folder=folder)  # named among *.yaml: not an error
            return
        yield diagnostic("KR003", source, detail=f"no {missing}")
        return
    kind_class = classify(api, kind)
    if kind_class is not KindClass.MODELLED:
        meta = doc.get("metadata")
        name = _display_name(meta if isinstance(meta, dict) else {})
        if kind_class is KindClass.CHANGES_REACHABILITY:
            yield diagnostic("KR015", source, kind=kind, name=name, api=api)
        elif kind_class is KindClass.CREATES_PODS:
            yield diagnostic("KR017", source, kind=kind, name=name)
        elif (suggestion := did_you_mean(kind)) is not None:
            yield diagnostic("KR016", source, kind=kind, suggestion=suggestion)
        else:
            yield diagnostic("KR004", source, kind=kind)
        return
    meta = doc.get("metadata")
    meta = meta if isinstance(meta, dict) else {}
    name = meta.get("name")
    ns = meta.get("namespace")
    yield Manifest(api, kind, name if isinstance(name, str) else "",
                   ns if isinstance(ns, str) and ns else None, doc, source)


def _display_name(meta: Mapping[str, Any]) -> str:
    name, ns = meta.get("name"), meta.get("namespace")
    name = name if isinstance(name, str) and name else "<unnamed>"
    return f"{ns}/{name}" if isinstance(ns, str) and ns else name


def _a(value: Any) -> str:
    what = {list: "a sequence", str: "a string", int: "an integer", float: "a number",
            bool: "a boolean"}.get(type(value))
    return what or f"a {type(value).__name__}"


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


def with_namespace(manifests: Sequence[Manifest], namespace: str) -> tuple[Manifest, ...]:
    """Put namespaced objects that name no namespace into ``namespace``, as ``kubectl apply -n``
    does (a Namespace, a Node or an admin policy is cluster-scoped and keeps none)."""
    out = []
    for m in manifests:
        if m.namespace is None and m.kind not in CLUSTER_SCOPED_KINDS:
            meta = m.body.get("metadata")
            meta = {**meta, "namespace": namespace} if isinstance(meta, dict) else {"namespace": namespace}
            m = Manifest(m.api_version, m.kind, m.name, namespace, {**m.body, "metadata": meta}, m.source)
        out.append(m)
    return tuple(out)
