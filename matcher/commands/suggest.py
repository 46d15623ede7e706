"""``python -m matcher suggest``: each entity's top K docking partners, ranked and explained."""

from __future__ import annotations

import argparse
import sys
import time

from matcher.exceptions import MatcherError
from matcher.vocab import KINDS

OUTPUT_TYPES = (".csv", ".xlsx", ".json", ".parquet")


def register(sub) -> None:
    p = sub.add_parser(
        "suggest",
        help="propose and explain docking pairs of one kind (top K partners per entity)",
        description="For each entity (or only --for ID), its top K docking partners of the chosen kind, "
        "with score, a one-line reason in Chinese and English, and per-feature value (f_), weight (w_) "
        "and contribution (c_) columns. Kinds: " + ", ".join(KINDS) + ".",
    )
    p.add_argument("--kind", required=True, choices=KINDS, help="docking kind")
    p.add_argument("--data", metavar="DIR", help="dataset folder with clusters.csv, markets.csv, enterprises.csv "
                   "(default: the bundled data)")
    p.add_argument("--top", type=int, default=10, metavar="K", help="partners per entity (default 10)")
    p.add_argument("--for", dest="for_id", metavar="ID", action="append",
                   help="only this entity's list (repeat for several)")
    p.add_argument("--weights", metavar="FILE", help="JSON weights {\"weights\": {feature: weight}} "
                   "overriding the preset's")
    p.add_argument("--preset", help="named weight preset of the kind (see docs/scoring.md)")
    p.add_argument("--min-score", type=float, help="drop pairs scoring below this")
    p.add_argument("--report", action="store_true", help="also print the candidate rules' pair counts")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="enterprise kind: run the job on this Dask scheduler (e.g. tcp://10.0.0.5:8786); "
                   "results are identical to the in-process run")
    p.add_argument("--block-size", type=int, default=20_000, metavar="N",
                   help="enterprise kind: enterprises ranked per block; bounds memory (default 20000)")
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
    from matcher.docking.engine import DockingEngine, new_run
    from matcher.docking.scoring import read_weights
    from matcher.ingest.dataset import load_dataset
    from matcher.outputs.export import write_shortlist

    if not args.out.lower().endswith(OUTPUT_TYPES):
        raise MatcherError(f"--out {args.out}: use a .csv, .xlsx, .json or .parquet file")
    started = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - started:5.1f}s] {message}", file=sys.stderr, flush=True)

    progress("loading data")
    dataset = load_dataset(args.data)
    weights = read_weights(args.weights, args.kind) if args.weights else None
    if args.kind == "enterprise":
        return _enterprises(args, dataset, weights, progress)
    for option in ("scheduler", "neighbours", "product_neighbours", "radius_km"):
        if getattr(args, option) is not None:
            raise MatcherError(f"--{option.replace('_', '-')} is for the enterprise kind only")
    engine = DockingEngine(dataset, progress=progress)
    suggestions = engine.suggest(args.kind, top=args.top, for_id=args.for_id, weights=weights,
                                 preset=args.preset, min_score=args.min_score)
    run_info = new_run(dataset, args.kind, engine.weights(args.kind, weights, args.preset), preset=args.preset)
    suggestions.insert(len(suggestions.columns), "run_id", run_info["run_id"])
    suggestions.insert(len(suggestions.columns), "data_version", run_info["data_version"])
    report = engine.candidate_report(args.kind)
    if args.report:
        print(report.to_string(index=False), file=sys.stderr)
    progress(f"writing {len(suggestions):,} suggestions")
    write_shortlist(suggestions, args.out, metadata=run_info, extra_sheets={"candidates": report})
    union = report.iloc[-1]
    progress(f"wrote {args.out}: {suggestions['left_id'].nunique():,} entities, {len(suggestions):,} rows; "
             f"{int(union['pairs']):,} candidate pairs (reduction ratio {union['reduction_ratio']:.3f})")
    return 0


def _enterprises(args: argparse.Namespace, dataset, weights, progress) -> int:
    """The enterprise kind at registry scale: bounded candidates, block-wise ranking, optional Dask."""
    from matcher.docking.engine import new_run
    from matcher.docking.scale import suggest_enterprises
    from matcher.docking.scoring import merge_weights
    from matcher.outputs.export import write_shortlist

    used = merge_weights("enterprise", weights, args.preset)
    run_info = new_run(dataset, "enterprise", used, preset=args.preset)
    extra = {"run_id": run_info["run_id"], "data_version": run_info["data_version"]}
    options = dict(weights=weights, preset=args.preset, for_id=args.for_id, min_score=args.min_score,
                   scheduler=args.scheduler, block_size=args.block_size, progress=progress,
                   neighbours=args.neighbours, product_neighbours=args.product_neighbours, radius_km=args.radius_km)
    if args.out.lower().endswith((".csv", ".parquet")):  # streamed block by block: memory stays bounded
        summary = suggest_enterprises(dataset, args.top, out=args.out, extra_columns=extra, **options)
        report, rows = summary["report"], summary["rows"]
    else:
        frame = suggest_enterprises(dataset, args.top, **options)
        report, rows = frame.attrs.get("report"), len(frame)
        for name, value in extra.items():
            frame[name] = value
        progress(f"writing {rows:,} suggestions")
        write_shortlist(frame, args.out, metadata=run_info,
                        extra_sheets={"candidates": report} if report is not None else None)
    if args.report and report is not None:
        print(report.to_string(index=False), file=sys.stderr)
    union = report.iloc[-1] if report is not None else None
    found = f"; {int(union['pairs']):,} candidate pairs" if union is not None else ""
    progress(f"wrote {args.out}: {rows:,} rows{found}")
    return 0
