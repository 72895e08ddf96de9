"""How inputs other than plain manifests are read: one options object for every reader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class InputOptions:
    """``tf_vars``: ``NAME=VALUE`` pairs given with ``--var``; ``tf_var_files``: ``.tfvars``
    files (``--var-file``); ``plan_side``: which state of a Terraform plan to read
    (``planned``: after apply, ``prior``: before); ``render``: render Helm charts and
    kustomizations with the tools on PATH; ``helm_values``: values files for ``helm template``."""

    tf_vars: tuple[str, ...] = ()
    tf_var_files: tuple[str, ...] = ()
    plan_side: Literal["planned", "prior"] = "planned"
    render: bool = False
    helm_values: tuple[str, ...] = ()
