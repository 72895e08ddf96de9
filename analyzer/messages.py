"""Every diagnostic code and message text kreach emits, in one place.

Codes are stable: users filter and suppress them, CI systems key on them. Never reuse a code
for a different meaning; retire it instead.

KR0xx  reading input        KR1xx  validating objects        KR2xx  semantic notes
KR3xx  assertion files (kreach check)
KR70x  Terraform JSON       KR71x  Terraform HCL             KR72x  Helm and Kustomize
KR500-KR529  lint settings, suppression comments and `kreach compare` inputs
"""

from __future__ import annotations

from .diagnostics import Diagnostic, Severity, escape_controls
from .source import SourceRef

# code -> (severity, template)
CATALOGUE: dict[str, tuple[Severity, str]] = {
    # --- reading input -------------------------------------------------------------------
    "KR001": (Severity.ERROR, "YAML syntax error: {detail}; this document is skipped"),
    "KR002": (Severity.ERROR, "cannot read file: {detail}"),
    "KR003": (Severity.WARNING, "document is not a Kubernetes object ({detail}); skipped"),
    "KR004": (Severity.INFO, "{kind} objects are not modelled; skipped"),
    "KR005": (Severity.ERROR, "no Kubernetes manifests found in {detail}"),
    "KR006": (Severity.WARNING, "file holds no documents"),
    "KR007": (Severity.ERROR, "path does not exist: {detail}"),
    "KR008": (Severity.ERROR, "JSON syntax error: {detail}; the file is skipped"),
    "KR009": (Severity.ERROR, "duplicate key {key!r} in one mapping (two documents without '---' "
                              "between them?); this document is skipped"),
    "KR050": (Severity.INFO, "did not read {count} director{ies}: {detail} (hidden, virtualenv, "
                             "dependency or --exclude; name one as a path to read it)"),
    "KR051": (Severity.INFO, "skipped {count} object{s} of {kinds} kind{ks} kreach does not model: "
                             "{detail}; -v lists them"),
    "KR010": (Severity.ERROR, "{detail} exceeds {limit}; {skipped} is skipped"),
    "KR011": (Severity.WARNING, "not a regular file ({detail}); skipped"),
    "KR012": (Severity.ERROR, "cannot list directory: {detail}; its files are skipped"),
    "KR013": (Severity.ERROR, "cannot follow symbolic link: {detail}"),
    "KR015": (Severity.WARNING, "{kind} {name} ({api}) changes reachability but is not modelled; "
                                "results ignore it"),
    "KR016": (Severity.WARNING, "kind {kind!r} is not a kind kreach knows; did you mean "
                                "{suggestion}? object skipped"),
    "KR017": (Severity.INFO, "{kind} {name} creates pods through its operator; kreach does not "
                             "see those pods; skipped"),
    "KR018": (Severity.ERROR, "document is {detail}, not a mapping (kubectl rejects it); skipped"),
    "KR052": (Severity.ERROR, "nothing in {detail} is of a kind kreach models (workloads, Pods, "
                              "Services, Namespaces, network policies): {count} object{s} of other "
                              "kinds, nothing to analyse"),
    "KR055": (Severity.WARNING, "no pod, workload or network policy is left to analyse: there is "
                                "nothing to connect (were they skipped? see the errors)"),
    "KR056": (Severity.INFO, "a kustomization file, not a Kubernetes object; skipped (kreach reads "
                             "the other files as written; `kubectl kustomize {folder} | kreach list -` "
                             "applies its patches)"),
    "KR053": (Severity.WARNING, "the input holds {count} network polic{ies} but no pod or workload "
                                "they could select: answers can only be about pods that do not "
                                "exist yet; add the workloads' manifests (Deployments, ...)"),
    # --- validating objects ------------------------------------------------------------------
    "KR101": (Severity.ERROR, "{kind} {name}: schema violation at {path}: {detail}; object skipped"),
    "KR102": (Severity.WARNING, "{kind} {name}: schema violation at {path}: {detail} "
                                "(a field kreach does not interpret; object kept)"),
    "KR103": (Severity.ERROR, "{kind} {name}: unsupported apiVersion {detail}; object skipped"),
    "KR110": (Severity.ERROR, "{kind} {name}: invalid CIDR {detail}; object skipped"),
    "KR111": (Severity.ERROR, "{kind} {name}: except {detail}; object skipped"),
    "KR112": (Severity.ERROR, "{kind} {name}: port {detail} is out of range 1-65535; object skipped"),
    "KR113": (Severity.ERROR, "{kind} {name}: {detail}; object skipped"),
    "KR114": (Severity.ERROR, "{kind} {name}: invalid selector: {detail}; object skipped"),
    "KR115": (Severity.ERROR, "{kind} {name}: duplicate object, first defined at {detail}; "
                              "this one is skipped"),
    "KR116": (Severity.ERROR, "{kind} {name}: invalid protocol {detail}; object skipped"),
    "KR117": (Severity.ERROR, "{kind} {name}: invalid label {detail}; object skipped"),
    "KR118": (Severity.ERROR, "{kind} {name}: invalid port name {detail}; object skipped"),
    "KR119": (Severity.ERROR, "{kind} {name}: invalid value at {path}: {detail}; object skipped"),
    # --- validating admin policies (AdminNetworkPolicy, BaselineAdminNetworkPolicy, CNP) -----
    "KR130": (Severity.ERROR, "{kind} {name}: {detail}; object skipped"),
    "KR131": (Severity.ERROR, "{kind} {name}: {detail}; object skipped"),
    "KR132": (Severity.ERROR, "{kind} {name}: {detail}; object skipped"),
    "KR133": (Severity.ERROR, "{kind} {name}: {detail}; object skipped"),
    "KR134": (Severity.ERROR, "{kind} {name}: {detail}; object skipped"),
    "KR135": (Severity.ERROR, "{kind} {name}: {detail}; object skipped"),
    "KR136": (Severity.ERROR, "{kind} {name}: {detail}; object skipped"),
    "KR137": (Severity.ERROR, "{kind} {name}: {detail} (an empty peer list matches nothing and "
                              "the API rejects it); object skipped"),
    "KR138": (Severity.ERROR, "{kind} {name}: {detail}; object skipped"),
    "KR139": (Severity.ERROR, "{kind} {name}: {detail}; object skipped"),
    "KR140": (Severity.ERROR, "{kind} {name}: {detail}; object skipped"),
    "KR141": (Severity.ERROR, "{kind} {name}: {detail}; object skipped"),
    "KR120": (Severity.ERROR, "{detail}; this container-port entry is dropped, the rest of the "
                              "{kind} is analysed"),
    # --- semantic notes ---------------------------------------------------------------------
    "KR203": (Severity.WARNING, "pod {name} is defined twice (first at {detail}); this one is "
                                "ignored"),
    "KR204": (Severity.INFO, "{kind} {name} asks for {count} replicas; {made} of them are modelled, "
                             "as replicas of one template are identical for reachability "
                             "({limit})"),
    "KR201": (Severity.WARNING, "{kind} {name} uses hostNetwork: kreach applies NetworkPolicies to it "
                                "as written, but whether the network plugin enforces them for "
                                "host-network pods is implementation-defined (docs/semantics.md)"),
    "KR210": (Severity.WARNING, "Pod {name}: status pod IP {detail} is not an IP address; ignored "
                                "(ipBlocks match the pod only by its valid IPs)"),
    # --- admin policies in the model and engine ----------------------------------------------
    "KR220": (Severity.WARNING, "{kind} {name} and {other} (at {detail}) have the same priority "
                                "{priority} and rules that can match the same connection: the API "
                                "leaves the order undefined; kreach evaluates them by name "
                                "({first} first)"),
    "KR221": (Severity.WARNING, "{kind} {name}: a nodes peer needs Node objects, and the input "
                                "has none; the peer matches nothing"),
    "KR222": (Severity.WARNING, "{kind} {name}: networks {detail} also match pods by address, "
                                "but {count} pod(s) have no known IP (status.podIPs): kreach "
                                "treats them as outside every network (export pods with their "
                                "status for exact answers)"),
    "KR223": (Severity.WARNING, "{kind} {name}: a domainNames peer cannot be resolved statically; "
                                "it matches nothing"),
    "KR224": (Severity.INFO, "{kind} {name}: its subject selects no pod in the input"),
    # --- the edge: Services, Ingress, Route, HTTPRoute/GRPCRoute (analyzer.model.edge) ------
    "KR240": (Severity.WARNING, "Service {name} selects no pod in the input; nothing it routes to "
                                "is analysed"),
    "KR241": (Severity.WARNING, "{kind} {name} routes to Service {service}, which is not in the "
                                "input"),
    "KR242": (Severity.WARNING, "{kind} {name} routes to port {port} of Service {service}, which "
                                "has no such port"),
    "KR243": (Severity.WARNING, "Service {name}: targetPort {port} is a name no selected pod "
                                "declares; traffic to it goes nowhere"),
    "KR244": (Severity.WARNING, "{kind} {name} routes to {workload} on {port}, but its ingress "
                                "policies block an arbitrary in-cluster source there: a dead route "
                                "unless a rule admits the ingress controller's own pod"),
    # --- assertion files (kreach check) ----------------------------------------------------
    "KR301": (Severity.ERROR, "cannot read assertion file: {detail}"),
    "KR302": (Severity.ERROR, "YAML syntax error in the assertion file: {detail}"),
    "KR303": (Severity.ERROR, "{where}: unknown key {key!r}{hint}"),
    "KR304": (Severity.ERROR, "{where}: missing required key {key!r}"),
    "KR305": (Severity.ERROR, "{where}: {key} must be {expected}, not {found}"),
    "KR306": (Severity.ERROR, "{where}: invalid endpoint in {key}: {detail}"),
    "KR307": (Severity.ERROR, "{where}: {key} {endpoint!r} matches nothing in the manifests{hint}"),
    "KR308": (Severity.ERROR, "{where}: cannot tell what to check; expected one of the keys "
                              "{expected}{hint}"),
    "KR309": (Severity.ERROR, "duplicate assertion name {name!r}, first used at line {line}"),
    "KR310": (Severity.ERROR, "no assertion file: {detail}"),
    "KR311": (Severity.ERROR, "pyproject.toml [tool.kreach]: {detail}"),
    "KR312": (Severity.ERROR, "the assertion file holds no assertions"),
    "KR313": (Severity.ERROR, "{where}: namespace {namespace!r} is not in the manifests"),
    "KR314": (Severity.ERROR, "{where}: {key} takes {expected}; {endpoint!r} is {found}"),
    "KR315": (Severity.ERROR, "{where}: cannot be checked: {detail}"),
    "KR317": (Severity.ERROR, "{where}: manifests entry {path!r}: {detail}"),
    "KR318": (Severity.ERROR, "the assertion file exceeds {limit}"),
    "KR320": (Severity.ERROR, "the manifests are only partly analysed: {detail}; answers may be "
                              "wrong for the cluster (--allow-partial accepts this)"),
    "KR321": (Severity.WARNING, "the manifests are only partly analysed: {detail} (accepted by "
                                "--allow-partial)"),
    "KR316": (Severity.ERROR, "{where}: duplicate key {key!r}, first written at line {line}"),
    # --- Terraform plan and state JSON -------------------------------------------------------
    "KR700": (Severity.ERROR, "Terraform JSON of unsupported format_version {version!r} (kreach "
                              "reads 0.x and 1.x); the file is skipped"),
    "KR701": (Severity.ERROR, "Terraform JSON: {detail}; the file is skipped"),
    "KR702": (Severity.WARNING, "{address}: {detail}; resource skipped"),
    "KR703": (Severity.WARNING, "{address}: {fields} known only after apply; analysed without "
                                "them"),
    "KR704": (Severity.INFO, "the plan has no prior state: everything in it is new"),
    # --- Terraform HCL -------------------------------------------------------------------------
    "KR710": (Severity.ERROR, "HCL syntax error: {detail}; this file is skipped"),
    "KR711": (Severity.WARNING, "{address}: cannot resolve {expr} statically ({why}); {outcome}"),
    "KR712": (Severity.WARNING, "{address}: {detail}; resource skipped"),
    "KR713": (Severity.ERROR, "{detail}"),
    "KR714": (Severity.WARNING, "module {name}: source {detail} is not a local directory; its "
                                "resources are not read"),
    # --- Helm and Kustomize --------------------------------------------------------------------
    "KR720": (Severity.WARNING, "{what} is not read as manifests (templates need rendering): "
                                "run `{command} | kreach list -`, or pass --render"),
    "KR721": (Severity.ERROR, "--render: {tool} is not on PATH; render it yourself: "
                              "`{command} | kreach list -`"),
    "KR722": (Severity.ERROR, "`{command}` failed (exit {status}): {detail}"),
    "KR723": (Severity.WARNING, "{count} document(s) in {files} YAML file(s) hold template syntax "
                                "({{{{ }}}}) outside a chart and are skipped (this file is the "
                                "first): render them and pipe them in (`helm template CHART | "
                                "kreach list -`)"),
    # --- lint and compare (KR500-KR529) --------------------------------------------------------
    "KR501": (Severity.ERROR, "[tool.kreach.lint] {detail}"),
    "KR502": (Severity.ERROR, "{where}: {pattern!r} is no lint code or prefix of one "
                              "(see docs/lint.md)"),
    "KR503": (Severity.WARNING, "suppression comment names {pattern!r}, which is no lint code or "
                                "prefix of one; it suppresses nothing"),
    "KR504": (Severity.INFO, "suppression comment for {codes} matched no finding"),
    "KR510": (Severity.ERROR, "input {side} of the comparison holds nothing usable"),
}


def diagnostic(code: str, source: SourceRef | None = None, **fields: object) -> Diagnostic:
    """Build the diagnostic ``code`` with its catalogue severity and filled-in message. Control
    characters that came from the input are escaped: a ``kind`` holding a newline must not print
    a second, forged diagnostic line."""
    severity, template = CATALOGUE[code]
    kind = fields.get("kind")
    message = template.format(**fields)
    if kind in _POLICY_KINDS and message.endswith("; object skipped"):
        message = message.removesuffix("; object skipped") + _WHOLE_POLICY
    return Diagnostic(code, severity, escape_controls(message), source,
                      kind if isinstance(kind, str) else None)


# a policy is never read in part: its rules together say what it allows
_POLICY_KINDS = ("NetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy",
                 "ClusterNetworkPolicy")
_WHOLE_POLICY = "; the whole policy is skipped (read in part it could allow what it does not)"
