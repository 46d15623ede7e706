"""Every input is bounded (``matcher.limits``), each bound with a clear message, and every bound
still admits the product's real jobs. Workbooks are checked before any XML is parsed."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile

import pandas as pd
import pytest

from matcher import limits
from matcher.exceptions import MatcherError, ValidationError
from matcher.ingest import read as matcher_io
from matcher.ingest.read import read_table
from matcher.meetings.schedule import schedule
from matcher.meetings.slots import SlotClock, parse_slots

pytestmark = pytest.mark.memory_capped  # hostile inputs run with memory capped (tests/conftest.py)


def _workbook(path, rows: int = 3) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["id", "name_zh", "province", "stages"])
    for i in range(rows):
        book.active.append([f"C{i:03d}", "集群", "Zhejiang", "spinning"])
    book.save(path)


def _rewrite(path, change) -> None:
    """Rewrite the workbook's zip package with ``change(name, data) -> data`` (``None`` drops it)."""
    with zipfile.ZipFile(path) as old:
        parts = [(info.filename, old.read(info)) for info in old.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for name, data in parts:
            data = change(name, data)
            if data is not None:
                new.writestr(name, data)


def test_a_zip_bomb_workbook_is_refused_before_it_is_unpacked(tmp_path):
    path = tmp_path / "clusters.xlsx"
    _workbook(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as book:
        book.writestr("xl/media/image1.bin", bytes(40 << 20))  # 40 MB of zeros, packed in ~40 KB
    assert path.stat().st_size < 200_000
    started = time.perf_counter()
    with pytest.raises(ValidationError, match=r"xl/media/image1.bin unpacks .* times larger") as err:
        read_table(path)
    assert time.perf_counter() - started < 2
    assert str(path.name) in str(err.value)


@pytest.mark.parametrize(("part", "bound"), [("xl/worksheets/sheet1.xml", "MAX_XLSX_PART_BYTES"),
                                             ("xl/sharedStrings.xml", "MAX_XLSX_SHARED_STRINGS_BYTES")])
def test_a_workbook_part_too_large_unpacked_is_refused(tmp_path, monkeypatch, part, bound):
    path = tmp_path / "clusters.xlsx"
    _workbook(path, rows=400)
    if part.endswith("sharedStrings.xml"):  # openpyxl writes strings inline: Excel puts them here
        with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as book:
            book.writestr(part, b"<sst>" + b"<si><t>\xe9\x9b\x86\xe7\xbe\xa4</t></si>" * 3_000 + b"</sst>")
    monkeypatch.setattr(limits, bound, 20_000)
    with pytest.raises(ValidationError, match=f"{part} unpacks to .* more than the 20,000"):
        read_table(path)


def test_a_sheet_claiming_too_many_columns_or_cells_is_refused_before_parsing(tmp_path):
    path = tmp_path / "clusters.xlsx"
    _workbook(path)
    _rewrite(path, lambda name, data: re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:XFD1048576"', data)
             if name == "xl/worksheets/sheet1.xml" else data)
    with pytest.raises(ValidationError, match="16,384 columns, more than 512"):
        read_table(path)
    _rewrite(path, lambda name, data: data.replace(b'ref="A1:XFD1048576"', b'ref="A1:Z9000000"')
             if name == "xl/worksheets/sheet1.xml" else data)
    with pytest.raises(ValidationError, match="234,000,000 cells: more than 45,000,000 cells"):
        read_table(path)


def test_a_header_with_too_many_columns_is_refused_in_every_format(tmp_path):
    wide = [f"c{i}" for i in range(limits.MAX_COLUMNS + 1)]
    csv = tmp_path / "wide.csv"
    csv.write_text(",".join(wide) + "\n" + ",".join("x" for _ in wide) + "\n", encoding="utf-8")
    js = tmp_path / "wide.json"
    js.write_text(json.dumps([dict.fromkeys(wide, "x")]), encoding="utf-8")
    pq = tmp_path / "wide.parquet"
    pd.DataFrame([dict.fromkeys(wide, "x")]).to_parquet(pq)
    for path in (csv, js, pq):
        with pytest.raises(ValidationError, match=f"{limits.MAX_COLUMNS + 1:,} columns, more than 512") as err:
            read_table(path)
        assert path.name in str(err.value)
    # a header of a million commas is refused at once, not parsed
    huge = tmp_path / "huge.csv"
    huge.write_text("x," * 1_000_000 + "x\n", encoding="utf-8")
    started = time.perf_counter()
    with pytest.raises(ValidationError, match="1,000,001 columns"):
        read_table(huge)
    assert time.perf_counter() - started < 2


def test_meeting_inputs_are_bounded(tmp_path):
    started = time.perf_counter()
    with pytest.raises(ValueError, match="past the last slot an event can have"):
        parse_slots("1-1000000000")  # would be a billion slots
    assert time.perf_counter() - started < 1
    pairs = pd.DataFrame({"left_id": ["A"], "right_id": ["B"], "score": [1.0]})
    for slots, tables in ((limits.MAX_SLOTS + 1, 4), (4, limits.MAX_TABLES + 1), (0, 4)):
        with pytest.raises(MatcherError, match="must be a whole number from 1 to"):
            schedule(pairs, n_slots=slots, n_tables=tables)
    for minutes in (0, 4, 481, 10**9):
        with pytest.raises(MatcherError, match="slot length must be 5 to 480 minutes"):
            SlotClock.parse("2026-05-20", "09:00", minutes)
    for date in ("1900-01-01", "9999-12-31"):
        with pytest.raises(MatcherError, match="not between 2000 and 2100"):
            SlotClock.parse(date, "09:00", 20)


def test_the_bounds_admit_the_real_jobs(tmp_path):
    """A two-day event of 5-minute slots, a hall of 250 tables for 500 participants, a registry of a
    million enterprises with its columns: all within the bounds."""
    assert limits.MAX_SLOTS >= 2 * 8 * 60 // 5 and limits.MAX_TABLES >= 250
    assert limits.MAX_XLSX_CELLS >= 1_000_000 * 40 and limits.MAX_COLUMNS >= 64
    assert parse_slots(f"1-{2 * 8 * 60 // 5}")[-1] == 192
    assert SlotClock.parse("2026-05-20", "09:00", 5).minutes == 5
    pairs = pd.DataFrame({"left_id": [f"E{i}" for i in range(250)], "right_id": [f"W{i}" for i in range(250)],
                          "score": [1.0] * 250})
    plan = schedule(pairs, n_slots=192, n_tables=250)
    assert len(plan.meetings) == 250
    # an ordinary workbook passes the package check at once
    path = tmp_path / "clusters.xlsx"
    _workbook(path, rows=2_000)
    assert len(read_table(path)) == 2_000
    buffer = io.BytesIO()
    pd.DataFrame({f"c{i}": ["x"] for i in range(limits.MAX_COLUMNS)}).to_csv(buffer, index=False)
    (tmp_path / "wide-ok.csv").write_bytes(buffer.getvalue())
    assert read_table(tmp_path / "wide-ok.csv").shape[1] == limits.MAX_COLUMNS


def test_the_cell_cap_still_stops_a_sheet_without_a_dimension(tmp_path, monkeypatch):
    path = tmp_path / "clusters.xlsx"
    _workbook(path, rows=300)
    _rewrite(path, lambda name, data: re.sub(rb'<dimension ref="[^"]*" ?/>', b"", data)
             if name == "xl/worksheets/sheet1.xml" else data)
    monkeypatch.setattr(matcher_io, "MAX_XLSX_CELLS", 1_000)
    with pytest.raises(ValidationError, match="more than 1,000 cells"):
        read_table(path)


def test_the_memory_cap_is_real(_memory_cap):
    """The cap these tests run under (tests/conftest.py) refuses an allocation past it."""
    import resource

    assert resource.getrlimit(resource.RLIMIT_AS)[0] == _memory_cap
    with pytest.raises(MemoryError):
        bytearray(3 << 30)
