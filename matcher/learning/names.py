"""Which bundled entity a name in a known-dockings file means.

Name resolution (:class:`EntityResolver`): exact id (in any letter case: ``c039`` is ``C039``), exact
``name_en``/``name_zh``, then a normalised match (case, spaces and punctuation ignored; bracketed parts
and "China"/"中国" dropped; a leading province and a trailing district, county, city or town word too:
``新疆阿克苏``, ``万州区``) and a "contains" match that keeps the names overlapping the most (``杭州四季青``
is the Sijiqing market, not Hangzhou); several equal hits are reported as ambiguous, none as
unresolved, never dropped silently.

A "contains" match whose entity's name sits inside a longer text is taken only when the text says
little else (:meth:`EntityResolver.covers`): every word in Latin letters of the text is the entity's
name, a province, "China", an administrative word (district, county, city, town) or a word of the
entity's own city or province, and those, with the administrative characters (区, 县, 市, 镇, ...), make
up at least half of its characters (``Shaoxing Keqiao District``, ``浙江省绍兴市柯桥区``, ``吴江盛泽镇``);
or the text is itself part of a bundled entity's name (``杭州四季青`` among clusters is Hangzhou, where the
Sijiqing market is). ``Ningbo Airport``, ``Not Hangzhou at all`` and ``Kashgar hospital`` name no entity.

:func:`read_known_table` reads a known-dockings file's cells, bounded as the importer bounds cells.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from matcher.exceptions import ValidationError
from matcher.ingest.ids import fold_id
from matcher.ingest.validate import MAX_CELL_CHARS, PROVINCE_LOOKUP, TOO_LONG_CELL, clip


def normalise_name(text: str) -> str:
    """Lower-case, full-width folded, without bracketed parts, spaces or punctuation."""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    text = re.sub(r"[(（][^)）]*[)）]", "", text)
    return re.sub(r"[\W_]+", "", text)


#: Words a name may carry around a place's own name: a leading province (``浙江``, ``Xinjiang``, with
#: their official suffixes) or "China", and a trailing administrative word.
_PREFIXES = sorted({normalise_name(p) for p in (*PROVINCE_LOOKUP, "中国", "china")} - {""}, key=len, reverse=True)
_SUFFIXES = ("district", "county", "city", "town", "township", "街道", "区", "县", "市", "镇", "乡")
#: Latin words that say what kind of place a name is; Chinese characters that do (taken at the end of a
#: text or right after a place it names: the 区 of 柯桥区, not the 市 of 市场).
_ADMIN_WORDS = frozenset({"district", "county", "city", "town", "township", "province", "sheng", "china"})
_ADMIN_CHARS = ("自治区", "街道", "省", "区", "县", "市", "镇", "乡")


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


def name_tokens(text: str) -> list[str]:
    """The pieces of :func:`normalise_name`'s result, in order: each run of Latin letters and digits is
    one word, each other character (a Chinese one) is its own (``"Keqiao 柯桥"`` -> ``keqiao, 柯, 桥``)."""
    text = unicodedata.normalize("NFKC", str(text)).lower()
    text = re.sub(r"[(（][^)）]*[)）]", "", text)
    return re.findall(r"[a-z0-9]+|[^\W_a-z0-9]", text)


def read_known_table(path: str | Path, aliases: dict[str, str]) -> pd.DataFrame:
    """A known-dockings file (CSV, Excel, JSON or Parquet) as text cells, headers read with ``aliases``.

    A JSON file holding no list of records is said in words (not in pandas' words), and a cell longer
    than a spreadsheet cell holds (the importer's ``MAX_CELL_CHARS``) is refused by row and column.

    Raises
    ------
    ValidationError
        The file cannot be read as a table, or has a cell that is too long; ``problems`` names each.
    """
    from matcher.ingest.problems import file_error, problems_frame
    from matcher.ingest.read import read_table

    try:
        raw = read_table(path, aliases, common_aliases=False)
    except ValidationError as err:
        if Path(path).suffix.lower() == ".json" and "does not hold a table of records" in str(err):
            raise file_error(path, 'the JSON holds no list of known dockings (one object is not a list); write a '
                             'list with one object per pair, e.g. [{"left": "C039", "right": "C123", "date": '
                             '"2014"}, ...], or that list under "pairs"') from None
        raise
    too_long = []
    for column in raw.columns:
        cells = raw[column].fillna("").astype(str)
        too_long += [{"file": str(path), "row": int(row), "column": str(column), "value": clip(cells[row]),
                      "reason": TOO_LONG_CELL} for row in cells.index[cells.str.len() > MAX_CELL_CHARS]]
    if too_long:
        raise ValidationError(f"{path}: {len(too_long)} cell(s) longer than {MAX_CELL_CHARS:,} characters (row "
                              f"{too_long[0]['row']}, column {too_long[0]['column']} first); nothing was read",
                              problems_frame(too_long))
    return raw


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
        # ids in any letter case (c039 is C039), unless two ids differ only so (then only as typed)
        folded: dict[str, list[int]] = {}
        for n, i in enumerate(self.ids):
            folded.setdefault(fold_id(i), []).append(n)
        self._by_fold = {f: ns[0] for f, ns in folded.items() if len(ns) == 1}
        # words of each entity's own city and province ("Keqiao district (Shaoxing)": keqiao, district,
        # shaoxing), which a name may carry around the entity's name
        blank = pd.Series([""] * len(self.table))
        city, province = (self.table[c].fillna("").astype(str) if c in self.table.columns else blank
                          for c in ("city", "province"))
        self._places = [{form for word in re.split(r"[\W_]+", unicodedata.normalize("NFKC", f"{a} {b}").lower())
                         if len(word) >= 2 for form in place_forms(word)} for a, b in zip(city, province, strict=True)]

    def resolve(self, name: str, types: tuple[str, ...] | None = None) -> Resolution:
        """Resolve one id or name, only among entities of ``types`` when given."""
        text = str(name).strip()
        allowed = np.ones(len(self.ids), bool) if types is None else np.isin(self.types, list(types))
        if not text:
            return Resolution(text, None, "empty")
        n = self._by_id.get(text, self._by_fold.get(fold_id(text)))
        if n is not None and allowed[n]:
            return Resolution(text, str(self.ids[n]), "id")
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
        return self._partial(text, key, [k for k in keys if len(k) >= 2], allowed)

    def _partial(self, text: str, key: str, keys: list[str], allowed: np.ndarray) -> Resolution:
        """The "contains" match, either way round (short keys would match too much); the names overlapping
        the most win: "杭州四季青" is the market whose name holds it, not Hangzhou whose name it holds. An
        entity whose name sits inside the text is taken only when it :meth:`covers` the text, or the text is
        part of some bundled entity's name; else the text is unresolved, with those entities as
        ``candidates`` (the names it only partly holds)."""
        overlap = np.zeros(len(self.ids), dtype=np.int64)
        refused = np.zeros(len(self.ids), dtype=np.int64)
        named: bool | None = None  # is the text part of some bundled entity's name? (asked once, if needed)
        for i, forms in enumerate(self._norm):
            if not allowed[i]:
                continue
            inside = max((len(k) for k in keys for f in forms if k in f), default=0)
            holds = max((len(f) for k in keys for f in forms if f in k and k not in f), default=0)
            if holds > inside:
                if named is None:
                    named = any(key in f for other in self._norm for f in other)
                if not (named or self.covers(text, i)):
                    refused[i], holds = holds, 0
            overlap[i] = max(inside, holds)
        if overlap.max() > 0:
            return self._pick(text, list(np.flatnonzero(overlap == overlap.max())), "partial name")
        if refused.max() > 0:
            held = np.flatnonzero(refused == refused.max())
            return Resolution(text, None, "unresolved", sorted(self.ids[i] for i in held))
        return Resolution(text, None, "unresolved")

    def covers(self, text: str, i: int) -> bool:
        """Whether entity ``i``'s names, with the place words around them, make up ``text``: every word in
        Latin letters of it is one of the entity's names, a province, "China", an administrative word or a
        word of the entity's city or province, and those, with the administrative characters that end the
        text or follow a place it names (柯桥区, 浙江省), are at least half of its characters."""
        tokens = name_tokens(text)
        key = "".join(tokens)  # = normalise_name(text), its words' edges known
        edges, latin, pos = {len(key)}, np.zeros(len(key), dtype=bool), 0
        for token in tokens:
            edges.add(pos)
            latin[pos:pos + len(token)] = token.isascii()
            pos += len(token)
        known = np.zeros(len(key), dtype=bool)

        def mark(piece: str, after_place: bool = False) -> None:
            at = key.find(piece) if piece else -1
            while at >= 0:
                end = at + len(piece)
                if at in edges and end in edges and (not after_place or end == len(key) or (at and known[at - 1])):
                    known[at:end] = True
                at = key.find(piece, at + 1)

        for piece in (*self._norm[i], *self._places[i], *_PREFIXES, *_ADMIN_WORDS):
            mark(piece)
        for piece in _ADMIN_CHARS:
            mark(piece, after_place=True)
        return bool(known[latin].all()) and 2 * int(known.sum()) >= len(key)

    def label(self, entity_id: str) -> str:
        """The id and the English name (the Chinese one without): ``C039 Ningbo (men's wear & knitwear)``."""
        n = self._by_id[entity_id]
        names = [str(self.table.at[n, c]).strip() for c in ("name_en", "name_zh") if pd.notna(self.table.at[n, c])]
        return f"{entity_id} {clip(next((name for name in names if name), ''))}".strip()

    def taken_as(self, res: Resolution) -> str:
        """What a name resolved by a partial name was taken as, to be said to the planner."""
        return (f"{clip(res.name)!r} taken as {self.label(res.id)} ({res.how}); write the id or the full name to "
                "be sure")

    def entity_type(self, entity_id: str) -> str:
        """The type (``cluster``, ``market``, ...) of the entity with id ``entity_id``."""
        return str(self.types[self._by_id[entity_id]])

    def _pick(self, text: str, hits: list[int], how: str) -> Resolution:
        ids = sorted(self.ids[i] for i in hits)
        if len(ids) == 1:
            return Resolution(text, ids[0], how, ids)
        return Resolution(text, None, "ambiguous", ids)


__all__ = ["EntityResolver", "Resolution", "name_tokens", "normalise_name", "place_forms",
           "read_known_table"]
