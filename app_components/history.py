"""What was recorded about an entity: decisions, shortlist changes, meetings and outcomes, in words."""

from __future__ import annotations

import pandas as pd

from app_components.i18n import (
    decision_label,
    fmt_date,
    outcome_label,
    outcome_stage_label,
    planner_name,
    status_label,
    t,
)
from matcher.store import Store

_TABLES = {
    "shortlist_items": ("清单条目", "shortlist item"),
    "decisions": ("决定", "decision"),
    "meetings": ("会谈", "meeting"),
    "outcomes": ("成效", "outcome"),
    "runs": ("排名运行", "ranking run"),
    "shortlists": ("清单", "shortlist"),
}
_ACTIONS = {"insert": ("新增", "added"), "update": ("修改", "changed"), "flag": ("标记缺失", "flagged missing"),
            "unflag": ("取消标记", "unflagged")}


def _what(table: str, after: dict | None, name=lambda i: i) -> str:
    row = dict(after or {})
    for side in ("left_id", "right_id"):
        if row.get(side):
            row[side] = name(row[side])
    if table == "shortlist_items":
        return f"{row.get('left_id', '')} ↔ {row.get('right_id', '')}: {status_label(row.get('status', ''))}" + (
            f" · {row['notes']}" if row.get("notes") else "")
    if table == "decisions":
        return f"{row.get('left_id', '')} ↔ {row.get('right_id', '')}: {decision_label(row.get('decision', ''))}"
    if table == "meetings":
        return (f"{row.get('left_id', '')} ↔ {row.get('right_id', '')}: {t('col_slot')} {row.get('slot', '')}, "
                f"{t('col_table')} {row.get('table_label', '')}")
    if table == "outcomes":
        stage = row.get("stage", "")
        rating = f" ({row['rating']}/5)" if row.get("rating") else ""
        return (f"{row.get('left_id', '')} ↔ {row.get('right_id', '')}: {outcome_stage_label(stage)} · "
                f"{outcome_label(stage, row.get('value', ''))}{rating}")
    return ""


def table(store: Store, entity_id: str, name=lambda i: i) -> pd.DataFrame:
    """The audit history of ``entity_id`` as a readable table, newest first; ``name(id)`` words an
    entity (its name in the session's language)."""
    from app_components.i18n import lang

    raw = store.history(entity_id)
    if raw.empty:
        return pd.DataFrame()
    pick = 0 if lang() == "zh" else 1
    frame = pd.DataFrame({
        t("col_when"): [fmt_date(a) for a in raw["at"]],
        t("col_planner"): [planner_name(p) for p in raw["planner"]],
        t("col_action"): [_ACTIONS.get(a, (a, a))[pick] + " " + _TABLES.get(n, (n, n))[pick]
                          for a, n in zip(raw["action"], raw["table_name"], strict=True)],
        t("col_what"): [_what(n, after or before, name) for n, after, before in
                        zip(raw["table_name"], raw["after"], raw["before"], strict=True)],
    })
    return frame.iloc[::-1].reset_index(drop=True)
