"""Validating loaded manifests before anything interprets them.

Two layers, both producing located diagnostics:

1. **Schema** (optional): each object is checked against the Kubernetes OpenAPI schema shipped by
   the ``kubernetes_validate`` package (strict flavour: unknown fields are violations, as with
   ``kubectl --validate=strict``). A violation inside a field kreach interprets (see
   :data:`INTERPRETED`) skips the object (KR101); anywhere else it is a warning and the object is
   kept (KR102). No schema for the apiVersion/kind skips the object (KR103).
2. **Semantic checks** (always on): what a schema cannot see -- CIDR syntax and ``except`` ranges,
   port ranges and names, ``endPort``, protocols, selector operators, label syntax, duplicates --
   plus a type check of every interpreted field, so that whatever is kept can be modelled by code
   that assumes well-typed input.

Speed: ``jsonschema`` needs ~0.3 ms per object, far too slow for 10k objects. Each schema is
therefore compiled once into a plain-Python *predicate* (:class:`_Compiler`, covering exactly the
keywords the Kubernetes schemas use). Valid objects -- nearly all -- pass through the predicate
only; an object it rejects is re-validated with ``jsonschema`` to get every error with its path.
The test suite cross-checks the predicate against ``jsonschema``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Mapping, Sequence

from ..diagnostics import Diagnostic
from .loading import Locator, Manifest
from ..messages import diagnostic
from ..source import SourceRef
from .admin_validation import ADMIN_KINDS, API_VERSIONS, check_admin, check_node
from .kinds import CLUSTER_SCOPED_KINDS, CRD_KINDS

__all__ = ["ValidationResult", "SchemaValidator", "UnsupportedVersionError", "validate_manifests",
           "INTERPRETED"]

Path = tuple[str | int, ...]

WORKLOAD_KINDS = frozenset({"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job",
                            "ReplicationController"})
PROTOCOLS = ("TCP", "UDP", "SCTP")
OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
POLICY_TYPES = ("Ingress", "Egress")

# Fields kreach interprets, per kind ("*" = any list index). A schema violation inside one of them,
# or on an ancestor of one (e.g. ``spec`` is a string), skips the object.
_META: tuple[Path, ...] = (("metadata", "name"), ("metadata", "namespace"), ("metadata", "labels"),
                           ("metadata", "ownerReferences", "*", "kind"),
                           ("metadata", "ownerReferences", "*", "name"))


def _pod_spec(prefix: Path) -> tuple[Path, ...]:
    return (prefix + ("hostNetwork",), prefix + ("containers", "*", "ports"),
            prefix + ("initContainers", "*", "ports"))


def _workload(template: Path, replicas: Path | None) -> tuple[Path, ...]:
    return ((replicas,) if replicas else ()) + (template + ("metadata", "labels"),) + \
        _pod_spec(template + ("spec",))


INTERPRETED: dict[str, tuple[Path, ...]] = {
    "NetworkPolicy": _META + (("spec",),),
    "Pod": _META + _pod_spec(("spec",)),
    "Namespace": _META,
    "Node": _META + (("status", "addresses"),),
    **{k: _META + (("spec",),) for k in ADMIN_KINDS},
    "Service": _META + (("spec", "selector"), ("spec", "ports")),
    "Ingress": _META + (("spec",),),
    "CronJob": _META + _workload(("spec", "jobTemplate", "spec", "template"), None),
    **{k: _META + _workload(("spec", "template"), ("spec", "replicas")) for k in WORKLOAD_KINDS},
}


@dataclass(frozen=True)
class ValidationResult:
    manifests: tuple[Manifest, ...]
    diagnostics: tuple[Diagnostic, ...]


class UnsupportedVersionError(ValueError):
    """The requested Kubernetes version has no bundled schemas."""


# --------------------------------------------------------------------------------------------
# schema layer
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SchemaIssue:
    """One schema violation: where it is (``path``), whether it touches an interpreted field,
    and a short human text."""

    path: Path
    interpreted: bool
    detail: str


Check = Callable[[Any], bool]


def _schema_root() -> str:
    """The folder of JSON schemas that kubernetes-validate ships. Found without importing the
    package, whose import (it pulls in pydantic) costs more than a whole small analysis."""
    import importlib.util

    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or not spec.submodule_search_locations:
        raise UnsupportedVersionError("the kubernetes-validate package is not installed")
    return os.path.join(list(spec.submodule_search_locations)[0], "kubernetes-json-schema")


def _major_minor(version: str) -> str:
    return ".".join(version.split(".")[:2])


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


class SchemaValidator:
    """The bundled schemas of one Kubernetes version. Build once; it compiles and caches one
    validator per (apiVersion, kind) on first use."""

    def __init__(self, k8s_version: str | None = None) -> None:
        root = _schema_root()
        versions = sorted((name[1:].split("-", 1)[0] for name in os.listdir(root)
                           if name.startswith("v") and name.endswith("-local-strict")),
                          key=_version_key)
        if not versions:  # pragma: no cover - a broken kubernetes-validate install
            raise UnsupportedVersionError(f"no schemas found in {root}")
        if k8s_version is None:
            version = versions[-1]
        else:
            wanted = _major_minor(k8s_version.removeprefix("v"))
            matches = [v for v in versions if _major_minor(v) == wanted]
            if not matches:
                raise UnsupportedVersionError(
                    f"no schemas for Kubernetes {k8s_version}; supported: "
                    f"{', '.join(_major_minor(v) for v in versions)}")
            version = matches[-1]
        self.version = _major_minor(version)
        self._dir = os.path.join(root, f"v{version}-local-strict")
        with open(os.path.join(self._dir, "_definitions.json"), encoding="utf-8") as fh:
            self._definitions = json.load(fh)
        self._compiler = _Compiler(self._definitions["$defs"])
        self._kinds: dict[tuple[str, str], tuple[dict, Check] | None] = {}
        self._explainers: dict[tuple[str, str], Any] = {}
        self._registry: Any = None

    def has_schema(self, api_version: str, kind: str) -> bool:
        return self._kind(api_version, kind) is not None

    def issues(self, m: Manifest) -> tuple[SchemaIssue, ...] | None:
        """Schema violations of ``m`` (empty when valid); ``None`` when there is no schema."""
        entry = self._kind(m.api_version, m.kind)
        if entry is None:
            return None
        schema, check = entry
        if check(m.body):
            return ()
        return tuple(self._explain(m, schema))

    def _kind(self, api_version: str, kind: str) -> tuple[dict, Check] | None:
        key = (api_version, kind)
        if key not in self._kinds:
            self._kinds[key] = self._load_kind(api_version, kind)
        return self._kinds[key]

    def _load_kind(self, api_version: str, kind: str) -> tuple[dict, Check] | None:
        # file naming as in kubernetes_validate.utils.validate: networking.k8s.io/v1 -> networking-v1
        group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
        name = f"{kind.lower()}-{group_version}.json"
        if os.sep in name or "/" in name or name.startswith("."):
            return None
        try:
            with open(os.path.join(self._dir, name), encoding="utf-8") as fh:
                schema = json.load(fh)
        except (OSError, ValueError):
            return None
        props = schema.get("properties", {})
        # the file name is lossy (case, group suffix): the schema's own enums decide
        if api_version not in props.get("apiVersion", {}).get("enum", ()) or \
                kind not in props.get("kind", {}).get("enum", ()):
            return None
        return schema, self._compiler.compile(schema)

    def _explain(self, m: Manifest, schema: dict) -> Iterator[SchemaIssue]:
        import jsonschema
        from referencing import Registry, Resource

        key = (m.api_version, m.kind)
        if key not in self._explainers:
            if self._registry is None:
                self._registry = Resource.from_contents(self._definitions) @ Registry()
            self._explainers[key] = jsonschema.Draft202012Validator(schema, registry=self._registry)
        seen: set[tuple[Path, str]] = set()
        for err in self._explainers[key].iter_errors(m.body):
            for issue in _issues_of(m.kind, err):
                if (issue.path, issue.detail) not in seen:
                    seen.add((issue.path, issue.detail))
                    yield issue


def _issues_of(kind: str, err: Any) -> Iterator[SchemaIssue]:
    path: Path = tuple(err.absolute_path)
    inst = err.instance
    if err.validator == "required" and isinstance(inst, dict):
        # A missing field is harmless unless its parent lies inside an interpreted field
        # (ipBlock.cidr, containerPort...): an absent ownerReference uid or container image is not.
        for prop in err.validator_value:
            if prop not in inst:
                yield SchemaIssue(path, _inside(kind, path), f"missing required field {prop!r}")
    elif err.validator == "additionalProperties" and isinstance(inst, dict):
        known = err.schema.get("properties", {})
        for extra in inst:
            if extra not in known:
                p = path + (extra,)
                yield SchemaIssue(p, _interpreted(kind, p), "unknown field")
    elif err.validator == "type":
        want = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        want = [t for t in want if t != "null"]
        yield SchemaIssue(path, _interpreted(kind, path),
                          f"expected {' or '.join(want)}, got {_type_name(inst)}")
    elif err.validator == "oneOf" and path and path[-1] in ("port", "targetPort"):
        yield SchemaIssue(path, _interpreted(kind, path),
                          f"expected integer or string, got {_type_name(inst)}")
    else:
        yield SchemaIssue(path, _interpreted(kind, path), _short(err.message))


def _match(path: Path, pattern: Path) -> bool:
    """``path`` and ``pattern`` agree on their common length."""
    return all(q == "*" and isinstance(p, int) or p == q for p, q in zip(path, pattern))


def _inside(kind: str, path: Path) -> bool:
    return any(len(path) >= len(q) and _match(path, q) for q in INTERPRETED.get(kind, ()))


def _interpreted(kind: str, path: Path) -> bool:
    """``path`` is an interpreted field, inside one, or an ancestor of one."""
    return any(_match(path, q) for q in INTERPRETED.get(kind, ()))


class _Compiler:
    """Compiles the JSON-schema subset used by the Kubernetes schemas (type, properties,
    additionalProperties, required, items, enum, oneOf, $ref) into boolean predicates.
    Other keywords (format, description, x-kubernetes-*) are annotations for jsonschema too."""

    def __init__(self, defs: Mapping[str, Any]) -> None:
        self._defs = defs
        self._refs: dict[str, Check] = {}

    def compile(self, schema: Any) -> Check:
        if not isinstance(schema, dict):
            return _accept
        ref = schema.get("$ref")
        if ref is not None:
            return self._ref(ref.rsplit("/", 1)[-1])
        checks: list[Check] = []
        types = schema.get("type")
        if types is not None:
            checks.append(_type_check(types if isinstance(types, list) else [types]))
        props = {k: self.compile(v) for k, v in schema.get("properties", {}).items()}
        extra = schema.get("additionalProperties", True)
        extra_check: Check | None | bool = (False if extra is False else
                                            None if extra is True else self.compile(extra))
        required = tuple(schema.get("required", ()))
        if props or extra_check is not None or required:
            checks.append(_object_check(props, extra_check, required))
        if "items" in schema:
            item = self.compile(schema["items"])
            checks.append(lambda x: not isinstance(x, list) or all(item(i) for i in x))
        if "enum" in schema:
            allowed = schema["enum"]
            checks.append(lambda x: any(x == a and type(x) is type(a) for a in allowed))
        if "oneOf" in schema:
            options = [self.compile(s) for s in schema["oneOf"]]
            checks.append(lambda x: sum(1 for o in options if o(x)) == 1)
        if not checks:
            return _accept
        if len(checks) == 1:
            return checks[0]
        if len(checks) == 2:  # the common case (type + object), without a generator per call
            first, second = checks
            return lambda x: first(x) and second(x)
        return lambda x: all(c(x) for c in checks)

    def _ref(self, name: str) -> Check:
        if name not in self._refs:
            cell: list[Check] = []
            self._refs[name] = lambda x: cell[0](x)  # placeholder for recursive definitions
            cell.append(self.compile(self._defs.get(name, {})))
            self._refs[name] = cell[0]
        return self._refs[name]


def _accept(_: Any) -> bool:
    return True


def _is_integer(x: Any) -> bool:
    # jsonschema counts 3.0 as an integer; so does the predicate, to agree with it
    return (isinstance(x, int) and not isinstance(x, bool)) or (isinstance(x, float) and x.is_integer())


_TYPE_TESTS: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "integer": _is_integer,
    "number": lambda x: isinstance(x, (int, float)) and not isinstance(x, bool),
}


def _type_check(types: list[str]) -> Check:
    simple = {"object": dict, "array": list, "string": str}
    if all(t in simple or t == "null" for t in types):
        pytypes = tuple(simple[t] for t in types if t != "null") + \
            ((type(None),) if "null" in types else ())
        return lambda x: isinstance(x, pytypes)
    tests = [_TYPE_TESTS[t] for t in types if t in _TYPE_TESTS]
    return lambda x: any(t(x) for t in tests)


def _object_check(props: dict[str, Check], extra: Check | None | bool,
                  required: tuple[str, ...]) -> Check:
    def check(x: Any) -> bool:
        if not isinstance(x, dict):
            return True
        for r in required:
            if r not in x:
                return False
        for k, v in x.items():
            c = props.get(k) if isinstance(k, str) else None
            if c is not None:
                if not c(v):
                    return False
            elif extra is False:
                return False
            elif extra is not None and not extra(v):  # type: ignore[operator]
                return False
        return True
    return check


# --------------------------------------------------------------------------------------------
# semantic checks
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    code: str
    path: Path
    fields: Mapping[str, str]


# \Z, not $: "$" also matches before a trailing newline, which would let "app\n" pass as a key
_LABEL_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?\Z")
# an RFC 1123 label's characters (namespace names; port names add their own rules)
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
_NOT_A_LABEL = ("not a valid namespace name: a lowercase RFC 1123 label of at most 63 characters "
                "(lower case letters, digits and '-', starting and ending with a letter or digit)")


def _is_namespace_name(name: str) -> bool:
    """A namespace name is an RFC 1123 label (Kubernetes' ValidateNamespaceName)."""
    return len(name) <= 63 and _DNS_LABEL.match(name) is not None


_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")


def label_key_error(key: Any) -> str | None:
    if not isinstance(key, str):
        return f"key {key!r} is not a string"
    prefix, slash, name = key.rpartition("/")
    if slash and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return f"key {key!r}: prefix must be a DNS subdomain"
    if not name or len(name) > 63 or not _LABEL_NAME.match(name):
        return (f"key {key!r}: name must be 1-63 alphanumeric characters, '-', '_' or '.', "
                "starting and ending alphanumeric")
    return None


def label_value_error(value: str) -> str | None:
    if value and (len(value) > 63 or not _LABEL_NAME.match(value)):
        return (f"value {value!r}: must be at most 63 alphanumeric characters, '-', '_' or '.', "
                "starting and ending alphanumeric")
    return None


def port_name_error(name: str) -> str | None:
    """IANA_SVC_NAME: at most 15 lowercase alphanumerics or '-', at least one letter, no '-' at
    either end and no '--'."""
    if (not name or len(name) > 15 or not _DNS_LABEL.match(name) or "--" in name
            or not any(c.isalpha() for c in name)):
        return repr(name)
    return None


def parse_cidr(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    """A CIDR as Kubernetes accepts it, or None. The prefix length is mandatory. Host bits may be
    set (``10.0.0.1/8``): Kubernetes validates ipBlock with a sloppy CIDR parser that accepts them
    (API docs long gave "192.168.1.1/24" as a valid example) and the block is the masked network,
    so kreach accepts them too and means the network."""
    if "/" not in text or text != text.strip():
        return None
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


def _strictly_inside(inner: ipaddress._BaseNetwork, outer: ipaddress._BaseNetwork) -> bool:
    # as Kubernetes: an except entry must be a proper subset of cidr, of the same IP family
    return (inner.version == outer.version and inner.prefixlen > outer.prefixlen
            and inner.subnet_of(outer))  # type: ignore[arg-type]


def _type_name(x: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer",
            float: "number", type(None): "null"}.get(type(x), type(x).__name__)


def _fmt(path: Path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "<root>"


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


class _Checker:
    """Walks the interpreted fields of one object, collecting problems. Every access is
    type-checked: wrong types become KR101, never exceptions."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.saw_null = False

    def add(self, code: str, where: Path, **fields: str) -> None:
        fields.setdefault("path", _fmt(where))  # used by the KR101 and KR119 templates
        self.problems.append(Problem(code, where, fields))

    # -- typed access ----------------------------------------------------------------------
    def get(self, obj: Mapping, key: str, path: Path, want: type | tuple[type, ...],
            required: bool = False) -> Any:
        """``obj[key]`` if it has type ``want``; None when absent or null (null means absent
        in Kubernetes); reports a type error otherwise."""
        if key not in obj:
            if required:
                self.add("KR101", path + (key,), detail="missing required field")
            return None
        value = obj[key]
        if value is None:
            self.saw_null = True
            if required:
                self.add("KR101", path + (key,), detail="missing required field")
            return None
        if not _is_type(value, want):
            self.add("KR101", path + (key,),
                     detail=f"expected {_want_name(want)}, got {_type_name(value)}")
            return None
        return value

    def items(self, obj: Mapping, key: str, path: Path) -> Iterator[tuple[Mapping, Path]]:
        """The mapping items of list ``obj[key]`` with their paths."""
        seq = self.get(obj, key, path, list)
        for i, item in enumerate(seq or ()):
            if not isinstance(item, dict):
                self.add("KR101", path + (key, i),
                         detail=f"expected object, got {_type_name(item)}")
            else:
                yield item, path + (key, i)

    # -- shared pieces ---------------------------------------------------------------------
    def labels(self, obj: Mapping, key: str, path: Path) -> None:
        labels = self.get(obj, key, path, dict)
        for k, v in (labels or {}).items():
            p = path + (key, k)
            err = label_key_error(k)
            if err:
                self.add("KR117", p, detail=err)
            elif not isinstance(v, str):
                self.add("KR101", p, detail=f"expected string, got {_type_name(v)}")
            elif (err := label_value_error(v)):
                self.add("KR117", p, detail=f"{k}: {err}")

    def selector(self, obj: Mapping, key: str, path: Path) -> None:
        sel = self.get(obj, key, path, dict)
        if sel is None:
            return
        p = path + (key,)
        self.labels(sel, "matchLabels", p)
        for expr, ep in self.items(sel, "matchExpressions", p):
            k = self.get(expr, "key", ep, str)
            op = self.get(expr, "operator", ep, str)
            values = self.get(expr, "values", ep, list)
            if k is None:
                self.add("KR114", ep, detail=f"{_fmt(ep)} has no key")
            elif (err := label_key_error(k)):
                self.add("KR117", ep + ("key",), detail=err)
            if op is None:
                self.add("KR114", ep, detail=f"{_fmt(ep)} has no operator")
            elif op not in OPERATORS:
                self.add("KR114", ep + ("operator",),
                         detail=f"unknown operator {op!r} (expected {', '.join(OPERATORS)})")
            elif op in ("In", "NotIn") and not values:
                self.add("KR114", ep + ("operator",), detail=f"operator {op} needs non-empty values")
            elif op in ("Exists", "DoesNotExist") and values:
                self.add("KR114", ep + ("values",), detail=f"operator {op} takes no values")
            for i, v in enumerate(values or ()):
                vp = ep + ("values", i)
                if not isinstance(v, str):
                    self.add("KR101", vp, detail=f"expected string, got {_type_name(v)}")
                elif (err := label_value_error(v)):
                    self.add("KR117", vp, detail=err)

    def protocol(self, obj: Mapping, path: Path) -> None:
        proto = self.get(obj, "protocol", path, str)
        if proto is not None and proto not in PROTOCOLS:
            self.add("KR116", path + ("protocol",),
                     detail=f"{proto!r} (expected {', '.join(PROTOCOLS)})")

    def port_number(self, value: int, path: Path) -> bool:
        if not 1 <= value <= 65535:
            self.add("KR112", path, detail=str(value))
            return False
        return True

    def int_or_name(self, obj: Mapping, key: str, path: Path) -> int | str | None:
        value = self.get(obj, key, path, (int, str))
        if isinstance(value, int):
            self.port_number(value, path + (key,))
        elif isinstance(value, str) and (err := port_name_error(value)):
            self.add("KR118", path + (key,), detail=err)
        return value

    # -- metadata and kinds ----------------------------------------------------------------
    def metadata(self, body: Mapping, namespaced: bool = True) -> None:
        meta = self.get(body, "metadata", (), dict, required=True)
        if meta is None:
            return
        p: Path = ("metadata",)
        name = self.get(meta, "name", p, str, required=True)
        if name == "":
            self.add("KR101", p + ("name",), detail="name is empty")
        namespace = self.get(meta, "namespace", p, str)
        if namespace and namespaced and not _is_namespace_name(namespace):
            # the API server validates it as it validates a Namespace's name: such an object is
            # rejected (a placeholder left in, like YOUR_NAMESPACE, is the usual cause)
            self.add("KR119", p + ("namespace",), detail=f"{namespace!r} is {_NOT_A_LABEL}")
        self.labels(meta, "labels", p)
        for ref, rp in self.items(meta, "ownerReferences", p):
            self.get(ref, "kind", rp, str)
            self.get(ref, "name", rp, str)

    def network_policy(self, body: Mapping) -> None:
        spec = self.get(body, "spec", (), dict)
        if spec is None:
            return
        p: Path = ("spec",)
        self.selector(spec, "podSelector", p)
        for i, t in enumerate(self.get(spec, "policyTypes", p, list) or ()):
            if t not in POLICY_TYPES:
                self.add("KR119", p + ("policyTypes", i), detail=f"{t!r} is not Ingress or Egress")
        for direction, peers in (("ingress", "from"), ("egress", "to")):
            for rule, rp in self.items(spec, direction, p):
                for peer, pp in self.items(rule, peers, rp):
                    self.peer(peer, pp)
                for port, pp in self.items(rule, "ports", rp):
                    self.policy_port(port, pp)

    def peer(self, peer: Mapping, path: Path) -> None:
        self.selector(peer, "podSelector", path)
        self.selector(peer, "namespaceSelector", path)
        block = self.get(peer, "ipBlock", path, dict)
        has_selector = any(peer.get(k) is not None for k in ("podSelector", "namespaceSelector"))
        if block is not None:
            if has_selector:
                self.add("KR119", path + ("ipBlock",),
                         detail="ipBlock cannot be combined with podSelector or namespaceSelector")
            self.ip_block(block, path + ("ipBlock",))
        elif not has_selector:
            self.add("KR119", path, detail="a peer needs podSelector, namespaceSelector or ipBlock")

    def ip_block(self, block: Mapping, path: Path) -> None:
        cidr_text = self.get(block, "cidr", path, str, required=True)
        cidr = parse_cidr(cidr_text) if cidr_text is not None else None
        if cidr_text is not None and cidr is None:
            self.add("KR110", path + ("cidr",), detail=repr(cidr_text))
        for i, text in enumerate(self.get(block, "except", path, list) or ()):
            ep = path + ("except", i)
            if not isinstance(text, str):
                self.add("KR101", ep, detail=f"expected string, got {_type_name(text)}")
                continue
            net = parse_cidr(text)
            if net is None:
                self.add("KR110", ep, detail=f"{text!r} in except")
            elif cidr is not None and not _strictly_inside(net, cidr):
                self.add("KR111", ep, detail=f"{text} is not strictly inside cidr {cidr_text}")

    def policy_port(self, port: Mapping, path: Path) -> None:
        self.protocol(port, path)
        value = self.int_or_name(port, "port", path)
        end = self.get(port, "endPort", path, int)
        if end is None:
            return
        ep = path + ("endPort",)
        if not self.port_number(end, ep):
            return
        if not isinstance(value, int):
            what = "no port" if value is None else f"named port {value!r}"
            self.add("KR113", ep, detail=f"endPort needs a numeric port, found {what}")
        elif end < value:
            self.add("KR113", ep, detail=f"endPort {end} is less than port {value}")

    def pod_spec(self, spec: Mapping, path: Path) -> None:
        self.get(spec, "hostNetwork", path, bool)
        for key in ("containers", "initContainers"):
            for container, cp in self.items(spec, key, path):
                for port, pp in self.items(container, "ports", cp):
                    number = self.get(port, "containerPort", pp, int, required=True)
                    if number is not None:
                        self.port_number(number, pp + ("containerPort",))
                    name = self.get(port, "name", pp, str)
                    if name is not None and (err := port_name_error(name)):
                        self.add("KR118", pp + ("name",), detail=err)
                    self.protocol(port, pp)

    def template(self, spec: Mapping, path: Path) -> None:
        template = self.get(spec, "template", path, dict)
        if template is None:
            return
        tp = path + ("template",)
        meta = self.get(template, "metadata", tp, dict)
        if meta is not None:
            self.labels(meta, "labels", tp + ("metadata",))
        pod = self.get(template, "spec", tp, dict)
        if pod is not None:
            self.pod_spec(pod, tp + ("spec",))

    def workload(self, body: Mapping, kind: str) -> None:
        spec = self.get(body, "spec", (), dict)
        if spec is None:
            return
        p: Path = ("spec",)
        if kind == "CronJob":
            job = self.get(spec, "jobTemplate", p, dict)
            job_spec = self.get(job, "spec", p + ("jobTemplate",), dict) if job else None
            if job_spec is not None:
                self.template(job_spec, p + ("jobTemplate", "spec"))
            return
        replicas = self.get(spec, "replicas", p, int)
        if replicas is not None and replicas < 0:
            self.add("KR119", p + ("replicas",), detail=f"{replicas} is negative")
        self.template(spec, p)

    def service(self, body: Mapping) -> None:
        spec = self.get(body, "spec", (), dict)
        if spec is None:
            return
        p: Path = ("spec",)
        self.labels(spec, "selector", p)
        for port, pp in self.items(spec, "ports", p):
            number = self.get(port, "port", pp, int, required=True)
            if number is not None:
                self.port_number(number, pp + ("port",))
            self.int_or_name(port, "targetPort", pp)
            self.get(port, "name", pp, str)
            self.protocol(port, pp)


def _is_type(value: Any, want: type | tuple[type, ...]) -> bool:
    wants = want if isinstance(want, tuple) else (want,)
    if isinstance(value, bool):
        return bool in wants
    return isinstance(value, wants)


def _want_name(want: type | tuple[type, ...]) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", int: "integer"}
    wants = want if isinstance(want, tuple) else (want,)
    return " or ".join(names.get(w, w.__name__) for w in wants)


def check_semantics(m: Manifest) -> tuple[list[Problem], bool]:
    """Problems of the interpreted fields of ``m``, and whether some of them are null."""
    c = _Checker()
    body = m.body
    if not isinstance(body, Mapping):
        c.add("KR101", (), detail="expected object")
        return c.problems, False
    c.metadata(body, m.kind not in CLUSTER_SCOPED_KINDS)
    if m.kind == "Namespace" and m.api_version == "v1" and m.name and not _is_namespace_name(m.name):
        c.add("KR119", ("metadata", "name"), detail=f"{m.name!r} is {_NOT_A_LABEL}")
    if m.kind == "NetworkPolicy":
        c.network_policy(body)
    elif m.kind == "Pod":
        spec = c.get(body, "spec", (), dict)
        if spec is not None:
            c.pod_spec(spec, ("spec",))
    elif m.kind in WORKLOAD_KINDS or m.kind == "CronJob":
        c.workload(body, m.kind)
    elif m.kind == "Service":
        c.service(body)
    elif m.kind in ADMIN_KINDS:
        check_admin(c, body, m.kind, m.name)
    elif m.kind == "Node":
        check_node(c, body)
    return c.problems, c.saw_null


def without_nulls(value: Any) -> Any:
    """A copy of ``value`` with null mapping entries dropped (Kubernetes reads null as absent)."""
    if isinstance(value, dict):
        return {k: without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [without_nulls(v) for v in value]
    return value


# --------------------------------------------------------------------------------------------
# the entry point
# --------------------------------------------------------------------------------------------

_SCHEMAS: dict[str | None, SchemaValidator] = {}


def schema_validator(k8s_version: str | None = None) -> SchemaValidator:
    """The (cached) :class:`SchemaValidator` of a Kubernetes version; compiled schemas are
    immutable, so sharing them across calls is safe."""
    if k8s_version not in _SCHEMAS:
        _SCHEMAS[k8s_version] = SchemaValidator(k8s_version)
    return _SCHEMAS[k8s_version]


# The apiVersion of each modelled core kind in every supported Kubernetes release: named when an
# old manifest (extensions/v1beta1 Deployments, apps/v1beta2, ...) or a wrong group is rejected.
CURRENT_API_VERSIONS = {
    "Deployment": "apps/v1", "ReplicaSet": "apps/v1", "StatefulSet": "apps/v1", "DaemonSet": "apps/v1",
    "Job": "batch/v1", "CronJob": "batch/v1", "NetworkPolicy": "networking.k8s.io/v1",
    "Pod": "v1", "Service": "v1", "Namespace": "v1", "ReplicationController": "v1",
}


def validate_manifests(manifests: Sequence[Manifest], locator: Locator, *,
                       k8s_version: str | None = None, schema: bool = True,
                       cache: Any = None, keys: Mapping[str, str] | None = None,
                       namespace: str | None = None) -> ValidationResult:
    """Keep the manifests kreach can model; explain every one it cannot (and every warning).

    Raises :class:`UnsupportedVersionError` for a ``k8s_version`` without bundled schemas.
    Kept manifests are the input objects, except that a body holding null values is replaced by a
    copy without them. With a :class:`~analyzer.inputs.cache.DocumentCache` and the content
    ``keys`` of the files read, the outcome for the objects of a file validated before under the
    same options (``namespace`` is the ``-n`` they were read with) is taken from the cache.
    """
    validator = schema_validator(k8s_version) if schema else None
    kept: list[Manifest] = []
    diags: list[Diagnostic] = []
    first_seen: dict[tuple[str, str, str], Manifest] = {}
    for group in _by_file(manifests):
        file = group[0].source.file
        key = keys.get(file) if cache is not None and keys else None
        outcomes = None
        if key is not None:
            vkey = cache.key(*outcome_key(key, k8s_version, schema, namespace, validator))
            outcomes = cache.get(vkey)
            if outcomes is not None and len(outcomes) != len(group):
                outcomes = None
        if outcomes is None:
            outcomes = [_check_one(m, validator, locator) for m in group]
            if key is not None:
                cache.put(vkey, outcomes)
        for m, (status, body, found) in zip(group, outcomes):
            diags += found
            if status == _SKIP:
                continue
            if status == _REPLACED:
                m = dataclasses.replace(m, body=body)
            cluster_scoped = m.kind in CLUSTER_SCOPED_KINDS
            dup = (m.kind, "" if cluster_scoped else (m.namespace or "default"), m.name)
            if dup in first_seen:  # located only now: finding a field's line re-reads the file
                first = first_seen[dup]
                where = SourceRef(first.source.file, locator.line(first.source, ("metadata", "name")),
                                  first.source.doc)
                at = SourceRef(m.source.file, locator.line(m.source, ("metadata", "name")),
                               m.source.doc, origin=m.source.origin)
                diags.append(diagnostic("KR115", at, kind=m.kind, name=m.display or "<unnamed>",
                                        detail=str(where)))
                continue
            first_seen[dup] = m
            kept.append(m)
    return ValidationResult(tuple(kept), tuple(diags))


_SKIP, _KEPT, _REPLACED = 0, 1, 2


def outcome_key(file_key: Any, k8s_version: str | None, schema: bool, namespace: str | None,
                validator: Any) -> tuple:
    """The parts of the cache key of a file's validation outcome: the file's content key and
    every option the outcome depends on (whoever validates ahead must store it under this)."""
    return ("validated", file_key, k8s_version, schema, namespace,
            validator.version if validator is not None else None)


def _by_file(manifests: Sequence[Manifest]) -> list[list[Manifest]]:
    """Runs of consecutive manifests from one file (the reader yields them file by file)."""
    groups: list[list[Manifest]] = []
    for m in manifests:
        if groups and groups[-1][0].source.file == m.source.file:
            groups[-1].append(m)
        else:
            groups.append([m])
    return groups


def _check_one(m: Manifest, validator, locator: Locator) -> tuple[int, Any, list[Diagnostic]]:
    """(keep it?, the body to keep when it differs from the input's: broken container-port
    entries dropped, null values removed; the diagnostics) for one object."""
    name = m.display or "<unnamed>"
    diags: list[Diagnostic] = []

    def at(path: Path) -> SourceRef:
        return SourceRef(m.source.file, locator.line(m.source, path), m.source.doc,
                         origin=m.source.origin)

    drops: set[Path] = set()  # broken container-port entries, dropped from a kept object
    if m.kind in ADMIN_KINDS and m.api_version not in API_VERSIONS[m.kind]:
        diags.append(diagnostic("KR103", m.source, kind=m.kind, name=name,
                                detail=f"{m.api_version} (kreach reads "
                                       f"{' and '.join(API_VERSIONS[m.kind])})"))
        return _SKIP, None, diags
    if validator is not None and m.kind not in ADMIN_KINDS and m.kind not in CRD_KINDS:
        # no bundled CRD schemas
        issues = validator.issues(m)
        if issues is None:
            current = CURRENT_API_VERSIONS.get(m.kind)
            hint = f"; {m.kind} is {current} today" if current and current != m.api_version else ""
            diags.append(diagnostic("KR103", m.source, kind=m.kind, name=name,
                                    detail=f"{m.api_version} (no {m.kind} schema in Kubernetes "
                                           f"{validator.version}{hint})"))
            return _SKIP, None, diags
        fatal = False
        for issue in issues:
            code = "KR101" if issue.interpreted else "KR102"
            d = diagnostic(code, at(issue.path), kind=m.kind, name=name,
                           path=_fmt(issue.path), detail=issue.detail)
            entry = _port_entry(m.kind, issue.path) if issue.interpreted else None
            fatal = fatal or (issue.interpreted and entry is None)
            if entry is not None:  # one message per dropped entry
                if entry in drops:
                    continue
                drops.add(entry)
                d = _dropped(d, m.kind)
            diags.append(d)
        if fatal:
            return _SKIP, None, diags
    problems, saw_null = check_semantics(m)
    fatal = False
    for p in problems:
        d = diagnostic(p.code, at(p.path), kind=m.kind, name=name, **p.fields)
        entry = _port_entry(m.kind, p.path)
        fatal = fatal or entry is None
        if entry is not None:
            if entry in drops:
                continue
            drops.add(entry)
            d = _dropped(d, m.kind)
        diags.append(d)
    if fatal:
        return _SKIP, None, diags
    if not drops and not saw_null:
        return _KEPT, None, diags
    body = _without_entries(m.body, drops) if drops else m.body
    return _REPLACED, without_nulls(body) if saw_null else body, diags


def _port_entry(kind: str, path: Path) -> Path | None:
    """The container-port entry ``path`` lies in (``...containers[i].ports[j]``) for a Pod or a
    workload, else None. Such an entry is the smallest part that can be dropped without changing
    what any policy means: the pod still exists, only that port (and its name) is unknown, as
    netpol-analyzer reads it. A policy is never read in part (a rule read alone could allow
    what the whole policy does not)."""
    if kind not in WORKLOAD_KINDS and kind not in ("Pod", "CronJob"):
        return None
    for k in range(len(path) - 3):
        if (path[k] in ("containers", "initContainers") and isinstance(path[k + 1], int)
                and path[k + 2] == "ports" and isinstance(path[k + 3], int)):
            return path[: k + 4]
    return None


def _dropped(d: Diagnostic, kind: str) -> Diagnostic:
    """The diagnostic of a problem inside a port entry, restated: the entry is dropped, the
    object kept."""
    text = d.message.removesuffix("; object skipped")
    return diagnostic("KR120", d.source, detail=text, kind=kind)


def _without_entries(body: Mapping, drops: set[Path]) -> dict:
    """A copy of ``body`` without the list entries at ``drops`` (each path ends in an index)."""
    import copy

    out = copy.deepcopy(body)
    for path in sorted(drops, key=lambda p: p[-1], reverse=True):
        node: Any = out
        for key in path[:-1]:
            node = node[key]
        if isinstance(node, list) and 0 <= path[-1] < len(node):
            del node[path[-1]]
    return out
