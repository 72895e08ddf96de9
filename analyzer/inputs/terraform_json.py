"""Terraform's JSON output (``terraform show -json plan.out``, ``terraform show -json``) as
Kubernetes objects.

A plan document holds ``planned_values`` (the state after apply: what kreach analyses by
default) and ``prior_state`` (the state before: what ``kreach diff`` compares it with); a state
document holds ``values``. Each of these nests ``root_module`` -> ``resources`` and
``child_modules`` (each with its own ``resources`` and ``child_modules``). Resources of the
Kubernetes provider are turned into objects by :mod:`.tf_kubernetes`; every object's source
names its resource address and, when the JSON is pretty-printed, the line of each field.

A state file as Terraform keeps it (``terraform.tfstate``, version 4: ``resources[].instances[]
.attributes``) holds the same attribute values and is read the same way.

Format versions: ``format_version`` 1.x is read (minor versions only add fields, which are
ignored), and so is 0.x, which Terraform 0.12-0.15 wrote with the same layout; any other major
version is rejected, as the format's documentation asks of consumers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator, Literal, Mapping

import yaml

from ..diagnostics import Diagnostic
from ..messages import diagnostic
from ..source import SourceRef
from .tf_kubernetes import is_kubernetes, to_object

Side = Literal["planned", "prior"]
_RESOURCE_FIELDS = ("address", "type", "values")
# attributes whose unknown value matters to kreach (others, like uid, are computed and unused)
_MODELLED_LEAVES = frozenset({
    "name", "namespace", "labels", "match_labels", "match_expressions", "key", "operator",
    "values", "cidr", "except", "port", "protocol", "end_port", "container_port", "selector",
    "replicas", "host_network", "policy_types", "manifest",
})


def is_terraform_json(doc: Any) -> bool:
    """A document ``terraform show -json`` printed (a plan or a state)."""
    return isinstance(doc, Mapping) and "format_version" in doc and (
        "terraform_version" in doc or any(k in doc for k in
                                          ("planned_values", "values", "prior_state",
                                           "resource_changes")))


def is_state_file(doc: Any) -> bool:
    """A state file as Terraform stores it (``terraform.tfstate``, format version 4), not the
    JSON ``terraform show -json`` prints of it."""
    return isinstance(doc, Mapping) and isinstance(doc.get("version"), int) and \
        "terraform_version" in doc and isinstance(doc.get("resources"), list)


@dataclass(frozen=True)
class Resource:
    """One resource instance of a module: its address, type and attribute values."""

    address: str
    type: str
    values: Mapping[str, Any]
    where: tuple[str | int, ...]  # path of the resource object inside the JSON document
    values_key: str = "values"  # the key of the attribute values under ``where``


def read(path: str, text: str, doc: Mapping[str, Any], side: Side = "planned"
         ) -> Iterator[tuple[dict, SourceRef, Mapping[tuple, int]] | Diagnostic]:
    """Kubernetes objects of one plan or state document, each with its source and the lines of
    its fields; diagnostics for what cannot be read."""
    top = SourceRef(path, 1, 0)
    if is_state_file(doc):
        if doc["version"] != 4:
            yield diagnostic("KR700", top, version=f"state version {doc['version']}")
            return
        yield from _objects(path, text, _state_file_resources(doc), {})
        return
    version = doc.get("format_version")
    major = str(version).split(".", 1)[0] if isinstance(version, (str, int, float)) else ""
    if major not in ("0", "1"):
        yield diagnostic("KR700", top, version=version)
        return
    values, where, kind = _values(doc, side)
    if values is None:
        if kind == "plan" and side == "prior":  # a plan that creates everything
            yield diagnostic("KR704", top)
            return
        yield diagnostic("KR701", top, detail=f"no {_section(kind, side)} in this {kind}")
        return
    if not isinstance(values, Mapping) or not isinstance(values.get("root_module", {}), Mapping):
        yield diagnostic("KR701", top, detail=f"{_section(kind, side)} is not an object")
        return
    unknown = _unknown(doc) if side == "planned" and kind == "plan" else {}
    yield from _objects(path, text, _resources(values.get("root_module") or {},
                                               (*where, "root_module")), unknown)


def _objects(path: str, text: str, resources: Iterator[Resource], unknown: Mapping[str, set]
             ) -> Iterator[tuple[dict, SourceRef, Mapping[tuple, int]] | Diagnostic]:
    lines = _Lines(text)
    for index, res in enumerate(resources):
        if not is_kubernetes(res.type):
            continue
        line = lines.at((*res.where, "address")) or lines.at(res.where) or 1
        source = SourceRef(path, line, index, origin=res.address)
        obj, origins = to_object(res.type, res.values)
        if obj is None:
            yield diagnostic("KR702", source, address=res.address,
                             detail="no manifest" if res.type == "kubernetes_manifest"
                             else "no attribute values")
            continue
        missing = sorted(unknown.get(res.address, ()))
        if missing:
            yield diagnostic("KR703", source, address=res.address, fields=", ".join(missing))
        field_lines = {k8s: lines.at((*res.where, res.values_key, *tf)) or line
                       for k8s, tf in origins.paths.items()}
        field_lines[()] = line
        yield obj, source, field_lines


def _section(kind: str, side: Side) -> str:
    return "values" if kind == "state" else ("planned_values" if side == "planned" else
                                             "prior_state")


def _values(doc: Mapping[str, Any], side: Side) -> tuple[Any, tuple, str]:
    """The ``values`` object to read, its path, and whether the document is a plan or a state."""
    if "planned_values" in doc or "resource_changes" in doc or "prior_state" in doc:
        if side == "planned":
            return doc.get("planned_values"), ("planned_values",), "plan"
        prior = doc.get("prior_state")
        return (prior.get("values") if isinstance(prior, Mapping) else None,
                ("prior_state", "values"), "plan")
    return doc.get("values"), ("values",), "state"


def _resources(module: Mapping[str, Any], where: tuple) -> Iterator[Resource]:
    resources = module.get("resources") or []
    for i, r in enumerate(resources if isinstance(resources, list) else []):
        if not isinstance(r, Mapping) or r.get("mode", "managed") != "managed":
            continue  # data sources read what exists; they create nothing
        address, rtype, values = (r.get(k) for k in _RESOURCE_FIELDS)
        if not isinstance(address, str) or not isinstance(rtype, str):
            continue
        yield Resource(address, rtype, values if isinstance(values, Mapping) else {},
                       (*where, "resources", i))
    children = module.get("child_modules") or []
    for i, child in enumerate(children if isinstance(children, list) else []):
        if isinstance(child, Mapping):
            yield from _resources(child, (*where, "child_modules", i))


def _state_file_resources(doc: Mapping[str, Any]) -> Iterator[Resource]:
    """Resource instances of a version 4 state file: ``resources[i].instances[j].attributes``."""
    for i, r in enumerate(doc["resources"]):
        if not isinstance(r, Mapping) or r.get("mode", "managed") != "managed":
            continue
        rtype, name, module = r.get("type"), r.get("name"), r.get("module")
        if not isinstance(rtype, str) or not isinstance(name, str):
            continue
        prefix = f"{module}." if isinstance(module, str) and module else ""
        instances = r.get("instances")
        for j, inst in enumerate(instances if isinstance(instances, list) else []):
            if not isinstance(inst, Mapping):
                continue
            key = inst.get("index_key")
            suffix = "" if key is None else f"[{key}]" if isinstance(key, int) else f"[{json.dumps(key)}]"
            attributes = inst.get("attributes")
            yield Resource(f"{prefix}{rtype}.{name}{suffix}", rtype,
                           attributes if isinstance(attributes, Mapping) else {},
                           ("resources", i, "instances", j), values_key="attributes")


def _unknown(doc: Mapping[str, Any]) -> dict[str, set[str]]:
    """Per resource address, the modelled attributes whose planned value is known only after
    apply (``after_unknown``): Terraform leaves them out of ``planned_values``."""
    out: dict[str, set[str]] = {}
    changes = doc.get("resource_changes")
    for rc in changes if isinstance(changes, list) else []:
        if not isinstance(rc, Mapping) or not is_kubernetes(str(rc.get("type"))):
            continue
        change = rc.get("change")
        after_unknown = change.get("after_unknown") if isinstance(change, Mapping) else None
        found = {p for p in _true_paths(after_unknown, ()) if p.rsplit(".", 1)[-1].split("[")[0]
                 in _MODELLED_LEAVES}
        if found:
            out[str(rc.get("address"))] = found
    return out


def _true_paths(value: Any, path: tuple) -> Iterator[str]:
    if value is True:
        yield _dotted(path)
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield from _true_paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _true_paths(v, (*path, i))


def _dotted(path: tuple) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out


class _Lines:
    """Lines of the nodes of a JSON document, read only when it spans several lines
    (``terraform show -json`` prints one line; ``| jq .`` many)."""

    def __init__(self, text: str) -> None:
        self._root: Any = None
        if text.count("\n") > 1:
            try:
                self._root = yaml.compose(text, Loader=_loader())
            except yaml.YAMLError:
                self._root = None

    def at(self, path: tuple) -> int:
        node = self._root
        if node is None:
            return 0
        line = node.start_mark.line
        for key in path:
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if k.value == key:
                        node, line = v, k.start_mark.line
                        break
                else:
                    return 0
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and \
                    0 <= key < len(node.value):
                node = node.value[key]
                line = node.start_mark.line
            else:
                return 0
        return line + 1


def _loader() -> Any:
    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)
