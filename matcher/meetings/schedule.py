"""Meeting schedules: put every shortlisted docking pair into a time slot and at a table.

A docking meeting has ``n_slots`` time slots and ``n_tables`` tables. Each shortlisted pair gets one
slot and one table; nobody and no table is double-booked; participants' availability windows and
locked meetings are respected; idle gaps per participant are kept small.

How it works
------------
Slots are colours of the meeting graph (participants = nodes, meetings = edges): a proper edge
colouring is exactly a timetable without double booking. When every meeting pairs two sides the
graph is bipartite and, by König's edge-colouring theorem, ``Δ`` colours suffice, where ``Δ`` is the
largest number of meetings of any one participant. With ``M`` tables a slot holds at most ``M``
meetings, so no timetable is shorter than ``T = max(Δ, ceil(E / M))``; a bipartite graph has an
*equitable* ``T``-edge-colouring (class sizes differ by at most one, de Werra), so ``T`` slots are
always enough. The scheduler reaches ``T``:

1. locked meetings are placed first;
2. the others are coloured with ``T`` colours by alternating-path (Kempe chain) recolouring:
   if ``a`` is free at ``u`` and ``b`` at ``v``, swapping ``a``/``b`` along the path from ``v``
   frees ``a`` at ``v`` (the path cannot reach ``u`` in a bipartite graph);
3. slots holding more than ``M`` meetings are evened out by swapping alternating paths that
   carry one more meeting of the full slot than of an emptier one;
4. meetings that still do not fit (availability windows, locks, too few slots or tables) try the
   remaining slots, then are reported as unscheduled with the reason in words;
5. a local search moves single meetings and swaps whole slots to shrink idle gaps;
6. tables are given per slot, keeping a participant at the same table when it can.

Recolouring never moves a locked meeting or a meeting into a slot outside its participants'
windows. Lower-scored meetings are placed last, so when something must give it is them.

Examples
--------
>>> import pandas as pd
>>> pairs = pd.DataFrame({"left_id": ["C1", "C1", "C2"], "right_id": ["M1", "M2", "M1"],
...                       "score": [0.9, 0.8, 0.7]})
>>> plan = schedule(pairs, n_slots=4, n_tables=2)
>>> plan.slots_used, plan.lower_bound, len(plan.unscheduled)
(2, 2, 0)
>>> plan.check_validity()
True
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher.exceptions import InfeasibleError, MatcherError, ValidationError
from matcher.meetings.select import Selection, prepare_suggestions, table_source

NAME_COLUMNS: tuple[str, ...] = ("left_name_zh", "left_name_en", "right_name_zh", "right_name_en")
MEETING_COLUMNS: list[str] = ["slot", "table", "left_id", "right_id", *NAME_COLUMNS, "score", "locked"]
UNSCHEDULED_COLUMNS: list[str] = ["left_id", "right_id", *NAME_COLUMNS, "score", "reason"]
#: Kempe attempts per meeting before it is left for the later phases (keeps the run bounded).
_KEMPE_TRIES = 40
#: Passes of the idle-gap local search (a fixed number, so results never depend on timing).
_GAP_PASSES = 2


# --------------------------------------------------------------------------------------------
# Slot clock
# --------------------------------------------------------------------------------------------
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
        if int(minutes) < 1:
            raise MatcherError(f"slot length must be at least 1 minute, not {minutes}")
        return cls(day, begin, int(minutes))

    def starts(self, slot: int) -> dt.datetime:
        """Start of a 1-based slot."""
        return dt.datetime.combine(self.date, self.start) + dt.timedelta(minutes=self.minutes * (slot - 1))

    def ends(self, slot: int) -> dt.datetime:
        return self.starts(slot) + dt.timedelta(minutes=self.minutes)

    def label(self, slot: int) -> str:
        return f"{self.starts(slot):%H:%M}–{self.ends(slot):%H:%M}"


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------
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
            pd.DataFrame(
                [
                    {
                        "file": name,
                        "row": 1,
                        "column": "participant_id/slots",
                        "value": "",
                        "reason": "required column missing",
                    }
                ]
            ),
        )
    out: dict[str, set[int]] = defaultdict(set)
    problems = []
    for row, (pid, slots) in enumerate(zip(frame[id_col], frame[slot_col], strict=False), start=2):
        if pd.isna(pid) or str(pid).strip() == "":
            problems.append({"file": name, "row": row, "column": id_col, "value": "", "reason": "empty id"})
            continue
        try:
            out[str(pid).strip()].update(parse_slots("" if pd.isna(slots) else slots))
        except ValueError as err:
            problems.append(
                {"file": name, "row": row, "column": slot_col, "value": slots, "reason": str(err)}
            )
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
            pd.DataFrame(
                [
                    {"file": name, "row": 1, "column": c, "value": "", "reason": "required column missing"}
                    for c in missing
                ]
            ),
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
                    problems.append({"file": name, "row": row, "column": col, "value": "", "reason": "empty"})
                parsed.append(None)
                continue
            try:
                number = float(value)
                if number != int(number):
                    raise ValueError
                parsed.append(int(number))
            except ValueError:
                problems.append(
                    {"file": name, "row": row, "column": col, "value": value, "reason": "not a whole number"}
                )
                parsed.append(None)
        if pd.isna(a) or pd.isna(b):
            problems.append(
                {"file": name, "row": row, "column": "left_id/right_id", "value": "", "reason": "empty id"}
            )
            continue
        if parsed[0] is not None:
            out[(str(a).strip(), str(b).strip())] = (parsed[0], parsed[1])
    if problems:
        raise ValidationError(f"{name} has {len(problems)} bad row(s)", pd.DataFrame(problems))
    return out


def _slots_text(slots: Iterable[int]) -> str:
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


# --------------------------------------------------------------------------------------------
# Result
# --------------------------------------------------------------------------------------------
@dataclass
class Schedule:
    """A timetable of docking meetings and what could not be fitted.

    Attributes
    ----------
    meetings : pandas.DataFrame
        One row per meeting: ``slot, table, left_id, right_id``, names, ``score``, ``locked``
        (1-based slots and tables), sorted by slot and table.
    unscheduled : pandas.DataFrame
        Requested meetings without a slot: ids, names, ``score`` and ``reason`` in words.
    n_slots, n_tables : int
    availability : dict
        Participant -> allowed 1-based slots (absent = any slot).
    locks : dict
        ``(left_id, right_id) -> (slot, table or None)``.
    requested : pandas.DataFrame
        The requested meetings after cleaning (one row per pair).
    max_load : int
        Largest number of requested meetings of one participant (``Δ``).
    lower_bound : int
        Fewest slots any timetable of the schedulable meetings can use: ``max(Δ, ceil(E/M))``.
    bipartite : bool
        Whether the meeting graph has two sides (then ``lower_bound`` slots are enough).
    explanation : list of str
        Plain sentences on what limited the schedule.
    """

    meetings: pd.DataFrame
    unscheduled: pd.DataFrame
    n_slots: int
    n_tables: int
    availability: dict[str, frozenset[int]]
    locks: dict[tuple[str, str], tuple[int, int | None]]
    requested: pd.DataFrame
    max_load: int
    lower_bound: int
    bipartite: bool
    explanation: list[str] = field(default_factory=list)
    names: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        """Every requested meeting has a slot and a table."""
        return self.unscheduled.empty

    @property
    def slots_used(self) -> int:
        """The last slot with a meeting (0 when nothing is scheduled)."""
        return int(self.meetings["slot"].max()) if len(self.meetings) else 0

    def participant_slots(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = defaultdict(list)
        for slot, a, b in zip(
            self.meetings["slot"], self.meetings["left_id"], self.meetings["right_id"], strict=False
        ):
            out[a].append(int(slot))
            out[b].append(int(slot))
        return {k: sorted(v) for k, v in out.items()}

    @property
    def idle_slots(self) -> dict[str, int]:
        """Participant -> empty slots between its first and last meeting."""
        return {p: s[-1] - s[0] + 1 - len(s) for p, s in self.participant_slots().items()}

    @property
    def idle_slots_total(self) -> int:
        return int(sum(self.idle_slots.values()))

    def raise_if_incomplete(self) -> None:
        """Raise :class:`~matcher.exceptions.InfeasibleError` naming the meetings that do not fit."""
        if self.complete:
            return
        rows = [
            f"{a}–{b}: {why}"
            for a, b, why in self.unscheduled[["left_id", "right_id", "reason"]]
            .head(10)
            .itertuples(index=False)
        ]
        more = f" (and {len(self.unscheduled) - 10} more)" if len(self.unscheduled) > 10 else ""
        raise InfeasibleError(
            f"{len(self.unscheduled)} meeting(s) cannot be scheduled{more}: " + "; ".join(rows)
        )

    def participants(self) -> pd.DataFrame:
        """One row per participant: names, meetings, first and last slot, idle slots."""
        slots = self.participant_slots()
        requested: dict[str, int] = defaultdict(int)
        side: dict[str, set[str]] = defaultdict(set)
        for a, b in zip(self.requested["left_id"], self.requested["right_id"], strict=False):
            requested[a] += 1
            requested[b] += 1
            side[a].add("left")
            side[b].add("right")
        rows = []
        for pid in sorted(requested):
            s = slots.get(pid, [])
            zh, en = self.names.get(pid, ("", ""))
            rows.append(
                {
                    "participant_id": pid,
                    "name_zh": zh,
                    "name_en": en,
                    "side": "/".join(sorted(side[pid])),
                    "requested": requested[pid],
                    "scheduled": len(s),
                    "first_slot": s[0] if s else pd.NA,
                    "last_slot": s[-1] if s else pd.NA,
                    "idle_slots": (s[-1] - s[0] + 1 - len(s)) if s else 0,
                    "available_slots": _slots_text(self.availability[pid])
                    if pid in self.availability
                    else "all",
                }
            )
        frame = pd.DataFrame(rows)
        for col in ("first_slot", "last_slot"):
            if col in frame:
                frame[col] = frame[col].astype("Int64")
        return frame

    def agendas(self) -> pd.DataFrame:
        """Every participant's meetings: ``participant_id``, names, slot, table, partner, score."""
        rows = []
        for m in self.meetings.itertuples(index=False):
            for me, other in (("left", "right"), ("right", "left")):
                rows.append(
                    {
                        "participant_id": getattr(m, f"{me}_id"),
                        "participant_name_zh": getattr(m, f"{me}_name_zh"),
                        "participant_name_en": getattr(m, f"{me}_name_en"),
                        "slot": m.slot,
                        "table": m.table,
                        "partner_id": getattr(m, f"{other}_id"),
                        "partner_name_zh": getattr(m, f"{other}_name_zh"),
                        "partner_name_en": getattr(m, f"{other}_name_en"),
                        "score": m.score,
                    }
                )
        columns = [
            "participant_id",
            "participant_name_zh",
            "participant_name_en",
            "slot",
            "table",
            "partner_id",
            "partner_name_zh",
            "partner_name_en",
            "score",
        ]
        frame = pd.DataFrame(rows, columns=columns)
        return frame.sort_values(["participant_id", "slot"], kind="mergesort").reset_index(drop=True)

    def grid(self) -> pd.DataFrame:
        """Slot x table grid; each cell reads ``left – right`` (Chinese name, else English, else id)."""

        def label(pid: str) -> str:
            zh, en = self.names.get(pid, ("", ""))
            return zh or en or pid

        cells = pd.DataFrame(
            "",
            index=pd.Index(range(1, self.slots_used + 1), name="slot"),
            columns=[f"table {t}" for t in range(1, self.n_tables + 1)],
        )
        for slot, table, a, b in zip(
            self.meetings["slot"],
            self.meetings["table"],
            self.meetings["left_id"],
            self.meetings["right_id"],
            strict=False,
        ):
            cells.loc[int(slot), f"table {int(table)}"] = f"{label(a)} – {label(b)}"
        return cells

    def check_validity(self) -> bool:
        """Re-check the timetable; return True or raise with every broken rule.

        Checks: slots in ``1..n_slots`` and tables in ``1..n_tables``; nobody and no table twice in
        one slot; availability windows; locks (a locked meeting is at its slot and table, or is
        listed as unscheduled); each requested meeting is scheduled once or listed once as
        unscheduled.

        Raises
        ------
        ValidationError
            ``problems`` has one row per broken rule, naming slot, table and participants.
        """
        problems: list[dict[str, Any]] = []

        def broken(row: Any, column: str, value: Any, reason: str) -> None:
            problems.append(
                {"file": "schedule", "row": row, "column": column, "value": value, "reason": reason}
            )

        busy: dict[tuple[int, str], str] = {}
        seat: dict[tuple[int, int], str] = {}
        lock_of = {frozenset(k): v for k, v in self.locks.items()}
        for i, m in enumerate(self.meetings.itertuples(index=False), start=2):
            slot, table, a, b = int(m.slot), int(m.table), m.left_id, m.right_id
            pair = f"{a}–{b}"
            if not 1 <= slot <= self.n_slots:
                broken(i, "slot", slot, f"{pair} is in slot {slot}, outside 1..{self.n_slots}")
            if not 1 <= table <= self.n_tables:
                broken(i, "table", table, f"{pair} is at table {table}, outside 1..{self.n_tables}")
            if a == b:
                broken(i, "left_id", a, f"{a} meets itself")
            for pid in (a, b):
                if (slot, pid) in busy:
                    broken(
                        i,
                        "slot",
                        slot,
                        f"{pid} is double-booked in slot {slot} ({busy[(slot, pid)]} and {pair})",
                    )
                busy[(slot, pid)] = pair
                if pid in self.availability and slot not in self.availability[pid]:
                    broken(
                        i,
                        "slot",
                        slot,
                        f"{pid} is not available in slot {slot} "
                        f"(available: {_slots_text(self.availability[pid])})",
                    )
            if (slot, table) in seat:
                broken(
                    i,
                    "table",
                    table,
                    f"table {table} is double-booked in slot {slot} ({seat[(slot, table)]} and {pair})",
                )
            seat[(slot, table)] = pair
            lock = lock_of.get(frozenset((a, b)))
            if lock is not None and (lock[0] != slot or (lock[1] is not None and lock[1] != table)):
                where = f"slot {lock[0]}" + (f", table {lock[1]}" if lock[1] is not None else "")
                broken(i, "slot", slot, f"{pair} is locked to {where} but sits in slot {slot}, table {table}")
        scheduled = [
            frozenset(k) for k in zip(self.meetings["left_id"], self.meetings["right_id"], strict=False)
        ]
        missing = [
            frozenset(k) for k in zip(self.unscheduled["left_id"], self.unscheduled["right_id"], strict=False)
        ]
        counts: dict[frozenset, int] = defaultdict(int)
        for key in scheduled + missing:
            counts[key] += 1
        for a, b in zip(self.requested["left_id"], self.requested["right_id"], strict=False):
            n = counts.pop(frozenset((a, b)), 0)
            if n != 1:
                broken(
                    "",
                    "left_id/right_id",
                    f"{a}–{b}",
                    f"requested meeting {a}–{b} appears {n} times in the schedule and unscheduled list",
                )
        for key in counts:
            broken("", "left_id/right_id", "–".join(sorted(key)), "meeting was never requested")
        if problems:
            table = pd.DataFrame(problems)
            raise ValidationError(
                f"the schedule breaks {len(table)} rule(s): " + "; ".join(table["reason"].head(3)), table
            )
        return True


