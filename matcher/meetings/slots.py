"""Slots: their wall-clock times, participants' availability windows and locked meetings.

:class:`SlotClock` turns 1-based slot numbers into times; :func:`read_availability` and
:func:`read_locks` read the planners' windows and locks from a mapping, a frame or a file (any
table :func:`matcher.meetings.tables.read_pairs_table` reads), collecting every bad row: a window
or lock outside the meeting's slots and tables is refused with its row, never turned into a
meeting that is silently dropped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher import limits
from matcher.exceptions import MatcherError, ValidationError
from matcher.meetings.ids import KnownIds
from matcher.meetings.tables import PAIR, excel_rows, id_problems, problem_row, table_source


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
        """Build from ``YYYY-MM-DD`` and ``HH:MM`` text; ``None`` when no date is given. The start and
        the slot length are checked either way (a bad one is a mistake even without a date)."""
        try:
            hour, minute = (int(x) for x in (start or "09:00").split(":"))
            begin = dt.time(hour, minute)
        except ValueError as err:
            raise MatcherError(f"start time {start!r} is not HH:MM") from err
        if not limits.MIN_SLOT_MINUTES <= int(minutes) <= limits.MAX_SLOT_MINUTES:
            raise MatcherError(f"slot length must be {limits.MIN_SLOT_MINUTES} to {limits.MAX_SLOT_MINUTES} "
                               f"minutes, not {minutes}")
        if not date:
            return None
        try:
            day = dt.date.fromisoformat(date)
        except ValueError as err:
            shaped = re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(date).strip()) is not None
            raise MatcherError(f"meeting date {date!r} is not a date of the calendar (e.g. February has no 30th)"
                               if shaped else f"meeting date {date!r} is not YYYY-MM-DD") from err
        if not limits.MIN_YEAR <= day.year <= limits.MAX_YEAR:
            raise MatcherError(f"meeting date {date} is not between {limits.MIN_YEAR} and {limits.MAX_YEAR}")
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
    >>> parse_slots("0-2")
    Traceback (most recent call last):
    ValueError: slots are numbered from 1; '0-2' starts at 0
    """
    if isinstance(text, (int, np.integer)):
        text = str(text)
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
        if lo < 1:
            raise ValueError(f"slots are numbered from 1; {part!r} starts at {lo}")
        if hi > limits.MAX_SLOTS:
            raise ValueError(f"slot {hi} is past the last slot an event can have ({limits.MAX_SLOTS})")
        out.extend(range(lo, hi + 1))
    return sorted(set(out))


def _past_last(slots: Iterable[int], n_slots: int | None) -> str | None:
    """Why ``slots`` cannot be used with ``n_slots`` slots (some lie past the last), or None."""
    late = sorted(s for s in slots if n_slots is not None and s > n_slots)
    if late:
        return f"slot {slots_text(late)} is past the last slot: this meeting has slots 1–{n_slots}"
    return None


def lock_outside(slot: int, table: int | None, n_slots: int | None, n_tables: int | None) -> str | None:
    """Why a lock to ``slot`` (and ``table``) lies outside the meeting's slots and tables, or None.

    >>> lock_outside(13, None, 12, 20)
    "slot 13 is outside this meeting's slots 1–12"
    """
    for what, value, most in (("slot", slot, n_slots), ("table", table, n_tables)):
        if value is not None and (value < 1 or (most is not None and value > most)):
            return f"{what} {value} is outside this meeting's {what}s " + (
                f"1–{most}" if most is not None else "(numbered from 1)")
    return None


def _rows_of(source: Any, frame: pd.DataFrame) -> list[Any]:
    """Row numbers for messages: the file's (Excel) rows, or 1, 2, ... for entries of a mapping."""
    return list(range(1, len(frame) + 1)) if isinstance(source, Mapping) else excel_rows(frame)


def read_availability(
    source: Mapping[str, Iterable[int]] | pd.DataFrame | str | Path | None,
    *,
    n_slots: int | None = None,
    known: KnownIds | None = None,
) -> dict[str, frozenset[int]]:
    """Participant -> allowed 1-based slots.

    Parameters
    ----------
    source : mapping, DataFrame or path, optional
        A mapping ``id -> slots``, or a frame / file with columns ``participant_id`` (or ``id``)
        and ``slots`` (``"1-4;7"``; several rows per participant are joined).
    n_slots : int, optional
        The meeting's number of slots: a slot past it is refused.
    known : KnownIds, optional
        Ids to check the participants against (see :func:`matcher.meetings.tables.id_problems`).

    Raises
    ------
    ValidationError
        Every bad row: an empty or bad id, an empty ``slots`` cell (a participant who can come at
        any slot is left out of the file; one who cannot come at all has no meetings to
        schedule), a slot that is not a number, 0, or past ``n_slots``.
    """
    if source is None:
        return {}
    if isinstance(source, Mapping):
        name, id_col, slot_col = "availability", "participant_id", "slots"
        frame = pd.DataFrame({
            id_col: [str(k) for k in source],
            slot_col: [str(v) if isinstance(v, (str, int, np.integer)) else ";".join(map(str, v))
                       for v in source.values()],
        })
    else:
        frame, name = table_source(source, "availability", "availability", "availability")
        id_col = next((c for c in ("participant_id", "id", "entity_id") if c in frame.columns), None)
        slot_col = next((c for c in ("slots", "slot", "available_slots") if c in frame.columns), None)
    if id_col is None or slot_col is None:
        raise ValidationError(
            f"{name} needs columns participant_id,slots (e.g. C001,1-4;7); found: "
            f"{', '.join(map(str, frame.columns))}",
            pd.DataFrame([problem_row(name, 1, "participant_id/slots", "", "required column missing")]),
        )
    rows = _rows_of(source, frame)
    ids = frame[[id_col]].apply(lambda c: c.astype(str).str.strip().where(c.notna()))
    out: dict[str, set[int]] = defaultdict(set)
    problems = id_problems(ids, [id_col], name, known=known, rows=rows)
    for row, pid, slots in zip(rows, ids[id_col], frame[slot_col], strict=True):
        if pd.isna(pid) or pid == "":
            problems.append(problem_row(name, row, id_col, "", "empty id"))
            continue
        if pd.isna(slots) or str(slots).strip() == "":
            problems.append(problem_row(
                name, row, slot_col, "", f"empty: give the slots {pid} can attend (e.g. 1-4;7), or leave "
                f"{pid} out of the file if any slot suits"))
            continue
        try:
            parsed = parse_slots(slots)
        except ValueError as err:
            problems.append(problem_row(name, row, slot_col, slots, str(err)))
            continue
        reason = _past_last(parsed, n_slots)
        if reason:
            problems.append(problem_row(name, row, slot_col, slots, reason))
            continue
        out[pid].update(parsed)
    if problems:
        raise ValidationError(f"{name} has {len(problems)} bad row(s)", pd.DataFrame(problems))
    return {k: frozenset(v) for k, v in out.items()}


