"""Semantic checks of AdminNetworkPolicy, BaselineAdminNetworkPolicy (v1alpha1) and
ClusterNetworkPolicy (v1alpha2) objects.

No JSON schema for these CRDs ships with kubernetes-validate, so every field kreach interprets is
type-checked here, and the CRD validation rules that change meaning are enforced: priority
present and in 0-1000, a known action, a subject with exactly one of ``namespaces``/``pods``,
peers with exactly one field, no ``networks``/``nodes`` peer on ingress, at most 100 (v1alpha1)
or 25 (v1alpha2) rules per direction, port numbers and ranges. Any problem skips the object
(codes KR130-KR159); the rest of the input is still analysed.

The checks run on the validation module's ``_Checker`` (typed access, located problems).
"""

from __future__ import annotations

from typing import Any, Mapping

ANP, BANP, CNP = "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "ClusterNetworkPolicy"
ADMIN_KINDS = (ANP, BANP, CNP)
ALLOW, DENY, PASS = "Allow", "Deny", "Pass"
# what each kind may write in `action`, and what it means
ACTIONS = {ANP: {"Allow": ALLOW, "Deny": DENY, "Pass": PASS},
           BANP: {"Allow": ALLOW, "Deny": DENY},
           CNP: {"Accept": ALLOW, "Deny": DENY, "Pass": PASS}}
MAX_RULES = {ANP: 100, BANP: 100, CNP: 25}  # per direction, the API's MaxItems
PRIORITY_RANGE = (0, 1000)

API_VERSIONS = {ANP: ("policy.networking.k8s.io/v1alpha1",),
                BANP: ("policy.networking.k8s.io/v1alpha1",),
                CNP: ("policy.networking.k8s.io/v1alpha2",)}
PROTOCOLS = ("TCP", "UDP", "SCTP")


# the fields of each object the CRDs define (strict, as for the schema-checked kinds: an unknown
# field in a policy is KR101 and skips it; the API server would drop it and change the meaning,
# e.g. an early draft's `notSameLabels` in a namespaces peer would leave it selecting everything)
_FIELDS = {
    "spec": {"priority", "subject", "ingress", "egress", "tier"},
    "subject": {"namespaces", "pods"},
    "pods": {"namespaceSelector", "podSelector"},
    "selector": {"matchLabels", "matchExpressions"},
    "rule": {"name", "action", "from", "to", "ports", "protocols"},
    "peer": {"namespaces", "pods", "networks", "nodes", "domainNames"},
}


def _known(c, obj: Mapping, what: str, path) -> None:
    for key in obj:
        if key not in _FIELDS[what]:
            c.add("KR101", path + (key,), detail="unknown field")


def _selector(c, obj: Mapping, key: str, path) -> None:
    c.selector(obj, key, path)
    sel = obj.get(key)
    if isinstance(sel, Mapping):
        _known(c, sel, "selector", path + (key,))


def check_admin(c, body: Mapping[str, Any], kind: str, name: str) -> None:
    """Problems of one admin policy, added to checker ``c``."""
    from .validation import parse_cidr, port_name_error

    spec = c.get(body, "spec", (), dict, required=True)
    if spec is None:
        return
    p = ("spec",)
    _known(c, spec, "spec", ())
    if kind == BANP:
        if name != "default":
            c.add("KR135", ("metadata", "name"),
                  detail=f"a BaselineAdminNetworkPolicy must be named 'default', not {name!r}")
    else:
        prio = spec.get("priority")
        if prio is None:
            c.add("KR130", p, detail="missing required field 'priority'")
        elif not isinstance(prio, int) or isinstance(prio, bool):
            c.add("KR101", p + ("priority",), detail="expected integer")
        elif not PRIORITY_RANGE[0] <= prio <= PRIORITY_RANGE[1]:
            c.add("KR131", p + ("priority",), detail=f"priority {prio} is outside 0-1000")
    if kind == CNP:
        tier = spec.get("tier")
        if tier not in ("Admin", "Baseline"):
            c.add("KR132", p + ("tier",) if "tier" in spec else p,
                  detail=f"tier must be Admin or Baseline, found {tier!r}")
    subject = c.get(spec, "subject", p, dict)
    sp = p + ("subject",)
    if subject is None:
        c.add("KR133", p, detail="missing required field 'subject'")
    else:
        set_ = [k for k in ("namespaces", "pods") if subject.get(k) is not None]
        if len(set_) != 1:
            c.add("KR133", sp, detail=("the subject selects nothing: set namespaces or pods"
                                       if not set_ else "set only one of namespaces and pods"))
        _known(c, subject, "subject", sp)
        _selector(c, subject, "namespaces", sp)
        pods = c.get(subject, "pods", sp, dict)
        if pods is not None:
            _known(c, pods, "pods", sp + ("pods",))
            _selector(c, pods, "namespaceSelector", sp + ("pods",))
            if pods.get("podSelector") is None:
                c.add("KR133", sp + ("pods",), detail="subject.pods needs a podSelector")
            _selector(c, pods, "podSelector", sp + ("pods",))
    for direction, peer_key in (("ingress", "from"), ("egress", "to")):
        rules = c.get(spec, direction, p, list) or []
        if len(rules) > MAX_RULES[kind]:
            c.add("KR134", p + (direction,),
                  detail=f"{len(rules)} {direction} rules; the API allows at most {MAX_RULES[kind]}")
        for rule, rp in c.items(spec, direction, p):
            _known(c, rule, "rule", rp)
            action = rule.get("action")
            if not isinstance(action, str) or action not in ACTIONS[kind]:
                c.add("KR136", rp + ("action",) if "action" in rule else rp,
                      detail=f"action {action!r} is not one of {', '.join(ACTIONS[kind])}")
            peers = c.get(rule, peer_key, rp, list)
            if not peers:
                c.add("KR137", rp, detail=f"a rule needs at least one '{peer_key}' peer")
            for peer, pp in c.items(rule, peer_key, rp):
                _peer(c, peer, pp, direction, kind, parse_cidr)
            if kind == CNP:
                for proto, pp in c.items(rule, "protocols", rp):
                    _cnp_protocol(c, proto, pp, port_name_error)
            else:
                for port, pp in c.items(rule, "ports", rp):
                    _anp_port(c, port, pp, port_name_error)