# --------------------------------------------------------------------------------------------
# Solver
# --------------------------------------------------------------------------------------------
class _Timetable:
    """Mutable state of the edge colouring: slot of each meeting, meetings per slot."""

    def __init__(
        self,
        ends: list[tuple[str, str]],
        allowed: list[frozenset[int] | None],
        locked: list[bool],
        n_slots: int,
        n_tables: int,
    ) -> None:
        self.ends = ends
        self.allowed = allowed
        self.locked = locked
        self.n_slots = n_slots
        self.n_tables = n_tables
        self.slot = [-1] * len(ends)
        self.at: dict[str, dict[int, int]] = defaultdict(dict)  # participant -> slot -> meeting
        self.count = [0] * n_slots
        self.members: list[set[int]] = [set() for _ in range(n_slots)]

    def other(self, e: int, node: str) -> str:
        u, v = self.ends[e]
        return v if node == u else u

    def ok_slot(self, e: int, s: int) -> bool:
        allowed = self.allowed[e]
        return allowed is None or s in allowed

    def put(self, e: int, s: int) -> None:
        u, v = self.ends[e]
        self.slot[e] = s
        self.at[u][s] = e
        self.at[v][s] = e
        self.count[s] += 1
        self.members[s].add(e)

    def take(self, e: int) -> int:
        s = self.slot[e]
        u, v = self.ends[e]
        del self.at[u][s]
        del self.at[v][s]
        self.count[s] -= 1
        self.members[s].discard(e)
        self.slot[e] = -1
        return s

    def free_at(self, node: str, s: int) -> bool:
        return s not in self.at[node]

    def chain(self, start: str, a: int, b: int, avoid: str | None) -> list[int] | None:
        """Edges of the a/b alternating path leaving ``start`` by colour ``a``.

        ``None`` if the path reaches ``avoid`` (possible only in a graph with odd cycles), loops,
        or holds a meeting that may not switch slot (locked or outside a window).
        """
        path, node, colour, seen = [], start, a, set()
        while True:
            e = self.at[node].get(colour)
            if e is None:
                return path
            if e in seen or self.locked[e]:
                return None
            new = b if colour == a else a
            if not self.ok_slot(e, new):
                return None
            seen.add(e)
            path.append(e)
            node = self.other(e, node)
            if node == avoid:
                return None
            colour = new

    def swap(self, path: list[int], a: int, b: int) -> None:
        old = [self.take(e) for e in path]
        for e, s in zip(path, old, strict=False):
            self.put(e, b if s == a else a)


