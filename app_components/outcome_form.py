"""The outcomes page's form: pick a pair, record what came of it at the meeting or months later."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from app_components import context, tables
from app_components.i18n import (
    fmt_date,
    kind_label,
    outcome_label,
    outcome_stage_label,
    plain,
    planner_name,
    relabelled,
    t,
)
from app_components.messages import shown
from matcher import limits
from matcher.exceptions import ConflictError, MatcherError
from matcher.store import OUTCOMES, Store

#: The widest a side's name is drawn in the one-line pair picker: both names and the kind stay in sight.
PICKED_NAME_PX = 300


def _recorded(store: Store, left: str, right: str, kind: str, stage: str) -> pd.Series | None:
    """The outcome recorded for the pair at ``stage``, if any."""
    old = store.outcomes()
    if old.empty:
        return None
    old = old[(old["left_id"] == left) & (old["right_id"] == right) & (old["kind"] == kind) & (old["stage"] == stage)]
    return old.iloc[0] if len(old) else None


def show(store: Store, planner: str, items: pd.DataFrame, who: Callable[[str], str]) -> None:
    """The form, its messages and the flash of the last record (``who`` names an entity id)."""
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
        stage = cols[0].radio(t("col_stage"), list(OUTCOMES), format_func=outcome_stage_label,
                              key=relabelled("outcomes.stage"),
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
            held = _recorded(store, left, right, kind, stage) if replace else None
            version = None if held is None else int(held["version"])
            try:
                store.record_outcome(left, right, kind, stage=stage, value=value, planner=planner, note=note,
                                     rating=rating if stage == "meeting" and value == "met" else None,
                                     expected_version=version)
                st.session_state["outcomes.clear_note"] = True
                st.session_state["outcomes.flash"] = t("recorded")
                st.rerun()
            except ConflictError as err:  # recorded before (by anyone): said with names and labels, not codes
                before = _recorded(store, left, right, kind, stage)
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
