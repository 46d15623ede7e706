"""Importing real third-party factory lists (../shared/external) as enterprises.

The files are read where they lie and never copied into the repository; on a machine without
the folder these tests skip and say why.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from matcher.columns import ENTERPRISES
from matcher.exceptions import MatcherError
from matcher.ingest.mappings import (
    import_external,
    import_nike_adidas,
    import_oar_list,
    province_from_text,
    stages_from_text,
)
from matcher.ingest.read import PROBLEM_COLUMNS
from matcher.ingest.validate import schema

EXTERNAL = Path(__file__).resolve().parent.parent.parent / "shared" / "external"
NIKE = EXTERNAL / "nike_adidas_factories" / "merged_adidas_nike.csv"
OAR = EXTERNAL / "oar_fixture_lists"
needs_external = pytest.mark.skipif(
    not EXTERNAL.is_dir(),
    reason=f"external data sets not present at {EXTERNAL} (only on the project's machine)",
)


def check_result(result) -> None:
    enterprises, problems = result.enterprises, result.problems
    assert list(enterprises.columns) == ENTERPRISES.names
    schema(ENTERPRISES).validate(enterprises)
    assert enterprises["id"].is_unique
    assert enterprises["stages"].notna().all() and enterprises["province"].notna().all()
    assert enterprises["region"].isin(["east", "central", "west"]).all()
    assert list(problems.columns) == PROBLEM_COLUMNS
    assert problems["reason"].str.len().gt(0).all()


@needs_external
def test_nike_adidas_chinese_factories_import():
    result = import_nike_adidas(NIKE)
    check_result(result)
    raw = pd.read_csv(NIKE, dtype=str, keep_default_na=False)
    n_china = int((raw["Country"] == "China").sum())
    assert n_china == 228  # README: 228 rows in China
    assert result.skipped == len(raw) - n_china
    # every Chinese row is either imported or reported, never lost
    assert len(result.enterprises) + result.problems["row"].nunique() == n_china
    assert len(result.enterprises) >= 200
    assert result.enterprises["province"].value_counts().index[0] == "Guangdong"  # README: Guangdong 73
    assert result.enterprises["n_workers"].notna().mean() > 0.9
    by_name = result.enterprises.set_index("name_en")
    assert by_name.loc["Dongguan Crystal Knitting and Garment Co., Ltd", "stages"] == "knitting;apparel"
    assert by_name.loc["Far Eastern Dyeing & Finishing (SuZhou) LTD", "stages"] == "dyeing_finishing"
    assert result.enterprises["provenance"].str.contains("merged_adidas_nike.csv row").all()
    # tier-2 material suppliers with no stage word in their name are reported, with the source row
    unmapped = result.problems[result.problems["column"] == "stages"]
    assert len(unmapped) > 0 and unmapped["value"].str.contains("MATERIALS|Hard Goods").all()
    assert (raw.loc[unmapped["row"] - 2, "Country"] == "China").all()


@needs_external
def test_oar_lists_import_each_and_combined():
    lists = sorted(OAR.glob("list_*.geocoded.csv"))
    assert len(lists) == 14
    total = 0
    for path in lists:
        result = import_oar_list(path)
        check_result(result)
        total += len(result.enterprises)
    combined = import_external(OAR / "oar_fixture_lists_combined.csv")
    check_result(combined)
    assert len(combined.enterprises) == total  # the combined file is the union of the lists
    n_china = len(combined.enterprises) + combined.problems["row"].nunique()
    assert n_china == 434  # README: 434 rows in China (CHINA / China / CN)
    assert combined.enterprises["lat"].notna().all()
    assert combined.enterprises["province"].isin(["Jiangsu", "Zhejiang", "Guangdong"]).mean() > 0.6


def test_keyword_tables():
    assert stages_from_text("Haian Textile Printing & Dyeing (Fuqing) Co.,Ltd.") == {
        "weaving",
        "dyeing_finishing",
    }
    assert stages_from_text("Yancheng Charlotte Socks Co. Ltd") == {"knitting"}
    assert stages_from_text("Y-JESSI") == set()
    assert province_from_text("1-2/F, Liantang Industrial Park, Shenzhen, Guangdong Province") == "Guangdong"
    assert province_from_text("314304 Haitang Street, Haiyan City, Zheijang") == "Zhejiang"
    assert province_from_text("No. 69 Qing Yang North Road, Changzhou, 213021") == "Jiangsu"
    assert province_from_text("Somewhere Road, Hanoi") is None


def test_messy_rows_are_reported_not_crashed_on(tmp_path):
    path = tmp_path / "list_99.geocoded.csv"
    path.write_text(
        "country,name,address,lat,lng\n"
        'China,Good Knitting Co,"1 Road, Ningbo, Zhejiang",29.9,121.5\n'
        'CN,Mystery Ltd,"2 Road, Ningbo",29.9,121.5\n'
        'China,Far Garment Co,"3 Road, Atlantis",abc,121.5\n'
        'Vietnam,Saigon Garment,"4 Road, HCMC",10.8,106.7\n',
        encoding="utf-8",
    )
    result = import_oar_list(path)
    assert result.enterprises[["id", "stages", "province"]].values.tolist() == [
        ["OAR99-0002", "knitting", "Zhejiang"]
    ]
    assert result.skipped == 1
    assert result.problems[["row", "column"]].values.tolist() == [[3, "stages"], [4, "lat"], [4, "province"]]


def test_unknown_external_file(tmp_path):
    path = tmp_path / "suppliers.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(MatcherError, match="no mapping"):
        import_external(path)
    wrong = tmp_path / "list_1.geocoded.csv"
    wrong.write_text("a,b\n1,2\n")
    with pytest.raises(MatcherError, match="name, address are missing"):
        import_oar_list(wrong)
