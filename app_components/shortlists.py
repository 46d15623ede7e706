"""The shortlist a planner is working on, and adding engine rows to it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_components import context
from app_components.i18n import plain, relabelled, shortlist_name, t
from app_components.messages import shown
from matcher.docking.engine import new_run
from matcher.exceptions import MatcherError
from matcher.store import Store

CURRENT_KEY = "shortlist_id"


def _in_use(lists: pd.DataFrame) -> int | None:
    """The id of the list in use among ``lists``: the one picked in this session, else the newest; None
    when there is none."""
    chosen = st.session_state.get(CURRENT_KEY)
    if chosen is not None and chosen in set(lists["id"].astype(int)):
        return int(chosen)
    return int(lists["id"].iloc[-1]) if len(lists) else None


def _shown(lists: pd.DataFrame, shortlist_id: int) -> str:
    return shortlist_name(lists.set_index("id").at[shortlist_id, "name"])


def list_name(store: Store, shortlist_id: int) -> str:
    """A shortlist's name as shown (:func:`shortlist_name`)."""
    return _shown(store.shortlists(), shortlist_id)


def target_name(store: Store) -> str:
    """The name of the list "Add to shortlist" adds to (as :func:`current` picks it), without making one:
    the default list's name when the store has none yet."""
    lists = store.shortlists()
    sid = _in_use(lists)
    return t("default_shortlist") if sid is None else _shown(lists, sid)


def current(store: Store, planner: str) -> int:
    """Id of the shortlist in use (the newest one; a default one is created when there is none)."""
    sid = _in_use(store.shortlists())
    if sid is not None:
        st.session_state[CURRENT_KEY] = sid
    elif not context.may("planner"):  # a viewer cannot make the first list: say so, stop the page
        st.info(t("no_shortlist_for_viewer"))
        st.stop()
    else:
        st.session_state[CURRENT_KEY] = int(store.create_shortlist(t("default_shortlist"), planner=planner)["id"])
    return int(st.session_state[CURRENT_KEY])


def show_picker(key: str, store: Store, planner: str) -> int:
    """Pick or create the shortlist in use; returns its id. Session-state keys start with ``key``."""
    current(store, planner)
    lists = store.shortlists()
    names = dict(zip(lists["id"].astype(int), lists["name"], strict=True))
    ids = list(names)
    st.session_state[f"{key}.pick"] = st.session_state.get(CURRENT_KEY, ids[-1])

    def _picked() -> None:
        st.session_state[CURRENT_KEY] = st.session_state[f"{key}.pick"]

    st.selectbox(t("shortlist"), ids, format_func=lambda i: shortlist_name(names.get(i, str(i))), key=relabelled(f"{key}.pick"),
                 on_change=_picked)
    with st.popover(t("create_shortlist")):
        name = st.text_input(t("new_shortlist"), key=f"{key}.new")
        if st.button(t("create_shortlist"), key=f"{key}.create", **context.planner_only()) and name.strip():
            try:
                made = store.create_shortlist(name, planner=planner)
            except MatcherError as err:  # e.g. the name is taken: say so, keep the page
                st.error(shown(err))
            else:
                st.session_state[CURRENT_KEY] = int(made["id"])
                st.toast(t("shortlist_created", name=plain(made["name"])))
                st.rerun()
    return int(st.session_state[CURRENT_KEY])


def add(store: Store, shortlist_id: int, rows: pd.DataFrame, *, dataset, kind: str, weights: dict,
        preset: str, planner: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Add suggestion rows to a shortlist, skipping pairs it already holds. Records the run just
    before (data version, kind, weights and the ``preset`` the planner chose), and every added item
    carries that run's id, so outcomes are traced to the preset through the item's run.

    Returns (the rows added, the rows skipped), so each can be named.
    """
    held = store.items(shortlist_id)
    have = set(zip(held["left_id"], held["right_id"], held["kind"], strict=True)) if len(held) else set()
    new = [(a, b, kind) not in have for a, b in zip(rows["left_id"], rows["right_id"], strict=True)]
    fresh = rows[new]
    if len(fresh):
        run = new_run(dataset, kind, weights, planner=planner, preset=preset)
        store.record_run(run["run_id"], data_version=run["data_version"], kind=kind, weights=weights,
                         planner=planner, preset=preset)
        store.add_items(shortlist_id, fresh[["left_id", "right_id", "kind", "score"]], planner=planner,
                        run_id=run["run_id"])
    return fresh, rows[[not n for n in new]]
