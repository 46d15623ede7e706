"""The enterprise scale job on a real Dask LocalCluster gives the in-process rows, order and scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from matcher.docking import scale
from matcher.exceptions import MatcherError
from matcher.ingest.dataset import load_dataset
from matcher.ingest.synth import write_synthetic_dataset


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    folder = tmp_path_factory.mktemp("synth3000")
    write_synthetic_dataset(folder, 3000, 7)
    return folder, load_dataset(folder)


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as local:
        yield local


def test_dask_gives_identical_results(synthetic, cluster):
    _, data = synthetic
    local = scale.suggest_enterprises(data, 20, block_size=400)
    remote = scale.suggest_enterprises(data, 20, block_size=400, scheduler=cluster.scheduler_address)
    assert local["left_id"].nunique() > 2900 and len(local) > 2900 * 15
    pd.testing.assert_frame_equal(local, remote, check_exact=True)
    # the whole list is ranked: per enterprise, score descending then partner id ascending
    again = local.sort_values(["left_id", "score", "right_id"], ascending=[True, False, True], kind="stable")
    assert (again.index == local.index).all()
    assert (local.groupby("left_id")["rank"].max() <= 20).all()


def test_dask_backend_with_a_client_and_csv_output(synthetic, cluster, tmp_path):
    from distributed import Client

    _, data = synthetic
    with Client(cluster.scheduler_address) as client:
        remote = scale.suggest_enterprises(data, 5, backend="dask", out=tmp_path / "dask.csv", block_size=700)
        assert client.scheduler_info()["workers"]  # the blocks ran on the cluster's workers
    local = scale.suggest_enterprises(data, 5, out=tmp_path / "local.csv", block_size=700)
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    assert remote["rows"] == local["rows"] and remote["candidates"] == local["candidates"]
    assert local["candidates"] <= 3000 * (50 + 10)
    assert remote["report"].equals(local["report"])


def test_unreachable_scheduler_is_a_clear_error(synthetic):
    _, data = synthetic
    with pytest.raises(MatcherError, match="cannot reach the Dask scheduler"):
        scale.suggest_enterprises(data, 5, scheduler="tcp://127.0.0.1:9")


def test_candidates_of_synthetic_registry_are_bounded(synthetic):
    _, data = synthetic
    A = scale.prepare_enterprises(data)
    f, _, _ = scale.candidate_pairs(A.stages, A.need, A.lat, A.lon, A.trees, np.arange(len(A)), 50)
    assert len(f) <= len(A) * 50 and np.bincount(f).max() <= 50


def test_scale_benchmark_runs_both_backends_and_checks_the_cross_join(tmp_path):
    """The benchmark's own checks on a small size (the figures come from `python -m matcher bench`)."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, str(root / "benchmarks" / "bench_scale.py"), "--sizes", "1500", "--dask",
                           "--cross-join", "300", "--cache", str(tmp_path)], cwd=root, capture_output=True,
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
    assert lines[-1] in ("RESULT PASS", "RESULT FAIL")  # 300 firms is too few for the 20x speed target
