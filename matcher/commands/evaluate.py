"""``python -m matcher evaluate``: how well the engine and baselines rank known dockings."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from matcher import limits
from matcher.docking.kinds import ENTERPRISE_DOCKING, KINDS
from matcher.exceptions import MatcherError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="measure match quality: rank known dockings with the engine and with baselines",
        description="For each known docking pair, rank the true partner among every possible partner with the "
        "engine and with baselines (random, product similarity only, distance only, Adamic-Adar over shared "
        "stages, popularity and path-3 over the known-docking graph), and print Hits@K, MRR, NDCG@K and AUC "
        "against hard negatives (same stage or same region). With dates, a temporal split is printed too. "
        "FILE is a CSV with columns left,right[,date][,kind] holding ids or English/Chinese names; names that "
        "cannot be resolved are listed. --benetton evaluates the enterprise kind on Benetton's real "
        "vendor -> production-site links instead.",
    )
    p.add_argument("--known", metavar="FILE",
                   help="known dockings CSV (default: data/known_dockings.csv)")
    p.add_argument("--regional", metavar="FILE",
                   help="documented dockings whose partner is named only as a province or city (columns query, "
                   "partner_provinces, partner_places; default: data/known_dockings_regional.csv unless --known is "
                   "given); printed after the pairs")
    p.add_argument("--kind", choices=list(KINDS), default=None,
                   help="docking kind to evaluate (required with --known; enterprise with --benetton)")
    p.add_argument("--k", type=int, default=10, help="cut-off K of Hits@K and NDCG@K (default 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random baseline and hold-out (default 0)")
    p.add_argument("--sides", choices=("both", "left", "right"), default="both",
                   help="which side of each pair asks for partners (default both)")
    p.add_argument("--data", metavar="DIR", help="dataset folder (default: the bundled data)")
    p.add_argument("--model", metavar="MODEL.json", help="also rank with a learned scorer saved by 'learn'")
    p.add_argument("--benetton", nargs="?", const="", metavar="FOLDER",
                   help="evaluate the enterprise kind on the Benetton supplier list (default folder "
                   "../shared/external/benetton_supplier_list; skipped with a message when absent)")
    p.add_argument("--country", metavar="NAME", help="with --benetton: only sites in this country, e.g. China")
    p.add_argument("--out", metavar="FILE", help="also write the per-query ranks as CSV (UTF-8 with BOM); the ranks "
                   "of the dockings named by region go to FILE's name + _regional")
    p.set_defaults(func=run, derived_outputs=lambda a: {"out": regional_output(a.out)} if a.out else {})


def _progress(message: str) -> None:
    print(f"[evaluate] {message}", file=sys.stderr, flush=True)


def regional_output(out: str | Path) -> Path:
    """Where ``--out FILE`` puts the ranks of the dockings named by region: beside it, ``FILE_regional``."""
    out = Path(out)
    return out.with_name(f"{out.stem}_regional{out.suffix or '.csv'}")


def _bundled_regional() -> str | None:
    from matcher.learning.regional import REGIONAL_DOCKINGS

    return str(REGIONAL_DOCKINGS) if REGIONAL_DOCKINGS.is_file() else None


def run(args: argparse.Namespace) -> int:
    from matcher.learning import benetton as bt
    from matcher.learning import evaluate as ev

    started = time.monotonic()
    limits.check_seed(args.seed)
    if args.out:  # a bad output is said now, not after minutes of evaluation
        from matcher.outputs.atomic import csv_output

        csv_output(args.out, "--out")
        csv_output(regional_output(args.out), "--out (its _regional file)")
    scorers = {}
    by_region = None
    if args.benetton is not None:
        benetton_kind = ENTERPRISE_DOCKING.name
        if args.kind not in (None, benetton_kind):
            raise MatcherError(f"--benetton evaluates the {benetton_kind} kind; leave out --kind or use "
                               f"--kind {benetton_kind}")
        folder = args.benetton or None
        target = bt.BENETTON_FOLDER if folder is None else folder
        from pathlib import Path

        if folder is None and not Path(target).is_dir():
            print(f"skipped: the Benetton supplier list is not at {target} (it is not shipped with the "
                  "project; pass --benetton FOLDER where you keep it)")
            return 0
        if args.model:
            from matcher.learning.learn import load_model

            scorers["learned"] = load_model(args.model, benetton_kind)
        result = bt.evaluate_benetton(folder, k=args.k, seed=args.seed, country=args.country, scorers=scorers,
                                      progress=_progress)
    else:
        if not args.kind:
            raise MatcherError("--kind is required: one of " + ", ".join(KINDS))
        from matcher.docking.engine import DockingEngine
        from matcher.ingest.dataset import load_dataset

        _progress("loading data and building candidates")
        engine = DockingEngine(load_dataset(args.data), progress=_progress)
        if args.model:
            from matcher.learning.learn import load_model

            scorers["learned"] = load_model(args.model, args.kind)
        known = args.known or ev.KNOWN_DOCKINGS
        regional = args.regional or (None if args.known else _bundled_regional())
        if regional:  # a bad file of dockings named by region is said now, not after the evaluation
            from matcher.learning.regional import read_regional

            read_regional(regional, args.kind, engine.entities(args.kind))
        result = ev.evaluate_known(engine, known, args.kind, k=args.k, seed=args.seed, sides=args.sides,
                                   scorers=scorers)
        if result.ranks.empty:
            raise MatcherError(f"{known}: no {args.kind} pair to evaluate; " + "; ".join(result.notes)
                               + (f"\n{result.problems.to_string(index=False)}" if len(result.problems) else ""))
        if regional:
            from matcher.learning.regional import evaluate_regional

            _progress("ranking the documented dockings named by region")
            by_region = evaluate_regional(engine, regional, args.kind, k=args.k, seed=args.seed, scorers=scorers)
    print(result.report())
    if by_region is not None:
        print(by_region.report(str(regional)))
    if args.out:
        from matcher.outputs.export import write_csv

        write_csv(result.ranks, args.out)
        _progress(f"wrote {len(result.ranks)} rows to {args.out}")
        if by_region is not None and len(by_region.ranks):
            regional_out = regional_output(args.out)
            write_csv(by_region.ranks, regional_out)
            _progress(f"wrote {len(by_region.ranks)} rows (dockings named by region) to {regional_out}")
    _progress(f"done in {time.monotonic() - started:.1f} s")
    return 0
