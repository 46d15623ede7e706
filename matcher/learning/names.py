"""Which bundled entity a name in a known-dockings file means.

Name resolution (:class:`EntityResolver`): exact id, exact ``name_en``/``name_zh``, then a
normalised match (case, spaces and punctuation ignored; bracketed parts and "China"/"中国" dropped;
a leading province and a trailing district, county, city or town word too: ``新疆阿克苏``,
``万州区``) and a "contains" match that keeps the names overlapping the most (``杭州四季青`` is the
Sijiqing market, not Hangzhou); several equal hits are reported as ambiguous, none as unresolved,
never dropped silently.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from matcher.ingest.validate import PROVINCE_LOOKUP


def normalise_name(text: str) -> str:
    """Lower-case, full-width folded, without bracketed parts, spaces or punctuation."""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    text = re.sub(r"[(（][^)）]*[)）]", "", text)
    return re.sub(r"[\W_]+", "", text)


#: Words a name may carry around a place's own name: a leading province (``浙江``, ``Xinjiang``, with
#: their official suffixes) or "China", and a trailing administrative word.
_PREFIXES = sorted({normalise_name(p) for p in (*PROVINCE_LOOKUP, "中国", "china")} - {""}, key=len, reverse=True)
_SUFFIXES = ("district", "county", "city", "town", "township", "街道", "区", "县", "市", "镇", "乡")


def place_forms(key: str) -> list[str]:
    """A normalised name and its forms without a leading province or "China" and a trailing
    administrative word (``新疆阿克苏`` -> ``阿克苏``, ``万州区`` -> ``万州``); forms shorter than two
    characters are dropped (``Chongqing`` alone stays ``chongqing``)."""
    forms = [key]
    for prefix in _PREFIXES:
        if key.startswith(prefix) and len(key) - len(prefix) >= 2:
            forms.append(key[len(prefix):])
            break
    for form in list(forms):
        for suffix in _SUFFIXES:
            if form.endswith(suffix) and len(form) - len(suffix) >= 2:
                forms.append(form[: -len(suffix)])
                break
    return list(dict.fromkeys(forms))


@dataclass
class Resolution:
    """How one name was resolved: ``id`` (None when not), ``how`` and the ids it could mean."""

    name: str
    id: str | None
    how: str
    candidates: list[str] = field(default_factory=list)


class EntityResolver:
    """Map ids or English/Chinese names onto entity ids.

    Parameters
    ----------
    table : DataFrame
        Entities with ``id``, ``name_en``, ``name_zh`` and ``entity_type`` columns.
    """

    def __init__(self, table: pd.DataFrame):
        self.table = table.reset_index(drop=True)
        self.ids = self.table["id"].astype(str).to_numpy()
        self.types = self.table["entity_type"].astype(str).to_numpy()
        en = self.table["name_en"].fillna("").astype(str)
        zh = self.table["name_zh"].fillna("").astype(str)
        self._exact: dict[str, set[int]] = {}
        for i, (a, b) in enumerate(zip(en, zh, strict=True)):
            for name in (a.strip().lower(), b.strip()):
                if name:
                    self._exact.setdefault(name, set()).add(i)
        # normalised forms: the whole name, its bracket-free form, each without "China"/"中国"
        self._norm = []
        for a, b in zip(en, zh, strict=True):
            forms = {normalise_name(a), normalise_name(re.sub(r"[()（）]", " ", a)), normalise_name(b)}
            forms |= {f.replace("china", "").replace("中国", "") for f in forms}
            self._norm.append({f for f in forms if len(f) >= 2})
        self._by_id = {i: n for n, i in enumerate(self.ids)}

    def resolve(self, name: str, types: tuple[str, ...] | None = None) -> Resolution:
        """Resolve one id or name, only among entities of ``types`` when given."""
        text = str(name).strip()
        allowed = np.ones(len(self.ids), bool) if types is None else np.isin(self.types, list(types))
        if not text:
            return Resolution(text, None, "empty")
        if text in self._by_id and allowed[self._by_id[text]]:
            return Resolution(text, text, "id")
        hits = sorted(i for i in self._exact.get(text.lower(), set()) | self._exact.get(text, set()) if allowed[i])
        if hits:
            return self._pick(text, hits, "exact name")
        key = normalise_name(text)
        if not key:
            return Resolution(text, None, "unresolved")
        keys = place_forms(key)
        for k in keys:
            hits = [i for i, forms in enumerate(self._norm) if allowed[i] and k in forms]
            if hits:
                return self._pick(text, hits, "normalised name")
        # contains, either way round (short keys would match too much); the names overlapping the
        # most win: "杭州四季青" is the market whose name holds it, not Hangzhou whose name it holds
        overlap = np.zeros(len(self.ids), dtype=np.int64)
        for i, forms in enumerate(self._norm):
            if allowed[i]:
                overlap[i] = max((min(len(k), len(f)) for k in keys if len(k) >= 2 for f in forms
                                  if k in f or f in k), default=0)
        if overlap.max() > 0:
            return self._pick(text, list(np.flatnonzero(overlap == overlap.max())), "partial name")
        return Resolution(text, None, "unresolved")

    def entity_type(self, entity_id: str) -> str:
        """The type (``cluster``, ``market``, ...) of the entity with id ``entity_id``."""
        return str(self.types[self._by_id[entity_id]])

    def _pick(self, text: str, hits: list[int], how: str) -> Resolution:
        ids = sorted(self.ids[i] for i in hits)
        if len(ids) == 1:
            return Resolution(text, ids[0], how, ids)
        return Resolution(text, None, "ambiguous", ids)


__all__ = ["EntityResolver", "Resolution", "normalise_name", "place_forms"]
