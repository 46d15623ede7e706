"""Enterprise scale: top-20 docking partners for 10k, 100k and 1M enterprises, and a naive cross join.

Targets (registry-speed issue, 2 cores / 24 GB; ``TARGETS`` and the ``MAX_`` constants below): 100k in
<= 6 s and 1M in <= 60 s, each <= 4 GB peak, wall clock of the whole ``suggest`` process; 1M at most 11x
the time of 100k; at 1M the Dask backend (cluster start included) at most 1.3x in process and a
learned scorer at most 1.2x the weighted one; the engine's scoring and top K faster than DuckDB SQL and
pandas from the same inputs, with identical rows; >= 20x faster than a pandas cross join on 2,000
enterprises with the same top K.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 10000,100000,1000000] [--dask] [--seed 1]

Each size runs the command line end to end (load, rank, explain, write the CSV) in a child process;
its wall time and peak resident memory (of the child, plus the Dask workers with --dask) are printed.
"In process" is the engine's ``blocks`` backend (the enterprise kind's default); "dask" the same
blocks on a local Dask cluster (``--scheduler``). Synthetic data sets are generated with
``python -m matcher synth`` into --cache (kept for re-runs).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from matcher.docking import backends, search  # noqa: E402
from matcher.docking import features as F  # noqa: E402
from matcher.docking import geo as G  # noqa: E402
from matcher.docking.candidates import DEFAULT_MIN_NEED, SimilarProductsRule  # noqa: E402
from matcher.docking.engine import DockingEngine  # noqa: E402
from matcher.docking.entities import Entities, prepare  # noqa: E402
from matcher.docking.kinds import ENTERPRISE_DOCKING  # noqa: E402
from matcher.docking.ranking import rank_within, top_k  # noqa: E402
from matcher.vocab import ENTERPRISE  # noqa: E402

KIND = ENTERPRISE_DOCKING.name

# --- the naive reference: a pandas cross join -----------------------------------------------

def cross_join_top_k(E: Entities, top: int = 20, neighbours: int | None = None, weights: dict | None = None,
                     product_neighbours: int | None = None, radius_km: float | None = None) -> pd.DataFrame:
    """Every ordered pair of enterprises in one DataFrame, the candidate rules and ranking applied
    by plain sorting and grouping: ``left_id, right_id, rank, score``. O(N^2) time and memory.

    ``E`` is ``matcher.docking.entities.prepare(dataset, (ENTERPRISE,))``; parameters not given are
    the enterprise kind's (presets file). Only the spatial order of the similar-products groups is
    taken from the engine's product index (``ProductIndex.z``, built here if needed): the window
    rule around it is written out below.
    """
    params = ENTERPRISE_DOCKING.params
    neighbours = params["neighbours"] if neighbours is None else neighbours
    product_neighbours = params["product_neighbours"] if product_neighbours is None else product_neighbours
    weights = ENTERPRISE_DOCKING.weights(weights)
    features = list(ENTERPRISE_DOCKING.features)
    min_need = DEFAULT_MIN_NEED
    n = len(E)
    left = pd.DataFrame({"li": np.arange(n)})
    pairs = left.merge(left.rename(columns={"li": "ri"}), how="cross")
    pairs = pairs[pairs["li"] != pairs["ri"]]
    li, ri = pairs["li"].to_numpy(), pairs["ri"].to_numpy()
    works_l, works_r = E.stages[li] > 0, E.stages[ri] > 0
    adjacent = ((works_r & (E.need[li] >= min_need)) | (works_l & (E.need[ri] >= min_need))).any(axis=1)
    pairs = pairs.assign(km=G.haversine_km(E.lat[li], E.lon[li], E.lat[ri], E.lon[ri]))
    pairs = pairs[adjacent].reset_index(drop=True)
    if radius_km is not None:
        pairs = pairs[pairs["km"] <= radius_km].reset_index(drop=True)
    # features of every pair of the cross join, then the rules
    li, ri = pairs["li"].to_numpy(), pairs["ri"].to_numpy()
    lr = F.supply(E, li, ri)[0]
    rl = F.supply(E, ri, li)[0]
    texts = E.texts[E.text_id]
    cos = np.empty(len(li), dtype=np.float32)
    for start in range(0, len(li), 200_000):
        part = slice(start, start + 200_000)
        cos[part] = np.asarray(texts[li[part]].multiply(texts[ri[part]]).sum(axis=1)).ravel()
    cos[(texts.getnnz(axis=1) == 0)[li] | (texts.getnnz(axis=1) == 0)[ri]] = np.nan
    pairs = pairs.assign(chain=np.maximum(lr, rl).astype(np.float32), cos=cos)
    # rule 1: the nearest `neighbours` chain-adjacent enterprises (with a known place), ties by id
    near = pairs[pairs["km"].notna()].sort_values(["li", "km", "ri"], kind="stable")
    near = near[near.groupby("li").cumcount() < neighbours]
    by_product = _similar_products(E, pairs, product_neighbours, params["similar_texts"],
                                   params["min_text_similarity"], min_need)
    chosen = pd.concat([near[["li", "ri"]], by_product[["li", "ri"]]]).drop_duplicates()
    pairs = pairs.merge(chosen, on=["li", "ri"]).sort_values(["li", "ri"], kind="stable")
    li, ri, cos = pairs["li"].to_numpy(), pairs["ri"].to_numpy(), pairs["cos"].to_numpy()
    hi = np.fmax(E.capacity[li], E.capacity[ri])
    with np.errstate(invalid="ignore", divide="ignore"):
        capacity = np.where(hi > 0, np.fmin(E.capacity[li], E.capacity[ri]) / hi, np.nan)
    cl, cr = E.cluster[li], E.cluster[ri]
    feats = pd.DataFrame({
        "chain": pairs["chain"].to_numpy(),
        "product": F.saturate(cos),
        "distance": G.distance_decay(pairs["km"].to_numpy().astype(np.float32), params["distance_scale_km"]),
        "capacity": capacity.astype(np.float32),
        "same_cluster": np.where((cl >= 0) & (cr >= 0), (cl == cr), np.nan).astype(np.float32),
    })
    values = feats[features].to_numpy(dtype=np.float64)
    w = np.array([weights.get(f, 0.0) for f in features])
    w = w / w.sum()  # a score is the weighted mean (weights as shares of their total)
    out = pd.DataFrame({"left_id": E.ids[li], "right_id": E.ids[ri],
                        "score": (np.nan_to_num(values, nan=0.0) * w).sum(axis=1)})
    out = out.sort_values(["left_id", "score", "right_id"], ascending=[True, False, True], kind="stable")
    out["rank"] = out.groupby("left_id").cumcount() + 1
    return out[out["rank"] <= top].reset_index(drop=True)[["left_id", "right_id", "rank", "score"]]


def _similar_products(E, pairs: pd.DataFrame, k: int, similar: int, min_similarity: float,
                      min_need: float) -> pd.DataFrame:
    """Rule 2 on the cross join, written out step by step: for each text the ``similar`` most similar
    texts held by enterprises (cosine >= min_similarity, sharing a term held by at most
    ``search.MAX_TERM_TEXTS`` texts; itself always); for each of those and each (role, stage) group the
    focal asks for, the ``2 x search.WINDOW`` members around its place in the group's (Z-order, id)
    sequence; then the ``k`` best by cosine, distance (unknown last), id. ``pairs`` holds the
    chain-adjacent pairs (within the radius, if any) with their ``km``."""
    if k < 1:
        return pairs.iloc[:0]
    # similar texts: every pair of distinct texts, similarity over the terms held by at most
    # search.MAX_TERM_TEXTS texts (one sparse product of the whole matrix); itself first, with 1
    nonempty = E.texts.getnnz(axis=1) > 0
    held = np.unique(E.text_id[nonempty[E.text_id]])
    rare = E.texts[:, np.flatnonzero(E.texts.getnnz(axis=0) <= search.MAX_TERM_TEXTS)]
    everything = (rare @ rare.T).toarray()
    texts = pd.DataFrame({"t": np.flatnonzero(nonempty)}).merge(pd.DataFrame({"t2": held}), how="cross")
    ta, tb = texts["t"].to_numpy(), texts["t2"].to_numpy()
    texts = texts.assign(cos=np.where(ta == tb, np.float32(1), everything[ta, tb]), own=ta == tb)
    texts = texts[texts["own"] | (texts["cos"] >= min_similarity)]
    texts = texts.sort_values(["t", "own", "cos", "t2"], ascending=[True, False, False, True], kind="stable")
    texts = texts[texts.groupby("t").cumcount() < similar]
    # groups: role 0 = works in stage s (asked for by a focal needing s), role 1 = needs s
    has = np.c_[E.stages > 0, E.need >= min_need]
    asks = np.c_[E.need >= min_need, E.stages > 0]
    z = _product_index(E).z
    members = pd.DataFrame([(j, E.text_id[e], e, z[e]) for e in range(len(E)) if nonempty[E.text_id[e]]
                            for j in np.flatnonzero(has[e])], columns=["j", "t2", "ri", "z"])
    members = members.sort_values(["j", "t2", "z", "ri"], kind="stable")
    members["place"] = members.groupby(["j", "t2"]).cumcount()
    members["size"] = members.groupby(["j", "t2"])["ri"].transform("size")
    focal = pd.DataFrame([(e, E.text_id[e], j, z[e]) for e in range(len(E)) for j in np.flatnonzero(asks[e])],
                         columns=["li", "t", "j", "zf"])
    rows = focal.merge(texts, on="t").merge(members, on=["j", "t2"])
    rows["before"] = (rows["z"] < rows["zf"]).astype(int)
    pos = rows.groupby(["li", "j", "t2"])["before"].transform("sum")
    start = np.clip(pos - search.WINDOW, 0, np.maximum(0, rows["size"] - 2 * search.WINDOW))
    rows = rows[(rows["place"] >= start) & (rows["place"] < start + 2 * search.WINDOW) & (rows["li"] != rows["ri"])]
    rows = rows.merge(pairs[["li", "ri", "km"]], on=["li", "ri"])
    rows = rows.assign(far=rows["km"].fillna(np.inf)).drop_duplicates(["li", "ri"])
    rows = rows.sort_values(["li", "cos", "far", "ri"], ascending=[True, False, True, True], kind="stable")
    return rows[rows.groupby("li").cumcount() < k]


def _product_index(E) -> search.ProductIndex:
    """The engine's similar-products index of ``E`` (built once and kept in ``E.indexes``)."""
    rule = SimilarProductsRule()
    return E.indexes[rule.prepare(E, ENTERPRISE_DOCKING.params)]


