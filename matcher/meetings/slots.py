"""Slots: their wall-clock times, participants' availability windows and locked meetings.

:class:`SlotClock` turns 1-based slot numbers into times; :func:`read_availability` and
:func:`read_locks` read the planners' windows and locks from a mapping, a frame or a file (any
table :func:`matcher.meetings.tables.read_pairs_table` reads), collecting every bad row.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher import limits
from matcher.exceptions import MatcherError, ValidationError
from matcher.meetings.tables import problem_row, table_source


@dataclass(frozen=True)
class SlotClock:
    """Wall-clock times of the slots: the meeting date, the start of slot 1 and the slot length.

    >>> clock = SlotClock(dt.date(2026, 5, 20), dt.time(9, 0), 20)
    >>> clock.label(3)
    '09:40–10:00'
    """

    date: dt.date
    start: dt.time
    minutes: int = 20

    @classmethod
    def parse(cls, date: str | None, start: str | None = "09:00", minutes: int = 20) -> SlotClock | None:
        """Build from ``YYYY-MM-DD`` and ``HH:MM`` text; ``None`` when no date is given."""
        if not date:
            return None
        try:
            day = dt.date.fromisoformat(date)
        except ValueError as err:
            raise MatcherError(f"meeting date {date!r} is not YYYY-MM-DD") from err
        try:
            hour, minute = (int(x) for x in (start or "09:00").split(":"))
            begin = dt.time(hour, minute)
        except ValueError as err:
            raise MatcherError(f"start time {start!r} is not HH:MM") from err
        if not limits.MIN_YEAR <= day.year <= limits.MAX_YEAR:
            raise MatcherError(f"meeting date {date} is not between {limits.MIN_YEAR} and {limits.MAX_YEAR}")
        if not limits.MIN_SLOT_MINUTES <= int(minutes) <= limits.MAX_SLOT_MINUTES:
            raise MatcherError(f"slot length must be {limits.MIN_SLOT_MINUTES} to {limits.MAX_SLOT_MINUTES} "
                               f"minutes, not {minutes}")
        return cls(day, begin, int(minutes))

    def starts(self, slot: int) -> dt.datetime:
        """Start of a 1-based slot."""
        return dt.datetime.combine(self.date, self.start) + dt.timedelta(minutes=self.minutes * (slot - 1))

    def ends(self, slot: int) -> dt.datetime:
        return self.starts(slot) + dt.timedelta(minutes=self.minutes)

    def label(self, slot: int) -> str:
        return f"{self.starts(slot):%H:%M}–{self.ends(slot):%H:%M}"



_RANGE = re.compile(r"^\s*(\d+)\s*(?:[-–~]\s*(\d+))?\s*$")


def parse_slots(text: Any) -> list[int]:
    """Parse ``"1-4;7"`` (also ``,``/space separated, ``–`` or ``~`` for ranges) into slot numbers.

    >>> parse_slots("1-3; 7")
    [1, 2, 3, 7]
    """
    if isinstance(text, (int, np.integer)):
        return [int(text)]
    out: list[int] = []
    for part in re.split(r"[;,\s]+", str(text).strip()):
        if not part:
            continue
        m = _RANGE.match(part)
        if not m:
            raise ValueError(f"{part!r} is not a slot number or range like 3-6")
        lo, hi = int(m.group(1)), int(m.group(2) or m.group(1))
        if hi < lo:
            raise ValueError(f"range {part!r} runs backwards")
        if hi > limits.MAX_SLOTS:
            raise ValueError(f"slot {hi} is past the last slot an event can have ({limits.MAX_SLOTS})")
        out.extend(range(lo, hi + 1))
    return sorted(set(out))


def read_availability(
    source: Mapping[str, Iterable[int]] | pd.DataFrame | str | Path | None,
) -> dict[str, frozenset[int]]:
    """Participant -> allowed 1-based slots.

    Accepts a mapping, a DataFrame or a file with columns ``participant_id`` (or ``id``) and
    ``slots`` (``"1-4;7"``; several rows per participant are joined).
    """
    if source is None:
        return {}
    if isinstance(source, Mapping):
        return {
            str(k): frozenset(
                parse_slots(";".join(map(str, v))) if not isinstance(v, str) else parse_slots(v)
            )
            for k, v in source.items()
        }
    frame, name = table_source(source, "availability", "availability", "availability")
    id_col = next((c for c in ("participant_id", "id", "entity_id") if c in frame.columns), None)
    slot_col = next((c for c in ("slots", "slot", "available_slots") if c in frame.columns), None)
    if id_col is None or slot_col is None:
        raise ValidationError(
            f"{name} needs columns participant_id,slots (e.g. C001,1-4;7); found: "
            f"{', '.join(map(str, frame.columns))}",
            pd.DataFrame([problem_row(name, 1, "participant_id/slots", "", "required column missing")]),
        )
    out: dict[str, set[int]] = defaultdict(set)
    problems = []
    for row, (pid, slots) in enumerate(zip(frame[id_col], frame[slot_col], strict=False), start=2):
        if pd.isna(pid) or str(pid).strip() == "":
            problems.append(problem_row(name, row, id_col, "", "empty id"))
            continue
        try:
            out[str(pid).strip()].update(parse_slots("" if pd.isna(slots) else slots))
        except ValueError as err:
            problems.append(problem_row(name, row, slot_col, slots, str(err)))
    if problems:
        raise ValidationError(f"{name} has {len(problems)} bad row(s)", pd.DataFrame(problems))
    return {k: frozenset(v) for k, v in out.items()}


def read_locks(
    source: Mapping[tuple[str, str], Any] | pd.DataFrame | str | Path | None,
) -> dict[tuple[str, str], tuple[int, int | None]]:
    """Locked meetings: ``(left_id, right_id) -> (slot, table or None)``, 1-based.

    Accepts a mapping whose values are a slot or ``(slot, table)``, or a DataFrame / file with
    columns ``left_id, right_id, slot[, table]``.
    """
    if source is None:
        return {}
    if isinstance(source, Mapping):
        out = {}
        for (a, b), value in source.items():
            slot, table = value if isinstance(value, (tuple, list)) else (value, None)
            out[(str(a), str(b))] = (int(slot), None if table is None else int(table))
        return out
    frame, name = table_source(source, "locked meetings", "locks", "locks")
    missing = [c for c in ("left_id", "right_id", "slot") if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"{name} lacks column(s) {', '.join(missing)}; expected left_id,right_id,slot[,table]",
            pd.DataFrame([problem_row(name, 1, c, "", "required column missing") for c in missing]),
        )
    out, problems = {}, []
    tables = frame["table"] if "table" in frame.columns else pd.Series(pd.NA, index=frame.index)
    for row, (a, b, slot, table) in enumerate(
        zip(frame["left_id"], frame["right_id"], frame["slot"], tables, strict=False), start=2
    ):
        parsed = []
        for col, value, required in (("slot", slot, True), ("table", table, False)):
            if pd.isna(value) or str(value).strip() == "":
                if required:
                    problems.append(problem_row(name, row, col, "", "empty"))
                parsed.append(None)
                continue
            try:
                number = float(value)
                if number != int(number):
                    raise ValueError
                parsed.append(int(number))
            except ValueError:
                problems.append(problem_row(name, row, col, value, "not a whole number"))
                parsed.append(None)
        if pd.isna(a) or pd.isna(b):
            problems.append(problem_row(name, row, "left_id/right_id", "", "empty id"))
            continue
        if parsed[0] is not None:
            out[(str(a).strip(), str(b).strip())] = (parsed[0], parsed[1])
    if problems:
        raise ValidationError(f"{name} has {len(problems)} bad row(s)", pd.DataFrame(problems))
    return out


def slots_text(slots: Iterable[int]) -> str:
    """1-based slots as compact ranges: ``1–3, 7``."""
    items = sorted(set(slots))
    if not items:
        return "none"
    parts, start, prev = [], items[0], items[0]
    for s in items[1:] + [None]:
        if s is not None and s == prev + 1:
            prev = s
            continue
        parts.append(f"{start}" if start == prev else f"{start}–{prev}")
        if s is not None:
            start = prev = s
    return ", ".join(parts)