def _span(slots: Iterable[int]) -> tuple[int, int, int]:
    items = list(slots)
    return (min(items), max(items), len(items)) if items else (0, -1, 0)


def _idle_with(span: tuple[int, int, int], s: int | None) -> int:
    """Idle slots of a participant whose other meetings span ``span`` once slot s is added
    (``s=None``: as it is)."""
    lo, hi, n = span
    if s is None:
        return hi - lo + 1 - n if n else 0
    if n == 0:
        return 0
    return max(hi, s) - min(lo, s) + 1 - (n + 1)


def _place_direct(t: _Timetable, e: int, slots: Iterable[int], respect_tables: bool) -> bool:
    """Put meeting e in a slot free for both participants, preferring one that is not full and
    adds the fewest idle slots (then the earliest). False if there is none."""
    u, v = t.ends[e]
    at_u, at_v = t.at[u], t.at[v]
    su, sv = _span(at_u), _span(at_v)
    base = _idle_with(su, None) + _idle_with(sv, None)
    best = None
    for s in slots:
        if s in at_u or s in at_v:
            continue
        full = t.count[s] >= t.n_tables
        if full and respect_tables:
            continue
        key = (full, _idle_with(su, s) + _idle_with(sv, s) - base, s)
        if best is None or key < best:
            best = key
    if best is None:
        return False
    t.put(e, best[2])
    return True


