"""The importer under attack: hostile files through ``validate`` and ``load_dataset``.

Every hostile file gets either a clean load or exit 2 with a message that names the row (as Excel
counts it, header = row 1) and the column; never a traceback, never a partial load, each within
seconds. ``tests/test_io.py`` and ``tests/test_validate.py`` check the reader's messages one by
one; here each case goes through the whole command (in-process via ``matcher.cli.main``, and as a
real subprocess for a representative few) and through ``load_dataset`` on a data set folder in
which only that one file is hostile. Hypothesis then throws random bytes and random near-CSV text
at the same entry points. docs/robustness.md lists these cases.
"""

from __future__ import annotations

import io
import random
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.cli import main
from matcher.exceptions import ValidationError
from matcher.ingest.dataset import load_dataset
from matcher.ingest.read import PROBLEM_COLUMNS
from matcher.ingest.validate import MAX_CELL_CHARS, load_table

pytestmark = pytest.mark.memory_capped  # hostile inputs run with memory capped (tests/conftest.py)

ROOT = Path(__file__).resolve().parents[2]
DATASET_OK = ROOT / "tests" / "fixtures" / "import" / "dataset_ok"
HEADER = "id,name_zh,province,stages\r\n"
#: Seconds one hostile file may take through the whole command on a busy 2-core machine.
SECONDS = 10.0


def rows(n: int, start: int = 0) -> str:
    return "".join(f"C{i:05d},名{i},浙江,weaving\r\n" for i in range(start, start + n))


def random_bytes(size: int, seed: int, nul: bool) -> bytes:
    rng = random.Random(seed)
    return bytes(rng.randrange(0 if nul else 1, 256) for _ in range(size))


