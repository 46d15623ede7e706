"""Enterprise scale through the one docking pipeline (``DockingEngine.suggest``, ``backend="blocks"``):
bounded candidates, exact top K (a brute-force cross join as the oracle), ties by id, reasons,
streamed CSV/Parquet output, and identical rows on every backend (Dask: ``test_scale_dask.py``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from matcher.columns import ENTERPRISES
from matcher.docking import backends, search
from matcher.docking import candidates as C
from matcher.docking import geo as G
from matcher.docking.engine import DockingEngine
from matcher.docking.entities import prepare
from matcher.docking.job import output_columns
from matcher.docking.kinds import ENTERPRISE_DOCKING, KINDS
from matcher.docking.ranking import top_k
from matcher.exceptions import MatcherError
from matcher.ingest.dataset import Dataset
from matcher.learning.learn import LearnedScorer, labelled_pairs, simulate_outcomes
from matcher.outputs.writers import block_writer
from matcher.vocab import ENTERPRISE, STAGES

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "benchmarks" / "bench_scale.py")
bench_scale = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_scale)

KIND = "enterprise"
PARAMS = ENTERPRISE_DOCKING.params
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


def in_id_order(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["left_id", "rank"], kind="stable", ignore_index=True)


def assert_same_rows(a: pd.DataFrame, b: pd.DataFrame) -> None:
    """The same rows, columns, dtypes and values (bit for bit), whatever the order blocks came in."""
    pd.testing.assert_frame_equal(in_id_order(a), in_id_order(b), check_exact=True)


# --- exact top K -----------------------------------------------------------------------------

@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(n=st.integers(2, 70), seed=st.integers(0, 10_000), top=st.integers(1, 12), neighbours=st.integers(1, 30),
       radius=st.sampled_from([None, None, 40.0]))
def test_top_k_equals_a_brute_force_cross_join(bundled, n, seed, top, neighbours, radius):
    table = random_enterprises(bundled, n, seed)
    if seed % 2:
        table.loc[::7, ["lat", "lon"]] = pd.NA  # without a place: only the similar-products rule
    engine = DockingEngine(with_enterprises(bundled, table))
    memory = engine.suggest(KIND, top, neighbours=neighbours, radius_km=radius, backend="memory")
    event("a block without rows" if not every_tile_has_rows(engine, memory, 7) else "every block has rows")
    got = engine.suggest(KIND, top, neighbours=neighbours, radius_km=radius, block_size=7)
    want = bench_scale.cross_join_top_k(engine.entities(KIND), top, neighbours, radius_km=radius)
    assert got["left_id"].tolist() == want["left_id"].tolist()
    assert got["right_id"].tolist() == want["right_id"].tolist()
    assert got["rank"].tolist() == want["rank"].tolist()
    np.testing.assert_array_equal(got["score"].to_numpy(), want["score"].to_numpy())
    # the in-memory backend (one block, cached features) gives the same rows
    assert_same_rows(memory, got)


def every_tile_has_rows(engine, rows: pd.DataFrame, block_size: int) -> bool:
    """Whether each block of ``block_size`` lists (the backends' spatial tiles) has rows in ``rows``."""
    E = engine.entities(KIND)
    listed = set(rows["left_id"])
    return all(listed & set(E.ids[b]) for b in backends.make_blocks(engine.listed(KIND), block_size, E.lat, E.lon))


def test_the_cross_join_oracle_can_fail(bundled):
    """Other weights (or other candidates) give another top K: the oracle is not vacuous."""
    data = with_enterprises(bundled, random_enterprises(bundled, 60, seed=2))
    engine = DockingEngine(data)
    E = engine.entities(KIND)
    got = engine.suggest(KIND, 5)
    same = bench_scale.cross_join_top_k(E, 5)
    other = bench_scale.cross_join_top_k(E, 5, weights={"distance": 1.0, "chain": 0.0})
    fewer = bench_scale.cross_join_top_k(E, 5, neighbours=2, product_neighbours=0)
    assert got["right_id"].tolist() == same["right_id"].tolist()
    assert got["right_id"].tolist() != other["right_id"].tolist()
    assert len(fewer) < len(got)


def test_ties_are_broken_by_partner_id(bundled):
    # one spinner and eight identical weavers at one point: equal scores, listed by id ascending
    rows = [{"id": "S1", "name_en": "spinner", "province": "Zhejiang", "lat": 30.0, "lon": 120.0,
             "stages": "spinning", "products": "cotton yarn", "capacity": 100.0}]
    for i in (7, 3, 9, 1, 8, 2, 6, 5):
        rows.append({"id": f"W{i}", "name_en": f"weaver {i}", "province": "Zhejiang", "lat": 30.01, "lon": 120.01,
                     "stages": "weaving", "products": "denim fabric", "capacity": 100.0})
    engine = DockingEngine(with_enterprises(bundled, enterprises(rows)))
    for backend in ("blocks", "memory"):
        top = engine.suggest(KIND, 3, neighbours=8, backend=backend, block_size=2)
        spinner = top[top["left_id"] == "S1"]
        assert spinner["right_id"].tolist() == ["W1", "W2", "W3"]
        assert spinner["score"].nunique() == 1
        assert spinner["rank"].tolist() == [1, 2, 3]


def test_top_k_selection_keeps_ties_at_the_cut_in_id_order():
    focal = np.array([0, 0, 0, 0, 0, 1, 1])
    partner = np.array([9, 4, 7, 2, 5, 3, 1])
    score = np.array([0.5, 0.9, 0.5, 0.5, 0.1, 0.2, 0.2])
    pick = top_k(focal, partner, score, 3)
    assert partner[pick].tolist() == [4, 2, 7, 1, 3]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.integers(0, 30), st.integers(0, 4)), max_size=120),
       st.integers(1, 8), st.booleans())
