"""``kreach check --format junit``: one ``<testcase>`` per assertion, as CI test reporters
(GitLab, Jenkins, GitHub test-report actions) read it. A failed assertion is a ``<failure>``;
an unknown answer or an assertion that cannot be evaluated is an ``<error>``."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from ..assertions.results import CheckReport, Status
from .check_text import result_lines, summary


def render(report: CheckReport) -> str:
    failures = report.count(Status.FAILED)
    errors = report.count(Status.ERROR) + report.count(Status.UNKNOWN)
    file_errors = [d for d in report.diagnostics if d.severity.value == "error"]
    suites = ET.Element("testsuites", name="kreach", tests=str(len(report.results)),
                        failures=str(failures), errors=str(errors + (1 if file_errors else 0)))
    suite = ET.SubElement(suites, "testsuite", name=f"kreach check {report.file or ''}".strip(),
                          tests=str(len(report.results)), failures=str(failures),
                          errors=str(errors), skipped="0")
    if file_errors:
        case = ET.SubElement(suite, "testcase", classname="kreach", name="input")
        err = ET.SubElement(case, "error", message=f"{len(file_errors)} input error(s)")
        err.text = "\n".join(str(d) for d in report.diagnostics)
    for r in report.results:
        a = r.assertion
        case = ET.SubElement(suite, "testcase", classname=f"kreach.{a.kind}", name=a.name,
                             file=a.source.file, line=str(a.source.line))
        if r.passed:
            continue
        tag = "failure" if r.status is Status.FAILED else "error"
        el = ET.SubElement(case, tag, message=f"expected {r.expected}; found {r.found}",
                           type=r.status.value)
        el.text = "\n".join(result_lines(r)[1:])
    out = ET.SubElement(suite, "system-out")
    out.text = summary(report)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
