"""Outcomes: record what came of a pair at the meeting and months later; conversion by kind and preset."""

import pandas as pd
import streamlit as st  # noqa: TID251 - a page of the app (see app.py)

from app_components import cache, charts, context, conversion, models, tables
from app_components.i18n import (
    feature_label,
    fmt_date,
    kind_label,
    name_of,
    outcome_label,
    outcome_stage_label,
    plain,
    planner_name,
    preset_label,
    relabelled,
    t,
)
from app_components.messages import shown
from matcher import limits
from matcher.docking.kinds import available
from matcher.exceptions import ConflictError, MatcherError
from matcher.store import OUTCOMES

data = context.data()
store = context.store()
planner = context.planner()
st.title(t("page_outcomes"))
items = store.items()
everyone = cache.entities(data).set_index("id")


#: The widest a side's name is drawn in the one-line pair picker: both names and the kind stay in sight.
PICKED_NAME_PX = 300


def who(entity_id: str) -> str:
    if entity_id in everyone.index:
        return name_of(everyone.at[entity_id, "name_zh"], everyone.at[entity_id, "name_en"], entity_id)
    return entity_id


def _recorded(left: str, right: str, kind: str, stage: str) -> pd.Series | None:
    """The outcome recorded for the pair at ``stage``, if any."""
    old = store.outcomes()
    if old.empty:
        return None
    old = old[(old["left_id"] == left) & (old["right_id"] == right) & (old["kind"] == kind) & (old["stage"] == stage)]
    return old.iloc[0] if len(old) else None


st.subheader(t("record_title"))
if items.empty:
    st.info(t("no_pairs_to_record"))
else:
    pairs = items.drop_duplicates(["left_id", "right_id", "kind"])
    keys = [f"{a}|{b}|{k}" for a, b, k in zip(pairs["left_id"], pairs["right_id"], pairs["kind"], strict=False)]
    chosen = st.selectbox(t("pick_pair"), keys, key=relabelled("outcomes.pair"), persist_state="session",  # full width: long names
                          format_func=lambda s: f"{tables.shortened(who(s.split('|')[0]), PICKED_NAME_PX)} ↔ "
                                                f"{tables.shortened(who(s.split('|')[1]), PICKED_NAME_PX)} · "
                                                f"{kind_label(s.split('|')[2])}")
    cols = st.columns([1, 2])
    stage = cols[0].radio(t("col_stage"), list(OUTCOMES), format_func=outcome_stage_label, key="outcomes.stage",
                          horizontal=True)
    value = cols[1].selectbox(t("col_outcome"), list(OUTCOMES[stage]), key=relabelled(f"outcomes.value.{stage}"),
                              format_func=lambda v: outcome_label(stage, v))
    cols = st.columns([1, 3])
    rating = cols[0].slider(t("rating"), 1, 5, 3, key="outcomes.rating",
                            disabled=not (stage == "meeting" and value == "met"))
    if st.session_state.pop("outcomes.clear_note", False):
        st.session_state["outcomes.note"] = ""  # a recorded note never lands on the next record
    note = cols[1].text_input(t("note"), key="outcomes.note", max_chars=limits.MAX_NOTE_CHARS)
    replace = st.checkbox(t("replace_existing"), key="outcomes.replace")  # its own row: never cut off
    if st.button(t("record"), key="outcomes.record", type="primary", **context.planner_only()):
        left, right, kind = chosen.split("|")
        held = _recorded(left, right, kind, stage) if replace else None
        version = None if held is None else int(held["version"])
        try:
            store.record_outcome(left, right, kind, stage=stage, value=value, planner=planner, note=note,
                                 rating=rating if stage == "meeting" and value == "met" else None,
                                 expected_version=version)
            st.session_state["outcomes.clear_note"] = True
            st.session_state["outcomes.flash"] = t("recorded")
            st.rerun()
        except ConflictError as err:  # recorded before (by anyone): said with names and labels, not codes
            before = _recorded(left, right, kind, stage)
            if before is None or replace:
                st.error(shown(err))
            else:
                st.error(t("outcome_taken", pair=plain(f"{who(left)} ↔ {who(right)}"), kind=kind_label(kind),
                           stage=outcome_stage_label(stage), value=outcome_label(stage, before["value"]),
                           who=plain(planner_name(before["planner"])), when=fmt_date(before["recorded_at"])))
        except MatcherError as err:
            st.error(shown(err))

if flash := st.session_state.pop("outcomes.flash", None):
    st.success(flash)  # markdown-safe: t("recorded") above

st.subheader(t("outcomes_table"))
recorded = store.outcomes()
if recorded.empty:
    st.caption(t("no_outcomes"))
else:
    tables.show(pd.DataFrame({
        t("col_left"): [who(i) for i in recorded["left_id"]],
        t("col_right"): [who(i) for i in recorded["right_id"]],
        t("col_kind"): [kind_label(k) for k in recorded["kind"]],
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
