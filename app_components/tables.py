"""Tables drawn on a canvas (``st.dataframe``), sized to their text so nothing is cut off.

The data grid paints cells on a canvas: the browser cannot wrap or measure their text, and a cell
too narrow for its text ends in an ellipsis. So the width of every text column is worked out here
from the text itself (Chinese characters are about twice as wide as Latin letters), and a long
column (a reason, a source) is wrapped onto as many lines as its longest text needs, within the
width left beside the other columns. :func:`clipped` checks a drawn table the same way, from its
column configuration: the app tests run it on every table of every page.

The numbers follow Streamlit's grid: 14 px text, 8 px padding each side, lines 1.4 x 14 px high,
3 px vertical padding, automatic widths up to 500 px, and wrapping when the row height is over 4 rem.
The grid's own wrapping has to be calibrated once a browser session before any table is drawn, or it
leaves English lines unwrapped after Chinese (:func:`calibrate_wrapping`, called by ``app.py``).
"""

from __future__ import annotations

import math
import re
import time
import unicodedata
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import pandas as pd
import streamlit as st

FONT_PX = 14.0
PADDING_PX = 2 * 8 + 4  # both sides, and a little room for the sort/resize handles
LINE_PX = FONT_PX * 1.4
ROW_PAD_PX = 2 * 3 + 8
ROW_PX = 35  # the grid's default row height (one line)
WRAP_MIN_ROW_PX = 65  # the grid wraps text only when rows are taller than 4 rem (64 px)
AUTO_MAX_PX = 500  # the grid's widest automatic column
#: The width a full-width table has at a 1366-px window (main column 906 px, sidebar open), less a
#: little for the grid's borders.
FULL_WIDTH_PX = 890
#: The width a full-width table has inside an expander (its border and padding take 36 px).
IN_EXPANDER_PX = FULL_WIDTH_PX - 40
SELECT_PX = 34  # the tick column of a table whose rows can be selected
#: How many of a column's longest texts the width search reads (see :func:`fit`).
SEARCHED_TEXTS = 200
NARROWEST_PX = 90  # a text column narrowed to fit its table wraps, but is never narrower than this
NAMED_PX = {"small": 75, "medium": 200, "large": 400}


@lru_cache(maxsize=65536)
def _text_px(text: str) -> float:
    width = 0.0
    for ch in text:
        if unicodedata.east_asian_width(ch) in "WF":
            width += FONT_PX
        elif ch in " \u00a0":  # a no-break space (between a number and its unit) is as wide as a space
            width += 3.6
        elif ch.isupper() or ch in "mwMW@%":
            width += 9.5
        else:
            width += 7.4
    return width


def text_px(text: Any) -> float:
    """About how wide ``text`` is in the grid's 14 px font."""
    return _text_px(str(text))


def shortened(text: Any, max_px: float) -> str:
    """``text`` as it is, or cut to about ``max_px`` wide and ended with "…" (a name in a cell that must
    show both sides of a pair: a cut name says it is cut, a clipped cell hides the other side)."""
    text = str(text)
    return text if _text_px(text) <= max_px else _cut(text, lambda start: _text_px(start) <= max_px)


def _cut(text: str, fits: Callable[[str], bool]) -> str:
    """The longest start of ``text`` that, ended with "…", still ``fits`` (a binary search: ``fits`` holds
    for every shorter start once it holds for one), so ended."""
    low, high = 0, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(text[:middle].rstrip() + "…") else (low, middle - 1)
    return text[:low].rstrip() + "…"


def lines_needed(text: Any, width_px: float) -> int:
    """How many lines ``text`` takes in a cell ``width_px`` wide, wrapped as the grid wraps: a line takes
    as much text as fits and then breaks at its last space, or inside a word only when the line has no
    space. Chinese text breaks at its spaces too ("…的对接：1 项、2 项）…" ends a line at "2" when the
    run up to the next space does not fit), so its lines end ragged."""
    return _lines_needed(str(text), float(width_px))


@lru_cache(maxsize=65536)
def _lines_needed(text: str, width_px: float) -> int:
    room = max(width_px - PADDING_PX, 1.0)
    lines, start, n = 1, 0, len(text)
    while True:
        used, end = 0.0, start
        while end < n and used + _text_px(text[end]) <= room:
            used += _text_px(text[end])
            end += 1
        if end >= n:
            return lines
        space = text.rfind(" ", start, end + 1)  # the space may be the first character that did not fit
        cut = space if space > start else max(end, start + 1)
        start = cut
        while start < n and text[start] == " ":  # the break's spaces are not drawn
            start += 1
        if start >= n:
            return lines
        lines += 1


