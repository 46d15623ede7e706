"""ICS calendars: one entry per participant per meeting, for everyone or for one participant.

An entry's summary names the event (``metadata["event_name"]``) and the partner, its location the
venue (``metadata["venue"]``) and the table, its description the pair, why it meets (the reasons in
Chinese and English, when the shortlist is given) and the data version. Summaries, locations, descriptions and categories are
neutralised like every export (:mod:`matcher.outputs.cells`); the time stamp is the run's time
(:func:`created_at`), so the same run gives the same file. Every text is made one line first
(:func:`calendar_text`: line breaks and tabs as a space, control characters as U+FFFD), so no name,
event or venue can break the file. :func:`write_ics_per_participant` gives every participant a file
name of its own that fits any file system, also where ids differ only in characters a file name
cannot hold, in case, or are too long for a file name; its calendars are written into a staging
folder and moved in together (:func:`stage_ics_per_participant`), so a failed run leaves none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from matcher.exceptions import MatcherError
from matcher.meetings.slots import SlotClock
from matcher.meetings.timetable import Schedule
from matcher.outputs.atomic import partial_path, remove_orphans, write_bytes
from matcher.outputs.cells import neutralise_cell
from matcher.outputs.metadata import created_at
from matcher.outputs.reasons import with_reasons
from matcher.text import UNPRINTABLE, file_part
from matcher.text import one_line as _joined


def one_line(value: Any) -> str:
    """``value`` as one line of calendar text: line breaks and tabs as one space (as the importer reads
    names), control characters as U+FFFD, stripped; empty for a missing value. Not neutralised.

    >>> one_line("2026 对接会\\n第二场"), one_line("a\\x1bb"), one_line(None)
    ('2026 对接会 第二场', 'a\ufffdb', '')
    """
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return _joined(UNPRINTABLE.sub("\ufffd", str(value))).strip()  # RFC 5545 allows them in no text


def calendar_text(value: Any) -> str:
    """``value`` as one line of calendar text (:func:`one_line`), neutralised like every export
    (``=1+1`` gets a leading quote): safe in any property whatever it holds.

    >>> calendar_text("\\r=2+2"), calendar_text("常熟")
    ("'=2+2", '常熟')
    """
    return str(neutralise_cell(one_line(value)))


def _calendar_events(
    plan: Schedule,
    clock: SlotClock,
    participant: str | None,
    metadata: Mapping[str, Any] | None,
    tz: str | None,
    agendas: pd.DataFrame | None = None,
    reasons: pd.DataFrame | None = None,
) -> Any:
    """The calendar of ``participant`` (everyone's when None); every text in it passes through
    :func:`calendar_text` (or :func:`one_line` for the UID), so no value can break a content line."""
    from icalendar import Calendar, Event, vText

    zone = None
    if tz:
        zone = time_zone(tz)
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    meta = metadata or {}
    event_name, venue = calendar_text(meta.get("event_name")), calendar_text(meta.get("venue"))
    # an X- property is no TEXT to icalendar, which would write it unescaped: given as vText, it is escaped
    cal.add("x-wr-calname", vText(calendar_text(" ".join(
        x for x in (event_name, "对接洽谈 Docking meetings", one_line(participant)) if x))))
    stamp = created_at(metadata).replace(tzinfo=dt.UTC)
    run = one_line(meta.get("run_id")) or "matcher"
    version = one_line(meta.get("data_version"))
    if agendas is None:
        agendas = with_reasons(plan.agendas(), reasons, ("participant_id", "partner_id"))
    if participant is not None:
        agendas = agendas[agendas["participant_id"] == participant]
    for m in agendas.itertuples(index=False):
        partner = " / ".join(
            x for x in (calendar_text(m.partner_name_zh), calendar_text(m.partner_name_en)) if x
        ) or calendar_text(m.partner_id)
        me = " / ".join(x for x in (calendar_text(m.participant_name_zh), calendar_text(m.participant_name_en)) if x)
        event = Event()
        event.add("uid", f"{run}-{one_line(m.participant_id)}-{one_line(m.partner_id)}-{m.slot}@matcher")
        event.add("dtstamp", stamp)
        start, end = clock.starts(int(m.slot)), clock.ends(int(m.slot))
        event.add("dtstart", start.replace(tzinfo=zone) if zone else start)
        event.add("dtend", end.replace(tzinfo=zone) if zone else end)
        event.add("summary", calendar_text(f"{event_name + ' · ' if event_name else ''}对接洽谈 Docking: {partner}"))
        event.add("location", calendar_text(f"{venue + ', ' if venue else ''}桌 Table {m.table}"))
        where = "".join(f"{label}: {text}\n" for label, text in (("活动 Event", event_name), ("地点 Venue", venue)) if text)
        why = "".join(f"\n{label}: {calendar_text(text)}" for label, text in (
            ("对接理由", getattr(m, "reason_zh", None)), ("Why", getattr(m, "reason_en", None))) if calendar_text(text))
        event.add(
            "description",
            neutralise_cell(
                f"{where}{me} ({one_line(m.participant_id)}) ↔ {partner} ({one_line(m.partner_id)}); "
                f"时段 slot {m.slot}, 桌 table {m.table}{why}"
                + (f"\n数据版本 Data version: {version}; run {run}" if version else "")
            ),
        )
        event.add("categories", [calendar_text(m.participant_id)])
        cal.add_component(event)
    if zone is not None:
        cal.add_missing_timezones()
    return cal


#: Where the planners are: the zone the app shows times in (a planner in Beijing reads Beijing time, whatever
#: the server's clock) and upload folders are named in. ``MATCHER_TIMEZONE`` (an IANA name) changes it.
TIME_ZONE_ENV = "MATCHER_TIMEZONE"
HOME_ZONE = "Asia/Shanghai"


def home_zone() -> ZoneInfo:
    """The zone of :data:`TIME_ZONE_ENV`, default :data:`HOME_ZONE`; an unknown name fails as :func:`time_zone`."""
    return time_zone(os.environ.get(TIME_ZONE_ENV, "").strip() or HOME_ZONE)


def home_now() -> dt.datetime:
    """The time now in :func:`home_zone`, without the zone."""
    return dt.datetime.now(home_zone()).replace(tzinfo=None)


def time_zone(name: str) -> ZoneInfo:
    """The IANA time zone ``name`` (e.g. Asia/Shanghai); a planner-readable error when it is unknown."""
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise MatcherError(f"unknown time zone {name!r}; use an IANA name such as Asia/Shanghai or Asia/Urumqi") from None


def write_ics(
    plan: Schedule,
    path: str | Path,
    clock: SlotClock,
    *,
    participant: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    tz: str | None = HOME_ZONE,
    reasons: pd.DataFrame | None = None,
) -> Path:
    """An iCalendar file with one entry per participant per meeting (two per meeting; each
    participant's entries carry its id as category), or only ``participant``'s entries. With
    ``reasons`` (the shortlist, with ``reason_zh``/``reason_en``) each entry says why the pair meets."""
    if clock is None:
        raise MatcherError(
            "a calendar needs the meeting date: give --date YYYY-MM-DD (and --start, --minutes)"
        )
    path = Path(path)
    return write_bytes(path, _calendar_events(plan, clock, participant, metadata, tz, reasons=reasons).to_ical())


def write_ics_per_participant(plan: Schedule, directory: str | Path, clock: SlotClock, **options: Any) -> list[Path]:
    """One ``<participant_id>.ics`` per participant in ``directory`` (see :func:`calendar_file_names`),
    written as a set: :func:`stage_ics_per_participant` (which takes the ``options``), then
    :meth:`StagedCalendars.commit`."""
    return stage_ics_per_participant(plan, directory, clock, **options).commit()


#: The PRODID of every calendar written here.
PRODID = "-//matcher//docking meetings//ZH-EN"
#: Most bytes (UTF-8) of a calendar's file name before ``.ics``: a longer name is cut and marked with a hash
#: of the whole id, so it fits every file system's 255 bytes with room for the temporary names beside it.
MAX_NAME_BYTES = 100
#: The hash added to a name cut short, or shared by two ids: ``-`` and 8 hex digits of the id's SHA-256.
_HASH_LEN = 9


def _id_hash(pid: Any) -> str:
    return "-" + hashlib.sha256(str(pid).encode("utf-8", "surrogatepass")).hexdigest()[:_HASH_LEN - 1]


def calendar_file_names(ids: list[str]) -> dict[str, str]:
    """A distinct ``.ics`` file name per participant id: the id as :func:`matcher.text.file_part` makes any
    text a file name (``_`` when nothing is left); a name longer than
    :data:`MAX_NAME_BYTES` is cut there and gets ``-`` and 8 hex digits of the id's SHA-256, so every
    name fits a file system; where two ids give the same name, ignoring case (as Windows and macOS
    compare file names), each of them gets the same hash (``a/b`` → ``a_b-1a2b3c4d.ics``), so no
    calendar overwrites another.

    >>> calendar_file_names(["C001", "M/2"])
    {'C001': 'C001.ics', 'M/2': 'M_2.ics'}
    >>> sorted(calendar_file_names(["c001", "C001"]).values())
    ['C001-a4906a54.ics', 'c001-26c0829c.ics']
    >>> [len(n.encode()) for n in calendar_file_names(["纺" * 90]).values()]
    [103]
    """
    cleaned = {pid: file_part(pid) or "_" for pid in ids}
    hashed = set()
    for pid, name in cleaned.items():
        raw = name.encode("utf-8", "surrogatepass")
        if len(raw) > MAX_NAME_BYTES:  # cut on a character, never inside one
            cleaned[pid] = raw[:MAX_NAME_BYTES - _HASH_LEN].decode("utf-8", "ignore") + _id_hash(pid)
            hashed.add(pid)
    count: dict[str, int] = {}
    for name in cleaned.values():
        count[name.casefold()] = count.get(name.casefold(), 0) + 1
    names = {pid: name if count[name.casefold()] == 1 or pid in hashed else name + _id_hash(pid)
             for pid, name in cleaned.items()}
    taken = [n.casefold() for n in names.values()]
    if len(set(taken)) != len(taken):  # a cleaned name that equals another's with its suffix: never silently lost
        raise MatcherError("two participants would share one calendar file name: "
                           + ", ".join(sorted(p for p, n in names.items() if taken.count(n.casefold()) > 1)))
    return {pid: f"{name}.ics" for pid, name in names.items()}


def earlier_calendars(directory: str | Path, keep: str | Path | None = None) -> list[Path]:
    """The ``.ics`` files (any case of the suffix) that ``directory`` holds, but ``keep`` (the
    whole-schedule calendar written beside them); none when the folder is not there."""
    folder = Path(directory)
    if not folder.is_dir():
        return []
    found = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".ics" and not p.name.startswith(".")
                   and p.is_file())
    if keep is not None and Path(keep).exists():
        found = [p for p in found if not os.path.samefile(p, keep)]
    return found


class StagedCalendars:
    """Per-participant calendars written whole into a hidden staging folder beside (or in) their
    folder, not yet in it: :meth:`commit` moves them in together, :meth:`discard` removes them."""

    def __init__(self, directory: Path, staging: Path, names: list[str], earlier: list[Path]) -> None:
        self.directory, self.staging, self.names = directory, staging, names
        #: ``.ics`` files of an earlier run that :meth:`commit` removes (none unless ``replace_earlier``); one
        #: of a name this run writes, also in another case (the same file on Windows and macOS), is replaced.
        ours = {n.casefold() for n in names}
        self.earlier = [p for p in earlier if p.name.casefold() not in ours]
        #: Files of the same name that :meth:`commit` replaces.
        self.replaced = [directory / n for n in names if (directory / n).exists()]

    def commit(self) -> list[Path]:
        """Move the calendars into their folder (one rename when the folder is new), then remove the
        earlier run's; returns the calendars' paths."""
        try:
            if not self.directory.exists():
                self.directory.parent.mkdir(parents=True, exist_ok=True)
                os.rename(self.staging, self.directory)
            else:
                for name in self.names:
                    os.replace(self.staging / name, self.directory / name)
                self.staging.rmdir()
                for old in self.earlier:
                    old.unlink(missing_ok=True)
        except OSError as err:
            raise MatcherError(f"cannot move the calendars into {self.directory}: {err.strerror or err}; the "
                               f"calendars written are in {self.staging}") from err
        return [self.directory / n for n in self.names]

    def discard(self) -> None:
        """Remove the staging folder and the calendars in it; the calendar folder is as it was."""
        shutil.rmtree(self.staging, ignore_errors=True)


def stage_ics_per_participant(
    plan: Schedule,
    directory: str | Path,
    clock: SlotClock,
    *,
    metadata: Mapping[str, Any] | None = None,
    tz: str | None = HOME_ZONE,
    replace_earlier: bool = False,
    keep: str | Path | None = None,
    reasons: pd.DataFrame | None = None,
) -> StagedCalendars:
    """Write every participant's calendar into a staging folder, nothing yet into ``directory``.

    The staging folder is a hidden ``.<name>.<random>.partial`` folder in ``directory`` (or, when
    ``directory`` is not there yet, in its nearest existing parent), so moving the calendars in is a
    rename on one file system. With ``replace_earlier`` the ``.ics`` files ``directory`` held (but
    ``keep``) are removed when the new ones are in, so the folder holds this run's calendars only.

    Raises
    ------
    MatcherError
        A calendar that cannot be written, naming it; the staging folder is removed and nothing in
        ``directory`` has changed.
    """
    if clock is None:
        raise MatcherError("a calendar needs the meeting date: give --date YYYY-MM-DD (and --start, --minutes)")
    directory = Path(directory)
    agendas = with_reasons(plan.agendas(), reasons, ("participant_id", "partner_id"))
    ids = sorted(set(plan.meetings["left_id"]) | set(plan.meetings["right_id"]))
    names = calendar_file_names(ids)
    # every calendar made before a byte is written: an error in one leaves nothing behind
    data = {names[pid]: _calendar_events(plan, clock, pid, metadata, tz, agendas).to_ical() for pid in ids}
    base = next(p for p in (directory, *directory.parents) if p.is_dir())
    stem = "calendars" if base == directory else directory.name
    remove_orphans(base)  # staging folders a killed run left
    staging = partial_path(base / stem)
    try:
        staging.mkdir()
        for name, content in data.items():
            write_bytes(staging / name, content)
    except BaseException as err:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(err, (OSError, MatcherError)):
            cause = err.__cause__ if isinstance(err.__cause__, OSError) else err
            reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
            raise MatcherError(f"cannot write the calendars into {directory}: {reason}. Nothing was written "
                               "there") from err
        raise
    earlier = earlier_calendars(directory, keep) if replace_earlier else []
    return StagedCalendars(directory, staging, [names[pid] for pid in ids], earlier)
