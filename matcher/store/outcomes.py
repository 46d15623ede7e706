"""Outcomes of pairs (at the meeting, months later) and the audit history of every change."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from sqlalchemy import select

from matcher import limits
from matcher.docking.kinds import KINDS
from matcher.exceptions import ValidationError
from matcher.store import models as m
from matcher.store.core import StoreCore
from matcher.store.rows import _choice, _frame, _pair, _planner, _text_id, check_id


class OutcomesAndHistory(StoreCore):
    """Part of :class:`~matcher.store.Store`: outcomes and the audit log."""

    # -- outcomes ---------------------------------------------------------------------------
    def record_outcome(
        self,
        left_id: str,
        right_id: str,
        kind: str,
        *,
        stage: str,
        value: str,
        planner: str,
        rating: int | None = None,
        note: str = "",
        expected_version: int | None = None,
    ) -> dict[str, Any]:
        """Record what came of a pair, at the meeting or months later.

        ``stage="meeting"``: ``met`` or ``no_show``, with an optional ``rating`` 1-5 when met.
        ``stage="followup"``: ``no_further_contact``, ``valuable_contact``,
        ``negotiation_started`` or ``agreement_reached``. Replacing a recorded outcome needs its
        ``expected_version``.
        """
        planner = _planner(planner)
        stage = _choice(stage, m.OUTCOMES, "Outcome stage")
        value = _choice(value, m.OUTCOMES[stage], f"Outcome at stage {stage!r}")
        if rating is not None:
            if stage != "meeting" or value != "met":
                raise ValidationError(
                    "A rating (1-5) belongs to a meeting that took place (stage meeting, value met)."
                )
            try:
                rating = int(rating)
            except (TypeError, ValueError):
                raise ValidationError(f"Rating {rating!r} is not a whole number from 1 to 5.") from None
            low, high = m.RATING_RANGE
            if not low <= rating <= high:
                raise ValidationError(f"Rating {rating} is outside {low}-{high}.")
        key = {
            "left_id": check_id(_text_id(left_id, "left_id"), "left_id"),
            "right_id": check_id(_text_id(right_id, "right_id"), "right_id"),
            "kind": _choice(_text_id(kind, "kind"), KINDS, "Docking kind"),
            "stage": stage,
        }
        if key["left_id"] == key["right_id"]:
            raise ValidationError(f"{key['left_id']} cannot dock with itself: give two different ids.")
        if "\x00" in (note or ""):
            raise ValidationError("The note holds a NUL character, which the store cannot keep.")
        if len(note or "") > limits.MAX_NOTE_CHARS:
            raise ValidationError(f"The note is {len(note):,} characters long, more than the {limits.MAX_NOTE_CHARS:,} "
                                  "a note may have; shorten it (keep long reports in a file and name it).")
        values = {"value": value, "rating": rating, "note": note or "", "recorded_at": self._now()}
        with self._write(f"record the {stage} outcome of {_pair(key)}") as conn:
            # a pair is the same pair either way round: an outcome recorded as (B, A) is updated
            if self._outcome_version(conn, key) is None:
                reverse = {**key, "left_id": key["right_id"], "right_id": key["left_id"]}
                if self._outcome_version(conn, reverse) is not None:
                    key = reverse
            return self._keyed_upsert(
                conn,
                m.outcomes,
                key,
                values,
                expected_version,
                planner,
                what=f"The {stage} outcome of {_pair(key)}",
                when_field="recorded_at",
            )

    @staticmethod
    def _outcome_version(conn, key: dict[str, Any]) -> int | None:
        t = m.outcomes
        return conn.execute(select(t.c.version).where(*(t.c[k] == v for k, v in key.items()))).scalar_one_or_none()

    def outcomes(self) -> pd.DataFrame:
        """All outcomes, by id."""
        with self._read("list outcomes") as conn:
            rows = [dict(r) for r in conn.execute(select(m.outcomes).order_by(m.outcomes.c.id)).mappings()]
        return _frame(rows, m.outcomes)

    # -- audit ------------------------------------------------------------------------------
    def history(self, for_id: str | None = None) -> pd.DataFrame:
        """The audit log, oldest first: every change with who, when, and the row before and after.

        ``for_id`` keeps the entries about one entity (as ``left_id`` or ``right_id``) or one
        reference (run id, shortlist name). ``before``/``after`` are decoded dicts (None for an
        insert's before).
        """
        query = select(m.audit_log).order_by(m.audit_log.c.id)
        if for_id is not None:
            key = str(for_id)
            query = query.where(
                (m.audit_log.c.left_id == key) | (m.audit_log.c.right_id == key) | (m.audit_log.c.ref == key)
            )
        with self._read("read the history") as conn:
            rows = [dict(r) for r in conn.execute(query).mappings()]
        for row in rows:
            row["before"] = json.loads(row.pop("before_json")) if row["before_json"] else None
            row["after"] = json.loads(row.pop("after_json")) if row["after_json"] else None
        frame = _frame(rows, m.audit_log, extra=("before", "after"), drop=("before_json", "after_json"))
        return frame
