"""Signing in with a real browser on a served app whose store has accounts."""

from __future__ import annotations

import pytest
from test_browser import ARTIFACTS, _idle, _served_app, browser  # noqa: F401 - fixtures

from matcher.store import Store

pytestmark = pytest.mark.browser
PASSWORD = "lantern quarry meadow 17"


@pytest.fixture(scope="module")
def signed_server(tmp_path_factory):
    workspace = tmp_path_factory.mktemp("sign-in-workspace")
    store = Store(f"sqlite:///{workspace / 'matcher.db'}")
    store.add_account("admin", "harbour kettle violet 42", "admin")
    store.add_account("li", PASSWORD, "planner", by="admin")
    served = _served_app()
    try:
        with served.served_app(workspace=workspace) as base:
            yield base, store
    except served.AppNotServed as error:
        pytest.fail(str(error))


def test_a_planner_signs_in_works_and_signs_out(signed_server, browser):  # noqa: F811
    base, store = signed_server
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(base)
    page.get_by_role("heading", name="登录").wait_for()
    assert page.get_by_test_id("stSidebarNav").count() == 0  # no page is reachable before signing in
    page.goto(base + "/shortlist")
    page.get_by_role("heading", name="登录").wait_for()
    assert page.get_by_text("候选清单").count() == 0
    password = page.get_by_label("密码")
    assert password.get_attribute("type") == "password"
    page.get_by_label("账户名").fill("li")
    password.fill("not the password at all")
    page.get_by_role("button", name="登录").click()
    page.get_by_text("用户名或密码错误。").wait_for()
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_text("已登录：li（规划人员）").wait_for()
    page.get_by_role("heading", name="概览").wait_for()
    _idle(page)
    page.screenshot(path=str(ARTIFACTS / "09-signed-in.png"))
    page.get_by_role("button", name="退出登录").click()
    page.get_by_role("heading", name="登录").wait_for()
    assert store.sign_ins("li")["action"].tolist() == ["sign_in_failed", "sign_in"]
    context.close()
