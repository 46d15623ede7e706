"""Hostile inputs a review found getting past the CLI (a traceback, a memory blow-up or a silently wrong
result), each now refused with exit 2 and a message naming the file and, where there is one, the row and
column. One test per finding; each fails on the code before its fix."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from matcher.cli import main

pytestmark = pytest.mark.memory_capped  # hostile inputs run with memory capped (tests/conftest.py)

HEADER = ["id", "name_zh", "name_en", "province", "stages"]
ROWS = [HEADER, ["C001", "江阴", "Jiangyin", "Jiangsu", "spinning"], ["C002", "常熟", "Changshu", "Jiangsu", "knitting"]]


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out + out.err


def refused(code: int, text: str, *words: str) -> None:
    assert code == 2, text
    assert "Traceback" not in text, text
    for word in words:
        assert word in text, (word, text)


def workbook(path: Path, sheet_xml=lambda xml: xml, workbook_xml=lambda xml: xml, rows=ROWS) -> Path:
    """A real workbook whose sheet XML (or workbook XML) a function rewrites, as a broken writer would."""
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                data = sheet_xml(data)
            elif name == "xl/workbook.xml":
                data = workbook_xml(data)
            target.writestr(name, data)
    return path


BROKEN_SHEETS = {
    "not well-formed": lambda d: d.replace(b"<sheetData>", b"<sheetData><<<"),
    "cut short": lambda d: d[: len(d) // 2],
    "a date cell that is none": lambda d: d.replace(
        b"</sheetData>", b'<row r="4"><c r="A4" t="d"><v>notadate</v></c></row></sheetData>'),
    "a number cell holding text": lambda d: d.replace(
        b"</sheetData>", b'<row r="4"><c r="A4" t="n"><v>abc</v></c></row></sheetData>'),
    "billion laughs": lambda d: d.replace(
        b"<worksheet", b'<!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
                       b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
                       b'<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY f "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">'
                       b'<!ENTITY g "&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;">]><worksheet', 1).replace(
        b"</sheetData>", b'<row r="9"><c r="A9" t="inlineStr"><is><t>&g;</t></is></c></row></sheetData>'),
}


@pytest.mark.parametrize("case", sorted(BROKEN_SHEETS))
def test_a_workbook_whose_sheet_cannot_be_read_is_refused_by_name(tmp_path, capsys, case):
    path = workbook(tmp_path / "clusters.xlsx", BROKEN_SHEETS[case])
    code, text = run(capsys, "validate", "--table", "clusters", path)
    refused(code, text, "clusters.xlsx", "save it again as .xlsx")


def test_a_workbook_without_a_sheet_is_refused(tmp_path, capsys):
    path = workbook(tmp_path / "clusters.xlsx", workbook_xml=lambda d: re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", d))
    code, text = run(capsys, "validate", "--table", "clusters", path)
    refused(code, text, "clusters.xlsx", "no worksheet")


def test_a_small_workbook_claiming_the_last_cell_is_refused_quickly(tmp_path, capsys):
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    path = workbook(tmp_path / "clusters.xlsx",
                    lambda d: re.sub(rb"<dimension [^>]*/>", b"", d).replace(b"</sheetData>", far))
    assert path.stat().st_size < 10_000
    started = time.perf_counter()
    code, text = run(capsys, "validate", "--table", "clusters", path)
    refused(code, text, "clusters.xlsx", "16,384", "512")
    assert time.perf_counter() - started < 30


@pytest.mark.parametrize("dimension", [b'<dimension ref="A1:E2"/>', b'<dimension ref="A1"/>'])
def test_a_stale_dimension_hides_no_row_or_column(tmp_path, capsys, dimension):
    """openpyxl's read-only mode trusts <dimension>: row 3 (a bad province) used to go unread."""
    rows = [*ROWS[:2], ["C003", "常熟", "Changshu", "Mars", "spinning"]]
    path = workbook(tmp_path / "clusters.xlsx", lambda d: re.sub(rb"<dimension [^>]*/>", dimension, d), rows=rows)
    code, text = run(capsys, "validate", "--table", "clusters", path)
    refused(code, text, "Mars", "unknown province")
    assert re.search(r"clusters\.xlsx\s+3\s+province", text), text


