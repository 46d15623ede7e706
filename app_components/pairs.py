"""The ranked pair table, the pair explanation panel, and adding pairs to a shortlist."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_components import charts
from app_components.i18n import feature_label, fmt_score, name_of, plain, reason_column, region_label, t
from app_components.ranking import direction_scores
from matcher.docking.explain import holding_back
from matcher.docking.kinds import get_kind


def table_view(ranked: pd.DataFrame) -> pd.DataFrame:
    """The columns a planner reads, in the session's language."""
    return pd.DataFrame({
        "rank": ranked["rank"].to_numpy(),
        "left": [name_of(zh, en, i) for zh, en, i in
                 zip(ranked["left_name_zh"], ranked["left_name_en"], ranked["left_id"], strict=True)],
        "left_region": [region_label(r) for r in ranked["left_region"]],
        "right": [name_of(zh, en, i) for zh, en, i in
                  zip(ranked["right_name_zh"], ranked["right_name_en"], ranked["right_id"], strict=True)],
        "right_region": [region_label(r) for r in ranked["right_region"]],
        "score": ranked["score"].astype(float).round(3).to_numpy(),
        "reason": ranked[reason_column()].to_numpy(),
    })


def show_table(key: str, ranked: pd.DataFrame) -> list[int]:
    """The ranked list with row selection; returns the selected row positions.

    Session-state key: ``key`` (the dataframe's selection).
    """
    top = float(ranked["score"].max()) if len(ranked) else 1.0
    event = st.dataframe(
        table_view(ranked), key=key, on_select="rerun", selection_mode="multi-row", hide_index=True,
        column_config={
            "rank": st.column_config.NumberColumn(t("col_rank"), width="small"),
            "left": st.column_config.TextColumn(t("col_left")),
            "left_region": st.column_config.TextColumn(t("col_left_region"), width="small"),
            "right": st.column_config.TextColumn(t("col_right")),
            "right_region": st.column_config.TextColumn(t("col_right_region"), width="small"),
            "score": st.column_config.ProgressColumn(t("col_score"), format="%.3f", min_value=0.0,
                                                     max_value=max(top, 1e-9), width="small"),
            "reason": st.column_config.TextColumn(t("col_reason"), width="large"),
        },
    )
    rows = [int(r) for r in event.selection.rows if int(r) < len(ranked)]
    return rows


def show_explanation(row: pd.Series, kind: str) -> None:
    """Why a pair scores what it does: waterfall, both directions, what holds it back."""
    features = list(get_kind(kind).features)
    left = name_of(row["left_name_zh"], row["left_name_en"], row["left_id"])
    right = name_of(row["right_name_zh"], row["right_name_en"], row["right_id"])
    st.subheader(t("pair_title", left=plain(left), right=plain(right)))
    st.text(row[reason_column()])
    chart, side = st.columns([3, 2])
    with chart:
        st.plotly_chart(charts.waterfall(row, features), key=f"waterfall.{kind}")
    with side:
        st.markdown(f"**{t('directions_title')}**")
        both = direction_scores(row, kind)
        st.dataframe(pd.DataFrame({
            t("col_feature"): [t("col_score") if f == "score" else feature_label(f) for f in both["feature"]],
            t("direction_lr", left=left, right=right): [fmt_score(v) for v in both["lr"]],
            t("direction_rl", left=left, right=right): [fmt_score(v) for v in both["rl"]],
        }), hide_index=True)
        st.markdown(f"**{t('holding_back_title')}**")
        missed = holding_back(row, features)
        if not missed:
            st.caption(t("holding_back_none"))
        else:
            st.dataframe(pd.DataFrame({
                t("col_feature"): [feature_label(f) for f, _, _ in missed],
                t("col_value"): [fmt_score(row.get(f"f_{f}")) for f, _, _ in missed],
                t("col_weight"): [fmt_score(row.get(f"w_{f}")) for f, _, _ in missed],
                t("missed"): [fmt_score(m) for _, _, m in missed],
            }), hide_index=True)
