"""Finding a cluster, market or firm by its Chinese name, English name, pinyin or id.

A search box above a picker narrows its options; the picker's labels stay in the page's language.
Pinyin is matched without tones and spaces, whole or by initials: "keqiao", "kq" and "柯桥" all find
Keqiao (C025).
"""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from app_components import cache
from app_components.i18n import t


def _plain(text: object) -> str:
    return re.sub(r"[\W_]+", "", str(text or "")).lower()


def search_keys(ids: tuple[str, ...], names_zh: tuple[str, ...], names_en: tuple[str, ...]) -> dict:
    """Per id, the text a query is looked up in: id, both names, the Chinese name's pinyin and initials."""
    from pypinyin import Style, lazy_pinyin

    keys = {}
    for i, zh, en in zip(ids, names_zh, names_en, strict=True):
        syllables = lazy_pinyin(str(zh or ""), errors="ignore")
        initials = "".join(lazy_pinyin(str(zh or ""), style=Style.FIRST_LETTER, errors="ignore"))
        keys[i] = " ".join(x for x in (_plain(i), _plain(zh), _plain(en), "".join(syllables), initials) if x)
    return keys


def find(key: str, ids: list[str], entities: pd.DataFrame, version: str) -> list[str]:
    """A search box; returns the ``ids`` that match it (all of them while it is empty or finds none)."""
    query = st.text_input(t("find_entity"), key=key, placeholder=t("find_placeholder"), max_chars=60)
    wanted = _plain(query)
    if not wanted:
        return ids
    table = entities.set_index("id").reindex(ids)
    keys = cache.search_keys(version, tuple(ids), tuple(table["name_zh"].fillna("").astype(str)),
                             tuple(table["name_en"].fillna("").astype(str)))
    hits = [i for i in ids if any(wanted in part for part in keys[i].split(" "))]
    if not hits:
        st.caption(t("found_none"))
        return ids
    st.caption(t("found_n", n=len(hits)))
    return hits
