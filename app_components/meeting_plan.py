"""Meeting planning around ``matcher.meetings.schedule``: requests from a shortlist, stored bookings as
locks, the slot x table grid with conflicts marked, and saving bookings to the store."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable

import pandas as pd

from app_components import tables
from app_components.i18n import UNNAMED_PLANNER, name_of
from matcher.exceptions import ConflictError
from matcher.meetings.timetable import Schedule
from matcher.outputs.metadata import now_stamp
from matcher.store import Store


def requests(items: pd.DataFrame, entities: pd.DataFrame, statuses: list[str]) -> pd.DataFrame:
    """Meetings to hold: the shortlist items with one of ``statuses``, with both names."""
    chosen = items[items["status"].isin(statuses)]
    out = pd.DataFrame({
        "left_id": chosen["left_id"].astype(str).to_numpy(),
        "right_id": chosen["right_id"].astype(str).to_numpy(),
        "kind": chosen["kind"].to_numpy(),
        "score": pd.to_numeric(chosen["score"], errors="coerce").to_numpy(),
        "item_id": chosen["id"].astype(int).to_numpy(),
        "item_locked": chosen["locked"].astype(bool).to_numpy(),
        "run_id": chosen["run_id"].to_numpy() if "run_id" in chosen else None,  # whose weights explain it
    })
    return with_names(out, entities).drop_duplicates(["left_id", "right_id"]).reset_index(drop=True)


def with_names(frame: pd.DataFrame, entities: pd.DataFrame) -> pd.DataFrame:
    """``frame`` (pairs by ``left_id``/``right_id``) with each side's name in both languages ("" when the
    data in use has no such entity), as the meeting files and the shortlist's downloads carry them."""
    names = entities.set_index("id")[["name_zh", "name_en"]]
    out = frame.copy()
    for side in ("left", "right"):
        found = names.reindex(out[f"{side}_id"].astype(str))
        for column in ("name_zh", "name_en"):
            out[f"{side}_{column}"] = found[column].astype(object).where(found[column].notna(), "").to_numpy()
    return out


def list_state(items: pd.DataFrame, statuses: list[str]) -> frozenset:
    """What a schedule is made from: the pairs of the chosen statuses. A schedule made from another state
    of the list is out of date (a pair added, removed or rejected); a pair moving between the chosen
    statuses (saving the bookings marks them "scheduled") changes nothing."""
    if items.empty:
        return frozenset()
    chosen = items[items["status"].isin(statuses)]
    return frozenset(zip(chosen["left_id"], chosen["right_id"], chosen["kind"], strict=True))


def _number(text) -> int | None:
    try:
        return int(str(text))
    except ValueError:
        return None


def booked_locks(meetings: pd.DataFrame, wanted: pd.DataFrame) -> dict[tuple[str, str], tuple[int, int]]:
    """Stored bookings of the requested pairs, as scheduler locks ``(left, right) -> (slot, table)``."""
    pairs = set(zip(wanted["left_id"], wanted["right_id"], strict=True))
    locks = {}
    for m in meetings.itertuples(index=False):
        slot, table = _number(m.slot), _number(m.table_label)
        if (m.left_id, m.right_id) in pairs and slot is not None and table is not None:
            locks[(m.left_id, m.right_id)] = (slot, table)
    return locks


#: The widest a side's name is drawn in a cell of the meeting grid (cells are ``GRID_CELL_PX`` wide, at most
#: ``tables.fit``'s 10 lines tall): about three and a half lines each, so both names and the dash always fit.
GRID_CELL_PX = 96
GRID_NAME_PX = 7 * (GRID_CELL_PX - tables.PADDING_PX) // 2 - 20


