"""Data: upload a table (checked before use), see its problems, switch between data sets."""

import pandas as pd
import streamlit as st  # noqa: TID251 - a page of the app (see app.py)

from app_components import context, datasets, tables
from app_components.i18n import fmt_number, plain, relabelled, t, table_label
from app_components.messages import message, problem_reason, problem_value
from matcher.exceptions import MatcherError, ValidationError
from matcher.ingest.dataset import ENTITY_TABLES

st.title(t("page_data"))
st.caption(t("data_intro"))
limit = st.get_option("server.maxUploadSize")

may_add = context.may("admin")
if not may_add:
    st.info(t("datasets_admin_only"))
table = st.selectbox(t("which_table"), ENTITY_TABLES, format_func=table_label, key=relabelled("data.table"), disabled=not may_add)
upload = st.file_uploader(t("upload"), type=list(datasets.UPLOAD_TYPES), key="data.upload",
                          help=t("limits", mb=int(limit)), disabled=not may_add)
st.caption(t("limits", mb=int(limit)))
if upload is not None and st.button(t("validate_upload"), key="data.validate", type="primary", disabled=not may_add):
    with st.status(t("validating"), expanded=True) as progress:
        try:
            fresh = datasets.stage_upload(upload.name, upload.getvalue(), table, base=context.active_path(),
                                          store=context.store(), by=context.planner())
        except ValidationError as err:
            progress.update(label=t("validation_failed"), state="error", expanded=False)
            st.session_state["data.problems"] = err.problems
        except MatcherError as err:
            progress.update(label=t("validation_failed"), state="error", expanded=False)
            st.session_state["data.problems"] = pd.DataFrame(
                [{"file": upload.name, "row": 0, "column": "", "value": "", "reason": message(str(err))}])
        else:
            progress.update(label=t("validation_passed"), state="complete", expanded=False)
            st.session_state.pop("data.problems", None)
            context.use_dataset(str(datasets.datasets_dir() / fresh.name))
            flagged = context.store().flag_missing(fresh.entities()["id"], planner=context.planner(),
                                                   data_version=fresh.version)
            st.session_state["data.flash"] = t("upload_ok", name=plain(datasets.label(fresh.name, table_label)), version=plain(fresh.version)) + (
                " " + t("flagged_items", n=flagged) if flagged else "")
            st.rerun()

problems = st.session_state.get("data.problems")
if problems is not None and len(problems):
    st.error(t("upload_bad", n=len(problems)))
    tables.show(pd.DataFrame({
        t("col_file"): problems["file"].astype(str), t("col_row"): problems["row"],
        t("col_column"): problems["column"].astype(str), t("col_cell"): problems["value"].astype(str).map(problem_value),
        t("col_problem"): problems["reason"].astype(str).map(problem_reason),
    }), hide_index=True, key="data.problems_table", wrap=[t("col_cell"), t("col_problem")])
if flash := st.session_state.pop("data.flash", None):
    st.success(flash)  # markdown-safe: made above by t() with every name through plain()

st.subheader(t("datasets"))
paths = datasets.available()
if context.active_path() not in paths:
    context.use_dataset("")


def _switch() -> None:
    context.use_dataset(st.session_state["data.use"])
    st.session_state.pop("data.problems", None)


st.session_state["data.use"] = context.active_path()
st.radio(t("use_dataset"), paths, key="data.use", on_change=_switch,
         format_func=lambda p: t("bundled") if p == "" else plain(datasets.label(p.rsplit("/", 1)[-1], table_label)))

data = context.data()
st.subheader(t("current_tables"))
tables.show(pd.DataFrame({
    t("col_type"): [table_label(n) for n in ENTITY_TABLES],
    t("col_rows"): [fmt_number(len(getattr(data, n))) for n in ENTITY_TABLES],
    t("col_version"): data.version,
}), hide_index=True, key="data.tables")