def _place_kempe(t: _Timetable, e: int, slots: list[int], respect_tables: bool) -> bool:
    """Free a common slot for meeting e by swapping an alternating path; True if placed."""
    tries = 0
    for u, v in (t.ends[e], t.ends[e][::-1]):
        # Slots closest to each participant's other meetings first: fewer idle gaps.
        su, sv = _span(t.at[u]), _span(t.at[v])
        free_u = sorted((s for s in slots if s not in t.at[u]), key=lambda s: (_idle_with(su, s), s))
        free_v = sorted((s for s in slots if s not in t.at[v]), key=lambda s: (_idle_with(sv, s), s))
        for a in free_u:
            for b in free_v:
                if a == b:
                    continue
                tries += 1
                if tries > _KEMPE_TRIES:
                    return False
                path = t.chain(v, a, b, avoid=u)
                if path is None:
                    continue
                if respect_tables:
                    n_a = sum(1 for p in path if t.slot[p] == a)
                    n_b = len(path) - n_a
                    if t.count[a] - n_a + n_b + 1 > t.n_tables or t.count[b] + n_a - n_b > t.n_tables:
                        continue
                t.swap(path, a, b)
                t.put(e, a)
                return True
    return False


def _even_out(t: _Timetable, slots: list[int], score: list[float]) -> list[int]:
    """Bring every slot down to n_tables meetings by swapping alternating paths; return the
    meetings that had to be taken out (lowest score first) when no swap was possible."""
    evicted: list[int] = []
    for a in slots:
        while t.count[a] > t.n_tables:
            moved = False
            for b in sorted((s for s in slots if t.count[s] < t.n_tables), key=lambda s: (t.count[s], s)):
                seen: set[int] = set()
                for e in sorted(t.members[a]):
                    if e in seen or t.locked[e]:
                        continue
                    u, v = t.ends[e]
                    # the component through e: extend from both ends with colour b
                    left = t.chain(u, b, a, avoid=None)
                    right = t.chain(v, b, a, avoid=None)
                    seen.add(e)
                    if left is None or right is None or (set(left) & set(right)) or not t.ok_slot(e, b):
                        continue
                    seen.update(left)
                    seen.update(right)
                    path = left + [e] + right
                    n_a = sum(1 for p in path if t.slot[p] == a)
                    if n_a - (len(path) - n_a) != 1:
                        continue
                    t.swap(path, a, b)
                    moved = True
                    break
                if moved:
                    break
            if not moved:
                victim = min(
                    (e for e in t.members[a] if not t.locked[e]), key=lambda e: (score[e], -e), default=None
                )
                if victim is None:
                    break
                t.take(victim)
                evicted.append(victim)
    return evicted


