"""Enterprise scale (matcher.docking.scale): bounded candidates, exact top K, ties by id, reasons, CSV output."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.columns import ENTERPRISES
from matcher.docking import scale
from matcher.docking.engine import DockingEngine
from matcher.docking.explain import reasons
from matcher.exceptions import MatcherError
from matcher.ingest.dataset import Dataset
from matcher.vocab import STAGES

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "benchmarks" / "bench_scale.py")
bench_scale = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_scale)

STAGE_NAMES = list(STAGES)
PRODUCTS = ["denim fabric 牛仔布", "cotton yarn 棉纱", "towels 毛巾", "shirts 衬衫", "", "knitted fabric 针织面料"]


def enterprises(rows: list[dict]) -> pd.DataFrame:
    """An enterprise table with the columns and in-memory types of matcher.columns.ENTERPRISES."""
    frame = pd.DataFrame(rows)
    for col in ENTERPRISES.names:
        if col not in frame:
            frame[col] = pd.NA
    frame = frame[ENTERPRISES.names]
    for col in ("lat", "lon", "capacity"):
        frame[col] = frame[col].astype("Float64")
    frame["n_workers"] = frame["n_workers"].astype("Int64")
    frame["synthetic"] = frame["synthetic"].astype("boolean")
    for col in ENTERPRISES.names:
        if col not in ("lat", "lon", "capacity", "n_workers", "synthetic"):
            frame[col] = frame[col].astype("string")
    return frame


def with_enterprises(bundled, table: pd.DataFrame) -> Dataset:
    return Dataset(bundled.clusters, bundled.markets, table, bundled.chain_links, bundled.policies, "test", "v")


def random_enterprises(bundled, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cluster_ids = bundled.clusters["id"].to_numpy()[:4]
    rows = []
    for i in range(n):
        stages = sorted(rng.choice(len(STAGE_NAMES), size=rng.integers(1, 3), replace=False))
        buys = [] if rng.random() < 0.3 else sorted(rng.choice(len(STAGE_NAMES), size=2, replace=False))
        rows.append({
            "id": f"E{rng.permutation(10_000)[0]:05d}-{i}", "name_zh": f"企业{i}", "name_en": f"Firm {i}",
            "province": "Zhejiang", "region": "east",
            "lat": 30 + rng.normal(0, 0.5), "lon": 120 + rng.normal(0, 0.5),
            "cluster_id": None if rng.random() < 0.2 else rng.choice(cluster_ids),
            "stages": ";".join(STAGE_NAMES[s] for s in stages),
            "buys": ";".join(STAGE_NAMES[s] for s in buys) or None,
            "products": PRODUCTS[rng.integers(len(PRODUCTS))] or None,
            "capacity": None if rng.random() < 0.2 else float(rng.lognormal(6, 1)),
        })
    return enterprises(rows)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(2, 70), seed=st.integers(0, 10_000), top=st.integers(1, 12), neighbours=st.integers(1, 30))
def test_top_k_equals_a_brute_force_cross_join(bundled, n, seed, top, neighbours):
    table = random_enterprises(bundled, n, seed)
    if seed % 2:
        table.loc[::7, ["lat", "lon"]] = pd.NA  # without a place: only the similar-products rule
    data = with_enterprises(bundled, table)
    A = scale.prepare_enterprises(data)
    got = scale.suggest_enterprises(data, top, neighbours=neighbours, arrays=A, block_size=7)
    want = bench_scale.cross_join_top_k(A, top, neighbours)
    assert got["left_id"].tolist() == want["left_id"].tolist()
    assert got["right_id"].tolist() == want["right_id"].tolist()
    assert got["rank"].tolist() == want["rank"].tolist()
    np.testing.assert_array_equal(got["score"].to_numpy(), want["score"].to_numpy())


def test_ties_are_broken_by_partner_id(bundled):
    # one spinner and eight identical weavers at one point: equal scores, listed by id ascending
    rows = [{"id": "S1", "name_en": "spinner", "province": "Zhejiang", "lat": 30.0, "lon": 120.0,
             "stages": "spinning", "products": "cotton yarn", "capacity": 100.0}]
    for i in (7, 3, 9, 1, 8, 2, 6, 5):
        rows.append({"id": f"W{i}", "name_en": f"weaver {i}", "province": "Zhejiang", "lat": 30.01, "lon": 120.01,
                     "stages": "weaving", "products": "denim fabric", "capacity": 100.0})
    data = with_enterprises(bundled, enterprises(rows))
    top = scale.suggest_enterprises(data, 3, neighbours=8)
    spinner = top[top["left_id"] == "S1"]
    assert spinner["right_id"].tolist() == ["W1", "W2", "W3"]
    assert spinner["score"].nunique() == 1
    assert spinner["rank"].tolist() == [1, 2, 3]


def test_top_k_selection_keeps_ties_at_the_cut_in_id_order():
    focal = np.array([0, 0, 0, 0, 0, 1, 1])
    partner = np.array([9, 4, 7, 2, 5, 3, 1])
    score = np.array([0.5, 0.9, 0.5, 0.5, 0.1, 0.2, 0.2])
    pick = scale.top_k(focal, partner, score, 3)
    assert partner[pick].tolist() == [4, 2, 7, 1, 3]


def test_candidates_are_bounded_per_enterprise_not_per_stage(bundled):
    data = with_enterprises(bundled, random_enterprises(bundled, 400, seed=3))
    A = scale.prepare_enterprises(data)
    for neighbours in (1, 5, 20):
        f, p, km = scale.candidate_pairs(A.stages, A.need, A.lat, A.lon, A.trees, np.arange(len(A)), neighbours)
        assert len(f) <= len(A) * neighbours
        assert np.bincount(f).max() <= neighbours
        assert (f != p).all() and not pd.DataFrame({"f": f, "p": p}).duplicated().any()
        # enterprises with several stages and needs still get at most `neighbours`
        many = np.flatnonzero((A.stages.sum(axis=1) + (A.need >= 0.05).sum(axis=1)) >= 4)
        assert len(many) and np.bincount(f, minlength=len(A))[many].max() <= neighbours
    assert scale.count_candidates(A, 20, product_neighbours=0) == len(f)


def test_radius_keeps_only_nearby_partners(bundled):
    data = with_enterprises(bundled, random_enterprises(bundled, 200, seed=5))
    out = scale.suggest_enterprises(data, 10, radius_km=30)
    assert len(out) and (out["d_km"] <= 30 + 1e-3).all()


def test_features_and_reasons_match_the_engine(bundled):
    table = random_enterprises(bundled, 150, seed=7)
    table.loc[::10, ["lat", "lon"]] = pd.NA  # firms without a place: found by their products only
    data = with_enterprises(bundled, table)
    fast = scale.suggest_enterprises(data, 5)
    engine = DockingEngine(data).score("enterprise")
    key = ["left_id", "right_id"]
    both = pd.concat([engine, engine.rename(columns={"left_id": "right_id", "right_id": "left_id"})])
    merged = fast.merge(both, on=key, suffixes=("", "_engine"))
    assert len(merged) == len(fast)  # the engine's pairs are the same candidates, unordered
    assert fast["d_km"].isna().any()
    for f in scale.FEATURES:
        np.testing.assert_allclose(merged[f"f_{f}"], merged[f"f_{f}_engine"], atol=1e-6, equal_nan=True)
    np.testing.assert_allclose(merged["score"], merged["score_engine"], atol=1e-6)
    # reasons: the vectorised builder equals explain.reasons row by row
    detail = fast.copy()
    stage_index = {s: i for i, s in enumerate(STAGE_NAMES)} | {"": -1}
    for col in ("lr_from", "lr_to", "rl_from", "rl_to"):
        detail[col] = detail[col].map(stage_index)
    zh, en = reasons(detail, scale.FEATURES)
    assert fast["reason_zh"].tolist() == zh
    assert fast["reason_en"].tolist() == en


def test_engine_path_still_builds_enterprise_pairs(bundled):
    data = with_enterprises(bundled, random_enterprises(bundled, 60, seed=11))
    s = DockingEngine(data).suggest("enterprise", top=3)
    assert len(s) and (s["rank"] <= 3).all()
    report = DockingEngine(data).candidate_report("enterprise")
    assert report["pairs"].iloc[-1] <= 60 * (50 + 10)


def _hostile_run(bundled, path, seed: int):
    """120 firms, one named like a formula: the rows in memory, and the same run written to ``path``."""
    table = random_enterprises(bundled, 120, seed=seed)
    table.loc[0, "name_en"] = "=HYPERLINK(\"x\")"
    data = with_enterprises(bundled, table)
    frame = scale.suggest_enterprises(data, 4)
    summary = scale.suggest_enterprises(data, 4, out=path, block_size=17, extra_columns={"run_id": "r1"})
    return data, frame, summary


def test_csv_written_in_blocks_is_safe_for_excel(bundled, tmp_path):
    _, frame, summary = _hostile_run(bundled, tmp_path / "s.csv", seed=13)
    raw = (tmp_path / "s.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    back = pd.read_csv(tmp_path / "s.csv", encoding="utf-8-sig", keep_default_na=False)
    assert summary["rows"] == len(frame) == len(back)
    assert list(back.columns) == [*scale.output_columns(), "run_id"]
    # the CSV comes block by block (spatial tiles); the same rows as the id-ordered frame
    in_id_order = back.sort_values(["left_id", "rank"], kind="stable")
    assert in_id_order["left_id"].tolist() == frame["left_id"].tolist()
    assert in_id_order["right_id"].tolist() == frame["right_id"].tolist()
    assert not back["left_name_en"].str.startswith("=").any()
    assert back["left_name_en"].str.startswith("'=HYPERLINK").any()
    assert summary["candidates"] <= 120 * (50 + 10)


def test_only_some_enterprises_and_clear_errors(bundled):
    data = with_enterprises(bundled, random_enterprises(bundled, 50, seed=17))
    first = data.enterprises["id"].iloc[0]
    one = scale.suggest_enterprises(data, 5, for_id=first)
    assert set(one["left_id"]) <= {first}
    with pytest.raises(MatcherError, match="no enterprise has the id 'NOPE'"):
        scale.suggest_enterprises(data, 5, for_id="NOPE")
    with pytest.raises(MatcherError, match="at least 1"):
        scale.suggest_enterprises(data, 0)
    with pytest.raises(MatcherError, match="unknown features"):
        scale.suggest_enterprises(data, 5, weights={"charm": 1})
    with pytest.raises(MatcherError, match="has no enterprises"):
        scale.suggest_enterprises(bundled, 5)


def _far_cashmere(bundled) -> Dataset:
    """A cashmere spinner in Qinghe, 60 cotton weavers around it, a cashmere knitter 600 km away."""
    rows = [{"id": "S", "name_en": "cashmere spinner", "province": "Hebei", "lat": 37.05, "lon": 115.65,
             "stages": "spinning", "products": "cashmere yarn", "capacity": 100.0}]
    for i in range(60):
        rows.append({"id": f"W{i:02d}", "name_en": f"weaver {i}", "province": "Hebei", "lat": 37.05 + i / 1000,
                     "lon": 115.66, "stages": "weaving", "products": "cotton fabric", "capacity": 100.0})
    rows.append({"id": "K", "name_en": "cashmere knitter", "province": "Inner Mongolia", "lat": 39.6,
                 "lon": 109.8, "stages": "knitting", "products": "cashmere sweaters; cashmere yarn",
                 "capacity": 100.0})
    rows.append({"id": "U", "name_en": "knitter, place unknown", "province": "Hebei", "stages": "knitting",
                 "products": "cashmere knitwear; cashmere yarn", "capacity": 90.0})
    return with_enterprises(bundled, enterprises(rows))


def test_similar_products_bring_far_partners_the_nearest_rule_misses(bundled):
    data = _far_cashmere(bundled)
    weights = {"product": 1.0, "distance": 0.01}
    nearest_only = scale.suggest_enterprises(data, 5, neighbours=50, product_neighbours=0, weights=weights)
    both = scale.suggest_enterprises(data, 5, neighbours=50, weights=weights)
    spinner = both[both["left_id"] == "S"]
    assert "K" not in set(nearest_only.loc[nearest_only["left_id"] == "S", "right_id"])
    assert spinner["right_id"].tolist()[:2] == ["K", "U"]  # most similar products first
    far = spinner[spinner["right_id"] == "K"].iloc[0]
    assert far["d_km"] > 500 and "similar products" in far["reason_en"]
    # an enterprise without a place is found by its products too; its distance is named unknown
    unknown = spinner[spinner["right_id"] == "U"].iloc[0]
    assert np.isnan(unknown["d_km"]) and "unknown: distance" in unknown["reason_en"]
    # ... and gets partners itself (the nearest rule needs a place)
    assert set(both.loc[both["left_id"] == "U", "right_id"]) >= {"S"}
    report = both.attrs["report"]
    assert report["rule"].tolist()[1].startswith("similar_products_10")
    assert report["pairs"].iloc[1] > 0 and report["pairs"].iloc[-1] == both.attrs["candidates"]


def test_similar_product_candidates_are_bounded(bundled):
    data = with_enterprises(bundled, random_enterprises(bundled, 400, seed=23))
    A = scale.prepare_enterprises(data)
    for k in (1, 4, 10):
        f, p, km = scale.product_candidates(A.stages, A.need, A.text_id, A.lat, A.lon, A.products,
                                            np.arange(len(A)), k)
        assert len(f) and np.bincount(f).max() <= k
        assert (f != p).all() and not pd.DataFrame({"f": f, "p": p}).duplicated().any()
    f, p, km, only = scale.block_candidates(A, np.arange(len(A)), 20, 10)
    assert np.bincount(f).max() <= 30 and 0 < only <= len(f)
    # each distinct text looks in at most `similar` texts, all reaching the minimum cosine
    index = A.products
    assert (np.diff(index.offsets) <= scale.DEFAULT_SIMILAR_TEXTS).all()
    assert (index.similar_cos >= scale.DEFAULT_MIN_TEXT_SIMILARITY).all()


def test_similar_texts_skip_terms_held_by_too_many_texts():
    from scipy import sparse
    from sklearn.preprocessing import normalize

    # texts 0 and 1 share only term 0, which all four texts hold
    rows = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 0, 1], [1, 0, 0, 0]], dtype=np.float32)
    t = normalize(sparse.csr_matrix(rows))
    every = np.ones(4, dtype=bool)
    offsets, similar, _ = scale.similar_texts(t, every, 5, 0.1)
    assert set(similar[offsets[0]:offsets[1]]) == {0, 1, 2, 3}
    offsets, similar, _ = scale.similar_texts(t, every, 5, 0.1, max_term_texts=3)
    assert similar[offsets[0]:offsets[1]].tolist() == [0]  # only itself: the shared term is too common


def test_a_failed_run_leaves_no_half_written_csv(bundled, tmp_path, monkeypatch):
    data = with_enterprises(bundled, random_enterprises(bundled, 120, seed=29))
    target = tmp_path / "s.csv"
    target.write_text("the planner's earlier file")
    calls = []

    def fail_on_third(A, focal, job):
        calls.append(1)
        if len(calls) == 3:
            raise MatcherError("simulated failure in block 3")
        return real(A, focal, job)

    real = scale.suggest_block
    monkeypatch.setattr(scale, "suggest_block", fail_on_third)
    with pytest.raises(MatcherError, match="block 3"):
        scale.suggest_enterprises(data, 4, out=target, block_size=20)
    assert target.read_text() == "the planner's earlier file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]
    monkeypatch.setattr(scale, "suggest_block", real)
    summary = scale.suggest_enterprises(data, 4, out=target, block_size=20)
    assert summary["rows"] == len(pd.read_csv(target, encoding="utf-8-sig")) > 0


def test_parquet_output_streams_the_same_rows_and_feeds_the_shortlist(bundled, tmp_path):
    import pyarrow.parquet as pq

    from matcher.cli import main
    from matcher.meetings.tables import read_pairs_table

    data, frame, summary = _hostile_run(bundled, tmp_path / "s.parquet", seed=31)
    back = pq.read_table(tmp_path / "s.parquet").to_pandas()
    assert summary["rows"] == len(back) == len(frame)
    assert list(back.columns) == [*scale.output_columns(), "run_id"]
    in_id_order = back.sort_values(["left_id", "rank"], kind="stable", ignore_index=True)
    assert in_id_order["right_id"].tolist() == frame["right_id"].tolist()
    np.testing.assert_array_equal(in_id_order["score"].to_numpy(), frame["score"].to_numpy())  # typed, exact
    assert back["left_name_en"].str.startswith("'=HYPERLINK").any()  # neutralised as in every export
    assert not (tmp_path / "s.parquet.partial").exists()
    # the text reader takes it, ids as text, missing values missing
    text = read_pairs_table(tmp_path / "s.parquet", what="suggestions")
    assert text["left_id"].tolist() == back["left_id"].tolist() and text["rl_from"].isna().sum() == 0
    # and the planner's commands: suggest to Parquet, then a shortlist from it
    folder = tmp_path / "firms"
    folder.mkdir()
    data.enterprises.to_csv(folder / "enterprises.csv", index=False)
    for name in ("clusters", "markets"):
        getattr(bundled, name).to_csv(folder / f"{name}.csv", index=False)
    assert main(["suggest", "--kind", "enterprise", "--data", str(folder), "--top", "3",
                 "--out", str(tmp_path / "cli.parquet")]) == 0
    assert main(["shortlist", "--suggestions", str(tmp_path / "cli.parquet"), "--method", "top_k", "--k", "2",
                 "--out", str(tmp_path / "short.csv")]) == 0
    short = pd.read_csv(tmp_path / "short.csv", encoding="utf-8-sig", dtype=str)
    assert len(short) and short.groupby("left_id").size().max() <= 2


def test_a_writer_given_no_blocks_writes_the_header_only(tmp_path):
    for name in ("none.csv", "none.parquet"):
        writer = scale.block_writer(tmp_path / name, {"run_id": "r"})
        writer.close()
        path = tmp_path / name
        back = pd.read_parquet(path) if name.endswith("parquet") else pd.read_csv(path, encoding="utf-8-sig")
        assert len(back) == 0 and list(back.columns) == [*scale.output_columns(), "run_id"]
