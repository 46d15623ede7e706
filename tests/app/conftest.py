"""Fixtures of the app tests: a fresh workspace (store and uploads) per test, and the app."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from matcher.ingest.dataset import BUNDLED_DATA

APP = Path(__file__).resolve().parents[2] / "app.py"
SCRIPT_NAME = "<script>alert(1)</script>"


@pytest.fixture
def workspace(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("MATCHER_WORKSPACE", str(tmp_path / "workspace"))
    monkeypatch.delenv("MATCHER_DB_URL", raising=False)
    return tmp_path / "workspace"


@pytest.fixture
def app(workspace) -> AppTest:
    """The app after its first run, on the bundled data, in a fresh workspace."""
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    assert not at.exception, at.exception
    return at


def go(at: AppTest, page: str) -> AppTest:
    """Switch to ``app_pages/<page>.py``, run, and fail on any exception."""
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def table(at: AppTest, column: str):
    """The first table on the page that has ``column`` (plain tables carry no key in AppTest)."""
    for frame in at.dataframe:
        value = frame.value
        if column in value.columns:
            return value
    for static in at.table:  # small tables of facts are static, their text escaped for Markdown
        value = static.value
        value = value.map(lambda v: re.sub(r"\\(.)", r"\1", v) if isinstance(v, str) else v)
        # and a short header's characters joined by word joiners (it never wraps)
        value.columns = [re.sub(r"\\(.)", r"\1", str(c)).replace("\u2060", "") for c in value.columns]
        if column in value.columns:
            return value
    raise AssertionError(f"no table with column {column!r}: {[list(f.value.columns) for f in at.dataframe]}")


def clusters_with_script_name() -> bytes:
    """The bundled clusters file with the first cluster renamed to a script tag."""
    rows = list(csv.reader(io.StringIO((BUNDLED_DATA / "clusters.csv").read_text(encoding="utf-8-sig"))))
    rows[1][rows[0].index("name_zh")] = SCRIPT_NAME
    rows[1][rows[0].index("name_en")] = SCRIPT_NAME
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


BAD_CLUSTERS = (
    "id,name_zh,province,stages\n"
    "X1,,Nowhere,spinning\n"
    ",坏行,Zhejiang,bogus\n"
).encode()


def app_in(lang: str, monkeypatch, planner: str = "", dataset: str = "") -> AppTest:
    """The app in ``lang`` with three pairs on the shortlist, ready to schedule (on the meetings page).

    AppTest formats a picker's value outside the script run, where the session's language is not
    set: the language the labels are made in is pinned wherever it was imported.
    """
    import sys

    for module in [m for name, m in sys.modules.items() if name.startswith("app_components")]:
        if hasattr(module, "lang"):
            monkeypatch.setattr(module, "lang", lambda: lang)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["lang"] = lang
    at.session_state["dataset_path"] = dataset  # "" = the bundled data
    at.run()
    go(at, "explore")
    at.session_state["explore.table.east_west"] = {"selection": {"rows": [0, 1, 2], "columns": [], "cells": []}}
    at.run()
    at.button(key="explore.add").click().run()
    if planner:
        at.text_input(key="planner").input(planner).run()
    return go(at, "meetings")
