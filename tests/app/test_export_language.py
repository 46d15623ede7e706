"""The files a planner downloads from the meeting page speak the page's language.

The workbook (every sheet), the CSV for Excel and the PDF agendas, made by the app in Chinese and
in English: no Latin word in a Chinese file and no Chinese in an English one (``language.py``),
except in the columns that carry the other language on purpose (each side's name and the reason,
in Chinese and in English, side by side).
"""

from __future__ import annotations

import csv
import io
import subprocess

import pytest
from conftest import app_in
from language import stray_cjk, stray_latin

from matcher.outputs.words import HEADER_LABELS


def _other_language_headers(lang: str) -> set[str]:
    """Headers of the columns that hold the other language on purpose (names, reasons)."""
    other = "_en" if lang == "zh" else "_zh"
    i = 0 if lang == "zh" else 1
    return {labels[i] for column, labels in HEADER_LABELS.items() if column.endswith(other)}


def _files(lang: str, monkeypatch) -> dict[str, bytes]:
    at = app_in(lang, monkeypatch, planner="李明" if lang == "zh" else "Li Ming")  # a planner's own name
    at.text_input(key="meetings.event").input("对接会" if lang == "zh" else "Docking fair").run()
    at.button(key="meetings.run").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at.session_state["meetings.plan"]["files"][lang]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_downloads_speak_one_language(workspace, lang, monkeypatch):
    from openpyxl import load_workbook

    check = stray_latin if lang == "zh" else stray_cjk
    skip = _other_language_headers(lang)
    files = _files(lang, monkeypatch)
    found = {}
    book = load_workbook(io.BytesIO(files["xlsx"]))
    for sheet in book.worksheets:
        rows = list(sheet.iter_rows(values_only=True))
        header = [str(h) for h in rows[0]]
        keep = [j for j, h in enumerate(header) if h not in skip]
        text = " ".join(header[j] for j in keep) + " " + " ".join(
            str(row[j]) for row in rows[1:] for j in keep if row[j] is not None and not isinstance(row[j], (int, float)))
        if check(text):
            found[f"xlsx {sheet.title}"] = sorted(set(check(text)))[:10]
    table = list(csv.reader(io.StringIO(files["csv"].decode("utf-8-sig"))))
    keep = [j for j, h in enumerate(table[0]) if h not in skip]
    text = " ".join(row[j] for row in table for j in keep)
    if check(text):
        found["csv"] = sorted(set(check(text)))[:10]
    pdf = subprocess.run(["pdftotext", "-", "-"], input=files["pdf"], capture_output=True, check=True).stdout
    if check(pdf.decode("utf-8")):
        found["pdf"] = sorted(set(check(pdf.decode("utf-8"))))[:10]
    assert not found, found
    assert ("对接会" if lang == "zh" else "Docking fair") in pdf.decode("utf-8")
