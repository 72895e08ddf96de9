"""Assertions as code: ``kreach.yaml`` files, their loader and the runner behind ``kreach check``.

load (:mod:`.loader`, :mod:`.config`) -> model (:mod:`.model`) -> run (:mod:`.runner`) ->
results (:mod:`.results`), rendered by ``analyzer.writers.check_*``.
"""

from __future__ import annotations

from .config import find_assertion_file
from .loader import load_assertions, parse_assertions
from .model import Assertion, AssertionFile
from .results import CheckReport, Example, Result, RuleHit, Status
from .runner import Checker, CheckOptions, check_file

__all__ = ["Assertion", "AssertionFile", "CheckOptions", "CheckReport", "Checker", "Example",
           "Result", "RuleHit", "Status", "check_file", "find_assertion_file", "load_assertions",
           "parse_assertions"]
