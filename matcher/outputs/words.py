"""Codes in words, for the files people open (XLSX, the CSV for Excel) in one language.

A workbook written with ``lang="zh"`` or ``"en"`` is for people: its headers (``export.HEADER_LABELS``)
and the codes in its cells are in that language: docking kinds, regions, sides, shortlist
statuses, yes/no, the "all slots" of availability, and the run sheet's items. Files meant to be read back (no ``lang``,
Parquet, JSON) keep the codes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from matcher.store.models import ITEM_STATUSES
from matcher.vocab import REGIONS

SIDES: dict[str, tuple[str, str]] = {"left": ("甲方", "left side"), "right": ("乙方", "right side")}
YES_NO: dict[bool, tuple[str, str]] = {True: ("是", "yes"), False: ("否", "no")}
ALL_SLOTS = ("全部时段", "all slots")
#: Items of the run sheet (``meeting_plan.metadata``, ``run_metadata``) in words.
RUN_ITEMS: dict[str, tuple[str, str]] = {
    "run_id": ("运行编号", "Run ID"), "data_version": ("数据版本", "Data version"),
    "data_name": ("数据集", "Data set"), "kinds": ("对接类型", "Docking kinds"), "weights": ("权重", "Weight"),
    "n_slots": ("时段数", "Time slots"), "n_tables": ("桌数", "Tables"), "planner": ("规划人员", "Planner"),
    "created_at": ("生成时间", "Created"), "event_name": ("活动名称", "Event"), "venue": ("地点", "Venue"),
    "preset": ("权重方案", "Weight preset"), "kind": ("对接类型", "Docking kind"),
}
BUNDLED = ("内置数据", "bundled data")


def _index(lang: str) -> int:
    return 0 if lang == "zh" else 1


def kind_words(code: Any, lang: str) -> Any:
    from matcher.docking.kinds import KINDS

    return KINDS[code].label(lang) if isinstance(code, str) and code in KINDS else code


def value_words(column: str, value: Any, lang: str | None) -> Any:
    """``value`` of ``column`` in words for ``lang`` (as it is without a language or for a value
    that is not a code)."""
    if lang not in ("zh", "en") or value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return value
    i = _index(lang)
    if isinstance(value, (bool, np.bool_)):
        return YES_NO[bool(value)][i]
    if not isinstance(value, str):
        return value
    if column == "kind":
        return kind_words(value, lang)
    if column.endswith("region") and value in REGIONS:
        return REGIONS[value][i]
    if column == "status" and value in ITEM_STATUSES:
        return ITEM_STATUSES[value][i]
    if column == "side":
        return ("、" if i == 0 else " and ").join(SIDES.get(s, (s, s))[i] for s in value.split("/"))
    if column == "available_slots" and value == "all":
        return ALL_SLOTS[i]
    return value


def run_rows(metadata: Mapping[str, Any] | None, lang: str | None) -> pd.DataFrame:
    """``key, value`` rows of the run sheet; for ``lang`` the items and their codes in words
    (``weights.<kind>.<feature>`` becomes "权重：<kind in words> · <feature in words>")."""
    from matcher.docking.explain import FEATURE_LABEL
    from matcher.outputs.metadata import metadata_rows

    rows = metadata_rows(metadata)
    if lang not in ("zh", "en"):
        return rows
    i = _index(lang)
    keys, values = [], []
    for key, value in zip(rows["key"], rows["value"], strict=True):
        head, _, rest = str(key).partition(".")
        label = RUN_ITEMS.get(head, (head, head))[i]
        if rest:
            kind, _, feature = rest.partition(".")
            label = f"{label}{'：' if i == 0 else ': '}{kind_words(kind, lang)} · " \
                    f"{FEATURE_LABEL.get(feature, (feature, feature))[i]}" if feature else f"{label} {rest}"
        if head == "kinds" and isinstance(value, str):
            parts = [p.strip() for p in (json.loads(value) if value.startswith("[") else value.split(","))]
            value = ("、" if i == 0 else ", ").join(str(kind_words(p, lang)) for p in parts if p)
        elif head == "data_name" and value == "bundled":
            value = BUNDLED[i]
        elif head == "kind":
            value = kind_words(value, lang)
        keys.append(label)
        values.append(value)
    return pd.DataFrame({"key": keys, "value": values})
