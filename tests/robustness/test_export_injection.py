"""Formula injection is neutralised in every export the command line produces.

One hostile data set (bundled clusters and markets whose names, cities, products and
designations are formulas such as ``=HYPERLINK("http://x","y")``, ``@SUM(A1)``, ``+1``, ``-2``)
goes through every command that writes a file: ``suggest`` (.csv/.xlsx/.json), ``shortlist``,
``schedule`` (.xlsx/.csv/.pdf/.ics and per-participant calendars), ``gaps --out``,
``evaluate --out``, ``validate --problems-csv`` and ``store backup``. The importer strips
whitespace around cells, so tab- and CR-prefixed names cannot arrive through a data folder; they
arrive through a hand-made suggestions file instead, which ``shortlist`` and ``schedule`` read
cell for cell. Each output is then scanned:

- XLSX: no formula cell (openpyxl ``data_type == "f"``) and no text cell starting with
  ``= + - @``, tab or CR, on any sheet;
- CSV (parsed with the csv module): no cell starting with those characters, except a cell that is a
  plain decimal number (``-0.5``, ``+1``, ``-2``) in a column that holds numbers: a spreadsheet
  reads it as that number and runs nothing. In text columns (names, reasons, products, items)
  even a number-like text must be neutralised, so a name ``-2`` must read ``'-2``;
- JSON: no string (key or value) starting with those characters, same number rule;
- ICS: no property value starting with them (``PRODID`` excepted: RFC 5545 fixes its form
  ``-//maker//product//``; it is a constant, never data);
- PDF: every hostile name in the extracted text is preceded by the neutralising quote.

Each scan also checks that hostile text did reach the file (neutralised), so a scan of an output
that never saw a hostile cell cannot pass by accident. ``store backup`` is the one deliberate
exception: it is a faithful copy for ``store restore``, not a spreadsheet, and must give back
exactly what planners typed, so the test checks that round trip instead. docs/robustness.md
records these rules.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from icalendar import Calendar
from icalendar.prop import vCategory
from openpyxl.utils.escape import unescape

from matcher.cli import main
from matcher.ingest.dataset import BUNDLED_DATA, load_dataset

pytestmark = pytest.mark.memory_capped  # hostile inputs run with memory capped (tests/conftest.py)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: Hostile cell texts as typed in the data files (the importer strips the tab and CR ones).
HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "@SUM(A1)",
    "+1",
    "-2",
    "\t=1+1",
    "\r=2+2",
    "-0.5",
    '=cmd|"/C calc"!A0',
]
#: What a hostile text looks like once it has been stored.
STORED = sorted({h.strip() for h in HOSTILE}, key=len, reverse=True)
NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
TEXT_COLUMN = re.compile(r"name|reason|product|item|city|designation|note|value|column|file|partner$")


def risky(text: str, *, text_column: bool = True) -> bool:
    """Would a spreadsheet run this cell as a formula (see the module docstring for numbers)?"""
    if not isinstance(text, str) or not text.startswith(FORMULA_START):
        return False
    return text_column or not NUMBER.match(text)


def neutralised_marks(text: str) -> int:
    """How many neutralised hostile texts (a quote before a formula start) a text holds."""
    return sum(text.count("'" + h) for h in STORED)


# ----------------------------------------------------------------------------------------------
# The hostile data set and every export made from it (once per module: ~15 s of commands)
# ----------------------------------------------------------------------------------------------
def hostile_copy(table: str, folder: Path) -> pd.DataFrame:
    frame = pd.read_csv(BUNDLED_DATA / f"{table}.csv", dtype=str, keep_default_na=False)
    for i in frame.index:
        n = len(HOSTILE)
        frame.loc[i, "name_zh"] = HOSTILE[i % n] + (frame.loc[i, "name_zh"] if i % 2 == 0 else "")
        frame.loc[i, "name_en"] = HOSTILE[(i + 1) % n]
        frame.loc[i, "city"] = HOSTILE[(i + 3) % n]
        frame.loc[i, "products"] = HOSTILE[(i + 2) % n] + " " + frame.loc[i, "products"]
        frame.loc[i, "designations"] = HOSTILE[(i + 5) % n]
    # CRLF like Excel: the csv module then quotes the CR-prefixed cells (a bare CR ends a row).
    frame.to_csv(folder / f"{table}.csv", index=False, lineterminator="\r\n")
    return frame


def hostile_suggestions(path: Path) -> None:
    """A suggestions file whose names and reasons start with a tab or a CR (and the rest)."""
    rows = []
    for i, (left, right) in enumerate(
        [("C001", "M001"), ("C002", "M002"), ("C003", "M001"), ("C004", "M003")]
    ):
        rows.append(
            {
                "kind": "cluster_market",
                "rank": 1,
                "left_id": left,
                "right_id": right,
                "left_name_zh": HOSTILE[(4 + i) % len(HOSTILE)],
                "left_name_en": "\tTAB " + HOSTILE[i],
                "right_name_zh": "\r" + HOSTILE[i],
                "right_name_en": HOSTILE[(5 + i) % len(HOSTILE)],
                "score": round(0.9 - i / 10, 2),
                "reason_zh": "\t" + HOSTILE[i],
                "reason_en": "\r@cmd",
                "f_distance": -0.5,
            }
        )
    with open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)


def hostile_known(path: Path) -> None:
    path.write_text(
        "left,right,kind,date,item,source\r\n"
        'C039,C123,east_west,2014-09-26,"=HYPERLINK(""http://x"",""y"")",@SUM(A1)\r\n'
        "C038,C123,east_west,2014-09-26,-2,+1\r\n"
        'C039,C141,east_west,2010-04-20,"\r=2+2","\t=1+1"\r\n',
        encoding="utf-8",
    )


def run(*argv: str) -> None:
    code = main(list(argv))
    assert code == 0, f"`python -m matcher {' '.join(argv)}` exited {code}"


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    """Run every exporting command on hostile input; name -> written file (or folder)."""
    root = tmp_path_factory.mktemp("injection")
    data, out = root / "hostile_data", root / "out"
    data.mkdir()
    out.mkdir()
    for table in ("clusters", "markets"):
        hostile_copy(table, data)
    hostile_suggestions(root / "tab_cr_suggestions.csv")
    hostile_known(root / "known.csv")
    (root / "clusters_bad.csv").write_text(
        'id,name_zh,province,stages,=HYPERLINK("http://x")\r\n@C1,+1,浙江,-2,x\r\n', encoding="utf-8"
    )
    files: dict[str, Path] = {}

    def path(name: str) -> str:
        files[name] = out / name
        return str(out / name)

    for ext in ("csv", "xlsx", "json", "parquet"):
        run(
            "suggest",
            "--kind",
            "cluster_market",
            "--top",
            "3",
            "--data",
            str(data),
            "--out",
            path(f"suggest.{ext}"),
        )
    run(
        "shortlist",
        "--suggestions",
        str(out / "suggest.xlsx"),
        "--k",
        "1",
        "--cap",
        "2",
        "--out",
        path("shortlist.xlsx"),
    )
    run("shortlist", "--suggestions", str(out / "suggest.json"), "--k", "1", "--out", path("shortlist.csv"))
    run("shortlist", "--suggestions", str(out / "suggest.csv"), "--k", "1", "--out", path("shortlist.json"))
    tab_cr = str(root / "tab_cr_suggestions.csv")
    run("shortlist", "--suggestions", tab_cr, "--method", "hungarian", "--out", path("tab_cr_shortlist.xlsx"))
    run("shortlist", "--suggestions", tab_cr, "--k", "1", "--out", path("tab_cr_shortlist.csv"))
    schedule = ["schedule", "--slots", "6", "--tables", "10", "--date", "2026-05-20"]
    for ext in ("xlsx", "csv", "pdf", "ics"):
        run(
            *schedule,
            "--data",
            str(data),
            "--shortlist",
            str(out / "shortlist.xlsx"),
            "--out",
            path(f"schedule.{ext}"),
        )
        run(
            *schedule,
            "--shortlist",
            str(out / "tab_cr_shortlist.xlsx"),
            "--out",
            path(f"tab_cr_schedule.{ext}"),
        )
    run(*schedule, "--data", str(data), "--shortlist", str(out / "shortlist.csv"), "--out", path("schedule2.ics"),
        "--ics-dir", path("calendars"))  # fmt: skip
    run("gaps", "--data", str(data), "--out", path("gaps.csv"))
    run("evaluate", "--known", str(root / "known.csv"), "--kind", "east_west", "--data", str(data),
        "--out", path("evaluate.csv"))  # fmt: skip
    assert main(["validate", str(root / "clusters_bad.csv"), "--problems-csv", path("problems.csv")]) == 2
    files["data"] = data
    yield files
    shutil.rmtree(root, ignore_errors=True)


def test_the_importer_accepts_formula_like_names_as_text(exports: dict[str, Path]) -> None:
    data = load_dataset(exports["data"])
    names = set(data.clusters["name_en"]) | set(data.markets["name_en"])
    assert names == set(STORED)  # kept as typed, only stripped of surrounding whitespace
    assert data.clusters["name_zh"].str.startswith("=HYPERLINK").any()


# ----------------------------------------------------------------------------------------------
# Scanners, one per format
# ----------------------------------------------------------------------------------------------
def xlsx_text(value: object) -> object:
    """A cell's text as Excel shows it: openpyxl leaves XML escapes such as ``_x000D_`` (CR) as they are."""
    return unescape(value) if isinstance(value, str) else value


