"""``python -m matcher schedule``: put shortlisted pairs into time slots and at tables."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from matcher.exceptions import MatcherError

EXAMPLES = """examples:
  python -m matcher schedule --shortlist out/shortlist.xlsx --slots 12 --tables 20 --out out/meeting.xlsx
  python -m matcher schedule --data data --shortlist out/shortlist.csv --slots 12 --tables 20 \\
      --date 2026-05-20 --start 09:00 --minutes 20 --out out/agendas.pdf
  python -m matcher schedule --shortlist s.csv --slots 12 --tables 20 --availability avail.csv \\
      --locks locks.csv --date 2026-05-20 --out out/meetings.ics --ics-dir out/calendars \\
      --event "2026 东西部纺织对接洽谈会" --venue "柯桥国际会展中心"
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "schedule",
        help="schedule shortlisted pairs into time slots and tables; write XLSX, PDF, ICS or CSV",
        description="Give every shortlisted pair a slot and a table with no double booking, "
        "respecting availability windows and locked meetings, and using as few slots as König's "
        "theorem allows. Meetings that cannot fit are listed with the reason. The shortlist may be "
        "the output of `suggest` or `shortlist` (CSV, XLSX or JSON). Output by extension: .xlsx "
        "(shortlist, schedule, grid, agendas, participants, run), .csv (UTF-8 with BOM), .pdf "
        "(bilingual agenda page per participant) or .ics (calendar entries per participant).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--data",
        metavar="DIR",
        default=None,
        help="data folder with clusters.csv / markets.csv / enterprises.csv, for names",
    )
    parser.add_argument(
        "--shortlist",
        required=True,
        metavar="FILE",
        help="pairs to schedule (.csv, .xlsx or .json) with left_id, right_id[, score]",
    )
    parser.add_argument("--slots", required=True, type=int, help="number of time slots")
    parser.add_argument("--tables", required=True, type=int, help="number of tables")
    parser.add_argument(
        "--availability",
        metavar="FILE",
        default=None,
        help="participant_id,slots (e.g. C001,1-4;7); participants not listed: any slot",
    )
    parser.add_argument(
        "--locks", metavar="FILE", default=None, help="locked meetings: left_id,right_id,slot[,table]"
    )
    parser.add_argument("--date", default=None, help="meeting date YYYY-MM-DD (needed for .ics)")
    parser.add_argument("--start", default="09:00", help="start of slot 1, HH:MM (default 09:00)")
    parser.add_argument("--minutes", type=int, default=20, help="slot length in minutes (default 20)")
    parser.add_argument("--timezone", default="Asia/Shanghai", help="time zone of calendar entries")
    parser.add_argument(
        "--ics-dir",
        metavar="DIR",
        default=None,
        help="also write one <participant_id>.ics per participant into DIR (ids that would share a file "
        "name, e.g. a/b and a_b, or C001 and c001, and ids too long for a file name get a short hash of the "
        "id added). The calendars are written as a set: all of them or, when the run fails, none. A DIR that "
        "already holds .ics files (an earlier run's) is refused unless --force; --out may be in DIR but not "
        "under a participant's file name",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="with --ics-dir: replace the .ics files DIR already holds, so that it holds this run's calendars "
        "only (an earlier run's invitations for participants no longer in the shortlist are removed; --out "
        "and files of other types are left)",
    )
    parser.add_argument(
        "--event",
        metavar="NAME",
        default=None,
        help="name of the docking event: on every agenda page, in the run sheet, and in each calendar "
        "entry's summary; one line (line breaks and tabs are read as one space)",
    )
    parser.add_argument(
        "--venue",
        metavar="PLACE",
        default=None,
        help="where the event is held: on every agenda page, in the run sheet, and in each calendar "
        "entry's location (before the table); one line, like --event",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit with an error (code 2) when any meeting cannot be scheduled",
    )
    parser.add_argument("--run-id", default=None, help="run id for the run sheet (default: from the inputs)")
    parser.add_argument(
        "--data-version",
        default=None,
        help="data version for the run sheet (default: the --data folder's version, as `suggest` records it)",
    )
    parser.add_argument("--out", required=True, metavar="FILE", help="output .xlsx, .csv, .pdf or .ics")
    parser.set_defaults(func=run)