def read_locks(
    source: Mapping[tuple[str, str], Any] | pd.DataFrame | str | Path | None,
    *,
    n_slots: int | None = None,
    n_tables: int | None = None,
    known: KnownIds | None = None,
) -> dict[tuple[str, str], tuple[int, int | None]]:
    """Locked meetings: ``(left_id, right_id) -> (slot, table or None)``, 1-based.

    Parameters
    ----------
    source : mapping, DataFrame or path, optional
        A mapping whose values are a slot or ``(slot, table)``, or a frame / file with columns
        ``left_id, right_id, slot[, table]``.
    n_slots, n_tables : int, optional
        The meeting's slots and tables: a row of a file or frame locking a meeting outside them
        is refused. A mapping's locks are bookings a program holds (the app's stored bookings
        after the planner cut the slots): :func:`matcher.meetings.schedule.schedule` reports
        such a meeting as unscheduled, with the same reason (:func:`lock_outside`).
    known : KnownIds, optional
        Ids to check the locked pairs' ids against (see :func:`matcher.meetings.tables.id_problems`).

    Raises
    ------
    ValidationError
        Every bad row: an empty or bad id, an empty slot, a slot or table that is not a whole
        number (from 1 to ``n_slots`` / ``n_tables`` in a file or frame).
    """
    if source is None:
        return {}
    if isinstance(source, Mapping):
        name = "locks"
        entries = [(a, b, *(value if isinstance(value, (tuple, list)) else (value, None)))
                   for (a, b), value in source.items()]
        frame = pd.DataFrame(entries, columns=["left_id", "right_id", "slot", "table"], dtype=object)
    else:
        frame, name = table_source(source, "locked meetings", "locks", "locks")
    missing = [c for c in ("left_id", "right_id", "slot") if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"{name} lacks column(s) {', '.join(missing)}; expected left_id,right_id,slot[,table]",
            pd.DataFrame([problem_row(name, 1, c, "", "required column missing") for c in missing]),
        )
    rows = _rows_of(source, frame)
    ids = frame[PAIR].apply(lambda c: c.astype(str).str.strip().where(c.notna()))
    problems = id_problems(ids, PAIR, name, known=known, rows=rows)
    out: dict = {}
    first: dict = {}  # pair (either way round) -> (row, slot, table) of its first lock
    tables = frame["table"] if "table" in frame.columns else pd.Series(pd.NA, index=frame.index)
    if isinstance(source, Mapping):
        n_slots = n_tables = None  # see n_slots above
    for row, a, b, slot, table in zip(rows, ids["left_id"], ids["right_id"], frame["slot"], tables, strict=True):
        parsed, before = [], len(problems)
        for col, value, required in (("slot", slot, True), ("table", table, False)):
            if value is None or pd.isna(value) or str(value).strip() == "":
                if required:
                    problems.append(problem_row(name, row, col, "", "empty"))
                parsed.append(None)
                continue
            try:  # exactly, as typed: a float would show a 26-digit slot as 12345678901234568244756480
                number = Decimal(str(value).strip())
                if not number.is_finite() or number != number.to_integral_value():
                    raise ValueError
            except (TypeError, ValueError, ArithmeticError):
                problems.append(problem_row(name, row, col, value, "not a whole number"))
                parsed.append(None)
                continue
            if number.adjusted() > 1000:  # 1e999999999 is whole, but no int should be made of it
                problems.append(problem_row(name, row, col, value, f"{col} number past any meeting's {col}s"))
                parsed.append(None)
                continue
            reason = lock_outside(int(number), None, n_slots, None) if col == "slot" else \
                lock_outside(1, int(number), None, n_tables)
            if reason:
                problems.append(problem_row(name, row, col, value, reason))
                parsed.append(None)
                continue
            parsed.append(int(number))
        for col, pid in (("left_id", a), ("right_id", b)):
            if pd.isna(pid) or pid == "":
                problems.append(problem_row(name, row, col, "", "empty id"))
        pair = (a, b) if pd.isna(a) or pd.isna(b) or a <= b else (b, a)
        if len(problems) == before:  # a good row locking a pair again elsewhere: which one holds? said, not guessed
            if pair in first and first[pair][1:] != (parsed[0], parsed[1]):
                problems.append(problem_row(name, row, "slot", slot, f"the pair is locked again, differently "
                                            f"from row {first[pair][0]}; keep one row per pair"))
            first.setdefault(pair, (row, parsed[0], parsed[1]))
        if not problems:
            out[(a, b)] = (parsed[0], parsed[1])
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