def scan_xlsx(path: Path) -> tuple[list, int]:
    bad, marks = [], 0
    book = openpyxl.load_workbook(path)  # data_only=False: formulas show as data_type "f"
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                value = xlsx_text(cell.value)
                if cell.data_type == "f" or risky(value):
                    bad.append((sheet.title, cell.coordinate, value))
                if isinstance(value, str):
                    marks += neutralised_marks(value)
    return bad, marks


def scan_csv(path: Path) -> tuple[list, int]:
    bad, marks = [], 0
    with open(path, newline="", encoding="utf-8-sig") as handle:
        records = list(csv.reader(handle))
    header = records[0]
    for r, record in enumerate(records):
        for c, value in enumerate(record):
            text_column = r == 0 or bool(TEXT_COLUMN.search(header[c] if c < len(header) else ""))
            if risky(value, text_column=text_column):
                bad.append((r + 1, header[c] if c < len(header) else c, value))
            marks += neutralised_marks(value)
    return bad, marks


def scan_json(path: Path) -> tuple[list, int]:
    return scan_node(json.loads(path.read_text(encoding="utf-8")))


def scan_node(root: object) -> tuple[list, int]:
    """Every string in nested dicts and lists (keys too), checked as a cell of its column."""
    bad: list = []
    marks = 0

    def walk(node: object, where: str) -> None:
        nonlocal marks
        if isinstance(node, dict):
            for key, value in node.items():
                walk(key, where + "/<key>")
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for value in node:
                walk(value, where)
        elif isinstance(node, str):
            if risky(node, text_column=bool(TEXT_COLUMN.search(where.rsplit("/", 1)[-1]))):
                bad.append((where, node))
            marks += neutralised_marks(node)

    walk(root, "")
    return bad, marks


