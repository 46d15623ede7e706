"""``python -m matcher store ...``: set up, back up, restore the store; record outcomes; read history.

The store is the workspace SQLite file (``MATCHER_WORKSPACE``, default ``./workspace``) or the
PostgreSQL database named by ``MATCHER_DB_URL``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import pandas as pd

from matcher.docking.kinds import KINDS
from matcher.exceptions import MatcherError
from matcher.store import OUTCOMES, UNKNOWN, Store, head_revision
from matcher.store.store import ENV_DB_URL, ENV_WORKSPACE

WHERE = (
    f"The store is the SQLite file matcher.db in the workspace folder (${ENV_WORKSPACE}, default "
    f"./workspace), or the PostgreSQL database in ${ENV_DB_URL} when that is set."
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``store`` command and its actions."""
    parser = subparsers.add_parser(
        "store",
        help="set up, back up and restore the planners' store; record outcomes; show history",
        description="The store keeps runs, shortlists, decisions, meetings, outcomes and an audit "
        "log of every change. " + WHERE,
    )
    parser.set_defaults(func=lambda args: _help(parser))
    actions = parser.add_subparsers(dest="store_action", metavar="ACTION")

    init = actions.add_parser(
        "init",
        help="create the store, or upgrade an older one to this release's schema",
        description="Create the store if it does not exist and bring its schema up to date "
        "(opening a store does this too). Safe to run again. " + WHERE,
    )
    init.set_defaults(func=run_init)

    backup = actions.add_parser(
        "backup",
        help="write the whole store to a JSON file",
        description="Write every run, shortlist, decision, meeting, outcome and audit entry to one "
        "JSON file, to keep or to move to another machine (restore it there).",
    )
    backup.add_argument("--out", required=True, metavar="FILE", help="JSON file to write (replaced whole)")
    backup.add_argument("--accounts", action="store_true",
                        help="also carry the accounts (names, roles, password hashes); left out by default")
    backup.set_defaults(func=run_backup)

    restore = actions.add_parser(
        "restore",
        help="load a JSON backup into an empty store (all or nothing)",
        description="Load a backup written by `store backup` into this store. The store must be empty "
        "(a new workspace folder or a new database); the load is all or nothing.",
    )
    restore.add_argument("file", metavar="FILE", help="backup JSON file")
    restore.add_argument("--as", dest="by", metavar="NAME",
                         help="an admin account of the store, needed once the store has accounts")
    restore.set_defaults(func=run_restore)

    outcome = actions.add_parser(
        "outcome",
        help="record what came of a pair, at the meeting or months later",
        description="Record the outcome of a docking pair. Stage meeting: met or no_show (with "
        "--rating 1-5 when met). Stage followup: no_further_contact, valuable_contact, "
        "negotiation_started or agreement_reached. Replacing a recorded outcome needs "
        "--expected-version (shown when you try).",
    )
    outcome.add_argument("--left", required=True, metavar="ID", help="left entity id, e.g. C001")
    outcome.add_argument("--right", required=True, metavar="ID", help="right entity id, e.g. M003")
    outcome.add_argument("--kind", required=True, metavar="KIND", help="docking kind: " + ", ".join(KINDS))
    outcome.add_argument("--stage", required=True, choices=list(OUTCOMES), help="meeting or followup")
    values = sorted({v for stage in OUTCOMES.values() for v in stage})
    outcome.add_argument("--value", required=True, metavar="VALUE", help="one of: " + ", ".join(values))
    outcome.add_argument(
        "--rating", type=int, metavar="N", help="1 (poor) to 5 (excellent), meeting stage only"
    )
    outcome.add_argument("--note", default="", help="free text kept with the outcome")
    outcome.add_argument("--as", "--planner", dest="planner", required=True, metavar="NAME",
                         help="who records it: an account of the store with the planner or admin role (any "
                         "name while the store has no account)")
    outcome.add_argument(
        "--expected-version", type=int, metavar="N", help="replace the recorded outcome that has this version"
    )
    outcome.add_argument("--data", metavar="DIR", help="the data set whose ids the pair names (default: the "
                         "bundled data); the pair must be one of the kind, and is recorded the way round the "
                         "kind orders it (cluster before market)")
    outcome.set_defaults(func=run_outcome)

    history = actions.add_parser(
        "history",
        help="show every recorded change about an entity, run or shortlist",
        description="Show the audit log entries about one entity id (as either side of a pair), run id or "
        "shortlist name: when, who, what changed, from what to what. A run shows the weight preset it "
        f"used ({UNKNOWN} for runs recorded before presets were kept).",
    )
    history.add_argument(
        "--for", dest="for_id", required=True, metavar="ID", help="entity id, run id or shortlist name"
    )
    history.add_argument(
        "--json", action="store_true", help="print the entries as JSON lines instead of a table"
    )
    history.set_defaults(func=run_history)


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