@pytest.mark.parametrize("option,table", [
    ("--suggestions", "LEFT_ID,left_id,right_id,score\nC001,C002,C093,0.5\n"),
    ("--forbid", "Left_ID,left_id,right_id\nC001,C001,C093\n"),
])
def test_two_headers_that_read_as_one_column_are_refused(tmp_path, capsys, option, table):
    (tmp_path / "s.csv").write_text("left_id,right_id,score\nC001,C093,0.5\n", encoding="utf-8")
    (tmp_path / "t.csv").write_text(table, encoding="utf-8")
    args = ["shortlist", "--suggestions", tmp_path / ("t.csv" if option == "--suggestions" else "s.csv"),
            "--out", tmp_path / "o.csv"]
    if option == "--forbid":
        args += ["--forbid", tmp_path / "t.csv"]
    code, text = run(capsys, *args)
    refused(code, text, "t.csv", "duplicate column", "both mean column 'left_id'")
    assert not (tmp_path / "o.csv").exists()


def test_cells_that_are_no_value_are_refused_by_row_and_column(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "surrogate.json").write_text('[{"left_id":"C001","right_id":"C093","score":0.5},'
                                             '{"left_id":"\\ud800","right_id":"C093","score":0.5}]', encoding="utf-8")
    (tmp_path / "object.json").write_text('[{"left_id":{"a":1},"right_id":[1,2],"score":0.5}]', encoding="utf-8")
    pq.write_table(pa.table({"left_id": pa.array([b"\x00\xff"], pa.binary()), "right_id": ["C093"], "score": [0.5]}),
                   tmp_path / "bytes.parquet")
    for name, row, column, reason in [("surrogate.json", 3, "left_id", "surrogate"),
                                      ("object.json", 2, "right_id", "a list or an object"),
                                      ("bytes.parquet", 2, "left_id", "not UTF-8")]:
        code, text = run(capsys, "shortlist", "--suggestions", tmp_path / name, "--out", tmp_path / "o.csv")
        refused(code, text, name, reason)
        assert re.search(rf"{re.escape(name)}\s+{row}\s+{column}", text), text
    (tmp_path / "known.json").write_text('[{"left":"\\ud800","right":"C123","kind":"east_west"}]', encoding="utf-8")
    code, text = run(capsys, "evaluate", "--kind", "east_west", "--known", tmp_path / "known.json")
    refused(code, text, "known.json", "surrogate")


def test_a_model_saved_without_one_of_the_kinds_features_is_refused(tmp_path, capsys):
    code, text = run(capsys, "learn", "--kind", "east_west", "--simulate", "200", "--out", tmp_path / "m.json")
    assert code == 0, text
    model = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    model["features"].remove("chain")
    model["coefficients"].pop("chain")
    (tmp_path / "old.json").write_text(json.dumps(model), encoding="utf-8")
    code, text = run(capsys, "suggest", "--kind", "east_west", "--model", tmp_path / "old.json", "--top", "1",
                     "--out", tmp_path / "o.csv")
    refused(code, text, "old.json", "without feature(s) chain", "retrain")
    model = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    model["reason"] = "R" * 1_000_000  # a megabyte echoed to the terminal
    (tmp_path / "long.json").write_text(json.dumps(model), encoding="utf-8")
    code, text = run(capsys, "suggest", "--kind", "east_west", "--model", tmp_path / "long.json", "--top", "1",
                     "--out", tmp_path / "o.csv")
    refused(code, text, "long.json", "reason", "at most 500 characters")
    assert len(text) < 5_000


