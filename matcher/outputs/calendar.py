"""ICS calendars: one entry per participant per meeting, for everyone or for one participant.

An entry's summary names the event (``metadata["event_name"]``) and the partner, its location the
venue (``metadata["venue"]``) and the table. Summaries, locations, descriptions and categories are
neutralised like every export (:mod:`matcher.outputs.cells`); the time stamp is the run's time
(:func:`created_at`), so the same run gives the same file. :func:`write_ics_per_participant` gives
every participant a file name of its own, also where ids differ only in characters a file name
cannot hold or in case.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from matcher.exceptions import MatcherError
from matcher.meetings.slots import SlotClock
from matcher.meetings.timetable import Schedule
from matcher.outputs.atomic import write_bytes
from matcher.outputs.cells import cell_text, neutralise_cell
from matcher.outputs.metadata import created_at


def _calendar_events(
    plan: Schedule,
    clock: SlotClock,
    participant: str | None,
    metadata: Mapping[str, Any] | None,
    tz: str | None,
) -> Any:
    from icalendar import Calendar, Event

    zone = None
    if tz:
        zone = time_zone(tz)
    cal = Calendar()
    cal.add("prodid", "-//matcher//docking meetings//ZH-EN")
    cal.add("version", "2.0")
    meta = metadata or {}
    event_name, venue = cell_text(meta.get("event_name")).strip(), cell_text(meta.get("venue")).strip()
    cal.add("x-wr-calname", neutralise_cell(" ".join(
        x for x in (event_name, "对接洽谈 Docking meetings", str(participant or "")) if x)))
    stamp = created_at(metadata).replace(tzinfo=dt.UTC)
    run = str(meta.get("run_id", "matcher"))
    agendas = plan.agendas()
    if participant is not None:
        agendas = agendas[agendas["participant_id"] == participant]
    for m in agendas.itertuples(index=False):
        partner = " / ".join(
            x for x in (cell_text(m.partner_name_zh), cell_text(m.partner_name_en)) if x
        ) or cell_text(m.partner_id)
        me = " / ".join(x for x in (cell_text(m.participant_name_zh), cell_text(m.participant_name_en)) if x)
        event = Event()
        event.add("uid", f"{run}-{m.participant_id}-{m.partner_id}-{m.slot}@matcher")
        event.add("dtstamp", stamp)
        start, end = clock.starts(int(m.slot)), clock.ends(int(m.slot))
        event.add("dtstart", start.replace(tzinfo=zone) if zone else start)
        event.add("dtend", end.replace(tzinfo=zone) if zone else end)
        event.add("summary", neutralise_cell(f"{event_name + ' · ' if event_name else ''}对接洽谈 Docking: {partner}"))
        event.add("location", neutralise_cell(f"{venue + ', ' if venue else ''}桌 Table {m.table}"))
        where = "".join(f"{label}: {text}\n" for label, text in (("活动 Event", event_name), ("地点 Venue", venue)) if text)
        event.add(
            "description",
            neutralise_cell(
                f"{where}{me} ({m.participant_id}) ↔ {partner} ({m.partner_id}); 时段 slot {m.slot}, "
                f"桌 table {m.table}"
            ),
        )
        event.add("categories", [neutralise_cell(str(m.participant_id))])
        cal.add_component(event)
    if zone is not None:
        cal.add_missing_timezones()
    return cal


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
    tz: str | None = "Asia/Shanghai",
) -> Path:
    """An iCalendar file with one entry per participant per meeting (two per meeting; each
    participant's entries carry its id as category), or only ``participant``'s entries."""
    if clock is None:
        raise MatcherError(
            "a calendar needs the meeting date: give --date YYYY-MM-DD (and --start, --minutes)"
        )
    path = Path(path)
    return write_bytes(path, _calendar_events(plan, clock, participant, metadata, tz).to_ical())


def write_ics_per_participant(
    plan: Schedule,
    directory: str | Path,
    clock: SlotClock,
    *,
    metadata: Mapping[str, Any] | None = None,
    tz: str | None = "Asia/Shanghai",
) -> list[Path]:
    """One ``<participant_id>.ics`` per participant in ``directory`` (see :func:`calendar_file_names`)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ids = sorted(set(plan.meetings["left_id"]) | set(plan.meetings["right_id"]))
    names = calendar_file_names(ids)
    return [write_ics(plan, directory / names[pid], clock, participant=pid, metadata=metadata, tz=tz)
            for pid in ids]


def calendar_file_names(ids: list[str]) -> dict[str, str]:
    """A distinct ``.ics`` file name per participant id: the id with every character but letters,
    digits, ``-``, ``_`` and ``.`` (not first: no hidden file) as ``_``; where two ids give the same name, ignoring case (as
    Windows and macOS compare file names), each of them gets ``-`` and 8 hex digits of the id's
    SHA-256 (``a/b`` → ``a_b-1a2b3c4d.ics``), so no calendar overwrites another.

    >>> calendar_file_names(["C001", "M/2"])
    {'C001': 'C001.ics', 'M/2': 'M_2.ics'}
    >>> sorted(calendar_file_names(["c001", "C001"]).values())
    ['C001-a4906a54.ics', 'c001-26c0829c.ics']
    """
    cleaned = {pid: "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(pid)) for pid in ids}
    cleaned = {pid: "_" + name if name.startswith(".") or not name else name for pid, name in cleaned.items()}
    count: dict[str, int] = {}
    for name in cleaned.values():
        count[name.casefold()] = count.get(name.casefold(), 0) + 1
    names = {pid: name if count[name.casefold()] == 1 else f"{name}-{hashlib.sha256(str(pid).encode()).hexdigest()[:8]}" for pid, name in cleaned.items()}
    taken = [n.casefold() for n in names.values()]
    if len(set(taken)) != len(taken):  # a cleaned name that equals another's with its suffix: never silently lost
        raise MatcherError("two participants would share one calendar file name: "
                           + ", ".join(sorted(p for p, n in names.items() if taken.count(n.casefold()) > 1)))
    return {pid: f"{name}.ics" for pid, name in names.items()}
