"""Reading planners' files: encodings, CSV/XLSX, headers, and files that must be refused."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from openpyxl import Workbook

from matcher.exceptions import MatcherError, ValidationError
from matcher.ingest.read import COLUMN_ALIASES, PROBLEM_COLUMNS, canonical_header, read_table

FIXTURES = Path(__file__).parent / "fixtures" / "import"
HEADER = "id,name_zh,province,stages\n"
ROWS = "00123,柯桥轻纺,浙江,织造\nC002,阿克苏㐀,新疆,纺纱\n"


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_chinese_encodings_read_the_same_text(tmp_path, encoding):
    rows = ROWS.replace("㐀", "") if encoding == "gbk" else ROWS
    table = read_table(write(tmp_path, "c.csv", (HEADER + rows).encode(encoding)))
    assert list(table.columns) == ["id", "name_zh", "province", "stages"]  # no BOM left in the first header
    assert table["name_zh"].tolist()[0] == "柯桥轻纺"
    assert table["province"].tolist() == ["浙江", "新疆"]


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_excel_unicode_text_reads_the_same_text(tmp_path, encoding):
    """Excel's "Unicode text" is UTF-16 with a byte-order mark, tab-separated: read as it is."""
    text = (HEADER + ROWS).replace(",", "\t")
    data = text.encode(encoding) if encoding == "utf-16" else ("\ufeff" + text).encode(encoding)
    table = read_table(write(tmp_path, "c.txt", data))
    assert list(table.columns) == ["id", "name_zh", "province", "stages"]
    assert table["id"].tolist() == ["00123", "C002"] and table["name_zh"].tolist() == ["柯桥轻纺", "阿克苏㐀"]


def test_gb18030_only_characters_decode(tmp_path):
    data = (HEADER + ROWS).encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("gbk")  # 㐀 (CJK extension A) is outside GBK: this file needs GB18030
    table = read_table(write(tmp_path, "c.csv", data))
    assert table["name_zh"].tolist()[1] == "阿克苏㐀"


def test_leading_zeros_kept_and_rows_numbered_as_in_excel(tmp_path):
    text = HEADER + "00123,a,浙江,织造\n\n  007 , b ,浙江, 纺纱 \n"
    table = read_table(write(tmp_path, "c.csv", text.encode()))
    assert table["id"].tolist() == ["00123", "007"]
    assert table["name_zh"].tolist() == ["a", "b"]  # whitespace stripped
    assert table.index.tolist() == [2, 4]  # the blank line 3 keeps its place in the numbering


def test_headers_are_stripped_case_insensitive_and_aliased():
    assert canonical_header(
        [
            " ID ",
            "Approx_Lat",
            "LONGITUDE",
            "chain_stage",
            "source_url",
            "city_or_county",
            "specialty",
            "title",
        ]
    ) == ["id", "lat", "lon", "stages", "provenance", "city", "products", "designations"]
    assert all(v == v.lower() for v in COLUMN_ALIASES.values())


def test_header_only_file_reads_zero_rows(tmp_path):
    table = read_table(write(tmp_path, "c.csv", HEADER.encode()))
    assert len(table) == 0
    assert list(table.columns) == ["id", "name_zh", "province", "stages"]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "empty"),
        (b"  \r\n\n", "empty"),
        ((HEADER + ROWS).encode("utf-16-le"), "NUL"),
        ("\ufeff".encode("utf-16-le") + (HEADER + ROWS).encode("utf-16-le")[:-1], "row 3 cannot be read as UTF-16"),
        ("\ufeff \r\n".encode("utf-16-le"), "empty"),
        (HEADER.encode() + b"C1,a\x00b,Zhejiang,weaving\n", "NUL"),
        (HEADER.encode() + b'C1,"open quote,Zhejiang,weaving\nC2,b,Zhejiang,weaving\n', "unterminated quote"),
        (HEADER.encode() + b"C1,a,Zhejiang,weaving,extra\n", "row 2 has 5 cells"),
        (b"id,name_zh,ID\nC1,a,b\n", "duplicate column 'id'"),
        (b"id,lat,approx_lat\nC1,1,2\n", "'lat' and 'approx_lat' both mean 'lat'"),
        (b",id\nx,C1\n", "column 1 has no header"),
        (b"\n\nid\nC1\n", "first row is empty"),
    ],
)
def test_unreadable_files_are_refused_naming_the_file(tmp_path, data, words):
    path = write(tmp_path, "bad.csv", data)
    with pytest.raises(ValidationError) as caught:
        read_table(path)
    assert "bad.csv" in str(caught.value)
    assert words in str(caught.value) or words in " ".join(caught.value.problems["reason"])
    assert list(caught.value.problems.columns) == PROBLEM_COLUMNS
    assert set(caught.value.problems["file"]) == {str(path)}


