"""The editable shortlist: status, notes and lock per pair, saved to the store with version checks."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app_components import tables
from app_components.i18n import kind_label, lang, name_of, relabelled, status_label, t
from app_components.messages import shown
from matcher.exceptions import ConflictError, MatcherError
from matcher.store import ITEM_STATUSES, Store

EDITABLE = ("status", "notes", "locked")


def frame(items: pd.DataFrame, entities: pd.DataFrame) -> pd.DataFrame:
    """Store items with names in the session's language, ready for the editor."""
    names = {i: name_of(zh, en, i) for i, zh, en in zip(entities["id"], entities["name_zh"], entities["name_en"], strict=True)}
    return pd.DataFrame({
        "select": False,
        "id": items["id"].astype(int).to_numpy(),
        "kind": [kind_label(k, short=True) for k in items["kind"]],
        "left": [names.get(i, i) for i in items["left_id"]],
        "right": [names.get(i, i) for i in items["right_id"]],
        "score": pd.to_numeric(items["score"], errors="coerce").round(3).to_numpy(),
        "status": items["status"].astype(str).to_numpy(),
        "notes": items["notes"].fillna("").astype(str).to_numpy(),
        "locked": items["locked"].astype(bool).to_numpy(),
        "missing": items["missing_ids"].fillna("").astype(str).to_numpy() if "missing_ids" in items else "",
        "version": items["version"].astype(int).to_numpy(),
        "left_id": items["left_id"].to_numpy(),
        "right_id": items["right_id"].to_numpy(),
        "kind_code": items["kind"].to_numpy(),
    })


def pending(key: str, shortlist_id: int) -> bool:
    """True while the editor holds changes not saved yet (a status, a note or a lock; ticks for the bulk
    actions are not changes to save), or keeps them from before the planner left the page (``draft``)."""
    rows = (st.session_state.get(editor_key(key, shortlist_id)) or {}).get("edited_rows") or {}
    return any(field in EDITABLE for row in rows.values() for field in row) or bool(draft(key, shortlist_id))


def _saves(key: str, shortlist_id: int) -> str:
    """The session-state key counting one shortlist's saves and discards (each list its own: a save on
    another list must not drop this one's draft)."""
    return f"{key}.saves.{shortlist_id}"


def _draft_key(key: str, shortlist_id: int) -> str:
    return f"{key}.draft.{shortlist_id}.{st.session_state.get(_saves(key, shortlist_id), 0)}"


def draft(key: str, shortlist_id: int) -> dict[int, dict]:
    """The unsaved changes, ``{item id: {field: value}}``, as of the last run. Streamlit forgets an editor's
    edits when the planner opens another page; these are kept in the session, so a note typed, then a look
    at the explore page, is still there to save (or discard) on return. Gone after a save or a discard (the
    key carries the save count)."""
    return st.session_state.get(_draft_key(key, shortlist_id)) or {}


def _with_draft(view: pd.DataFrame, changes: dict[int, dict]) -> pd.DataFrame:
    view = view.copy()
    for row, item in enumerate(view["id"]):
        for field, value in changes.get(int(item), {}).items():
            view.at[row, field] = value
    return view


def discard(key: str, shortlist_id: int) -> None:
    """Drop the unsaved changes: the editor starts again from the store (a new editor key, and no draft).
    A save ends the same way."""
    st.session_state[_saves(key, shortlist_id)] = st.session_state.get(_saves(key, shortlist_id), 0) + 1


