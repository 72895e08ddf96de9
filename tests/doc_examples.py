"""Every example in README.md and docs/*.md, found and re-run (tests/test_doc_examples.py).

A documented example that no longer runs, or no longer prints what the page shows, fails a test
named after its file and line. Conventions, so a new page or command is covered by writing its
docs the usual way:

* ```` ```console ```` (or a plain ```` ``` ````) block whose lines start with ``$ kreach ...``:
  a transcript. The lines after a command, up to the next ``$`` line, are its expected output
  (stdout, or stdout and stderr together). ``...`` alone on a line stands for any number of
  lines, and ``...`` inside a line for any text, as in doctest's ELLIPSIS. A command with no
  output lines is only run.
* ```` ```sh ```` / ```` ```bash ```` block: each line that runs kreach is run (``#`` comments
  are dropped; in ``a && b`` and ``a | b`` the kreach parts are run, and a pipeline that feeds
  kreach from another program is skipped). A block that changes directory is skipped.
* ```` ```python ```` block: executed in the repository root; a ``test_*`` function it defines
  that takes ``kreach_cluster`` is called with the demo cluster.
* ``<!-- example: workflow -->`` right before a ```` ```yaml ```` block (a CI workflow): each
  ``run: kreach ...`` line is run, with every ``${{ ... }}`` expression replaced by ``HEAD``
  (so ``--base ${{ github.event.pull_request.base.sha }}`` compares with the checkout's HEAD).
* ``<!-- example: CMD -->`` right before a plain ```` ``` ```` block: the block is the output of
  ``kreach CMD`` (with the same ``...`` rules). ``<!-- example: skip REASON -->`` skips the next
  block. A command may end in ``# exit N`` to expect that exit code; otherwise 0 or 1 is
  expected (2 means bad input, which an example should not show unless it says so).

Commands run in-process (typer's CliRunner) from the repository root, so relative paths in the
docs (``fixtures/demo``) resolve as a reader's would from a checkout.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PAGES = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")))

_FENCE = re.compile(r"^```(\w*)[ \t]*$")
_MARK = re.compile(r"^<!--\s*example:\s*(.*?)\s*-->\s*$")
_EXIT = re.compile(r"#\s*exit\s+(\d)\s*$")


@dataclass
class Example:
    page: Path
    line: int  # 1-based line of the command (or of the block)
    kind: str  # "command" or "python"
    argv: list[str] = field(default_factory=list)  # kreach's arguments, without "kreach"
    expected: list[str] | None = None  # output lines; None: only run it
    exit_codes: tuple[int, ...] = (0, 1)
    source: str = ""  # python code, or the command as written
    skip: str | None = None

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def _blocks(text: str):
    """(language, first content line number, lines, marker before the fence)."""
    lines = text.splitlines()
    i, marker = 0, None
    while i < len(lines):
        m = _FENCE.match(lines[i])
        mark = _MARK.match(lines[i].strip())
        if mark:
            marker = mark.group(1)
        elif m:
            lang, start, body = m.group(1), i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            yield lang, start + 1, body, marker
            marker = None
        elif lines[i].strip():
            marker = None
        i += 1


def _kreach_argv(command: str) -> tuple[list[str] | None, str | None]:
    """The kreach arguments of one shell line, or None with the reason it is not run."""
    code = _EXIT.search(command)
    for part in re.split(r"&&|;", command):
        stages = part.split("|")
        for n, stage in enumerate(stages):
            words = shlex.split(stage, comments=True)
            if words[:1] == ["kreach"]:
                if n > 0:
                    return None, "kreach reads the output of another program"
                words = [w for w in words[1:]]
                if ">" in words:
                    words = words[: words.index(">")]
                return words, None
    return None, "no kreach command" if not code else None


def examples(page: Path) -> list[Example]:
    found: list[Example] = []
    text = page.read_text()
    for lang, first, body, marker in _blocks(text):
        if marker is not None and marker.startswith("skip"):
            found.append(Example(page, first, "command", skip=marker[4:].strip() or "marked skip"))
            continue
        if lang == "python":
            found.append(Example(page, first, "python", source="\n".join(body)))
            continue
        if marker == "workflow" and lang in ("yaml", "yml"):
            found += _workflow(page, first, body)
            continue
        if marker is not None and lang == "":
            argv, _ = _kreach_argv("kreach " + marker)
            found.append(Example(page, first - 1, "command", argv or [], body,
                                 _exit_codes(marker), marker))
            continue
        if lang in ("console", "") and any(ln.startswith("$ kreach") for ln in body):
            found += _transcript(page, first, body)
        elif lang in ("sh", "bash", "shell"):
            if any(re.match(r"^\s*cd\s", ln) for ln in body):
                continue  # depends on a directory the block makes; not reproducible here
            for n, ln in enumerate(body):
                if not ln.strip() or ln.lstrip().startswith("#"):
                    continue
                argv, why = _kreach_argv(ln)
                if argv is not None:
                    found.append(Example(page, first + n, "command", argv, None, _exit_codes(ln),
                                     re.sub(r"^\s*kreach\s+", "", ln)))
    return found


_RUN = re.compile(r"^\s*(?:-\s+)?run:\s*(kreach\s.*)$")
_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def _workflow(page: Path, first: int, body: list[str]) -> list[Example]:
    """The kreach steps of a CI workflow, with its ``${{ }}`` expressions replaced by HEAD."""
    out = []
    for n, ln in enumerate(body):
        m = _RUN.match(ln)
        if m:
            command = _EXPRESSION.sub("HEAD", m.group(1))
            argv, why = _kreach_argv(command)
            out.append(Example(page, first + n, "command", argv or [], None, _exit_codes(command),
                               command, skip=why if argv is None else None))
    return out


def _exit_codes(command: str) -> tuple[int, ...]:
    m = _EXIT.search(command)
    return (int(m.group(1)),) if m else (0, 1)


def _transcript(page: Path, first: int, body: list[str]) -> list[Example]:
    out: list[Example] = []
    current: Example | None = None
    for n, ln in enumerate(body):
        if ln.startswith("$ "):
            argv, why = _kreach_argv(ln[2:])
            current = Example(page, first + n, "command", argv or [], [], _exit_codes(ln), ln[2:],
                              skip=why if argv is None else None)
            out.append(current)
        elif current is not None:
            current.expected.append(ln)
    for e in out:
        if e.expected == []:
            e.expected = None
    return out


def matches(expected: list[str], actual: str) -> bool:
    """``actual`` printed as ``expected`` says, with ``...`` for any lines or any text."""
    pattern = []
    for ln in expected:
        if ln.strip() == "...":
            pattern.append(r"(?:.*\n)*?")
        else:
            pattern.append(".*?".join(re.escape(p) for p in ln.rstrip().split("...")) + r"[ \t]*\n")
    text = "\n".join(x.rstrip() for x in actual.rstrip("\n").splitlines()) + "\n"
    return re.fullmatch("".join(pattern), text) is not None


def all_examples() -> list[Example]:
    return [e for page in PAGES for e in examples(page)]