def scan_ics(path: Path) -> tuple[list, int]:
    bad, marks = [], 0
    for component in Calendar.from_ical(path.read_bytes()).walk():
        for name, value in component.property_items(recursive=False):
            if name == "PRODID":
                continue
            texts = [str(c) for c in value.cats] if isinstance(value, vCategory) else [str(value)]
            for text in texts:
                if risky(text):
                    bad.append((name, text))
                marks += neutralised_marks(text)
    return bad, marks


def scan_pdf(path: Path) -> tuple[list, int]:
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext (poppler-utils, installed by `make system`) is needed to read PDFs back"
    text = subprocess.run(
        [pdftotext, "-raw", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    # pdftotext may put a space between the quote and the text it guards ("' =2+2").
    hostile = "|".join(re.escape(h) for h in STORED)
    guarded = re.compile(rf"'\s?(?:{hostile})")
    marks = len(guarded.findall(text))
    rest = guarded.sub(" ", text)
    # Text copied out of a PDF pastes line by line: what is left must not start a line.
    bad = [m.group(0) for m in re.finditer(rf"^\s*(?:{hostile})", rest, flags=re.M)]
    return bad, marks


def scan_parquet(path: Path) -> tuple[list, int]:
    """Parquet is read by analysis tools that may hand cells to a spreadsheet: the same check as JSON."""
    return scan_node(pd.read_parquet(path).to_dict(orient="records"))


SCANNERS = {".xlsx": scan_xlsx, ".csv": scan_csv, ".json": scan_json, ".ics": scan_ics, ".pdf": scan_pdf,
            ".parquet": scan_parquet}
OUTPUTS = [
    "suggest.csv",
    "suggest.xlsx",
    "suggest.json",
    "suggest.parquet",
    "shortlist.xlsx",
    "shortlist.csv",
    "shortlist.json",
    "tab_cr_shortlist.xlsx",
    "tab_cr_shortlist.csv",
    "schedule.xlsx",
    "schedule.csv",
    "schedule.pdf",
    "schedule.ics",
    "schedule2.ics",
    "tab_cr_schedule.xlsx",
    "tab_cr_schedule.csv",
    "tab_cr_schedule.pdf",
    "tab_cr_schedule.ics",
    "gaps.csv",
    "evaluate.csv",
    "problems.csv",
]


@pytest.mark.parametrize("name", OUTPUTS)
def test_export_has_no_live_formula(exports: dict[str, Path], name: str) -> None:
    path = exports[name]
    bad, marks = SCANNERS[path.suffix](path)
    assert not bad, f"{name}: {len(bad)} cell(s) a spreadsheet would run, e.g. {bad[:5]}"
    assert marks > 0, f"{name}: no hostile text reached this file, so the scan proves nothing"


def test_every_per_participant_calendar_is_clean(exports: dict[str, Path]) -> None:
    calendars = sorted(exports["calendars"].glob("*.ics"))
    assert len(calendars) > 10
    total = 0
    for path in calendars:
        bad, marks = scan_ics(path)
        assert not bad, f"{path.name}: {bad[:5]}"
        total += marks
    assert total > 0


def test_tab_and_cr_prefixed_cells_are_neutralised_not_dropped(exports: dict[str, Path]) -> None:
    book = openpyxl.load_workbook(exports["tab_cr_shortlist.xlsx"])
    texts = {
        xlsx_text(c.value) for row in book["shortlist"].iter_rows() for c in row if isinstance(c.value, str)
    }
    assert "'\tTAB " + HOSTILE[0] in texts and "'\r" + HOSTILE[0] in texts and "'\r@cmd" in texts
    with open(exports["tab_cr_shortlist.csv"], newline="", encoding="utf-8-sig") as handle:
        cells = {v for record in csv.reader(handle) for v in record}
    assert "'\t" + HOSTILE[0] in cells and "'\r@cmd" in cells
    assert "-0.5" in cells  # a real number stays a number


def test_numbers_stay_numbers_and_number_like_names_are_text(exports: dict[str, Path]) -> None:
    frame = pd.read_csv(exports["suggest.csv"], dtype=str, encoding="utf-8-sig", keep_default_na=False)
    names = pd.concat([frame[c] for c in frame.columns if "name" in c])
    assert {"'-2", "'-0.5", "'+1"} <= set(names)  # names that look like numbers are neutralised text
    assert not names.isin(["-2", "-0.5", "+1"]).any()
    scores = pd.to_numeric(frame["score"])  # numbers are written as plain numbers, unquoted
    assert scores.notna().all()
    book = openpyxl.load_workbook(exports["suggest.xlsx"])
    sheet = book["shortlist"]
    header = [c.value for c in sheet[1]]
    score_cells = [row[header.index("score")] for row in sheet.iter_rows(min_row=2)]
    assert all(c.data_type == "n" for c in score_cells)


def test_our_exports_read_back_to_the_names_as_typed(exports: dict[str, Path]) -> None:
    # shortlist/schedule read our own exports and undo the quote: names survive the round trip.
    book = openpyxl.load_workbook(exports["schedule.xlsx"])
    sheet = book["schedule"]
    header = [c.value for c in sheet[1]]
    ids = [row[header.index("left_id")].value for row in sheet.iter_rows(min_row=2)]
    names = [xlsx_text(row[header.index("left_name_en")].value) for row in sheet.iter_rows(min_row=2)]
    data = load_dataset(exports["data"])
    typed = dict(zip(data.clusters["id"], data.clusters["name_en"], strict=True))
    for entity, shown in zip(ids, names, strict=True):
        assert shown == "'" + typed[entity]  # exactly one quote, never two


def test_store_backup_is_a_faithful_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from matcher.store import Store

    monkeypatch.delenv("MATCHER_DB_URL", raising=False)
    monkeypatch.setenv("MATCHER_WORKSPACE", str(tmp_path / "ws"))
    store = Store()
    store.record_run(HOSTILE[0], data_version="@v", kind="cluster_market", weights={"=w": 1.0}, planner="+li")
    listed = store.create_shortlist(HOSTILE[1], planner="-wang", run_id=HOSTILE[0])
    frame = pd.DataFrame({"kind": ["cluster_market"], "rank": [1], "left_id": ["=C1"], "right_id": ["@M1"],
                          "score": [0.5], "notes": [HOSTILE[5]]})  # fmt: skip
    store.add_items(listed["id"], frame, planner="\tzhao")
    assert main(["store", "backup", "--out", str(tmp_path / "backup.json")]) == 0
    backup = (tmp_path / "backup.json").read_text(encoding="utf-8")
    # Not neutralised on purpose: a backup is restored, not opened in a spreadsheet.
    assert json.dumps(HOSTILE[5], ensure_ascii=False) in backup
    monkeypatch.setenv("MATCHER_WORKSPACE", str(tmp_path / "ws2"))
    assert main(["store", "restore", str(tmp_path / "backup.json")]) == 0
    restored = Store()
    assert restored.items()["notes"].tolist() == [HOSTILE[5]]
    assert restored.shortlists()["name"].tolist() == [HOSTILE[1]]
    capsys.readouterr()


def test_graph_export_is_neutralised(exports: dict[str, Path], tmp_path: Path) -> None:
    run("graph", "--data", str(exports["data"]), "--out", str(tmp_path / "graph.json"))
    bad, _ = scan_json(tmp_path / "graph.json")
    assert not bad


def test_docs_table_lists_every_export() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "robustness.md").read_text(encoding="utf-8")
    section = text.split("## 2.", 1)[1].split("## 3.", 1)[0]
    documented = [
        line.split("|")[1].strip().strip("`") for line in section.splitlines() if line.startswith("| `")
    ]
    assert documented == OUTPUTS