def _strings(column: pd.Series) -> list[str]:
    return ["" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in column]


def natural_px(column: pd.Series, header: str) -> float:
    """The width a column needs to show its header and every value on one line."""
    values = _strings(column)
    return max([text_px(header) + 24] + [text_px(v) for v in values]) + PADDING_PX


def header_px(header: str) -> int:
    """The width a column needs for its header (which never wraps) and the grid's sort handle."""
    return math.ceil(text_px(header) + PADDING_PX + 24)


def _most_lines(texts: Sequence[str], width: int, stop: int | None = None) -> int:
    """The lines the longest of ``texts`` takes at ``width`` px; stops counting once past ``stop``."""
    room = width - PADDING_PX
    most = 1
    for text in texts:  # longest first: the rest take one line once one does
        if _text_px(text) <= room:
            break
        most = max(most, _lines_needed(text, float(width)))
        if stop is not None and most > stop:
            break
    return most


#: A column is made wide enough for its longest Latin word ("Wangjiangjing" was drawn "Wangjiangjin" / "g"),
#: up to this width: a longer one ("(Yingshan/Huangmei/Longganhu)", a file path) may still break, rather
#: than make every row of the directory taller.
WORD_PX = 160
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff00-\uffef]")


def _longest_word_px(texts: Sequence[str]) -> int:
    """The width the longest word of ``texts`` without Chinese characters needs on one line (a Chinese run
    may end a line anywhere; a Latin word only at its spaces), of the words that fit in :data:`WORD_PX`: a
    longer one breaks whatever the width, and widening its column for it would only make rows taller."""
    longest = 0.0
    room = WORD_PX - PADDING_PX
    for text in texts:
        for word in text.split(" "):
            px = _text_px(word)
            if longest < px <= room and not _CJK.search(word):
                longest = px
    return math.ceil(longest + PADDING_PX)


def _narrowest(texts: Sequence[str], lines: int, low: int, high: int) -> int:
    """The narrowest width in ``low..high`` at which no text of ``texts`` takes more than ``lines``
    lines (``high`` when none does)."""
    while low < high:
        middle = (low + high) // 2
        low, high = (low, middle) if _most_lines(texts, middle, stop=lines) <= lines else (middle + 1, high)
    return high


