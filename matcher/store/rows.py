"""Checking what callers hand the store, and shaping what it hands back.

Ids, planners and vocabulary values are checked before any transaction starts
(:class:`~matcher.exceptions.ValidationError` with a message a planner can act on); rows come back
as DataFrames with the project's dtypes; a conflict is told with both values side by side.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from sqlalchemy import Table

from matcher.exceptions import ValidationError


def _pair(row: Mapping[str, Any]) -> str:
    return f"{row['left_id']} <-> {row['right_id']} ({row['kind']})"


def _show(value: Any) -> str:
    if value is None:
        return "(empty)"
    return repr(value)


def _conflict_message(
    what: str,
    expected: int | None,
    current: Mapping[str, Any],
    changes: Mapping[str, Any],
    when_field: str,
) -> str:
    who = current.get("planner") or "another planner"
    when = current.get(when_field) or "?"
    if expected is None:
        lines = [
            f"{what} is already recorded by {who} at {when} (version {current['version']}), "
            "and you did not name the version you replace."
        ]
        changes = {k: v for k, v in changes.items() if current.get(k) != v}
    else:
        lines = [
            f"{what} was changed by {who} at {when} since you loaded it: "
            f"yours is based on version {expected}, theirs is now version {current['version']}."
        ]
    for field, mine in changes.items():
        lines.append(f"  {field}: yours {_show(mine)}, theirs {_show(current.get(field))}")
    lines.append("Nothing was saved. Reload it, then apply your change again if it still holds.")
    return "\n".join(lines)


def _json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _text_id(value: Any, name: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        raise ValidationError(f"{name} is empty; give the entity id (e.g. C001).")
    value = str(value).strip()
    if not value:
        raise ValidationError(f"{name} is empty; give the entity id (e.g. C001).")
    return value


def _planner(planner: Any) -> str:
    if planner is None or not str(planner).strip():
        raise ValidationError("Say who makes the change: planner is empty.")
    return str(planner).strip()


def _choice(value: Any, allowed: Mapping[str, Any], what: str) -> str:
    if value not in allowed:
        raise ValidationError(f"{what} {value!r} is not known; use one of: {', '.join(allowed)}.")
    return str(value)


def _blank(value: Any) -> bool:
    """None, NaN or NA: a cell with nothing in it."""
    return value is None or (not isinstance(value, (str, bytes)) and bool(pd.isna(value)))


def _float_or_none(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValidationError(f"Score {value!r} is not a number.") from None
    return None if math.isnan(number) else number


def _require_columns(frame: pd.DataFrame, needed: Iterable[str], what: str) -> None:
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValidationError(
            f"The {what} lack column(s) {', '.join(missing)}; they have: {', '.join(map(str, frame.columns))}."
        )


_DTYPES = {"Integer": "Int64", "Float": "Float64", "Boolean": "boolean"}


def _frame(
    rows: list[dict[str, Any]], table: Table, *, extra: Iterable[str] = (), drop: Iterable[str] = ()
) -> pd.DataFrame:
    """Rows as a DataFrame with the project's dtypes (text "string", counts "Int64", ...)."""
    dropped = set(drop)
    columns = [c for c in table.c.keys() if c not in dropped] + list(extra)
    frame = pd.DataFrame(rows, columns=columns)
    for column in table.c:
        if column.key in dropped:
            continue
        dtype = _DTYPES.get(type(column.type).__name__, "string")
        frame[column.key] = frame[column.key].astype(dtype)
    return frame
