"""The docking pipeline on a real Dask LocalCluster (``backend="dask"``) gives the rows, order and scores
of the in-process backends (``memory`` and ``blocks``), with the weighted preset and a learned scorer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matcher.docking import candidates as C
from matcher.docking import search
from matcher.docking.engine import DockingEngine
from matcher.exceptions import MatcherError
from matcher.ingest.dataset import load_dataset
from matcher.ingest.synth import write_synthetic_dataset
from matcher.learning.learn import LearnedScorer, labelled_pairs, simulate_outcomes

KIND = "enterprise"


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synth3000")
    write_synthetic_dataset(folder, 3000, 7)
    return folder, load_dataset(folder)


@pytest.fixture(scope="module")
def engine(synthetic):
    return DockingEngine(synthetic[1])


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as local:
        yield local


@pytest.fixture(scope="module")
def learned(engine):
    """A scorer learned from simulated outcomes of the enterprise candidates (not the preset)."""
    data = labelled_pairs(engine, KIND, simulate_outcomes(engine, KIND, n_pairs=400, seed=5))
    scorer = LearnedScorer(kind=KIND).fit(data.X, data.y)
    assert not scorer.fallback_
    return scorer


def in_id_order(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["left_id", "rank"], kind="stable", ignore_index=True)


@pytest.mark.parametrize("scoring", ["weighted preset", "learned"])
def test_dask_gives_identical_rows_to_memory_and_blocks(engine, cluster, learned, scoring):
    scorer = learned if scoring == "learned" else None
    memory = engine.suggest(KIND, 20, scorer=scorer, backend="memory")
    local = engine.suggest(KIND, 20, scorer=scorer, block_size=400)
    remote = engine.suggest(KIND, 20, scorer=scorer, block_size=400, scheduler=cluster.scheduler_address)
    assert local["left_id"].nunique() > 2900 and len(local) > 2900 * 15
    assert (scoring == "learned") == ("c_baseline" in remote.columns)
    for other in (local, remote):
        pd.testing.assert_frame_equal(in_id_order(memory), in_id_order(other), check_exact=True)
        pd.testing.assert_frame_equal(memory.attrs["report"], other.attrs["report"])
    # the whole list is ranked: per enterprise, score descending then partner id ascending
    again = remote.sort_values(["left_id", "score", "right_id"], ascending=[True, False, True], kind="stable")
    assert (again.index == remote.index).all()
    assert (remote.groupby("left_id")["rank"].max() <= 20).all()


def test_the_learned_scorer_ranks_otherwise_than_the_preset(engine, learned):
    """The comparison above is not vacuous: its two scorers give different lists."""
    weighted = engine.suggest(KIND, 5)
    other = engine.suggest(KIND, 5, scorer=learned)
    assert (weighted["right_id"].to_numpy() != other["right_id"].to_numpy()).mean() > 0.1


def test_a_cluster_kind_on_dask_gives_the_memory_rows(cluster):
    engine = DockingEngine(load_dataset())
    memory = engine.suggest("east_west", 6)
    remote = engine.suggest("east_west", 6, backend="dask", scheduler=cluster.scheduler_address, block_size=30)
    pd.testing.assert_frame_equal(in_id_order(memory), in_id_order(remote), check_exact=True)


def test_dask_backend_with_a_client_and_csv_output(engine, cluster, tmp_path):
    from distributed import Client

    with Client(cluster.scheduler_address) as client:
        remote = engine.suggest(KIND, 5, backend="dask", out=tmp_path / "dask.csv", block_size=700)
        assert client.scheduler_info()["workers"]  # the blocks ran on the cluster's workers
    local = engine.suggest(KIND, 5, out=tmp_path / "local.csv", block_size=700)
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert remote["rows"] == local["rows"] and remote["candidates"] == local["candidates"]
    assert local["candidates"] <= 3000 * (50 + 10)
    assert remote["report"].equals(local["report"])


def test_the_cli_on_a_scheduler_warms_the_workers_and_writes_the_local_rows(synthetic, cluster, tmp_path):
    """``suggest --scheduler``: the workers import the pipeline while the data loads (their first block
    no longer pays for it) and the file is the in-process run's, byte for byte."""
    from distributed import Client

    from matcher.cli import main
    from matcher.docking import backends

    with Client(cluster.scheduler_address) as client:
        warmed = backends.warm_up(client)
        assert len(warmed) == 2 and all(f.result() for f in warmed)
        assert all(client.run(lambda: "matcher.docking.job" in __import__("sys").modules).values())
    folder = str(synthetic[0])
    assert main(["suggest", "--kind", KIND, "--data", folder, "--top", "5", "--block-size", "700",
                 "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "dask.parquet")]) == 0
    assert main(["suggest", "--kind", KIND, "--data", folder, "--top", "5", "--block-size", "700",
                 "--out", str(tmp_path / "local.parquet")]) == 0
    dask, local = pd.read_parquet(tmp_path / "dask.parquet"), pd.read_parquet(tmp_path / "local.parquet")
    pd.testing.assert_frame_equal(dask.drop(columns="run_id"), local.drop(columns="run_id"), check_exact=True)


def test_dask_without_a_scheduler_or_client_is_a_clear_error(engine):
    from distributed import get_client

    with pytest.raises(ValueError):
        get_client()  # no client of an earlier test is still current
    with pytest.raises(MatcherError, match="needs a scheduler"):
        engine.suggest(KIND, 5, backend="dask")


def test_unreachable_scheduler_is_a_clear_error(engine):
    with pytest.raises(MatcherError, match="cannot reach the Dask scheduler"):
        engine.suggest(KIND, 5, scheduler="tcp://127.0.0.1:9")


def test_candidates_of_synthetic_registry_are_bounded(engine):
    E = engine.entities(KIND)
    trees = search.stage_trees(E.stages, E.need, E.lat, E.lon, np.arange(len(E)), C.DEFAULT_MIN_NEED)
    f, _, _ = search.candidate_pairs(E.stages, E.need, E.lat, E.lon, trees, np.arange(len(E)), 50)
    assert len(f) <= len(E) * 50 and np.bincount(f).max() <= 50


def test_scale_benchmark_runs_both_backends_and_checks_the_cross_join(tmp_path):
    """The benchmark's own checks on a small size (the figures come from `python -m matcher bench`)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, str(root / "benchmarks" / "bench_scale.py"), "--sizes", "1500", "--dask",
                           "--cross-join", "300", "--formulations", "1500", "--cache", str(tmp_path)], cwd=root, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    in_process = [x for x in lines if "1,500 enterprises, in process" in x]
    on_dask = [x for x in lines if "1,500 enterprises, dask" in x]
    assert len(in_process) == len(on_dask) == 1
    # both backends report the same candidate count (bounded by 1,500 x (50 + 10))
    pairs = {x.split("wall, ")[1].split(" candidate")[0] for x in in_process + on_dask}
    assert len(pairs) == 1 and 0 < int(pairs.pop().replace(",", "")) <= 1500 * 60
    assert any("same top 20: True" in x for x in lines)
    # the same scoring and top K in DuckDB SQL and pandas, from the same inputs, identical
    assert any("identical top 20: DuckDB True, pandas True" in x for x in lines), lines
    assert any("Dask (cluster start included) / in process" in x for x in lines), lines
    # the learned scorer (learn --simulate) ranks the same lists, timed against the weighted one
    assert len([x for x in lines if "1,500 enterprises, learned" in x]) == 1, lines
    assert any("learned scorer / weighted scorer:" in x for x in lines), lines
    # where the time went, on every run: every stage of the pipeline named with its seconds
    splits = [x for x in lines if x.strip().startswith("seconds by stage:")]
    assert len(splits) == 3, lines
    for split in splits:
        named = dict(part.rsplit(" ", 1) for part in split.split(": ", 1)[1].split("; ")[0].split(", "))
        assert list(named) == ["load", "prepare", "candidates", "features", "scoring", "top_k", "reasons", "rows",
                               "writing", "waiting_for_writer"]
        assert all(float(v) >= 0 for v in named.values()) and float(named["candidates"]) > 0
    assert lines[-1] in ("RESULT PASS", "RESULT FAIL")  # 300 firms is too few for the 20x speed target


def test_scale_benchmark_runs_dask_workers_as_threads(tmp_path):
    """``--dask-workers threads``: both workers in one process (one copy of the entities), reached by the
    command over TCP like any scheduler; the same candidate count as in process."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, str(root / "benchmarks" / "bench_scale.py"), "--sizes", "1500", "--dask",
                           "--dask-workers", "threads", "--no-learned", "--cross-join", "0", "--formulations", "0",
                           "--cache", str(tmp_path)], cwd=root, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert any("2 workers as threads" in x for x in lines), lines
    runs = [x for x in lines if "1,500 enterprises, in process" in x or "1,500 enterprises, dask" in x]
    assert len(runs) == 2
    assert len({x.split("wall, ")[1].split(" candidate")[0] for x in runs}) == 1