def read_participants(data_dir: str | Path) -> pd.DataFrame:
    """``id, name_zh, name_en`` of every cluster, market and enterprise in a data folder."""
    from matcher.columns import SPECS
    from matcher.ingest.read import read_table

    folder = Path(data_dir)
    if not folder.is_dir():
        raise MatcherError(f"data folder not found: {folder}")
    frames = []
    for table in ("clusters", "markets", "enterprises"):
        path = folder / f"{table}.csv"
        if path.is_file():
            # Read like the importer (stripped cells, its header aliases), so that names match
            # those in suggestions made from this folder.
            frame = read_table(path, SPECS[table].aliases, what=path.name)
            if "id" not in frame.columns:
                raise MatcherError(f"{path} has no id column")
            frames.append(frame.reindex(columns=["id", "name_zh", "name_en"]))
    if not frames:
        raise MatcherError(f"{folder} holds none of clusters.csv, markets.csv, enterprises.csv")
    return pd.concat(frames, ignore_index=True).drop_duplicates("id")


def read_run_sheet(path: str | Path) -> dict[str, Any]:
    """The ``run`` metadata of a shortlist written by ``shortlist`` (XLSX sheet or JSON key); a
    workbook written for people in Chinese or English reads the same (``words.run_keys``)."""
    from matcher import limits
    from matcher.ingest.read import check_xlsx_package
    from matcher.jsonfile import JsonFileError, read_json_file
    from matcher.outputs.words import run_keys, sheet_names

    path = Path(path)
    try:
        if path.suffix.lower() == ".xlsx":
            check_xlsx_package(path)  # bounded like every workbook read
            with pd.ExcelFile(path, engine="openpyxl") as book:
                sheet = next((s for s in sheet_names("run") if s in book.sheet_names), None)
                if sheet is None:
                    return {}
                frame = run_keys(pd.read_excel(book, sheet_name=sheet, dtype=str))
            pairs = dict(zip(frame.get("key", []), frame.get("value", []), strict=False))
        elif path.suffix.lower() == ".json":
            data = read_json_file(path, "shortlist", max_bytes=limits.MAX_DATA_JSON_BYTES)
            pairs = data.get("run", {}) if isinstance(data, dict) else {}
        else:
            return {}
    except (ValueError, OSError, JsonFileError):  # the shortlist's own reader has said what is wrong
        return {}
    meta: dict[str, Any] = {}
    weights = {}
    for key, value in pairs.items():
        if isinstance(value, dict) and key == "weights":
            weights.update(value)
        elif str(key).startswith("weights."):
            weights[str(key)[8:]] = value
        elif key in ("run_id", "data_version", "method", "solver"):
            meta[f"shortlist_{key}"] = value
    if weights:
        meta["weights"] = weights
    return meta


