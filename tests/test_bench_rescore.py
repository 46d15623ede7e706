"""Correctness of the re-scoring benchmark (the timing itself is printed by `python -m matcher bench`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path


def _load():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_rescore.py"
    spec = importlib.util.spec_from_file_location("bench_rescore", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rescore_benchmark_measures_every_bundled_kind():
    r = _load().measure(repeats=3, seed=1)
    assert set(r["pairs"]) == {"east_west", "cluster_market", "cluster_cluster", "peer_learning"}
    assert r["total_pairs"] == sum(r["pairs"].values()) > 10_000
    assert r["rescore_median_ms"] > 0 and r["rescore_max_ms"] >= r["rescore_median_ms"]
