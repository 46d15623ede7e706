"""Province facts behind the transfer motives, as arrays the features index by province code.

Built once per prepared ``Entities`` from ``Dataset.provinces`` (``data/provinces.csv``): the
highest-tier monthly minimum wage (the labour-cost gradient), cotton output (the raw-material base
of spinning receivers), the regional cooperation frameworks and river economic belts a province
belongs to, and its neighbours. A province the table does not list, or a fact it leaves empty, is
unknown (NaN), never zero, except cotton output: the source table leaves a province's cell empty
when it grows no or negligible cotton, so an empty cotton cell with a source is 0. The pairing
policies between provinces, cities and areas (``data/policy_pairings.csv``) are read here too
(:func:`policy_pairing`).

>>> from matcher.ingest.dataset import load_dataset
>>> P = province_facts(load_dataset().provinces)
>>> P.shared(P.code(["Guangdong"]), P.code(["Guangxi"]))[0]
'pan_prd;pearl_xijiang'
>>> bool(P.neighbours[P.code(["Zhejiang"])[0], P.code(["Jiangxi"])[0]])
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from matcher.docking.entities import Entities

#: Frameworks that join a sending and a receiving province (``central_rise`` and ``western_dev``
#: group receivers only, so sharing them says nothing about a docking between east and west).
LINKING_FRAMEWORKS = ("pan_prd", "yrd", "bohai", "northeast", "yangtze_belt", "pearl_xijiang")
FRAMEWORK_LABELS = {
    "central_rise": ("中部崛起", "Rise of Central China"),
    "western_dev": ("西部大开发", "Western Development"),
    "pan_prd": ("泛珠三角区域合作", "pan-Pearl River Delta cooperation"),
    "yrd": ("长三角", "Yangtze River Delta"),
    "bohai": ("环渤海", "Bohai Rim"),
    "northeast": ("东北振兴", "Northeast revitalisation"),
    "yangtze_belt": ("长江经济带", "Yangtze River Economic Belt"),
    "pearl_xijiang": ("珠江—西江经济带", "Pearl River-Xijiang Economic Belt"),
}


@dataclass
class ProvinceFacts:
    """Facts per province code (row of the table); code ``len(names)`` is "not in the table"."""

    names: np.ndarray
    min_wage: np.ndarray
    cotton: np.ndarray
    frameworks: list[frozenset[str]]
    neighbours: np.ndarray

    def code(self, provinces: object) -> np.ndarray:
        """Codes of province names (English); unknown names get the "not in the table" code."""
        inverse, distinct = pd.factorize(np.asarray(provinces, dtype=object))  # ~31 names for 1M firms
        lookup = {name: i for i, name in enumerate(self.names)}
        codes = np.array([lookup.get(str(name), len(self.names)) for name in distinct] + [len(self.names)],
                         dtype=np.int32)
        return codes[inverse]  # a missing name (-1) takes the last: "not in the table"

    def shared(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """``;``-joined linking frameworks both provinces belong to ("" when none or unknown)."""
        n = len(self.names)
        keys, inverse = np.unique(np.asarray(a, np.int64) * (n + 1) + np.asarray(b, np.int64), return_inverse=True)
        text = []
        for key in keys:
            i, j = divmod(int(key), n + 1)
            both = self.frameworks[i] & self.frameworks[j] if i < n and j < n else frozenset()
            text.append(";".join(f for f in LINKING_FRAMEWORKS if f in both))
        return np.array(text, dtype=object)[inverse.ravel()]


#: The facts a cluster profile shows: (code, Chinese label, English label, value column, year column,
#: source column).
PROFILE_FACTS = (
    ("min_wage", "最低工资（元/月，最高档）", "minimum wage (yuan/month, top tier)", "min_wage_monthly_cny",
     "min_wage_year", "min_wage_source"),
    ("avg_wage", "平均工资（元/年）", "average wage (yuan/year)", "avg_wage_urban_cny", "year", "avg_wage_source"),
    ("cotton", "棉花产量（万吨）", "cotton output (10,000 t)", "cotton_output_10k_t", "cotton_year", "cotton_source"),
    ("textile", "纺织产出", "textile output", "textile_output_share_note", "", "textile_source"),
    ("frameworks", "区域合作框架", "regional cooperation", "groupings", "", "groupings_source"),
    ("belts", "流域经济带", "river economic belts", "belts", "", "belts_source"),
    ("neighbours", "相邻省份", "neighbouring provinces", "neighbours", "", "neighbours_source"),
)


def province_profile(table: pd.DataFrame, province: str) -> pd.DataFrame:
    """The facts behind the transfer motives for one province, one row each: ``fact, label_zh,
    label_en, value`` (as in the table), ``value_zh, value_en`` (codes in words), ``year, source`` (``source`` is the page, or the page and a note after ``|``);
    an empty value is unknown. Empty frame when the table does not list the province."""
    from matcher.vocab import PROVINCES

    columns = ["fact", "label_zh", "label_en", "value", "value_zh", "value_en", "year", "source"]
    hit = table[table["province_en"].astype(str) == str(province)] if len(table) else table
    if hit is None or hit.empty:
        return pd.DataFrame(columns=columns)
    row = hit.iloc[0]

    def cell(column: str) -> str:
        if not column or column not in row.index or pd.isna(row[column]):
            return ""
        value = row[column]
        return f"{value:g}" if isinstance(value, float) else str(value)

    def words(code: str, text: str, lang: int) -> str:
        """Codes of a list cell in words (frameworks, belts, provinces)."""
        parts = [p for p in text.split(";") if p]
        if code in ("frameworks", "belts"):
            parts = [FRAMEWORK_LABELS.get(p, (p, p))[lang] for p in parts]
        elif code == "neighbours":
            parts = [PROVINCES[p][0] if lang == 0 and p in PROVINCES else p for p in parts]
        elif code == "textile" and lang == 0:
            return textile_note_zh(text)
        else:
            return text
        return ("、" if lang == 0 else ", ").join(parts)

    rows = []
    for code, zh, en, value, year, source in PROFILE_FACTS:
        text = cell(value)
        rows.append({"fact": code, "label_zh": zh, "label_en": en, "value": text, "value_zh": words(code, text, 0),
                     "value_en": words(code, text, 1), "year": cell(year) if text else "", "source": cell(source)})
    return pd.DataFrame(rows, columns=columns)


_MONTHS = r"Jan-(\w{3}) (\d{4})"
_MONTH_NO = {m: i + 1 for i, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
                                             "Nov", "Dec"))}
_PRODUCT_ZH = {"Yarn": "纱产量", "Knitted garments": "针织服装产量", "Chemical fibre": "化纤产量",
               "Textile chain gross output (above-scale)": "纺织全产业链规模以上总产值"}
#: The reference's textile-output notes, in Chinese: (pattern, template over the pattern's groups).
_TEXTILE_ZH = [
    (rf"^(?P<what>[\w ()-]+?) {_MONTHS}: (?P<n>[\d,.]+) t of national (?P<all>[\d,.]+) t$",
     "{what} {year}年1–{month}月：{n} 吨（全国 {all} 吨）"),
    (rf"^(?P<what>[\w ()-]+?) {_MONTHS}: (?P<share>[\d.]+)% of national \(rank (?P<rank>\d+)\)$",
     "{what} {year}年1–{month}月：占全国 {share}%（第 {rank} 位）"),
    (rf"^(?P<what>[\w ()-]+?) {_MONTHS}: (?P<bn>[\d.]+) bn pieces, (?P<share>[\d.]+)% of national "
     r"\(rank (?P<rank>\d+)\)$", "{what} {year}年1–{month}月：{yi} 亿件，占全国 {share}%（第 {rank} 位）"),
    (rf"^(?P<what>[\w ()-]+?) {_MONTHS}: (?P<bn>[\d.,]+) bn yuan of national (?P<all>[\d.,]+) bn$",
     "{what} {year}年1–{month}月：{yi} 亿元（全国 {all_yi} 亿元）"),
    (rf"^(?P<what>[\w ()-]+?) {_MONTHS} \(not (?P<not>\d{{4}})\): (?P<kt>[\d.]+) kt, rank (?P<rank>\d+) nationally$",
     "{what} {year}年1–{month}月（非 {not_} 年）：{wan} 万吨，全国第 {rank} 位"),
]


def textile_note_zh(text: str) -> str:
    """A textile-output note of ``provinces.csv`` in Chinese (the reference writes them in English);
    a note in another form is returned as it is."""
    import re

    for pattern, template in _TEXTILE_ZH:
        found = re.match(pattern, text.strip())
        if not found or found["what"] not in _PRODUCT_ZH:
            continue
        g = found.groupdict()

        def yi(billions: str) -> str:  # 1 bn = 10 亿
            return f"{float(billions.replace(',', '')) * 10:,.1f}".removesuffix(".0")

        return template.format(
            what=_PRODUCT_ZH[g["what"]], year=found.group(3), month=_MONTH_NO.get(found.group(2), found.group(2)),
            n=g.get("n"), all=g.get("all"), share=g.get("share"), rank=g.get("rank"), not_=g.get("not"),
            yi=yi(g["bn"]) if g.get("bn") else "", all_yi=yi(g["all"]) if g.get("all") and "bn" in pattern else "",
            wan=f"{float(g['kt']) / 10:g}" if g.get("kt") else "")
    return text


def province_facts(table: pd.DataFrame) -> ProvinceFacts:
    """``ProvinceFacts`` from a provinces table (columns as in ``data/provinces.csv``; may be empty)."""
    names = table["province_en"].astype(str).to_numpy(dtype=object) if len(table) else np.array([], dtype=object)
    n = len(names)

    def number(column: str) -> np.ndarray:
        if column not in table.columns:
            return np.full(n + 1, np.nan)
        values = pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        return np.r_[values, np.nan]

    cotton = number("cotton_output_10k_t")
    if "cotton_source" in table.columns:  # an empty cell of the source table = no or negligible output
        sourced = table["cotton_source"].fillna("").astype(str).str.strip().ne("").to_numpy()
        cotton[:n][np.isnan(cotton[:n]) & sourced] = 0.0
    frameworks = []
    for column_values in zip(*(table[c].fillna("").astype(str) if c in table.columns else [""] * n
                               for c in ("groupings", "belts")), strict=True):
        frameworks.append(frozenset(g for v in column_values for g in v.split(";") if g))
    frameworks.append(frozenset())
    neighbours = np.zeros((n + 1, n + 1), dtype=bool)
    if "neighbours" in table.columns:
        index = {name: i for i, name in enumerate(names)}
        for i, text in enumerate(table["neighbours"].fillna("").astype(str)):
            for other in filter(None, text.split(";")):
                if other in index:
                    neighbours[i, index[other]] = neighbours[index[other], i] = True
    return ProvinceFacts(names, number("min_wage_monthly_cny"), cotton, frameworks, neighbours)


# --- pairing policies ----------------------------------------------------------------------------

#: Pairing levels: a pairing that names the receiver's area, and one between the provinces only.
POLICY_LEVEL = {"area": 1.0, "province": 0.6}
#: Pairings for the named area only, never the whole province: Three Gorges counterpart support is for
#: the reservoir district (Shanghai supports Wanzhou, not every Chongqing district).
AREA_ONLY_POLICIES = ("three_gorges_counterpart_support",)


def policy_pairing(E: Entities, li: np.ndarray, ri: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Provincial pairing policy between the two sides (either orientation).

    1.0 when a pairing names the receiving entity's own area (Zhejiang <-> Aksu under counterpart aid
    to Xinjiang), 0.6 when a province-level row pairs the provinces only (not for
    ``AREA_ONLY_POLICIES``), 0 otherwise. A row that names
    the sender's city too (``area_a``: Ningbo <-> Wanzhou, Three Gorges counterpart support) holds for
    that city's entities and the named area only (the province level for that city's entities when it
    names no area). Returns ``(value, policy_name)``.
    """
    n = len(li)
    value = np.zeros(n, dtype=np.float32)
    name = np.full(n, "", dtype=object)
    policies = E.policies
    if policies is None or policies.empty:
        return value, name
    prov = E.table["province"].astype(str).to_numpy()
    place = (E.table["name_en"].fillna("").astype(str) + " " + E.table["city"].fillna("").astype(str)).to_numpy()
    policies = policies.assign(area_a=policies["area_a"].fillna("").astype(str) if "area_a" in policies
                               else "", area_b=policies["area_b"].fillna("").astype(str))

    def in_place(rows: np.ndarray, area: str) -> np.ndarray:
        return np.char.find(place[rows].astype(str), area) >= 0

    for (a, b), group in policies.groupby(["province_a", "province_b"], sort=True):
        for giver, taker in ((li, ri), (ri, li)):
            hit = (prov[giver] == a) & (prov[taker] == b)
            if not hit.any():
                continue
            idx = np.flatnonzero(hit)
            whole = group[(group["area_a"] == "") & ~group["policy"].isin(AREA_ONLY_POLICIES)]
            level = np.full(len(idx), POLICY_LEVEL["province"] if len(whole) else 0.0, dtype=np.float32)
            policy = np.full(len(idx), whole["policy"].iloc[0] if len(whole) else "", dtype=object)
            for area_a, area_b, row_policy in zip(group["area_a"], group["area_b"], group["policy"], strict=True):
                if not area_a and not area_b:
                    continue
                sender = in_place(giver[idx], area_a) if area_a else np.ones(len(idx), dtype=bool)
                # a city paired with a whole province (no area_b): the province level, for that city only
                named = sender & in_place(taker[idx], area_b) if area_b else sender
                row_level = POLICY_LEVEL["area"] if area_b else POLICY_LEVEL["province"]
                policy = np.where(named & (level < row_level), row_policy, policy)
                level = np.where(named, np.maximum(level, row_level), level)
            better = level > value[idx]
            value[idx[better]] = level[better]
            name[idx[better]] = policy[better]
    return value, name


__all__ = ["AREA_ONLY_POLICIES", "FRAMEWORK_LABELS", "LINKING_FRAMEWORKS", "POLICY_LEVEL", "PROFILE_FACTS",
           "ProvinceFacts", "policy_pairing", "province_facts", "province_profile"]
