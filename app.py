"""The planners' app: a router. Run with ``streamlit run app.py`` (``make run``).

The sidebar carries what every page shares: the language (中文 / English), the planner's name and
the data set in use. Pages live in ``app_pages/`` and call the library through ``app_components``.
(Not ``pages/``: Streamlit treats a ``pages/`` folder next to the entry script as the old
multipage mode, so the first request after the server starts would run a page without this
router and its sidebar.)
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_components import access, context, datasets, tables
from app_components.i18n import (
    LANG_KEY,
    LANG_LABEL,
    LANGS,
    lang,
    pin_lang,
    plain,
    relabel_on_switch,
    streamlit_texts,
    t,
    table_label,
)
from app_components.messages import shown, store_where
from matcher.exceptions import AccessError

# the icon is a file of the app: a Material icon's was fetched from fonts.gstatic.com, outside an intranet
st.set_page_config(page_title="纺织产业链对接 · Textile docking", page_icon=str(Path(__file__).parent / "app_components" / "favicon.png"),
                   layout="wide")

context.restore_from_address(LANGS, LANG_KEY)  # a reload keeps the data set, language and planner it showed
pin_lang()
st.html(streamlit_texts())
st.html(f"<style>{tables.calibration_style()}</style>")
with st.sidebar:
    st.segmented_control(t("language"), LANGS, key=LANG_KEY, format_func=lambda code: LANG_LABEL[code],
                         required=True, on_change=relabel_on_switch)  # markdown-safe: the two languages' own names
PAGES = [
    ("app_pages/overview.py", "page_overview", ":material/map:", "overview"),
    ("app_pages/explore.py", "page_explore", ":material/compare_arrows:", "explore"),
    ("app_pages/profile.py", "page_profile", ":material/account_tree:", "profile"),
    ("app_pages/shortlist.py", "page_shortlist", ":material/checklist:", "shortlist"),
    ("app_pages/meetings.py", "page_meetings", ":material/event:", "meetings"),
    ("app_pages/outcomes.py", "page_outcomes", ":material/insights:", "outcomes"),
    ("app_pages/data.py", "page_data", ":material/upload_file:", "data"),
]
pages = [st.Page(path, title=t(title), icon=icon, url_path=url, default=(url == "overview"))
         for path, title, icon, url in PAGES]
account = access.gate(context.store(), pages)  # signs in first when the store has accounts (or the server is shared)
with st.sidebar:
    if account is None:  # the one local planner names themself
        st.text_input(t("planner"), key=context.PLANNER_KEY, help=t("planner_help"),
                      placeholder=t("planner_placeholder"), max_chars=context.PLANNER_MAX_CHARS)
    else:
        access.sidebar(context.store(), account)

page = st.navigation(pages)

with st.sidebar:
    data = context.data()
    context.keep_in_address(lang(), LANGS[0])
    name = t("bundled") if data.name == "bundled" else datasets.label(data.name, table_label)
    st.caption(t("dataset_active", name=plain(name), version=plain(data.version)))
    st.caption(plain(t("store_at", where=store_where(context.store().url))))

if not tables.calibrated():  # a browser's first run: the grid learns to wrap English before any table
    tables.calibrate_wrapping()
    st.caption(t("loading"))
    st.stop()
try:
    page.run()
except AccessError as err:  # the store refused a change this account may not make
    st.error(shown(err))
finally:  # idle time counts from the end of a run: a slow page (a first load) is no idleness
    access.seen(account)