def _reduce_gaps(t: _Timetable, last: int) -> None:
    """Local search: move single meetings, then swap whole slots, while idle slots shrink."""
    for _ in range(_GAP_PASSES):
        improved = False
        for e in range(len(t.ends)):
            s = t.slot[e]
            if s < 0 or t.locked[e]:
                continue
            u, v = t.ends[e]
            su = _span(x for x in t.at[u] if x != s)
            sv = _span(x for x in t.at[v] if x != s)
            now = _idle_with(su, s) + _idle_with(sv, s)
            if now == 0:
                continue
            best = None
            at_u, at_v = t.at[u], t.at[v]
            for s2 in range(last + 1):
                if s2 == s or s2 in at_u or s2 in at_v or t.count[s2] >= t.n_tables or not t.ok_slot(e, s2):
                    continue
                after = _idle_with(su, s2) + _idle_with(sv, s2)
                if after < now and (best is None or (after, s2) < best):
                    best = (after, s2)
            if best is not None:
                t.take(e)
                t.put(e, best[1])
                improved = True
        # Whole-slot swaps of neighbours only: all pairs would cost O(slots^2 x people).
        for i in range(last):
            if _swap_slots_if_better(t, i, i + 1):
                improved = True
        if not improved:
            break


def _swap_slots_if_better(t: _Timetable, i: int, j: int) -> bool:
    mi, mj = t.members[i], t.members[j]
    if not mi and not mj:
        return False
    if any(t.locked[e] or not t.ok_slot(e, j) for e in mi) or any(
        t.locked[e] or not t.ok_slot(e, i) for e in mj
    ):
        return False
    people = {p for e in mi | mj for p in t.ends[e]}
    before = after = 0
    for p in people:
        slots = set(t.at[p])
        before += max(slots) - min(slots) + 1 - len(slots)
        has_i, has_j = i in slots, j in slots
        if has_i != has_j:
            slots.discard(i if has_i else j)
            slots.add(j if has_i else i)
        after += max(slots) - min(slots) + 1 - len(slots)
    if after >= before:
        return False
    old_i, old_j = sorted(mi), sorted(mj)
    for e in old_i + old_j:
        t.take(e)
    for e in old_i:
        t.put(e, j)
    for e in old_j:
        t.put(e, i)
    return True


def _is_bipartite(ends: Iterable[tuple[str, str]]) -> bool:
    adj: dict[str, list[str]] = defaultdict(list)
    for u, v in ends:
        adj[u].append(v)
        adj[v].append(u)
    side: dict[str, int] = {}
    for root in sorted(adj):
        if root in side:
            continue
        side[root] = 0
        stack = [root]
        while stack:
            x = stack.pop()
            for y in adj[x]:
                if y not in side:
                    side[y] = 1 - side[x]
                    stack.append(y)
                elif side[y] == side[x]:
                    return False
    return True


