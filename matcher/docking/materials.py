"""What an entity's goods are made of, and what a market's goods are for, read from its products text.

Two entities whose texts both name materials, none shared, do not supply each other's inputs
(cashmere yarn does not feed a denim mill), and a market that trades knitted goods only (socks,
sweaters, knitwear) is no channel or source for a cluster that does not knit (Datang's sock yarn is not
Keqiao's weaving yarn). The pair motives these touch (chain, transfer, channel, sourcing) are scaled by
the kind's ``material_mismatch`` parameter (1 = no effect; the enterprise kind leaves it at 1).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from matcher.vocab import STAGES

if TYPE_CHECKING:
    from matcher.docking.entities import Entities

#: Material families named in product texts (English and Chinese).
MATERIALS = {
    # cotton and man-made fibres are one family: most spinners, weavers and knitters use both
    "cotton_synthetic": r"cotton|denim|jeans?\b|towel|棉|牛仔|毛巾|chemical|polyester|nylon|synthetic|filament|"
                        r"viscose|spandex|化纤|涤纶|锦纶|氨纶",
    "wool": r"wool|cashmere|worsted|sweater|knitwear \(sweaters\)|羊毛|羊绒|毛衫|毛纺",
    "silk": r"silk|丝绸|真丝|蚕",
    "leather": r"leather|fur\b|皮革|裘皮|毛皮",
    "down": r"\bdown\b|羽绒",
    "bast": r"ramie|linen|flax|bamboo|hemp|苎麻|亚麻|竹",
}
#: A market whose products name knitted goods and nothing woven or general (fabrics, cloth, garments,
#: bedding) trades for knitters only: Datang Sock City (sock yarn), Puyuan (wool sweaters and yarn), Dalang.
KNITTED = r"sock|hosiery|sweater|knitwear|袜|毛衫|针织"
NOT_ONLY_KNITTED = r"fabric|cloth|weav|bedding|garment|apparel|面料|布|服装|家纺"
_KNITTING = list(STAGES).index("knitting")


def _texts(E: Entities) -> tuple[np.ndarray, pd.Series]:
    text = (E.table["products"].fillna("").astype(str) + " " + E.table["designations"].fillna("").astype(str))
    codes, uniques = pd.factorize(text.str.lower(), sort=False)
    return codes, pd.Series(uniques, dtype=object)


def material_bits(E: Entities) -> np.ndarray:
    """Per entity, a bit mask of the material families its products and designations name (0 when
    none is named: unknown, never a mismatch). Cached on ``E``; computed once per distinct text."""
    if "materials" not in E.indexes:
        codes, uniques = _texts(E)
        bits = np.zeros(len(uniques), dtype=np.int64)
        for i, pattern in enumerate(MATERIALS.values()):
            bits |= uniques.str.contains(pattern, regex=True).to_numpy(dtype=bool).astype(np.int64) << i
        E.indexes["materials"] = bits[codes]
    return E.indexes["materials"]


def knitted_only(E: Entities) -> np.ndarray:
    """Per entity, True for a market that trades knitted goods only (``KNITTED``, none of
    ``NOT_ONLY_KNITTED``). Cached on ``E``."""
    if "knitted_only" not in E.indexes:
        codes, uniques = _texts(E)
        only = (uniques.str.contains(KNITTED, regex=True) & ~uniques.str.contains(NOT_ONLY_KNITTED, regex=True))
        market = (E.table["entity_type"].astype(str) == "market").to_numpy()
        E.indexes["knitted_only"] = only.to_numpy(dtype=bool)[codes] & market
    return E.indexes["knitted_only"]


def _scaled(apart: Callable[[], np.ndarray], n: int, params: dict) -> np.ndarray:
    """``params["material_mismatch"]`` where ``apart()`` holds, else 1 (all 1, unread, when it is 1)."""
    mismatch = float(params.get("material_mismatch", 1.0))
    if mismatch == 1.0:
        return np.ones(n, dtype=np.float32)
    return np.where(apart(), mismatch, 1.0).astype(np.float32)


def material_factor(E: Entities, li: np.ndarray, ri: np.ndarray, params: dict) -> np.ndarray:
    """``params["material_mismatch"]`` where both name materials and share none, else 1."""
    def apart() -> np.ndarray:
        a, b = material_bits(E)[li], material_bits(E)[ri]
        return (a > 0) & (b > 0) & ((a & b) == 0)
    return _scaled(apart, len(li), params)


def end_use_factor(E: Entities, cluster: np.ndarray, market: np.ndarray, params: dict) -> np.ndarray:
    """``params["material_mismatch"]`` where the market trades knitted goods only and the cluster does
    not knit, else 1: such a market neither sells the cluster's goods nor supplies its inputs."""
    return _scaled(lambda: knitted_only(E)[market] & (E.stages[cluster, _KNITTING] <= 0), len(cluster), params)


__all__ = ["KNITTED", "MATERIALS", "NOT_ONLY_KNITTED", "end_use_factor", "knitted_only", "material_bits",
           "material_factor"]
