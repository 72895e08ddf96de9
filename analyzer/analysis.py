"""The library's front door: paths in, an :class:`Analysis` out (no printing, no exiting).

load -> validate -> model -> compile -> evaluate -> graph; each stage's diagnostics are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, Literal, Sequence

if TYPE_CHECKING:  # networkx is imported only when a graph is built
    from .inputs.loading import ParseCache
    import networkx as nx

    from .engine.graph import ConnectivityView

from .diagnostics import Diagnostic, Severity, has_errors, sort_key
from .engine.evaluate import Reachability, evaluate
from .inputs.limits import Limits
from .inputs.loading import LoadResult, Locator, load_paths, with_namespace
from .inputs.options import InputOptions
from .model.cluster import Cluster, build_cluster


@dataclass(frozen=True)
class Options:
    level: Literal["workload", "pod"] = "workload"
    k8s_version: str | None = None
    schema: bool = True  # validate against the Kubernetes JSON schemas
    inputs: InputOptions = InputOptions()  # Terraform variables, plan side, rendering
    namespace: str | None = None  # namespace of namespaced objects that name none (kubectl -n)
    exclude: tuple[str, ...] = ()  # globs a directory walk leaves out
    limits: Limits | None = None  # None: the defaults, or KREACH_MAX_* from the environment
    cache: bool = False  # reuse parsed and validated files (analyzer.inputs.cache); the CLI's default is on
    # processes that read a large input (analyzer.inputs.parallel): 1 (the library's default)
    # reads in this process; None: one per CPU, or KREACH_JOBS (the CLI's default)
    jobs: int | None = 1


class Outcome:
    """What a command checks of what it read (an analysis, or one side of a diff): its
    ``diagnostics`` and the number of usable ``objects``."""

    diagnostics: tuple[Diagnostic, ...]
    objects: int

    @property
    def has_errors(self) -> bool:
        return has_errors(self.diagnostics)

    @property
    def is_empty(self) -> bool:
        """True when nothing usable was read: there is nothing to analyse."""
        return self.objects == 0


@dataclass(frozen=True)
class Analysis(Outcome):
    cluster: Cluster
    reachability: Reachability
    diagnostics: tuple[Diagnostic, ...]
    locator: Locator
    options: Options = field(default_factory=Options)
    objects: int = 0  # usable objects after validation
    edge: tuple = ()  # analyzer.engine.edge.Reached: routes from outside and whether they get through
    # the analysis cache's key for it (analyzer.analysis_cache); None when it was not cached
    cache_key: str | None = field(default=None, compare=False, repr=False)

    @cached_property
    def view(self) -> "ConnectivityView":
        """Endpoints and connections at the requested level (what writers read)."""
        from .engine.graph import build_view

        return build_view(self.reachability, self.options.level)

    @cached_property
    def graph(self) -> "nx.DiGraph":
        """The reachability graph: a networkx DiGraph over workloads or pods and external
        address ranges; edges carry ``conns``, ``egress`` and ``ingress`` (rule references)."""
        from .engine.graph import to_networkx

        return to_networkx(self.view)



def analyze(paths: Sequence[str], options: Options = Options(), *,
            stdin_text: str | bytes | None = None, rev: str | None = None,
            shared: "ParseCache | None" = None) -> Analysis:
    """Analyse the manifests under ``paths``: as they are on disk, or with ``rev`` as they are at
    that git revision (read from the repository of the working directory; raises
    :class:`~analyzer.inputs.git.GitError` when it cannot be read). ``shared`` shares parsed
    files between the analyses of one run (two revisions of one repository)."""
    if shared is not None:
        return analyze_loaded(read_side(paths, options, stdin_text=stdin_text, rev=rev,
                                        shared=shared), options, shared.validation)
    limits = options.limits or Limits.from_env()
    cache = None
    if options.cache:
        from .inputs.cache import DocumentCache

        cache = DocumentCache.from_env()
    probe = None
    if cache is not None and rev is None and stdin_text is None:  # the whole analysis, cached
        from .analysis_cache import probe as probe_for

        probe = probe_for(paths, options, limits)
        cached = probe.restore(options) if probe is not None else None
        if cached is not None:
            return cached
    loaded, cache = _read(paths, options, limits, stdin_text, rev, cache)
    analysis = analyze_loaded(loaded, options, cache)
    if probe is not None and probe.read_alike(loaded.keys):  # no file changed since the pre-pass
        probe.save(analysis)
        analysis = replace(analysis, cache_key=probe.key)
    return analysis


def read_side(paths: Sequence[str], options: Options, *, shared: "ParseCache",
              stdin_text: str | bytes | None = None, rev: str | None = None) -> LoadResult:
    """Read one of the inputs one run compares (``shared``: what they share, so a file that is
    the same on both sides is parsed and validated once), without analysing it:
    ``analyze_loaded(result, options, shared.validation)`` does."""
    limits = options.limits or Limits.from_env()
    if options.cache and shared.disk is None:  # both sides of a diff: the cache keyed by content
        from .inputs.cache import DocumentCache

        shared.disk = DocumentCache.from_env()
    # what the other side read, or an earlier run stored: not read ahead again
    known = partial(shared.knows, limits=limits, inputs=options.inputs)
    loaded, _ = _read(paths, options, limits, stdin_text, rev, None, shared, known)
    return replace(loaded, keys=shared.keys())  # validate a file unchanged since the other side once


def _read(paths: Sequence[str], options: Options, limits: Limits, stdin_text: str | bytes | None,
          rev: str | None, cache: Any, shared: "ParseCache | None" = None,
          known: Any = None) -> tuple[LoadResult, Any]:
    """Read ``paths`` (at ``rev``), large inputs on every core first; return what was read and
    the document cache the validation should consult."""
    if rev is not None:
        from .inputs.git import read_revision
        from .inputs.parallel import prefetch_texts

        def ahead(named):  # large inputs: read and check files on every core first
            return prefetch_texts(named, jobs=options.jobs, inputs=options.inputs, limits=limits,
                                  k8s_version=options.k8s_version, schema=options.schema,
                                  namespace=options.namespace, known=known)

        loaded = read_revision(paths, rev, shared=shared, inputs=options.inputs,
                               exclude=options.exclude, limits=limits,
                               ahead=ahead if shared is not None else None)
        return loaded, cache
    from .inputs.parallel import prefetch

    cache = prefetch(paths, jobs=options.jobs, exclude=options.exclude, inputs=options.inputs,
                     limits=limits, k8s_version=options.k8s_version, schema=options.schema,
                     namespace=options.namespace, backing=cache, known=known)
    loaded = load_paths(paths, stdin_text=stdin_text, inputs=options.inputs,
                        exclude=options.exclude, limits=limits, cache=cache, shared=shared)
    return loaded, cache


def analyze_texts(named: Sequence[tuple[str, str]], options: Options = Options(), *,
                  shared: "ParseCache | None" = None) -> Analysis:
    """Analyse manifests already in memory: ``(name, text)`` pairs, where ``name`` is what
    locations will say (a file name, ``REV:path``, ...)."""
    from .inputs.loading import load_texts

    loaded = load_texts(named, shared, inputs=options.inputs,
                        limits=options.limits or Limits.from_env())
    return analyze_loaded(loaded, options)


def analyze_loaded(loaded: LoadResult, options: Options = Options(), cache=None) -> Analysis:
    """Validate, model and evaluate what a loader read (any loader producing a LoadResult);
    ``cache``: the on-disk document cache the loader used, if any."""
    limits = options.limits or Limits.from_env()
    from .inputs.validation import validate_manifests

    manifests = loaded.manifests
    if options.namespace:
        manifests = with_namespace(manifests, options.namespace)
    checked = validate_manifests(manifests, loaded.locator, k8s_version=options.k8s_version,
                                 schema=options.schema, cache=cache, keys=loaded.keys,
                                 namespace=options.namespace)
    model = build_cluster(checked.manifests, limits)
    reach = evaluate(model.cluster, jobs=options.jobs)
    engine_diags: tuple[Diagnostic, ...] = ()
    if model.cluster.admin_policies:
        from .engine.admin import admin_diagnostics
        engine_diags = tuple(admin_diagnostics(model.cluster, reach.compiled, reach.index))
    edge: tuple = ()
    if model.cluster.edges or model.cluster.services:
        from .engine.edge import edge_routes
        edge, problems = edge_routes(reach)
        engine_diags += edge_diagnostics(edge, problems, loaded.locator)
    diags = loaded.diagnostics + checked.diagnostics + model.diagnostics + engine_diags
    diags = sorted(diags + one_sided(model.cluster, bool(checked.manifests) and has_errors(diags)),
                   key=sort_key)
    return Analysis(model.cluster, reach, tuple(diags), loaded.locator, options,
                    len(checked.manifests), edge)


def edge_diagnostics(reached, problems, locator: Locator) -> tuple[Diagnostic, ...]:
    """Routes that lead nowhere (KR240-KR243) and routes through the ingress controller that the
    workload's policies block (KR244), each at the line of the field responsible."""
    from .messages import diagnostic
    from .source import SourceRef

    out = [diagnostic(p.code, SourceRef(p.source.file, locator.line(p.source, p.path) or p.source.line,
                                        p.source.doc, p.source.path, p.source.origin), **dict(p.fields))
           for p in problems]
    for r in reached:
        if not r.admitted and r.route.through_controller:
            out.append(diagnostic("KR244", r.route.source, kind=r.route.kind, name=r.route.name,
                                  workload=r.route.workload, port=f"{r.route.protocol} {r.route.port}"))
    return tuple(out)


def one_sided(cluster: Cluster, skipped: bool = False) -> tuple[Diagnostic, ...]:
    """Input with only one side of the question: policies but nothing they select (KR053), or
    neither pods nor policies while objects were kept and others ``skipped`` for errors (KR055:
    an old manifest set whose workloads all failed validation leaves only Services behind).
    Workloads without any policy are not flagged: "everything is allowed" is a real answer."""
    from .messages import diagnostic

    policies = len(cluster.policies) + len(cluster.admin_policies)
    if policies and not cluster.pods:
        return (diagnostic("KR053", None, count=policies, ies="y" if policies == 1 else "ies"),)
    if not policies and not cluster.pods and skipped:
        return (diagnostic("KR055", None),)
    return ()


__all__ = ["Analysis", "InputOptions", "Options", "analyze", "analyze_loaded", "analyze_texts", "Severity"]
