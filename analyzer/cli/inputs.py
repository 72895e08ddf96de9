"""Options every command that reads paths shares for inputs other than manifests: Terraform
variables, Helm/Kustomize rendering. They become one :class:`InputOptions`."""

from __future__ import annotations

from typing import List, Optional

import typer

from ..inputs.options import InputOptions

VARS = typer.Option(None, "--var", metavar="NAME=VALUE",
                    help="Terraform variable for .tf input (repeatable), as terraform -var.")
VAR_FILES = typer.Option(None, "--var-file", metavar="FILE",
                         help="Terraform .tfvars file for .tf input (repeatable).")
RENDER = typer.Option(False, "--render",
                      help="Render Helm charts and kustomizations with helm / kubectl on PATH.")
HELM_VALUES = typer.Option(None, "--helm-values", metavar="FILE",
                           help="Values file for helm template (repeatable; implies --render).")


def input_options(var: Optional[List[str]], var_file: Optional[List[str]], render: bool,
                  helm_values: Optional[List[str]]) -> InputOptions:
    for item in var or ():
        name, sep, _ = item.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{item!r}: expected NAME=VALUE", param_hint="--var")
    return InputOptions(tf_vars=tuple(var or ()), tf_var_files=tuple(var_file or ()),
                        render=bool(render or helm_values), helm_values=tuple(helm_values or ()))
