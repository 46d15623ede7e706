"""Province facts behind the transfer motives, as arrays the features index by province code.

Built once per prepared ``Entities`` from ``Dataset.provinces`` (``data/provinces.csv``): the
highest-tier monthly minimum wage (the labour-cost gradient), cotton output (the raw-material base
of spinning receivers), the regional cooperation frameworks and river economic belts a province
belongs to, and its neighbours. A province the table does not list, or a fact it leaves empty, is
unknown (NaN), never zero, except cotton output: the source table leaves a province's cell empty
when it grows no or negligible cotton, so an empty cotton cell with a source is 0.

>>> from matcher.ingest.dataset import load_dataset
>>> P = province_facts(load_dataset().provinces)
>>> P.shared(P.code(["Guangdong"]), P.code(["Guangxi"]))[0]
'pan_prd;pearl_xijiang'
>>> bool(P.neighbours[P.code(["Zhejiang"])[0], P.code(["Jiangxi"])[0]])
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Frameworks that join a sending and a receiving province (``central_rise`` and ``western_dev``
#: group receivers only, so sharing them says nothing about a docking between east and west).
LINKING_FRAMEWORKS = ("pan_prd", "yrd", "bohai", "northeast", "yangtze_belt", "pearl_xijiang")
FRAMEWORK_LABELS = {
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
        lookup = {name: i for i, name in enumerate(self.names)}
        return np.array([lookup.get(str(p), len(self.names)) for p in provinces], dtype=np.int32)

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


__all__ = ["FRAMEWORK_LABELS", "LINKING_FRAMEWORKS", "ProvinceFacts", "province_facts"]