def run(args: argparse.Namespace) -> int:
    from matcher.digest import digest_inputs
    from matcher.ingest.dataset import data_version
    from matcher.meetings.schedule import check_grid, schedule
    from matcher.meetings.slots import SlotClock
    from matcher.meetings.tables import read_shortlist
    from matcher.outputs.calendar import calendar_file_names, stage_ics_per_participant
    from matcher.outputs.export import write_schedule
    from matcher.outputs.metadata import now_stamp, run_metadata

    out = Path(args.out)
    if out.suffix.lower() not in (".xlsx", ".csv", ".pdf", ".ics"):
        raise MatcherError(
            f"unknown output type {out.suffix!r} for {out.name}; use .xlsx, .csv, .pdf or .ics"
        )
    clock = SlotClock.parse(args.date, args.start, args.minutes)
    if clock is None and (args.start != "09:00" or args.minutes != 20):
        print("warning: --start and --minutes give the agenda's times and need --date; without it the slots "
              "are numbered only", file=sys.stderr)
    if args.timezone:
        from matcher.outputs.calendar import time_zone

        time_zone(args.timezone)  # an unknown zone is said before any work is done
    if clock is None and (out.suffix.lower() == ".ics" or args.ics_dir):
        raise MatcherError("calendar entries need the meeting date: add --date YYYY-MM-DD")
    event, venue = one_line_option(args.event, "--event"), one_line_option(args.venue, "--venue")
    force = bool(getattr(args, "force", False))
    if force and not args.ics_dir:
        print("warning: --force replaces an --ics-dir folder's earlier calendars; without --ics-dir it does "
              "nothing", file=sys.stderr)
    check_output_locations(out, args.ics_dir, force=force)
    check_grid(args.slots, args.tables)  # before the "cannot all fit" warning, which it would contradict
    if clock is not None and clock.ends(args.slots) > dt.datetime.combine(clock.date + dt.timedelta(days=1), dt.time()):
        print(f"warning: slot {args.slots} ends {clock.ends(args.slots):%Y-%m-%d %H:%M}, after midnight: the "
              "agenda runs into the next day; check --start, --minutes and --slots", file=sys.stderr)
    print(f"reading {args.shortlist} …", file=sys.stderr)
    shortlist = read_shortlist(args.shortlist)
    participants = read_participants(args.data) if args.data else None
    print(
        f"scheduling {len(shortlist)} meeting(s) into {args.slots} slots x {args.tables} tables …",
        file=sys.stderr,
    )
    places = args.slots * args.tables
    if len(shortlist) > places:
        print(f"warning: {len(shortlist):,} meetings cannot all fit: {args.slots} slots x {args.tables} tables "
              f"hold at most {places:,}", file=sys.stderr)
    plan = schedule(
        shortlist,
        args.slots,
        args.tables,
        availability=args.availability,
        locks=args.locks,
        participants=participants,
        source=Path(args.shortlist).name,
    )
    plan.check_validity()
    # windows for someone with no meeting: a typo in an id would leave that participant's windows unapplied
    meeting = set(plan.requested["left_id"].astype(str)) | set(plan.requested["right_id"].astype(str))
    idle = sorted(set(plan.availability) - meeting)
    if idle:
        print(f"warning: {args.availability} gives windows for {len(idle)} participant(s) with no meeting in the "
              f"shortlist (a mistyped id?): {', '.join(idle[:10])}{', ...' if len(idle) > 10 else ''}",
              file=sys.stderr)
    if args.strict:
        plan.raise_if_incomplete()
    settings = [
        f"slots={args.slots}",
        f"tables={args.tables}",
        f"date={args.date}",
        f"start={args.start}",
        f"minutes={args.minutes}",
    ]
    run_id = args.run_id or "schedule-" + digest_inputs(
        [args.shortlist, args.availability, args.locks], settings
    )
    carried = read_run_sheet(args.shortlist)
    metadata = run_metadata(
        shortlist,
        run_id=run_id,
        data_version=args.data_version or (data_version(args.data) if args.data else None),
        created_at=now_stamp(),
        source=str(args.shortlist),
        slots=args.slots,
        tables=args.tables,
        date=args.date,
        start=args.start if clock else None,
        minutes=args.minutes if clock else None,
        slots_used=plan.slots_used,
        lower_bound=plan.lower_bound,
        scheduled=len(plan.meetings),
        unscheduled=len(plan.unscheduled),
        idle_slots=plan.idle_slots_total,
        event_name=event,
        venue=venue,
    )
    for key, value in carried.items():
        metadata.setdefault(key, value)
    staged = None
    if args.ics_dir:  # every check before a byte is written: the calendars' names, then the calendars staged
        ids = sorted(set(plan.meetings["left_id"]) | set(plan.meetings["right_id"]))
        check_out_among_calendars(out, args.ics_dir, calendar_file_names(ids))
        staged = stage_ics_per_participant(plan, args.ics_dir, clock, metadata=metadata, tz=args.timezone,
                                           replace_earlier=force, keep=out, reasons=shortlist)
    print(f"writing {out} …", file=sys.stderr)
    try:
        write_schedule(plan, out, clock=clock, metadata=metadata, shortlist=shortlist, tz=args.timezone)
    except BaseException:
        if staged is not None:
            staged.discard()
        raise
    if staged is not None:
        files = staged.commit()
        said = f"wrote {len(files)} calendar file(s) to {args.ics_dir}"
        if staged.replaced:
            said += f" ({len(staged.replaced)} over an earlier file of the same name)"
        if staged.earlier:
            said += (f"; removed {len(staged.earlier)} earlier calendar file(s) this run did not write (--force): "
                     + ", ".join(p.name for p in staged.earlier[:10]) + (", ..." if len(staged.earlier) > 10 else ""))
        print(said, file=sys.stderr)
    print(
        f"{len(plan.meetings)} meeting(s) in {plan.slots_used} slot(s) (lower bound {plan.lower_bound}); "
        f"{plan.idle_slots_total} idle slot(s) in participants' agendas",
        file=sys.stderr,
    )
    for line in plan.explanation:
        print(line, file=sys.stderr)
    if len(plan.unscheduled):
        print(unscheduled_summary(plan.unscheduled, out), file=sys.stderr)
    print(f"wrote {out}", file=sys.stderr)
    return 0