def _first_bad_row(data: bytes) -> int:
    """The row (as Excel numbers it) of the first byte that is not UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as err:
        return data.count(b"\n", 0, err.start) + 1
    return 0


ROW_OF_RANDOM = _first_bad_row(random_bytes(65_536, 2, nul=False))


def not_a_workbook_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "a zip archive, not a workbook")
    return buffer.getvalue()


@dataclass(frozen=True)
class Case:
    """One hostile file and what must come of it."""

    name: str
    data: bytes
    suffix: str = ".csv"
    loads: int | None = None  # rows of a clean load; None = refused
    row: int = 0  # Excel row the refusal names (0 = a whole-file problem: no row to name)
    column: str = ""  # column the refusal names
    words: str = ""  # words the refusal's reason contains


CASES = [
    Case("random bytes (64 KiB, NULs)", random_bytes(65_536, 1, nul=True), words="NUL bytes"),
    Case("random bytes (64 KiB, no NUL)", random_bytes(65_536, 2, nul=False), row=ROW_OF_RANDOM,
         words="neither UTF-8 nor GB18030 (GBK) nor Big5"),
    Case("Big5 (traditional Chinese)", (HEADER + "".join(f"C{i:05d},紡織名城{i},浙江,weaving\r\n" for i in range(3))
                                         ).encode("big5"), loads=3),
    Case("a byte no encoding reads, in row 3", (HEADER + rows(1)).encode() + b"C00009,\xff\xfe,zj,weaving\r\n",
         row=3, words="row 3 cannot be read as any of them"),
    Case("zero-width space in an id", (HEADER + "C0\u200b0001,名,浙江,weaving\r\n").encode(), row=2, column="id",
         words="invisible character"),
    Case("right-to-left override in an id", (HEADER + rows(1) + "C\u202e00002,名,浙江,weaving\r\n").encode(), row=3,
         column="id", words="invisible character"),
    Case("empty file", b"", words="empty"),
    Case("header only", HEADER.encode(), loads=0),
    Case("UTF-16 with BOM (Excel's Unicode text)", (HEADER + rows(3)).encode("utf-16"), loads=3),
    Case("UTF-16 without BOM", (HEADER + rows(3)).encode("utf-16-le"), words="UTF-16"),
    Case(
        "mixed line endings (LF, CRLF, CR)",
        b"id,name_zh,province,stages\nC1,a,Zhejiang,weaving\r\nC2,b,Zhejiang,weaving\rC3,c,Zhejiang,weaving\n",
        loads=3,
    ),
    Case(
        "mixed line endings, bad cell after a bare CR",
        b"id,name_zh,province,stages\nC1,a,Zhejiang,weaving\r\nC2,b,Zhejiang,weaving\rC3,c,Zhejiang,silk\n",
        row=4,
        column="stages",
        words="unknown stage 'silk'",
    ),
    Case(
        "NUL byte in row 1002",
        (HEADER + rows(1000)).encode() + b"C9,a\x00b,Zhejiang,weaving\r\n",
        row=1002,
        column="name_zh",
        words="NUL bytes",
    ),
    Case(
        "2 MB cell",
        (HEADER + rows(1) + "C9," + "纺" * 700_000 + ",浙江,weaving\r\n").encode(),
        row=3,
        column="name_zh",
        words=f"longer than {MAX_CELL_CHARS:,} characters",
    ),
    Case(
        "2 MB cell in a list column",
        (HEADER + "C9,a,浙江," + "x" * 2_000_000 + "\r\n").encode(),
        row=2,
        column="stages",
        words="unknown stage",
    ),
    Case(
        "unterminated quote",
        (HEADER + rows(1) + '\r\nC9,"open,浙江,weaving\r\n' + rows(3, 10)).encode(),
        row=4,
        column="name_zh",
        words="unterminated quote",
    ),
    Case(
        "duplicate headers",
        b"id,name_zh,ID,province,stages\r\nC1,a,b,Zhejiang,weaving\r\n",
        row=1,
        column="id",
        words="duplicate column 'id'",
    ),  # fmt: skip
    Case(
        "more cells than the header",
        (HEADER + rows(1)).encode() + b"C9,a,Zhejiang,weaving,extra\r\n",
        row=3,
        words="row 3 has 5 cells",
    ),  # fmt: skip
    Case("fake XLSX (CSV text)", (HEADER + rows(2)).encode(), ".xlsx", words="not an Excel workbook"),
    Case("fake XLSX (zip, no workbook)", not_a_workbook_zip(), ".xlsx", words="cannot be opened"),
    Case("fake XLSX (old .xls bytes)", b"\xd0\xcf\x11\xe0" + bytes(600), ".xlsx", words="old .xls"),
    Case(
        "60,000 rows, last row bad",
        (HEADER + rows(59_999) + "C99999,x,浙江,silk\r\n").encode(),
        row=60_001,
        column="stages",
        words="unknown stage 'silk'",
    ),
]
SUBPROCESS_CASES = ("random bytes (64 KiB, NULs)", "unterminated quote", "60,000 rows, last row bad",
                    "fake XLSX (CSV text)")  # fmt: skip


def write(folder: Path, stem: str, case: Case) -> Path:
    path = folder / f"{stem}{case.suffix}"
    path.write_bytes(case.data)
    return path


def check_cli_outcome(case: Case, code: int, out: str, err: str, path: Path) -> None:
    assert "Traceback" not in out + err
    if case.loads is not None:
        assert code == 0, err
        # a file not in UTF-8 says how it was read
        read_as = {"Big5": " (read as Big5)", "UTF-16": " (read as UTF-16 (Excel Unicode text))"}.get(
            case.name.split(" ")[0], "")
        assert f"{path}: {case.loads} clusters{read_as}, OK" in out
        return
    assert code == 2, out + err
    assert "nothing was loaded" in err
    lines = [line for line in err.splitlines() if str(path) in line and case.words in line]
    assert lines, f"no problem line with {case.words!r} in:\n{err[:3000]}"
    cells = lines[0].split()
    assert cells[1] == str(case.row)  # the row column of the problems table
    if case.column:
        assert cells[2] == case.column
    assert len(err) < 20_000  # a 2 MB cell is never echoed whole


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_validate_command_in_process(case: Case, tmp_path: Path, capsys) -> None:
    path = write(tmp_path, "clusters", case)
    started = time.perf_counter()
    code = main(["validate", str(path)])
    elapsed = time.perf_counter() - started
    captured = capsys.readouterr()
    check_cli_outcome(case, code, captured.out, captured.err, path)
    assert elapsed < SECONDS


@pytest.mark.parametrize("name", SUBPROCESS_CASES)
def test_validate_command_as_a_subprocess(name: str, tmp_path: Path) -> None:
    case = next(c for c in CASES if c.name == name)
    path = write(tmp_path, "clusters", case)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "matcher", "validate", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    elapsed = time.perf_counter() - started
    check_cli_outcome(case, done.returncode, done.stdout, done.stderr, path)
    assert elapsed < SECONDS + 5  # plus the interpreter's start-up


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_dataset_with_one_hostile_file_loads_nothing(case: Case, tmp_path: Path) -> None:
    folder = tmp_path / "planning"
    shutil.copytree(DATASET_OK, folder)
    (folder / "markets.csv").unlink()
    path = write(folder, "markets", case)  # the clusters and enterprises beside it are valid
    started = time.perf_counter()
    if case.loads is not None:
        data = load_dataset(folder)
        assert len(data.markets) == case.loads and len(data.clusters) == 3
    else:
        with pytest.raises(ValidationError) as caught:
            load_dataset(folder)
        problems = caught.value.problems
        assert list(problems.columns) == PROBLEM_COLUMNS
        assert set(problems["file"]) == {str(path)}  # only the hostile file is blamed
        hit = problems[problems["reason"].str.contains(case.words, regex=False)]
        assert len(hit), problems.to_string()
        assert int(hit["row"].iloc[0]) == case.row
        if case.column:
            assert hit["column"].iloc[0] == case.column
        assert "nothing was loaded" in str(caught.value)
    assert time.perf_counter() - started < SECONDS


# --- fuzzing: whatever the bytes, a clean load or a ValidationError with a problems table ---

STRUCTURE = st.sampled_from(
    [",", ",", '"', '""', "\r\n", "\n", "\r", "\t", ";", "\x00", "\ufeff", "=", "浙江", "weaving", "C1"]
)
NEAR_CSV = st.lists(STRUCTURE | st.text(max_size=6), max_size=40).map("".join)


def load_or_problems(path: Path) -> None:
    started = time.perf_counter()
    try:
        table = load_table(path, "clusters")
    except ValidationError as err:
        assert err.problems is not None and len(err.problems)
        assert list(err.problems.columns) == PROBLEM_COLUMNS
        assert (err.problems["row"] >= 0).all()
    else:
        assert table["id"].notna().all() and table["stages"].notna().all()
    assert time.perf_counter() - started < SECONDS


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=2048))
def test_fuzz_random_bytes(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "clusters.csv"
    path.write_bytes(data)
    load_or_problems(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=NEAR_CSV, encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_fuzz_near_csv_text(tmp_path: Path, body: str, encoding: str) -> None:
    path = tmp_path / "clusters.csv"
    path.write_bytes(("id,name_zh,province,stages\n" + body).encode(encoding, errors="replace"))
    load_or_problems(path)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=1024))
def test_fuzz_bytes_named_xlsx(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "clusters.xlsx"
    path.write_bytes(b"PK\x03\x04" + data)  # looks like a zip at first glance
    load_or_problems(path)


def test_docs_table_lists_every_case() -> None:
    text = (ROOT / "docs" / "robustness.md").read_text(encoding="utf-8")
    section = text.split("## 1.", 1)[1].split("## 2.", 1)[0]
    documented = [line.split("|")[1].strip() for line in section.splitlines() if line.startswith("| ")]
    documented = [name for name in documented if name not in ("case", "---")]
    cases = [c.name for c in CASES]
    assert [name for name in documented if not name.startswith("fuzz:")] == cases
    assert len([name for name in documented if name.startswith("fuzz:")]) == 3  # the three fuzz tests
    for name in SUBPROCESS_CASES:
        assert any(line.startswith(f"| {name} |") and "*sub*" in line for line in section.splitlines())


def test_xlsx_claiming_too_many_cells_is_refused(tmp_path, monkeypatch):
    """A small zipped workbook can unpack into millions of cells: reading stops at the cap."""
    import openpyxl

    from matcher.ingest import read as matcher_io

    path = tmp_path / "clusters.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["id", "name_zh", "province", "stages"])
    for i in range(300):
        sheet.append([f"C{i:03d}", "集群", "Zhejiang", "spinning"])
    book.save(path)
    monkeypatch.setattr(matcher_io, "MAX_XLSX_CELLS", 1_000)
    with pytest.raises(ValidationError, match="more than 1,000 cells"):
        matcher_io.read_xlsx(path)
