"""Correctness of the re-scoring benchmark (the timing itself is printed by `python -m matcher bench`)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load():
    path = ROOT / "benchmarks" / "bench_rescore.py"
    spec = importlib.util.spec_from_file_location("bench_rescore", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_rescore_benchmark_measures_every_bundled_kind():
    r = _load().measure(repeats=3, seed=1)
    kinds = {"east_west", "cluster_market", "cluster_cluster", "peer_learning"}
    assert set(r["pairs"]) == set(r["rerank_median_ms"]) == kinds
    assert r["total_pairs"] == sum(r["pairs"].values()) > 10_000
    assert r["rescore_median_ms"] > 0 and r["rescore_max_ms"] >= r["rescore_median_ms"]
    # features are built once per kind: three weight changes re-rank the cached ones
    assert r["feature_builds"] == len(kinds)
    for kind in kinds:
        assert 0 < r["rerank_median_ms"][kind] <= r["rerank_max_ms"][kind]
        assert 0 < r["rerank_rows"][kind] <= 10 * r["pairs"][kind]


def test_rescore_benchmark_prints_its_figures(capsys):
    assert _load().main(["--repeats", "2"]) == 0
    out = capsys.readouterr().out
    assert "re-score all kinds (engine.score): median" in out
    assert "east_west" in out and "ranked + explained top-10 lists" in out
    assert out.splitlines()[-1] in ("RESULT PASS", "RESULT FAIL")


def test_bench_command_runs_the_rescore_benchmark():
    """`python -m matcher bench --only rescore -- --repeats 2`: the CLI passes its arguments through."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "matcher", "bench", "--only", "rescore", "--", "--repeats", "2"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("== rescore") and "over 2 weight changes" in done.stdout
