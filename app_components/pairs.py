"""The ranked pair table, the pair explanation panel, and adding pairs to a shortlist."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from app_components import charts, tables
from app_components.i18n import feature_label, fmt_score, lang, name_of, plain, reason_column, region_label, t
from app_components.ranking import direction_scores
from matcher.docking.explain import holding_back
from matcher.docking.kinds import get_kind

#: A table in half the page (two columns side by side at a 1366-px window).
HALF_WIDTH_PX = (tables.FULL_WIDTH_PX - 16) // 2


def table_view(ranked: pd.DataFrame, short: bool = True) -> pd.DataFrame:
    """The columns a planner reads, in the session's language; ``short``: the reason's strongest
    motives only (see :func:`short_reason`)."""
    return pd.DataFrame({
        "rank": ranked["rank"].to_numpy(),
        "left": [name_of(zh, en, i) for zh, en, i in
                 zip(ranked["left_name_zh"], ranked["left_name_en"], ranked["left_id"], strict=True)],
        "left_region": [region_label(r) for r in ranked["left_region"]],
        "right": [name_of(zh, en, i) for zh, en, i in
                  zip(ranked["right_name_zh"], ranked["right_name_en"], ranked["right_id"], strict=True)],
        "right_region": [region_label(r) for r in ranked["right_region"]],
        "regions": [f"{region_label(a)}→{region_label(b)}" for a, b in
                    zip(ranked["left_region"], ranked["right_region"], strict=True)],
        "score": ranked["score"].astype(float).round(3).to_numpy(),
        "reason": [short_reason(r) if short else r for r in ranked[reason_column()]],
    })


def short_reason(reason: str, keep: int = 3) -> str:
    """The first ``keep`` parts of a reason (its strongest motives), and how many more the full
    reason names: the table is for scanning, the explanation panel and the exports have it all."""
    sep = "；" if lang() == "zh" else "; "
    parts = [p for p in _top_level_parts(str(reason or ""), sep) if p]
    if len(parts) <= keep + 1:
        return sep.join(parts)
    return sep.join(parts[:keep]) + sep + t("more_motives", n=len(parts) - keep)


def _top_level_parts(reason: str, sep: str) -> list[str]:
    """``reason`` split at ``sep`` outside brackets: a motive's detail in brackets (a list of branch
    markets, of frameworks) stays with its motive (a separator followed by a closing bracket before any
    opening one is inside brackets)."""
    return re.split(re.escape(sep) + r"(?![^(（]*[)）])", reason)


def _pair_key(left: str, right: str) -> str:
    return f"{left}|{right}"


def picked(key: str) -> list[tuple[str, str]]:
    """The pairs ticked in the table ``key``, in the order they were ticked."""
    return [tuple(p.split("|", 1)) for p in st.session_state.get(f"{key}.picked", [])]


def clear(key: str) -> None:
    """Untick every pair (a button's callback: runs before the table is drawn)."""
    st.session_state[f"{key}.picked"] = []
    st.session_state[key] = {"selection": {"rows": [], "columns": [], "cells": []}}


def show_table(key: str, ranked: pd.DataFrame) -> list[tuple[str, str]]:
    """The ranked list with row selection, **keyed by pair**; returns the ticked pairs.

    A tick belongs to a pair (``left_id``, ``right_id``), not to a row: it survives re-ranking, a
    preset or weight change, filters and a new focus. A pair ticked while it was shown and unticked
    later is dropped; a ticked pair that a filter hides stays ticked. Session state: ``key`` (the
    dataframe's selection, rows of the table as drawn), ``key.shown`` (the pairs of those rows),
    ``key.picked`` (the ticked pairs).
    """
    shown = st.session_state.get(f"{key}.shown")
    chosen = list(st.session_state.get(f"{key}.picked", []))
    state = st.session_state.get(key)
    if shown is not None and isinstance(state, dict):  # the user's ticks, on the table they saw
        rows = state.get("selection", {}).get("rows", [])
        ticked = {shown[int(r)] for r in rows if 0 <= int(r) < len(shown)}
        seen = set(shown)
        chosen = [p for p in chosen if p not in seen or p in ticked]
        chosen += [p for p in shown if p in ticked and p not in chosen]
    now = [_pair_key(a, b) for a, b in zip(ranked["left_id"], ranked["right_id"], strict=True)]
    wanted = set(chosen)
    st.session_state[f"{key}.picked"] = chosen
    st.session_state[f"{key}.shown"] = now
    st.session_state[key] = {"selection": {"rows": [i for i, p in enumerate(now) if p in wanted],
                                           "columns": [], "cells": []}}
    top = float(ranked["score"].max()) if len(ranked) else 1.0
    tables.show(
        _shown(ranked), key=key, on_select="rerun", selection_mode="multi-row", hide_index=True, **_layout(),
        column_config={"score": st.column_config.ProgressColumn(format="%.3f", min_value=0.0,
                                                                max_value=max(top, 1e-9)),
                       "reason": st.column_config.TextColumn(help=t("col_main_reasons_help"))},
    )
    return picked(key)


def _shown(ranked: pd.DataFrame) -> pd.DataFrame:
    return table_view(ranked)[["rank", "left", "right", "score", "reason"]]


def _layout() -> dict:
    return {"labels": {"rank": t("col_rank"), "left": t("col_left"), "right": t("col_right"),
                       "score": t("col_score"), "reason": t("col_main_reasons")},
            "wrap": ["reason"], "fixed": {"rank": 60, "score": 100}, "caps": {"left": 170, "right": 170},
            "budget": tables.FULL_WIDTH_PX - tables.SELECT_PX}


def row_px(ranked: pd.DataFrame) -> int:
    """How tall the ranked table's rows are drawn (they grow with the lines their text needs)."""
    _, row_height = tables.fit(_shown(ranked), **_layout())
    return row_height or tables.ROW_PX


def names(rows: pd.DataFrame, at_most: int | None = None) -> str:
    """Pairs as "甲—乙；丙—丁" / "A – B; C – D" in the session's language; with ``at_most``, the first
    that many and how many more ("另有 3 对" / "and 3 more")."""
    dash, sep = ("—", "；") if lang() == "zh" else (" – ", "; ")
    shown = rows if at_most is None else rows.head(at_most)
    text = sep.join(f"{name_of(r.left_name_zh, r.left_name_en, r.left_id)}{dash}"
                    f"{name_of(r.right_name_zh, r.right_name_en, r.right_id)}" for r in shown.itertuples())
    rest = len(rows) - len(shown)
    return f"{text}{sep}{t('more_pairs', n=rest)}" if rest > 0 else text


def show_explanation(row: pd.Series, kind: str) -> None:
    """Why a pair scores what it does: waterfall, both directions, what holds it back."""
    features = list(get_kind(kind).features)
    left = name_of(row["left_name_zh"], row["left_name_en"], row["left_id"])
    right = name_of(row["right_name_zh"], row["right_name_en"], row["right_id"])
    st.subheader(t("pair_title", left=plain(left), right=plain(right)))
    st.text(row[reason_column()])
    st.plotly_chart(charts.waterfall(row, features), key=f"waterfall.{kind}")
    both_sides, back = st.columns(2)  # each about half the page: the tables are sized to that
    with both_sides:
        st.markdown(f"**{t('directions_title')}**")
        st.caption(t("direction_names", left=plain(left), right=plain(right)))
        both = direction_scores(row, kind)
        tables.show(pd.DataFrame({
            "feature": [t("col_score") if f == "score" else feature_label(f) for f in both["feature"]],
            "lr": [fmt_score(v) for v in both["lr"]],
            "rl": [fmt_score(v) for v in both["rl"]],
        }), labels={"feature": t("col_feature"), "lr": t("direction_lr"), "rl": t("direction_rl")},
            wrap=["feature"], budget=HALF_WIDTH_PX, min_wrap=120, hide_index=True)
    with back:
        st.markdown(f"**{t('holding_back_title')}**")
        missed = holding_back(row, features)
        if not missed:
            st.caption(t("holding_back_none"))
        else:
            tables.show(pd.DataFrame({
                "feature": [feature_label(f) for f, _, _ in missed],
                "value": [fmt_score(row.get(f"f_{f}")) for f, _, _ in missed],
                "weight": [fmt_score(row.get(f"w_{f}")) for f, _, _ in missed],
                "missed": [fmt_score(m) for _, _, m in missed],
            }), labels={"feature": t("col_feature"), "value": t("col_value"), "weight": t("col_weight_share"),
                        "missed": t("missed")},
                wrap=["feature"], budget=HALF_WIDTH_PX, min_wrap=120, hide_index=True)
            st.caption(t("weight_share_note"))  # the sliders are shares' numerators: 0.15 of 1.30 is 0.115