def compare_cross_join(dataset, n: int = 2000, top: int = 20) -> dict:
    """Time the engine (blocks backend) and the cross join on the first ``n`` enterprises (best of 3 each);
    check they give the same top K."""
    from matcher.ingest.dataset import Dataset

    small = Dataset(dataset.clusters, dataset.markets, dataset.enterprises.iloc[:n].reset_index(drop=True),
                    dataset.chain_links, dataset.policies, dataset.name, dataset.version)
    # best of 3 for each (as timeit does): a 0.2 s measurement on a shared machine is noisy
    fast_s = naive_s = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        fast = DockingEngine(small).suggest(KIND, top)  # the kind's default backend: blocks
        fast_s = min(fast_s, time.perf_counter() - t0)
        t0 = time.perf_counter()
        E = prepare(small, (ENTERPRISE,))
        naive = cross_join_top_k(E, top)
        naive_s = min(naive_s, time.perf_counter() - t0)
    got = fast[["left_id", "right_id", "rank", "score"]].reset_index(drop=True)
    same = (len(got) == len(naive)
            and (got["left_id"].to_numpy() == naive["left_id"].to_numpy()).all()
            and (got["right_id"].to_numpy() == naive["right_id"].to_numpy()).all()
            and (got["rank"].to_numpy() == naive["rank"].to_numpy()).all()
            and np.array_equal(got["score"].to_numpy(), naive["score"].to_numpy()))
    return {"n": n, "fast_s": fast_s, "naive_s": naive_s, "ratio": naive_s / fast_s, "same_top_k": bool(same),
            "rows": len(got)}


