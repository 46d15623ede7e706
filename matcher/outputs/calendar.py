"""ICS calendars: one entry per participant per meeting, for everyone or for one participant.

Summaries, descriptions and categories are neutralised like every export
(:mod:`matcher.outputs.cells`); the time stamp is the run's time (:func:`created_at`), so the
same run gives the same file.
"""

from __future__ import annotations

import datetime as dt
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
    cal.add("x-wr-calname", "对接洽谈 Docking meetings" + (f" {participant}" if participant else ""))
    stamp = created_at(metadata).replace(tzinfo=dt.UTC)
    run = str((metadata or {}).get("run_id", "matcher"))
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
        event.add("summary", neutralise_cell(f"对接洽谈 Docking: {partner}"))
        event.add("location", f"桌 Table {m.table}")
        event.add(
            "description",
            neutralise_cell(
                f"{me} ({m.participant_id}) ↔ {partner} ({m.partner_id}); 时段 slot {m.slot}, "
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
    """One ``<participant_id>.ics`` per participant in ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    out = []
    for pid in sorted(set(plan.meetings["left_id"]) | set(plan.meetings["right_id"])):
        safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in pid)
        out.append(
            write_ics(plan, directory / f"{safe}.ics", clock, participant=pid, metadata=metadata, tz=tz)
        )
    return out