def fit(frame: pd.DataFrame, *, wrap: Sequence[str] = (), labels: dict[str, str] | None = None,
        fixed: dict[str, int] | None = None, caps: dict[str, int] | None = None,
        budget: int = FULL_WIDTH_PX, max_lines: int = 10, min_wrap: int = 240) -> tuple[dict[str, int], int | None]:
    """Column widths (px) and a row height for ``frame`` so that no text is cut off and the rows are as
    short as the page allows.

    Every column gets its one-line width when they all fit in ``budget``. When they do not, the text
    columns wrap, and their widths are chosen so that the tallest cell needs as few lines as possible:
    the fewest lines at which every text column, each at the narrowest width that holds its texts in
    that many lines, still fits (a long English name gets the width it needs rather than the same
    width as a short province). No text column is narrower than its header or :data:`NARROWEST_PX`,
    nor a ``wrap`` column (a reason, a source) narrower than ``min_wrap`` while room allows; the
    ``wrap`` columns share what is left, up to their one-line width, narrowest first. Rows grow to
    at most ``max_lines`` lines: a text longer than that is cut, and :func:`clipped` says so.
    ``fixed`` widths are kept as they are (progress bars, numbers), and so are number columns; a
    column with a ``caps`` width is at most that wide and wraps beyond it (names). Returns
    ``(widths, row_height or None)``.
    """
    labels = labels or {}
    fixed = fixed or {}
    caps = caps or {}
    budget = int(budget)  # whole pixels (a budget may be fractional)
    texts: dict[str, list[str]] = {}
    top: dict[str, int] = {}  # the width a column needs for its header and every value on one line
    for name in frame.columns:
        label = labels.get(name, str(name))
        if name in fixed:
            top[name] = int(fixed[name])
            continue
        values = sorted(set(_strings(frame[name])), key=_text_px, reverse=True)
        top[name] = min(math.ceil(natural_px(pd.Series(values[:1], dtype=object), label)), caps.get(name, 10**6))
        if name in wrap or not pd.api.types.is_numeric_dtype(frame[name]):
            texts[name] = values
    wrapping = [name for name in frame.columns if name in texts]

    def floors(wrap_floor: int, words: bool = True) -> dict[str, int]:
        least = {}
        for name in wrapping:
            floor = max(NARROWEST_PX, header_px(labels.get(name, str(name))),
                        _longest_word_px(texts[name]) if words else 0)
            least[name] = min(top[name], max(floor, wrap_floor) if name in wrap else floor)
        return least

    def widths_for(lines: int, least: dict[str, int]) -> dict[str, int]:
        # the widths are searched on a column's longest texts, which make its tallest cells (a shortlist of
        # thousands of reasons took seconds); the row height below counts every text
        return {name: _narrowest(texts[name][:SEARCHED_TEXTS], lines, least[name], top[name]) for name in wrapping}

    rigid = sum(top[name] for name in frame.columns if name not in texts)
    at_top = max([_most_lines(texts[name][:SEARCHED_TEXTS], top[name]) for name in wrapping] or [1])
    widths = dict(top)
    if sum(top.values()) > budget:
        # a table of many columns: its reasons wrap more, and then its long words break, rather than leave the page
        for least in (floors(min_wrap), floors(0), floors(0, words=False)):
            if rigid + sum(widths_for(max_lines, least).values()) <= budget:
                break
        chosen = None
        for lines in range(min(at_top, max_lines), max_lines + 1):  # a handful of levels, each cheap
            trial = widths_for(lines, least)
            if rigid + sum(trial.values()) <= budget:
                chosen = trial
                break
        widths.update(chosen if chosen is not None else least)
        # what is left goes to the wrap columns, up to their one-line width, narrowest first
        left = max(0, budget - sum(widths.values()))  # none when even the floors overrun the page
        grow = sorted((n for n in wrap if n in texts), key=lambda n: (top[n] - widths[n], list(wrap).index(n)))
        for k, name in enumerate(grow):
            extra = min(top[name] - widths[name], left // (len(grow) - k))
            widths[name] += extra
            left -= extra
    lines = max([_most_lines(texts[name], widths[name]) for name in wrapping] or [1])
    lines = min(lines, max_lines)
    widths = {name: int(widths[name]) for name in frame.columns}
    if lines == 1:
        return widths, None
    return widths, max(WRAP_MIN_ROW_PX, math.ceil(lines * LINE_PX + ROW_PAD_PX))


#: Full-width punctuation after which a Chinese line may end: the grid wraps only at plain spaces, so a
#: Chinese reason broke at the space before a number, or inside a word when its line had none.
_BREAK_AFTER = re.compile(r"([；，])(?=[^\s])")


def breakable(value: Any) -> Any:
    """A wrapped cell's text with a plain space after each "；" and "，" (between a reason's motives), where
    the grid may then end a line: a Chinese line breaks between motives, as an English one between words."""
    return _BREAK_AFTER.sub(r"\1 ", value) if isinstance(value, str) else value


def rows_lines(row_height: int | None) -> int:
    """How many lines of text a row ``row_height`` px tall shows (one without a height)."""
    if row_height and row_height >= WRAP_MIN_ROW_PX:
        return max(1, int((row_height - ROW_PAD_PX) // LINE_PX))
    return 1


def cut_to_rows(frame: pd.DataFrame, widths: dict[str, int], row_height: int | None,
                columns: Sequence[str] | None = None) -> pd.DataFrame:
    """``frame`` with each text of ``columns`` (every text column when None) that needs more lines than
    the rows show, at its column's width, cut with "…" to fit: a row of :func:`fit`'s at most
    ``max_lines`` lines cannot hold a 120-character name in a narrow column, and a cell cut by the grid
    hides its end without a sign. For tables that are read, never for a column that is edited."""
    lines = rows_lines(row_height)
    out = {}
    for name in frame.columns if columns is None else columns:
        if name not in frame.columns or pd.api.types.is_numeric_dtype(frame[name]) or not widths.get(name):
            continue
        width = widths[name]
        if not any(lines_needed(v, width) > lines for v in _strings(frame[name])):
            continue
        out[name] = [_cut(v, lambda start, w=width: lines_needed(start, w) <= lines)
                     if isinstance(v, str) and lines_needed(v, width) > lines else v for v in frame[name]]
    return frame.assign(**out) if out else frame


#: What a grid shows for a missing value (Streamlit's own is the word "None", English on a Chinese page).
MISSING = "—"


def show(frame: pd.DataFrame, *, labels: dict[str, str] | None = None, wrap: Sequence[str] = (),
         column_config: dict[str, Any] | None = None, fixed: dict[str, int] | None = None,
         caps: dict[str, int] | None = None, budget: int = FULL_WIDTH_PX, min_wrap: int = 240,
         height: int | str = "auto", **kwargs: Any) -> Any:
    """``st.dataframe`` with every column sized by :func:`fit` and labelled in ``labels``.

    ``column_config`` may give a column's type (a progress bar, a number format); its width is
    then set here unless it is in ``fixed``. A missing value shows as ``MISSING``. Other keyword arguments
    go to ``st.dataframe``.
    """
    labels = labels or {}
    if isinstance(frame, pd.DataFrame) and wrap:
        frame = frame.assign(**{name: frame[name].map(breakable) for name in wrap
                                if name in frame.columns and not pd.api.types.is_numeric_dtype(frame[name])})
    data = frame.data if hasattr(frame, "data") and isinstance(frame.data, pd.DataFrame) else frame  # a Styler
    widths, row_height = fit(data, wrap=wrap, labels=labels, fixed=fixed, caps=caps, budget=budget,
                             min_wrap=min_wrap)
    if isinstance(frame, pd.DataFrame):  # a text longer than the rows hold ends in "…", never cut unseen
        frame = data = cut_to_rows(frame, widths, row_height)
    config: dict[str, Any] = {}
    for name in data.columns:
        given = (column_config or {}).get(name)
        label = labels.get(name, str(name))
        if given is None:
            config[name] = st.column_config.Column(label, width=widths[name])
        else:
            given = dict(given)
            given["label"] = label
            given["width"] = widths[name]
            config[name] = given
    if row_height and height == "auto":  # the grid's own auto height assumes one-line rows: a table of a
        height = min(620, int(row_height * len(data) + 38))  # few tall rows would hide its last ones
    kwargs.setdefault("placeholder", MISSING)
    return st.dataframe(frame, column_config=config, row_height=row_height, height=height, **kwargs)


CALIBRATION_KEY = "grid-calibration"
#: Session state: True once the browser's grid has drawn the calibration table.
CALIBRATED_KEY = "_tables.calibrated"
#: The hidden button the browser presses once it has drawn the calibration table.
CALIBRATED_BUTTON = "grid-calibrated"
#: What the calibration table makes the grid measure: narrow characters (full stops and spaces, about
#: 3.5 px; no language to stray into either page), many lines a cell, well past the 20,000 characters
#: after which the grid stops learning.
CALIBRATION_TEXT = " ".join(["."] * 8000)
#: Session state: when the calibration table was first drawn (``time.monotonic``).
CALIBRATION_STARTED = "_tables.calibration_started"
#: If the browser never says it has drawn the calibration table, the page is drawn after this (s).
CALIBRATION_TIMEOUT_S = 4.0
#: Run in the browser, once a tab: whenever the calibration table's canvas is on the page and has
#: been drawn (three frames), press the hidden button (a rerun that draws the page); again a second
#: later if the page still shows it (a press can be lost in a run the planner started meanwhile).
_DRAWN_SCRIPT = f"""<script>
if (!window.gridCalibration) {{
  window.gridCalibration = {{pressed: 0}};
  setInterval(() => {{
    const canvas = document.querySelector(".st-key-{CALIBRATION_KEY} canvas");
    const button = document.querySelector(".st-key-{CALIBRATED_BUTTON} button");
    if (!canvas || !button || 1000 >= Date.now() - window.gridCalibration.pressed) return;
    window.gridCalibration.pressed = Date.now();
    requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(() => button.click())));
  }}, 100);
}}
</script>"""


def calibrated() -> bool:
    """Whether this session's pages can draw their tables: the browser's grid has drawn the calibration
    table (:func:`calibrate_wrapping`), or there is no browser (a test, a script), whose grid would
    not draw anything."""
    if "mozilla" not in str(st.context.headers.get("User-Agent", "")).lower():
        return True
    return bool(st.session_state.get(CALIBRATED_KEY))


def _mark_calibrated() -> None:
    st.session_state[CALIBRATED_KEY] = True


def calibrate_wrapping() -> None:
    """Draw, out of sight, a table of narrow characters, and draw the page only once the browser has
    drawn it, so that the grid wraps English text correctly after Chinese.

    The grid decides whether a line of a wrapping cell fits by measuring only its first ``width /
    average character width x 1.5`` characters, the average being learned, per font, from the first
    20,000 characters it measures in the browser tab and then frozen. The app opens in Chinese, whose
    characters are twice as wide: the learned average (about 13 px) made it measure too short a part
    of every English line, find that it fits, and draw the whole line on one cut-off line (a planner
    switching 中文 -> English saw every reason on one line, cut at the table's edge; a remount does not
    help, the average lives as long as the tab). Measured first, this table fixes the average at
    about 3.5 px: every line, English or Chinese, then has more than enough characters measured and is
    split where it should be.

    It is drawn on a session's first run, which draws nothing else of the page: drawn in the same run,
    the page's tables reached the grid as early (its code loads once, then draws every table at once).
    A script in the page presses a hidden button once the table's canvas has been drawn, and that
    rerun draws the page (or a timer does, after ``CALIBRATION_TIMEOUT_S``). The table and the button
    sit off the page (:func:`calibration_style`)."""
    with st.container(key=CALIBRATION_KEY):
        st.dataframe(pd.DataFrame({"calibration": [CALIBRATION_TEXT] * 4}), hide_index=True, key=CALIBRATION_KEY,
                     column_config={"calibration": st.column_config.Column(" ", width=300)},
                     row_height=WRAP_MIN_ROW_PX, height=4 * WRAP_MIN_ROW_PX + 40)
    st.button(" ", key=CALIBRATED_BUTTON, on_click=_mark_calibrated)
    st.html(_DRAWN_SCRIPT, unsafe_allow_javascript=True)
    st.session_state.setdefault(CALIBRATION_STARTED, time.monotonic())
    _calibration_timeout()


@st.fragment(run_every=1.0)
def _calibration_timeout() -> None:
    """Draws the page anyway when the browser has not said it drew the calibration table in time."""
    if time.monotonic() - st.session_state[CALIBRATION_STARTED] >= CALIBRATION_TIMEOUT_S:
        _mark_calibrated()
        st.rerun(scope="app")


def calibration_style() -> str:
    """CSS that takes the calibration table out of the page's flow and out of sight."""
    return (f".st-key-{CALIBRATION_KEY},div:has(> .st-key-{CALIBRATION_KEY}){{position:absolute!important;"
            "left:-10000px;top:0;width:400px;height:1px;overflow:hidden}"
            f".st-key-{CALIBRATED_BUTTON}{{display:none}}")


_URL = re.compile(r"https?://[^\s<>\"'`]+")


def web_addresses(text: Any) -> list[str]:
    """The web addresses in ``text`` (a source cell), in order."""
    value = "" if text is None or (not isinstance(text, str) and pd.isna(text)) else str(text)
    return [found.group(0).rstrip(".,;)") for found in _URL.finditer(value)]


def source_links(text: Any) -> str:
    """The web addresses in a source cell as Markdown links named by their site (``sisi-smu.org``):
    a long address no longer overflows its cell, and a click opens it. The link target is
    percent-encoded so no character of it can end the link early; the rest of the cell is escaped."""
    from urllib.parse import quote, urlsplit

    from app_components.i18n import plain

    out, last = [], 0
    value = "" if text is None or (not isinstance(text, str) and pd.isna(text)) else str(text)
    for found in _URL.finditer(value):
        url = found.group(0).rstrip(".,;)")
        site = urlsplit(url).netloc or url
        out.append(plain(value[last:found.start()]))
        out.append(f"[{plain(site)}]({quote(url, safe=':/?&=%#.-_~+,;@!$*')})")
        last = found.start() + len(url)
    out.append(plain(value[last:]))
    return "".join(out)


def facts(frame: pd.DataFrame, links: Sequence[str] = ()) -> Any:
    """A small table of facts (name, value, source...) as a static table whose cells wrap: every
    text escaped, so a value from the data is never read as Markdown; in the ``links`` columns the
    web addresses become links named by their site (:func:`source_links`)."""
    from app_components.i18n import plain

    # a short header never wraps: a word joiner between its characters ("年份" was drawn one character a line)
    shown = pd.DataFrame({"\u2060".join(plain(c)) if len(c) <= 6 and plain(c) == c else plain(c):
                          frame[c].map(source_links if c in links else plain) for c in frame.columns})
    return st.table(shown, hide_index=True)


def clipped(frame: pd.DataFrame, widths: dict[str, Any], row_height: int | None = None,
            labels: dict[str, str] | None = None) -> list[str]:
    """The cells of a drawn table whose text does not fit, as ``"column: text"``; empty when
    none. ``widths`` are the configured widths (px, "small"/"medium"/"large" or None for
    automatic)."""
    labels = labels or {}
    lines = rows_lines(row_height)
    out = []
    for name in frame.columns:
        width = widths.get(name)
        width = NAMED_PX.get(width, width) if isinstance(width, str) else width
        if width is None:  # automatic: one line, up to the grid's widest automatic column
            width = min(natural_px(frame[name], labels.get(name, str(name))), AUTO_MAX_PX)
        header = labels.get(name, str(name))
        if text_px(header) + PADDING_PX > width + 1:
            out.append(f"{header}: (header)")
        for value in _strings(frame[name]):
            if lines_needed(value, width) > lines:
                out.append(f"{header}: {value}")
    return out