def test_binary_junk_is_refused(tmp_path):
    rng = random.Random(7)
    junk = bytes(rng.randrange(1, 256) for _ in range(4000))
    with pytest.raises(ValidationError, match="junk.csv"):
        read_table(write(tmp_path, "junk.csv", junk))


def test_missing_file_is_a_matcher_error(tmp_path):
    with pytest.raises(MatcherError, match="not found"):
        read_table(tmp_path / "nope.csv")


def test_fake_xlsx_is_refused():
    with pytest.raises(ValidationError, match=r"fake\.xlsx.*not an Excel workbook"):
        read_table(FIXTURES / "fake.xlsx")


def test_empty_header_columns_without_data_are_dropped(tmp_path):
    table = read_table(write(tmp_path, "c.csv", b"id,name_zh,,\nC1,a,,\n"))
    assert list(table.columns) == ["id", "name_zh"]


@pytest.mark.parametrize("sep", ["\t", ";"])
def test_tab_and_semicolon_separated_text(tmp_path, sep):
    """Excel saves "CSV" with semicolons where the decimal mark is a comma; a comma in the header
    still means commas (a semicolon inside a comma-separated cell is text)."""
    table = read_table(write(tmp_path, "c.csv", f"id{sep}name_zh\n00123{sep}柯桥\n".encode("gbk")))
    assert table.to_dict("list") == {"id": ["00123"], "name_zh": ["柯桥"]}
    table = read_table(write(tmp_path, "d.csv", "id,name_zh\nC1,柯桥;织里\n".encode()))
    assert table.to_dict("list") == {"id": ["C1"], "name_zh": ["柯桥;织里"]}


def test_xlsx_round_trip_keeps_text_and_numbers(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["ID", " Name_ZH ", "lat", "n_firms", "transfer_park", None])
    sheet.append(["00123", "柯桥", 30.08, 1200, True, None])
    sheet.append([None, None, None, None, None, None])  # an empty row keeps its number
    sheet.append(["C002", "阿克苏", 41.0, None, False, None])
    path = tmp_path / "clusters.xlsx"
    book.save(path)
    table = read_table(path)
    assert list(table.columns) == ["id", "name_zh", "lat", "n_firms", "transfer_park"]
    assert table.to_dict("list") == {
        "id": ["00123", "C002"],
        "name_zh": ["柯桥", "阿克苏"],
        "lat": ["30.08", "41"],
        "n_firms": ["1200", ""],
        "transfer_park": ["true", "false"],
    }
    assert table.index.tolist() == [2, 4]


def test_header_only_xlsx_reads_zero_rows(tmp_path):
    book = Workbook()
    book.active.append(["id", "name_zh"])
    book.save(tmp_path / "c.xlsx")
    table = read_table(tmp_path / "c.xlsx")
    assert len(table) == 0 and list(table.columns) == ["id", "name_zh"]


def test_old_xls_and_renamed_zip(tmp_path):
    with pytest.raises(ValidationError, match="old .xls"):
        read_table(write(tmp_path, "c.xls", b"\xd0\xcf\x11\xe0rest"))
    with pytest.raises(ValidationError, match="zip"):
        read_table(write(tmp_path, "c.csv", b"PK\x03\x04rest"))


# --- one reader for every table: JSON, Parquet, sheet choice, cells as typed -------------------
def test_json_records_in_every_layout_read_as_text(tmp_path):
    import json

    records = [{"left_id": "007", "score": 0.5, "n": 3, "note": None}, {"left_id": "C2", "score": 1}]
    for payload in (records, {"shortlist": records}, {"run": {}, "suggestions": records}):
        table = read_table(write(tmp_path, "s.json", json.dumps(payload).encode()), common_aliases=False)
        assert table["left_id"].tolist() == ["007", "C2"] and table["score"].tolist() == ["0.5", "1"]
        assert table["n"].tolist() == ["3", ""] and table["note"].tolist() == ["", ""]
        assert table.index.tolist() == [2, 3]
    split = {"columns": ["left_id", "right_id"], "data": [["C1", "M1"]]}
    assert read_table(write(tmp_path, "t.json", json.dumps(split).encode()))["right_id"].tolist() == ["M1"]
    with pytest.raises(ValidationError, match="cannot be read as JSON"):
        read_table(write(tmp_path, "bad.json", b"{not json"))


