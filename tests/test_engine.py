"""The docking engine on the bundled data: every kind ranks and explains, deterministically."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest

from matcher.docking.engine import DockingEngine
from matcher.docking.job import SUGGESTION_COLUMNS
from matcher.docking.kinds import KINDS, get_kind
from matcher.exceptions import MatcherError

KIND_FEATURES = {name: list(kind.features) for name, kind in KINDS.items()}

BUNDLED_KINDS = ["east_west", "cluster_market", "cluster_cluster", "peer_learning"]


@pytest.mark.parametrize("kind", BUNDLED_KINDS)
def test_every_kind_returns_ranked_explained_suggestions(engine, kind):
    s = engine.suggest(kind, top=5)
    assert len(s) > 50
    assert list(s.columns[: len(SUGGESTION_COLUMNS)]) == SUGGESTION_COLUMNS
    for feature in KIND_FEATURES[kind]:
        for prefix in ("f_", "w_", "c_"):
            assert f"{prefix}{feature}" in s.columns
    # ranks 1..k per entity, scores non-increasing, ties broken by partner id
    for _, group in s.groupby("left_id"):
        assert list(group["rank"]) == list(range(1, len(group) + 1))
        key = list(zip(-group["score"].round(12), group["right_id"], strict=True))
        assert key == sorted(key)
    assert s["reason_zh"].str.len().gt(0).all() and s["reason_en"].str.len().gt(0).all()
    assert (s["left_id"] != s["right_id"]).all()


@pytest.mark.parametrize("kind", BUNDLED_KINDS)
def test_contributions_sum_to_score(engine, kind):
    s = engine.suggest(kind, top=None)
    c = s[[f"c_{f}" for f in KIND_FEATURES[kind]]].sum(axis=1)
    np.testing.assert_allclose(c.to_numpy(), s["score"].to_numpy(), atol=1e-9)
    # each contribution is weight x value, unknown values contributing nothing
    for f in KIND_FEATURES[kind]:
        expected = (s[f"w_{f}"] * s[f"f_{f}"].fillna(0.0)).to_numpy()
        np.testing.assert_allclose(s[f"c_{f}"].to_numpy(), expected, atol=1e-9)


@pytest.mark.parametrize("kind", BUNDLED_KINDS)
def test_the_ranked_score_is_the_shown_score_to_the_last_bit(engine, kind):
    """Regression: the ranking adds contributions left to right, the shown score was numpy's row sum,
    which adds eight or more columns pairwise, so the two differed in the last bits for the kinds with
    many features."""
    scorer = engine.scorer(kind)
    X = engine.features(kind).X
    np.testing.assert_array_equal(scorer.predict(X), scorer.explain(X)["score"].to_numpy())


def test_unknown_attribute_contributes_nothing_and_is_named(engine):
    s = engine.suggest("east_west", top=None)
    unknown = s[s["f_transfer_park"].isna()]
    assert len(unknown) > 0
    assert (unknown["c_transfer_park"] == 0).all()
    assert unknown["reason_en"].str.contains(r"unknown: [^;]*transfer pilot park").all()
    assert unknown["reason_zh"].str.contains(r"未知：[^；]*转移试点园区").all()


def test_same_input_gives_byte_identical_output(bundled):
    def digest() -> str:
        s = DockingEngine(bundled).suggest("east_west", top=10)
        return hashlib.sha256(s.to_csv(index=False).encode()).hexdigest()

    assert digest() == digest()


def test_ties_are_broken_by_partner_id(engine):
    weights = {f: 0.0 for f in KIND_FEATURES["east_west"]}  # every score 0: a pure tie
    s = engine.suggest("east_west", top=None, for_id="C056", weights=weights)
    assert (s["score"] == 0).all()
    assert list(s["right_id"]) == sorted(s["right_id"])


def test_east_west_pairs_east_with_central_or_west(engine):
    s = engine.suggest("east_west", top=10)
    east_left = s[s["left_region"] == "east"]
    assert east_left["right_region"].isin(["central", "west"]).all()
    assert s[s["left_region"] != "east"]["right_region"].eq("east").all()


def test_reciprocity_both_directions_shown_and_fused(engine):
    s = engine.suggest("east_west", top=None, for_id="C025")  # Keqiao
    assert {"lr_chain", "rl_chain"} <= set(s.columns)
    np.testing.assert_allclose(s["f_chain"], np.maximum(s["lr_chain"], s["rl_chain"]), atol=1e-6)
    # seen from the other side, the directions swap and the score stays the same
    aksu = engine.suggest("east_west", top=None, for_id="C123")
    a = s[s["right_id"] == "C123"].iloc[0]
    b = aksu[aksu["right_id"] == "C025"].iloc[0]
    assert a["score"] == pytest.approx(b["score"])
    assert a["lr_chain"] == pytest.approx(b["rl_chain"]) and a["rl_chain"] == pytest.approx(b["lr_chain"])


def test_counterpart_aid_named_in_reason(engine):
    s = engine.suggest("east_west", top=None, for_id="C025")  # Keqiao, Zhejiang
    aksu = s[s["right_id"] == "C123"].iloc[0]  # Aksu, paired with Zhejiang by counterpart aid
    assert aksu["f_policy"] == pytest.approx(1.0)
    assert "对口援疆省份" in aksu["reason_zh"] and "counterpart-aid provinces" in aksu["reason_en"]
    assert "\u00a0km" in aksu["reason_en"] and "公里" in aksu["reason_zh"]


def test_candidate_report_has_counts_and_reduction_ratio(engine):
    for kind in BUNDLED_KINDS:
        report = engine.candidate_report(kind)
        assert {"rule", "pairs", "all_pairs", "reduction_ratio"} <= set(report.columns)
        union = report[report["rule"] == "candidates (union)"].iloc[0]
        assert union["pairs"] == len(engine.features(kind).pairs)
        assert 0 <= union["reduction_ratio"] < 1
        assert (report["pairs"] <= union["pairs"]).all()


def test_weights_change_the_ranking(engine):
    base = engine.suggest("east_west", top=3, for_id="C056")
    distance_only = engine.suggest("east_west", top=3, for_id="C056",
                                   weights={f: (1.0 if f == "distance" else 0.0) for f in KIND_FEATURES["east_west"]})
    assert list(base["right_id"]) != list(distance_only["right_id"])
    km = engine.suggest("east_west", top=None, for_id="C056")["d_km"]
    assert distance_only["d_km"].iloc[0] == pytest.approx(km.min())


def test_reranking_a_warm_engine_equals_a_fresh_one(engine, bundled):
    """After a weight change the cached candidates and features are re-scored, never stale."""
    weights = {"chain": 0.1, "transfer": 0.5, "product": 0.1, "policy": 0.1, "transfer_park": 0.1, "distance": 0.1}
    engine.suggest("east_west", top=5)  # warm: features cached under the preset
    warm = engine.suggest("east_west", top=5, weights=weights)
    fresh = DockingEngine(bundled).suggest("east_west", top=5, weights=weights)
    pd.testing.assert_frame_equal(warm, fresh)
    assert engine.features("east_west") is engine.features("east_west")


def test_bad_requests_get_clear_messages(engine):
    with pytest.raises(MatcherError, match="unknown docking kind"):
        engine.suggest("west_east")
    with pytest.raises(MatcherError, match="no cluster, market or enterprise has the id 'C999'"):
        engine.suggest("east_west", for_id="C999")
    with pytest.raises(MatcherError, match="unknown features"):
        engine.suggest("east_west", weights={"charm": 1.0})
    with pytest.raises(MatcherError, match="has no enterprises"):
        engine.suggest("enterprise")


def test_peer_learning_teacher_has_what_learner_lacks(engine):
    s = engine.suggest("peer_learning", top=None)
    assert (s["f_peer"] > 0).all()
    keqiao = s[s["left_id"] == "C001"]  # Jiangyin has no flags: can learn from platforms and parks
    assert keqiao["reason_en"].str.contains("can learn from its").all()


def test_cluster_market_explains_market_role(engine):
    s = engine.suggest("cluster_market", top=3, for_id="C029")  # Zhili kidswear
    assert (s["right_type"] == "market").all()
    assert s["reason_en"].str.contains("market").any()
    # the Zhili kidswear market is Zhili's own home market: not a docking suggestion; the kidswear
    # markets elsewhere are
    assert "M007" not in set(s["right_id"])
    assert s["right_id"].isin(["M019", "M035"]).any()


def test_suggestions_keep_names_and_regions(engine, bundled):
    s = engine.suggest("cluster_market", top=2)
    names = pd.concat([bundled.clusters, bundled.markets]).set_index("id")["name_zh"]
    assert (s["left_name_zh"].to_numpy() == names.loc[s["left_id"]].to_numpy()).all()
    assert (s["right_name_zh"].to_numpy() == names.loc[s["right_id"]].to_numpy()).all()


def test_product_similarity_is_one_computation_for_every_kind(bundled):
    """Pins the one change in the cluster kinds' files (one pipeline): product TF-IDF is now built over
    distinct texts for every kind, as the enterprise path did; it equals sklearn's per-row TF-IDF to
    float32 rounding (before, the two paths differed in the last bit)."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.preprocessing import normalize

    from matcher.docking.entities import prepare
    from matcher.docking.features import product_cosine

    E = prepare(bundled, ("cluster", "market"))
    texts = (E.table["products"].fillna("") + " " + E.table["designations"].fillna("")).str.lower()
    blocks = [TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True,
                              token_pattern=r"(?u)\b[a-z][a-z\-]+\b").fit_transform(texts),
              TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 3), sublinear_tf=True).fit_transform(texts)]
    rows = normalize(sparse.hstack(blocks).tocsr())
    expected = (rows @ rows.T).toarray()
    n = len(E)
    li, ri = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
    got = product_cosine(E, li, ri).reshape(n, n)
    empty = rows.getnnz(axis=1) == 0
    assert np.isnan(got[empty]).all() and np.isnan(got[:, empty]).all()
    known = ~(empty[:, None] | empty[None, :])
    np.testing.assert_allclose(got[known], expected[known], atol=1e-6)
    # every kind reads the same value for the same pair
    ew = DockingEngine(bundled).score("east_west")
    cc = DockingEngine(bundled).score("cluster_cluster").set_index(["left_id", "right_id"])["f_product"]
    both = ew.set_index(["left_id", "right_id"])["f_product"].to_frame().join(cc.rename("f_product_cc"), how="inner")
    assert len(both) > 100
    np.testing.assert_array_equal(both["f_product"].to_numpy(), both["f_product_cc"].to_numpy())