#: Targets of the registry-speed issue: wall seconds and peak GB of the whole ``suggest`` process.
TARGETS = {100_000: (6, 4), 1_000_000: (60, 4)}
MAX_GROWTH = 11.0
#: The learned scorer at scale: at most 20 % more time than the weighted one.
MAX_LEARNED_RATIO = 1.2
MAX_DASK_RATIO = 1.3
DASK_RATIO_FROM = 1_000_000  # the size from which the Dask ratio is judged


def ranking_inputs(dataset, top: int = 20) -> tuple:
    """The candidate rows of every enterprise list (the one pipeline's blocks) as one Arrow table:
    ``focal``, ``partner`` (positions = id order) and the kind's float32 features, sorted by focal
    then partner; and the scorer. What scoring and top K start from, in every formulation below."""
    import pyarrow as pa

    from matcher.docking.job import block_features

    engine = DockingEngine(dataset)
    E = engine.entities(KIND)
    params = engine.params(KIND)
    focal = engine.listed(KIND)
    listed = np.zeros(len(E), bool)
    listed[focal] = True
    parts = []
    for block in backends.make_blocks(focal, backends.DEFAULT_BLOCK_SIZE, E.lat, E.lon):
        bf = block_features(KIND, E, block, params, listed)
        cand, X = bf.candidates, bf.X
        rows = np.flatnonzero(listed[cand.focal])
        parts.append(pa.table({"focal": cand.focal[rows], "partner": cand.partner[rows],
                               **{f: X[f].to_numpy()[cand.row_pair[rows]] for f in X.columns}}))
    table = pa.concat_tables(parts).sort_by([("focal", "ascending"), ("partner", "ascending")])
    return table.combine_chunks(), engine.scorer(KIND)