def grid(plan: Schedule, meetings: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The slot x table grid (names in the session's language) and a same-shaped mark per cell:
    ``"conflict"`` (someone twice in a slot, or the table is held in the store by another pair),
    ``"booked"`` (this pair's stored booking) or ``""``."""
    slots = range(1, max(plan.slots_used, 1) + 1)
    columns = list(range(1, plan.n_tables + 1))
    cells = pd.DataFrame("", index=pd.Index(list(slots), name="slot"), columns=columns)
    marks = pd.DataFrame("", index=cells.index, columns=columns)
    held = {(str(m.slot), str(m.table_label)): (m.left_id, m.right_id) for m in meetings.itertuples(index=False)}
    def label(pid: str) -> str:  # both sides of a pair stay in sight: a very long name is cut with "…"
        zh, en = plan.names.get(pid, ("", ""))
        return tables.shortened(name_of(zh, en, pid), GRID_NAME_PX)
    seen: dict[tuple[int, str], list[int]] = {}
    for m in plan.meetings.itertuples(index=False):
        slot, table = int(m.slot), int(m.table)
        cells.loc[slot, table] = f"{label(m.left_id)} – {label(m.right_id)}"
        holder = held.get((str(slot), str(table)))
        if holder == (m.left_id, m.right_id):
            marks.loc[slot, table] = "booked"
        elif holder is not None:
            marks.loc[slot, table] = "conflict"
        for pid in (m.left_id, m.right_id):
            seen.setdefault((slot, pid), []).append(table)
    for (slot, _), used in seen.items():
        if len(used) > 1:
            for table in used:
                marks.loc[slot, table] = "conflict"
    return cells, marks


def save_bookings(store: Store, plan: Schedule, wanted: pd.DataFrame, planner: str) -> int:
    """Book every scheduled meeting in the store (moving a pair's earlier booking); items become
    ``scheduled``. Returns how many bookings changed. Raises ``ConflictError`` when a table is
    held by a meeting outside this schedule."""
    stored = store.meetings()
    by_pair = {(m.left_id, m.right_id): m for m in stored.itertuples(index=False)}
    item_of = dict(zip(zip(wanted["left_id"], wanted["right_id"], strict=True), wanted["item_id"], strict=True))
    kind_of = dict(zip(zip(wanted["left_id"], wanted["right_id"], strict=True), wanted["kind"], strict=True))
    changed = 0
    for m in plan.meetings.itertuples(index=False):
        pair = (m.left_id, m.right_id)
        slot, table = str(int(m.slot)), str(int(m.table))
        old = by_pair.get(pair)
        if old is not None:
            if (str(old.slot), str(old.table_label)) != (slot, table):
                store.update_meeting(int(old.id), {"slot": slot, "table_label": table}, int(old.version), planner)
                changed += 1
            continue
        if pair not in kind_of:
            raise ConflictError(f"{pair[0]}–{pair[1]} is not on the shortlist")
        item = item_of.get(pair)
        store.schedule_meeting(pair[0], pair[1], kind_of[pair], slot=slot, table=table, planner=planner,
                               item_id=int(item) if item is not None else None)
        changed += 1
    items = store.items()
    updates = [(int(r.id), {"status": "scheduled"}, int(r.version)) for r in items.itertuples(index=False)
               if int(r.id) in set(int(i) for i in item_of.values()) and r.status != "scheduled"
               and (r.left_id, r.right_id) in set(zip(plan.meetings["left_id"], plan.meetings["right_id"], strict=False))]
    if updates:
        store.update_many(updates, planner=planner)
    return changed


def _weights_of_runs(kind: str, runs: pd.DataFrame) -> dict[str, float]:
    """The weights of the runs behind a kind's pairs as run-sheet items: ``<kind>.<feature>`` when they
    all ranked with the same weights; otherwise each set of weights apart, ``<kind>@<run ids>.<feature>``,
    so a list whose pairs were ticked under two presets shows both, and the pairs' run ids say which."""
    sets: dict[str, list[str]] = {}
    for run_id, weights in zip(runs["run_id"].astype(str), runs["weights"], strict=True):
        sets.setdefault(json.dumps(dict(weights), sort_keys=True), []).append(run_id)
    out = {}
    for key, ids in sets.items():
        head = kind if len(sets) == 1 else f"{kind}@{', '.join(ids[:3])}{f' +{len(ids) - 3}' if len(ids) > 3 else ''}"
        out.update({f"{head}.{feature}": value for feature, value in json.loads(key).items()})
    return out


def metadata(data, runs: pd.DataFrame, kinds: list[str], planner: str, n_slots: int, n_tables: int,
             run_ids: Iterable[str] | None = None) -> dict:
    """What the meeting files carry: run id, data version, the weights and preset of the runs behind
    the pairs (``run_ids``: the shortlist items' runs; the latest run of each kind when none of them
    is known), time, and the planner ("" for one who gave no name: the files say "unnamed")."""
    known = {str(r) for r in ([] if run_ids is None else run_ids) if isinstance(r, str) and r}
    weights, presets = {}, {}
    for kind in kinds:
        mine = runs[runs["kind"] == kind] if len(runs) else runs
        behind = mine[mine["run_id"].astype(str).isin(known)] if len(mine) and known else mine.iloc[:0]
        mine = behind if len(behind) else mine.iloc[-1:]
        if len(mine):
            weights.update(_weights_of_runs(kind, mine))
            if "preset" in mine.columns:
                chosen = sorted({str(p) for p in mine["preset"] if isinstance(p, str) and p})
                presets[kind] = ", ".join(chosen) if chosen else "unknown"
    return {
        "run_id": uuid.uuid4().hex[:12],
        "data_version": data.version,
        "data_name": data.name,
        "kinds": ", ".join(kinds),
        "preset": presets,
        "weights": weights,
        "n_slots": n_slots,
        "n_tables": n_tables,
        "planner": "" if planner == UNNAMED_PLANNER else planner,
        "created_at": now_stamp(),
    }