def test_top_k_equals_a_full_sort_in_any_row_order(rows, k, shuffled):
    """Each focal's best k rows, score descending, then partner ascending, whether or not its rows
    come in partner order (the engine's do; others are put in that order first)."""
    frame = pd.DataFrame(rows, columns=["focal", "partner", "score"]).drop_duplicates(["focal", "partner"])
    frame["score"] = frame["score"] / 4.0
    frame = frame.sample(frac=1.0, random_state=1) if shuffled else frame.sort_values(["focal", "partner"])
    frame = frame.sort_values("focal", kind="stable").reset_index(drop=True)
    pick = top_k(frame["focal"].to_numpy(), frame["partner"].to_numpy(), frame["score"].to_numpy(), k)
    want = frame.sort_values(["focal", "score", "partner"], ascending=[True, False, True], kind="stable")
    want = want[want.groupby("focal").cumcount() < k]
    assert pick.tolist() == want.index.tolist()


def test_duckdb_sql_and_pandas_give_the_engines_top_k_from_the_same_inputs(bundled):
    """The scale benchmark's comparison (``--formulations``): the same scoring and top K written in
    DuckDB SQL (QUALIFY) and in pandas give the engine's rows, bit-identical scores included."""
    data = with_enterprises(bundled, random_enterprises(bundled, 600, seed=11))
    c = bench_scale.compare_formulations(data, top=5, repeat=1)
    assert c["rows_out"] > 0 and c["rows_in"] > c["rows_out"]
    assert c["same_duckdb"] and c["same_pandas"]
    table, scorer = bench_scale.ranking_inputs(data, 5)
    ours = bench_scale.top_k_ours(table, scorer, 5)
    listed = DockingEngine(data).suggest(KIND, 5)
    ids = DockingEngine(data).entities(KIND).ids
    assert ids[ours["focal"]].tolist() == listed["left_id"].tolist()
    assert ids[ours["partner"]].tolist() == listed["right_id"].tolist()
    assert np.array_equal(ours["score"].to_numpy(), listed["score"].to_numpy())


# --- bounded candidates --------------------------------------------------------------------------