#: Most unscheduled meetings listed on the terminal; the rest are counted (and in an .xlsx output).
SHOWN_UNSCHEDULED = 20


def unscheduled_summary(unscheduled: pd.DataFrame, out: Path, shown: int = SHOWN_UNSCHEDULED) -> str:
    """The meetings that could not be scheduled, for the terminal: how many, the first ``shown``
    with their reasons, and where the whole list is (the ``unscheduled`` sheet of an .xlsx output)."""
    n = len(unscheduled)
    head = f"not scheduled: {n:,} meeting(s)" + (f"; the first {shown}:" if n > shown else ":")
    lines = [head, unscheduled.head(shown)[["left_id", "right_id", "reason"]].to_string(index=False)]
    if out.suffix.lower() == ".xlsx":
        lines.append(f"the full list is in the 'unscheduled' sheet of {out}")
    elif n > shown:
        lines.append("for the full list write the schedule as .xlsx (its 'unscheduled' sheet)")
    return "\n".join(lines)


def one_line_option(value: str | None, option: str) -> str | None:
    """An ``--event`` or ``--venue`` text as one line: line breaks and tabs read as one space, as the
    importer reads names (``matcher.text.one_line``); None when empty.

    >>> one_line_option("2026 对接会\\n 第二场 ", "--event")
    '2026 对接会 第二场'

    Raises
    ------
    MatcherError
        The text holds a control character (one that does not print), which no agenda or calendar can show.
    """
    from matcher.text import UNPRINTABLE, one_line

    if value is None:
        return None
    if UNPRINTABLE.search(value):
        raise MatcherError(f"{option} holds a control character (a character that does not print); retype it. "
                           "Nothing was written")
    return one_line(value).strip() or None


def check_out_among_calendars(out: Path, ics_dir: str | Path, names: dict[str, str]) -> None:
    """Refuse an ``--out`` in the ``--ics-dir`` folder under a participant's calendar file name
    (``names``: id -> file name, compared ignoring case as Windows and macOS do): that participant's
    calendar would replace the whole schedule's."""
    import os

    folder = Path(ics_dir)
    if not folder.is_dir() or not out.parent.is_dir() or not os.path.samefile(out.parent, folder):
        return
    owner = next((pid for pid, name in names.items() if name.casefold() == out.name.casefold()), None)
    if owner is not None:
        raise MatcherError(f"--out {out} is participant {owner}'s calendar in --ics-dir {folder}: it would "
                           "replace the whole schedule. Give --out another name or folder. Nothing was written")


def check_output_locations(out: Path, ics_dir: str | Path | None, force: bool = False) -> None:
    """Refuse, before anything is read or written, an output that cannot be written: ``out`` in a
    missing folder or naming a folder, ``ics_dir`` naming a file or inside one, either not writable;
    and, unless ``force``, an ``ics_dir`` that already holds ``.ics`` files (other than ``out``).

    Raises
    ------
    MatcherError
        Naming the option, the path and what is wrong; nothing has been written.
    """
    import os

    if out.is_dir():
        raise MatcherError(f"--out {out} is a folder; give a file name. Nothing was written")
    if not out.parent.is_dir():
        raise MatcherError(f"--out {out}: the folder {out.parent} does not exist; create it first. "
                           "Nothing was written")
    if not os.access(out.parent, os.W_OK):
        raise MatcherError(f"--out {out}: the folder {out.parent} is not writable. Nothing was written")
    if not ics_dir:
        return
    folder = Path(ics_dir)
    existing = next((p for p in (folder, *folder.parents) if p.exists()), Path.cwd())
    if not existing.is_dir():
        what = "is a file" if existing == folder else f"is inside {existing}, which is a file"
        raise MatcherError(f"--ics-dir {folder} {what}; give a folder. Nothing was written")
    if not os.access(existing, os.W_OK):
        raise MatcherError(f"--ics-dir {folder}: {existing} is not writable. Nothing was written")
    from matcher.outputs.calendar import earlier_calendars

    earlier = earlier_calendars(folder, keep=out)
    if earlier and not force:
        shown = ", ".join(p.name for p in earlier[:5]) + (", ..." if len(earlier) > 5 else "")
        raise MatcherError(f"--ics-dir {folder} already holds {len(earlier)} .ics file(s) ({shown}), from an "
                           "earlier run: this run's calendars would be mixed with them. Give --force to replace "
                           "them (the folder then holds this run's calendars only), or choose an empty folder. "
                           "Nothing was written")