def filtered(view: pd.DataFrame, key: str, shortlist_id: int) -> pd.DataFrame:
    """Status, kind and text filters. Session-state keys: ``{key}.status``, ``{key}.kind``, ``{key}.search``.

    While changes are unsaved the filters are locked: a new filter redraws the editor with other rows,
    and the changes typed into the old ones were lost without a word. The planner saves or discards first."""
    held = pending(key, shortlist_id)
    cols = st.columns(3)
    statuses = cols[0].multiselect(t("filter_status"), list(ITEM_STATUSES), format_func=status_label,
                                   placeholder=t("choose"), key=relabelled(f"{key}.status"), persist_state="session",
                                   disabled=held, help=t("filters_locked") if held else None)
    kinds = cols[1].multiselect(t("filter_kind"), sorted(view["kind_code"].unique()), format_func=kind_label,
                                placeholder=t("choose"), key=relabelled(f"{key}.kind"), persist_state="session",
                                disabled=held, help=t("filters_locked") if held else None)
    text = cols[2].text_input(t("search"), key=f"{key}.search", persist_state="session", disabled=held,
                              help=t("filters_locked") if held else None).strip().lower()
    keep = pd.Series(True, index=view.index)
    if statuses:
        keep &= view["status"].isin(statuses)
    if kinds:
        keep &= view["kind_code"].isin(kinds)
    if text:
        hay = (view["left"] + " " + view["right"] + " " + view["left_id"] + " " + view["right_id"]).str.lower()
        keep &= hay.str.contains(text, regex=False)
    return view[keep].reset_index(drop=True)


def save_row(key: str, shortlist_id: int, **save_options) -> bool:
    """Under the editor, one row: save, discard and, while changes are unsaved, why the filters are
    locked. Below the table, so the table does not move when the first change shows them (a second
    click meant for a cell landed on a header). True when save was pressed."""
    held = pending(key, shortlist_id)
    save, drop, note = st.columns([1, 1, 3], vertical_alignment="center")
    pressed = save.button(t("save_changes"), key=f"{key}.save", type="primary", **save_options)
    if drop.button(t("discard_changes"), key=f"{key}.discard", disabled=not held):
        discard(key, shortlist_id)
        st.rerun()
    if held:
        kept = draft(key, shortlist_id)
        if st.session_state.get(f"{key}.restored") and kept:  # kept from before, counted now
            note.caption(t("changes_kept", n=len(kept)))
        else:
            note.caption(t("filters_locked"))
    return pressed


def editor_key(key: str, shortlist_id: int) -> str:
    """The data editor's key; it changes after every save so old edits never apply to new rows."""
    return f"{key}.editor.{shortlist_id}.{st.session_state.get(_saves(key, shortlist_id), 0)}"


def snapshot(key: str, store: Store, shortlist_id: int) -> pd.DataFrame:
    """The items as they were when the planner started editing.

    While edits are pending the editor keeps showing (and saving against) the versions it was
    started with, so a change another planner saves meanwhile is reported as a conflict instead of
    being overwritten. With no pending edit the items are read afresh.
    """
    editor = editor_key(key, shortlist_id)
    base = f"{key}.base.{editor}"
    pending = (st.session_state.get(editor) or {}).get("edited_rows") or draft(key, shortlist_id)
    if not pending or base not in st.session_state:
        st.session_state[base] = store.items(shortlist_id)
    return st.session_state[base]


def show(key: str, view: pd.DataFrame, shortlist_id: int, read_only: bool = False) -> pd.DataFrame:
    """The editor over ``view`` with the unsaved changes kept from before (``draft``); returns the edited
    table, to compare with ``view``. ``read_only`` (a viewer): no cell takes a change it could not save."""
    editor = editor_key(key, shortlist_id)
    applied, seen = f"{key}.applied.{editor}", f"{key}.seen.{editor}"
    signature = (lang(), int(pd.util.hash_pandas_object(view).sum()))
    # Streamlit starts a new, empty editor when its data or labels change (back on the page, another
    # language): it starts from the draft. While one lives, its data stays the same, or its edits are lost.
    if editor not in st.session_state or st.session_state.get(seen) != signature:
        st.session_state[applied], st.session_state[seen] = draft(key, shortlist_id), signature
        st.session_state[f"{key}.restored"] = bool(st.session_state[applied])
    edited = _editor(key, _with_draft(view, st.session_state[applied]), shortlist_id, read_only)
    st.session_state[_draft_key(key, shortlist_id)] = {item: fields for item, fields, _ in changes(view, edited)}
    return edited