def test_candidates_are_bounded_per_enterprise_not_per_stage(bundled):
    data = with_enterprises(bundled, random_enterprises(bundled, 400, seed=3))
    engine = DockingEngine(data)
    E = engine.entities(KIND)
    trees = search.stage_trees(E.stages, E.need, E.lat, E.lon, np.arange(len(E)), C.DEFAULT_MIN_NEED)
    for neighbours in (1, 5, 20):
        f, p, km = search.candidate_pairs(E.stages, E.need, E.lat, E.lon, trees, np.arange(len(E)), neighbours)
        assert len(f) <= len(E) * neighbours
        assert np.bincount(f).max() <= neighbours
        assert (f != p).all() and not pd.DataFrame({"f": f, "p": p}).duplicated().any()
        # enterprises with several stages and needs still get at most `neighbours`
        many = np.flatnonzero((E.stages.sum(axis=1) + (E.need >= 0.05).sum(axis=1)) >= 4)
        assert len(many) and np.bincount(f, minlength=len(E))[many].max() <= neighbours
    # the run's candidate report counts exactly these pairs, and every one of them gets a row
    everything = engine.suggest(KIND, None, neighbours=20, product_neighbours=0, block_size=50)
    report = everything.attrs["report"]
    assert report["rule"].tolist() == ["chain_adjacent_nearest_20", "similar_products_0 (not already nearest)",
                                       "candidates (union)"]
    assert report["pairs"].tolist() == [len(f), 0, len(f)] == [len(everything), 0, len(everything)]
    assert (report["all_pairs"] == 400 * 399).all()


def test_radius_keeps_only_nearby_partners(bundled):
    engine = DockingEngine(with_enterprises(bundled, random_enterprises(bundled, 200, seed=5)))
    out = engine.suggest(KIND, 10, radius_km=30)
    assert len(out) and (out["d_km"] <= 30 + 1e-3).all()
    assert (engine.suggest(KIND, 10)["d_km"] > 30).any()  # without it, farther partners are listed


def test_similar_products_bring_far_partners_the_nearest_rule_misses(bundled):
    engine = DockingEngine(_far_cashmere(bundled))
    weights = {"product": 1.0, "distance": 0.01}
    nearest_only = engine.suggest(KIND, 5, neighbours=50, product_neighbours=0, weights=weights)
    both = engine.suggest(KIND, 5, neighbours=50, weights=weights)
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
    every = engine.suggest(KIND, None, neighbours=50, weights=weights)  # every candidate, one row each
    assert report["pairs"].iloc[1] > 0 and report["pairs"].iloc[-1] == len(every)
    assert report["pairs"].iloc[0] + report["pairs"].iloc[1] == report["pairs"].iloc[-1]


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


def test_similar_product_candidates_are_bounded(bundled):
    E = prepare(with_enterprises(bundled, random_enterprises(bundled, 400, seed=23)), (ENTERPRISE,))
    index = E.indexes[C.SimilarProductsRule().prepare(E, PARAMS)]
    for k in (1, 4, 10):
        f, p, km = search.product_candidates(E.stages, E.need, E.text_id, E.lat, E.lon, index, np.arange(len(E)), k)
        assert len(f) and np.bincount(f).max() <= k
        assert (f != p).all() and not pd.DataFrame({"f": f, "p": p}).duplicated().any()
    cand = C.generate(ENTERPRISE_DOCKING, E, np.arange(len(E)), {**PARAMS, "neighbours": 20, "product_neighbours": 10})
    only = cand.counts["similar_products_10 (not already nearest)"]
    assert np.bincount(cand.focal).max() <= 30 and 0 < only <= len(cand.left) == cand.counts["candidates (union)"]
    assert not pd.DataFrame({"f": cand.focal, "p": cand.partner}).duplicated().any()
    # each distinct text looks in at most `similar_texts` texts, all reaching the minimum cosine
    assert (np.diff(index.offsets) <= PARAMS["similar_texts"]).all()
    assert (index.similar_cos >= PARAMS["min_text_similarity"]).all()


def test_similar_texts_skip_terms_held_by_too_many_texts():
    from scipy import sparse
    from sklearn.preprocessing import normalize

    # texts 0 and 1 share only term 0, which all four texts hold
    rows = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 0, 0, 1], [1, 0, 0, 0]], dtype=np.float32)
    t = normalize(sparse.csr_matrix(rows))
    every = np.ones(4, dtype=bool)
    offsets, similar, _ = search.similar_texts(t, every, 5, 0.1)
    assert set(similar[offsets[0]:offsets[1]]) == {0, 1, 2, 3}
    offsets, similar, _ = search.similar_texts(t, every, 5, 0.1, max_term_texts=3)
    assert similar[offsets[0]:offsets[1]].tolist() == [0]  # only itself: the shared term is too common


