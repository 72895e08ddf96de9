"""Every example in README.md and docs/*.md runs and prints what the page shows (the harness and
its conventions: tests/doc_examples.py). A failure is named after the page and line."""

from __future__ import annotations

import inspect

import pytest
from typer.testing import CliRunner

from analyzer.cli import app

from doc_examples import ROOT, Example, all_examples, matches

EXAMPLES = all_examples()


def test_the_pages_have_examples():
    pages = {e.page.name for e in EXAMPLES}
    assert {"README.md", "queries.md", "ci.md", "output.md"} <= pages


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_doc_example(example: Example, monkeypatch):
    if example.skip:
        pytest.skip(example.skip)
    monkeypatch.chdir(ROOT)
    if example.kind == "python":
        namespace: dict = {"__name__": "doc_example"}
        exec(compile(example.source, example.id, "exec"), namespace)
        for name, fn in namespace.items():
            if name.startswith("test_") and callable(fn) \
                    and list(inspect.signature(fn).parameters) == ["kreach_cluster"]:
                from analyzer.testing import load_cluster
                fn(load_cluster("fixtures/demo"))
        return
    result = CliRunner().invoke(app, example.argv)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{example.id}: `kreach {example.source}` raised {result.exception!r}")
    assert result.exit_code in example.exit_codes, (
        f"{example.id}: `kreach {example.source}` exited {result.exit_code}\n{result.stderr}")
    if example.expected is not None:
        assert matches(example.expected, result.stdout) \
            or matches(example.expected, result.stderr + result.stdout), (
            f"{example.id}: `kreach {example.source}` printed\n{result.stdout}{result.stderr}")


def test_the_harness_finds_stale_output_and_honours_ellipses(tmp_path):
    from doc_examples import examples

    page = tmp_path / "page.md"
    page.write_text("text\n\n```console\n$ kreach list fixtures/demo  # exit 0\nfirst\n...\nlast\n```\n\n"
                    "<!-- example: can a b -->\n```\nyes: a -> b\n```\n\n<!-- example: skip needs kubectl -->\n"
                    "```sh\nkubectl get pods | kreach list -\n```\n")
    found = examples(page)
    assert [(e.line, e.argv, e.expected, e.exit_codes, e.skip) for e in found] == [
        (4, ["list", "fixtures/demo"], ["first", "...", "last"], (0,), None),
        (11, ["can", "a", "b"], ["yes: a -> b"], (0, 1), None),
        (17, [], None, (0, 1), "needs kubectl"),
    ]
    workflow = tmp_path / "ci.md"
    workflow.write_text("<!-- example: workflow -->\n```yaml\nsteps:\n  - run: pip install kreach\n"
                        "  - run: kreach diff --base ${{ github.event.pull_request.base.sha }} -f md"
                        "  # exit 1\n```\n")
    assert [(e.line, e.argv, e.exit_codes) for e in examples(workflow)] == [
        (5, ["diff", "--base", "HEAD", "-f", "md"], (1,))]
    assert matches(["first", "...", "last"], "first\nx\ny\nlast\n")
    assert matches(["a (...:3) b"], "a (f.yaml:3) b\n")
    assert not matches(["a (...:3) b"], "a (f.yaml:4) b\n")
    assert not matches(["first", "last"], "first\nmiddle\nlast\n")


def test_no_documented_command_needs_quoting_for_history_expansion():
    """``!x`` outside single quotes is history expansion in an interactive bash or zsh."""
    import re

    for e in EXAMPLES:
        if e.kind == "command" and e.source:
            unquoted = re.sub(r"'[^']*'", "", e.source.split("#")[0])
            assert not re.search(r"![^=\s(]", unquoted), f"{e.id}: quote the '!' in `{e.source}`"


def test_new_pod_forms_from_the_docs_answer_as_documented():
    result = CliRunner().invoke(app, ["can", "new:shop:{}", "shop/api", str(ROOT / "fixtures/demo")])
    assert result.exit_code == 1 and result.stdout.startswith("no: new:shop:{} -> shop/api")
    result = CliRunner().invoke(app, ["can", "new:shop", "shop/api", str(ROOT / "fixtures/demo")])
    assert result.exit_code == 0 and "a new pod in namespace shop with labels app=web" in result.stdout
