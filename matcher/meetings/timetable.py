"""The result of scheduling: :class:`Schedule`, a timetable of docking meetings and what did not fit.

Besides the meetings it gives the views planners read (:meth:`Schedule.participants`,
:meth:`Schedule.agendas`, :meth:`Schedule.grid`) and re-checks itself: :meth:`Schedule.check_validity`
names every double booking, window, lock or request it breaks.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from matcher.exceptions import InfeasibleError, ValidationError
from matcher.meetings.slots import slots_text
from matcher.meetings.tables import problem_row


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
                    "available_slots": slots_text(self.availability[pid])
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

    def grid(self, lang: str = "zh") -> pd.DataFrame:
        """Slot x table grid; each cell reads ``left – right``: names in ``lang`` (else the other
        language's, else the id)."""

        def label(pid: str) -> str:
            zh, en = self.names.get(pid, ("", ""))
            return (en or zh if lang == "en" else zh or en) or pid

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
            problems.append(problem_row("schedule", row, column, value, reason))

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
                        f"(available: {slots_text(self.availability[pid])})",
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
