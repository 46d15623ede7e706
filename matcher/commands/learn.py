"""``python -m matcher learn``: retrain a kind's scorer from recorded outcomes."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from matcher import limits
from matcher.docking.kinds import KINDS, get_kind
from matcher.exceptions import MatcherError

if TYPE_CHECKING:
    import pandas as pd


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "learn",
        help="retrain a docking kind's scorer from recorded outcomes and save it as JSON",
        description="Fit a calibrated logistic model on recorded outcomes (agreement reached and negotiation "
        "started are good pairs; no further contact and declined are poor ones), compare it with the weighted "
        "preset on held-out outcomes and save it as JSON. Outcomes come from the store (the default) or from "
        "--outcomes CSV with columns left_id,right_id,kind,outcome. With too few outcomes the saved model "
        "keeps the weighted preset and says so.",
    )
    p.add_argument("--kind", choices=list(KINDS), required=True, help="docking kind to learn")
    p.add_argument("--outcomes", metavar="CSV", help="outcomes file (default: outcomes recorded in the store)")
    p.add_argument("--db", metavar="URL", help="store database URL (default: MATCHER_DB_URL or the workspace file)")
    p.add_argument("--simulate", type=int, metavar="N",
                   help="instead of real outcomes, simulate N outcomes from a hidden utility (for trying it out)")
    p.add_argument("--out", metavar="MODEL.json", required=True, help="where to save the model (JSON)")
    p.add_argument("--data", metavar="DIR", help="dataset folder (default: the bundled data)")
    p.add_argument("--preset", help="weighted preset used as the cold start and the comparison (default: kind's)")
    p.add_argument("--min-outcomes", type=int, default=30,
                   help="fewest labelled outcomes to learn from (default 30)")
    p.add_argument("--seed", type=int, default=0, help="seed of the hold-out split and calibration folds")
    p.set_defaults(func=run)


def outcome_warnings(outcomes: pd.DataFrame, kind: str, ids: set[str], types: str, source: str) -> list[str]:
    """Why rows of an outcomes file (indexed by row as in Excel) teach the ``kind`` nothing: an id that is
    no entity of the data (``ids``, the ``types`` the kind pairs), named by row; a kind that is no kind,
    by row; and a count of the rows of other kinds (learnt with their own ``--kind``)."""
    from matcher.ingest.problems import capped_warnings

    lines, mine = [], outcomes["kind"].astype(str) == kind
    for row, record in outcomes[mine].iterrows():
        for column in ("left_id", "right_id"):
            if str(record[column]) not in ids:
                lines.append(f"{source}, row {row}, {column}: {record[column]!r} is no {types} in the data; the "
                             "row is left out")
    unknown = ~outcomes["kind"].astype(str).isin(list(KINDS))
    lines += [f"{source}, row {row}, kind: {value!r} is no docking kind (kinds: {', '.join(KINDS)}); the row is "
              "left out" for row, value in outcomes.loc[unknown, "kind"].items()]
    lines = capped_warnings(lines, source)
    other = int((~mine & ~unknown).sum())
    if other:
        lines.append(f"{source}: {other:,} row(s) of other kinds skipped (learn them with their own --kind)")
    return lines


def _progress(message: str) -> None:
    print(f"[learn] {message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from matcher.docking.engine import DockingEngine, weights_hash
    from matcher.ingest.dataset import load_dataset
    from matcher.learning.learn import (
        outcomes_from_store,
        read_outcomes_csv,
        save_model,
        simulate_outcomes,
        train_from_outcomes,
    )

    limits.check_seed(args.seed)
    if args.min_outcomes < 1:
        raise MatcherError("--min-outcomes must be at least 1")
    if sum(x is not None for x in (args.outcomes, args.simulate)) > 1:
        raise MatcherError("give either --outcomes or --simulate, not both")
    _progress("loading data and building candidates")
    dataset = load_dataset(args.data)
    engine = DockingEngine(dataset, progress=_progress)
    if args.simulate is not None:
        outcomes = simulate_outcomes(engine, args.kind, args.simulate, seed=args.seed)
        capped = f" of the {args.simulate:,} asked: every candidate pair" if len(outcomes) < args.simulate else ""
        source = f"simulated ({len(outcomes):,} pairs{capped}, seed {args.seed})"
    elif args.outcomes:
        outcomes = read_outcomes_csv(args.outcomes)
        source = str(args.outcomes)
        entities = engine.entities(args.kind)
        for line in outcome_warnings(outcomes, args.kind, set(entities.table["id"].astype(str)),
                                     " or ".join(get_kind(args.kind).entity_types), source):
            print(f"warning: {line}", file=sys.stderr)
    else:
        from matcher.store import Store

        store = Store(args.db) if args.db else Store()
        outcomes = outcomes_from_store(store)
        source = f"store {store.location}"
    _progress(f"training from {source}")
    result = train_from_outcomes(engine, args.kind, outcomes, preset=args.preset,
                                 min_outcomes=args.min_outcomes, seed=args.seed)
    print(result.summary())
    meta = {"data_version": dataset.version, "data_name": dataset.name, "outcomes_source": source,
            "weights_hash": weights_hash(result.scorer.weights())}
    path = save_model(result.scorer, args.out, meta)
    print(f"saved {path}")
    return 0
