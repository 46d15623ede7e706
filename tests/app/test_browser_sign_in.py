"""Signing in with a real browser on a served app whose store has accounts, on SQLite and PostgreSQL.

Each backend gets one served app (``MATCHER_DB_URL`` set for PostgreSQL) whose sessions expire after
15 s without use (``MATCHER_IDLE_MINUTES=0.25``), so expiry is seen without waiting half an hour.
Every test opens a fresh browser context: a new session, signed out.
"""

from __future__ import annotations

import pandas as pd
import pytest
from postgres_server import create_pg_database
from test_browser import ARTIFACTS, _grid, _idle, _nav, _served_app, _tick_first_row, browser  # noqa: F401 - fixtures

from matcher.exceptions import AccessError
from matcher.store import Store

pytestmark = pytest.mark.browser
ADMIN_PW = "harbour kettle violet 42"
PLANNER_PW = "lantern quarry meadow 17"
#: The one answer to a wrong name, a wrong password and a locked account (default rules).
WRONG_ZH = "用户名或密码错误，或账户因连续 5 次密码错误已被锁定（15 分钟，或直到管理员解锁）。"
VIEWER_PW = "amber pylon orchard 93"
IDLE_MINUTES = 0.25


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def signed_server(request, tmp_path_factory):
    workspace = tmp_path_factory.mktemp(f"sign-in-{request.param}")
    env = {"MATCHER_IDLE_MINUTES": str(IDLE_MINUTES)}
    drop = None
    if request.param == "postgresql":
        url, drop = create_pg_database(request.getfixturevalue("pg_admin_url"))
        env["MATCHER_DB_URL"] = url
    else:
        url = f"sqlite:///{workspace / 'matcher.db'}"
    store = Store(url)
    store.add_account("admin", ADMIN_PW, "admin")
    store.add_account("li", PLANNER_PW, "planner", by="admin")
    store.add_account("zhao", PLANNER_PW, "planner", by="admin")
    store.add_account("wang", VIEWER_PW, "viewer", by="admin")
    store.add_account("zhou", PLANNER_PW, "planner", by="admin")
    served = _served_app()
    try:
        with served.served_app(workspace=workspace, env=env) as base:
            yield base, store, request.param
    except served.AppNotServed as error:
        pytest.fail(str(error))
    finally:
        store.engine.dispose()
        if drop:
            drop()


@pytest.fixture
def page(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def _sign_in(page, name: str, password: str) -> None:
    page.get_by_role("heading", name="登录").wait_for()
    page.get_by_label("账户名").fill(name)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    _idle(page)


def _until(page, condition, seconds: float = 30) -> None:
    for _ in range(int(seconds * 10)):
        if condition():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"not true after {seconds} s")


def _tick_first_pair_and_add(page) -> None:
    _nav(page, "对接探索")
    _tick_first_row(page)
    page.get_by_role("button", name="加入候选清单").click()
    _idle(page)


def test_a_planner_signs_in_works_and_signs_out(signed_server, page):
    base, store, backend = signed_server
    page.goto(base)
    page.get_by_role("heading", name="登录").wait_for()
    assert page.get_by_test_id("stSidebarNav").count() == 0  # no page is reachable before signing in
    page.goto(base + "/shortlist")
    page.get_by_role("heading", name="登录").wait_for()
    assert page.get_by_text("候选清单").count() == 0
    assert page.get_by_label("密码").get_attribute("type") == "password"
    _sign_in(page, "li", "not the password at all")
    page.get_by_text(WRONG_ZH).wait_for()
    _sign_in(page, "li", PLANNER_PW)
    page.get_by_text("已登录：li（规划人员）").wait_for()
    page.get_by_role("heading", name="候选清单", exact=True).wait_for()  # the address asked for, after signing in
    assert page.url.endswith("/shortlist")
    _idle(page)
    page.screenshot(path=str(ARTIFACTS / f"09-signed-in-{backend}.png"))
    _tick_first_pair_and_add(page)
    page.get_by_text("已加入 1 对到清单").wait_for()
    # the records and the audit log name the signed-in account, not a typed name
    assert set(store.shortlists()["planner"]) == {"li"}
    assert set(store.items()["planner"]) == {"li"} and len(store.items()) == 1
    changes = store.history()
    shortlist_rows = changes[changes["table_name"].isin(["shortlists", "shortlist_items"])]
    assert len(shortlist_rows) >= 2 and set(shortlist_rows["planner"]) == {"li"}
    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("heading", name="登录").wait_for()
    _idle(page)
    page.wait_for_timeout(1000)
    assert page.get_by_test_id("stSidebarNav").count() == 0
    assert store.sign_ins("li")["action"].tolist() == ["sign_in_failed", "sign_in"]


