"""Codes in words, for the files people open (XLSX, the CSV for Excel) in one language.

A workbook written with ``lang="zh"`` or ``"en"`` is for people: its headers (:data:`HEADER_LABELS`)
and the codes in its cells are in that language: docking kinds, regions, sides, shortlist
statuses, yes/no, the "all slots" of availability, and the run sheet's items. Files meant to be read back (no ``lang``,
Parquet, JSON) keep the codes; and every reader takes both: :func:`machine_names` turns a table a
person opened, in either language, back into the codes (``matcher.meetings.tables.read_pairs_table``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from matcher.store.models import ITEM_STATUSES
from matcher.vocab import REGIONS

#: Column headers of exported tables in Chinese and English, for files written for people
#: (``lang="zh"``/``"en"``); without ``lang`` the headers stay the machine-readable column ids.
HEADER_LABELS: dict[str, tuple[str, str]] = {
    "rank": ("排名", "Rank"), "kind": ("对接类型", "Kind"), "score": ("得分", "Score"),
    "slot": ("时段", "Slot"), "start": ("开始", "Start"), "end": ("结束", "End"), "time": ("时间", "Time"),
    "table": ("桌号", "Table"), "locked": ("锁定", "Locked"),
    "left_id": ("甲方编号", "Left ID"), "right_id": ("乙方编号", "Right ID"),
    "left_name_zh": ("甲方（中文）", "Left (Chinese)"), "left_name_en": ("甲方（英文）", "Left (English)"),
    "right_name_zh": ("乙方（中文）", "Right (Chinese)"), "right_name_en": ("乙方（英文）", "Right (English)"),
    "left_region": ("甲方区域", "Left region"), "right_region": ("乙方区域", "Right region"),
    "reason_zh": ("理由（中文）", "Reason (Chinese)"), "reason_en": ("理由（英文）", "Reason (English)"),
    "item_id": ("清单条目", "Shortlist item"), "item_locked": ("条目锁定", "Item locked"),
    "participant_id": ("参会方编号", "Participant ID"),
    "participant_name_zh": ("参会方（中文）", "Participant (Chinese)"),
    "participant_name_en": ("参会方（英文）", "Participant (English)"),
    "partner_id": ("对方编号", "Partner ID"), "partner_name_zh": ("对方（中文）", "Partner (Chinese)"),
    "partner_name_en": ("对方（英文）", "Partner (English)"),
    "name_zh": ("中文名", "Chinese name"), "name_en": ("英文名", "English name"), "side": ("一方", "Side"),
    "requested": ("申请会谈", "Requested"), "scheduled": ("已安排", "Scheduled"),
    "first_slot": ("首个时段", "First slot"), "last_slot": ("末个时段", "Last slot"),
    "idle_slots": ("空档时段", "Idle slots"), "available_slots": ("可用时段", "Available slots"),
    "reason": ("原因", "Reason"), "key": ("项目", "Item"), "value": ("值", "Value"),
    "status": ("状态", "Status"), "notes": ("备注", "Notes"),
    "run_id": ("运行编号", "Run ID"),  # the run a shortlisted pair was added under (the app's meeting files)
}
SHEET_LABELS: dict[str, tuple[str, str]] = {
    "shortlist": ("候选清单", "Shortlist"), "schedule": ("日程", "Schedule"), "grid": ("时段×桌号", "Slot x table"),
    "agendas": ("个人日程", "Agendas"), "participants": ("参会方", "Participants"),
    "unscheduled": ("未安排", "Unscheduled"), "run": ("运行信息", "Run"), "candidates": ("候选规则", "Candidates"),
}


def header_label(column: str, lang: str | None) -> str:
    """The header of ``column`` for people reading ``lang`` ("zh"/"en"); the id itself without ``lang``."""
    if lang not in ("zh", "en"):
        return str(column)
    i = 0 if lang == "zh" else 1
    column = str(column)
    if column in HEADER_LABELS:
        return HEADER_LABELS[column][i]
    if column.startswith("table ") and column[6:].isdigit():  # slot x table grid
        return f"{HEADER_LABELS['table'][i]} {column[6:]}"
    return column


SIDES: dict[str, tuple[str, str]] = {"left": ("甲方", "left side"), "right": ("乙方", "right side")}
YES_NO: dict[bool, tuple[str, str]] = {True: ("是", "yes"), False: ("否", "no")}
ALL_SLOTS = ("全部时段", "all slots")
#: Items of the run sheet (``meeting_plan.metadata``, ``run_metadata``) in words.
RUN_ITEMS: dict[str, tuple[str, str]] = {
    "run_id": ("运行编号", "Run ID"), "data_version": ("数据版本", "Data version"),
    "data_name": ("数据集", "Data set"), "kinds": ("各对接类型", "Docking kinds"), "weights": ("权重", "Weight"),
    "n_slots": ("时段数", "Time slots"), "n_tables": ("桌数", "Tables"), "planner": ("规划人员", "Planner"),
    "created_at": ("生成时间", "Created"), "event_name": ("活动名称", "Event"), "venue": ("地点", "Venue"),
    "preset": ("权重方案", "Weight preset"), "kind": ("对接类型", "Docking kind"),
    "weights_hash": ("权重指纹", "Weights fingerprint"), "export": ("导出内容", "Contents"),
    "shortlist": ("候选清单", "Shortlist"),
}
BUNDLED = ("内置数据", "bundled data")
#: A label's colon: full-width after Chinese, ": " after English.
COLON = ("：", ": ")
#: Weights that only some runs behind a file's pairs used: "run(s)" before their ids (the pairs' run_id column).
RAN_UNDER = ("（运行 {}）", " (runs {})")
#: Weight presets (``matcher/presets/presets.json``) and the app's choices in words.
PRESET_WORDS: dict[str, tuple[str, str]] = {
    "balanced": ("均衡", "balanced"), "supply": ("重供应链", "supply chain first"),
    "transfer": ("重产能转移", "capacity transfer first"), "nearby": ("就近", "nearby first"),
    "chain": ("重产业链", "chain first"), "custom": ("自定义", "custom"), "unknown": ("未知", "unknown"),
    "learned": ("学习得到的模型", "learned model"),
}
#: A learned model's intercept (``scoring.BASELINE``) among a run's weights, in words.
BASELINE_WORDS = ("基线（截距）", "baseline (intercept)")
#: A planner who gave no name (an empty ``planner`` item), as the app says it.
UNNAMED = ("未署名", "unnamed")


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
    (``weights.<kind>.<feature>`` becomes "权重：<kind in words> · <feature in words>", a ``kind`` that
    is no docking kind, e.g. ``shortlist``, the export's contents, a preset its name, an empty
    ``planner`` "未署名"/"unnamed"); items without a value are left out."""
    from matcher.docking.explain import FEATURE_LABEL
    from matcher.docking.scoring import BASELINE
    from matcher.outputs.metadata import metadata_rows

    rows = metadata_rows(metadata)
    if lang not in ("zh", "en"):
        return rows
    i = _index(lang)
    keys, values = [], []
    for key, value in zip(rows["key"], rows["value"], strict=True):
        head, _, rest = str(key).partition(".")
        blank = value is None or (not isinstance(value, (list, tuple, Mapping)) and pd.isna(value)) or value == ""
        if (blank and head != "planner") or (head == "weights_hash" and not (metadata or {}).get("weights")):
            continue  # an item without a value says nothing (no preset given; the fingerprint of no weights)
        if head == "kind" and not (isinstance(value, str) and _is_kind(value)):
            head = "export"  # what the run made (e.g. a shortlist export), not a docking kind
        label = RUN_ITEMS.get(head, (head, head))[i]
        if rest:
            kind, _, feature = rest.partition(".")
            kind, _, ran = kind.partition("@")  # weights of some of the runs: "<kind>@<run ids>"
            sep = COLON[i]
            label = f"{label}{sep}{kind_words(kind, lang)}" + (RAN_UNDER[i].format(ran) if ran else "") + (
                f" · {FEATURE_LABEL.get(feature, BASELINE_WORDS if feature == BASELINE else (feature, feature))[i]}"
                if feature else "")
        if head == "kinds" and isinstance(value, str):
            parts = [p.strip() for p in (json.loads(value) if value.startswith("[") else value.split(","))]
            value = ("、" if i == 0 else ", ").join(str(kind_words(p, lang)) for p in parts if p)
        elif head == "data_name" and value == "bundled":
            value = BUNDLED[i]
        elif head == "kind":
            value = kind_words(value, lang)
        elif head == "export":
            value = SHEET_LABELS.get(str(value), (value, value))[i]
        elif head == "preset":
            value = ("、" if i == 0 else ", ").join(PRESET_WORDS.get(p, (p, p))[i]
                                                   for p in (p.strip() for p in str(value).split(",")) if p)
        elif head == "planner" and blank:
            value = UNNAMED[i]
        keys.append(label)
        values.append(value)
    return pd.DataFrame({"key": keys, "value": values})


