"""``python -m matcher suggest``: each entity's top K docking partners, ranked and explained."""

from __future__ import annotations

import argparse
import math
import sys
import time

from matcher.docking.backends import BACKENDS
from matcher.docking.kinds import KINDS
from matcher.exceptions import MatcherError

OUTPUT_TYPES = (".csv", ".xlsx", ".json", ".parquet")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "suggest",
        help="propose and explain docking pairs of one kind (top K partners per entity)",
        description="For each entity (or only --for ID), its top K docking partners of the chosen kind, "
        "with score, a one-line reason in Chinese and English, and per-feature value (f_), weight (w_) "
        "and contribution (c_) columns. Kinds: " + ", ".join(KINDS) + ".",
    )
    p.add_argument("--kind", required=True, choices=list(KINDS), help="docking kind")
    p.add_argument("--data", metavar="DIR", help="dataset folder with clusters.csv, markets.csv, enterprises.csv "
                   "(default: the bundled data)")
    p.add_argument("--top", type=int, default=10, metavar="K", help="partners per entity (default 10)")
    p.add_argument("--for", dest="for_id", metavar="ID", action="append",
                   help="only this entity's list (repeat for several)")
    p.add_argument("--weights", metavar="FILE", help="JSON weights {\"weights\": {feature: weight}} "
                   "overriding the preset's")
    p.add_argument("--preset", help="named weight preset of the kind (see docs/scoring.md)")
    p.add_argument("--model", metavar="MODEL.json", help="rank with a model learned from outcomes "
                   "(python -m matcher learn --out MODEL.json) instead of the weights")
    p.add_argument("--min-score", type=float, help="drop pairs scoring below this")
    p.add_argument("--report", action="store_true", help="also print the candidate rules' pair counts")
    p.add_argument("--backend", choices=BACKENDS,
                   help="where the job runs: memory (one block), blocks (bounded memory, in this process) or "
                   "dask (default: memory for the cluster kinds, blocks for enterprise); results are identical")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the blocks on this Dask scheduler (e.g. tcp://10.0.0.5:8786), implies --backend dask")
    p.add_argument("--block-size", type=int, default=20_000, metavar="N",
                   help="most entities ranked per block (blocks and dask backends); bounds memory (default 20000; "
                   "the blocks backend makes smaller blocks when that keeps both threads busy)")
    p.add_argument("--neighbours", type=int, metavar="N",
                   help="enterprise kind: nearest chain-adjacent candidates per enterprise (default 50)")
    p.add_argument("--product-neighbours", type=int, metavar="N",
                   help="enterprise kind: further candidates with the most similar products, anywhere "
                   "(default 10; 0 = off)")
    p.add_argument("--radius-km", type=float, metavar="KM",
                   help="enterprise kind: only partners within this distance")
    p.add_argument("--out", metavar="FILE", required=True, help="output file: .csv (UTF-8 with BOM), .xlsx, .json "
                   "or .parquet (registry-scale runs: a fraction of the CSV's size)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from matcher.docking.kinds import get_kind

    if not args.out.lower().endswith(OUTPUT_TYPES):
        raise MatcherError(f"--out {args.out}: use a .csv, .xlsx, .json or .parquet file")
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:5.1f}s] {message}", file=sys.stderr, flush=True)

    kind = get_kind(args.kind)
    client, warming = None, []
    if args.scheduler:
        from matcher.docking.backends import check_scheduler, connect, warm_up

        check_scheduler(args.scheduler)  # at once, not after the data is loaded
        client = connect(args.scheduler)
        warming = warm_up(client)  # the workers import the pipeline while the data loads here (kept until the end)
    try:
        return _run(args, kind, client, started, progress)
    finally:
        if client is not None:
            del warming
            client.close()


def _run(args: argparse.Namespace, kind, client, started: float, progress) -> int:
    from matcher.docking.engine import DockingEngine, new_run
    from matcher.docking.scoring import read_weights
    from matcher.ingest.dataset import load_dataset

    if args.model and (args.weights or args.preset):
        raise MatcherError("--model ranks with the learned model; leave out --weights and --preset")
    weights = read_weights(args.weights, kind, args.preset) if args.weights else None
    scorer = None
    if args.model:
        from matcher.learning.learn import load_model

        scorer = load_model(args.model, kind.name)
    # the settings are checked before the data is loaded (a registry takes a while)
    _check_min_score(args.min_score, learned=scorer is not None and not getattr(scorer, "fallback_", True))
    progress("loading data")
    loaded = time.perf_counter()
    dataset = load_dataset(args.data)
    loaded = time.perf_counter() - loaded
    if scorer is not None:
        progress(f"ranking with the model {args.model}: {scorer.status()}")
    engine = DockingEngine(dataset, progress=progress)
    run_weights = scorer.weights() if scorer is not None else engine.weights(kind, weights, args.preset)
    run_info = new_run(dataset, kind, run_weights, preset=args.preset)
    extra = {"run_id": run_info["run_id"], "data_version": run_info["data_version"]}
    options = {name: getattr(args, name) for name in ("neighbours", "product_neighbours", "radius_km")
               if getattr(args, name) is not None}
    for_id = [i.strip() for i in args.for_id] if args.for_id else args.for_id  # " C001 " as typed in a shell
    summary = engine.suggest(kind, top=args.top, for_id=for_id, weights=weights, preset=args.preset, scorer=scorer,
                             min_score=args.min_score, backend=args.backend, scheduler=client, block_size=args.block_size,
                             out=args.out, extra_columns=extra, metadata=run_info, **options)
    report = summary["report"]
    if args.report:
        print(report.to_string(index=False), file=sys.stderr)
    union = report.iloc[-1]
    progress(f"wrote {args.out}: {summary['entities']:,} entities, {summary['rows']:,} rows; "
             f"{int(union['pairs']):,} candidate pairs (reduction ratio {union['reduction_ratio']:.3f})")
    if summary.get("stages"):  # streamed runs: where the time went (block stages summed over blocks and workers)
        split = {"load": loaded, **summary["stages"]}
        progress("seconds by stage: " + ", ".join(f"{name} {seconds:.2f}" for name, seconds in split.items()))
    return 0


def _check_min_score(min_score: float | None, *, learned: bool) -> None:
    """Weighted scores are shares of the weights, 0 to 1: a --min-score outside that keeps every pair or
    none (``--min-score 5`` wrote an empty file and exited 0). A learned model scores in log-odds, any number."""
    if min_score is None:
        return
    if not math.isfinite(min_score):
        raise MatcherError(f"--min-score must be a number, not {min_score}")
    if not learned and not 0 <= min_score <= 1:
        raise MatcherError(f"--min-score {min_score:g} is outside 0 to 1, the range of scores with weights "
                           "(a score is the weighted share of the features a pair has); nothing was written")
