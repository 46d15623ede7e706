"""Planners' decisions on pairs, and how they outlive reruns: annotate, flag items whose entity left."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import select

from matcher.docking.kinds import KINDS
from matcher.exceptions import ValidationError
from matcher.store import models as m
from matcher.store.core import StoreCore
from matcher.store.rows import _choice, _frame, _pair, _planner, _require_columns, _text_id


class Decisions(StoreCore):
    """Part of :class:`~matcher.store.Store`: decisions, annotating suggestions, flagging missing entities."""

    # -- decisions --------------------------------------------------------------------------
    def decide(
        self,
        left_id: str,
        right_id: str,
        kind: str,
        decision: str,
        *,
        planner: str,
        reason: str | None = None,
        note: str = "",
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Accept or reject a pair; the decision outlives reruns (see :meth:`annotate`).

        ``reason`` is required with ``reject`` (one of :data:`models.REJECT_REASONS`) and must be
        empty with ``accept``. Every shortlist item of the pair takes the matching status. A pair
        already decided differently needs ``expected_version`` (the decision's version), else
        :class:`ConflictError` shows both decisions.
        """
        planner = _planner(planner)
        decision = _choice(decision, m.DECISIONS, "Decision")
        if decision == "reject":
            if reason is None:
                raise ValidationError(f"A rejection needs a reason: one of {', '.join(m.REJECT_REASONS)}.")
            reason = _choice(reason, m.REJECT_REASONS, "Reject reason")
        elif reason is not None:
            raise ValidationError("Only a rejection takes a reason; leave the reason empty when accepting.")
        key = {
            "left_id": _text_id(left_id, "left_id"),
            "right_id": _text_id(right_id, "right_id"),
            "kind": _text_id(kind, "kind"),
        }
        now = self._now()
        values = {"decision": decision, "reason": reason, "note": note or "", "decided_at": now}
        with self._write(f"record the decision on {_pair(key)}") as conn:
            row = self._keyed_upsert(
                conn,
                m.decisions,
                key,
                values,
                expected_version,
                planner,
                what=f"The decision on {_pair(key)}",
                when_field="decided_at",
            )
            status = "accepted" if decision == "accept" else "rejected"
            items = conn.execute(
                select(m.shortlist_items.c.id, m.shortlist_items.c.status).where(
                    *(m.shortlist_items.c[k] == v for k, v in key.items())
                )
            ).all()
            for item in items:
                if item.status != status:
                    self._versioned_update(
                        conn,
                        m.shortlist_items,
                        item.id,
                        {"status": status},
                        None,
                        planner,
                        what=lambda r: f"Shortlist item {r['id']}",
                        when_field="updated_at",
                        stamp={"updated_at": now},
                    )
            return row

    def decisions(self) -> pd.DataFrame:
        """All decisions, by id."""
        with self._read("list decisions") as conn:
            rows = [dict(r) for r in conn.execute(select(m.decisions).order_by(m.decisions.c.id)).mappings()]
        return _frame(rows, m.decisions)

    def annotate(self, suggestions: pd.DataFrame) -> pd.DataFrame:
        """Mark a fresh suggestions frame with what planners already decided.

        Adds (or replaces) ``decision`` (``accept``/``reject``/NA), ``reject_reason``,
        ``decided_by`` and ``status``: ``rejected``/``accepted`` from a decision, else the status of
        the pair's newest shortlist item, else ``new``. Pairs match on ``(left_id, right_id, kind)``
        as text, in either order except for the directed ``peer_learning`` kind, so a rejected pair
        stays rejected after a rerun on changed data and in the partner's list too. Row order and
        index are kept.
        """
        _require_columns(suggestions, ("left_id", "right_id", "kind"), "suggestions")
        with self._read("read decisions", snapshot=True) as conn:
            decided = conn.execute(
                select(
                    m.decisions.c.left_id,
                    m.decisions.c.right_id,
                    m.decisions.c.kind,
                    m.decisions.c.decision,
                    m.decisions.c.reason,
                    m.decisions.c.planner,
                )
            ).all()
            listed = conn.execute(
                select(
                    m.shortlist_items.c.left_id,
                    m.shortlist_items.c.right_id,
                    m.shortlist_items.c.kind,
                    m.shortlist_items.c.status,
                ).order_by(m.shortlist_items.c.id)
            ).all()
        by_pair = {(d.left_id, d.right_id, d.kind): d for d in decided}
        item_status = {(i.left_id, i.right_id, i.kind): i.status for i in listed}  # newest wins
        # suggestions list a pair in both entities' lists: a decision on A-B holds for B-A too,
        # except for one-sided kinds, whose pairs are directed (e.g. learner, teacher)
        for table in (by_pair, item_status):
            for (left, right, kind), value in list(table.items()):
                if kind not in KINDS or KINDS[kind].two_sided:
                    table.setdefault((right, left, kind), value)
        keys = list(
            zip(
                suggestions["left_id"].astype("string"),
                suggestions["right_id"].astype("string"),
                suggestions["kind"].astype("string"),
                strict=True,
            )
        )
        out = suggestions.copy()
        found = [by_pair.get(k) for k in keys]
        out["decision"] = pd.array([d.decision if d else pd.NA for d in found], dtype="string")
        out["reject_reason"] = pd.array(
            [d.reason if d and d.reason else pd.NA for d in found], dtype="string"
        )
        out["decided_by"] = pd.array([d.planner if d else pd.NA for d in found], dtype="string")
        status = []
        for key, d in zip(keys, found, strict=True):
            if d is not None:
                status.append("accepted" if d.decision == "accept" else "rejected")
            else:
                status.append(item_status.get(key, "new"))
        out["status"] = pd.array(status, dtype="string")
        return out

    def flag_missing(
        self, entity_ids: Iterable[str], *, planner: str = "system", data_version: str | None = None
    ) -> int:
        """Flag shortlist items whose entity is not in a new data version; never delete them.

        Parameters
        ----------
        entity_ids : iterable of str
            Every entity id present in the new data version (clusters, markets, enterprises).
        planner : str
            Recorded as the author of the flags.
        data_version : str, optional
            Kept in ``missing_since`` so planners see when the entity went missing.

        Returns
        -------
        int
            Number of items whose flag changed (newly flagged, or cleared because the entity is
            back). Flagged items keep notes, status and decisions; ``missing_ids`` names the absent
            ids.
        """
        planner = _planner(planner)
        present = {str(e) for e in entity_ids if e is not None and not pd.isna(e)}
        now = self._now()
        changed = 0
        with self._write("flag items whose entity left the data") as conn:
            rows = conn.execute(
                select(
                    m.shortlist_items.c.id,
                    m.shortlist_items.c.left_id,
                    m.shortlist_items.c.right_id,
                    m.shortlist_items.c.missing_ids,
                ).order_by(m.shortlist_items.c.id)
            ).all()
            for row in rows:
                absent = [e for e in (row.left_id, row.right_id) if e not in present]
                missing = ";".join(absent) if absent else None
                if missing == row.missing_ids:
                    continue
                self._versioned_update(
                    conn,
                    m.shortlist_items,
                    row.id,
                    {"missing_ids": missing, "missing_since": (data_version or now) if missing else None},
                    None,
                    planner,
                    what=lambda r: f"Shortlist item {r['id']}",
                    when_field="updated_at",
                    stamp={"updated_at": now},
                    action="flag" if missing else "unflag",
                )
                changed += 1
        return changed