def test_parquet_reads_as_text_and_keeps_nulls_apart_as_typed(tmp_path):
    import pandas as pd

    path = tmp_path / "s.parquet"
    pd.DataFrame({"left_id": ["007", None], "score": [0.25, None], "d": ["", "x"]}).to_parquet(path)
    table = read_table(path)
    assert table["left_id"].tolist() == ["007", ""] and table["score"].tolist() == ["0.25", ""]
    typed = read_table(path, as_typed=True)
    assert typed["left_id"].isna().tolist() == [False, True] and typed["d"].tolist() == ["", "x"]
    with pytest.raises(ValidationError, match="cannot be read as Parquet"):
        read_table(write(tmp_path, "bad.parquet", b"PAR1 not really"))


def test_xlsx_sheet_choice(tmp_path):
    book = Workbook()
    book.active.title = "run"
    book.active.append(["key", "value"])
    book.create_sheet("shortlist").append(["left_id", "right_id"])
    book["shortlist"].append(["C1", "M1"])
    book.save(tmp_path / "s.xlsx")
    assert list(read_table(tmp_path / "s.xlsx", sheets=("nope", "shortlist")).columns) == ["left_id", "right_id"]
    assert list(read_table(tmp_path / "s.xlsx", sheets=("nope",)).columns) == ["key", "value"]  # the first


def test_as_typed_keeps_cells_and_headers_and_names_what_the_file_holds(tmp_path):
    path = write(tmp_path, "s.csv", b'Left_ID,name\r\nC1,"\tTAB "\r\nC2,\r\n')
    typed = read_table(path, as_typed=True)
    assert list(typed.columns) == ["Left_ID", "name"]
    assert typed["name"].tolist()[0] == "\tTAB " and typed["name"].isna().tolist() == [False, True]
    assert read_table(path)["name"].tolist() == ["TAB", ""]
    with pytest.raises(ValidationError, match=r"^suggestions file .*nothing\.csv: file not found"):
        read_table(tmp_path / "nothing.csv", what="suggestions")


def test_validate_names_the_encoding_it_read(tmp_path, capsys):
    """A Big5 or GBK file is read as such and says so; no other code page is guessed."""
    from matcher.cli import main

    text = "id,name_zh,province,stages\r\nC00001,紡織名城,浙江,weaving\r\n"
    for encoding, named in (("big5", "Big5"), ("gbk", "GB18030 (GBK)")):
        path = tmp_path / encoding / "clusters.csv"
        path.parent.mkdir()
        path.write_bytes(text.encode(encoding))
        assert main(["validate", str(path)]) == 0
        assert f"1 clusters (read as {named}), OK" in capsys.readouterr().out


def test_a_table_past_the_size_bound_is_refused_before_it_is_read(tmp_path, monkeypatch):
    from matcher import limits

    path = write(tmp_path, "big.csv", (HEADER + ROWS * 50).encode())
    monkeypatch.setattr(limits, "MAX_TABLE_BYTES", 1000)
    with pytest.raises(ValidationError, match="larger than"):
        read_table(path)


def test_ids_that_only_look_alike_are_refused_by_the_importer(tmp_path):
    """``Ｃ001`` (full-width) would be a second entity a planner reads as ``C001``."""
    from matcher.ingest.validate import check_table

    text = "id,name_zh,province,stages\nC001,甲,浙江,weaving\n\uff23001,乙,浙江,weaving\n"
    path = write(tmp_path, "clusters.csv", text.encode())
    _, problems = check_table(read_table(path), "clusters", path)
    assert list(problems["row"]) == [3] and list(problems["column"]) == ["id"]
    assert "looks like 'C001' (row 2)" in problems["reason"].iloc[0]


