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

The moves live in :mod:`matcher.meetings.colouring`, windows and locks in
:mod:`matcher.meetings.slots`, and the result, :class:`~matcher.meetings.timetable.Schedule` with
its own ``check_validity()``, in :mod:`matcher.meetings.timetable`.

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

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from matcher import limits
from matcher.exceptions import MatcherError, ValidationError
from matcher.meetings.colouring import (
    SlotColouring,
    assign_tables,
    even_out,
    is_bipartite,
    place_direct,
    place_kempe,
    reduce_gaps,
)
from matcher.meetings.ids import KnownIds
from matcher.meetings.selection import Selection
from matcher.meetings.slots import lock_outside, read_availability, read_locks, slots_text
from matcher.meetings.tables import prepare_suggestions
from matcher.meetings.timetable import Schedule

NAME_COLUMNS: tuple[str, ...] = ("left_name_zh", "left_name_en", "right_name_zh", "right_name_en")
MEETING_COLUMNS: list[str] = ["slot", "table", "left_id", "right_id", *NAME_COLUMNS, "score", "locked"]
UNSCHEDULED_COLUMNS: list[str] = ["left_id", "right_id", *NAME_COLUMNS, "score", "reason"]


def _requests(shortlist: pd.DataFrame | Selection, source: str, known: KnownIds | None) -> pd.DataFrame:
    frame = shortlist.pairs if isinstance(shortlist, Selection) else shortlist
    return prepare_suggestions(frame, source=source, require_score=False, known=known).reset_index(drop=True)


def _read_inputs(
    shortlist: pd.DataFrame | Selection, source: str, n_slots: int, n_tables: int, availability: Any, locks: Any,
    participants: pd.DataFrame | None,
) -> tuple[pd.DataFrame, dict[str, frozenset[int]], dict[tuple[str, str], tuple[int, int | None]]]:
    """The requests, windows and locks, every problem of the three collected into one error.

    With ``participants`` every id must be one of theirs; without, an id of the windows or locks
    must not merely look like one of the shortlist's (:class:`~matcher.meetings.ids.KnownIds`).
    """
    known = None
    if participants is not None:
        id_col = "id" if "id" in participants.columns else "participant_id"
        known = KnownIds.of(participants[id_col], "the data set (--data)", complete=True)
    errors: list[ValidationError] = []
    requests = pd.DataFrame()
    try:
        requests = _requests(shortlist, source, known)
    except ValidationError as err:
        errors.append(err)
    if known is None and not errors:
        known = KnownIds.of({*requests["left_id"], *requests["right_id"]}, f"the shortlist {source}")
    avail, lock_map = {}, {}
    try:
        avail = read_availability(availability, n_slots=n_slots, known=known)
    except ValidationError as err:
        errors.append(err)
    try:
        lock_map = read_locks(locks, n_slots=n_slots, n_tables=n_tables, known=known)
    except ValidationError as err:
        errors.append(err)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        tables = [e.problems for e in errors if e.problems is not None and len(e.problems)]
        raise ValidationError("; ".join(str(e) for e in errors) + "; nothing was scheduled",
                              pd.concat(tables, ignore_index=True) if tables else None)
    return requests, avail, lock_map


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


def check_grid(n_slots: object, n_tables: object) -> tuple[int, int]:
    """The slots and tables as whole numbers within the bounds (``limits.MAX_SLOTS``, ``MAX_TABLES``),
    or a :class:`MatcherError` naming which is wrong (checked before any file is read)."""
    for name, value in (("slots", n_slots), ("tables", n_tables)):
        most = limits.MAX_SLOTS if name == "slots" else limits.MAX_TABLES
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or not 1 <= value <= most:
            raise MatcherError(f"number of {name} must be a whole number from 1 to {most}, not {value!r}")
    return int(n_slots), int(n_tables)


