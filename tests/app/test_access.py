"""Signing in to the app (AppTest): local mode while the store has no account, the sign-in form once
it has one, idle expiry, roles as the store enforces them, and a shared server without accounts."""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from conftest import APP, go
from streamlit.testing.v1 import AppTest

from matcher.store import Store

ADMIN_PW = "harbour kettle violet 42"
PLANNER_PW = "lantern quarry meadow 17"
VIEWER_PW = "amber pylon orchard 93"


@pytest.fixture
def accounts(workspace) -> Store:
    store = Store()
    store.add_account("admin", ADMIN_PW, "admin")
    store.add_account("li", PLANNER_PW, "planner", by="admin")
    store.add_account("wang", VIEWER_PW, "viewer", by="admin")
    return store


def _texts(at: AppTest) -> str:
    return " ".join(str(e.value) for e in [*at.title, *at.markdown, *at.caption, *at.error, *at.info, *at.success])


def _sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="sign_in.name").input(name)
    at.text_input(key="sign_in.password").input(password)
    at.button[0].click().run()  # the form's submit button
    return at


def test_without_accounts_the_local_planner_needs_no_sign_in(app):
    assert not any(t.key == "sign_in.name" for t in app.text_input)
    assert app.text_input(key="planner") is not None


def test_with_accounts_everybody_signs_in_and_changes_carry_the_account(accounts):
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    assert at.title[0].value == "登录" and "概览" not in _texts(at)
    _sign_in(at, "li", "wrong password for li")
    assert "用户名或密码错误，或账户因连续 5 次密码错误已被锁定（15 分钟，或直到管理员解锁）。" in _texts(at)
    _sign_in(at, "li", PLANNER_PW)
    assert not at.exception
    assert "已登录：li（规划人员）" in _texts(at)
    assert not any(t.key == "planner" for t in at.text_input)  # the name is the account, not free text
    go(at, "explore")
    at.session_state["explore.table.east_west"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    at.button(key="explore.add").click().run()
    assert not at.exception
    assert set(accounts.shortlists()["planner"]) == {"li"}
    assert accounts.sign_ins("li")["action"].tolist() == ["sign_in_failed", "sign_in"]


def test_a_viewer_reads_but_the_store_refuses_its_changes(accounts):
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    _sign_in(at, "wang", VIEWER_PW)
    go(at, "explore")
    at.session_state["explore.table.east_west"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    add = at.button(key="explore.add")
    assert add.disabled and add.help == "只读账户可以查看，不能更改。"  # the change is not offered
    go(at, "shortlist")  # no list yet, and a viewer cannot make the first one: said, nothing made
    assert "还没有候选清单" in _texts(at) and accounts.shortlists().empty
    accounts.create_shortlist("展会清单", planner="li")
    go(at, "shortlist")  # an empty list: a viewer is not told to add pairs
    assert "规划人员加入对接后" in _texts(at) and "选择对接并加入清单" not in _texts(at)
    sid = int(accounts.shortlists()["id"].iloc[0])
    accounts.add_items(sid, pd.DataFrame({"left_id": ["C001"], "right_id": ["C093"], "kind": ["east_west"]}),
                       planner="li")
    go(at, "shortlist")  # a list with a pair: the viewer reads it, and no cell takes a change it cannot save
    grids = [d.proto for d in at.dataframe if d.proto.editing_mode != d.proto.EditingMode.READ_ONLY]
    assert len(grids) == 1  # the data editor, as a planner has it ...
    assert grids[0].disabled  # ... with every cell locked
    assert at.button(key="shortlist.save").disabled
    # a planner demoted while signed in is signed out at the next click, and the click changes nothing
    at.button(key="account.sign_out").click().run()
    _sign_in(at, "li", PLANNER_PW)
    go(at, "explore")
    at.session_state["explore.table.east_west"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    accounts.set_role("li", "viewer", by="admin")
    before = accounts.counts()
    at.button(key="explore.add").click().run()
    assert not at.exception
    assert at.title[0].value == "登录" and "您的账户已被修改" in _warnings(at)
    assert accounts.counts() == before and len(accounts.items()) == 1  # only the pair added above


def test_an_idle_session_is_signed_out(accounts):
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    _sign_in(at, "li", PLANNER_PW)
    assert "已登录：li" in _texts(at)
    at.session_state["account.seen"] = time.time() - 29 * 60
    at.run()
    assert "已登录：li" in _texts(at)
    at.session_state["account.seen"] = time.time() - 31 * 60
    at.run()
    assert "30 分钟未操作，已自动退出登录" in _texts(at) and at.title[0].value == "登录"


def test_sign_out_and_change_password(accounts):
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    _sign_in(at, "li", PLANNER_PW)
    at.button(key="account.sign_out").click().run()
    assert at.title[0].value == "登录"
    _sign_in(at, "li", PLANNER_PW)
    accounts.change_password("li", PLANNER_PW, "granite sparrow harbor 61")
    at.button(key="account.sign_out").click().run()
    _sign_in(at, "li", PLANNER_PW)
    assert "用户名或密码错误，或账户因连续 5 次密码错误已被锁定（15 分钟，或直到管理员解锁）。" in _texts(at)
    _sign_in(at, "li", "granite sparrow harbor 61")
    assert "已登录：li" in _texts(at)


def test_a_shared_server_without_accounts_refuses_local_mode(workspace):
    before = st.get_option("server.address")
    st.config.set_option("server.address", "0.0.0.0")
    try:
        at = AppTest.from_file(str(APP), default_timeout=90)
        at.run()
    finally:
        st.config.set_option("server.address", before)
    assert "尚无账户" in _texts(at)
    assert "概览" not in _texts(at)
    assert any("users add" in c.value for c in at.code)


def test_only_an_admin_adds_a_data_set_and_only_a_planner_retrains(accounts, workspace):
    from app_components import datasets
    from matcher.exceptions import AccessError

    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    _sign_in(at, "li", PLANNER_PW)
    go(at, "data")
    assert "只有管理员可以添加数据集" in _texts(at)
    assert at.selectbox(key="data.table").disabled
    csv = (Path(__file__).parents[2] / "data" / "markets.csv").read_bytes()
    with pytest.raises(AccessError, match="li is a planner; this needs an admin"):
        datasets.stage_upload("markets.csv", csv, "markets", store=accounts, by="li")
    assert not datasets.datasets_dir().exists() or not any(datasets.datasets_dir().iterdir())  # nothing written
    made = datasets.stage_upload("markets.csv", csv, "markets", store=accounts, by="admin")
    assert made.name in {p.rsplit("/", 1)[-1] for p in datasets.available()}
    at.button(key="account.sign_out").click().run()
    _sign_in(at, "wang", VIEWER_PW)
    go(at, "outcomes")
    assert at.button(key="outcomes.retrain").disabled
    from app_components import models

    with pytest.raises(AccessError, match="wang is a viewer"):
        models.retrain(None, accounts, "east_west", "wang")


def _warnings(at: AppTest) -> str:
    return " ".join(str(e.value) for e in [*at.warning, *at.info])


@pytest.mark.parametrize("change", ["reset", "disable", "role", "own elsewhere"])
def test_a_session_ends_when_an_admin_changes_the_account(accounts, change):
    """A password reset, a disable or a new role by an admin, or a password change in another session,
    ends an open session at its next interaction; before, the tab kept working under the old password."""
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    _sign_in(at, "li", PLANNER_PW)
    assert "已登录：li" in _texts(at)
    if change == "reset":
        accounts.reset_password("li", "granite sparrow harbor 61", by="admin")
    elif change == "disable":
        accounts.disable("li", by="admin")
    elif change == "role":
        accounts.set_role("li", "viewer", by="admin")
    else:
        accounts.change_password("li", PLANNER_PW, "granite sparrow harbor 61")
    at.run()
    assert at.title[0].value == "登录" and "已登录：li" not in _texts(at)
    assert "您的账户已被修改（密码、角色或停用），已退出登录；请重新登录。" in _warnings(at)


def test_a_password_changed_in_this_session_keeps_it_and_every_session_has_a_maximum_length(accounts, monkeypatch):
    at = AppTest.from_file(str(APP), default_timeout=90)
    at.run()
    _sign_in(at, "li", PLANNER_PW)
    old, new, again = at.text_input[-3:]  # the sidebar's password form: old, new, new again
    old.input(PLANNER_PW)
    new.input("granite sparrow harbor 61")
    again.input("granite sparrow harbor 61")
    next(b for b in at.button if b.label in ("修改密码", "Change password")).click().run()
    assert "密码已修改。" in _texts(at)
    at.run()
    assert "已登录：li" in _texts(at)  # still signed in: it was this session's own change
    monkeypatch.setenv("MATCHER_SESSION_MINUTES", "0.001")  # a session of 0.06 s
    time.sleep(0.2)
    at.run()
    assert at.title[0].value == "登录"
    assert "登录已超过" in _warnings(at) and "小时，已自动退出；请重新登录。" in _warnings(at)