@pytest.mark.parametrize("backend", ["memory", "blocks"])
def test_a_run_with_no_lists_gives_no_rows_and_a_zero_report(engine, backend):
    """Regression (review of the one pipeline): no blocks used to leave the report without columns."""
    rows = engine.suggest("east_west", top=3, for_id=[], backend=backend)
    assert rows.empty and list(rows.columns)[:3] == ["kind", "rank", "left_id"]
    report = rows.attrs["report"]
    assert report["rule"].iloc[-1] == "candidates (union)" and (report["pairs"] == 0).all()


def test_bad_weights_and_options_are_refused_with_planner_messages(engine):
    for weights, message in (({"chain": float("nan")}, "must be a number of 0 or more"),
                             ({"chain": -0.1}, "must be a number of 0 or more"),
                             ({"chain": float("inf")}, "must be a number of 0 or more"),
                             ({"chain": "much"}, "must be a number, not 'much'")):
        with pytest.raises(MatcherError, match=message):
            engine.suggest("east_west", weights=weights)
    for options, message in ((dict(top="x"), "--top must be a whole number"), (dict(top=2.5), "whole number"),
                             (dict(min_score="high"), "minimum score must be a number"),
                             (dict(min_score=float("nan")), "not NaN"),
                             (dict(for_id=5), "ids are text"), (dict(for_id=[5]), "ids are text")):
        with pytest.raises(MatcherError, match=message):
            engine.suggest("east_west", **options)


@pytest.mark.parametrize("kind", sorted(k for k in KINDS if k != "enterprise"))  # bundled data: no firms
def test_a_blocks_pairs_are_freed_as_soon_as_its_features_are_done(engine, kind):
    """No reference cycle holds a block's pairs: a cycle kept every block's candidate arrays alive
    until a full garbage collection (a million firms then peaked at 5 GB instead of 2)."""
    import gc
    import weakref

    from matcher.docking import features as F

    E = engine.entities(kind)
    pairs = F.pairs_of(E, np.arange(min(5, len(E))), np.arange(min(5, len(E)))[::-1])
    gone = weakref.ref(pairs)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        columns = F.compute(E, pairs, get_kind(kind).features, engine.params(kind))
        del pairs
        assert gone() is None, "the features left a reference cycle holding the pairs"
        assert set(get_kind(kind).features) <= set(columns)
    finally:
        if was_enabled:
            gc.enable()
