"""Several app processes behind nginx (``deploy/nginx.conf``), as docs/deploy.md serves more planners.

Two browsers pinned to different processes each do what needs their own process: open the app,
upload a file (the upload must reach the process that holds the page's session), and see what the
other one saved (the processes share one store).
"""

from __future__ import annotations

import urllib.request

import pytest
from conftest import clusters_with_script_name
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from test_browser import ARTIFACTS, _idle, _nav, _served_app, browser  # noqa: F401 - fixtures

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    served = _served_app()
    try:
        with served.served_behind_proxy(2, workspace=tmp_path_factory.mktemp("proxy-workspace")) as base:
            yield base
    except served.AppNotServed as error:
        pytest.fail(str(error))


def _node(base: str, cookie: str | None) -> tuple[str, str]:
    """(the process that answers, the cookie the proxy sets) for a request carrying ``cookie``."""
    request = urllib.request.Request(f"{base}/_stcore/health")
    if cookie:
        request.add_header("Cookie", f"matcher_node={cookie}")
    with urllib.request.urlopen(request, timeout=10) as reply:
        ours = [c for c in reply.headers.get_all("Set-Cookie") or [] if c.startswith("matcher_node=")]
        return reply.headers["X-Matcher-Node"], ours[0] if ours else ""


def _both(base: str) -> set[str]:
    """The processes new browsers are sent to (idle processes take turns)."""
    return {_node(base, None)[0] for _ in range(6)}


def _option_appears(page, name: str, tries: int = 6) -> None:
    """Open the page's first select box until ``name`` is listed: a rerun still finishing closes an
    open list, so a closed list is opened again; a name never listed fails."""
    for _ in range(tries):
        _idle(page)
        page.get_by_test_id("stSelectbox").first.click()
        try:
            page.get_by_role("option", name=name).wait_for(timeout=10_000)
            return
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
    raise AssertionError(f"{name!r} is never listed in the other process")


def test_the_proxy_keeps_each_browser_on_one_process(proxy, browser, tmp_path):  # noqa: F811
    # a browser without the cookie is sent to the least busy process and given a cookie naming it; with
    # the cookie it always reaches that process
    node, cookie = _node(proxy, None)
    assert cookie.startswith(f"matcher_node={node};") and "HttpOnly" in cookie
    assert {_node(proxy, node)[0] for _ in range(6)} == {node}
    assert _node(proxy, "10.0.0.1:22")[0] in _both(proxy)  # a forged cookie reaches only the app's processes
    nodes = {where: where for where in _both(proxy)}
    assert len(nodes) == 2, f"new browsers all reached one process: {nodes}"
    upload = tmp_path / "clusters.csv"
    upload.write_bytes(clusters_with_script_name())
    pages = []
    for (where, key), name in zip(nodes.items(), ("a", "b"), strict=True):
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        host = proxy.split("//", 1)[1].split(":")[0]
        context.add_cookies([{"name": "matcher_node", "value": key, "domain": host, "path": "/"}])
        page = context.new_page()
        page.set_default_timeout(60_000)
        answered = []
        page.on("response", lambda r, answered=answered: answered.append(r.headers.get("x-matcher-node")))
        page.goto(proxy)
        page.get_by_role("heading", name="概览").wait_for()
        _idle(page)
        # an upload is a separate request from the page's websocket: it must reach the same process
        _nav(page, "数据")
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(upload))
        page.get_by_role("button", name="校验并启用").click()
        page.get_by_text("文件有效").wait_for()
        assert {a for a in answered if a} == {where}, f"browser {name} reached {set(answered)}"
        page.screenshot(path=str(ARTIFACTS / f"08-proxy-{name}.png"))
        pages.append(page)
    # one store behind both processes: a shortlist made through one is listed through the other
    first, second = pages
    _nav(first, "候选清单")
    first.get_by_role("button", name="新建清单").click()
    first.get_by_label("新建清单名称").fill("经代理新建的清单")
    first.get_by_role("button", name="新建清单").last.click()
    # the list is made once the first page says so (waiting for idle alone could return before the
    # click's rerun had started: a flake under load)
    first.get_by_text("已新建清单「经代理新建的清单」。").wait_for()
    _nav(second, "候选清单")
    _option_appears(second, "经代理新建的清单")
    for page in pages:
        page.context.close()


def test_the_proxy_answers_a_flood_of_uploads_with_429(proxy):
    """Uploads reach Streamlit before any sign-in and are held in memory: past a burst, one address is
    refused (429) by the proxy, so a flood from a signed-out page cannot fill the server's memory. Runs
    after the browser test above, whose uploads are within the burst."""
    import urllib.error

    codes = []
    for i in range(25):
        request = urllib.request.Request(f"{proxy}/_stcore/upload_file/no-session/{i}", data=b"x" * 1024,
                                         method="PUT")
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                codes.append(reply.status)
        except urllib.error.HTTPError as error:
            codes.append(error.code)
    assert codes.count(429) >= 10, codes
    assert codes[0] != 429  # a planner's first upload is never refused
