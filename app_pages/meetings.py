"""Meeting planner: slots and tables, run the scheduler, the grid with conflicts, downloads."""

import datetime as dt

import pandas as pd
import streamlit as st  # noqa: TID251 - a page of the app (see app.py)

from app_components import cache, context, downloads, meeting_plan, shortlists, tables
from app_components.i18n import fmt_date, lang, name_of, relabelled, status_label, t
from app_components.messages import shown
from matcher import limits
from matcher.exceptions import MatcherError
from matcher.meetings.schedule import schedule
from matcher.meetings.slots import SlotClock
from matcher.store import ITEM_STATUSES

PLAN = "meetings.plan"
data = context.data()
store = context.store()
planner = context.planner()
st.title(t("page_meetings"))
sid = shortlists.show_picker("meetings.pick", store, planner)

st.subheader(t("meeting_setup"))
cols = st.columns(4)
n_slots = cols[0].number_input(t("n_slots"), 1, limits.MAX_SLOTS, 12, key="meetings.slots", persist_state="session")
n_tables = cols[1].number_input(t("n_tables"), 1, limits.MAX_TABLES, 8, key="meetings.tables", persist_state="session")
minutes = cols[2].number_input(t("slot_minutes"), limits.MIN_SLOT_MINUTES, limits.MAX_SLOT_MINUTES, 20, 5,
                               key="meetings.minutes", persist_state="session")
start = cols[3].time_input(t("meeting_start"), dt.time(9, 0), key="meetings.start", persist_state="session")
cols = st.columns([1, 3])
day = cols[0].date_input(t("meeting_date"), dt.date.today() + dt.timedelta(days=14), key="meetings.date",
                         min_value=dt.date(limits.MIN_YEAR, 1, 1), max_value=dt.date(limits.MAX_YEAR, 12, 31),
                         persist_state="session")
statuses = cols[1].multiselect(t("include_status"), [s for s in ITEM_STATUSES if s != "rejected"],
                               default=["proposed", "accepted", "scheduled"], format_func=status_label,
                               placeholder=t("choose"), key=relabelled("meetings.statuses"), persist_state="session")
keep_booked = st.checkbox(t("keep_booked"), True, key="meetings.keep_booked")  # its own row: never cut off
cols = st.columns(2)
event_name = cols[0].text_input(t("event_name"), key="meetings.event", max_chars=120, persist_state="session")
venue = cols[1].text_input(t("venue"), key="meetings.venue", max_chars=120, persist_state="session")

made_for = (sid, data.name, data.version)  # a plan shows, downloads and books only the list it was made for
if st.session_state.get(PLAN, {}).get("for") not in (None, made_for):
    st.session_state.pop(PLAN, None)
items = store.items(sid)
now = meeting_plan.list_state(items, statuses)  # the list as it is: a plan made from another state is said to be old
if st.button(t("run_scheduler"), key="meetings.run", type="primary"):
    wanted = meeting_plan.requests(items, cache.entities(data), statuses)
    if not wanted.empty:  # why each pair meets: into the workbook, the CSV and the agendas' topics
        wanted = context.engine(data).explain_pairs(wanted, run_weights=context.run_weights())
    if wanted.empty:  # said once: not followed by "run the scheduler first", which was just run
        st.warning(t("no_requests"))
        st.session_state.pop(PLAN, None)
        st.stop()
    else:
        running = st.empty()  # the progress box goes once done: the summary below says the outcome
        with running.status(t("scheduling"), expanded=False) as progress:
            # booked meetings stay put; without "keep booked", only locked pairs keep their booking
            booked = meeting_plan.booked_locks(store.meetings(), wanted if keep_booked else wanted[wanted["item_locked"]])
            try:
                plan = schedule(wanted, int(n_slots), int(n_tables), locks=booked)
            except MatcherError as err:  # e.g. ids that only look alike: said, and the last plan kept
                progress.update(label=t("schedule_failed"), state="error", expanded=False)
                st.error(shown(err))
                st.stop()
            clock = SlotClock(day, start, int(minutes))
            meta = meeting_plan.metadata(data, store.runs(), sorted(wanted["kind"].unique()), planner,
                                         int(n_slots), int(n_tables), run_ids=wanted.get("run_id"))
            meta.update({k: v.strip() for k, v in (("event_name", event_name), ("venue", venue)) if v.strip()})
            meta["shortlist"] = shortlists.list_name(store, sid)  # named in the run sheet
        running.empty()
        st.session_state[PLAN] = {"plan": plan, "clock": clock, "wanted": wanted, "meta": meta, "files": {},
                                  "for": made_for, "of": now}

