"""A fitted learned scorer ranks a registry through the one entry point, identically on every backend.

The scorer is fitted on simulated outcomes of a small synthetic registry (so it does not fall back to
the preset), then ranks the enterprises of a larger one (default 100,000) top 20 with
``DockingEngine.suggest(kind, scorer=learned)`` on the ``blocks`` backend, on a 2-worker Dask
``LocalCluster`` and, unless ``--no-memory``, in ``memory`` (one block of every firm). It prints each
backend's wall time, the preset's time on ``blocks`` for comparison, and whether every backend gave
the same rows (same ids, ranks, reasons, bit-identical scores).

    .venv/bin/python benchmarks/bench_learned.py [--enterprises 100000] [--seed 1] [--no-dask] [--no-memory]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matcher.docking.engine import DockingEngine  # noqa: E402
from matcher.docking.kinds import ENTERPRISE_DOCKING  # noqa: E402
from matcher.ingest.dataset import load_dataset  # noqa: E402
from matcher.learning.learn import LearnedScorer, labelled_pairs, simulate_outcomes  # noqa: E402

KIND = ENTERPRISE_DOCKING.name


def synthetic(folder: Path, n: int, seed: int) -> Path:
    if not (folder / "enterprises.csv").is_file():
        subprocess.run([sys.executable, "-m", "matcher", "synth", "--enterprises", str(n), "--seed", str(seed),
                        "--out", str(folder)], check=True, cwd=ROOT, capture_output=True)
    return folder


def fitted_scorer(folder: Path, seed: int) -> LearnedScorer:
    """A learned scorer fitted on simulated outcomes of a 3,000-firm registry (seeded)."""
    engine = DockingEngine(load_dataset(synthetic(folder, 3000, seed + 1)))
    outcomes = simulate_outcomes(engine, KIND, n_pairs=600, seed=seed)
    data = labelled_pairs(engine, KIND, outcomes)
    scorer = LearnedScorer(kind=KIND, random_state=seed).fit(data.X, data.y)
    if scorer.status().startswith("cold start"):
        raise SystemExit("the learned scorer fell back to the preset: nothing to compare")
    return scorer


def timed(label: str, run) -> tuple[pd.DataFrame, float]:
    started = time.perf_counter()
    frame = run()
    seconds = time.perf_counter() - started
    print(f"  {label:<28} {seconds:7.1f} s  {len(frame):,} rows", flush=True)
    return frame, seconds


def same_rows(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    try:
        pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_exact=True)
        return True
    except AssertionError as err:
        print("    differs:", str(err).splitlines()[0])
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--enterprises", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask LocalCluster")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory backend (one block of every firm)")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "matcher_bench_learned"))
    args = parser.parse_args()
    cache = Path(args.cache)
    print(f"fitting a learned scorer on simulated outcomes (seed {args.seed})", flush=True)
    scorer = fitted_scorer(cache / "fit", args.seed)
    print(f"  {scorer.status()}")
    data = load_dataset(synthetic(cache / f"n{args.enterprises}", args.enterprises, args.seed))
    print(f"{args.enterprises:,} enterprises, top 20, {KIND} kind")
    engine = DockingEngine(data)
    engine.entities(KIND)  # prepared once, outside the timings
    weighted, t_weighted = timed("preset, blocks", lambda: engine.suggest(KIND, 20, backend="blocks"))
    learned, t_learned = timed("learned, blocks", lambda: engine.suggest(KIND, 20, scorer=scorer, backend="blocks"))
    ok = not same_rows(weighted, learned)  # the learned scorer really ranks otherwise
    print(f"  learned differs from the preset: {'yes' if ok else 'NO'}")
    print(f"  learned / preset time: {t_learned / t_weighted:.2f}x")
    if not args.no_memory:
        memory, _ = timed("learned, memory", lambda: engine.suggest(KIND, 20, scorer=scorer, backend="memory"))
        same = same_rows(learned, memory)
        print(f"  memory == blocks: {'yes' if same else 'NO'}")
        ok &= same
    if not args.no_dask:
        from distributed import Client, LocalCluster

        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            dask, _ = timed("learned, dask (2 workers)", lambda: engine.suggest(KIND, 20, scorer=scorer,
                                                                              scheduler=client))
        same = same_rows(learned, dask)
        print(f"  dask == blocks: {'yes' if same else 'NO'}")
        ok &= same
    print("RESULT", "PASS" if ok else "FAIL")


if __name__ == "__main__":
    main()
