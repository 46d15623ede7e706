"""The app's non-UI helpers: the fast ranked list agrees with the engine, directional scores,
conversion tracing, the meeting grid's conflict marks, uploads staging, and the benchmark runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app_components import conversion, datasets, meeting_plan
from app_components.ranking import direction_scores, ranked_pairs
from matcher.exceptions import ValidationError
from matcher.meetings.schedule import schedule


def test_ranked_pairs_agree_with_engine_suggest(engine):
    weights = engine.weights("east_west")
    mine = ranked_pairs(engine, "east_west", weights, for_id="C001", top=None)
    theirs = engine.suggest("east_west", top=None, for_id="C001", weights=weights)
    pairs = {frozenset(p) for p in zip(mine["left_id"], mine["right_id"], strict=True)}
    assert pairs == {frozenset(p) for p in zip(theirs["left_id"], theirs["right_id"], strict=True)}
    np.testing.assert_allclose(np.sort(mine["score"].to_numpy()), np.sort(theirs["score"].to_numpy()), rtol=1e-6)
    assert mine["reason_zh"].str.len().min() > 0 and mine["reason_en"].str.len().min() > 0
    # c_ columns sum to the score, and the list is ordered by score then ids
    c_cols = [c for c in mine.columns if c.startswith("c_")]
    np.testing.assert_allclose(mine[c_cols].sum(axis=1), mine["score"], rtol=1e-6)
    assert mine["score"].is_monotonic_decreasing


def test_ranked_pairs_filters_and_reweighting(engine):
    west = ranked_pairs(engine, "east_west", engine.weights("east_west"), right_regions=["west"], top=20)
    assert set(west["right_region"]) == {"west"} and set(west["left_region"]) == {"east"}
    chain_only = {f: 0.0 for f in engine.weights("east_west")} | {"chain": 1.0}
    ranked = ranked_pairs(engine, "east_west", chain_only, top=10)
    np.testing.assert_allclose(ranked["score"], ranked["f_chain"].fillna(0), rtol=1e-6)


def test_direction_scores_replace_the_directional_feature(engine):
    row = ranked_pairs(engine, "east_west", engine.weights("east_west"), top=1).iloc[0]
    both = direction_scores(row, "east_west").set_index("feature")
    w = row["w_chain"]
    assert both.loc["score", "lr"] == pytest.approx(row["score"] - row["c_chain"] + w * row["lr_chain"])
    assert both.loc["score", "rl"] == pytest.approx(row["score"] - row["c_chain"] + w * row["rl_chain"])
    assert max(both.loc["chain", "lr"], both.loc["chain", "rl"]) == pytest.approx(row["f_chain"])


def test_conversion_reads_the_preset_stored_with_each_items_run():
    # the run's weights are those of no preset and nothing is inferred from them or from the times:
    # the preset is the one recorded with the run the item names
    runs = pd.DataFrame({"run_id": ["r1", "r2", "r-old"], "kind": "east_west",
                         "created_at": ["2026-01-01T00:00", "2026-02-01T00:00", "2025-01-01T00:00"],
                         "weights": [{"chain": 0.9}] * 3,
                         "preset": pd.array(["balanced", "custom", pd.NA], dtype="string")})
    items = pd.DataFrame({"id": [1, 2, 3, 4, 5], "left_id": ["A", "B", "C", "D", "A"],
                          "right_id": ["X", "Y", "Z", "W", "X"], "kind": "east_west",
                          "created_at": ["2026-03-01T00:00"] * 5,
                          "run_id": pd.array(["r1", "r2", "r-old", pd.NA, "r2"], dtype="string")})
    outcomes = pd.DataFrame({"left_id": ["A", "A", "B"], "right_id": ["X", "X", "Y"], "kind": "east_west",
                             "stage": ["meeting", "followup", "meeting"],
                             "value": ["met", "agreement_reached", "no_show"]})
    traced = conversion.pair_table(items, runs, outcomes)
    # A-X: its first item (r1); C-Z: a run without a preset on record; D-W: an item without a run
    assert list(traced["preset"]) == ["balanced", "custom", "unknown", "unknown"]
    assert list(traced["met"]) == [True, False, False, False]
    assert list(traced["agreement"]) == [True, False, False, False]
    summary = conversion.summary(traced, "preset").set_index("preset")
    assert summary.loc["balanced", "valuable_rate"] == 1.0 and summary.loc["unknown", "shortlisted"] == 2


def test_grid_marks_bookings_and_conflicts():
    wanted = pd.DataFrame({"left_id": ["C1", "C2"], "right_id": ["M1", "M2"], "score": [0.9, 0.8]})
    plan = schedule(wanted, n_slots=2, n_tables=2)
    first = plan.meetings.iloc[0]
    other = plan.meetings.iloc[1]
    stored = pd.DataFrame({
        "left_id": [first.left_id, "C9"], "right_id": [first.right_id, "M9"],
        "slot": [str(first.slot), str(other.slot)], "table_label": [str(first.table), str(other.table)],
    })
    cells, marks = meeting_plan.grid(plan, stored)
    assert marks.loc[int(first.slot), int(first.table)] == "booked"
    assert marks.loc[int(other.slot), int(other.table)] == "conflict"  # table held by another pair
    assert (cells != "").to_numpy().sum() == 2


def test_stage_upload_leaves_nothing_behind_when_bad(tmp_path, monkeypatch):
    monkeypatch.setenv("MATCHER_WORKSPACE", str(tmp_path))
    with pytest.raises(ValidationError) as err:
        datasets.stage_upload("坏.csv", b"id,name_zh,province,stages\nX1,a,Nowhere,spinning\n", "clusters")
    assert set(err.value.problems["file"]) == {"坏.csv"}
    assert list(datasets.datasets_dir().iterdir()) == []
    assert datasets.available() == [""]


def test_benchmark_runs_and_prints_its_figure(capsys):
    from benchmarks.bench_app_rerank import main

    assert main(["--repeats", "2", "--no-page"]) == 0
    out = capsys.readouterr().out
    assert "rerank (library, east_west" in out and "target under 1 s: OK" in out


def test_ranked_pairs_list_an_enterprise_pair_once(tmp_path):
    """Regression (review): enterprise candidates are each firm's own, so a pair both firms proposed
    came twice in the explore page's list of pairs."""
    from matcher.docking.engine import DockingEngine
    from matcher.ingest.dataset import load_dataset
    from matcher.ingest.synth import write_synthetic_dataset

    write_synthetic_dataset(tmp_path / "firms", 400, seed=2)
    engine = DockingEngine(load_dataset(tmp_path / "firms"))
    scored = engine.score("enterprise")
    unordered = {frozenset(p) for p in zip(scored["left_id"], scored["right_id"], strict=True)}
    assert len(unordered) < len(scored)  # some pairs were proposed by both firms
    listed = ranked_pairs(engine, "enterprise", engine.weights("enterprise"), top=None)
    keys = [frozenset(p) for p in zip(listed["left_id"], listed["right_id"], strict=True)]
    assert len(keys) == len(set(keys)) == len(unordered)


