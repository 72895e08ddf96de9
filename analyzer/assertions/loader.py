"""Reading a ``kreach.yaml`` assertion file into :class:`AssertionFile`, with located diagnostics.

The file is composed (not just loaded) so that every key keeps its line: an unknown key, a typo,
a bad endpoint expression or a wrong type is reported at ``file:line``, never ignored. Parsing
only builds values; whether an endpoint matches anything is the runner's question.
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass
from typing import Any

import yaml

from ..diagnostics import Diagnostic
from ..query.endpoints import Addresses, EndpointError, NewPod, parse_endpoint
from ..inputs.limits import Limits, LimitExceeded
from ..inputs.loading import DuplicateKey, compose_safely, construct
from ..messages import diagnostic
from ..source import SourceRef
from .model import (DIRECTIONS, EXPOSURE_SOURCES, Allowed, Assertion, AssertionFile, Check,
                    Exposure, Isolated, MaxReachable, OnlyFrom, OnlyTo, PortFilter, Reach)

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

PROTOCOLS = ("TCP", "UDP", "SCTP")
TOP_KEYS = ("manifests", "assertions")
COMMON_KEYS = ("name", "description")
# kind -> keys it may use (besides name/description); the first key of each names the kind
KIND_KEYS: dict[str, tuple[str, ...]] = {
    "reach": ("expect", "from", "to", "port", "protocol"),
    "isolated": ("isolated",),
    "exposure": ("exposure",),
    "max-reachable": ("max-reachable",),
    "only-from": ("only-from", "to", "port", "ports", "protocol"),
    "only-to": ("only-to", "from", "port", "ports", "protocol"),
}
ALL_KEYS = tuple(sorted({k for keys in KIND_KEYS.values() for k in keys} | set(COMMON_KEYS)))
SUB_KEYS = {
    "isolated": ("namespace", "direction"),
    "exposure": ("from", "allow-only"),
    "max-reachable": ("from", "count"),
}
ALLOW_ONLY_KEYS = ("to", "port", "ports", "protocol")

Node = Any


@dataclass(frozen=True)
class Loaded:
    """The file (None when it could not be read at all) and what was wrong with it."""

    file: AssertionFile | None
    diagnostics: tuple[Diagnostic, ...]


def load_assertions(path: str) -> Loaded:
    """Read and check the assertion file at ``path``."""
    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as e:
        return Loaded(None, (diagnostic("KR301", SourceRef(path), detail=_short(e)),))
    return parse_assertions(text, path)


def parse_assertions(text: str, path: str) -> Loaded:
    """Parse assertion-file ``text``; ``path`` names it in diagnostics and anchors the manifest
    paths (which are relative to the file's directory)."""
    limits = Limits.from_env()
    try:
        root = compose_safely(text, limits)
        # every tag, duplicate key and limit is checked once here, where it can be located;
        # the reader below then only meets well-formed nodes
        construct(root, limits)
    except DuplicateKey as e:
        return Loaded(None, (diagnostic("KR316", SourceRef(path, e.line + 1), where=path,
                                        key=e.key, line=e.first + 1),))
    except LimitExceeded as e:
        return Loaded(None, (diagnostic("KR318", SourceRef(path, e.line + 1),
                                        limit=e.detail),))
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
        line = mark.line + 1 if mark is not None else 0
        problem = getattr(e, "problem", None) or _short(e)
        return Loaded(None, (diagnostic("KR302", SourceRef(path, line), detail=problem),))
    return _Reader(path).file(root)


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path
        self.diags: list[Diagnostic] = []

    # --- helpers ----------------------------------------------------------------------------

    def at(self, node: Node) -> SourceRef:
        return SourceRef(self.path, node.start_mark.line + 1 if node is not None else 1)

    def report(self, code: str, node: Node, **fields: object) -> None:
        self.diags.append(diagnostic(code, self.at(node), **fields))

    def mapping(self, node: Node, where: str, key: str, allowed: tuple[str, ...],
                suggest: tuple[str, ...] | None = None) -> dict[str, tuple[Node, Node]] | None:
        """The entries of a mapping node (key -> (key node, value node)); unknown keys are
        reported with a close match when there is one."""
        if not isinstance(node, yaml.MappingNode):
            self.report("KR305", node, where=where, key=key, expected="a mapping",
                        found=_describe(node))
            return None
        out: dict[str, tuple[Node, Node]] = {}
        for k, v in node.value:
            name = construct(k)
            if not isinstance(name, str) or name not in allowed:
                close = difflib.get_close_matches(str(name), suggest or allowed, n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]!r}?" if close else \
                    f"; expected one of {', '.join(allowed)}"
                self.report("KR303", k, where=where, key=str(name), hint=hint)
                continue
            if name in out:
                self.report("KR316", k, where=where, key=name, line=out[name][0].start_mark.line + 1)
                continue
            out[name] = (k, v)
        return out

    def string(self, entry: tuple[Node, Node], where: str, key: str) -> str | None:
        value = construct(entry[1])
        if isinstance(value, str) and value.strip():
            return value
        self.report("KR305", entry[1], where=where, key=key, expected="a non-empty string",
                    found=_describe(entry[1]))
        return None

    def endpoint(self, entry: tuple[Node, Node], where: str, key: str,
                 allow: tuple[str, ...] = ("pods", "addresses", "new")) -> str | None:
        text = self.string(entry, where, key)
        if text is None:
            return None
        try:
            e = parse_endpoint(text)
        except EndpointError as err:
            self.report("KR306", entry[1], where=where, key=key, detail=str(err))
            return None
        kind = "new" if isinstance(e, NewPod) else "addresses" if isinstance(e, Addresses) else "pods"
        if kind not in allow:
            names = {"pods": "existing pods", "addresses": "addresses", "new": "new: pods"}
            self.report("KR314", entry[1], where=where, key=key,
                        expected=" or ".join(names[a] for a in allow), endpoint=text,
                        found={"new": "a pod that does not exist yet",
                               "addresses": "an address range", "pods": "existing pods"}[kind])
            return None
        return text.strip()

    def port(self, node: Node, where: str, key: str) -> tuple[int, int] | None:
        value = construct(node)
        lo = hi = None
        if isinstance(value, int) and not isinstance(value, bool):
            lo = hi = value
        elif isinstance(value, str) and "-" in value:
            a, _, b = value.partition("-")
            if a.strip().isdigit() and b.strip().isdigit():
                lo, hi = int(a), int(b)
        if lo is None or hi is None or not 1 <= lo <= hi <= 65535:
            self.report("KR305", node, where=where, key=key,
                        expected="a port number 1-65535 (or a range 'low-high' in ports)",
                        found=_describe(node))
            return None
        return lo, hi

    def protocol(self, entry: tuple[Node, Node], where: str) -> str | None | bool:
        """The protocol, or False when it is invalid (reported)."""
        value = construct(entry[1])
        if value in PROTOCOLS:
            return value
        hint = f" (write {value.upper()!r})" if isinstance(value, str) and value.upper() in PROTOCOLS else ""
        self.report("KR305", entry[1], where=where, key="protocol",
                    expected="one of " + ", ".join(PROTOCOLS), found=_describe(entry[1]) + hint)
        return False

    def port_filter(self, m: dict, where: str, lines: dict[str, int] | None = None,
                    prefix: str = "") -> PortFilter | None:
        ok = True
        ports: tuple[tuple[int, int], ...] | None = None
        if "port" in m and "ports" in m:
            self.report("KR305", m["ports"][0], where=where, key="ports",
                        expected="given alone (not together with port)", found="both")
            ok = False
        elif "port" in m:
            node = m["port"][1]
            if isinstance(node, yaml.ScalarNode) and isinstance(construct(node), str) \
                    and "-" in construct(node):
                self.report("KR305", node, where=where, key="port", expected="one port number "
                            "(use ports for a range)", found=_describe(node))
                ok = False
            else:
                p = self.port(node, where, "port")
                ok = ok and p is not None
                ports = (p,) if p else None
        elif "ports" in m:
            node = m["ports"][1]
            items = node.value if isinstance(node, yaml.SequenceNode) else None
            if not items:
                self.report("KR305", node, where=where, key="ports",
                            expected="a non-empty list of ports", found=_describe(node))
                ok = False
            else:
                got = [self.port(n, where, "ports") for n in items]
                ok = ok and all(got)
                ports = tuple(sorted(p for p in got if p))
        protocol = None
        if "protocol" in m:
            protocol = self.protocol(m["protocol"], where)
            ok = ok and protocol is not False
        if lines is not None:
            for k in ("port", "ports", "protocol"):
                if k in m:
                    lines[prefix + k] = m[k][0].start_mark.line + 1
        return PortFilter(ports, protocol or None) if ok else None

    def endpoints(self, entry: tuple[Node, Node], where: str, key: str, lines: dict[str, int],
                  allow: tuple[str, ...]) -> tuple[str, ...] | None:
        node = entry[1]
        if isinstance(node, yaml.ScalarNode):  # a single endpoint is a list of one
            one = self.endpoint(entry, where, key, allow)
            lines[f"{key}.0"] = node.start_mark.line + 1
            return (one,) if one else None
        if not isinstance(node, yaml.SequenceNode):
            self.report("KR305", node, where=where, key=key, expected="a list of endpoints",
                        found=_describe(node))
            return None
        out: list[str] = []
        ok = True
        for i, item in enumerate(node.value):
            e = self.endpoint((entry[0], item), where, f"{key}[{i}]", allow)
            lines[f"{key}.{i}"] = item.start_mark.line + 1
            ok = ok and e is not None
            if e:
                out.append(e)
        return tuple(out) if ok else None

    # --- the file -----------------------------------------------------------------------------

    def file(self, root: Node) -> Loaded:
        if root is None:
            self.report("KR305", None, where=self.path, key="the file",
                        expected="a mapping with manifests and assertions", found="empty")
            return Loaded(None, tuple(self.diags))
        top = self.mapping(root, self.path, "the file", TOP_KEYS)
        if top is None:
            return Loaded(None, tuple(self.diags))
        manifests = self.manifests(top, root)
        assertions: list[Assertion] = []
        if "assertions" not in top:
            self.report("KR304", root, where=self.path, key="assertions")
        else:
            node = top["assertions"][1]
            if isinstance(node, yaml.SequenceNode):
                for i, item in enumerate(node.value):
                    a = self.assertion(item, i)
                    if a is not None:
                        assertions.append(a)
                if not node.value:
                    self.report("KR312", node)
            elif construct(node) is None:
                self.report("KR312", node)
            else:
                self.report("KR305", node, where=self.path, key="assertions",
                            expected="a list", found=_describe(node))
        seen: dict[str, int] = {}
        for a in assertions:
            if a.name in seen:
                self.diags.append(diagnostic("KR309", a.at("name"), name=a.name, line=seen[a.name]))
            else:
                seen[a.name] = a.line_of("name")
        if manifests is None:
            return Loaded(None, tuple(self.diags))
        line = top["manifests"][0].start_mark.line + 1
        return Loaded(AssertionFile(self.path, manifests, tuple(assertions), line), tuple(self.diags))

    def manifests(self, top: dict, root: Node) -> tuple[str, ...] | None:
        if "manifests" not in top:
            self.report("KR304", root, where=self.path, key="manifests")
            return None
        node = top["manifests"][1]
        value = construct(node)
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not items or not all(isinstance(x, str) and x for x in items):
            self.report("KR305", node, where=self.path, key="manifests",
                        expected="a path or a list of paths", found=_describe(node))
            return None
        base = os.path.dirname(self.path)
        return tuple(os.path.normpath(os.path.join(base, p)) for p in items)

    def assertion(self, node: Node, index: int) -> Assertion | None:
        where = f"assertions[{index}]"
        errors_before = len(self.diags)
        if isinstance(node, yaml.MappingNode):  # name it in every message about it
            named = next((construct(v) for k, v in node.value if construct(k) == "name"), None)
            if isinstance(named, str) and named.strip():
                where = f"assertion {named!r}"
        m = self.mapping(node, where, where, ALL_KEYS)
        if m is None:
            return None
        name = None
        if "name" in m:
            name = self.string(m["name"], where, "name")
        else:
            self.report("KR304", node, where=where, key="name")
        description = self.string(m["description"], where, "description") if "description" in m else None
        kind = next((k for k, keys in KIND_KEYS.items() if keys[0] in m), None)
        if kind is None and ("from" in m and "to" in m):
            kind = "reach"
        if kind is None:
            known = ", ".join(keys[0] for keys in KIND_KEYS.values())
            self.report("KR308", node, where=where, expected=known,
                        hint="" if "from" in m or "to" in m else
                        " (or from and to with expect)")
            return None
        extra = [k for k in m if k not in KIND_KEYS[kind] and k not in COMMON_KEYS]
        for k in extra:
            self.report("KR303", m[k][0], where=where, key=k,
                        hint=f"; a {kind} assertion takes " + ", ".join(KIND_KEYS[kind]))
        lines = {k: kn.start_mark.line + 1 for k, (kn, _) in m.items()}
        check = getattr(self, "kind_" + kind.replace("-", "_"))(m, node, where, lines)
        if check is None or name is None or len(self.diags) > errors_before:
            return None  # an assertion with any problem is reported, never run half-read
        return Assertion(name, check, self.at(node), tuple(sorted(lines.items())), description)

    # --- one method per kind ----------------------------------------------------------------

    def required(self, m: dict, node: Node, where: str, *keys: str) -> bool:
        missing = [k for k in keys if k not in m]
        for k in missing:
            self.report("KR304", node, where=where, key=k)
        return not missing

    def kind_reach(self, m, node, where, lines) -> Check | None:
        if not self.required(m, node, where, "from", "to", "expect"):
            return None
        src = self.endpoint(m["from"], where, "from")
        dst = self.endpoint(m["to"], where, "to")
        expect = construct(m["expect"][1])
        if expect not in ("allow", "deny"):
            self.report("KR305", m["expect"][1], where=where, key="expect",
                        expected="allow or deny", found=_describe(m["expect"][1]))
        port = self.port(m["port"][1], where, "port") if "port" in m else None
        protocol = self.protocol(m["protocol"], where) if "protocol" in m else None
        if src and dst and isinstance(parse_endpoint(src), Addresses) \
                and isinstance(parse_endpoint(dst), Addresses):
            self.report("KR314", m["to"][1], where=where, key="to", expected="pods",
                        endpoint=dst, found="an address range, like from")
            return None
        if not src or not dst or expect not in ("allow", "deny") or ("port" in m and port is None) \
                or protocol is False:
            return None
        if port is not None and port[0] != port[1]:
            self.report("KR305", m["port"][1], where=where, key="port", expected="one port number",
                        found=_describe(m["port"][1]))
            return None
        return Reach(src, dst, port[0] if port else None, protocol, expect == "allow")

    def kind_only_from(self, m, node, where, lines) -> Check | None:
        if not self.required(m, node, where, "to"):
            return None
        dst = self.endpoint(m["to"], where, "to", ("pods",))
        sources = self.endpoints(m["only-from"], where, "only-from", lines, ("pods", "addresses"))
        f = self.port_filter(m, where)
        if dst is None or sources is None or f is None:
            return None
        return OnlyFrom(dst, sources, f)

    def kind_only_to(self, m, node, where, lines) -> Check | None:
        if not self.required(m, node, where, "from"):
            return None
        src = self.endpoint(m["from"], where, "from", ("pods",))
        dests = self.endpoints(m["only-to"], where, "only-to", lines, ("pods", "addresses"))
        f = self.port_filter(m, where)
        if src is None or dests is None or f is None:
            return None
        return OnlyTo(src, dests, f)

    def kind_isolated(self, m, node, where, lines) -> Check | None:
        sub = self.mapping(m["isolated"][1], where, "isolated", SUB_KEYS["isolated"])
        if sub is None:
            return None
        _sub_lines(lines, "isolated", sub)
        if not self.required(sub, m["isolated"][1], where, "namespace"):
            return None
        ns = self.string(sub["namespace"], where, "isolated.namespace")
        direction = "both"
        if "direction" in sub:
            direction = construct(sub["direction"][1])
            if direction not in DIRECTIONS:
                self.report("KR305", sub["direction"][1], where=where, key="isolated.direction",
                            expected=" or ".join(DIRECTIONS), found=_describe(sub["direction"][1]))
                return None
        return Isolated(ns, direction) if ns else None

    def kind_exposure(self, m, node, where, lines) -> Check | None:
        sub = self.mapping(m["exposure"][1], where, "exposure", SUB_KEYS["exposure"])
        if sub is None:
            return None
        _sub_lines(lines, "exposure", sub)
        if not self.required(sub, m["exposure"][1], where, "from"):
            return None
        source = construct(sub["from"][1])
        if source not in EXPOSURE_SOURCES:
            self.report("KR305", sub["from"][1], where=where, key="exposure.from",
                        expected=" or ".join(EXPOSURE_SOURCES), found=_describe(sub["from"][1]))
            return None
        allowed: list[Allowed] = []
        ok = True
        if "allow-only" in sub:
            seq = sub["allow-only"][1]
            items = seq.value if isinstance(seq, yaml.SequenceNode) else None
            if items is None:
                if construct(seq) is not None:
                    self.report("KR305", seq, where=where, key="exposure.allow-only",
                                expected="a list", found=_describe(seq))
                    return None
                items = []
            for i, item in enumerate(items):
                key = f"exposure.allow-only[{i}]"
                lines[f"exposure.allow-only.{i}"] = item.start_mark.line + 1
                a = self.allowed(item, where, key)
                ok = ok and a is not None
                if a:
                    allowed.append(a)
        return Exposure(source, tuple(allowed)) if ok else None

    def allowed(self, item: Node, where: str, key: str) -> Allowed | None:
        if isinstance(item, yaml.ScalarNode):
            e = self.endpoint((item, item), where, key, ("pods",))
            return Allowed(e) if e else None
        m = self.mapping(item, where, key, ALLOW_ONLY_KEYS)
        if m is None or not self.required(m, item, where, "to"):
            return None
        e = self.endpoint(m["to"], where, key + ".to", ("pods",))
        f = self.port_filter(m, where)
        return Allowed(e, f) if e and f else None

    def kind_max_reachable(self, m, node, where, lines) -> Check | None:
        sub = self.mapping(m["max-reachable"][1], where, "max-reachable", SUB_KEYS["max-reachable"])
        if sub is None:
            return None
        _sub_lines(lines, "max-reachable", sub)
        if not self.required(sub, m["max-reachable"][1], where, "from", "count"):
            return None
        src = self.endpoint(sub["from"], where, "max-reachable.from", ("pods",))
        count = construct(sub["count"][1])
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            self.report("KR305", sub["count"][1], where=where, key="max-reachable.count",
                        expected="a whole number >= 0", found=_describe(sub["count"][1]))
            return None
        return MaxReachable(src, count) if src else None


def _sub_lines(lines: dict[str, int], prefix: str, sub: dict) -> None:
    for k, (kn, _) in sub.items():
        lines[f"{prefix}.{k}"] = kn.start_mark.line + 1


def _describe(node: Node) -> str:
    if node is None:
        return "nothing"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    value = construct(node)
    if value is None:
        return "empty"
    return repr(value)


def _short(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