def top_k_ours(table, scorer, top: int) -> pd.DataFrame:
    """The engine's scoring and top-K rule (``WeightedScorer.predict``, ``ranking.top_k``)."""
    X = table.drop(["focal", "partner"]).to_pandas()
    focal, partner = table["focal"].to_numpy(), table["partner"].to_numpy()
    score = scorer.predict(X)
    pick = top_k(focal, partner, score, top)
    return pd.DataFrame({"focal": focal[pick], "partner": partner[pick], "rank": rank_within(focal[pick]) + 1,
                         "score": score[pick]})


def _sql_score(scorer) -> str:
    """The weighted mean as SQL arithmetic in the engine's order: unknown (NaN) counts 0, float32
    features widened to double, products summed left to right (numpy sums 5 values in order)."""
    terms = [f"(CASE WHEN isnan({f}) THEN 0.0::DOUBLE ELSE {f}::DOUBLE END * {float(w)!r}::DOUBLE)"
             for f, w in zip(scorer.feature_names_in_, scorer.weights_, strict=True)]
    return " + ".join(terms)


def top_k_duckdb(table, scorer, top: int, threads: int = 2) -> pd.DataFrame:
    """The same scoring and top K in DuckDB SQL: arithmetic, then ``QUALIFY row_number() ...``."""
    import duckdb

    con = duckdb.connect()
    con.execute(f"SET threads = {int(threads)}")
    con.register("pairs", table)
    out = con.sql(f"""
        SELECT focal, partner, score,
               row_number() OVER (PARTITION BY focal ORDER BY score DESC, partner) AS rank
        FROM (SELECT focal, partner, {_sql_score(scorer)} AS score FROM pairs)
        QUALIFY rank <= {int(top)}
        ORDER BY focal, rank""").to_arrow_table()
    con.close()
    return out.to_pandas()[["focal", "partner", "rank", "score"]]


