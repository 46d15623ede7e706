"""Learned scorer: cold start, explanations, calibration, beating the preset on simulated outcomes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, train_test_split

from matcher.cli import main
from matcher.docking.kinds import get_kind
from matcher.docking.scoring import WeightedScorer
from matcher.exceptions import MatcherError, ValidationError
from matcher.learning import learn


@pytest.fixture(scope="module")
def simulated(engine):
    outcomes = learn.simulate_outcomes(engine, "east_west", n_pairs=400, seed=3)
    return outcomes, learn.labelled_pairs(engine, "east_west", outcomes)


def test_cold_start_behaves_exactly_like_the_weighted_preset(engine):
    X = engine.features("east_west").X
    y = np.r_[np.ones(5), np.zeros(5)]
    scorer = learn.LearnedScorer(kind="east_west").fit(X.iloc[:10], y)
    assert scorer.fallback_
    weighted = WeightedScorer(get_kind("east_west").preset_weights()).fit(X)
    pd.testing.assert_frame_equal(scorer.explain(X), weighted.explain(X))
    assert "cold start" in scorer.status() and "10 labelled outcomes" in scorer.status()
    with pytest.raises(MatcherError, match="no probabilities yet"):
        scorer.probability(X)
    # no outcomes at all, and one kind of label only, also fall back
    assert learn.LearnedScorer(kind="east_west").fit(X).fallback_
    assert learn.LearnedScorer(kind="east_west", min_outcomes=5).fit(X.iloc[:50], np.ones(50)).fallback_


def test_learned_scorer_explains_with_a_baseline_and_matches_calibrated_sklearn(simulated):
    _, data = simulated
    scorer = learn.LearnedScorer(kind="east_west", random_state=0).fit(data.X, data.y)
    assert not scorer.fallback_ and "learned from 400" in scorer.status()
    ex = scorer.explain(data.X)
    c_cols = [c for c in ex.columns if c.startswith("c_")]
    assert "c_baseline" in c_cols and (ex["f_baseline"] == 1).all()
    assert np.allclose(ex[c_cols].sum(axis=1), ex["score"])
    assert np.allclose(ex["w_baseline"], scorer.intercept_)
    # the same model through scikit-learn's CalibratedClassifierCV gives the same probabilities
    values = np.nan_to_num(data.X.to_numpy(dtype=float, na_value=np.nan), nan=0.0)
    ref = CalibratedClassifierCV(LogisticRegression(C=1.0, max_iter=2000), method="sigmoid",
                                 cv=StratifiedKFold(3, shuffle=True, random_state=0), ensemble=False)
    ref.fit(values, data.y)
    assert np.allclose(scorer.probability(data.X), ref.predict_proba(values)[:, 1], atol=1e-9)


@pytest.mark.parametrize("kind,seed", [("east_west", 3), ("cluster_market", 1), ("cluster_cluster", 2)])
def test_learned_beats_the_preset_on_held_out_simulated_outcomes(engine, kind, seed):
    outcomes = learn.simulate_outcomes(engine, kind, n_pairs=400, seed=seed)
    assert set(outcomes.attrs["hidden_weights"]) == set(engine.features(kind).features)
    data = learn.labelled_pairs(engine, kind, outcomes)
    X_tr, X_te, y_tr, y_te = train_test_split(data.X, data.y, test_size=0.3, random_state=seed, stratify=data.y)
    learned = learn.LearnedScorer(kind=kind).fit(X_tr, y_tr)
    weighted = WeightedScorer(get_kind(kind).preset_weights()).fit(X_tr)
    table = learn.compare_scorers({"weighted": weighted, "learned": learned}, X_te, y_te).set_index("scorer")
    assert table.loc["learned", "auc"] > table.loc["weighted", "auc"] + 0.05
    assert table.loc["learned", "ndcg"] > table.loc["weighted", "ndcg"]


def test_plugs_into_suggest_and_round_trips_as_json(engine, simulated, tmp_path):
    _, data = simulated
    scorer = learn.LearnedScorer(kind="east_west").fit(data.X, data.y)
    top = engine.suggest("east_west", top=3, for_id="C056", scorer=scorer)
    assert list(top["rank"]) == [1, 2, 3] and top["score"].is_monotonic_decreasing
    c_cols = [c for c in top.columns if c.startswith("c_")]
    assert np.allclose(top[c_cols].sum(axis=1), top["score"])
    path = learn.save_model(scorer, tmp_path / "model.json", {"note": "test"})
    stored = json.loads(path.read_text(encoding="utf-8"))
    assert stored["format"] == "matcher-learned-scorer" and stored["metadata"] == {"note": "test"}
    again = learn.load_model(path, "east_west")
    X = engine.features("east_west").X
    assert np.array_equal(again.predict(X), scorer.predict(X))
    pd.testing.assert_frame_equal(again.explain(X), scorer.explain(X))
    with pytest.raises(MatcherError, match="trained for kind 'east_west'"):
        learn.load_model(path, "cluster_market")
    cold = learn.LearnedScorer(kind="cluster_market").fit(engine.features("cluster_market").X)
    cold_again = learn.load_model(learn.save_model(cold, tmp_path / "cold.json"))
    Xc = engine.features("cluster_market").X
    pd.testing.assert_frame_equal(cold_again.explain(Xc), cold.explain(Xc))
    (tmp_path / "bad.json").write_text('{"format": "something else"}', encoding="utf-8")
    with pytest.raises(MatcherError, match="not a learned-scorer model"):
        learn.load_model(tmp_path / "bad.json")
    # a model of cluster_market saved before its channel and sourcing became one trade motive
    old = json.loads((tmp_path / "cold.json").read_text(encoding="utf-8"))
    old["features"] = ["channel", "sourcing", *[f for f in old["features"] if f != "trade"]]
    old["coefficients"] = {**{f: 0.1 for f in ("channel", "sourcing")},
                           **{f: v for f, v in old["coefficients"].items() if f != "trade"}}
    (tmp_path / "old.json").write_text(json.dumps(old), encoding="utf-8")
    with pytest.raises(MatcherError, match="trained on feature.s. channel, sourcing that the cluster_market kind no "
                                           "longer has .*retrain"):
        learn.load_model(tmp_path / "old.json", "cluster_market")


def test_outcome_labels_cover_the_store_vocabulary():
    from matcher.store import OUTCOMES

    for values in OUTCOMES.values():
        for value in values:
            learn.outcome_label(value)  # every value the store records is understood
    assert learn.outcome_label("agreement_reached") == 1 and learn.outcome_label("已开始洽谈") == 1
    assert learn.outcome_label("declined") == 0 and learn.outcome_label("no further contact") == 0
    assert np.isnan(learn.outcome_label("valuable_contact"))
    with pytest.raises(MatcherError, match="unknown outcome"):
        learn.outcome_label("maybe")


def test_outcomes_csv_problems_name_the_row(tmp_path):
    f = tmp_path / "o.csv"
    f.write_text("left_id,right_id,kind,outcome\nC056,C154,east_west,agreement_reached\n"
                 "C056,C123,east_west,perhaps\nC001,,east_west,declined\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        learn.read_outcomes_csv(f)
    rows = info.value.problems.set_index("row")
    assert "unknown outcome" in rows.loc[3, "reason"] and rows.loc[4, "column"] == "right_id"


def test_trains_from_outcomes_recorded_in_the_store(engine, tmp_path):
    from matcher.store import Store

    store = Store(f"sqlite:///{tmp_path / 'matcher.db'}")
    outcomes = learn.simulate_outcomes(engine, "cluster_market", n_pairs=120, seed=5)
    for i, r in enumerate(outcomes.itertuples()):
        value = r.outcome if r.outcome != "declined" else "no_further_contact"
        # half recorded from the market's side: the pair is matched in either orientation
        a, b = (r.left_id, r.right_id) if i % 2 else (r.right_id, r.left_id)
        store.record_outcome(a, b, "cluster_market", stage="followup", value=value, planner="li")
    store.record_outcome("C001", "M001", "cluster_market", stage="meeting", value="met", planner="li")
    result = learn.train_from_outcomes(engine, "cluster_market", store=store, seed=0)
    assert len(result.data.y) == 120 and not result.scorer.fallback_
    assert list(result.comparison["scorer"]) == ["weighted preset", "learned"]
    assert "held-out comparison" in result.summary()


def test_cli_learn_from_csv_and_cold_start(tmp_path, capsys, engine):
    outcomes = learn.simulate_outcomes(engine, "east_west", n_pairs=200, seed=1)
    f = tmp_path / "o.csv"
    outcomes.to_csv(f, index=False)
    assert main(["learn", "--kind", "east_west", "--outcomes", str(f), "--out", str(tmp_path / "m.json")]) == 0
    out = capsys.readouterr().out
    assert "learned scorer" in out and "weighted preset" in out and "baseline=" in out
    assert learn.load_model(tmp_path / "m.json").fallback_ is False
    outcomes.head(8).to_csv(f, index=False)
    assert main(["learn", "--kind", "east_west", "--outcomes", str(f), "--out", str(tmp_path / "c.json")]) == 0
    assert "cold start: behaves exactly like the weighted preset" in capsys.readouterr().out
    assert learn.load_model(tmp_path / "c.json").fallback_ is True


def test_cli_suggest_ranks_with_a_learned_model(tmp_path, capsys, engine):
    """``suggest --model``: the planner's batch run with the learned scorer (its lists and scores are the
    model's, not the preset's); weights or a preset beside it are refused."""
    outcomes = learn.simulate_outcomes(engine, "east_west", n_pairs=200, seed=1)
    f = tmp_path / "o.csv"
    outcomes.to_csv(f, index=False)
    assert main(["learn", "--kind", "east_west", "--outcomes", str(f), "--out", str(tmp_path / "m.json")]) == 0
    model = learn.load_model(tmp_path / "m.json")
    assert main(["suggest", "--kind", "east_west", "--top", "3", "--model", str(tmp_path / "m.json"),
                 "--out", str(tmp_path / "s.csv")]) == 0
    got = pd.read_csv(tmp_path / "s.csv", encoding="utf-8-sig", dtype={"left_id": str, "right_id": str})
    want = engine.suggest("east_west", 3, scorer=model)
    assert got["right_id"].tolist() == want["right_id"].tolist()
    np.testing.assert_allclose(got["score"], want["score"].round(4))
    assert "w_baseline" in got.columns and "learned scorer" in capsys.readouterr().err
    assert main(["suggest", "--kind", "east_west", "--model", str(tmp_path / "m.json"), "--preset", "x",
                 "--out", str(tmp_path / "t.csv")]) == 2
    assert "leave out --weights and --preset" in capsys.readouterr().err
    assert main(["suggest", "--kind", "cluster_market", "--model", str(tmp_path / "m.json"),
                 "--out", str(tmp_path / "t.csv")]) == 2
    assert "trained for kind 'east_west'" in capsys.readouterr().err


def test_learned_predict_is_the_sum_explain_shows(engine, simulated):
    """Ranking uses ``predict`` and the screen shows ``explain``'s score: the same number to the last bit."""
    _, data = simulated
    scorer = learn.LearnedScorer(kind="east_west", min_outcomes=30).fit(data.X, data.y)
    assert not scorer.fallback_
    X = engine.features("east_west").X
    np.testing.assert_array_equal(scorer.predict(X), scorer.explain(X)["score"].to_numpy())
