"""What an entity's goods are made of, and what a market's goods are for, read from its products text.

Two entities whose texts both name materials, none shared, do not supply each other's inputs
(cashmere yarn does not feed a denim mill), and a market that trades knitted goods only (socks,
sweaters, knitwear) is no channel or source for a cluster that does not knit (Datang's sock yarn is not
Keqiao's weaving yarn). A market that sells one apparel line only (children's wear, women's wear, ...) is
no sales channel for the garments of a cluster that names other lines only (Humen's kidswear market sells
no jeans from Xintang). The pair motives these touch (chain, transfer, channel, sourcing) are scaled by
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
#: Apparel lines, as CNTAC names its garment towns (中国童装名镇, 中国女装名城, 中国男装名城, 中国休闲服装名城 with
#: denim's 中国牛仔服装名镇, 中国职业装名镇). Jeans are casual wear. Underwear is no line of its own: lingerie
#: sells as women's wear (Gurao's at Humen's women's-wear market, item S76). Knitwear is left to
#: ``KNITTED``; leather and down are materials (``MATERIALS``).
APPAREL_LINES = {
    "childrenswear": r"child|\bkids?\b|kids'|kidswear|童装|儿童",
    "womenswear": r"women|ladies|女装",
    "menswear": r"\bmen's|\bmenswear|男装",
    "casual": r"casual|sportswear|denim|\bjeans?\b|休闲|运动服|牛仔",
    "workwear": r"workwear|work wear|occupational|职业装|工装",
}
#: The lines' names, Chinese and English.
LINE_LABELS = {"childrenswear": ("童装", "children's wear"), "womenswear": ("女装", "women's wear"),
               "menswear": ("男装", "men's wear"), "casual": ("休闲装（含牛仔）", "casual wear and denim"),
               "workwear": ("职业装", "workwear")}
#: A market text naming garments in general trades every line, whatever lines it also names; garments of
#: a line ("denim garments", "kids' apparel") and a quoted title ('China No.1 apparel street') are not general.
GENERAL_APPAREL = r"garment|apparel|clothing|服装|成衣"
NOT_GENERAL = (r"(?:denim|jeans?|women's|men's|kids'?|children's|casual|sports|leather|fur)\s+(?:garments?|apparel)"
               r"|(?:^|\s)'[^']+'|[“「『][^”」』]*[”」』]")
#: Casual wear is a style more than a line: men's and women's wear sell beside it (Jiangyin's men's wear at
#: Shishi's casual-wear market, Xintang's jeans at Humen's women's-wear ones); children's wear does not.
_CASUAL_WITH = ("menswear", "womenswear")


def _texts(E: Entities) -> tuple[np.ndarray, pd.Series]:
    text = (E.table["products"].fillna("").astype(str) + " " + E.table["designations"].fillna("").astype(str))
    codes, uniques = pd.factorize(text.str.lower(), sort=False)
    return codes, pd.Series(uniques, dtype=object)


def _named_bits(texts: pd.Series, patterns: dict[str, str]) -> np.ndarray:
    """Per text, bit ``i`` set when it matches the ``i``-th of ``patterns``."""
    bits = np.zeros(len(texts), dtype=np.int64)
    for i, pattern in enumerate(patterns.values()):
        bits |= texts.str.contains(pattern, regex=True).to_numpy(dtype=bool).astype(np.int64) << i
    return bits


def material_bits(E: Entities) -> np.ndarray:
    """Per entity, a bit mask of the material families its products and designations name (0 when
    none is named: unknown, never a mismatch). Cached on ``E``; computed once per distinct text."""
    if "materials" not in E.indexes:
        codes, uniques = _texts(E)
        E.indexes["materials"] = _named_bits(uniques, MATERIALS)[codes]
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


def apparel_lines(E: Entities) -> tuple[np.ndarray, np.ndarray]:
    """Per entity that makes or trades garments (the apparel stage), a bit mask of the ``APPAREL_LINES``
    its products and designations name (0: none named, unknown; 0 too for a weaving town's "casual
    fabrics"), and whether it names garments in general (``GENERAL_APPAREL``). Cached on ``E``."""
    if "apparel_lines" not in E.indexes:
        codes, uniques = _texts(E)
        bits = _named_bits(uniques, APPAREL_LINES)
        general = uniques.str.replace(NOT_GENERAL, " ", regex=True).str.contains(GENERAL_APPAREL, regex=True)
        apparel = list(STAGES).index("apparel")
        market = (E.table["entity_type"].astype(str) == "market").to_numpy()
        garments = np.where(market, E.buys[:, apparel] > 0, E.stages[:, apparel] > 0)
        E.indexes["apparel_lines"] = (np.where(garments, bits[codes], 0), general.to_numpy(dtype=bool)[codes])
    return E.indexes["apparel_lines"]


def _line_bit(name: str) -> int:
    return 1 << list(APPAREL_LINES).index(name)


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


def knit_mismatch(E: Entities, cluster: np.ndarray, market: np.ndarray) -> np.ndarray:
    """True where the market trades knitted goods only and the cluster does not knit: such a market
    neither sells the cluster's goods nor supplies its inputs."""
    return knitted_only(E)[market] & (E.stages[cluster, _KNITTING] <= 0)


def end_use_factor(E: Entities, cluster: np.ndarray, market: np.ndarray, params: dict) -> np.ndarray:
    """``params["material_mismatch"]`` where ``knit_mismatch``, else 1."""
    return _scaled(lambda: knit_mismatch(E, cluster, market), len(cluster), params)


def line_factor(E: Entities, cluster: np.ndarray, market: np.ndarray, params: dict) -> np.ndarray:
    """``params["material_mismatch"]`` where the market sells named apparel lines only (no garments in
    general), the cluster names lines too, and they share none (casual wear goes with men's and women's
    wear); else 1. It scales the market as a channel for the cluster's garments only: Zhili's kidswear
    market still sells cloth. 1 where the market is for knitters only: ``end_use_factor`` has already
    scaled that pair."""
    def apart() -> np.ndarray:
        lines, general = apparel_lines(E)
        a, b = lines[cluster], lines[market]
        casual, beside = _line_bit("casual"), sum(_line_bit(n) for n in _CASUAL_WITH)
        wide_a = np.where(a & casual, a | beside, a) | np.where(a & beside, casual, 0)
        return (a > 0) & (b > 0) & ((wide_a & b) == 0) & ~general[market] & ~knitted_only(E)[market]
    return _scaled(apart, len(cluster), params)


__all__ = ["APPAREL_LINES", "GENERAL_APPAREL", "KNITTED", "LINE_LABELS", "MATERIALS", "NOT_GENERAL", "NOT_ONLY_KNITTED",
           "apparel_lines", "end_use_factor", "knit_mismatch", "knitted_only", "line_factor", "material_bits", "material_factor"]