# --- identical rows on every backend -----------------------------------------------------------

@pytest.fixture(scope="module")
def firms(bundled):
    """150 random firms, every tenth without a place (found by their products only)."""
    table = random_enterprises(bundled, 150, seed=7)
    table.loc[::10, ["lat", "lon"]] = pd.NA
    return with_enterprises(bundled, table)


def learned_scorer(engine, kind: str) -> LearnedScorer:
    """A scorer learned from simulated outcomes of the kind's candidate pairs (not the preset)."""
    outcomes = simulate_outcomes(engine, kind, n_pairs=300, seed=3)
    data = labelled_pairs(engine, kind, outcomes)
    scorer = LearnedScorer(kind=kind).fit(data.X, data.y)
    assert not scorer.fallback_ and scorer.intercept_ != 0
    return scorer


#: The places-unknown firms tile last: without the similar-products rule, or within a radius, their
#: block has no rows.
RUNS = [
    pytest.param(dict(top=5), id="top 5"),
    pytest.param(dict(top=None, min_score=0.3), id="every candidate above a score"),
    pytest.param(dict(top=3, for_id="FIRST_AND_LAST"), id="some lists"),
    pytest.param(dict(top=4, neighbours=7, product_neighbours=0), id="nearest only"),
    pytest.param(dict(top=4, radius_km=40.0), id="within a radius"),
]


@pytest.mark.parametrize("options", RUNS)
@pytest.mark.parametrize("scoring", ["weighted preset", "learned"])
def test_memory_and_blocks_backends_give_identical_rows(firms, options, scoring):
    engine = DockingEngine(firms)
    options = dict(options)
    if options.get("for_id") == "FIRST_AND_LAST":
        ids = engine.entities(KIND).ids
        options["for_id"] = [ids[-1], ids[0]]
    scorer = learned_scorer(engine, KIND) if scoring == "learned" else None
    blocks = backends.make_blocks(engine.listed(KIND), 16, engine.entities(KIND).lat, engine.entities(KIND).lon)
    assert len(blocks) >= 9  # several spatial tiles, not one block
    memory = engine.suggest(KIND, scorer=scorer, backend="memory", **options)
    tiled = engine.suggest(KIND, scorer=scorer, backend="blocks", block_size=16, **options)
    assert len(memory) > 0 and list(memory.columns) == list(tiled.columns)
    assert (scoring == "learned") == ("c_baseline" in memory.columns)  # the learned intercept is explained
    assert_same_rows(memory, tiled)
    # the report counts the pairs proposed for the lists made, on every backend
    pd.testing.assert_frame_equal(memory.attrs["report"], tiled.attrs["report"])
    if "radius_km" in options or options.get("product_neighbours") == 0:
        assert not every_tile_has_rows(engine, memory, 16)  # the last tile (places unknown) has no rows
    elif "for_id" not in options:
        assert memory["d_km"].isna().any()  # firms without a place took part


def test_each_backend_ranks_by_its_scorer(firms):
    """The comparison above is not vacuous: the learned scorer ranks otherwise than the preset."""
    engine = DockingEngine(firms)
    weighted = engine.suggest(KIND, 5, backend="blocks", block_size=16)
    learned = engine.suggest(KIND, 5, scorer=learned_scorer(engine, KIND), backend="blocks", block_size=16)
    assert weighted["right_id"].tolist() != learned["right_id"].tolist()


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "enterprise"])
def test_cluster_kinds_give_identical_rows_in_memory_and_in_blocks(bundled, kind):
    engine = DockingEngine(bundled)
    listed = engine.listed(kind)
    assert len(backends.make_blocks(listed, 25, engine.entities(kind).lat, engine.entities(kind).lon)) >= 3
    memory = engine.suggest(kind, top=6)  # the cluster kinds' default backend
    tiled = engine.suggest(kind, top=6, backend="blocks", block_size=25)
    assert len(memory) > len(listed)
    assert_same_rows(memory, tiled)
    pd.testing.assert_frame_equal(memory.attrs["report"], tiled.attrs["report"])
    # every listed entity's list in entity id order on both (blocks come back as spatial tiles)
    assert memory["left_id"].tolist() == sorted(memory["left_id"])
    assert tiled["left_id"].tolist() == memory["left_id"].tolist()


