"""The auditor's report: :func:`audit` computes an :class:`Audit`; one module per format renders it."""

from .audit import Audit, audit

__all__ = ["Audit", "audit"]
