"""kreach: static connectivity analysis for Kubernetes NetworkPolicies.

The public surface is small; everything not listed in ``__all__`` may change.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .analysis import Analysis, Options, analyze  # noqa: E402
from .model.connset import ConnectionSet  # noqa: E402
from .diagnostics import Diagnostic, Severity  # noqa: E402
from .diff import Diff, diff  # noqa: E402  (the function shadows the subpackage's name here)

__all__ = ["Analysis", "ConnectionSet", "Diagnostic", "Diff", "Options", "Severity", "analyze", "diff",
           "__version__"]
