"""Checking what callers hand the store, and shaping what it hands back.

Ids, planners and vocabulary values are checked before any transaction starts
(:class:`~matcher.exceptions.ValidationError` with a message a planner can act on); rows come back
as DataFrames with the project's dtypes; a conflict is told with both values side by side.

What a stored value may be is checked the same way on SQLite and PostgreSQL (:func:`row_problems`):
PostgreSQL enforces a column's length and refuses a NUL character; SQLite enforces neither. So every
row a backup brings in is checked against its column (type, length, no control characters in ids and
names, required values) and the store's vocabularies (statuses, decisions, outcome stages and values,
ratings), and a pair is never a pair with itself: a backup that restores into one database restores
into the other.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd
from sqlalchemy import Boolean, Float, Integer, String, Table, Text

from matcher.exceptions import ValidationError
from matcher.store import models as m


def _pair(row: Mapping[str, Any]) -> str:
    return f"{row['left_id']} <-> {row['right_id']} ({row['kind']})"


def _show(value: Any) -> str:
    """A value as a message quotes it: ``repr``, cut to ``MAX_SHOWN_CHARS`` (a pasted megabyte must
    not flood a terminal)."""
    if value is None:
        return "(empty)"
    from matcher.ingest.validate import clip  # only when a message is made: it loads the validators

    return str(clip(repr(value)))


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
    """Who makes a change, checked as a restore checks it (``value_problem``): a name written now is one a
    backup brings back."""
    if planner is None or not str(planner).strip():
        raise ValidationError("Say who makes the change: planner is empty.")
    name = str(planner).strip()
    why = value_problem(m.outcomes, "planner", name)
    if why:
        raise ValidationError(f"planner {_show(name)} {why}; give a name of letters, digits and spaces.")
    return name


def _choice(value: Any, allowed: Mapping[str, Any], what: str) -> str:
    if value not in allowed:
        raise ValidationError(f"{what} {_show(value)} is not known; use one of: {', '.join(allowed)}.")
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
        raise ValidationError(f"Score {_show(value)} is not a number.") from None
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


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
#: Columns that name something (ids, planners, kinds, codes): no control character at all.
_NAMES = ("_id", "planner", "kind", "status", "decision", "reason", "stage", "value", "slot", "table_label",
          "name", "action", "table_name", "preset", "data_version")
_TIMES = ("created_at", "updated_at", "decided_at", "recorded_at", "at")
#: Columns whose values come from a vocabulary the store enforces when it writes, per table. (Docking
#: kinds are checked where a person types one, ``record_outcome``; a backup keeps whatever kinds the
#: store held, so one written before a kind was renamed still restores.)
_VOCABULARY: dict[str, dict[str, Mapping[str, Any]]] = {
    "shortlist_items": {"status": m.ITEM_STATUSES},
    "decisions": {"decision": m.DECISIONS},
    "outcomes": {"stage": m.OUTCOMES},
}


#: The largest finite float: a whole number past it (JSON allows 10**400) cannot be stored as one.
_LARGEST_FLOAT = sys.float_info.max


def value_problem(table: Table, column: str, value: Any) -> str | None:
    """Why ``value`` cannot be stored in ``table.column`` (None when it can)."""
    col = table.c[column]
    if value is None:
        return None if col.nullable or col.primary_key or col.server_default is not None else "is empty"
    kind = col.type
    if isinstance(kind, Boolean):
        return None if isinstance(value, bool) else f"{_show(value)} is not true or false"
    if isinstance(kind, Integer):
        if not isinstance(value, int) or isinstance(value, bool):
            return f"{_show(value)} is not a whole number"
        # PostgreSQL's INTEGER (SQLite's holds more): a backup that restores into one restores into the other
        low, high = -(2**31), 2**31 - 1
        if not low <= value <= high:
            return f"{_show(value)} is outside the whole numbers it holds ({low:,} to {high:,})"
    if isinstance(kind, Float):
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and abs(value) <= _LARGEST_FLOAT
        return None if ok else f"{_show(value)} is not a number"
    if isinstance(kind, (String, Text)):
        if not isinstance(value, str):
            return f"{_show(value)} is not text"
        if "\x00" in value:
            return "holds a NUL character"
        if isinstance(kind, String) and not isinstance(kind, Text) and kind.length and len(value) > kind.length:
            return f"is {len(value)} characters long, more than {kind.length}"
        if (column.endswith(_NAMES) or column in _NAMES) and _CONTROL.search(value):
            return "holds a control character"
        if column in _TIMES:
            try:
                dt.datetime.fromisoformat(value)
            except ValueError:
                return f"{_show(value)} is not a date and time"
        if column.endswith("_json"):  # what history and the shortlists read back: it must read
            try:
                json.loads(value)
            except RecursionError:
                return "is JSON nested too deeply (lists or objects inside one another thousands of times)"
            except ValueError:
                return f"{_show(value)} is not JSON"
    return None


def row_problems(table: Table, row: Mapping[str, Any]) -> list[str]:
    """Every problem of one row of ``table``, as "column: why"."""
    out = [f"{c}: {why}" for c in table.c.keys() if (why := value_problem(table, c, row.get(c)))]
    for column, vocabulary in _VOCABULARY.get(table.name, {}).items():
        value = row.get(column)
        if isinstance(value, str) and value not in vocabulary:
            out.append(f"{column}: {_show(value)} is not one of {', '.join(vocabulary)}")
    if table.name == "outcomes" and row.get("stage") in m.OUTCOMES and row.get("value") not in m.OUTCOMES[row["stage"]]:
        out.append(f"value: {_show(row.get('value'))} is not an outcome of stage {row['stage']}")
    if table.name == "outcomes" and row.get("rating") is not None:
        low, high = m.RATING_RANGE
        if not (isinstance(row["rating"], int) and low <= row["rating"] <= high):
            out.append(f"rating: {_show(row['rating'])} is not from {low} to {high}")
    if table.name == "decisions" and row.get("reason") is not None and row["reason"] not in m.REJECT_REASONS:
        out.append(f"reason: {_show(row['reason'])} is not one of {', '.join(m.REJECT_REASONS)}")
    if "left_id" in table.c and row.get("left_id") is not None and row.get("left_id") == row.get("right_id") \
            and table.name != "audit_log":
        out.append(f"right_id: the pair is {row['left_id']} with itself")
    return out


def check_rows(source: str, table: Table, rows: list[Mapping[str, Any]], *, most: int = 20) -> None:
    """Raise one :class:`ValidationError` naming the first ``most`` bad rows of ``table`` (rows
    numbered from 1 as in the backup's list)."""
    found = []
    for number, row in enumerate(rows, start=1):
        found += [f"table {table.name}, row {number}, {problem}" for problem in row_problems(table, row)]
        if len(found) >= most:
            break
    if found:
        raise ValidationError(f"{source} has values the store cannot hold; nothing was restored:\n  "
                              + "\n  ".join(found[:most]))


def check_id(value: str, name: str) -> str:
    """An entity id as the store keeps it: at most 64 characters, no control characters."""
    why = value_problem(m.outcomes, "left_id", value)
    if why:
        raise ValidationError(f"{name} {why}.")
    return value