held = st.session_state.get(PLAN)
if held is None:  # an empty list is said to be one before anything is run
    st.info(t("run_first") if now else t("no_requests"))
    st.stop()
plan, clock, wanted = held["plan"], held["clock"], held["wanted"]
if held["of"] != now:
    st.warning(t("plan_stale", n=len(now)))
st.success(t("scheduled_summary", n=len(plan.meetings), slots=int(plan.slots_used), bound=int(plan.lower_bound),
             idle=int(plan.idle_slots_total)))
if len(plan.unscheduled):
    st.subheader(t("unscheduled_title"))
    tables.show(pd.DataFrame({
        t("col_left"): [name_of(a, b, c) for a, b, c in plan.unscheduled[["left_name_zh", "left_name_en", "left_id"]].itertuples(index=False)],
        t("col_right"): [name_of(a, b, c) for a, b, c in plan.unscheduled[["right_name_zh", "right_name_en", "right_id"]].itertuples(index=False)],
        t("col_reason_unscheduled"): plan.unscheduled["reason"].tolist(),
    }), hide_index=True, key="meetings.unscheduled", wrap=[t("col_reason_unscheduled")])

st.subheader(t("grid_title"))
cells, marks = meeting_plan.grid(plan, store.meetings())
conflicts = int((marks == "conflict").to_numpy().sum())
(st.error if conflicts else st.caption)(t("conflicts", n=conflicts) if conflicts else t("no_conflicts"))
cells.index = [f"{s} · {clock.label(s)}" for s in cells.index]
cells.columns = [f"{t('col_table')} {c}" for c in cells.columns]
colour = {"conflict": "background-color: #f8d0d0", "booked": "background-color: #d6e6f7", "": ""}
styled = cells.style.apply(lambda _: pd.DataFrame(marks.map(colour.get).to_numpy(), index=cells.index,
                                                  columns=cells.columns), axis=None)
tables.show(styled, key="meetings.grid", wrap=list(cells.columns), min_wrap=meeting_plan.GRID_CELL_PX,  # 8 tables
            budget=tables.FULL_WIDTH_PX - tables.text_px(cells.index[0] if len(cells) else "") - tables.PADDING_PX)

if st.button(t("save_bookings"), key="meetings.save", **context.planner_only()):
    try:
        n = meeting_plan.save_bookings(store, plan, wanted, planner)
        st.success(t("bookings_saved", n=int(n)))
    except MatcherError as err:
        st.error(t("conflict", error=shown(err)))

st.subheader(t("downloads"))
if lang() not in held["files"]:  # built once per schedule and language, so downloads never recompute
    with st.spinner(t("preparing_files"), show_time=True):
        held["files"][lang()] = downloads.schedule_files(plan, clock, wanted, held["meta"], lang())
files = held["files"][lang()]
stamp = clock.date.isoformat()
cols = st.columns(4)
for col, (fmt, key) in zip(cols, (("xlsx", "download_xlsx"), ("pdf", "download_pdf"), ("ics", "download_ics"),
                                  ("csv", "download_csv")), strict=False):
    if fmt in files:
        with col:
            downloads.button(t(key), files[fmt], downloads.file_name(t("meeting_file", date=stamp), fmt),
                             key=f"meetings.download_{fmt}")
st.caption(t("meeting_day", date=fmt_date(clock.date)))
