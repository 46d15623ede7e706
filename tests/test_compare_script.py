"""scripts/compare_suggestions.py: the cell-by-cell comparison of two folders of suggestion files
(the git worktree and ``suggest`` runs are not exercised here)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "compare_suggestions.py"
HEADER = "kind,rank,left_id,right_id,score,reason_en,run_id,created_at"
ROWS = [
    "k1,1,C001,C002,0.9,\"chain, product\",abc,2024-01-01T00:00:00",
    "k1,2,C001,C003,0.8,,abc,2024-01-01T00:00:00",
    "k1,1,C002,C001,0.9,NA,abc,2024-01-01T00:00:00",
]


@pytest.fixture(scope="module")
def script():
    spec = importlib.util.spec_from_file_location("compare_suggestions", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop(spec.name, None)


def write(folder: Path, kind: str, rows: list[str], header: str = HEADER) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{kind}.csv").write_text("\ufeff" + "\n".join([header, *rows]) + "\n", encoding="utf-8")


def test_identical_folders_are_reported_identical(script, tmp_path):
    for side in ("base", "work"):
        write(tmp_path / side, "k1", ROWS)
        write(tmp_path / side, "k2", ROWS[:1])
    results = script.compare_folders(tmp_path / "base", tmp_path / "work", ["k1", "k2"])
    assert [r.identical for r in results] == [True, True]
    assert [r.report() for r in results] == ["k1: identical", "k2: identical"]


def test_one_changed_cell_is_reported_with_kind_row_and_column(script, tmp_path):
    write(tmp_path / "base", "k1", ROWS)
    changed = [*ROWS]
    changed[1] = changed[1].replace("0.8", "0.7")
    write(tmp_path / "work", "k1", changed)
    [result] = script.compare_folders(tmp_path / "base", tmp_path / "work", ["k1"])
    assert not result.identical
    assert (result.differing_rows, result.differing_cells) == (1, 1)
    text = result.report()
    assert text.startswith("k1: DIFFERENT")
    assert "row 2 (CSV line 3, left_id C001, right_id C003" in text
    assert "score: '0.8' -> '0.7'" in text


def test_run_id_and_timestamps_are_ignored_but_na_text_is_not(script, tmp_path):
    write(tmp_path / "base", "k1", ROWS)
    other_run = [r.replace(",abc,", ",xyz,").replace("2024-01-01", "2025-06-30") for r in ROWS]
    write(tmp_path / "work", "k1", other_run)
    assert script.compare_files("k1", tmp_path / "base/k1.csv", tmp_path / "work/k1.csv").identical
    # 'NA' and '' are text, not both "missing": changing one into the other is a difference.
    write(tmp_path / "work2", "k1", [r.replace(",NA,", ",,") for r in ROWS])
    result = script.compare_files("k1", tmp_path / "base/k1.csv", tmp_path / "work2/k1.csv")
    assert result.differing_cells == 1 and "reason_en: 'NA' -> ''" in result.report()


def test_header_row_count_and_missing_file_are_reported(script, tmp_path):
    write(tmp_path / "base", "k1", ROWS)
    write(tmp_path / "work", "k1", ROWS[:2], header=HEADER.replace("score,reason_en", "reason_en,score"))
    result = script.compare_files("k1", tmp_path / "base/k1.csv", tmp_path / "work/k1.csv")
    text = result.report()
    assert "columns differ from position 5" in text
    assert "row count differs: base 3, work 2" in text
    missing = script.compare_files("k2", tmp_path / "base/k2.csv", tmp_path / "work/k2.csv")
    assert not missing.identical and "base file" in missing.report() and "work file" in missing.report()


def test_at_most_ten_differing_rows_are_listed(script, tmp_path):
    rows = [f"k1,{i},C{i:03d},C999,0.5,,abc," for i in range(25)]
    write(tmp_path / "base", "k1", rows)
    write(tmp_path / "work", "k1", [r.replace("0.5", "0.6") for r in rows])
    result = script.compare_files("k1", tmp_path / "base/k1.csv", tmp_path / "work/k1.csv")
    assert result.differing_rows == 25 and len(result.rows) == 10
    assert "25 rows differ (25 cells); first 10:" in result.report()


def test_float_rounding_is_reported_apart_only_when_asked(script, tmp_path):
    header = "left_id,right_id,f_product,reason_en"
    write(tmp_path / "base", "k1", ["C001,C002,0.30000001192092896,spinning feeds weaving"], header)
    write(tmp_path / "work", "k1", ["C001,C002,0.3000001907348633,spinning feeds weaving"], header)
    strict = script.compare_folders(tmp_path / "base", tmp_path / "work", ["k1"])[0]
    assert not strict.identical and strict.differing_cells == 1
    loose = script.compare_folders(tmp_path / "base", tmp_path / "work", ["k1"], atol=1e-6)[0]
    assert loose.identical and "f_product 1 cells" in loose.report()
    write(tmp_path / "work", "k1", ["C001,C002,0.3000001907348633,similar products"], header)
    assert not script.compare_folders(tmp_path / "base", tmp_path / "work", ["k1"], atol=1e-6)[0].identical