def test_a_backup_whose_history_cannot_be_read_back_is_not_restored(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MATCHER_WORKSPACE", str(tmp_path / "a"))
    assert run(capsys, "store", "init")[0] == 0
    assert run(capsys, "store", "outcome", "--as", "wang", "--kind", "east_west", "--stage", "meeting",
               "--value", "met", "--left", "C001", "--right", "C093")[0] == 0
    assert run(capsys, "store", "backup", "--out", tmp_path / "b.json")[0] == 0
    data = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    data["tables"]["audit_log"][0]["after_json"] = "{not json"
    (tmp_path / "bad.json").write_text(json.dumps(data), encoding="utf-8")
    data["tables"]["audit_log"][0]["after_json"] = "[" * 100_000 + "]" * 100_000
    (tmp_path / "deep.json").write_text(json.dumps(data), encoding="utf-8")
    data["schema_revision"] = ["x"]
    (tmp_path / "revision.json").write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("MATCHER_WORKSPACE", str(tmp_path / "b"))
    assert run(capsys, "store", "init")[0] == 0
    for name, words in [("bad.json", ("audit_log, row 1, after_json", "is not JSON")),
                        ("deep.json", ("after_json", "nested too deeply")),
                        ("revision.json", ("schema revision", "no revision name"))]:
        code, text = run(capsys, "store", "restore", tmp_path / name)
        refused(code, text, name, *words)
    code, text = run(capsys, "store", "history", "--for", "C001")
    assert code == 0 and "no recorded changes about C001" in text, text  # nothing half-restored


def test_a_symbolic_link_in_a_loop_is_named_not_a_traceback(tmp_path, capsys, monkeypatch):
    (tmp_path / "one.csv").symlink_to(tmp_path / "two.csv")
    (tmp_path / "two.csv").symlink_to(tmp_path / "one.csv")
    (tmp_path / "s.csv").write_text("left_id,right_id,score\nC001,C093,0.5\n", encoding="utf-8")
    code, text = run(capsys, "shortlist", "--suggestions", tmp_path / "s.csv", "--out", tmp_path / "one.csv")
    refused(code, text, "one.csv", "loop")
    code, text = run(capsys, "suggest", "--kind", "east_west", "--top", "1", "--out", tmp_path / "one.csv")
    refused(code, text, "one.csv", "loop")
    monkeypatch.setenv("MATCHER_WORKSPACE", str(tmp_path / "ws"))
    code, text = run(capsys, "store", "backup", "--out", tmp_path / "one.csv")
    refused(code, text, "one.csv", "loop")


def test_contradicting_outcomes_for_one_pair_are_refused_not_settled_by_row_order(tmp_path, capsys):
    path = tmp_path / "outcomes.csv"
    path.write_text("left_id,right_id,kind,outcome\nC001,C093,east_west,met\nC001,C093,east_west,agreement_reached\n"
                    "C093,C001,east_west,declined\nC002,C093,east_west,met\n", encoding="utf-8")
    code, text = run(capsys, "learn", "--kind", "east_west", "--outcomes", path, "--out", tmp_path / "m.json")
    refused(code, text, "outcomes.csv", "contradict each other", "row 3 gives the same pair the outcome agreement_reached")
    assert re.search(r"outcomes\.csv\s+4\s+outcome", text), text
    assert not (tmp_path / "m.json").exists()


def test_a_stray_control_character_in_a_small_table_is_named_by_cell(tmp_path, capsys):
    path = tmp_path / "clusters.csv"
    path.write_text("id,name_zh,name_en,province,stages\nC001,江\x1b阴,Jiangyin,Jiangsu,spinning\n", encoding="utf-8")
    code, text = run(capsys, "validate", "--table", "clusters", path)
    refused(code, text, "control character")
    assert re.search(r"clusters\.csv\s+2\s+name_zh", text), text


def test_a_pasted_megabyte_is_not_echoed_whole(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MATCHER_WORKSPACE", str(tmp_path / "ws"))
    code, text = run(capsys, "store", "outcome", "--as", "wang", "--kind", "east_west", "--stage", "meeting",
                     "--value", "met", "--left", "x" * 100_000, "--right", "C093")
    refused(code, text, "--left", "100,000 characters", "no entity")
    assert len(text) < 5_000
    code, text = run(capsys, "store", "history", "--for", "x" * 100_000)
    assert code == 0 and len(text) < 1_000, text[:300]


def test_a_lock_slot_is_shown_as_typed_and_a_huge_one_costs_nothing(tmp_path, capsys):
    (tmp_path / "s.csv").write_text("left_id,right_id,score\nC001,C093,0.5\n", encoding="utf-8")
    (tmp_path / "locks.csv").write_text("left_id,right_id,slot\nC001,C093,12345678901234567890123456\n"
                                        "C001,C093,1e999999999\n", encoding="utf-8")
    started = time.perf_counter()
    code, text = run(capsys, "schedule", "--shortlist", tmp_path / "s.csv", "--slots", "3", "--tables", "3",
                     "--locks", tmp_path / "locks.csv", "--out", tmp_path / "o.csv")
    refused(code, text, "slot 12345678901234567890123456 is outside this meeting's slots 1–3",
            "past any meeting's slots")
    assert time.perf_counter() - started < 30
