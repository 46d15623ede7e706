"""The examples in the library's docstrings run as tests, so the documentation cannot rot."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import matcher

MODULES = ["matcher"] + sorted(
    m.name for m in pkgutil.walk_packages(matcher.__path__, prefix="matcher.")
    if ".migrations" not in m.name and m.name != "matcher.__main__"
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert failures == 0


def test_the_library_has_examples():
    attempted = sum(doctest.testmod(importlib.import_module(n), report=False).attempted for n in MODULES
                    if n in ("matcher", "matcher.docking.scoring", "matcher.outputs.cells", "matcher.outputs.export",
                             "matcher.docking.engine", "matcher.docking.chain"))
    assert attempted >= 12