def test_a_huge_unknown_header_is_shown_cut(tmp_path):
    from matcher.ingest.validate import MAX_SHOWN_CHARS, check_table

    name = "x" * 100_000
    path = write(tmp_path, "clusters.csv", f"id,name_zh,province,stages,{name}\nC001,甲,浙江,weaving,1\n".encode())
    _, problems = check_table(read_table(path), "clusters", path)
    [row] = problems.to_dict("records")
    assert "unknown column" in row["reason"] and "100,000 characters" in row["reason"]
    assert max(len(str(v)) for v in row.values()) < MAX_SHOWN_CHARS + 2_000  # the valid columns are listed


def _workbook_with_a_formula(tmp_path, cached: str | None) -> Path:
    """A clusters sheet whose lat cell is the formula =30+0.1, as openpyxl writes it (no calculated value)
    or, with ``cached``, as Excel saves it (the value kept beside the formula)."""
    import zipfile

    book = Workbook()
    book.active.append(["id", "name_zh", "province", "stages", "lat"])
    book.active.append(["C1", "甲", "浙江", "weaving", "=30+0.1"])
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    if cached is None:
        return plain
    saved = tmp_path / "saved.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(saved, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"<v />", f"<v>{cached}</v>".encode()).replace(b"<v/>", f"<v>{cached}</v>".encode())
            dst.writestr(item, data)
    return saved


def test_a_formula_without_a_calculated_value_is_refused_not_read_as_empty(tmp_path):
    path = _workbook_with_a_formula(tmp_path, None)
    with pytest.raises(ValidationError) as caught:
        read_table(path)
    [problem] = caught.value.problems.to_dict("records")
    assert (problem["row"], problem["column"]) == (2, "lat")
    assert "formula (=30+0.1) but no calculated value" in problem["reason"]


def test_a_formula_excel_saved_reads_as_its_value(tmp_path):
    table = read_table(_workbook_with_a_formula(tmp_path, "30.1"))
    assert table["lat"].tolist() == ["30.1"]


def test_a_workbook_whose_first_sheet_is_empty_names_its_other_sheets(tmp_path):
    book = Workbook()
    book.active.title = "封面"
    book.create_sheet("数据").append(["id", "name_zh", "province", "stages"])
    path = tmp_path / "two.xlsx"
    book.save(path)
    with pytest.raises(ValidationError, match="only sheet '封面' is read; the workbook also has 数据"):
        read_table(path)


def test_a_title_row_above_the_header_is_said_not_read_as_the_header(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["2024年纺织集群名录"])
    sheet.merge_cells("A1:D1")
    sheet.append(["id", "name_zh", "province", "stages"])
    sheet.append(["C1", "甲", "浙江", "weaving"])
    path = tmp_path / "title.xlsx"
    book.save(path)
    with pytest.raises(ValidationError) as caught:
        read_table(path)
    assert "row 1 holds one cell ('2024年纺织集群名录'), like a title" in str(caught.value)
    assert caught.value.problems["row"].tolist() == [1]


@pytest.mark.parametrize("title", ["2024年纺织集群名录", "2024年纺织集群名录,,,", '"2024年纺织集群名录",;'])
def test_a_title_line_above_a_csv_header_is_said_not_read_as_the_header(tmp_path, title):
    # a CSV saved from a report sheet: the title alone, or with the sheet's empty cells after it
    path = tmp_path / "title.csv"
    path.write_text(f"{title}\nid,name_zh,province,stages\nC1,甲,浙江,weaving\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        read_table(path)
    assert "row 1 holds one cell ('2024年纺织集群名录'), like a title" in str(caught.value)
    assert caught.value.problems["row"].tolist() == [1]


def test_a_one_column_csv_is_a_table_not_a_title(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("id\nC1\nC2\n", encoding="utf-8")
    assert read_table(path)["id"].tolist() == ["C1", "C2"]


def test_a_whole_table_with_bare_cr_line_ends_reads(tmp_path):
    """Excel for Mac's "CSV (Macintosh)" ends rows with a bare CR: the whole bundled clusters table so
    saved reads as it is (the column bound used to count the whole file as one header line)."""
    from matcher.ingest.dataset import BUNDLED_DATA

    path = tmp_path / "clusters.csv"
    path.write_bytes((BUNDLED_DATA / "clusters.csv").read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    assert len(read_table(path)) == len(read_table(BUNDLED_DATA / "clusters.csv"))
