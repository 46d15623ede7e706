"""Run metadata: what produced an export (weights, data version, run id, time).

:func:`run_metadata` builds it; every workbook carries it as its ``run`` sheet
(:func:`metadata_rows`), PDF agendas in their footer, calendars as their time stamp
(:func:`created_at`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

import pandas as pd


def run_metadata(suggestions: pd.DataFrame | None = None, **fields: Any) -> dict[str, Any]:
    """Metadata for the ``run`` sheet: ``weights`` read from the ``w_<feature>`` columns of the
    suggestions (when one value per column), plus the given fields (``data_version``,
    ``run_id``, ``created_at``, ``method``, ...)."""
    meta: dict[str, Any] = {}
    if suggestions is not None:
        weights = {}
        for col in suggestions.columns:
            if str(col).startswith("w_"):
                values = pd.to_numeric(suggestions[col], errors="coerce").dropna().unique()
                if len(values) == 1:
                    weights[str(col)[2:]] = float(values[0])
        if weights:
            meta["weights"] = weights
    meta.update({k: v for k, v in fields.items() if v is not None})
    return meta


def metadata_rows(metadata: Mapping[str, Any] | None) -> pd.DataFrame:
    """``key, value`` rows of the ``run`` sheet; a mapping value gives ``key.sub`` rows."""
    rows = []
    for key, value in (metadata or {}).items():
        if isinstance(value, Mapping):
            for sub, v in value.items():
                rows.append((f"{key}.{sub}", v))
        elif isinstance(value, (list, tuple)):
            rows.append((key, json.dumps(list(value), ensure_ascii=False, default=str)))
        else:
            rows.append((key, value))
    return pd.DataFrame(rows, columns=["key", "value"])


def now_stamp() -> str:
    """The time of a run as every run sheet, calendar and model file writes it: local time to the second,
    with its offset from UTC (``2026-12-01T12:05:06+08:00``), so two exports read alike and a calendar
    written on a server in another time zone still stamps the right hour."""
    return dt.datetime.now().astimezone().replace(microsecond=0).isoformat()


def created_at(metadata: Mapping[str, Any] | None) -> dt.datetime:
    """The run time from metadata in UTC (without a zone: a time written without an offset is taken as
    UTC); a fixed date otherwise, so identical input gives identical files.

    >>> created_at({"created_at": "2026-12-01T12:05:06+08:00"}), created_at({})
    (datetime.datetime(2026, 12, 1, 4, 5, 6), datetime.datetime(2000, 1, 1, 0, 0))
    """
    value = (metadata or {}).get("created_at")
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            value = None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value
    return dt.datetime(2000, 1, 1)
