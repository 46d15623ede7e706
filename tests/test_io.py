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
        ((HEADER + ROWS).encode("utf-16"), "UTF-16"),
        ((HEADER + ROWS).encode("utf-16-le"), "NUL"),
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


def test_tab_separated_text(tmp_path):
    table = read_table(write(tmp_path, "c.txt", "id\tname_zh\n00123\t柯桥\n".encode()))
    assert table.to_dict("list") == {"id": ["00123"], "name_zh": ["柯桥"]}


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