def run_init(args: argparse.Namespace) -> int:
    store = Store()
    print(f"store ready: {store.location} (schema revision {store.revision()}, newest {head_revision()})")
    return 0


def run_backup(args: argparse.Namespace) -> int:
    store = Store()
    print(f"backing up {store.location} ...", file=sys.stderr)
    counts = store.backup(args.out, accounts=args.accounts)
    print(f"wrote {args.out}: " + _counts(counts))
    return 0


def run_restore(args: argparse.Namespace) -> int:
    store = Store()
    print(f"restoring {args.file} into {store.location} ...", file=sys.stderr)
    counts = store.restore(args.file, by=args.by)
    print(f"restored {args.file}: " + _counts(counts))
    return 0


def _pair_of_kind(left: str, right: str, kind_name: str, data: str | None) -> tuple[str, str]:
    """The pair as the kind orders it, or why it is none (an id the data lacks, a pair of another kind):
    an outcome nobody can match to a suggestion teaches ``learn`` nothing."""
    from matcher.docking.engine import DockingEngine
    from matcher.docking.kinds import get_kind
    from matcher.ingest.dataset import load_dataset

    kind = get_kind(kind_name)
    table = DockingEngine(load_dataset(data)).entities(kind).table
    where = "the bundled data" if data is None else f"the data set {data}"
    ids = set(table["id"].astype(str))
    for option, pid in (("--left", left), ("--right", right)):
        if pid not in ids:
            from matcher.ingest.validate import clip

            raise MatcherError(f"{option} {clip(pid)}: no entity of {where} has this id; give --data DIR for another "
                               "data set. Nothing was recorded")
    pair = kind.orient(left, right, table)
    if pair is None:
        article = "an" if kind.name[0] in "aeiou" else "a"
        raise MatcherError(f"{left} - {right} is not {article} {kind.name} pair ({kind.describe}). Nothing was "
                           "recorded")
    return pair


def run_outcome(args: argparse.Namespace) -> int:
    left, right = _pair_of_kind(args.left.strip(), args.right.strip(), args.kind, args.data)
    store = Store()
    row = store.record_outcome(
        left,
        right,
        args.kind,
        stage=args.stage,
        value=args.value,
        rating=args.rating,
        note=args.note,
        planner=args.planner,
        expected_version=args.expected_version,
    )
    rating = f", rating {row['rating']}" if row["rating"] is not None else ""
    print(
        f"recorded {row['stage']} outcome of {row['left_id']} <-> {row['right_id']} ({row['kind']}): "
        f"{row['value']}{rating} (version {row['version']})"
    )
    return 0


def run_history(args: argparse.Namespace) -> int:
    store = Store()
    log = store.history(args.for_id)
    if log.empty:
        from matcher.ingest.validate import clip

        print(f"no recorded changes about {clip(args.for_id)}")
        return 0
    if args.json:
        for rec in log.to_dict("records"):
            print(json.dumps({k: _plain(v) for k, v in rec.items()}, ensure_ascii=False, sort_keys=True))
        return 0
    table = log.assign(change=[_describe(r) for r in log.to_dict("records")])[
        ["at", "planner", "table_name", "row_id", "action", "change"]
    ]
    print(table.to_string(index=False))
    return 0


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in counts.items())


def _plain(value: Any) -> Any:
    return None if value is pd.NA else value


def _describe(entry: dict[str, Any]) -> str:
    """One line per audit entry: the fields that changed, or what was created."""
    before, after = entry["before"], entry["after"]
    skip = {"version", "updated_at", "planner", "created_at", "decided_at", "recorded_at"}
    if before is None and after is not None:
        shown = {k: v for k, v in after.items() if k not in skip and k != "id" and v not in (None, "")}
        if entry.get("table_name") == "runs":  # a run's preset always shows, "unknown" when not on record
            shown["preset"] = after.get("preset") or UNKNOWN
        return "created " + ", ".join(f"{k}={v}" for k, v in shown.items())
    if after is None:
        return "removed"
    changed = [
        f"{k}: {before.get(k)!r} -> {v!r}" for k, v in after.items() if k not in skip and before.get(k) != v
    ]
    return "; ".join(changed) or "no visible change"
