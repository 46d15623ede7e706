"""Meetings: booking pairs at a slot and table, one at a time or a whole plan at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from sqlalchemy import Connection, select, update

from matcher.exceptions import ConflictError, MatcherError, ValidationError
from matcher.store import models as m
from matcher.store.core import StoreCore
from matcher.store.rows import _blank, _conflict_message, _frame, _pair, _planner, _text_id

#: Fields of a meeting a planner may change through ``update_meeting``.
MEETING_FIELDS = ("slot", "table_label")


class Meetings(StoreCore):
    """Part of :class:`~matcher.store.Store`: booking, moving and listing meetings."""

    # -- meetings ---------------------------------------------------------------------------
    def schedule_meeting(
        self,
        left_id: str,
        right_id: str,
        kind: str,
        *,
        slot: str,
        table: str,
        planner: str,
        item_id: int | None = None,
    ) -> dict[str, Any]:
        """Book a meeting of a pair at a time slot and table; a taken table is a conflict."""
        planner = _planner(planner)
        values = {
            "left_id": _text_id(left_id, "left_id"),
            "right_id": _text_id(right_id, "right_id"),
            "kind": _text_id(kind, "kind"),
            "slot": _text_id(slot, "slot"),
            "table_label": _text_id(table, "table"),
            "item_id": item_id,
        }
        with self._write(f"book a meeting for {_pair(values)}") as conn:
            taken = (
                conn.execute(
                    select(m.meetings).where(
                        m.meetings.c.slot == values["slot"], m.meetings.c.table_label == values["table_label"]
                    )
                )
                .mappings()
                .first()
            )
            if taken is not None:
                raise ConflictError(
                    f"Table {values['table_label']} at slot {values['slot']} is already taken by "
                    f"{_pair(taken)} (booked by {taken['planner']}). Pick another table or slot."
                )
            if item_id is not None and self._row(conn, m.shortlist_items, item_id) is None:
                raise MatcherError(f"There is no shortlist item with id {item_id}.")
            now = self._now()
            return self._insert(
                conn,
                m.meetings,
                {**values, "planner": planner, "created_at": now, "updated_at": now},
                planner,
            )

    def update_meeting(
        self, meeting_id: int, changes: Mapping[str, Any], expected_version: int, planner: str
    ) -> dict[str, Any]:
        """Move a meeting (``slot`` and/or ``table_label``) if nobody moved it since ``expected_version``."""
        planner = _planner(planner)
        unknown = sorted(set(changes) - set(MEETING_FIELDS))
        if unknown or not changes:
            raise ValidationError(f"A meeting's changeable fields are: {', '.join(MEETING_FIELDS)}.")
        clean = {k: _text_id(v, k) for k, v in changes.items()}
        with self._write(f"move meeting {meeting_id}") as conn:
            current = self._row(conn, m.meetings, meeting_id, lock=True)
            if current is not None and int(expected_version) == current["version"]:
                target = {**current, **clean}
                self._check_table_free(conn, target["slot"], target["table_label"], {meeting_id})
            return self._versioned_update(
                conn,
                m.meetings,
                meeting_id,
                clean,
                expected_version,
                planner,
                what=lambda row: f"Meeting {row['id']} ({_pair(row)})",
                when_field="updated_at",
                stamp={"updated_at": self._now()},
            )

    @staticmethod
    def _check_table_free(conn: Connection, slot: str, table_label: str, allowed: set[int]) -> None:
        taken = (
            conn.execute(
                select(m.meetings).where(m.meetings.c.slot == slot, m.meetings.c.table_label == table_label)
            )
            .mappings()
            .first()
        )
        if taken is not None and taken["id"] not in allowed:
            raise ConflictError(
                f"Table {table_label} at slot {slot} is already taken by {_pair(taken)} "
                f"(meeting {taken['id']}, booked by {taken['planner']}). Pick another table or slot."
            )

    def book_meetings(self, bookings: Iterable[Mapping[str, Any]], *, planner: str) -> list[dict[str, Any]]:
        """Book a whole meeting plan in one transaction: all of it or nothing.

        Parameters
        ----------
        bookings : iterable of mappings
            Each with ``left_id``, ``right_id``, ``kind``, ``slot``, ``table`` and optionally
            ``item_id``; to move a stored meeting also ``meeting_id`` and ``expected_version``
            (the version you saw). Meetings of the plan may swap tables and slots among themselves.
        planner : str
            Who books.

        Returns
        -------
        list of dict
            The booked meetings, in the order given (unchanged ones as stored).

        Raises
        ------
        ConflictError
            A table is held by a meeting outside the plan, or a moved meeting changed since its
            ``expected_version``. Nothing was booked.
        ValidationError
            The plan itself puts two meetings at one table in one slot.
        """
        planner = _planner(planner)
        plan = []
        for number, booking in enumerate(bookings, start=1):
            entry = {
                "left_id": _text_id(booking.get("left_id"), f"left_id of booking {number}"),
                "right_id": _text_id(booking.get("right_id"), f"right_id of booking {number}"),
                "kind": _text_id(booking.get("kind"), f"kind of booking {number}"),
                "slot": _text_id(booking.get("slot"), f"slot of booking {number}"),
                "table_label": _text_id(booking.get("table"), f"table of booking {number}"),
                "item_id": None if _blank(booking.get("item_id")) else int(booking["item_id"]),
                "meeting_id": None if _blank(booking.get("meeting_id")) else int(booking["meeting_id"]),
                "expected_version": None
                if _blank(booking.get("expected_version"))
                else int(booking["expected_version"]),
            }
            plan.append(entry)
        seen: dict[tuple[str, str], dict[str, Any]] = {}
        for entry in plan:
            place = (entry["slot"], entry["table_label"])
            if place in seen:
                raise ValidationError(
                    f"The plan puts {_pair(seen[place])} and {_pair(entry)} both at table {place[1]} "
                    f"in slot {place[0]}."
                )
            seen[place] = entry
        now = self._now()
        with self._write(f"book {len(plan)} meetings") as conn:
            originals: dict[int, dict[str, Any]] = {}
            for entry in plan:  # check every moved meeting, then park it off the grid
                if entry["meeting_id"] is None:
                    continue
                row = self._row(conn, m.meetings, entry["meeting_id"], lock=True)
                if row is None:
                    raise MatcherError(f"There is no meeting with id {entry['meeting_id']}.")
                expected = entry["expected_version"]
                if expected is not None and expected != row["version"]:
                    wanted = {"slot": entry["slot"], "table_label": entry["table_label"]}
                    raise ConflictError(
                        _conflict_message(
                            f"Meeting {row['id']} ({_pair(row)})", expected, row, wanted, "updated_at"
                        )
                    )
                originals[row["id"]] = row
                # A temporary label frees its place, so meetings of the plan can swap places.
                conn.execute(
                    update(m.meetings).where(m.meetings.c.id == row["id"]).values(table_label=f"~{row['id']}")
                )
            for entry in plan:
                self._check_table_free(conn, entry["slot"], entry["table_label"], set(originals))
            booked = []
            for entry in plan:
                row = originals.get(entry["meeting_id"]) if entry["meeting_id"] is not None else None
                if row is None:
                    values = {
                        k: entry[k] for k in ("left_id", "right_id", "kind", "slot", "table_label", "item_id")
                    }
                    booked.append(
                        self._insert(
                            conn,
                            m.meetings,
                            {**values, "planner": planner, "created_at": now, "updated_at": now},
                            planner,
                        )
                    )
                    continue
                if (row["slot"], row["table_label"]) == (entry["slot"], entry["table_label"]):
                    conn.execute(  # back from its temporary label, unchanged: no new version
                        update(m.meetings)
                        .where(m.meetings.c.id == row["id"])
                        .values(table_label=row["table_label"])
                    )
                    booked.append(row)
                    continue
                after = dict(
                    conn.execute(
                        update(m.meetings)
                        .where(m.meetings.c.id == row["id"])
                        .values(
                            slot=entry["slot"],
                            table_label=entry["table_label"],
                            planner=planner,
                            updated_at=now,
                            version=row["version"] + 1,
                        )
                        .returning(*m.meetings.c)
                    )
                    .mappings()
                    .one()
                )
                self._audit(
                    conn,
                    planner=planner,
                    table=m.meetings,
                    action="update",
                    row_id=row["id"],
                    before=row,
                    after=after,
                )
                booked.append(after)
            return booked

    def meetings(self) -> pd.DataFrame:
        """All meetings, by slot, then table."""
        query = select(m.meetings).order_by(m.meetings.c.slot, m.meetings.c.table_label, m.meetings.c.id)
        with self._read("list meetings") as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        return _frame(rows, m.meetings)
