"""``python -m matcher synth``: write a data set with seeded synthetic enterprises in the real clusters."""

from __future__ import annotations

import argparse
import sys
import time

from matcher import limits
from matcher.exceptions import MatcherError
from matcher.ingest.synth import BLOCK_ROWS, provenance, write_synthetic_dataset

#: Below this many enterprises the job takes about a second: no progress lines.
PROGRESS_FROM = BLOCK_ROWS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "synth",
        help="write a data set folder with N synthetic enterprises placed in the real clusters",
        description="Write a complete data set folder: the bundled clusters.csv and markets.csv copied "
        "unchanged (real facts), and enterprises.csv with N generated enterprises placed in the real "
        "clusters, with stages, products and capacities that fit each cluster's specialty. Every "
        f"generated row has synthetic = true and provenance '{provenance(0).replace('0', 'S', 1)}'. "
        "The same seed gives byte-identical files. See docs/synth.md.",
    )
    parser.add_argument(
        "--enterprises", type=int, required=True, metavar="N",
        help=f"number of enterprises to generate (1 to {limits.MAX_SYNTH_ENTERPRISES:,})",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default: 0)")
    parser.add_argument("--out", required=True, metavar="DIR", help="folder to write (created if missing)")
    parser.add_argument(
        "--force",
        action="store_true",
        help="write into a folder that is not empty, replacing its clusters.csv, markets.csv and "
        "enterprises.csv",
    )
    parser.set_defaults(func=run, out_is_folder=True)  # created with its parents


def run(args: argparse.Namespace) -> int:
    began = time.perf_counter()
    limits.check_seed(args.seed)
    if args.enterprises > limits.MAX_SYNTH_ENTERPRISES:  # said before the folder is created
        raise MatcherError(f"--enterprises {args.enterprises:,} is more than the {limits.MAX_SYNTH_ENTERPRISES:,} "
                           "enterprises synth generates (twice the million firms the benchmarks run); "
                           "nothing was written")

    def progress(written: int, total: int) -> None:
        if total >= PROGRESS_FROM:
            print(
                f"synth: {written:,} / {total:,} enterprises written ({time.perf_counter() - began:.1f} s)",
                file=sys.stderr,
            )

    summary = write_synthetic_dataset(
        args.out, args.enterprises, args.seed, force=args.force, progress=progress
    )
    used = int((summary.per_cluster > 0).sum())
    print(
        f"wrote {summary.n_enterprises:,} synthetic enterprises in {used} clusters, with the bundled "
        f"clusters and markets, to {summary.out} (seed {summary.seed}, {summary.seconds:.1f} s)"
    )
    return 0
