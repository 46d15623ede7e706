"""Names typed by planners reach messages as text: a Markdown link or emphasis in a shortlist's or a
planner's name is escaped in the error, the toast and the caption that repeat it (never a live link).
The architecture test (``markdown_from_data``) checks every call site; this checks what a page shows."""

from __future__ import annotations

import re

import pytest
from conftest import go

pytestmark = pytest.mark.memory_capped  # hostile inputs run with memory capped (tests/conftest.py)

HOSTILE = "[点我](http://evil.example) **粗体** :red[红]"
#: The hostile name as unescaped Markdown would read it: a link, bold, or coloured text.
LIVE = re.compile(r"(?<!\\)\]\(|(?<!\\)\*\*|(?<!\\):red(?<!\\)\[")


def test_a_hostile_shortlist_name_is_text_in_every_message(app):
    app.text_input(key="planner").input("**王** [x](http://evil.example)").run()
    go(app, "shortlist")
    for _attempt in range(2):  # the second time the name is taken: the error repeats it
        app.text_input(key="shortlist.pick.new").input(HOSTILE).run()
        app.button(key="shortlist.pick.create").click().run()
        assert not app.exception
    toasts = [t.value for t in app.toast]
    errors = [e.value for e in app.error]
    assert errors and "已有名为" in errors[0], errors
    shown = toasts + errors + [c.value for c in app.caption] + [m.value for m in app.markdown]
    live = [text for text in shown if LIVE.search(text)]
    assert live == [], f"Markdown from data would render: {live}"
    assert any("点我" in text for text in errors)