def top_k_pandas(table, scorer, top: int) -> pd.DataFrame:
    """The same in pandas: the score column, a sort by (focal, score desc, partner), a per-focal count."""
    frame = table.to_pandas()
    values = frame[list(scorer.feature_names_in_)].to_numpy(dtype=np.float64)
    frame["score"] = (np.nan_to_num(values, nan=0.0) * scorer.weights_).sum(axis=1)
    frame = frame.sort_values(["focal", "score", "partner"], ascending=[True, False, True], kind="stable")
    frame["rank"] = frame.groupby("focal").cumcount() + 1
    return frame[frame["rank"] <= top][["focal", "partner", "rank", "score"]]


def same_rows(a: pd.DataFrame, b: pd.DataFrame) -> bool:
    """Same rows in the same order, bit-identical scores."""
    return (len(a) == len(b) and all(np.array_equal(a[c].to_numpy(), b[c].to_numpy())
                                     for c in ("focal", "partner", "rank", "score")))


def compare_formulations(dataset, top: int = 20, repeat: int = 3) -> dict:
    """Scoring and top K of every list from the same Arrow inputs: the engine, DuckDB (2 threads) and
    pandas, best of ``repeat`` each; the top K must be identical."""
    table, scorer = ranking_inputs(dataset, top)
    seconds, results = {}, {}
    for name, run in (("engine", top_k_ours), ("duckdb", top_k_duckdb), ("pandas", top_k_pandas)):
        best = float("inf")
        for _ in range(repeat):
            t0 = time.perf_counter()
            results[name] = run(table, scorer, top)
            best = min(best, time.perf_counter() - t0)
        seconds[name] = best
    return {"rows_in": table.num_rows, "rows_out": len(results["engine"]), "seconds": seconds,
            "same_duckdb": same_rows(results["engine"], results["duckdb"]),
            "same_pandas": same_rows(results["engine"], results["pandas"])}


# --- end-to-end runs of the command line -------------------------------------------------------

def cli_command(data: Path, out: Path, top: int, scheduler: str | None, model: Path | None = None) -> list[str]:
    """The planner's command: ``python -m matcher suggest --kind enterprise ...``."""
    cmd = [sys.executable, "-m", "matcher", "suggest", "--kind", KIND, "--data", str(data),
           "--top", str(top), "--out", str(out)]
    return cmd + (["--scheduler", scheduler] if scheduler else []) + (["--model", str(model)] if model else [])