def test_a_preset_picker_value_is_read_in_either_language():
    """After a language switch the browser may send back the preset's label: it still names the preset
    (before, switching to English on Explore crashed the page: "no preset '均衡'")."""
    from app_components.weights import _preset_code

    assert _preset_code("balanced", "east_west") == "balanced"
    assert _preset_code("均衡", "east_west") == "balanced"
    assert _preset_code("重供应链", "east_west") == "supply"
    assert _preset_code("not a preset", "east_west") is None


@pytest.mark.parametrize("language", ["zh", "en"])
def test_the_short_reason_counts_motives_not_the_names_inside_one(engine, monkeypatch, language):
    """A motive's detail in brackets (Haining China Leather City's two branch markets) is one motive:
    the table's short reason says "4 more" in neither language when the full reason names 3 more."""
    from app_components import i18n, pairs

    monkeypatch.setattr(pairs, "lang", lambda: language)
    monkeypatch.setattr(i18n, "lang", lambda: language)
    top = engine.suggest("cluster_market", for_id="C078", top=1)
    full = top[f"reason_{language}"].iloc[0]
    sep = "；" if language == "zh" else "; "
    assert "(" in full or "（" in full
    short = pairs.short_reason(full)
    shown = pairs._top_level_parts(full, sep)
    hidden = len(shown) - 3
    assert hidden == 3  # experience, branch markets, distance
    assert short.startswith(sep.join(shown[:3]))
    assert short.endswith("另有 3\u00a0项" if language == "zh" else "3\u00a0more")  # joined: never split over lines


def test_a_list_ticked_under_two_presets_names_both_sets_of_weights():
    """The run sheet listed only the latest run's weights, though most pairs were ranked under another
    preset; now each set of weights is listed with the runs that used it (the pairs' run_id column)."""
    from types import SimpleNamespace

    from matcher.outputs.words import run_rows

    supply = {"chain": 0.35, "product": 0.2}
    balanced = {"chain": 0.15, "product": 0.2}
    runs = pd.DataFrame({"run_id": ["r1", "r2", "r3"], "kind": "east_west", "weights": [supply, supply, balanced],
                         "preset": ["supply", "supply", "balanced"]})
    data = SimpleNamespace(version="v1", name="bundled")
    meta = meeting_plan.metadata(data, runs, ["east_west"], "li", 0, 0, run_ids=["r1", "r2", "r3"])
    assert meta["weights"] == {"east_west@r1, r2.chain": 0.35, "east_west@r1, r2.product": 0.2,
                               "east_west@r3.chain": 0.15, "east_west@r3.product": 0.2}
    rows = dict(zip(*run_rows(meta, "zh").T.to_numpy(), strict=True))
    assert rows["权重：东西部对接（产能转移）（运行 r1, r2） · 产业链互补"] == 0.35
    assert rows["权重：东西部对接（产能转移）（运行 r3） · 产业链互补"] == 0.15
    # one set of weights behind every pair: the plain items, as before
    same = meeting_plan.metadata(data, runs, ["east_west"], "li", 0, 0, run_ids=["r1", "r2"])
    assert same["weights"] == {"east_west.chain": 0.35, "east_west.product": 0.2}
