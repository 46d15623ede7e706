"""Validation of text tables against the column specs, and ``python -m matcher validate``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.columns import CLUSTERS, ENTERPRISES, MARKETS, Column, TableSpec
from matcher.exceptions import ValidationError
from matcher.ingest.read import PROBLEM_COLUMNS, read_table
from matcher.ingest.validate import check_table, empty_table, load_table, schema, validate_table

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "fixtures" / "import"


def raw(rows: list[dict], columns: list[str] | None = None) -> pd.DataFrame:
    """Text cells as read from a file: first data row is Excel row 2."""
    frame = pd.DataFrame(rows, columns=columns).fillna("").astype(str)
    frame.index = pd.RangeIndex(2, 2 + len(frame))
    return frame


def cluster(**cells) -> dict:
    return {"id": "C1", "name_zh": "柯桥", "province": "Zhejiang", "stages": "weaving", **cells}


def problems_of(rows, spec=CLUSTERS, **kw) -> pd.DataFrame:
    _, problems = check_table(raw(rows), spec, "t.csv", **kw)
    return problems


def only(problems: pd.DataFrame, column: str) -> pd.DataFrame:
    return problems[problems["column"] == column]


# --- conversion to the in-memory types ---


def test_valid_table_converts_to_memory_types():
    rows = [
        cluster(
            id="00123",
            province="浙江省",
            stages="dyeing & finishing，织造|weaving",
            transfer_park="是",
            lat=" 30.08 ",
            lon="120.49",
            n_firms="1,200",
            capacity="",
            innovation_platform="FALSE",
        ),
        cluster(id="C2", name_zh="", name_en="Aksu", province="xinjiang", region="西部", stages="纤维;fiber"),
    ]
    typed = validate_table(raw(rows), CLUSTERS, "t.csv")
    assert list(typed.columns) == CLUSTERS.names
    assert typed["id"].tolist() == ["00123", "C2"]
    assert typed["province"].tolist() == ["Zhejiang", "Xinjiang"]
    assert typed["region"].tolist() == ["east", "west"]  # filled from the province
    assert typed["stages"].tolist() == ["weaving;dyeing_finishing", "fiber"]  # chain order, no repeats
    assert typed["transfer_park"].tolist() == [True, pd.NA]
    assert typed["innovation_platform"].tolist() == [False, pd.NA]
    assert typed["n_firms"].tolist() == [1200, pd.NA]
    assert typed["capacity"].isna().all()  # empty = unknown, never 0
    assert pd.isna(typed.loc[0, "name_en"]) and pd.isna(typed.loc[1, "name_zh"])
    assert typed["lat"].dtype == "Float64" and typed["n_firms"].dtype == "Int64"
    assert typed["transfer_park"].dtype == "boolean" and typed["id"].dtype == "string"
    schema(CLUSTERS).validate(typed)  # the typed table satisfies the pandera contract


def test_markets_stages_default_to_trading_and_roles_are_canonical():
    rows = [
        {"id": "M1", "name_zh": "轻纺城", "province": "浙江", "roles": "finished_goods，面料", "stages": ""}
    ]
    typed = validate_table(raw(rows), MARKETS, "m.csv")
    assert typed["stages"].tolist() == ["trading"]
    assert typed["roles"].tolist() == ["fabrics;finished_goods"]


def test_empty_table_has_right_dtypes():
    frame = empty_table(ENTERPRISES)
    assert list(frame.columns) == ENTERPRISES.names and len(frame) == 0
    assert frame["n_workers"].dtype == "Int64" and frame["cluster_id"].dtype == "string"


# --- each check, named with row, column and value ---


def test_missing_required_columns_are_named_with_the_valid_ones():
    problems = problems_of([{"id": "C1", "name_zh": "x"}])
    missing = problems[problems["reason"].str.startswith("required column")]
    assert set(missing["column"]) == {"province", "stages"}
    assert (missing["row"] == 1).all()
    reason = missing["reason"].iloc[0]
    assert "missing: province, stages" in reason and "valid columns: id, name_zh, name_en" in reason


def test_unknown_column_is_an_error_naming_valid_columns():
    problems = problems_of([cluster(colour="red")])
    assert problems[["row", "column", "value"]].values.tolist() == [[1, "colour", "colour"]]
    assert "unknown column 'colour'; valid columns: id, name_zh" in problems["reason"].iloc[0]


def test_unknown_columns_allowed_when_spec_says_so():
    spec = TableSpec("t", (Column("id", "id", True), Column("name_en", "text")), extra_allowed=True)
    typed = validate_table(raw([{"id": "1", "name_en": "a", "note": "keep"}]), spec)
    assert typed["note"].tolist() == ["keep"]


def test_required_cells_and_names():
    problems = problems_of([cluster(id="", stages=""), cluster(id="C2", name_zh="", name_en="")])
    assert problems[["row", "column"]].values.tolist() == [[2, "id"], [2, "stages"], [3, "name_zh"]]
    assert problems["reason"].iloc[0].startswith("required cell is empty")
    assert problems["reason"].iloc[2] == "give name_zh or name_en (both are empty)"


def test_every_duplicate_id_row_is_reported():
    problems = problems_of([cluster(id="C1"), cluster(id="C2"), cluster(id="C1"), cluster(id="C1")])
    assert problems[["row", "column", "value"]].values.tolist() == [
        [2, "id", "C1"],
        [4, "id", "C1"],
        [5, "id", "C1"],
    ]
    assert "rows 2, 4, 5" in problems["reason"].iloc[0]


def test_province_unknown_and_region_checks():
    problems = problems_of(
        [
            cluster(province="Atlantis"),
            cluster(id="C2", province="Sichuan", region="east"),
            cluster(id="C3", province="Zhejiang", region="north"),
            cluster(id="C4", province="四川", region="west"),
        ]
    )
    assert problems[["row", "column", "value"]].values.tolist() == [
        [2, "province", "Atlantis"],
        [3, "region", "east"],
        [4, "region", "north"],
    ]
    assert "Sichuan, which is in the west" in problems["reason"].iloc[1]
    assert "east, central, west" in problems["reason"].iloc[2]


@pytest.mark.parametrize(
    ("cells", "column", "words"),
    [
        ({"lat": "95"}, "lat", "between -90 and 90"),
        ({"lat": "-90.5"}, "lat", "between -90 and 90"),
        ({"lon": "181"}, "lon", "between -180 and 180"),
        ({"lat": "north"}, "lat", "not a number"),
        ({"lon": "inf"}, "lon", "not a number"),
        ({"capacity": "-1"}, "capacity", "0 or more"),
        ({"n_firms": "2.5"}, "n_firms", "whole number"),
        ({"n_firms": "many"}, "n_firms", "not a number"),
        ({"transfer_park": "maybe"}, "transfer_park", "yes, no, true, false, 1, 0, 是 or 否"),
        ({"stages": "weaving;knit"}, "stages", "unknown stage 'knit'; valid stages: fiber, spinning"),
        ({"buys": "cotton"}, "buys", "unknown stage 'cotton'"),
    ],
)
def test_cell_checks(cells, column, words):
    problems = problems_of([cluster(**cells)])
    assert problems[["row", "column", "value"]].values.tolist() == [[2, column, next(iter(cells.values()))]]
    assert words in problems["reason"].iloc[0]


def test_unknown_role():
    problems = problems_of([{"id": "M1", "name_en": "x", "province": "浙江", "roles": "retail"}], MARKETS)
    assert problems[["row", "column", "value"]].values.tolist() == [[2, "roles", "retail"]]
    assert "raw_materials, fabrics, finished_goods" in problems["reason"].iloc[0]


def test_enterprise_with_unknown_cluster_id():
    table = read_table(FIXTURES / "enterprises_unknown_cluster.csv")
    _, problems = check_table(table, ENTERPRISES, "e.csv", cluster_ids=["00123"])
    assert problems[["row", "column", "value"]].values.tolist() == [[3, "cluster_id", "C999"]]
    assert "unknown cluster_id" in problems["reason"].iloc[0]


def test_all_problems_found_in_one_pass_and_nothing_returned():
    rows = [cluster(id="C1"), cluster(id="C1", lat="95"), cluster(id="C3", stages="silk", province="Mars")]
    with pytest.raises(ValidationError) as caught:
        validate_table(raw(rows), CLUSTERS, "t.csv")
    problems = caught.value.problems
    assert list(problems.columns) == PROBLEM_COLUMNS
    assert problems[["row", "column"]].values.tolist() == [
        [2, "id"],
        [3, "id"],
        [3, "lat"],
        [4, "province"],
        [4, "stages"],
    ]
    assert "5 problem(s) in 3 row(s); nothing was loaded" in str(caught.value)


def test_one_problem_per_cell():
    # an unparseable required cell is reported as unparseable, not also as empty
    problems = problems_of([cluster(stages="silk")])
    assert len(problems) == 1


# --- random content never crashes ---

CELL = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12
) | st.sampled_from(
    ["", "weaving;纺纱", "浙江", "95", "-1", "1e309", "nan", "是", '"', "=1+1", "\r\n", ",", "00123"]
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.fixed_dictionaries({c: CELL for c in CLUSTERS.names[:12]}), max_size=5))
def test_random_cells_never_crash(rows):
    try:
        typed = validate_table(raw(rows, CLUSTERS.names[:12]), CLUSTERS, "random.csv")
    except ValidationError as err:
        assert len(err.problems) and list(err.problems.columns) == PROBLEM_COLUMNS
    else:
        schema(CLUSTERS, typed.columns).validate(typed)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(st.lists(CELL, min_size=4, max_size=4), max_size=4),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
)
def test_random_files_never_crash(tmp_path, rows, encoding):
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows([["id", "name_zh", "province", "stages"], *rows])
    path = tmp_path / "clusters.csv"
    path.write_bytes(buffer.getvalue().encode(encoding, errors="replace"))
    try:
        load_table(path, "clusters")
    except ValidationError as err:
        assert len(err.problems)


# --- the command line ---


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "matcher", "validate", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_cli_gbk_clusters_file_with_three_problems_exits_2_naming_them():
    path = FIXTURES / "clusters_gbk_bad.csv"
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")  # the fixture really is GBK
    result = cli(str(path))
    assert result.returncode == 2
    out = result.stdout + result.stderr
    assert "Traceback" not in out
    lines = out.splitlines()

    def line_with(*words):
        return [ln for ln in lines if all(w in ln for w in words)]

    assert line_with("clusters_gbk_bad.csv", " 3 ", "id", "C001", "used more than once")
    assert line_with("clusters_gbk_bad.csv", " 4 ", "lat", "95", "between -90 and 90")
    assert line_with("clusters_gbk_bad.csv", " 5 ", "stages", "丝绸", "unknown stage '丝绸'")


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    """The same command in-process (a subprocess per case would import the whole CLI each time)."""
    from matcher.cli import main

    code = main(["validate", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_cli_valid_files_exit_0_with_one_line_each(capsys):
    clusters = FIXTURES / "dataset_ok" / "clusters.csv"
    enterprises = FIXTURES / "dataset_ok" / "enterprises.csv"
    code, out, err = run_main(capsys, str(clusters), str(enterprises))
    assert code == 0, err
    assert out.splitlines() == [f"{clusters}: 3 clusters, OK", f"{enterprises}: 2 enterprises, OK"]


def test_cli_bundled_data_summary(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    code, out, err = run_main(capsys, "data/clusters.csv", "data/markets.csv", "data")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[:2] == ["data/clusters.csv: 163 clusters, OK", "data/markets.csv: 41 markets, OK"]
    assert lines[2].startswith("data: 163 clusters, 41 markets, 0 enterprises, version ")


def test_cli_table_option_unknown_name_and_unreadable_file(tmp_path, capsys):
    odd = tmp_path / "list.csv"
    odd.write_text("id,name_zh,province,stages\nC1,a,浙江,weaving\n", encoding="utf-8")
    code, _, err = run_main(capsys, str(odd))
    assert code == 2 and "--table" in err
    assert run_main(capsys, str(odd), "--table", "clusters")[0] == 0
    code, _, err = run_main(capsys, str(FIXTURES / "fake.xlsx"), "--table", "clusters")
    assert code == 2 and "not an Excel workbook" in err


def test_cli_enterprises_checked_against_clusters_and_problems_csv(tmp_path, capsys):
    written_to = tmp_path / "problems.csv"
    code, _, err = run_main(
        capsys,
        str(FIXTURES / "enterprises_unknown_cluster.csv"),
        "--clusters",
        str(FIXTURES / "dataset_ok" / "clusters.csv"),
        "--problems-csv",
        str(written_to),
    )
    assert code == 2
    assert "C999" in err and "unknown cluster_id" in err
    written = pd.read_csv(written_to, dtype=str, encoding="utf-8-sig")
    assert written[["row", "column", "value"]].values.tolist() == [["3", "cluster_id", "C999"]]


def test_docs_column_table_matches_the_specs():
    text = (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
    documented = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`") and cells[2] in ("R", "o", "—"):
            documented[cells[0].strip("`")] = (cells[1], cells[2], cells[3], cells[4])
    expected = {}
    for position, spec in enumerate((CLUSTERS, MARKETS, ENTERPRISES)):
        for col in spec.columns:
            expected.setdefault(col.name, [col.kind, "—", "—", "—"])[1 + position] = (
                "R" if col.required else "o"
            )
    assert documented == {name: tuple(v) for name, v in expected.items()}


def test_plain_frames_are_numbered_as_excel_rows():
    frame = pd.DataFrame([cluster(), cluster(id="C2", lat="95")])  # index 0, 1: not from a file
    _, problems = check_table(frame, CLUSTERS)
    assert problems[["row", "column"]].values.tolist() == [[3, "lat"]]


def test_a_place_outside_china_is_refused_with_both_coordinates(tmp_path):
    """A Jiangsu cluster at lat -33.9, lon 18.4 (Cape Town) passed and showed as 12,360 km away; every
    table holds places in China (``limits.CHINA_LAT``, ``CHINA_LON``). Points in China still read."""
    from matcher.ingest.dataset import BUNDLED_DATA

    table = pd.read_csv(BUNDLED_DATA / "clusters.csv", dtype=str, keep_default_na=False)
    table.loc[0, ["lat", "lon"]] = ["-33.9", "18.4"]
    table.loc[1, ["lat", "lon"]] = ["3.9", "112.3"]  # Zengmu Reef, the southernmost point: in China
    path = tmp_path / "clusters.csv"
    table.to_csv(path, index=False)
    with pytest.raises(ValidationError) as caught:
        load_table(path, "clusters")
    problems = caught.value.problems
    assert problems[["row", "column", "value"]].values.tolist() == [[2, "lat", "-33.9, 18.4"]]
    assert "outside China" in problems["reason"].iloc[0] and "swapped" in problems["reason"].iloc[0]
