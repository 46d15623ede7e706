"""What every page needs from the session: the planner, the data set in use, its engine, the store.

Errors a planner can act on (a data folder that no longer validates, a store that cannot be
opened) are shown as a message and stop the page; they never surface as a traceback.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_components import cache, datasets
from app_components.i18n import UNNAMED_PLANNER, t
from app_components.messages import shown
from matcher.docking.engine import DockingEngine
from matcher.exceptions import MatcherError
from matcher.ingest.dataset import Dataset
from matcher.store import Store
from matcher.store.models import PLANNER, role_allows
from matcher.text import one_line

DATASET_KEY = "dataset_path"
PLANNER_KEY = "planner"


def planner() -> str:
    """The name changes are recorded under: the signed-in account, else the local planner's name."""
    account = st.session_state.get("account")
    if account:
        return account["username"]
    return (st.session_state.get(PLANNER_KEY) or "").strip() or UNNAMED_PLANNER


def may(role: str) -> bool:
    """True when the session may act as ``role``: the local planner may do everything; an account
    as its role allows (the store checks every change anyway; this only spares a refusal)."""
    account = st.session_state.get("account")
    return not account or role_allows(account["role"], role)


def planner_only(disabled: bool = False, why: str | None = None) -> dict:
    """Keyword arguments of a button that changes the store: as given for a planner or an admin;
    disabled, saying why, for a viewer (the store refuses the change anyway)."""
    if may("planner"):
        return {"disabled": disabled, "help": why}
    return {"disabled": True, "help": t("viewer_reads_only")}


#: Query parameters naming the data set in use and the language, so a reload, a bookmark or a copied
#: address keeps them (the session, and with it both, is new after a reload).
DATA_PARAM = "data"
LANG_PARAM = "lang"
PLANNER_PARAM = "planner"  # the local planner's name: a reload keeps it, so changes are not made "unnamed"
PLANNER_MAX_CHARS = PLANNER.length  # the store's column holds no more


def restore_from_address(langs: tuple[str, ...], lang_key: str) -> None:
    """At a session's first run, the data set and language the page's address names; a data set that is
    not one of the workspace's (or no longer loads) and an unknown language are ignored."""
    if DATASET_KEY not in st.session_state:
        name = st.query_params.get(DATA_PARAM, "")
        uploads = {Path(p).name: p for p in datasets.available() if p}
        st.session_state[DATASET_KEY] = uploads.get(name, "")
    if lang_key not in st.session_state:
        wanted = st.query_params.get(LANG_PARAM, "")
        st.session_state[lang_key] = wanted if wanted in langs else langs[0]
    if PLANNER_KEY not in st.session_state:  # the local planner's name (a signed-in account never uses it)
        st.session_state[PLANNER_KEY] = one_line(st.query_params.get(PLANNER_PARAM, ""))[:PLANNER_MAX_CHARS].strip()


def keep_in_address(lang: str, default_lang: str) -> None:
    """Write the data set in use, the language and the local planner's name into the page's address
    (each run: a page switch clears the address's parameters)."""
    _address(DATA_PARAM, Path(active_path()).name if active_path() else "")
    _address(LANG_PARAM, lang, default_lang)
    _address(PLANNER_PARAM, "" if st.session_state.get("account") else (st.session_state.get(PLANNER_KEY) or "").strip())


def _address(param: str, value: str, default: str = "") -> None:
    """Put ``param=value`` in the page's address, or take ``param`` out when ``value`` is the default."""
    if value != default:
        if st.query_params.get(param) != value:
            st.query_params[param] = value
    elif param in st.query_params:
        del st.query_params[param]


def active_path() -> str:
    return st.session_state.get(DATASET_KEY, "")


def use_dataset(path: str) -> None:
    st.session_state[DATASET_KEY] = path
    _address(DATA_PARAM, Path(path).name if path else "")


def data() -> Dataset:
    """The data set in use; falls back to the bundled data when an upload no longer loads."""
    path = active_path()
    try:
        with st.spinner(t("loading_data"), show_time=True):
            return cache.dataset(path)
    except MatcherError as err:
        st.error(t("data_error", error=shown(err)))
        if path == "":
            st.stop()
        use_dataset("")
        return cache.dataset("")


def engine(dataset: Dataset | None = None) -> DockingEngine:
    return cache.engine(dataset or data())


def store() -> Store:
    try:
        return cache.store()
    except MatcherError as err:
        st.error(t("store_error", error=shown(err)))
        st.stop()
        raise  # unreachable: st.stop() ends the script run


def run_weights() -> dict[str, dict]:
    """Run id -> the weights its pairs were scored with (``Store.runs``): a shortlisted pair is explained
    under the weights the planner ticked it with, not the kind's preset."""
    runs = store().runs()
    return {str(r): dict(w) for r, w in zip(runs["run_id"], runs["weights"], strict=True) if isinstance(w, dict) and w}
