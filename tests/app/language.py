"""One language at a time: what counts as a stray word on a Chinese or an English screen or file.

A Chinese screen may show Latin letters only in ids (C025, M001), numbers and units, file names
and addresses (anything with a slash, a dot inside or an @), web addresses, and the proper nouns
and format names on :data:`ALLOWED_LATIN`. An English screen shows no Chinese character except the
language switch's own name for Chinese.
"""

from __future__ import annotations

import re

#: Latin words a Chinese screen or file may show: names of formats ("Unicode 文本" is how Chinese Excel
#: names its "Unicode text" format), products and the pinyin the
#: find box gives as examples.
ALLOWED_LATIN = {
    "CSV", "XLSX", "TXT", "Unicode", "Excel", "PDF", "ICS", "Parquet", "JSON", "MB", "KB", "GB", "UTF", "GBK", "GB18030",
    "PostgreSQL", "SQLite", "English", "keqiao", "kq", "km", "kt", "Dask", "TF", "IDF", "MRR", "Hits",
}
#: Chinese an English screen may show: the language switch names Chinese in Chinese.
ALLOWED_CJK = {"中文"}

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+")
_TOKEN = re.compile(r"\S+")
_WORD = re.compile(r"[A-Za-z]{2,}")


def _harmless(token: str) -> bool:
    """An id, an address, a file name, a hex version: no language in it."""
    return bool(
        re.fullmatch(r"[\W\d_]*[A-Z]{1,3}\d+[\W\d_]*", token)  # C025, M001, E0000012
        or "/" in token or "@" in token or "://" in token
        or re.search(r"\w\.\w", token)  # matcher.db, docking-meeting.xlsx, www.example.org
        or re.fullmatch(r"[\W_]*[0-9a-f]{8,}[\W_]*", token)  # a data set's version
    )


def stray_latin(text: str, allowed: set[str] = frozenset()) -> list[str]:
    """Latin words in Chinese ``text`` that are not ids, addresses or allowed names."""
    out = []
    for token in _TOKEN.findall(_CJK.sub(" ", text)):
        if _harmless(token):
            continue
        out += [w for w in _WORD.findall(token)
                if w not in ALLOWED_LATIN and w.upper() not in ALLOWED_LATIN and w not in allowed]
    return out


def stray_cjk(text: str) -> list[str]:
    """Chinese characters in English ``text`` (other than the language switch's name)."""
    return [run for run in _CJK.findall(text) if run not in ALLOWED_CJK]