def test_a_cluster_kind_with_a_learned_scorer_is_identical_in_blocks(bundled):
    engine = DockingEngine(bundled)
    scorer = learned_scorer(engine, "east_west")
    memory = engine.suggest("east_west", top=6, scorer=scorer)
    tiled = engine.suggest("east_west", top=6, scorer=scorer, backend="blocks", block_size=25)
    assert "c_baseline" in memory.columns
    assert_same_rows(memory, tiled)


# --- blocks without rows, and output files ------------------------------------------------------

def _isolated_corner(bundled) -> Dataset:
    """Five weavers far apart in the south-west (the first spatial tile) and 40 firms near Hangzhou."""
    rows = [{"id": f"A{i}", "name_en": f"lonely weaver {i}", "province": "Yunnan", "lat": 20.0 + i, "lon": 100.0 + i,
             "stages": "weaving", "products": "cotton fabric", "capacity": 10.0} for i in range(5)]
    table = pd.concat([enterprises(rows), random_enterprises(bundled, 40, seed=41)], ignore_index=True)
    return with_enterprises(bundled, table)


@pytest.mark.parametrize("out", [None, "s.csv", "s.parquet"])
def test_blocks_without_rows_do_not_break_the_run(bundled, tmp_path, out):
    engine = DockingEngine(_isolated_corner(bundled))
    E = engine.entities(KIND)
    lonely = {f"A{i}" for i in range(5)}
    assert set(E.ids[backends.make_blocks(engine.listed(KIND), 5, E.lat, E.lon)[0]]) == lonely  # the first tile
    memory = engine.suggest(KIND, 5, radius_km=30, backend="memory")
    assert len(memory) and not set(memory["left_id"]) & lonely  # no partner within 30 km: no rows
    got = engine.suggest(KIND, 5, radius_km=30, block_size=5, out=None if out is None else tmp_path / out)
    if out is None:
        assert_same_rows(memory, got)
        return
    back = pd.read_csv(tmp_path / out, encoding="utf-8-sig") if out.endswith(".csv") else pd.read_parquet(tmp_path / out)
    assert got["rows"] == len(back) == len(memory)
    assert list(back.columns) == output_columns(KIND, reasons=out.endswith(".csv"))
    assert in_id_order(back)[["left_id", "right_id", "rank"]].equals(memory[["left_id", "right_id", "rank"]])


@pytest.mark.parametrize("suffix", [".csv", ".json", ".xlsx", ".parquet"])
def test_every_output_type_holds_the_same_rows_on_both_backends(bundled, tmp_path, suffix):
    import json

    def read(path: Path) -> pd.DataFrame:
        if suffix == ".csv":
            return pd.read_csv(path, encoding="utf-8-sig")
        if suffix == ".json":
            return pd.DataFrame(json.loads(path.read_text(encoding="utf-8"))["shortlist"])
        if suffix == ".xlsx":
            return pd.read_excel(path, sheet_name=0)
        return pd.read_parquet(path)

    engine = DockingEngine(bundled)
    run = {"run_id": "r1"}
    memory = engine.suggest("east_west", 3, out=tmp_path / f"m{suffix}", extra_columns=run, metadata=run)
    tiled = engine.suggest("east_west", 3, backend="blocks", block_size=20, out=tmp_path / f"b{suffix}",
                           extra_columns=run, metadata=run)
    assert memory["rows"] == tiled["rows"] > 0 and memory["candidates"] == tiled["candidates"]
    a, b = read(tmp_path / f"m{suffix}"), read(tmp_path / f"b{suffix}")
    coded = suffix == ".parquet"  # codes and numbers; its reasons are rendered on reading
    assert list(a.columns) == [*output_columns("east_west", reasons=not coded), "run_id"] and len(a) == memory["rows"]
    pd.testing.assert_frame_equal(a, in_id_order(b))

