"""Outcomes: record what came of a pair at the meeting and months later; conversion by kind and preset."""

import pandas as pd
import streamlit as st  # noqa: TID251 - a page of the app (see app.py)

from app_components import cache, charts, context, conversion, models, outcome_form, tables
from app_components.i18n import (
    feature_label,
    fmt_date,
    kind_label,
    name_of,
    outcome_label,
    outcome_stage_label,
    planner_name,
    preset_label,
    relabelled,
    t,
)
from app_components.messages import shown
from matcher.docking.kinds import available
from matcher.exceptions import MatcherError

data = context.data()
store = context.store()
planner = context.planner()
st.title(t("page_outcomes"))
items = store.items()
everyone = cache.entities(data).set_index("id")


def who(entity_id: str) -> str:
    if entity_id in everyone.index:
        return name_of(everyone.at[entity_id, "name_zh"], everyone.at[entity_id, "name_en"], entity_id)
    return entity_id


outcome_form.show(store, planner, items, who)

st.subheader(t("outcomes_table"))
recorded = store.outcomes()
if recorded.empty:
    st.caption(t("no_outcomes"))
else:
    tables.show(pd.DataFrame({
        # a very long name is cut with "…" (a row of nine columns holds no 120-character name whole)
        t("col_left"): [tables.shortened(who(i), outcome_form.PICKED_NAME_PX) for i in recorded["left_id"]],
        t("col_right"): [tables.shortened(who(i), outcome_form.PICKED_NAME_PX) for i in recorded["right_id"]],
        t("col_kind"): [kind_label(k, short=True) for k in recorded["kind"]],
        t("col_stage"): [outcome_stage_label(s) for s in recorded["stage"]],
        t("col_outcome"): [outcome_label(s, v) for s, v in zip(recorded["stage"], recorded["value"], strict=False)],
        t("col_rating"): recorded["rating"].astype("Int64"),
        t("col_note"): recorded["note"].tolist(),
        t("col_planner"): [planner_name(p) for p in recorded["planner"]],
        t("col_recorded"): [fmt_date(x) for x in recorded["recorded_at"]],
    }), hide_index=True, key="outcomes.table", placeholder="", wrap=[t("col_left"), t("col_right"), t("col_note")])

traced = conversion.pair_table(items, store.runs(), recorded)
for by, title, label in (("kind", "conversion_kind", kind_label), ("preset", "conversion_preset", preset_label)):
    st.subheader(t(title))
    table = conversion.summary(traced, by)
    if table.empty:
        st.caption(t("no_pairs_to_record"))
        continue
    table[by] = [label(v) for v in table[by]]
    st.plotly_chart(charts.conversion(table, by), key=f"outcomes.chart.{by}")
    tables.show(table.rename(columns={
        by: t("col_kind") if by == "kind" else t("col_preset"), "shortlisted": t("col_shortlisted"),
        "met": t("col_met"), "valuable": t("col_valuable"), "agreement": t("col_agreement"),
        "met_rate": t("col_rate_met"), "valuable_rate": t("col_rate_valuable")}),
        hide_index=True, key=f"outcomes.summary.{by}",
        column_config={t("col_rate_met"): st.column_config.NumberColumn(format="percent"),
                       t("col_rate_valuable"): st.column_config.NumberColumn(format="percent")})

st.subheader(t("retrain_title"))
st.caption(t("retrain_help"))
retrain_kind = st.selectbox(t("kind"), available(data),
                            format_func=kind_label, key=relabelled("outcomes.retrain_kind"))
if st.button(t("retrain"), key="outcomes.retrain", **context.planner_only()):
    with st.status(t("retraining"), expanded=True) as status:
        try:
            result = models.retrain(context.engine(data), store, retrain_kind, planner)
        except MatcherError as err:
            status.update(label=t("retrain_failed"), state="error")
            st.error(shown(err))
        else:
            status.update(label=t("retrained") if not result.scorer.fallback_ else t(
                "retrain_cold", n=int(result.scorer.n_outcomes_), need=int(result.scorer.min_outcomes)), state="complete")
            good = int((result.data.y == 1).sum())
            st.caption(t("retrain_pairs", n=len(result.data.y), good=int(good), kind=kind_label(retrain_kind)))
            if not result.comparison.empty:
                st.caption(t("retrain_compared"))
                compared = result.comparison.assign(
                    scorer=[t("scorer_learned") if s == "learned" else t("scorer_preset") for s in result.comparison["scorer"]])
                tables.show(compared, hide_index=True, key="outcomes.retrain_report", labels={
                    "scorer": t("col_scorer"), "pairs": t("col_pairs_held_out"), "good": t("col_good"),
                    "auc": "AUC", "average_precision": t("col_average_precision"), "ndcg": "NDCG"})
            weights = result.scorer.weights()
            tables.show(pd.DataFrame({
                t("col_feature"): [t("baseline") if f == "baseline" else feature_label(f) for f in weights],
                t("col_weight"): [round(w, 3) for w in weights.values()]}), hide_index=True, key="outcomes.weights")
