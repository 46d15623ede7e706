"""Who is using the app: the one local planner, or a signed-in account.

While the store holds no account and the server listens on this computer only (``server.address``
127.0.0.1, as ``.streamlit/config.toml`` sets it), the app serves one local planner who types a
name. Once the store holds an account, or the server listens on any other address, everybody signs
in; a server on another address with no account refuses to run and says how to add the first one.
A session is signed out after ``AccountRules.idle_minutes`` without use (30 by default), after
``session_minutes`` since its sign-in (12 hours), and at its next interaction once an admin resets
the account's password, changes its role or disables it, or the password is changed in another
session (``Store.session_stamp``). What an account may do is checked by the store on every change
(``matcher.store.accounts``); the app only says so.
"""

from __future__ import annotations

import time
from datetime import datetime

import streamlit as st

from app_components.i18n import plain, role_label, t
from app_components.messages import shown
from matcher.exceptions import MatcherError
from matcher.store import Store

ACCOUNT_KEY = "account"  # the signed-in account (name and role), or absent
SEEN_KEY = "account.seen"  # when the signed-in session was last used (time.time())
SINCE_KEY = "account.since"  # when it signed in
LOCAL_ADDRESSES = ("127.0.0.1", "localhost", "::1")


def server_is_local() -> bool:
    """True when the server listens on this computer only."""
    return (st.get_option("server.address") or "") in LOCAL_ADDRESSES


def gate(store: Store, pages: list, now: float | None = None) -> dict | None:
    """The signed-in account, or None in local mode; otherwise shows the sign-in form (or why the app
    cannot run) and stops the page. ``pages`` (the app's ``st.Page`` list) are routed but neither
    listed nor run before signing in: the menu of a signed-out session is gone, and an address such
    as ``/shortlist`` shows the sign-in form and keeps its page for after it."""
    now = time.time() if now is None else now
    account = st.session_state.get(ACCOUNT_KEY)
    stamp = store.session_stamp(account["username"]) if account else None  # one read per run when signed in
    if (stamp is None or stamp != account.get("stamp")) and not store.has_accounts():  # a matching stamp: it has
        if server_is_local():
            st.session_state.pop(ACCOUNT_KEY, None)
            return None
        st.navigation(pages, position="hidden")
        st.error(t("local_mode_refused"))
        st.code("python -m matcher users add admin --role admin", language="bash")
        st.stop()
    rules = store.rules
    if account and rules.idle_expired(datetime.fromtimestamp(st.session_state.get(SEEN_KEY, now)),
                                      datetime.fromtimestamp(now)):
        sign_out()
        st.info(t("session_expired", minutes=f"{rules.idle_minutes:g}"))
        account = None
    elif account and now - st.session_state.get(SINCE_KEY, now) > rules.session_minutes * 60:
        sign_out()
        st.info(t("session_too_long", hours=f"{rules.session_minutes / 60:g}"))
        account = None
    elif account and stamp != account.get("stamp"):
        sign_out()
        st.warning(t("account_changed"))
        account = None
    if not account:
        st.navigation(pages, position="hidden")
        _sign_in_form(store, now)
        st.stop()
    st.session_state[SEEN_KEY] = now
    return account


def _sign_in_form(store: Store, now: float) -> None:
    st.title(t("sign_in_title"))
    with st.form("sign_in", enter_to_submit=True):
        name = st.text_input(t("account_name"), key="sign_in.name", max_chars=100)
        password = st.text_input(t("password"), type="password", key="sign_in.password", max_chars=128)
        pressed = st.form_submit_button(t("sign_in"), type="primary")
    if pressed:
        try:
            account = store.sign_in(name, password)
        except MatcherError as err:
            st.error(shown(err))
            return
        st.session_state[ACCOUNT_KEY] = {"username": account["username"], "role": account["role"],
                                          "stamp": store.session_stamp(account["username"])}
        st.session_state[SEEN_KEY] = st.session_state[SINCE_KEY] = now
        st.rerun()


def seen(account: dict | None, now: float | None = None) -> None:
    """Mark the signed-in session as used now (at the end of each run, as at its start in :func:`gate`),
    so the time a run itself takes, a first load on a busy server, never counts as idle time."""
    if account and st.session_state.get(ACCOUNT_KEY) is account:
        st.session_state[SEEN_KEY] = time.time() if now is None else now


def sign_out() -> None:
    for key in (ACCOUNT_KEY, SEEN_KEY, SINCE_KEY):
        st.session_state.pop(key, None)


def sidebar(store: Store, account: dict) -> None:
    """The signed-in account, sign out, and the account's own password change."""
    st.caption(plain(t("signed_in_as", name=account["username"], role=role_label(account["role"]))))
    st.button(t("sign_out"), key="account.sign_out", on_click=sign_out)
    with st.expander(t("change_password")):
        with st.form("account.password", clear_on_submit=True):
            old = st.text_input(t("old_password"), type="password", max_chars=128)
            new = st.text_input(t("new_password"), type="password", max_chars=128)
            again = st.text_input(t("new_password_again"), type="password", max_chars=128)
            pressed = st.form_submit_button(t("change_password"))
        if pressed:
            if new != again:
                st.error(t("passwords_differ"))
            else:
                try:
                    store.change_password(account["username"], old, new)
                except MatcherError as err:
                    st.error(shown(err))
                else:  # this session goes on; the account's other sessions end at their next click
                    account["stamp"] = store.session_stamp(account["username"])
                    st.success(t("password_changed"))