def _is_kind(code: str) -> bool:
    from matcher.docking.kinds import KINDS

    return code in KINDS




def run_keys(rows: pd.DataFrame) -> pd.DataFrame:
    """:func:`run_rows` read back: the ``key, value`` rows of a run sheet with the item ids
    (``run_id``, ``weights.<kind>.<feature>``), whichever language the sheet was written in."""
    back = _reverse()["run"]
    rows = machine_names(rows)
    if "key" not in rows.columns:
        return rows
    return rows.assign(key=[back.get(str(k).strip(), k) if isinstance(k, str) else k for k in rows["key"]])

def _in_words(codes: Mapping[Any, tuple[str, str]]) -> dict[str, Any]:
    return {words[i]: code for code, words in codes.items() for i in (0, 1)}


@lru_cache(maxsize=1)
def _reverse() -> dict[str, dict[str, Any]]:
    """What the words of each code column mean, in both languages."""
    from matcher.docking.kinds import KINDS

    return {
        "headers": _in_words(HEADER_LABELS),
        "kind": {kind.label(lang): code for code, kind in KINDS.items() for lang in ("zh", "en")},
        "region": _in_words(REGIONS),
        "status": _in_words(ITEM_STATUSES),
        "side": _in_words(SIDES),
        "yes_no": _in_words(YES_NO),
        "all_slots": {ALL_SLOTS[0]: "all", ALL_SLOTS[1]: "all"},
        "sheets": _in_words(SHEET_LABELS),
        "run": _run_labels(),
    }


