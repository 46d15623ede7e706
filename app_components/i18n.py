"""Every label and message of the app in Chinese and English, and number/date formatting.

Pages never write a literal label: they call :func:`t` with a key of :data:`TEXT`. The language
is the session's choice (``st.session_state["lang"]``: ``"zh"`` or ``"en"``, Chinese first).
Domain vocabularies (stages, regions, kinds, statuses, outcomes) come from the library's own
bilingual tables so that the app and the exports say the same thing.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from app_components.texts import TEXT
from matcher.docking.explain import FEATURE_LABEL
from matcher.docking.kinds import get_kind
from matcher.outputs.calendar import home_zone
from matcher.outputs.words import PRESET_WORDS
from matcher.store.models import DECISIONS, ITEM_STATUSES, OUTCOMES
from matcher.text import one_line
from matcher.vocab import ENTITY_TYPES, FLAGS, PROVINCES, REGIONS, STAGES

LANGS = ("zh", "en")
LANG_LABEL = {"zh": "中文", "en": "English"}
LANG_KEY = "lang"

#: Preset names in both languages: the exports' words (one list for the app and the workbooks).
PRESET_LABEL: dict[str, tuple[str, str]] = PRESET_WORDS
ENTITY_TYPE_LABEL = ENTITY_TYPES
TABLE_LABEL = {"clusters": ("集群", "clusters"), "markets": ("专业市场", "markets"), "enterprises": ("企业", "enterprises")}

#: Designation groups: (Chinese, English, words that name them in the data's designations text).
DESIGNATION_GROUPS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "transfer_park": ("产业转移试点园区/示范园", "transfer pilot or demonstration park",
                      ("transfer", "转移", "demonstration park", "示范园")),
    "base": ("纺织产业基地市/县", "textile industry base city or county", ("base city", "base county", "基地")),
    "city": ("特色名城", "China ... city title", (" city", "名城", "capital", "之都")),
    "town": ("特色名镇", "China ... town title", (" town", "名镇", "hometown")),
    "innovation": ("创新/公共服务平台、示范", "innovation, service platform or demonstration",
                   ("innovation", "platform", "demonstration", "创新", "平台", "示范")),
    "provincial": ("省级称号", "provincial title", ("provincial", "省级")),
}


_PINNED = threading.local()


def pin_lang() -> None:
    """Read the session's language once per script run (``app.py`` calls this first): :func:`lang`
    is called thousands of times a run, and each read of session state costs tens of µs."""
    ctx = get_script_run_ctx()
    value = st.session_state.get(LANG_KEY, "zh")
    _PINNED.value = (ctx.session_id if ctx else None, value if value in LANGS else "zh")


def lang() -> str:
    """The session's language, Chinese unless the planner chose English."""
    pinned = getattr(_PINNED, "value", None)
    if pinned is not None:
        ctx = get_script_run_ctx(suppress_warning=True)
        if ctx is not None and ctx.session_id == pinned[0]:
            return pinned[1]
    value = st.session_state.get(LANG_KEY, "zh")
    return value if value in LANGS else "zh"


#: Session key of the widget keys whose options show translated labels (``relabelled``).
RELABEL_KEY = "i18n.relabelled"


def relabelled(key: str) -> str:
    """``key`` of a selectbox or multiselect whose options show labels in the session's language,
    recorded so that switching the language redraws them (``relabel_on_switch``)."""
    st.session_state.setdefault(RELABEL_KEY, set()).add(key)
    return key


def relabel_on_switch() -> None:
    """The language switch's callback: hand every ``relabelled`` widget its own value again. A keyed
    selectbox or multiselect keeps showing the label it was drawn with (Streamlit redraws the shown
    value only when it changes), so without this the kind picker still read 东西部对接 on an English
    page after switching."""
    for key in sorted(st.session_state.get(RELABEL_KEY, ())):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def _pick(pair: tuple[str, str]) -> str:
    return pair[0] if lang() == "zh" else pair[1]


#: "3 pair(s)", "1 idle slot(s)": an English count and the word after it (and one word between).
_PLURAL = re.compile(r"\b(\d[\d,]*)((?: [a-z]+)?) ([A-Za-z]+)\(s\)")


