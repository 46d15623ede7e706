"""Documented dockings named only by region: reading, the rank of the region's best-placed partner, AUC."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matcher.cli import main
from matcher.learning import regional as rg

HEADER = "query,partner_provinces,partner_places,kind,item\n"


def _write(tmp_path, body: str):
    path = tmp_path / "regional.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_bundled_rows_are_all_used_and_every_method_ranks_them(engine):
    for kind, rows in (("east_west", 66), ("cluster_market", 1)):
        result = rg.evaluate_regional(engine, rg.REGIONAL_DOCKINGS, kind)
        assert result.problems.empty, result.problems
        metrics = result.metrics.set_index("method")
        assert list(metrics.index) == list(rg.METHODS)
        assert (metrics["queries"] == rows).all()
        ranks = result.ranks
        assert (ranks["rank"] >= 1).all() and (ranks["rank"] <= ranks["of"]).all()
        assert ranks["auc"].between(0, 1).all()


def test_the_rank_is_the_best_placed_member_and_auc_counts_every_member(engine, tmp_path):
    # the region of Aksu's top eastern partner ranks first; a region of only its last-ranked partners does not
    E = engine.entities("east_west")
    pf = engine.features("east_west")
    scores = np.asarray(engine.scorer("east_west").predict(pf.X))
    mine = pf.pairs.assign(score=scores)
    u = E.index["C123"]
    mine = mine[(mine["li"] == u) | (mine["ri"] == u)].sort_values("score", ascending=False)
    partner = np.where(mine["li"] == u, mine["ri"], mine["li"])
    table = E.table
    top = table.iloc[partner[0]]
    path = _write(tmp_path, f"C123,{top['province']},,east_west,T1\n")
    result = rg.evaluate_regional(engine, path, "east_west")
    row = result.ranks[result.ranks["method"] == "engine"].iloc[0]
    assert row["rank"] == 1.0
    members = (table["province"].astype(str) == top["province"]).to_numpy()[partner]
    expected = np.mean([(a > b) + 0.5 * (a == b) for a in mine["score"].to_numpy()[members]
                        for b in mine["score"].to_numpy()[~members]])
    assert row["auc"] == pytest.approx(expected, abs=0.02)  # non-candidates tie at the bottom


def test_places_match_whole_words_and_bad_rows_are_listed(engine, tmp_path):
    path = _write(tmp_path, "C094,,Wuxi,east_west,A\n"          # Jiangyin (Wuxi), not Zhili (Wuxing)
                            "C999,Zhejiang,,east_west,B\n"     # no such entity
                            "C094,Atlantis,,east_west,C\n"     # not a province
                            "C094,,Nowhere,east_west,D\n"      # names no town
                            "M001,Zhejiang,,east_west,E\n"     # a market has no east-west partners
                            "C094,Xinjiang,,east_west,F\n")    # no eastern partner there
    rows, problems = rg.read_regional(path, "east_west", engine.entities("east_west"))
    table = engine.entities("east_west").table
    members = table["id"][rows.iloc[0]["members"]].tolist()
    assert "C001" in members and "C017" in members and "C029" not in members
    assert rows["item"].tolist() == ["A"]
    reasons = list(zip(problems["value"].astype(str), problems["reason"], strict=True))
    assert ("C999", "no bundled entity has this id") in reasons
    assert ("Atlantis", "not a province's name (English or Chinese, e.g. Zhejiang or 浙江省)") in reasons
    assert ("Nowhere", "names no bundled entity's town or city (skipped)") in reasons
    assert ("Nowhere", "no possible partner of the query is in this region") in reasons
    assert any(v == "M001" and r.startswith("not on a side of east_west") for v, r in reasons)
    assert ("Xinjiang", "no possible partner of the query is in this region") in reasons
    assert set(problems["row"]) == {3, 4, 5, 6, 7}  # rows as in Excel


def test_provinces_may_be_named_in_chinese(engine, tmp_path):
    english = rg.read_regional(_write(tmp_path, "C128,Guangdong;Shandong,,east_west,A\n"), "east_west",
                               engine.entities("east_west"))[0]
    chinese = rg.read_regional(_write(tmp_path, "C128,广东省；山东,,east_west,A\n"), "east_west",
                               engine.entities("east_west"))[0]
    assert (english.iloc[0]["members"] == chinese.iloc[0]["members"]).all()
    assert chinese.iloc[0]["region"] == "Guangdong;Shandong"
    by_name = rg.read_regional(_write(tmp_path, "C093,,石狮;Changshu,east_west,A\n"), "east_west",
                               engine.entities("east_west"))[0]
    table = engine.entities("east_west").table
    members = set(table["id"][by_name.iloc[0]["members"]])
    assert {"C045", "C050", "C002"} <= members and all(table.set_index("id").loc[m, "name_zh"].startswith(("石狮", "常熟"))
                                                       for m in members)


def test_the_rows_own_item_gives_no_docking_experience(engine, tmp_path):
    # D35's pair (Dalang - Pingnan) is documented: ranked under item D35 it vouches for nothing
    same = rg.evaluate_regional(engine, _write(tmp_path, "C161,Guangdong,,east_west,D35\n"), "east_west")
    other = rg.evaluate_regional(engine, _write(tmp_path, "C161,Guangdong,,east_west,X\n"), "east_west")
    pick = {name: r.ranks.set_index("method") for name, r in (("same", same), ("other", other))}
    assert pick["same"].at["docking_popularity", "auc"] < pick["other"].at["docking_popularity", "auc"]


def test_cli_prints_the_regional_rows_after_the_pairs(capsys, tmp_path):
    assert main(["evaluate", "--kind", "east_west", "--out", str(tmp_path / "ranks.csv")]) == 0
    out = capsys.readouterr().out
    written = pd.read_csv(tmp_path / "ranks_regional.csv", encoding="utf-8-sig")
    assert len(written) == 66 * len(rg.METHODS) and {"query", "region", "item", "method", "rank", "auc"} <= set(written)
    assert out.index("rank of the true partner per query") < out.index("named only as a province or city")
    assert "engine MRR / best baseline" in out
    # the reference's rows and the rows found by search, apart (docs/evaluation.md section 2.2)
    assert all(f"{origin} rows only:" in out for origin in ("reference", "search", "search2", "search3", "search4"))
    assert set(written["origin"]) == {"reference", "search", "search2", "search3", "search4"}
    known = tmp_path / "known.csv"
    pd.DataFrame({"left": ["C039"], "right": ["C145"]}).to_csv(known, index=False)
    assert main(["evaluate", "--kind", "east_west", "--known", str(known)]) == 0
    assert "named only as a province or city" not in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text("query\nC094\n", encoding="utf-8")
    assert main(["evaluate", "--kind", "east_west", "--regional", str(bad)]) == 2
    assert "missing column(s) partner_provinces, partner_places" in capsys.readouterr().err


def test_a_region_is_found_when_any_of_its_partners_is_first():
    from matcher.learning.crossval import list_ranks
    from matcher.learning.fit import fit_weights

    X = np.array([[0.9, 0.0], [0.1, 1.0], [0.8, 0.2], [0.0, 0.5]])
    # the region is rows 0 and 2: feature 0 puts it first, feature 1 puts row 1 first
    assert list_ranks([(X, np.array([0, 2]))], np.array([1.0, 0.0]))[0] == 1.0
    assert list_ranks([(X, np.array([0, 2]))], np.array([0.0, 1.0]))[0] == 3.0  # row 2 (0.2) after 1.0, 0.5
    w = fit_weights([(X, np.array([0, 2]))], prior=np.array([0.5, 0.5]), l2=0.01)
    assert w[0] > w[1]
    # one true row as an int and as a one-element array fit the same weights
    single = fit_weights([(X, 1)], prior=np.array([0.5, 0.5]), l2=0.01)
    assert np.allclose(single, fit_weights([(X, np.array([1]))], prior=np.array([0.5, 0.5]), l2=0.01))


def test_regional_lists_hold_the_query_candidates_and_the_regions_rows(engine):
    E, pf = engine.entities("east_west"), engine.features("east_west")
    rows, _ = rg.read_regional(rg.REGIONAL_DOCKINGS, "east_west", E)
    lists = rg.regional_lists(E, pf, rows)
    assert sum(len(v) for v in lists.values()) == len(rows)
    li, ri = pf.pairs["li"].to_numpy(), pf.pairs["ri"].to_numpy()
    province = E.table["province"].astype(str).to_numpy()
    for mine, true in lists["D31"]:  # Kashgar <- Guangdong
        partner = np.where(li[mine] == E.index["C128"], ri[mine], li[mine])
        assert set(province[partner[true]]) == {"Guangdong"}
        assert "Guangdong" not in set(np.delete(province[partner], true))


def test_dockings_named_by_region_are_docking_experience_for_the_engine_and_the_popularity_baseline(engine):
    from matcher.docking import evidence
    from matcher.learning.baselines import docking_scores, items_not_before, regional_rows

    E = engine.entities("east_west")
    aksu = E.index["C123"]
    counts = evidence.experience_counts(E)
    # D03, S07, S08, S66 (pairs), S19 (China Textile City, a cluster_market pair), D10, D11 (Zhejiang firms,
    # named by province), S41 (Nantong and Guangzhou firms, named by city: one item) and S66's Jiaxing firms
    # (the same item as its pair)
    assert counts[aksu] == 8
    assert evidence.experience_counts(E, exclude_items={"D10"})[aksu] == 7
    rows = regional_rows(E)
    assert set(rows.loc[rows["li"] == aksu, "item"]) == {"D10", "D11", "S41", "S66"}
    # the popularity baseline gets the same dockings named by region as the engine
    popularity, _ = docking_scores([(0, 1)], 4, extra=np.array([0.0, 0.0, 2.0, 0.0]))
    assert popularity[3].tolist() == [1.0, 1.0, 2.0, 0.0]
    # a temporal split holds back the dockings named by region from its cut on, and the undated ones
    later = items_not_before(rows, pd.Timestamp("2014-01-01"))
    assert {"D08", "D14", "D11", "D31"} <= later and not {"D10", "D24", "D21"} & later


def test_a_bad_regional_dockings_file_is_named_by_file_row_and_column(tmp_path):
    import shutil

    from matcher.exceptions import ValidationError
    from matcher.ingest.dataset import BUNDLED_DATA, load_dataset

    shutil.copy(BUNDLED_DATA / "clusters.csv", tmp_path / "clusters.csv")
    (tmp_path / "known_dockings_regional.csv").write_text(
        "query,partner_provinces,partner_places\nC123,Zhejiang,\n,Fujian,\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_dataset(tmp_path)
    problems = caught.value.problems
    assert problems["file"].str.endswith("known_dockings_regional.csv").all()
    assert problems[["row", "column"]].values.tolist() == [[3, "query"]]


def test_joint_fit_script_fits_pairs_and_regions_out_of_sample():
    import subprocess
    import sys
    from pathlib import Path

    out = subprocess.run([sys.executable, "scripts/joint_fit.py", "--kind", "cluster_market"], capture_output=True,
                         text=True, check=True, cwd=Path(__file__).resolve().parents[1]).stdout
    assert "cluster_market: 20 items" in out
    # the preset's pair ranks are the ranks `evaluate` gives its candidate pairs (52 of 58 queries)
    assert "pairs    preset                         queries  52" in out
    assert "regional jointly fitted, out of sample  queries   1" in out
    assert "pulls chosen per fold: M03" in out and "weights fitted on everything" in out
