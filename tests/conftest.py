"""Test-session settings.

The document cache (analyzer.inputs.cache) is off for the suite: tests that replace parts of the
reader must see them run, and the suite must not write to the user's ~/.cache. The cache's own
tests switch it on with a temporary directory."""

import os

os.environ.setdefault("KREACH_NO_CACHE", "1")