def _editor(key: str, view: pd.DataFrame, shortlist_id: int, read_only: bool = False) -> pd.DataFrame:
    labels = {"select": t("col_select"), "kind": t("col_kind"), "left": t("col_left"), "right": t("col_right"),
              "score": t("col_score"), "status": t("col_status"), "notes": t("col_notes"),
              "locked": t("col_locked"), "missing": t("col_missing")}
    # the table shows a few tall rows (long names wrap) and scrolls inside: say how many pairs it holds
    if view["kind"].nunique() == 1:  # one kind: said once above the table, not on every row
        st.caption(t("rows_in_view_kind", n=len(view), kind=kind_label(view["kind_code"].iloc[0])))
        del labels["kind"]
    else:
        st.caption(t("rows_in_view", n=len(view)))
    if not view["missing"].fillna("").astype(str).str.len().any():  # nothing missing: no empty column
        del labels["missing"]
    shown = view.assign(status=[status_label(s) for s in view["status"]])
    # the whole table in the page's width (the status picker's arrow takes 24 px more): long names
    # and the missing facts wrap in their rows
    width, row_height = tables.fit(shown[list(labels)], labels=labels, fixed={"notes": 180},
                                   budget=tables.FULL_WIDTH_PX - 24)
    view = tables.cut_to_rows(view, width, row_height, ["left", "right", "missing"])  # read, never edited
    return st.data_editor(
        view, key=editor_key(key, shortlist_id), hide_index=True, num_rows="fixed", row_height=row_height,
        placeholder=tables.MISSING,
        column_order=list(labels),
        disabled=True if read_only else ["kind", "left", "right", "score", "missing"],
        column_config={
            "select": st.column_config.CheckboxColumn(labels["select"], width=width["select"]),
            "kind": st.column_config.TextColumn(t("col_kind"), width=width.get("kind")),
            "left": st.column_config.TextColumn(labels["left"], width=width["left"]),
            "right": st.column_config.TextColumn(labels["right"], width=width["right"]),
            "score": st.column_config.NumberColumn(labels["score"], format="%.3f", width=width["score"]),
            "status": st.column_config.SelectboxColumn(labels["status"], options=list(ITEM_STATUSES),
                                                       format_func=status_label, required=True,
                                                       width=width["status"] + 24),
            "notes": st.column_config.TextColumn(labels["notes"], width=width["notes"]),
            "locked": st.column_config.CheckboxColumn(labels["locked"], width=width["locked"]),
            "missing": st.column_config.TextColumn(t("col_missing"), width=width.get("missing")),
        },
    )


def changes(before: pd.DataFrame, after: pd.DataFrame) -> list[tuple[int, dict, int]]:
    """``(item_id, changed fields, version seen)`` for every row the planner changed."""
    out = []
    for (_, old), (_, new) in zip(before.iterrows(), after.iterrows(), strict=True):
        changed = {f: (bool(new[f]) if f == "locked" else new[f]) for f in EDITABLE if new[f] != old[f]}
        if changed:
            out.append((int(old["id"]), changed, int(old["version"])))
    return out


def save(key: str, store: Store, shortlist_id: int, updates: list[tuple[int, dict, int]], planner: str) -> bool:
    """Save all updates or none; a conflict or store error is shown, never raised."""
    if not updates:
        st.info(t("nothing_changed"))
        return False
    try:
        store.update_many(updates, planner=planner)
    except ConflictError as err:
        st.error(t("conflict", error=shown(err)))
        return False
    except MatcherError as err:
        st.error(shown(err))
        return False
    discard(key, shortlist_id)  # saved: the editor starts again from the store
    st.session_state[f"{key}.flash"] = t("saved", n=len(updates))
    return True