def t(key: str, **values: Any) -> str:
    """The label ``key`` in the session's language, with ``values`` filled in; an English "N word(s)"
    agrees with its number ("1 pair", "3 pairs")."""
    text = _pick(TEXT[key])
    if not values:
        return text
    text = text.format(**values)
    return _PLURAL.sub(lambda m: f"{m[1]}{m[2]} {m[3]}{'' if m[1] == '1' else 's'}", text) if "(s)" in text else text


def kind_label(kind: str, short: bool = False) -> str:
    """The kind's name in the session's language; ``short`` for a table's kind column."""
    return get_kind(kind).label(lang(), short=short)


def preset_label(preset: str) -> str:
    return _pick(PRESET_LABEL.get(preset, (preset, preset)))


def stage_label(stage: str) -> str:
    return _pick(STAGES.get(stage, (stage, stage)))


def stages_label(cell: Any) -> str:
    """A ``;``-joined stage list in words ("纺纱、织造" / "spinning, weaving")."""
    if cell is None or (not isinstance(cell, str) and pd.isna(cell)) or cell == "":
        return ""
    sep = "、" if lang() == "zh" else ", "
    return sep.join(stage_label(s) for s in str(cell).split(";") if s)


def region_label(region: Any) -> str:
    if region is None or (not isinstance(region, str) and pd.isna(region)):
        return t("unknown")
    return _pick(REGIONS.get(region, (region, region)))


#: Chinese texts of the bundled products and designations (``data/texts_zh.csv``), keyed by the
#: English text they translate: a text the file does not know is shown as it is.
TEXTS_ZH = Path(__file__).resolve().parents[1] / "data" / "texts_zh.csv"


@lru_cache(maxsize=1)
def _texts_zh() -> dict[str, str]:
    if not TEXTS_ZH.is_file():
        return {}
    table = pd.read_csv(TEXTS_ZH, dtype=str, keep_default_na=False, encoding="utf-8")
    out = {}
    for column in ("products", "designations", "city"):
        if column not in table or f"{column}_zh" not in table:
            continue
        for english, chinese in zip(table[column], table[f"{column}_zh"], strict=True):
            if english.strip() and chinese.strip():
                out[english.strip()] = chinese.strip()
    return out


def fact_text(value: Any) -> str:
    """A products, designations or city text in the session's language: the Chinese translation of a bundled
    English text in the Chinese UI (``data/texts_zh.csv``), else the text as it is."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    text = str(value)
    if lang() == "zh":
        return _texts_zh().get(text.strip(), text)
    return _CJK_ASIDE.sub("", text).strip()  # the English facts quote their Chinese names in brackets


_CJK_ASIDE = re.compile(r"\s*[(（][^()（）]*[\u4e00-\u9fff][^()（）]*[)）]")


def province_label(province: Any) -> str:
    if province is None or (not isinstance(province, str) and pd.isna(province)):
        return t("unknown")
    zh, _ = PROVINCES.get(province, (province, ""))
    return zh if lang() == "zh" else province


def feature_label(feature: str) -> str:
    return _pick(FEATURE_LABEL.get(feature, (feature, feature)))


def flag_label(flag: str) -> str:
    return _pick(FLAGS.get(flag, (flag, flag)))


def designation_label(group: str) -> str:
    zh, en, _ = DESIGNATION_GROUPS.get(group, (group, group, ()))
    return zh if lang() == "zh" else en


#: The name recorded for a planner who gave none (``context.planner``).
UNNAMED_PLANNER = "planner"


def planner_name(name: Any) -> str:
    """A recorded planner's name as shown: one who gave no name is "unnamed" in the session's language."""
    if name == UNNAMED_PLANNER:
        return t("unnamed_planner")
    return "" if name is None or (not isinstance(name, str) and pd.isna(name)) else str(name)


def shortlist_name(name: str) -> str:
    """A shortlist's name as shown: the one made for a new store is named in the session's language
    (it was stored in the language of the session that made it)."""
    return t("default_shortlist") if name in TEXT["default_shortlist"] else name


def role_label(role: str) -> str:
    from matcher.store import ROLES

    return _pick(ROLES[role]) if role in ROLES else role


def status_label(status: str) -> str:
    extra = {"new": ("新", "new")}
    return _pick(ITEM_STATUSES.get(status) or extra.get(status, (status, status)))


def decision_label(decision: str) -> str:
    return _pick(DECISIONS.get(decision, (decision, decision)))


def outcome_label(stage: str, value: str) -> str:
    return _pick(OUTCOMES.get(stage, {}).get(value, (value, value)))


def outcome_stage_label(stage: str) -> str:
    return t("stage_meeting") if stage == "meeting" else t("stage_followup")


def entity_type_label(kind: str) -> str:
    return _pick(ENTITY_TYPE_LABEL.get(kind, (kind, kind)))


def table_label(table: str) -> str:
    return _pick(TABLE_LABEL.get(table, (table, table)))


def name_of(name_zh: Any, name_en: Any, fallback: Any = "") -> str:
    """An entity's name in the session's language, else the other language, else ``fallback``."""
    first, second = (name_zh, name_en) if lang() == "zh" else (name_en, name_zh)
    for value in (first, second, fallback):
        if value is not None and not (not isinstance(value, str) and pd.isna(value)) and str(value):
            return str(value)
    return ""


def reason_column() -> str:
    """Which reason column of a suggestions table to show."""
    return "reason_zh" if lang() == "zh" else "reason_en"


def fmt_number(value: Any, digits: int = 0) -> str:
    """A number with thousands separators ("1,234" / "1,234.5"); empty for unknown."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return t("unknown")
    number = float(value)
    if math.isinf(number):
        return "∞"
    return f"{number:,.{digits}f}"