def schedule(
    shortlist: pd.DataFrame | Selection,
    n_slots: int,
    n_tables: int,
    *,
    availability: Mapping[str, Iterable[int]] | pd.DataFrame | str | Path | None = None,
    locks: Mapping[tuple[str, str], Any] | pd.DataFrame | str | Path | None = None,
    participants: pd.DataFrame | None = None,
    source: str = "shortlist",
) -> Schedule:
    """Give every shortlisted pair a slot and a table.

    Parameters
    ----------
    shortlist : pandas.DataFrame or Selection
        Meetings to hold: ``left_id, right_id`` (``score`` and name columns are used when
        present). A suggestions or shortlist file read with :func:`matcher.meetings.tables.read_suggestions`
        fits as is.
    n_slots, n_tables : int
        Time slots (numbered from 1) and tables (numbered from 1).
    availability : mapping, DataFrame or path, optional
        Participant -> allowed slots; participants not listed can meet in any slot.
    locks : mapping, DataFrame or path, optional
        ``(left_id, right_id) -> slot`` or ``(slot, table)``; a locked pair missing from the
        shortlist is added.
    participants : pandas.DataFrame, optional
        ``id, name_zh, name_en`` of every participant of the data set: names the shortlist
        lacks are filled from it, and an id of the shortlist, windows or locks that is not
        among them is refused.
    source : str
        The shortlist's file name, for messages.

    Returns
    -------
    Schedule
        Never raises for an over-full or contradictory request: what does not fit is listed in
        ``Schedule.unscheduled`` with the reason, and ``raise_if_incomplete()`` turns that into
        an :class:`~matcher.exceptions.InfeasibleError` when wanted.

    Raises
    ------
    ValidationError
        Bad rows of the shortlist, windows or locks, all of them at once (file, row, column):
        an empty or unusable id (see :mod:`matcher.meetings.ids`), an id not in ``participants``
        or only looking like a shortlisted one, a window or lock outside the slots and tables.
    """
    n_slots, n_tables = check_grid(n_slots, n_tables)
    requests, avail, lock_map = _read_inputs(shortlist, source, n_slots, n_tables, availability, locks, participants)
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
    t = SlotColouring(ends, allowed, locked, n_slots, n_tables)
    table_lock: dict[int, int] = {}

    # 1. Locked meetings, in priority order; a lock that clashes is reported, not forced.
    for i, (a, b) in enumerate(ends):
        if i in unscheduled or not locked[i]:
            continue
        slot, table = lock_of[frozenset((a, b))]
        s = slot - 1
        reason = lock_outside(slot, table, n_slots, n_tables)  # a held booking; a file's row was refused
        if reason is not None:
            unscheduled[i] = f"locked, but {reason}"
            continue
        for pid in (a, b):
            if pid in avail and slot not in avail[pid]:
                reason = (
                    f"locked to slot {slot}, but {pid} is available only in slots "
                    f"{slots_text(avail[pid])}"
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
                f"{slots_text(avail[a]) if a in avail else 'all'}; {b}: "
                f"{slots_text(avail[b]) if b in avail else 'all'})"
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
    bipartite = is_bipartite(ends[i] for i in range(len(ends)) if i not in unscheduled)
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
            place_direct(t, i, slots, respect_tables=False)
            or place_kempe(t, i, slots, respect_tables=False)
        ):
            pending.append(i)
    # 3. Even out slots holding more meetings than tables.
    pending += even_out(t, first, score)
    # 4. Whatever is left tries every slot, tables respected; the rest is reported.
    all_slots = list(range(n_slots))
    for i in sorted(pending):
        slots = [s for s in all_slots if t.ok_slot(i, s)]
        if place_direct(t, i, slots, respect_tables=True) or place_kempe(t, i, slots, respect_tables=True):
            continue
        unscheduled[i] = _why_unplaced(t, i, slots, avail, n_tables)
    # 5. Shrink idle gaps without using slots beyond the last one in use.
    last = max((s for s in range(n_slots) if t.count[s]), default=-1)
    reduce_gaps(t, last)
    # 6. Tables.
    tables = assign_tables(t, table_lock)

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
    t: SlotColouring, e: int, slots: list[int], avail: Mapping[str, frozenset[int]], n_tables: int
) -> str:
    u, v = t.ends[e]
    for p in (u, v):
        if all(s in t.at[p] for s in slots):
            where = (
                f"every slot it can attend ({slots_text(s + 1 for s in slots)})"
                if p in avail
                else f"all {t.n_slots} slots"
            )
            return f"{p} is already booked in {where}"
    both_free = [s for s in slots if s not in t.at[u] and s not in t.at[v]]
    if both_free:
        return (
            f"all {n_tables} tables are taken in the slots where both are free "
            f"({slots_text(s + 1 for s in both_free)})"
        )
    free_u = [s + 1 for s in slots if s not in t.at[u]]
    free_v = [s + 1 for s in slots if s not in t.at[v]]
    return (
        f"no slot is free for both: {u} is free only in {slots_text(free_u)}, "
        f"{v} only in {slots_text(free_v)}, and moving other meetings did not help "
        "(locks, windows or tables)"
    )