def _run_labels() -> dict[str, str]:
    """Every item label :func:`run_rows` writes, in both languages, with its id."""
    from matcher.docking.kinds import KINDS

    out = _in_words(RUN_ITEMS)
    for code, kind in KINDS.items():
        for feature in kind.features:
            for lang in ("zh", "en"):
                rows = run_rows({"weights": {f"{code}.{feature}": 0.0}}, lang)
                out[str(rows["key"].iloc[0])] = f"weights.{code}.{feature}"
    return out


def machine_names(frame: pd.DataFrame) -> pd.DataFrame:
    """A table as a person's file holds it (headers and codes in Chinese or English words, see
    :func:`value_words`) with the column ids and codes back; a table that has them already is
    returned as it is. Cells that are not words of a code are kept as they are."""
    reverse = _reverse()
    headers = reverse["headers"]
    grid = re.compile(rf"^(?:{'|'.join(map(re.escape, HEADER_LABELS['table']))}) (\d+)$")  # slot x table
    renamed = {c: headers[str(c).strip()] for c in frame.columns if str(c).strip() in headers}
    renamed |= {c: f"table {m.group(1)}" for c in frame.columns if (m := grid.match(str(c).strip()))}
    if not renamed:
        return frame
    frame = frame.rename(columns=renamed)

    def back(column: str, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        text = value.strip()
        if column == "kind":
            return reverse["kind"].get(text, value)
        if column.endswith("region"):
            return reverse["region"].get(text, value)
        if column == "status":
            return reverse["status"].get(text, value)
        if column == "side":
            parts = [reverse["side"].get(p.strip()) for p in text.replace(" and ", "、").split("、")]
            return "/".join(parts) if parts and all(parts) else value
        if column in ("locked", "item_locked") and text in reverse["yes_no"]:
            return str(reverse["yes_no"][text]).lower()  # as a machine-named workbook reads
        if column == "available_slots":
            return reverse["all_slots"].get(text, value)
        return value

    coded = [c for c in frame.columns if c in ("kind", "status", "side", "locked", "item_locked", "available_slots")
             or str(c).endswith("region")]
    return frame.assign(**{c: [back(c, v) for v in frame[c]] for c in coded})


def sheet_names(*names: str) -> tuple[str, ...]:
    """Sheet names to look for: each of ``names`` and its label in both languages."""
    out: list[str] = []
    for name in names:
        out += [name, *SHEET_LABELS.get(name, ())]
    return tuple(out)
