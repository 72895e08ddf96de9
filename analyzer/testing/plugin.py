"""The kreach pytest plugin (entry point ``pytest11``: ``kreach``).

* ``--kreach-manifests PATH`` (repeatable) or the ini option ``kreach_manifests`` name the
  manifests the session-wide ``kreach_cluster`` fixture loads;
* every ``kreach.yaml`` pytest meets is collected, one test item per assertion, so ``pytest``
  alone runs them; an assertion file with problems fails as one item listing every diagnostic.
"""

from __future__ import annotations

import os
from functools import cached_property

import pytest

from ..assertions.loader import load_assertions
from ..assertions.results import Result
from ..assertions.runner import ASSERTION_FILE_NAMES, Checker, CheckOptions, open_manifests
from ..diagnostics import Severity
from . import KreachCluster, failure_message, load_cluster, refuse_partial


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("kreach", "kreach NetworkPolicy reachability")
    group.addoption("--kreach-manifests", action="append", default=None, metavar="PATH",
                    help="Manifest file or directory for the kreach_cluster fixture (repeatable).")
    parser.addini("kreach_manifests", type="paths", default=[],
                  help="Manifest files or directories for the kreach_cluster fixture.")


@pytest.fixture(scope="session")
def kreach_cluster(pytestconfig: pytest.Config) -> KreachCluster:
    """The manifests of --kreach-manifests (or the kreach_manifests ini option), analysed once."""
    paths = pytestconfig.getoption("kreach_manifests") or \
        [str(p) for p in pytestconfig.getini("kreach_manifests")]
    if not paths:
        raise pytest.UsageError("kreach_cluster needs manifests: pass --kreach-manifests PATH "
                                "or set kreach_manifests in the pytest configuration")
    return load_cluster(*paths, options=_options(str(pytestconfig.rootpath)))


def _options(start: str) -> CheckOptions:
    """[tool.kreach] schema and k8s-version, as `kreach check` reads them."""
    from ..inputs.config import find_settings

    settings = find_settings(start)
    return CheckOptions(schema=settings.get("schema", True), k8s_version=settings.get("k8s-version"),
                        allow_partial=settings.get("allow-partial", False))


def pytest_collect_file(file_path, parent):
    if file_path.name in ASSERTION_FILE_NAMES:
        return KreachFile.from_parent(parent, path=file_path)
    return None


class KreachFailure(Exception):
    """An assertion of a kreach.yaml file that does not hold."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.found)
        self.result = result


class KreachInputError(Exception):
    """An assertion file that cannot be read as a whole."""


class KreachFile(pytest.File):
    def collect(self):
        loaded = load_assertions(_display(self.path))
        problems = [d for d in loaded.diagnostics if d.severity is Severity.ERROR]
        if problems or loaded.file is None:
            yield KreachProblems.from_parent(self, name="assertion file", diagnostics=loaded.diagnostics)
            return
        for a in loaded.file.assertions:
            yield KreachItem.from_parent(self, name=a.name, assertion=a)
        self._file = loaded.file

    @cached_property
    def checker(self) -> Checker:
        options = _options(str(self.path.parent))
        checker, diags = open_manifests(self._file, options)
        if checker is None:
            raise ValueError("kreach: nothing to analyse:\n" + "\n".join(str(d) for d in diags))
        refuse_partial(diags, options, f"the manifests of {self._file.path}")
        return checker


class KreachItem(pytest.Item):
    def __init__(self, *, assertion, **kwargs) -> None:
        super().__init__(**kwargs)
        self.assertion = assertion

    def runtest(self) -> None:
        result = self.parent.checker.run(self.assertion)
        if not result.passed:
            raise KreachFailure(result)

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, KreachFailure):
            r = excinfo.value.result
            return f"{self.assertion.source}: assertion {r.status.value}\n{failure_message(r)}"
        return super().repr_failure(excinfo, style)

    def reportinfo(self):
        return self.path, self.assertion.source.line - 1, f"kreach: {self.name}"


class KreachProblems(pytest.Item):
    """Stands for an assertion file that cannot be read as a whole: it fails with the diagnostics."""

    def __init__(self, *, diagnostics, **kwargs) -> None:
        super().__init__(**kwargs)
        self.diagnostics = diagnostics

    def runtest(self) -> None:
        raise KreachInputError(str(self.path))

    def repr_failure(self, excinfo, style=None):
        return "\n".join(str(d) for d in self.diagnostics)

    def reportinfo(self):
        return self.path, 0, "kreach: assertion file"


def _display(path) -> str:
    rel = os.path.relpath(path)
    return str(path) if rel.startswith("..") else rel
