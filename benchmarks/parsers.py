#!/usr/bin/env python3
"""YAML parsers on one cluster directory (issue #16 item 2): is a faster parser worth adopting?

Times, in one process, each over every ``*.yaml`` file of DIR read into memory first (best of
``--repeat``):

* ``ryml parse``: rapidyaml's ``parse_in_arena`` (C++ tree only; needs ``pip install rapidyaml``);
* ``ryml parse + walk``: the same, then a Python walk building the dicts and lists kreach needs
  (strings only: no YAML 1.1 scalar typing, no source lines, so a lower bound for a real reader);
* ``pyyaml compose``: libyaml's composer (``yaml.compose_all``, CSafeLoader): nodes with marks;
* ``pyyaml load``: libyaml's full safe load (``yaml.load_all``, CSafeLoader): typed values, no lines;
* ``kreach PyYAML path``: each document composed with libyaml and built into typed values as
  kreach does when its own reader declines (``compose_safely`` + ``construct``);
* ``kreach block reader``: each document read by ``analyzer.inputs.block_yaml`` (typed values;
  lines found again when asked), PyYAML for any document it declines (counted);
* ``kreach load_paths``: ``analyzer.inputs.loading.load_paths([DIR])``, what kreach does to read
  (documents, typed values and the line of every field), no cache.

    python benchmarks/parsers.py /tmp/kreach-bench/clusters/own-medium-seed1/manifests

Benchmarks are not tests: nothing here is collected by pytest.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _walk(tree, node):
    import ryml

    if tree.is_map(node):
        out, child = {}, tree.first_child(node)
        while child != ryml.NONE:
            out[bytes(tree.key(child)).decode()] = _walk(tree, child)
            child = tree.next_sibling(child)
        return out
    if tree.is_seq(node):
        out, child = [], tree.first_child(node)
        while child != ryml.NONE:
            out.append(_walk(tree, child))
            child = tree.next_sibling(child)
        return out
    value = tree.val(node)
    return None if value is None else bytes(value).decode()


def ryml_walk(texts: list[bytes]) -> int:
    import ryml

    documents = 0
    for text in texts:
        tree = ryml.parse_in_arena(text)
        root = tree.root_id()
        children = []
        if tree.is_stream(root):
            child = tree.first_child(root)
            while child != ryml.NONE:
                children.append(child)
                child = tree.next_sibling(child)
        else:
            children = [root]
        for child in children:
            _walk(tree, child)
            documents += 1
    return documents


def best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each; the best is reported")
    a = ap.parse_args(argv)
    import yaml

    from analyzer.inputs.loading import load_paths

    files = sorted(a.dir.rglob("*.yaml"))
    texts = [f.read_bytes() for f in files]
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    rows: list[tuple[str, float | None]] = []
    try:
        import ryml

        rows.append(("ryml parse_in_arena", best(lambda: [ryml.parse_in_arena(t) for t in texts], a.repeat)))
        rows.append(("ryml parse_in_arena + Python walk (strings only, no lines)",
                     best(lambda: ryml_walk(texts), a.repeat)))
    except ImportError:
        rows.append(("ryml (not installed: pip install rapidyaml)", None))
    rows.append(("pyyaml compose_all (CSafeLoader: nodes with marks)",
                 best(lambda: [list(yaml.compose_all(t, Loader=loader)) for t in texts], a.repeat)))
    rows.append(("pyyaml load_all (CSafeLoader: typed values, no lines)",
                 best(lambda: [list(yaml.load_all(t, Loader=loader)) for t in texts], a.repeat)))
    from analyzer.inputs.limits import Limits
    from analyzer.inputs.loading import _BLOCK, _only_comments, compose_safely, construct, split_documents

    limits = Limits()
    documents = [c.text for t in texts for c in split_documents(t.decode("utf-8"))
                 if c.text.strip() and not _only_comments(c.text)]
    declined = sum(_BLOCK.read(d, limits.max_depth) is None for d in documents)
    rows.append(("kreach PyYAML path (compose_safely + construct, per document)",
                 best(lambda: [construct(compose_safely(d, limits), limits) for d in documents], a.repeat)))
    rows.append((f"kreach block reader (per document; {declined} of {len(documents)} left to PyYAML)",
                 best(lambda: [_BLOCK.read(d, limits.max_depth) or construct(compose_safely(d, limits), limits)
                               for d in documents], a.repeat)))
    rows.append(("kreach load_paths (documents, typed values, lines)",
                 best(lambda: load_paths([str(a.dir)]), a.repeat)))
    print(f"{len(files)} files, {sum(map(len, texts)) / 1e6:.1f} MB, best of {a.repeat}")
    for name, seconds in rows:
        print(f"  {name}: {'-' if seconds is None else f'{seconds:.3f} s'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