def test_a_viewer_reads_but_cannot_save(signed_server, page):
    base, store, backend = signed_server
    if store.shortlists().empty:
        store.create_shortlist("展会清单", planner="admin")
    before = store.counts()
    page.goto(base)
    _sign_in(page, "wang", VIEWER_PW)
    page.get_by_text("已登录：wang（只读）").wait_for()
    _nav(page, "候选清单")
    page.get_by_role("button", name="新建清单").click()
    assert page.get_by_role("button", name="新建清单").last.is_disabled()  # the change is not offered
    page.keyboard.press("Escape")
    _nav(page, "对接探索")
    _tick_first_row(page)
    assert page.get_by_role("button", name="加入候选清单").is_disabled()
    page.screenshot(path=str(ARTIFACTS / f"09-viewer-reads-{backend}.png"))
    # the shortlist's table takes no typing from a viewer (its save was disabled; the note was lost on leaving)
    for sid in store.shortlists()["id"]:  # whichever list the page opens holds a pair
        if store.items(int(sid)).empty:
            store.add_items(int(sid), pd.DataFrame({"left_id": ["C001"], "right_id": ["C093"], "kind": ["east_west"]}),
                            planner="admin")
    before = store.counts()
    _nav(page, "候选清单")
    grid = _grid(page)
    grid.wait_for()
    _idle(page)
    page.wait_for_timeout(500)  # the grid takes keys once it has drawn
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 150, box["y"] + 35 + 17)  # the first row's name, then four cells right: notes
    for _ in range(4):
        page.keyboard.press("ArrowRight")
    page.keyboard.press("Enter")
    page.keyboard.type("viewer typed this")
    page.keyboard.press("Enter")
    _idle(page)
    page.wait_for_timeout(500)
    page.screenshot(path=str(ARTIFACTS / f"09-viewer-shortlist-{backend}.png"))
    assert page.get_by_text("有未保存的修改").count() == 0 and page.get_by_text("viewer typed this").count() == 0
    assert page.get_by_role("button", name="保存修改").is_disabled()
    with pytest.raises(AccessError, match="wang is a viewer"):  # the library refuses the call itself
        store.create_shortlist("wang's list", planner="wang")
    assert store.counts() == {**before, "audit_log": store.counts()["audit_log"]}  # only the sign-in was logged
    changes = store.history()
    assert "wang" not in set(changes[changes["table_name"] != "accounts"]["planner"])  # signing in is all it did


def test_a_planner_made_viewer_while_signed_in_is_signed_out_at_the_next_click(signed_server, page):
    """An admin's change of role ends the open session at its next interaction, which changes nothing
    (before, the page kept the role it signed in with and only the store refused the change)."""
    base, store, backend = signed_server
    if store.shortlists().empty:
        store.create_shortlist("展会清单", planner="admin")
    page.goto(base)
    _sign_in(page, "zhou", PLANNER_PW)
    page.get_by_text("已登录：zhou（规划人员）").wait_for()
    _nav(page, "候选清单")
    page.get_by_role("button", name="新建清单").wait_for()  # the page has run (and checked the session)
    _idle(page)
    store.set_role("zhou", "viewer", by="admin")
    before = store.counts()
    page.get_by_role("button", name="新建清单").click()  # opens the form in the page: no rerun yet
    page.get_by_label("新建清单名称").fill("zhou 的清单")
    page.get_by_role("button", name="新建清单").last.click()
    page.get_by_text("您的账户已被修改（密码、角色或停用），已退出登录；请重新登录。").wait_for()
    assert page.get_by_test_id("stSidebarNav").count() == 0
    page.screenshot(path=str(ARTIFACTS / f"09-demoted-signed-out-{backend}.png"))
    assert store.counts() == before
    assert "zhou 的清单" not in set(store.shortlists()["name"])
    _sign_in(page, "zhou", PLANNER_PW)  # signed in again, with the role it has now
    page.get_by_text("已登录：zhou（只读）").wait_for()


def test_five_wrong_passwords_lock_the_account_until_an_admin_unlocks_it(signed_server, page):
    base, store, backend = signed_server
    page.goto(base)
    for attempt in range(5):
        _sign_in(page, "zhao", f"wrong password number {attempt}")
        _until(page, lambda n=attempt + 1: len(store.sign_ins("zhao")) == n)  # each attempt reached the store
        page.get_by_text(WRONG_ZH).wait_for()
    _sign_in(page, "zhao", PLANNER_PW)  # the right password, but the account is locked: the same answer
    _until(page, lambda: store.sign_ins("zhao")["action"].tolist()[-1:] == ["sign_in_locked"])
    page.get_by_text(WRONG_ZH).wait_for()
    assert page.get_by_test_id("stSidebarNav").count() == 0
    page.screenshot(path=str(ARTIFACTS / f"09-locked-{backend}.png"))
    store.unlock("zhao", by="admin")
    _sign_in(page, "zhao", PLANNER_PW)
    page.get_by_text("已登录：zhao（规划人员）").wait_for()
    assert store.sign_ins("zhao")["action"].tolist() == ["sign_in_failed"] * 4 + ["lock", "sign_in_locked", "sign_in"]
    unlocked = store.history()
    unlocked = unlocked[(unlocked["table_name"] == "accounts") & (unlocked["action"] == "update")
                        & (unlocked["ref"] == "zhao")]
    assert unlocked["planner"].tolist() == ["admin"]  # the unlock, under the admin who made it


def test_an_idle_session_is_signed_out(signed_server, page):
    base, store, backend = signed_server
    page.goto(base)
    _sign_in(page, "li", PLANNER_PW)
    page.get_by_text("已登录：li（规划人员）").wait_for()
    page.wait_for_timeout(IDLE_MINUTES * 60_000 + 1500)
    _nav(page, "对接探索")
    page.get_by_text("0.25 分钟未操作，已自动退出登录；请重新登录。").wait_for()
    page.get_by_role("heading", name="登录").wait_for()
    assert page.get_by_test_id("stSidebarNav").count() == 0
    assert page.get_by_role("heading", name="对接排名（点选一行查看解释）").count() == 0