def learned_model(cache: Path, seed: int, n: int = 10_000, outcomes: int = 2000) -> Path:
    """A scorer learned (``python -m matcher learn --simulate``) from simulated outcomes of ``n`` firms:
    a logistic model with an intercept, ranked like any scorer (synthetic outcomes, for timing only)."""
    model = cache / f"learned_{n}_seed{seed}.json"
    subprocess.run([sys.executable, "-m", "matcher", "learn", "--kind", KIND, "--data", str(ensure_data(cache, n, seed)),
                    "--simulate", str(outcomes), "--seed", str(seed), "--out", str(model)],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return model


def _tree_rss(pids: list[int]) -> int:
    import psutil

    total = 0
    for pid in pids:
        try:
            total += psutil.Process(pid).memory_info().rss
        except psutil.Error:
            pass
    return total


def run_cli(cmd: list[str], extra_pids: list[int] | None = None) -> dict:
    """Wall time and peak RSS of a child process (plus ``extra_pids``, sampled every 0.2 s)."""
    import psutil

    started = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = [0]
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            pids = [child.pid]
            try:
                pids += [p.pid for p in psutil.Process(child.pid).children(recursive=True)]
            except psutil.Error:
                pass
            peak[0] = max(peak[0], _tree_rss(pids + list(extra_pids or [])))
            stop.wait(0.2)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    _, status, usage = os.wait4(child.pid, 0)
    stop.set()
    thread.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    err = child.stderr.read()
    seconds = time.perf_counter() - started
    if child.returncode:
        raise SystemExit(f"command failed ({child.returncode}): {' '.join(cmd)}\n{err}")
    # ru_maxrss (KB on Linux) is exact for the child; the sampled peak adds Dask workers
    return {"seconds": seconds, "peak_bytes": max(usage.ru_maxrss * 1024, peak[0]), "log": err}


def stage_split(log: str) -> dict[str, float]:
    """The command's "seconds by stage" line (load, prepare, candidates, features, scoring, top_k,
    reasons, rows, writing, waiting_for_writer) as a dict; empty when it printed none."""
    found = re.search(r"seconds by stage: (.*)", log)
    if not found:
        return {}
    return {name: float(value) for name, value in (part.rsplit(" ", 1) for part in found.group(1).split(", "))}


def split_wall(log: str) -> float:
    """Seconds from the command's first progress line to its last (the time after start-up)."""
    stamps = [float(s) for s in re.findall(r"^\[\s*([\d.]+)s\]", log, re.M)]
    return stamps[-1] if stamps else 0.0


def ensure_data(cache: Path, n: int, seed: int) -> Path:
    folder = cache / f"enterprises_{n}_seed{seed}"
    if not (folder / "enterprises.csv").is_file():
        subprocess.run([sys.executable, "-m", "matcher", "synth", "--enterprises", str(n), "--seed", str(seed),
                        "--out", str(folder), "--force"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return folder


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GB RAM, Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated enterprise counts")
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--dask-workers", choices=("processes", "threads"), default="processes",
                        help="the Dask LocalCluster's 2 workers as processes (default) or as threads of this "
                        "process (one copy of the entities for both, no pickling between them; TCP to the command)")
    parser.add_argument("--dask", action="store_true", help="also run each size on a local Dask cluster "
                        "(2 worker processes, 1 thread each)")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv",
                        help="output file type of the command (default csv)")
    parser.add_argument("--learned", action=argparse.BooleanOptionalAction, default=True,
                        help="also rank the largest size with a learned scorer (learn --simulate) and compare "
                        "its time with the weighted run (default on)")
    parser.add_argument("--cross-join", type=int, default=2000, help="enterprises in the naive comparison (0: skip)")
    parser.add_argument("--formulations", type=int, default=100_000, metavar="N",
                        help="enterprises whose scoring and top K are also run in DuckDB SQL and pandas (0: skip)")
    parser.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "matcher_bench_scale"))
    # `python -m matcher bench --only scale -- --sizes ...` passes the "--" through
    args = parser.parse_args([a for a in sys.argv[1:] if a != "--"])
    sizes = [int(s) for s in args.sizes.split(",") if s]
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at start; output .{args.format}")
    ok = True
    cluster = None
    cluster_start = 0.0
    timings = {}

    def run_size(n: int, label: str, address: str | None, model: Path | None = None) -> None:
        nonlocal ok
        data = ensure_data(cache, n, args.seed)
        out = cache / f"suggestions_{n}.{args.format}"
        threads = args.dask_workers == "threads"
        # thread workers live in this process: its RSS is theirs (and the benchmark's, a few hundred MB)
        worker_pids = ([os.getpid()] if threads else [w.process.pid for w in cluster.workers.values()]) \
            if address else []
        r = run_cli(cli_command(data, out, args.top, address, model), worker_pids)
        size = out.stat().st_size
        out.unlink(missing_ok=True)
        rows = n * args.top
        timings[n, label] = r["seconds"]
        found = re.search(r"([\d,]+) candidate pairs", r["log"])
        pairs = int(found.group(1).replace(",", "")) if found else n * 50
        print(f"  {n:>9,d} enterprises, {label:10s}: {r['seconds']:7.1f} s wall, "
              f"{pairs:,} candidate pairs, {pairs / r['seconds']:>9,.0f} scored/s end to end, "
              f"peak RSS {r['peak_bytes'] / 2**30:5.2f} GB, ~{rows:,} rows written ({size / 2**30:.2f} GB)",
              flush=True)
        split = stage_split(r["log"])
        if split:
            blocks = sum(v for k, v in split.items() if k not in ("load", "prepare", "writing",
                                                                  "waiting_for_writer"))
            print("    seconds by stage: " + ", ".join(f"{k} {v:.2f}" if v < 0.1 else f"{k} {v:.1f}" for k, v in split.items())
                  + f"; start-up and exit {r['seconds'] - split_wall(r['log']):.1f} (the block stages add up to "
                  f"{blocks:.1f} s over all workers; writing runs on its own thread, beside the ranking)", flush=True)
        target = TARGETS.get(n) if address is None and model is None else None
        if target and (r["seconds"] > target[0] or r["peak_bytes"] > target[1] * 2**30):
            print(f"    over target ({target[0]} s, {target[1]} GB)")
            ok = False

    try:
        # every size in process first, with no Dask cluster alive (its idle processes take CPU
        # from the 2 cores); then the cluster and every size on it
        for n in sizes:
            run_size(n, "in process", None)
        if args.learned and sizes:
            n = max(sizes)
            run_size(n, "learned", None, learned_model(cache, args.seed, min(10_000, min(sizes))))
            ratio = timings[n, "learned"] / timings[n, "in process"]
            print(f"  {n:,} enterprises: learned scorer / weighted scorer: {ratio:.2f}x (target <= {MAX_LEARNED_RATIO:g}x)")
            ok &= ratio <= MAX_LEARNED_RATIO
        if args.dask:
            from distributed import LocalCluster

            started = time.perf_counter()
            threads = args.dask_workers == "threads"
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=not threads,
                                   protocol="tcp://", dashboard_address=None)
            cluster_start = time.perf_counter() - started
            print(f"  Dask LocalCluster (2 workers as {args.dask_workers}) started in {cluster_start:.1f} s", flush=True)
            for n in sizes:
                run_size(n, "dask", cluster.scheduler_address)
            cluster.close()  # before the cross join: its idle workers still hold the last data set
            cluster = None
        if (100_000, "in process") in timings and (1_000_000, "in process") in timings:
            growth = timings[1_000_000, "in process"] / timings[100_000, "in process"]
            print(f"  1M / 100k time ratio: {growth:.1f}x (target <= {MAX_GROWTH:g}x)")
            ok &= growth <= MAX_GROWTH
        for n in sizes:
            if (n, "dask") in timings and (n, "in process") in timings:
                ratio = (timings[n, "dask"] + cluster_start) / timings[n, "in process"]
                # the target is set at 1M (the registry-speed issue); below, the cluster's start and
                # the copies of the entities are a larger share, so the ratio is shown, not judged
                judged = n >= DASK_RATIO_FROM
                print(f"  {n:,} enterprises: Dask (cluster start included) / in process: {ratio:.2f}x "
                      + (f"(target <= {MAX_DASK_RATIO:g}x)" if judged else f"(no target below {DASK_RATIO_FROM:,})"))
                ok &= ratio <= MAX_DASK_RATIO or not judged
        if args.formulations:
            from matcher.ingest.dataset import load_dataset

            n = args.formulations
            c = compare_formulations(load_dataset(ensure_data(cache, n, args.seed)), args.top)
            t = c["seconds"]
            print(f"  scoring and top {args.top} of {n:,} lists from the same Arrow inputs ({c['rows_in']:,} candidate "
                  f"rows -> {c['rows_out']:,}): engine {t['engine']:.2f} s, DuckDB SQL (2 threads) {t['duckdb']:.2f} s, "
                  f"pandas {t['pandas']:.2f} s; identical top {args.top}: DuckDB {c['same_duckdb']}, "
                  f"pandas {c['same_pandas']}", flush=True)
            ok &= c["same_duckdb"] and c["same_pandas"] and t["engine"] < min(t["duckdb"], t["pandas"])
        if args.cross_join:
            from matcher.ingest.dataset import load_dataset

            dataset = load_dataset(ensure_data(cache, max(args.cross_join, 10_000), args.seed))
            c = compare_cross_join(dataset, args.cross_join, args.top)
            print(f"  cross join on {c['n']:,} x {c['n']:,} enterprises: pandas {c['naive_s']:.2f} s, "
                  f"engine {c['fast_s']:.2f} s, {c['ratio']:.0f}x faster (target >= 20x); "
                  f"same top {args.top}: {c['same_top_k']} ({c['rows']:,} rows)")
            ok &= c["same_top_k"] and c["ratio"] >= 20
    finally:
        if cluster is not None:
            cluster.close()
    print("RESULT", "PASS" if ok else "FAIL")


if __name__ == "__main__":
    main()
