"""Every page in a real browser, in Chinese and in English, at a laptop's and a desktop's window.

The tour fills the store first (a pair on the shortlist, a schedule), then opens each page and
checks what a planner reads: no Latin words on a Chinese screen and no Chinese on an English one
(``language.py``), and no text cut off by its box (a label, a picker's value, a button: any element
whose text is wider than the element and hidden). Tables drawn on a canvas are checked from their
configuration in ``test_layout.py``. Screenshots of every page go to ``test-artifacts/pages/``.
"""

from __future__ import annotations

import pytest
from language import stray_cjk, stray_latin
from test_browser import ARTIFACTS, _grid, _idle, browser, server  # noqa: F401 - fixtures

from app_components.i18n import TEXT

pytestmark = pytest.mark.browser
PAGES = ("overview", "explore", "profile", "shortlist", "meetings", "outcomes", "data")
SIZES = ((1366, 768), (1920, 1080))

#: The text a planner reads: the page (and the values and placeholders of its inputs and pickers) without icon
#: ligatures, the language switch, and Streamlit's "Skip to main content" link (shown only on keyboard focus,
#: relabelled by ``i18n.streamlit_texts``, which the tour checks by its drawn label).
VISIBLE_TEXT = """() => {
  const hide = document.createElement('style');
  hide.textContent = '[data-testid="stIconMaterial"], [aria-hidden="true"][translate="no"], [data-testid="stSkipToContent"], '
    + '[data-testid="stSidebar"] [data-testid="stButtonGroup"] { display: none !important; }';
  document.head.appendChild(hide);
  let text = document.body.innerText;  /* the live page: hidden elements give no text */
  for (const el of document.querySelectorAll('[data-testid="stMain"] input, [data-testid="stSidebar"] input')) {
    if (el.offsetParent && !['range', 'file', 'checkbox', 'radio', 'hidden'].includes(el.type))
      text += ' ' + (el.value || el.placeholder);  /* a picker shows its value in an input */
  }
  hide.remove();
  return text;
}"""

#: Elements whose text is cut off: text wider than the box that hides the rest, and pickers and
#: inputs whose value (or placeholder) is wider than the field (a selectbox shows its value in an input).
CUT_OFF = """() => {
  const out = [];
  const roots = '[data-testid="stMain"] *, [data-testid="stSidebar"] *';
  for (const el of document.querySelectorAll(roots)) {
    if (!el.offsetParent) continue;
    const style = getComputedStyle(el);
    const shown = el.tagName === 'INPUT' ? (el.value || el.placeholder) : '';
    if (shown && !['range', 'file', 'checkbox', 'radio', 'hidden'].includes(el.type)) {
      const ctx = document.createElement('canvas').getContext('2d');
      ctx.font = style.font;
      const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      if (ctx.measureText(shown).width > room + 1) out.push('input: ' + shown.slice(0, 80));
      continue;
    }
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const cut = el.scrollWidth > el.clientWidth + 1;
    if (cut && style.textOverflow === 'ellipsis' && el.innerText.trim()) { out.push(el.innerText.trim().slice(0, 80)); continue; }
    if (own && cut && style.overflowX !== 'visible')
      out.push(el.innerText.trim().slice(0, 80));
  }
  return out;
}"""


def _fill_store(base: str, page) -> None:
    """The top pair on the default shortlist, ticked on Explore and added (once per server)."""
    page.goto(base + "/explore")
    _idle(page)
    grid = _grid(page)
    grid.wait_for()
    page.wait_for_timeout(500)
    if page.get_by_text(TEXT["ticked_into"][0].format(n=0, name="").split("，")[0]).count() == 0:
        return
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 14, box["y"] + 35 + 12)  # the first row, whatever its height
    _idle(page)
    page.get_by_role("button", name=TEXT["add_selected"][0]).click()
    _idle(page)


@pytest.mark.parametrize(("width", "height"), SIZES, ids=["1366x768", "1920x1080"])
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_reads_in_one_language_with_nothing_cut_off(server, browser, lang, width, height):  # noqa: F811
    context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(60_000)
    which = 0 if lang == "zh" else 1
    _fill_store(server, page)
    if lang == "en":
        page.get_by_text("English", exact=True).click()
        _idle(page)
    out = ARTIFACTS / "pages"
    out.mkdir(parents=True, exist_ok=True)
    strays, cut = {}, {}
    for name in PAGES:
        page.get_by_test_id("stSidebarNav").get_by_text(TEXT[f"page_{name}"][which], exact=True).click()
        _idle(page)
        if name == "meetings":
            page.get_by_role("button", name=TEXT["run_scheduler"][which]).click()
            _idle(page)
        page.wait_for_timeout(1000)  # charts and maps draw after the script
        page.screenshot(path=str(out / f"{lang}-{width}x{height}-{name}.png"))
        # the whole page: Streamlit scrolls inside its main block, so grow the window to its height
        tall = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
        page.set_viewport_size({"width": width, "height": min(int(tall) + 40, 7000)})
        page.wait_for_timeout(1500)  # maps redraw at the new size
        page.screenshot(path=str(out / f"{lang}-{width}x{height}-{name}-whole.png"))
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        text = page.evaluate(VISIBLE_TEXT)
        stray = stray_latin(text) if lang == "zh" else stray_cjk(text)
        if stray:
            strays[name] = sorted(set(stray))
        skip = page.evaluate("() => getComputedStyle(document.querySelector("
                             "'[data-testid=\"stSkipToContent\"]'), '::after').content")
        if TEXT["skip_to_content"][which] not in skip:
            strays[f"{name} skip link"] = [skip]
        hidden = page.evaluate(CUT_OFF)
        if hidden:
            cut[name] = hidden
    context.close()
    assert not strays, strays
    assert not cut, cut
