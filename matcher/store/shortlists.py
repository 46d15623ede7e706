"""Runs, shortlists and their items: what the engine proposed and what planners keep of it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from sqlalchemy import select

from matcher.exceptions import ConflictError, MatcherError, ValidationError
from matcher.store import models as m
from matcher.store.core import StoreCore
from matcher.store.rows import (
    _blank,
    _choice,
    _float_or_none,
    _frame,
    _json,
    _pair,
    _planner,
    _require_columns,
    _text_id,
)

#: Fields of a shortlist item a planner may change through ``update``.
ITEM_FIELDS = ("status", "notes", "locked", "score")


class RunsAndShortlists(StoreCore):
    """Part of :class:`~matcher.store.Store`: runs, shortlists, shortlist items and their changes."""

    # -- runs -------------------------------------------------------------------------------
    def record_run(
        self,
        run_id: str,
        *,
        data_version: str,
        kind: str,
        weights: Mapping[str, Any],
        planner: str,
        preset: str | None = None,
    ) -> dict[str, Any]:
        """Keep one engine run: its id, the data version hash, the kind of docking, the weights and
        the name of the weight preset the planner chose.

        ``preset`` is what the planner picked (``"custom"`` once a weight was moved off the preset);
        ``None`` or empty keeps it as unknown (NULL, like the runs recorded before revision 0003).
        The store keeps the name as given: it never works a preset out from the weights.
        """
        planner = _planner(planner)
        preset = None if _blank(preset) or not str(preset).strip() else str(preset).strip()
        if preset is not None and len(preset) > m.runs.c.preset.type.length:
            raise ValidationError(
                f"Preset name {preset[:20]!r}... is longer than {m.runs.c.preset.type.length} characters."
            )
        values = {
            "run_id": _text_id(run_id, "run id"),
            "data_version": str(data_version),
            "kind": str(kind),
            "weights_json": _json(dict(weights)),
            "created_at": self._now(),
            "planner": planner,
            "preset": preset,
        }
        with self._write(f"record run {run_id}") as conn:
            if conn.execute(select(m.runs.c.id).where(m.runs.c.run_id == values["run_id"])).first():
                raise ConflictError(f"A run with id {run_id!r} is already stored; run ids are unique.")
            return self._insert(conn, m.runs, values, planner, ref=values["run_id"])

    def runs(self) -> pd.DataFrame:
        """All runs, oldest first, with ``weights`` decoded from JSON; ``preset`` is NA when unknown."""
        with self._read("list runs") as conn:
            rows = [dict(r) for r in conn.execute(select(m.runs).order_by(m.runs.c.id)).mappings()]
        for row in rows:
            row["weights"] = json.loads(row.pop("weights_json"))
        return _frame(rows, m.runs, extra=("weights",), drop=("weights_json",))

    # -- shortlists -------------------------------------------------------------------------
    def create_shortlist(self, name: str, *, planner: str, run_id: str | None = None) -> dict[str, Any]:
        """Start a shortlist, optionally tied to the run whose suggestions it draws from."""
        planner = _planner(planner)
        if not str(name).strip():
            raise ValidationError("A shortlist needs a name.")
        with self._write(f"create shortlist {name!r}") as conn:
            taken = {str(n).strip().casefold() for (n,) in conn.execute(select(m.shortlists.c.name))}
            if str(name).strip().casefold() in taken:
                raise ValidationError(f"A shortlist named {str(name).strip()!r} already exists; pick another name.")
            if (
                run_id is not None
                and not conn.execute(select(m.runs.c.id).where(m.runs.c.run_id == run_id)).first()
            ):
                raise MatcherError(f"There is no stored run {run_id!r}; record the run before its shortlist.")
            now = self._now()
            values = dict(
                name=str(name).strip(), run_id=run_id, planner=planner, created_at=now, updated_at=now
            )
            return self._insert(conn, m.shortlists, values, planner, ref=str(name).strip())

    def shortlists(self) -> pd.DataFrame:
        """All shortlists, oldest first."""
        with self._read("list shortlists") as conn:
            rows = [
                dict(r) for r in conn.execute(select(m.shortlists).order_by(m.shortlists.c.id)).mappings()
            ]
        return _frame(rows, m.shortlists)

    def add_items(
        self, shortlist_id: int, suggestions: pd.DataFrame, *, planner: str, run_id: str | None = None
    ) -> list[int]:
        """Add suggestion rows to a shortlist, all or none; returns the new item ids in row order.

        ``suggestions`` needs ``left_id``, ``right_id``, ``kind``; ``score``, ``notes``,
        ``status`` and ``locked`` are taken when present. A pair already on the shortlist is
        refused (it keeps its notes and status); a pair with a decision starts with that status.

        Each item keeps the run that proposed it: the row's ``run_id`` column when the frame has one
        (the engine's suggestions carry it), else the ``run_id`` argument, else unknown (NULL). The
        run must be stored first (:meth:`record_run`); a row naming another run than ``run_id`` is
        refused.
        """
        planner = _planner(planner)
        _require_columns(suggestions, ("left_id", "right_id", "kind"), "suggestions")
        given = None if _blank(run_id) else _text_id(run_id, "run id")
        rows = []
        for number, rec in enumerate(suggestions.to_dict("records"), start=1):
            status = "proposed" if _blank(rec.get("status")) else rec["status"]
            rows.append(
                {
                    "left_id": _text_id(rec["left_id"], f"left_id of suggestion row {number}"),
                    "right_id": _text_id(rec["right_id"], f"right_id of suggestion row {number}"),
                    "kind": _text_id(rec["kind"], f"kind of suggestion row {number}"),
                    "score": _float_or_none(rec.get("score")),
                    "status": _choice(status, m.ITEM_STATUSES, f"status of suggestion row {number}"),
                    "notes": "" if _blank(rec.get("notes")) else str(rec["notes"]),
                    "locked": False if _blank(rec.get("locked")) else bool(rec["locked"]),
                    "run_id": _run_of(rec.get("run_id"), given, number),
                }
            )
        with self._write(f"add {len(rows)} items to shortlist {shortlist_id}") as conn:
            if self._row(conn, m.shortlists, shortlist_id) is None:
                raise MatcherError(f"There is no shortlist with id {shortlist_id}.")
            named = {row["run_id"] for row in rows} - {None}
            stored = set(conn.execute(select(m.runs.c.run_id).where(m.runs.c.run_id.in_(named))).scalars())
            if named - stored:
                raise MatcherError(
                    f"There is no stored run {', '.join(map(repr, sorted(named - stored)))}; record the run "
                    "before adding its items. Nothing was added."
                )
            decided = {
                (d.left_id, d.right_id, d.kind): d.decision
                for d in conn.execute(
                    select(
                        m.decisions.c.left_id,
                        m.decisions.c.right_id,
                        m.decisions.c.kind,
                        m.decisions.c.decision,
                    )
                )
            }
            present = {
                (r.left_id, r.right_id, r.kind)
                for r in conn.execute(
                    select(
                        m.shortlist_items.c.left_id, m.shortlist_items.c.right_id, m.shortlist_items.c.kind
                    ).where(m.shortlist_items.c.shortlist_id == shortlist_id)
                )
            }
            ids = []
            now = self._now()
            for row in rows:
                key = (row["left_id"], row["right_id"], row["kind"])
                if key in present:
                    raise ConflictError(
                        f"Pair {_pair(row)} is already on shortlist {shortlist_id}; nothing was added."
                    )
                present.add(key)
                if key in decided and row["status"] == "proposed":
                    row["status"] = "accepted" if decided[key] == "accept" else "rejected"
                values = {
                    **row,
                    "shortlist_id": shortlist_id,
                    "planner": planner,
                    "created_at": now,
                    "updated_at": now,
                }
                ids.append(self._insert(conn, m.shortlist_items, values, planner)["id"])
            return ids

    def item(self, item_id: int) -> dict[str, Any]:
        """One shortlist item as a dict (includes its ``version``)."""
        with self._read(f"read shortlist item {item_id}") as conn:
            row = self._row(conn, m.shortlist_items, item_id)
        if row is None:
            raise MatcherError(f"There is no shortlist item with id {item_id}.")
        return row

    def items(self, shortlist_id: int | None = None) -> pd.DataFrame:
        """Shortlist items (of one shortlist, or all), by id; ``run_id`` is NA when unknown."""
        query = select(m.shortlist_items).order_by(m.shortlist_items.c.id)
        if shortlist_id is not None:
            query = query.where(m.shortlist_items.c.shortlist_id == shortlist_id)
        with self._read("list shortlist items") as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        return _frame(rows, m.shortlist_items)

    def _check_item_changes(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        unknown = sorted(set(changes) - set(ITEM_FIELDS))
        if unknown:
            raise ValidationError(
                f"Shortlist items have no changeable field {', '.join(unknown)}; "
                f"a planner may change: {', '.join(ITEM_FIELDS)}."
            )
        if not changes:
            raise ValidationError("No change given: name at least one of " + ", ".join(ITEM_FIELDS) + ".")
        clean = dict(changes)
        if "status" in clean:
            clean["status"] = _choice(clean["status"], m.ITEM_STATUSES, "Status")
        if "notes" in clean:
            clean["notes"] = "" if clean["notes"] is None else str(clean["notes"])
        if "locked" in clean:
            clean["locked"] = bool(clean["locked"])
        if "score" in clean:
            clean["score"] = _float_or_none(clean["score"])
        return clean

    def update(
        self, item_id: int, changes: Mapping[str, Any], expected_version: int, planner: str
    ) -> dict[str, Any]:
        """Change a shortlist item, if nobody changed it since ``expected_version``.

        Parameters
        ----------
        item_id : int
            The item.
        changes : mapping
            New values of ``status``, ``notes``, ``locked`` and/or ``score``.
        expected_version : int
            The ``version`` the planner saw when they started editing.
        planner : str
            Who makes the change (kept in the item and the audit log).

        Returns
        -------
        dict
            The item after the change (its ``version`` is ``expected_version + 1``).

        Raises
        ------
        ConflictError
            The item moved on since ``expected_version``; the message shows, per field, your value
            and theirs. Nothing was saved.
        """
        return self.update_many([(item_id, changes, expected_version)], planner=planner)[0]

    def update_many(
        self, updates: Iterable[tuple[int, Mapping[str, Any], int]], *, planner: str
    ) -> list[dict[str, Any]]:
        """Apply several item updates ``(item_id, changes, expected_version)`` all or none."""
        planner = _planner(planner)
        checked = [(int(i), self._check_item_changes(c), v) for i, c, v in updates]
        with self._write(f"update {len(checked)} shortlist item(s)") as conn:
            return [
                self._versioned_update(
                    conn,
                    m.shortlist_items,
                    item_id,
                    changes,
                    expected_version,
                    planner,
                    what=lambda row: f"Shortlist item {row['id']} ({_pair(row)})",
                    when_field="updated_at",
                    stamp={"updated_at": self._now()},
                )
                for item_id, changes, expected_version in checked
            ]


def _run_of(value: Any, given: str | None, number: int) -> str | None:
    """The run of suggestion row ``number``: its own ``run_id`` cell, else the one given for all."""
    if _blank(value) or not str(value).strip():
        return given
    own = _text_id(value, f"run_id of suggestion row {number}")
    if given is not None and own != given:
        raise ValidationError(
            f"Suggestion row {number} was proposed by run {own!r}, but the items are added for run "
            f"{given!r}. Nothing was added."
        )
    return own
