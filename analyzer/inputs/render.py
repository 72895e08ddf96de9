"""Helm charts and kustomizations: rendered by the tools on PATH, or one hint to render them.

A directory holding ``Chart.yaml`` is a chart, one holding ``kustomization.yaml`` (or ``.yml``,
or ``Kustomization``) a kustomization; a directory walk reads either as one unit instead of
file by file (their files are templates and patches, not manifests). With ``--render`` the
chart goes through ``helm template`` (with ``--helm-values`` files) and the kustomization
through ``kubectl kustomize`` (or ``kustomize build``); without it, or without the tool, one
message says which command to pipe in. Rendered objects are located in the chart template they
came from (the ``# Source:`` comments helm writes), at their line in its rendered text.

Nothing is rendered unless asked: rendering runs a program from PATH, and a chart's
dependencies may need the network.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from typing import Iterable, Iterator

from ..diagnostics import Diagnostic
from ..messages import diagnostic
from ..source import SourceRef
from .options import InputOptions

CHART = "Chart.yaml"
KUSTOMIZATIONS = ("kustomization.yaml", "kustomization.yml", "Kustomization")
TIMEOUT_S = 120
_SOURCE = re.compile(r"^# Source: (.+?)\s*$", re.MULTILINE)


def is_unit(names: Iterable[str]) -> bool:
    names = set(names)
    return CHART in names or any(k in names for k in KUSTOMIZATIONS)


def read_unit(directory: str, inputs: InputOptions, _locator: object = None
              ) -> Iterator[tuple[str, str] | Diagnostic]:
    """``(file name, rendered YAML)`` per template of the unit at ``directory``, or diagnostics."""
    names = os.listdir(directory) if os.path.isdir(directory) else []
    if CHART in names:
        marker = os.path.join(directory, CHART)
        command = ["helm", "template", directory]
        for values in inputs.helm_values:
            command += ["--values", values]
        tools = [command]
    else:
        marker = os.path.join(directory, next(k for k in KUSTOMIZATIONS if k in names))
        tools = [["kubectl", "kustomize", directory], ["kustomize", "build", directory]]
    shown = shlex.join(tools[0])
    where = SourceRef(marker, 1)
    if not inputs.render:
        what = f"{'Helm chart' if CHART in names else 'kustomization'} {directory}"
        yield diagnostic("KR720", where, what=what, command=shown)
        return
    command = next((t for t in tools if shutil.which(t[0])), None)
    if command is None:
        yield diagnostic("KR721", where, tool=" or ".join(t[0] for t in tools), command=shown)
        return
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT_S,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as e:
        yield diagnostic("KR722", where, command=shlex.join(command), status="-", detail=str(e))
        return
    if done.returncode != 0:
        lines = [ln for ln in (done.stderr or "").splitlines() if ln.strip()]
        yield diagnostic("KR722", where, command=shlex.join(command), status=done.returncode,
                         detail=lines[-1] if lines else "no message")
        return
    if CHART in names:
        yield from split_by_source(done.stdout, directory)
    else:
        yield marker, done.stdout


def referenced(units: Iterable[str]) -> set[str]:
    """Units another unit of ``units`` builds on (a kustomization's ``resources``, ``bases``
    and ``components`` that are directories): rendered through it, not on their own, so that
    a walk over base, components and overlays reads each object once."""
    import yaml

    out: set[str] = set()
    for unit in units:
        names = os.listdir(unit) if os.path.isdir(unit) else []
        name = next((k for k in KUSTOMIZATIONS if k in names), None)
        if name is None:
            continue
        try:
            with open(os.path.join(unit, name), encoding="utf-8") as fh:
                doc = yaml.safe_load(fh)
        except (OSError, ValueError, yaml.YAMLError):
            continue  # reported when the unit is rendered
        if not isinstance(doc, dict):
            continue
        for key in ("resources", "bases", "components"):
            for entry in doc.get(key) or []:
                if isinstance(entry, str) and "://" not in entry:
                    path = os.path.normpath(os.path.join(unit, entry))
                    if os.path.isdir(path):
                        out.add(path)
    return out


def split_by_source(text: str, chart_dir: str) -> Iterator[tuple[str, str]]:
    """Helm's output split into the templates it came from: ``# Source: chart/templates/x.yaml``
    is ``<chart_dir>/templates/x.yaml`` (the first component is the chart's name, which need not
    be its directory's)."""
    pieces: dict[str, list[str]] = {}
    order: list[str] = []
    for doc in re.split(r"^---[ \t]*$", text, flags=re.MULTILINE):
        if not doc.strip():
            continue
        m = _SOURCE.search(doc)
        rel = m.group(1).split("/", 1)[1] if m and "/" in m.group(1) else "(rendered)"
        name = os.path.join(chart_dir, rel)
        if name not in pieces:
            pieces[name] = []
            order.append(name)
        pieces[name].append(doc.strip("\n"))
    for name in order:
        yield name, "---\n" + "\n---\n".join(pieces[name]) + "\n"
