"""Shortlist: the pairs planners keep, with status, notes and lock; filters, bulk actions, downloads."""

import pandas as pd
import streamlit as st  # noqa: TID251 - a page of the app (see app.py)

from app_components import cache, context, downloads, meeting_plan, shortlists, tables
from app_components import shortlist_editor as editor
from app_components.i18n import lang, reason_column, relabelled, status_label, t
from matcher.docking.engine import new_run
from matcher.store import ITEM_STATUSES

data = context.data()
store = context.store()
planner = context.planner()
st.title(t("page_shortlist"))
sid = shortlists.show_picker("shortlist.pick", store, planner)
items = editor.snapshot("shortlist", store, sid)
if flash := st.session_state.pop("shortlist.flash", None):
    st.success(flash)  # markdown-safe: t("saved", n=...) in shortlist_editor.save
if items.empty:
    st.info(t("empty_shortlist" if context.may("planner") else "empty_shortlist_viewer"))
    st.stop()
if int(items["missing_ids"].notna().sum()):
    st.warning(t("missing_flag", n=int(items["missing_ids"].notna().sum())))

entities = cache.entities(data)
view = editor.filtered(editor.frame(items, entities), "shortlist", sid)
edited = editor.show("shortlist", view, sid, read_only=not context.may("planner"))  # a viewer reads only
ticked = edited[edited["select"]]
if editor.save_row("shortlist", sid, **context.planner_only()):
    if editor.save("shortlist", store, sid, editor.changes(view, edited), planner):
        st.rerun()

st.markdown(f"**{t('bulk_title')}**")
bulk = st.columns([2, 2, 2, 2])
status = bulk[0].selectbox(t("bulk_status"), list(ITEM_STATUSES), format_func=status_label,
                           key=relabelled("shortlist.bulk_status"), label_visibility="collapsed")
held = editor.pending("shortlist", sid)  # a bulk save starts the editor afresh: save or discard first
locked = context.planner_only(held, t("bulk_locked") if held else None)
actions = {
    "apply": bulk[1].button(t("bulk_apply"), key="shortlist.bulk_apply", **locked),
    "lock": bulk[2].button(t("bulk_lock"), key="shortlist.bulk_lock", **locked),
    "unlock": bulk[3].button(t("bulk_unlock"), key="shortlist.bulk_unlock", **locked),
}
if any(actions.values()):
    if ticked.empty:
        st.warning(t("none_ticked"))
    else:
        change = {"status": status} if actions["apply"] else {"locked": actions["lock"]}
        updates = [(int(r.id), change, int(r.version)) for r in ticked.itertuples()]
        if editor.save("shortlist", store, sid, updates, planner):
            st.rerun()

# each pair explained under the weights it was ticked with (its run's), as the explore page showed it
why = context.engine(data).explain_pairs(items[["kind", "left_id", "right_id", "run_id"]],
                                         run_weights=context.run_weights()).drop(columns=["kind", "run_id"])
with st.expander(t("why_these_pairs")):  # the pairs the filters show, each with every reason
    reasons = view[["left_id", "right_id", "left", "right"]].merge(
        why.drop_duplicates(["left_id", "right_id"]), on=["left_id", "right_id"], how="left")
    tables.show(pd.DataFrame({
        "left": reasons["left"], "right": reasons["right"],
        "reason": reasons[reason_column()].fillna(t("not_proposed_now")).astype(str)}),
        hide_index=True, key="shortlist.why", wrap=["reason"], caps={"left": 170, "right": 170},
        budget=tables.IN_EXPANDER_PX,
        labels={"left": t("col_left"), "right": t("col_right"), "reason": t("col_reason")})

st.subheader(t("downloads"))
# the pairs the filters show, each side named in both languages (as the meeting workbook), so a file passes on
export = meeting_plan.with_names(items.merge(why.drop_duplicates(["left_id", "right_id"]), on=["left_id", "right_id"],
                                           how="left").merge(view[["left_id", "right_id"]], on=["left_id", "right_id"],
                                                             how="inner"), entities)
export = export[["kind", "left_id", "left_name_zh", "left_name_en", "right_id", "right_name_zh", "right_name_en",
                 "score", "status", "notes", "locked", "reason_zh", "reason_en", "run_id"]]  # run: its weights in the run sheet
# the export names the weights and presets of the runs its pairs were ticked under, as the meeting files do
behind = meeting_plan.metadata(data, store.runs(), sorted(items["kind"].astype(str).unique()), planner, 0, 0,
                               run_ids=items["run_id"])
listed = shortlists.list_name(store, sid)  # the run sheet and file name say which
meta = {**new_run(data, "shortlist", behind["weights"], planner=behind["planner"]), "preset": behind["preset"],
        "shortlist": listed}
cols = st.columns(2)
with cols[0]:
    downloads.button(t("download_shortlist_xlsx"), downloads.shortlist_xlsx(export, meta, lang()),
                     downloads.file_name(listed, "xlsx"), key="shortlist.download_xlsx")
with cols[1]:
    downloads.button(t("download_shortlist_csv"), downloads.shortlist_csv(export, lang()),
                     downloads.file_name(listed, "csv"), key="shortlist.download_csv")