def fmt_score(value: Any) -> str:
    return fmt_number(value, 3)


def fmt_date(value: dt.date | dt.datetime | str | None) -> str:
    """A date (and time, when given) the way the language writes it; a time with a zone (the store keeps UTC)
    in :func:`matcher.outputs.calendar.home_zone`."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        local = value.astimezone(home_zone()) if value.tzinfo else value
        if lang() == "zh":
            return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
        return f"{local.day} {local:%b %Y %H:%M}"
    if lang() == "zh":
        return f"{value.year}年{value.month}月{value.day}日"
    return f"{value.day} {value:%b %Y}"


def streamlit_texts() -> str:
    """A style sheet that puts Streamlit's own English (the file uploader's button and its size note,
    the "Skip to main content" link a keyboard user meets first) in the session's language:
    Streamlit has no setting for these. The pages state the limits themselves (the ``limits`` text)."""
    label = t("upload_button").replace('"', "")
    skip = t("skip_to_content").replace('"', "")
    return ('<style>[data-testid="stFileUploaderDropzoneInstructions"]{display:none}'
            '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"]{display:none}'
            f'[data-testid="stFileUploaderDropzone"] button > div::after{{content:"{label}"}}'
            '[data-testid="stSkipToContent"]{font-size:0}'
            f'[data-testid="stSkipToContent"]::after{{content:"{skip}";font-size:1rem}}</style>')


_AUTOLINK = re.compile(r"\\:/|(?i:www)\\\.|@")


def plain(text: Any) -> str:
    """Text shown literally in Markdown (headers, captions): every Markdown/HTML character escaped.

    Streamlit never renders raw HTML here (the app never allows it); escaping also keeps a name
    such as ``*Keqiao*`` or ``<script>`` from being read as formatting.
    """
    if text is None or (not isinstance(text, str) and pd.isna(text)):
        return ""
    special = "\\`*_{}[]<>()#+-.!|~$:"
    # a line break would end a heading (the rest of the name dropping into a paragraph): one line
    escaped = "".join("\\" + ch if ch in special else ch for ch in one_line(str(text)))
    # GFM turns web and e-mail addresses into links whatever their escapes: a zero-width space keeps
    # "http://…", "www.…" and "name@host" in a name text (seen, not clicked)
    return _AUTOLINK.sub(lambda m: {"\\:/": "\\:\u200b/", "@": "\u200b@"}.get(m.group(0), m.group(0)[:3] + "\u200b\\."),
                         escaped)