def _peer(c, peer: Mapping, path, direction: str, kind: str, parse_cidr) -> None:
    _known(c, peer, "peer", path)
    fields = [k for k in ("namespaces", "pods", "networks", "nodes", "domainNames")
              if peer.get(k) is not None]
    if len(fields) != 1:
        c.add("KR138", path, detail="a peer needs exactly one of namespaces, pods"
              + (", networks, nodes" if direction == "egress" else ""))
        return
    f = fields[0]
    if direction == "ingress" and f in ("networks", "nodes", "domainNames"):
        c.add("KR139", path + (f,), detail=f"a {f} peer is allowed on egress rules only")
        return
    if f == "namespaces" or f == "nodes":
        _selector(c, peer, f, path)
    elif f == "pods":
        pods = c.get(peer, "pods", path, dict)
        if pods is not None:
            _known(c, pods, "pods", path + ("pods",))
            _selector(c, pods, "namespaceSelector", path + ("pods",))
            _selector(c, pods, "podSelector", path + ("pods",))
    elif f == "networks":
        nets = c.get(peer, "networks", path, list) or []
        if not nets:
            c.add("KR138", path + ("networks",), detail="networks needs at least one CIDR")
        for i, n in enumerate(nets):
            if not isinstance(n, str) or parse_cidr(n.strip()) is None:
                c.add("KR110", path + ("networks", i), detail=repr(n))
    elif f == "domainNames":
        if kind != CNP:
            c.add("KR138", path + (f,), detail="domainNames is a ClusterNetworkPolicy peer")


def _port_number(c, value: Any, path) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool):
        c.add("KR101", path, detail="expected integer")
        return None
    if not 1 <= value <= 65535:
        c.add("KR112", path, detail=str(value))
        return None
    return value


def _protocol(c, obj: Mapping, path) -> None:
    proto = obj.get("protocol")
    if proto is not None and proto not in PROTOCOLS:
        c.add("KR116", path + ("protocol",), detail=f"{proto!r} (expected {', '.join(PROTOCOLS)})")


def _anp_port(c, port: Mapping, path, port_name_error) -> None:
    fields = [k for k in ("portNumber", "portRange", "namedPort") if port.get(k) is not None]
    if len(fields) != 1:
        c.add("KR140", path, detail="a port needs exactly one of portNumber, portRange, namedPort")
        return
    f = fields[0]
    if f == "namedPort":
        name = port["namedPort"]
        if not isinstance(name, str) or port_name_error(name):
            c.add("KR118", path + (f,), detail=repr(name))
        return
    obj = c.get(port, f, path, dict)
    if obj is None:
        return
    _protocol(c, obj, path + (f,))
    if f == "portNumber":
        _port_number(c, obj.get("port"), path + (f, "port"))
    else:
        lo = _port_number(c, obj.get("start"), path + (f, "start"))
        hi = _port_number(c, obj.get("end"), path + (f, "end"))
        if lo is not None and hi is not None and hi <= lo:
            c.add("KR141", path + (f,),
                  detail=f"port range {lo}-{hi}: start must be less than end")


def _cnp_protocol(c, proto: Mapping, path, port_name_error) -> None:
    fields = [k for k in ("tcp", "udp", "sctp", "destinationNamedPort") if proto.get(k) is not None]
    if len(fields) != 1:
        c.add("KR140", path, detail="a protocol needs exactly one of tcp, udp, sctp, "
                                    "destinationNamedPort")
        return
    f = fields[0]
    if f == "destinationNamedPort":
        name = proto[f]
        if not isinstance(name, str) or port_name_error(name):
            c.add("KR118", path + (f,), detail=repr(name))
        return
    obj = c.get(proto, f, path, dict)
    if obj is None:
        return
    dp = c.get(obj, "destinationPort", path + (f,), dict)
    if dp is None:
        return
    dpp = path + (f, "destinationPort")
    keys = [k for k in ("number", "range") if dp.get(k) is not None]
    if len(keys) != 1:
        c.add("KR140", dpp, detail="destinationPort needs exactly one of number, range")
    elif keys[0] == "number":
        _port_number(c, dp["number"], dpp + ("number",))
    else:
        rng = c.get(dp, "range", dpp, dict)
        if rng is not None:
            lo = _port_number(c, rng.get("start"), dpp + ("range", "start"))
            hi = _port_number(c, rng.get("end"), dpp + ("range", "end"))
            if lo is not None and hi is not None and hi <= lo:
                c.add("KR141", dpp + ("range",),
                      detail=f"port range {lo}-{hi}: start must be less than end")


def check_node(c, body: Mapping[str, Any]) -> None:
    status = c.get(body, "status", (), dict)
    if status is None:
        return
    for addr, ap in c.items(status, "addresses", ("status",)):
        c.get(addr, "address", ap, str)
        c.get(addr, "type", ap, str)
