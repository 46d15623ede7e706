"""``python -m matcher shortlist``: choose which suggested docking pairs get a meeting."""

from __future__ import annotations

import argparse
import sys

from matcher.digest import digest_inputs
from matcher.exceptions import InfeasibleError
from matcher.meetings.problem import METHODS, SIDES
from matcher.meetings.select import select
from matcher.meetings.tables import read_suggestions

EXAMPLES = """examples:
  python -m matcher shortlist --suggestions out/suggestions.csv --k 5 --cap 3 --out out/shortlist.xlsx
  python -m matcher shortlist --suggestions out/suggestions.xlsx --method hungarian --min-score 0.4 \\
      --forbid partners.csv --out out/shortlist.csv
  python -m matcher shortlist --suggestions s.json --method capacity --cap 2 --capacities caps.csv --out s.json
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "shortlist",
        help="choose which suggested docking pairs get a meeting (top k, Hungarian, stable, capacity)",
        description="Select docking pairs from a suggestions file (the output of `suggest`: CSV, XLSX, "
        "JSON or Parquet). Filters first drop self-pairs, forbidden pairs (either orientation) and pairs below "
        "--min-score; then the method chooses. Writes the shortlist as .csv (UTF-8 with BOM), .xlsx "
        "(with not_selected, unmatched and run sheets) or .json.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--suggestions",
        required=True,
        metavar="FILE",
        help="suggestions file (.csv, .xlsx, .json or .parquet) with left_id, right_id, score",
    )
    parser.add_argument(
        "--method",
        choices=METHODS,
        default="top_k",
        help="top_k: each entity's k best (greedy under --cap); hungarian: one meeting per "
        "entity, best total; stable: deferred acceptance, no blocking pairs; capacity: "
        "best total with per-entity capacities (default: top_k)",
    )
    parser.add_argument("--k", type=int, default=None, help="keep each entity's K best pairs")
    parser.add_argument(
        "--side", choices=SIDES, default="left", help="whose top-k lists count (default: left)"
    )
    parser.add_argument(
        "--cap",
        type=int,
        default=None,
        help="most meetings per entity (top_k, capacity; capacity defaults to 1)",
    )
    parser.add_argument(
        "--capacities",
        metavar="FILE",
        default=None,
        help="per-entity capacities: CSV/XLSX with id,capacity (overrides --cap)",
    )
    parser.add_argument("--min-score", type=float, default=None, help="drop pairs scoring below X")
    parser.add_argument(
        "--forbid",
        metavar="FILE",
        default=None,
        help="pairs that must not meet: CSV/XLSX with left_id,right_id[,reason]",
    )
    parser.add_argument(
        "--proposer",
        choices=("left", "right"),
        default="left",
        help="stable method: which side proposes (default: left)",
    )
    parser.add_argument("--run-id", default=None, help="run id for the run sheet (default: from the inputs)")
    parser.add_argument("--data-version", default=None, help="data version for the run sheet")
    parser.add_argument("--out", required=True, metavar="FILE", help="output .csv, .xlsx or .json")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from matcher.outputs.export import write_shortlist
    from matcher.outputs.metadata import now_stamp, run_metadata

    print(f"reading {args.suggestions} …", file=sys.stderr)
    suggestions = read_suggestions(args.suggestions)
    selection = select(
        suggestions,
        args.method,
        k=args.k,
        cap=args.cap,
        min_score=args.min_score,
        forbidden=args.forbid,
        capacities=args.capacities,
        side=args.side,
        proposer=args.proposer,
    )
    for line in selection.problem.warnings:  # a forbidden pair or capacity that applies to nothing: a typo?
        print(f"warning: {line}", file=sys.stderr)
    if not selection.feasible:
        raise InfeasibleError("nothing could be shortlisted: " + "; ".join(selection.explanation))
    selection.check_validity()
    settings = {
        "method": args.method,
        "k": args.k,
        "side": args.side,
        "cap": args.cap,
        "min_score": args.min_score,
        "proposer": args.proposer,
    }
    run_id = args.run_id or "shortlist-" + digest_inputs(
        [args.suggestions, args.forbid, args.capacities], [f"{k}={v}" for k, v in settings.items()]
    )
    metadata = run_metadata(
        suggestions,
        run_id=run_id,
        data_version=args.data_version,
        created_at=now_stamp(),
        source=str(args.suggestions),
        solver=selection.solver,
        total_score=round(selection.total_score, 6),
        **{k: v for k, v in settings.items() if v is not None},
    )
    write_shortlist(
        selection.pairs,
        args.out,
        metadata=metadata,
        extra_sheets={"not_selected": selection.not_selected, "unmatched": selection.unmatched},
    )
    print(selection.summary(), file=sys.stderr)
    print(f"wrote {args.out}", file=sys.stderr)
    return 0