def _requests(shortlist: pd.DataFrame | Selection) -> pd.DataFrame:
    frame = shortlist.pairs if isinstance(shortlist, Selection) else shortlist
    return prepare_suggestions(frame, source="shortlist", require_score=False)


def _name_table(requests: pd.DataFrame, participants: pd.DataFrame | None) -> dict[str, tuple[str, str]]:
    names: dict[str, tuple[str, str]] = {}
    if participants is not None and len(participants):
        id_col = "id" if "id" in participants.columns else "participant_id"
        for row in participants.to_dict("records"):
            zh, en = row.get("name_zh"), row.get("name_en")
            names[str(row[id_col])] = ("" if pd.isna(zh) else str(zh), "" if pd.isna(en) else str(en))
    for side in ("left", "right"):
        for row in requests.to_dict("records"):
            pid = row[f"{side}_id"]
            zh, en = row.get(f"{side}_name_zh"), row.get(f"{side}_name_en")
            zh = "" if zh is None or pd.isna(zh) else str(zh)
            en = "" if en is None or pd.isna(en) else str(en)
            old = names.get(pid, ("", ""))
            names[pid] = (old[0] or zh, old[1] or en)
    return names


def schedule(
    shortlist: pd.DataFrame | Selection,
    n_slots: int,
    n_tables: int,
    *,
    availability: Mapping[str, Iterable[int]] | pd.DataFrame | str | Path | None = None,
    locks: Mapping[tuple[str, str], Any] | pd.DataFrame | str | Path | None = None,
    participants: pd.DataFrame | None = None,
) -> Schedule:
    """Give every shortlisted pair a slot and a table.

    Parameters
    ----------
    shortlist : pandas.DataFrame or Selection
        Meetings to hold: ``left_id, right_id`` (``score`` and name columns are used when
        present). A suggestions or shortlist file read with :func:`matcher.meetings.select.read_suggestions`
        fits as is.
    n_slots, n_tables : int
        Time slots (numbered from 1) and tables (numbered from 1).
    availability : mapping, DataFrame or path, optional
        Participant -> allowed slots; participants not listed can meet in any slot.
    locks : mapping, DataFrame or path, optional
        ``(left_id, right_id) -> slot`` or ``(slot, table)``; a locked pair missing from the
        shortlist is added.
    participants : pandas.DataFrame, optional
        ``id, name_zh, name_en`` to fill names the shortlist lacks.

    Returns
    -------
    Schedule
        Never raises for an over-full or contradictory request: what does not fit is listed in
        ``Schedule.unscheduled`` with the reason, and ``raise_if_incomplete()`` turns that into
        an :class:`~matcher.exceptions.InfeasibleError` when wanted.
    """
    for name, value in (("slots", n_slots), ("tables", n_tables)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise MatcherError(f"number of {name} must be a whole number of at least 1, not {value!r}")
    n_slots, n_tables = int(n_slots), int(n_tables)
    avail = read_availability(availability)
    lock_map = read_locks(locks)
    requests = _requests(shortlist)
    explanation: list[str] = []

    # Locked pairs missing from the shortlist are meetings the planner wants: add them.
    have = {frozenset(k) for k in zip(requests["left_id"], requests["right_id"], strict=False)}
    extra = [(a, b) for (a, b) in lock_map if frozenset((a, b)) not in have]
    if extra:
        add = pd.DataFrame({"left_id": [a for a, _ in extra], "right_id": [b for _, b in extra]})
        add["score"] = pd.array([pd.NA] * len(add), dtype="Float64")
        requests = pd.concat([requests, add], ignore_index=True)
        explanation.append(
            f"{len(extra)} locked meeting(s) not in the shortlist were added: "
            + ", ".join(f"{a}–{b}" for a, b in extra[:5])
        )
    names = _name_table(requests, participants)
    for side in ("left", "right"):
        for lang, pos in (("zh", 0), ("en", 1)):
            col = f"{side}_name_{lang}"
            requests[col] = [names.get(pid, ("", ""))[pos] or pd.NA for pid in requests[f"{side}_id"]]

    lock_of = {frozenset(k): v for k, v in lock_map.items()}
    requests["_locked"] = [
        frozenset(k) in lock_of for k in zip(requests["left_id"], requests["right_id"], strict=False)
    ]
    requests["_score"] = requests["score"].astype(float).fillna(-math.inf)

    # Priority: locks first, then score (highest first), ties by ids. (Re-ordered below for
    # compact agendas when everything is sure to fit.)
    requests = requests.sort_values(
        ["_locked", "_score", "left_id", "right_id"], ascending=[False, False, True, True], kind="mergesort"
    )
    requests = requests.reset_index(drop=True)
    # One meeting per pair, whichever way round it was written; the best-placed row wins.
    keys = [frozenset(k) for k in zip(requests["left_id"], requests["right_id"], strict=False)]
    duplicate = pd.Series(keys).duplicated().to_numpy()
    if duplicate.any():
        dups = requests.loc[duplicate, ["left_id", "right_id"]].itertuples(index=False)
        explanation.append(
            f"{int(duplicate.sum())} repeated request(s) of the same pair ignored: "
            + ", ".join(f"{a}–{b}" for a, b in list(dups)[:5])
        )
        requests = requests[~duplicate].reset_index(drop=True)
    requested = requests
    unscheduled: dict[int, str] = {}
    for i, (a, b) in enumerate(zip(requests["left_id"], requests["right_id"], strict=False)):
        if a == b:
            unscheduled[i] = "a participant cannot meet itself"

    ends = list(zip(requests["left_id"], requests["right_id"], strict=False))
    allowed: list[frozenset[int] | None] = []
    for a, b in ends:
        wa, wb = avail.get(a), avail.get(b)
        if wa is None and wb is None:
            allowed.append(None)
            continue
        window = set(range(1, n_slots + 1))
        for w in (wa, wb):
            if w is not None:
                window &= w
        allowed.append(frozenset(s - 1 for s in window))
    locked = [bool(x) for x in requests["_locked"]]
    score = [float(x) for x in requests["_score"]]
    t = _Timetable(ends, allowed, locked, n_slots, n_tables)
    table_lock: dict[int, int] = {}

    # 1. Locked meetings, in priority order; a lock that clashes is reported, not forced.
    for i, (a, b) in enumerate(ends):
        if i in unscheduled or not locked[i]:
            continue
        slot, table = lock_of[frozenset((a, b))]
        s = slot - 1
        reason = None
        if not 1 <= slot <= n_slots:
            reason = f"locked to slot {slot}, but the meeting has slots 1–{n_slots}"
        elif table is not None and not 1 <= table <= n_tables:
            reason = f"locked to table {table}, but there are tables 1–{n_tables}"
        else:
            for pid in (a, b):
                if pid in avail and slot not in avail[pid]:
                    reason = (
                        f"locked to slot {slot}, but {pid} is available only in slots "
                        f"{_slots_text(avail[pid])}"
                    )
                    break
                if s in t.at[pid]:
                    x, y = t.ends[t.at[pid][s]]
                    reason = f"locked to slot {slot}, where {pid} already has locked meeting {x}–{y}"
                    break
        if reason is None and t.count[s] >= n_tables:
            reason = f"locked to slot {slot}, but all {n_tables} tables are taken by locked meetings"
        if reason is None and table is not None:
            clash = next((x for x, tb in table_lock.items() if tb == table and t.slot[x] == s), None)
            if clash is not None:
                reason = f"locked to slot {slot}, table {table}, which {'–'.join(ends[clash])} holds"
        if reason is not None:
            unscheduled[i] = reason
            continue
        t.put(i, s)
        if table is not None:
            table_lock[i] = table

    todo = [i for i in range(len(ends)) if i not in unscheduled and not locked[i]]
    for i in todo:
        if allowed[i] is not None and not allowed[i]:
            a, b = ends[i]
            unscheduled[i] = (
                f"{a} and {b} have no common available slot ({a}: "
                f"{_slots_text(avail[a]) if a in avail else 'all'}; {b}: "
                f"{_slots_text(avail[b]) if b in avail else 'all'})"
            )
    todo = [i for i in todo if i not in unscheduled]

    # The bound: no timetable is shorter than max(largest load, meetings / tables).
    load: dict[str, int] = defaultdict(int)
    for i in range(len(ends)):
        if i not in unscheduled:
            load[ends[i][0]] += 1
            load[ends[i][1]] += 1
    n_meetings = len(ends) - len(unscheduled)
    max_load = max(load.values(), default=0)
    lower_bound = max(max_load, math.ceil(n_meetings / n_tables)) if n_meetings else 0
    bipartite = _is_bipartite(ends[i] for i in range(len(ends)) if i not in unscheduled)
    target = min(lower_bound, n_slots)
    if lower_bound > n_slots:
        busiest = sorted((p for p, n in load.items() if n > n_slots), key=lambda p: (-load[p], p))
        if busiest:
            explanation.append(
                f"{n_slots} slots are too few: {_list_loads(busiest, load)} "
                f"(at least {max_load} slots needed)"
            )
        if math.ceil(n_meetings / n_tables) > n_slots:
            explanation.append(
                f"{n_meetings} meetings need at least {math.ceil(n_meetings / n_tables)} "
                f"slots at {n_tables} tables, but there are {n_slots}"
            )

    # When König guarantees a fit (two sides, no windows, enough slots) the order cannot make a
    # meeting fail, so place each left participant's meetings together: far fewer idle gaps.
    # Otherwise keep the score order, so that what fails is the lowest-scored.
    if bipartite and lower_bound <= n_slots and not any(a is not None for a in allowed):
        todo.sort(key=lambda i: (ends[i][0], -score[i], ends[i][1]))
    # 2. Colour with `target` slots (König: enough for a bipartite graph), tables ignored here.
    first = list(range(target))
    pending = []
    for i in todo:
        slots = [s for s in first if t.ok_slot(i, s)]
        if not (
            _place_direct(t, i, slots, respect_tables=False)
            or _place_kempe(t, i, slots, respect_tables=False)
        ):
            pending.append(i)
    # 3. Even out slots holding more meetings than tables.
    pending += _even_out(t, first, score)
    # 4. Whatever is left tries every slot, tables respected; the rest is reported.
    all_slots = list(range(n_slots))
    for i in sorted(pending):
        slots = [s for s in all_slots if t.ok_slot(i, s)]
        if _place_direct(t, i, slots, respect_tables=True) or _place_kempe(t, i, slots, respect_tables=True):
            continue
        unscheduled[i] = _why_unplaced(t, i, slots, avail, n_tables)
    # 5. Shrink idle gaps without using slots beyond the last one in use.
    last = max((s for s in range(n_slots) if t.count[s]), default=-1)
    _reduce_gaps(t, last)
    # 6. Tables.
    tables = _assign_tables(t, table_lock)

    meetings = requests.loc[[i for i in range(len(ends)) if t.slot[i] >= 0]].copy()
    meetings["slot"] = [t.slot[i] + 1 for i in meetings.index]
    meetings["table"] = [tables[i] for i in meetings.index]
    meetings["locked"] = [locked[i] for i in meetings.index]
    extra_cols = [c for c in requests.columns if c not in MEETING_COLUMNS and not c.startswith("_")]
    meetings = meetings[MEETING_COLUMNS + extra_cols].sort_values(["slot", "table"], kind="mergesort")
    missing = requests.loc[sorted(unscheduled)].copy()
    missing["reason"] = pd.Series([unscheduled[i] for i in missing.index], index=missing.index, dtype="str")
    missing = missing[UNSCHEDULED_COLUMNS].reset_index(drop=True)
    if len(missing):
        explanation.append(f"{len(missing)} meeting(s) could not be scheduled; see the reasons")
    requested = requested[[c for c in requested.columns if not c.startswith("_")]].reset_index(drop=True)
    return Schedule(
        meetings=meetings.reset_index(drop=True),
        unscheduled=missing,
        n_slots=n_slots,
        n_tables=n_tables,
        availability=avail,
        locks=lock_map,
        requested=requested,
        max_load=max_load,
        lower_bound=lower_bound,
        bipartite=bipartite,
        explanation=explanation,
        names=names,
    )


def _list_loads(people: list[str], load: Mapping[str, int]) -> str:
    shown = ", ".join(f"{p} has {load[p]} meetings" for p in people[:5])
    return shown + (f" and {len(people) - 5} more" if len(people) > 5 else "")


def _why_unplaced(
    t: _Timetable, e: int, slots: list[int], avail: Mapping[str, frozenset[int]], n_tables: int
) -> str:
    u, v = t.ends[e]
    for p in (u, v):
        if all(s in t.at[p] for s in slots):
            where = (
                f"every slot it can attend ({_slots_text(s + 1 for s in slots)})"
                if p in avail
                else f"all {t.n_slots} slots"
            )
            return f"{p} is already booked in {where}"
    both_free = [s for s in slots if s not in t.at[u] and s not in t.at[v]]
    if both_free:
        return (
            f"all {n_tables} tables are taken in the slots where both are free "
            f"({_slots_text(s + 1 for s in both_free)})"
        )
    free_u = [s + 1 for s in slots if s not in t.at[u]]
    free_v = [s + 1 for s in slots if s not in t.at[v]]
    return (
        f"no slot is free for both: {u} is free only in {_slots_text(free_u)}, "
        f"{v} only in {_slots_text(free_v)}, and moving other meetings did not help "
        "(locks, windows or tables)"
    )


def _assign_tables(t: _Timetable, table_lock: Mapping[int, int]) -> dict[int, int]:
    """Tables per slot: locked tables first, then each meeting keeps its host's (left participant's)
    previous table when free, else the other participant's, else the lowest free table."""
    tables: dict[int, int] = {}
    last_table: dict[str, int] = {}
    for s in range(t.n_slots):
        group = sorted(t.members[s], key=lambda e: t.ends[e])
        used = set()
        for e in group:
            if e in table_lock:
                tables[e] = table_lock[e]
                used.add(table_lock[e])
        rest = [e for e in group if e not in tables]
        later = []
        for e in rest:
            u, v = t.ends[e]
            want = next(
                (last_table[p] for p in (u, v) if p in last_table and last_table[p] not in used), None
            )
            if want is None:
                later.append(e)
            else:
                tables[e] = want
                used.add(want)
        free = iter(x for x in range(1, t.n_tables + 1) if x not in used)
        for e in later:
            tables[e] = next(free)
        for e in group:
            u, v = t.ends[e]
            last_table[u] = last_table[v] = tables[e]
    return tables