def _hostile_run(bundled, path, seed: int):
    """120 firms, one named like a formula: the rows in memory, and the same run written to ``path``."""
    table = random_enterprises(bundled, 120, seed=seed)
    table.loc[0, "name_en"] = "=HYPERLINK(\"x\")"
    data = with_enterprises(bundled, table)
    engine = DockingEngine(data)
    frame = engine.suggest(KIND, 4)
    summary = engine.suggest(KIND, 4, out=path, block_size=17, extra_columns={"run_id": "r1"})
    return data, frame, summary


def test_csv_written_in_blocks_is_safe_for_excel(bundled, tmp_path):
    _, frame, summary = _hostile_run(bundled, tmp_path / "s.csv", seed=13)
    raw = (tmp_path / "s.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    back = pd.read_csv(tmp_path / "s.csv", encoding="utf-8-sig", keep_default_na=False)
    assert summary["rows"] == len(frame) == len(back)
    assert summary["entities"] == 120 and summary["seconds"] > 0
    assert list(back.columns) == [*output_columns(KIND), "run_id"]
    # the CSV comes block by block (spatial tiles); the same rows as the id-ordered frame
    ordered = back.sort_values(["left_id", "rank"], kind="stable")
    assert ordered["left_id"].tolist() != back["left_id"].tolist()  # it really came in tiles
    assert ordered["left_id"].tolist() == frame["left_id"].tolist()
    assert ordered["right_id"].tolist() == frame["right_id"].tolist()
    assert not back["left_name_en"].str.startswith("=").any()
    assert back["left_name_en"].str.startswith("'=HYPERLINK").any()
    assert summary["candidates"] == summary["report"]["pairs"].iloc[-1] <= 120 * (50 + 10)
    pd.testing.assert_frame_equal(summary["report"], frame.attrs["report"])


def test_only_some_enterprises_and_clear_errors(bundled):
    data = with_enterprises(bundled, random_enterprises(bundled, 50, seed=17))
    engine = DockingEngine(data)
    first = sorted(data.enterprises["id"])[3]
    one = engine.suggest(KIND, 5, for_id=first)
    assert set(one["left_id"]) == {first} and len(one) == 5
    assert one["right_id"].tolist() == engine.suggest(KIND, 5).query("left_id == @first")["right_id"].tolist()
    with pytest.raises(MatcherError, match="no cluster, market or enterprise has the id 'NOPE'"):
        engine.suggest(KIND, 5, for_id="NOPE")
    cluster = data.clusters["id"].iloc[0]
    with pytest.raises(MatcherError, match=f"'{cluster}' is a cluster; the enterprise kind pairs two different"):
        engine.suggest(KIND, 5, for_id=cluster)
    with pytest.raises(MatcherError, match="a Dask scheduler runs the dask backend, not 'memory'"):
        engine.suggest(KIND, 5, backend="memory", scheduler="tcp://127.0.0.1:1")
    with pytest.raises(MatcherError, match="at least 1"):
        engine.suggest(KIND, 0)
    with pytest.raises(MatcherError, match="unknown features"):
        engine.suggest(KIND, 5, weights={"charm": 1})
    with pytest.raises(MatcherError, match="neighbours .* at least 1"):
        engine.suggest(KIND, 5, neighbours=0)
    with pytest.raises(MatcherError, match="product neighbours .* 0 or more"):
        engine.suggest(KIND, 5, product_neighbours=-1)
    with pytest.raises(MatcherError, match="positive number of km"):
        engine.suggest(KIND, 5, radius_km=0)
    with pytest.raises(MatcherError, match="unknown backend 'local'"):
        engine.suggest(KIND, 5, backend="local")  # the old name of the blocks backend
    with pytest.raises(MatcherError, match="block size must be at least 1"):
        engine.suggest(KIND, 5, block_size=0)
    with pytest.raises(MatcherError, match="--radius-km is not an option of the east_west kind"):
        DockingEngine(bundled).suggest("east_west", 5, radius_km=10)
    with pytest.raises(MatcherError, match="has no enterprises"):
        DockingEngine(bundled).suggest(KIND, 5)


def test_blocks_ranked_two_at_once_give_the_rows_of_one_at_a_time(bundled, monkeypatch):
    engine = DockingEngine(with_enterprises(bundled, random_enterprises(bundled, 300, seed=31)))
    monkeypatch.setattr(backends, "LOCAL_THREADS", 2)
    together = engine.suggest(KIND, 6, block_size=25)
    monkeypatch.setattr(backends, "LOCAL_THREADS", 1)
    alone = engine.suggest(KIND, 6, block_size=25)
    assert len(together) == len(alone) > 0
    pd.testing.assert_frame_equal(together, alone)


def test_a_failed_run_leaves_no_half_written_csv(bundled, tmp_path, monkeypatch):
    engine = DockingEngine(with_enterprises(bundled, random_enterprises(bundled, 120, seed=29)))
    target = tmp_path / "s.csv"
    target.write_text("the planner's earlier file")
    calls = []
    real = backends.run_block

    def fail_on_third(E, focal, job):
        calls.append(1)
        if len(calls) == 3:
            raise MatcherError("simulated failure in block 3")
        return real(E, focal, job)

    monkeypatch.setattr(backends, "run_block", fail_on_third)
    with pytest.raises(MatcherError, match="block 3"):
        engine.suggest(KIND, 4, out=target, block_size=20)
    assert len(calls) in (3, 4)  # the blocks really went through the patched job (two are ranked at once)
    assert target.read_text() == "the planner's earlier file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]
    monkeypatch.setattr(backends, "run_block", real)
    summary = engine.suggest(KIND, 4, out=target, block_size=20)
    assert summary["rows"] == len(pd.read_csv(target, encoding="utf-8-sig")) > 0


def test_parquet_output_streams_the_same_rows_and_feeds_the_shortlist(bundled, tmp_path):
    import pyarrow.parquet as pq

    from matcher.cli import main
    from matcher.meetings.tables import read_pairs_table

    data, frame, summary = _hostile_run(bundled, tmp_path / "s.parquet", seed=31)
    back = pq.read_table(tmp_path / "s.parquet").to_pandas()
    assert summary["rows"] == len(back) == len(frame)
    assert list(back.columns) == [*output_columns(KIND, reasons=False), "run_id"]
    ordered = back.sort_values(["left_id", "rank"], kind="stable", ignore_index=True)
    assert ordered["right_id"].tolist() == frame["right_id"].tolist()
    np.testing.assert_array_equal(ordered["score"].to_numpy(), frame["score"].to_numpy())  # typed, exact
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
    assert short["reason_zh"].notna().all() and short["reason_en"].str.contains("\u00a0km").any()  # the why travels


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_parquet_keeps_codes_and_its_reasons_render_as_the_runs_texts(bundled, tmp_path, kind):
    """Registry runs write Parquet without the reason texts (20M rows of text cost a quarter of the
    run); reading the file renders them from its codes and numbers: the texts the run gives in memory."""
    from matcher.meetings.tables import read_suggestions

    data = with_enterprises(bundled, random_enterprises(bundled, 150, seed=43)) if kind == "enterprise" else bundled
    engine = DockingEngine(data)
    frame = engine.suggest(kind, 5)
    engine.suggest(kind, 5, out=tmp_path / "s.parquet", block_size=40)
    assert "reason_zh" not in pd.read_parquet(tmp_path / "s.parquet").columns
    back = read_suggestions(tmp_path / "s.parquet")
    back = back.sort_values(["left_id", "rank"], kind="stable", ignore_index=True)
    assert list(back.columns[:17]) == list(frame.columns[:17])  # the reasons in their place, after the score
    assert back["right_id"].tolist() == frame["right_id"].tolist()
    assert back["reason_zh"].tolist() == frame["reason_zh"].tolist()
    assert back["reason_en"].tolist() == frame["reason_en"].tolist()


def test_a_streamed_csv_leaves_unknown_values_empty_and_reads_back(bundled, tmp_path):
    """Regression: pyarrow wrote an unknown feature value as ``nan``, which the shortlist reader took
    for a bad number, so ``shortlist`` refused the CSV ``suggest`` had just written."""
    from matcher.meetings.tables import read_suggestions

    table = random_enterprises(bundled, 120, seed=47)
    table.loc[:40, "capacity"] = np.nan  # capacity fit unknown for these firms
    engine = DockingEngine(with_enterprises(bundled, table))
    engine.suggest(KIND, 4, out=tmp_path / "s.csv", block_size=30)
    raw = (tmp_path / "s.csv").read_text(encoding="utf-8-sig")
    assert ",nan," not in raw and ",nan\r" not in raw
    back = read_suggestions(tmp_path / "s.csv")
    assert back["f_capacity"].isna().any() and back["f_capacity"].notna().any()


@pytest.mark.parametrize("name", ["q.csv", "q.parquet"])
def test_the_writer_queues_two_blocks_so_ranking_goes_on_and_keeps_their_order(tmp_path, name):
    """While the writer is held up on one block, the next block is queued, not waited for (the ranking
    threads stalled behind a slow block); the file holds the blocks in the order given."""
    import threading
    import time

    import pyarrow as pa

    gate = threading.Event()
    writer = block_writer(tmp_path / name, None, ["n"])
    real = writer._write_block
    writer._write_block = lambda table: (gate.wait(10), real(table))
    started = time.perf_counter()
    writer.write(pa.table({"n": [1, 2]}))
    writer.write(pa.table({"n": [3]}))  # with a queue of one this waited for the held-up block
    queued = time.perf_counter() - started
    gate.set()
    writer.close()
    assert queued < 5
    back = pd.read_parquet(tmp_path / name) if name.endswith("parquet") else pd.read_csv(tmp_path / name,
                                                                                       encoding="utf-8-sig")
    assert back["n"].tolist() == [1, 2, 3]


def test_blocks_are_sized_so_both_threads_stay_busy_within_the_memory_bound():
    """5 blocks on 2 threads left the last block alone on one core (100k firms: 9.3 s; 8 blocks: 7.9 s)."""
    size = backends.balanced_block_size
    assert size(100_000, 20_000, 2) == 12_500  # 8 blocks, 4 a thread
    assert size(1_000_000, 20_000, 2) == 20_000  # the memory bound holds
    assert size(3_000, 20_000, 2) == 2_000  # not tiny blocks for balance alone
    assert size(100_000, 20_000, 1) == 20_000 and size(50, 17, 2) == 17  # one thread, or a small bound asked for


def test_a_writer_given_no_blocks_writes_the_header_only(tmp_path):
    for name in ("none.csv", "none.parquet"):
        writer = block_writer(tmp_path / name, {"run_id": "r"}, output_columns(KIND))
        writer.close()
        path = tmp_path / name
        back = pd.read_parquet(path) if name.endswith("parquet") else pd.read_csv(path, encoding="utf-8-sig")
        assert len(back) == 0 and list(back.columns) == [*output_columns(KIND), "run_id"]


def test_a_run_with_no_rows_writes_the_header_only(bundled, tmp_path):
    engine = DockingEngine(with_enterprises(bundled, random_enterprises(bundled, 30, seed=37)))
    summary = engine.suggest(KIND, 5, min_score=99.0, out=tmp_path / "none.csv", extra_columns={"run_id": "r"})
    back = pd.read_csv(tmp_path / "none.csv", encoding="utf-8-sig")
    assert summary["rows"] == len(back) == 0 and list(back.columns) == [*output_columns(KIND), "run_id"]


def test_nearest_ties_at_one_address_are_broken_by_id(bundled):
    """Regression (review): firms geocoded to the same few addresses are equally near; the k-d tree
    returned an arbitrary few of those at the cut, not the lowest ids the ranking rule promises."""
    table = random_enterprises(bundled, 300, seed=11)
    table["lat"] = 30.0 + (np.arange(len(table)) % 3) * 0.01  # three addresses, about 1.1 km apart
    table["lon"] = 120.0
    E = prepare(with_enterprises(bundled, table), (ENTERPRISE,))
    for focal in (0, 17, 150, 299):
        f, p, _ = C.NearestRule().pairs(E, np.array([focal]), {"neighbours": 8})
        adjacent = np.array([q for q in range(len(E)) if q != focal and (
            ((E.need[focal] >= C.DEFAULT_MIN_NEED) & (E.stages[q] > 0)).any()
            or ((E.stages[focal] > 0) & (E.need[q] >= C.DEFAULT_MIN_NEED)).any())])
        km = np.round(G.haversine_km(E.lat[focal], E.lon[focal], E.lat[adjacent], E.lon[adjacent]), 6)
        assert p.tolist() == adjacent[np.lexsort((adjacent, km))][:8].tolist(), focal
