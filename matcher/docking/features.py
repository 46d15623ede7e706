"""Pair features: vectorised numbers in 0..1 that say why two entities should dock.

Every feature is one ``Feature`` in ``FEATURES``: its Chinese and English label and one function
``compute(E, pairs, params) -> {column: array}`` over the candidate pairs (row positions ``pairs.left``
and ``pairs.right`` in the kind's canonical orientation, distances ``pairs.km``). A feature built on
another one names it in ``needs`` and gets the columns already computed as a fourth argument. The dict holds
the feature's value (NaN where an attribute is unknown: it contributes nothing and is named as
unknown) and the detail columns its explanation reads (``lr_``/``rl_`` directions, ``d_`` details).
A kind lists the features it uses (``matcher.docking.kinds``); adding a feature is one entry here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import sparse

from matcher.docking import evidence, materials
from matcher.docking.chain import MAKING_STAGES
from matcher.docking.geo import FLOOR_KM, distance_decay, distance_km, nearest_sender_km
from matcher.docking.materials import MATERIALS, end_use_factor, line_factor, material_bits, material_factor
from matcher.docking.provinces import policy_pairing
from matcher.vocab import FLAGS, STAGES

if TYPE_CHECKING:
    from matcher.docking.candidates import CandidatePairs
    from matcher.docking.entities import ChainProfiles, Entities

MAKING_MASK = np.array([s in MAKING_STAGES for s in STAGES], dtype=np.float32)
STAGE_NAMES = list(STAGES)
_APPAREL = STAGE_NAMES.index("apparel")
#: How finished a stage's goods are (a channel names the most finished stage a market trades).
FINISHED = np.array([0.0 if s in ("accessories", "machinery") else i + 1.0 for i, s in enumerate(STAGES)])
PRODUCT_SATURATION = 0.4


# --- building blocks ---------------------------------------------------------------------------

def supply(E: Entities | ChainProfiles, li: np.ndarray, ri: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """How much of the right entity's input needs the left entity's output covers.

    coverage = sum over stages s of works_in(left, s) x need(right, s) / sum of need(right, .):
    1 when the left side makes every input the right side needs, 0 when it makes none.
    Returns ``(coverage, from_stage, to_stage)``: the left entity's strongest supplying stage and
    the right entity's stage it feeds (indices into STAGES, -1 when coverage is 0). ``E`` is any
    object with ``stages``, ``buys``, ``need`` and ``strength`` arrays.
    """
    rows = np.arange(len(li))
    need = E.need[ri]
    prod = E.stages[li] * need
    total = need.sum(axis=1)
    value = np.divide(prod.sum(axis=1), total, out=np.zeros(len(li), np.float32), where=total > 0)
    best_from = prod.argmax(axis=1)
    feeds = E.stages[ri] * E.strength[best_from]
    declared = E.buys[ri][rows, best_from] > 0
    best_to = np.where(declared & (feeds.max(axis=1) == 0), best_from, feeds.argmax(axis=1))
    none = value <= 0
    return value.astype(np.float32), np.where(none, -1, best_from), np.where(none, -1, best_to)


def chain_values(E: Entities, li: np.ndarray, ri: np.ndarray) -> tuple:
    """``supply`` both ways, computed once per distinct pair of chain profiles:
    ``(lr, lr_from, lr_to, rl, rl_from, rl_to)``."""
    pl, pr = E.profile[li].astype(np.int64), E.profile[ri].astype(np.int64)
    n = len(E.profiles.stages)
    inverse, keys = pd.factorize(pl * n + pr, sort=False)  # hashing: no sort of every pair
    a, b = keys // n, keys % n
    lr = supply(E.profiles, a, b)
    rl = supply(E.profiles, b, a)
    return tuple(v[inverse] for v in (*lr, *rl))


def rowwise_cosine(texts: sparse.csr_matrix, a: np.ndarray, b: np.ndarray, chunk: int = 200_000) -> np.ndarray:
    """Cosine of rows ``a[i]`` and ``b[i]`` of L2-normalised rows (float32, chunked)."""
    out = np.empty(len(a), dtype=np.float32)
    for start in range(0, len(a), chunk):
        part = slice(start, start + chunk)
        out[part] = np.asarray(texts[a[part]].multiply(texts[b[part]]).sum(axis=1)).ravel()
    return out


def product_cosine(E: Entities, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """Cosine of product texts, once per distinct pair of texts; NaN where a text is empty.

    Raw cosines of short texts are small (two denim clusters score ~0.3), so the ``product``
    feature is ``saturate(cosine)``, on the same 0..1 footing as the others.
    """
    tl, tr = E.text_id[li].astype(np.int64), E.text_id[ri].astype(np.int64)
    n_texts = E.texts.shape[0]
    inverse, keys = pd.factorize(tl * n_texts + tr, sort=False)
    a_rows, b_rows = keys // n_texts, keys % n_texts
    cos = rowwise_cosine(E.texts, a_rows, b_rows)
    empty = E.texts.getnnz(axis=1) == 0
    cos[empty[a_rows] | empty[b_rows]] = np.nan
    return cos[inverse]


def saturate(values: np.ndarray, at: float = PRODUCT_SATURATION) -> np.ndarray:
    """min(1, value / at); NaN stays NaN."""
    return np.minimum(np.asarray(values, dtype=np.float32) / np.float32(at), np.float32(1.0))


def capacity_transfer(E: Entities, source: np.ndarray, receiver: np.ndarray) -> np.ndarray:
    """Share of the source's making stages the receiver already works in (activity that can move)."""
    src = E.stages[source] * MAKING_MASK
    both = src * E.stages[receiver]
    total = src.sum(axis=1)
    return np.divide(both.sum(axis=1), total, out=np.zeros(len(source), np.float32), where=total > 0)


def shared_stages(E: Entities, li: np.ndarray, ri: np.ndarray) -> np.ndarray:
    """Jaccard overlap of making stages (how alike two entities' activities are)."""
    a = E.stages[li] * MAKING_MASK
    b = E.stages[ri] * MAKING_MASK
    inter = (a * b).sum(axis=1)
    union = np.maximum(a, b).sum(axis=1)
    return np.divide(inter, union, out=np.zeros(len(li), np.float32), where=union > 0)


#: A market this near a cluster, in its province, is the cluster's own (home) market; up to
#: ``HOME_KM_SAME_PLACE`` when the market's place names the cluster's county or town.
HOME_KM = 10.0
HOME_KM_SAME_PLACE = 15.0


def home_market(E: Entities, cluster: np.ndarray, market: np.ndarray, km: np.ndarray) -> np.ndarray:
    """True where the market is the cluster's own market: same province and a few km away (the
    same town or county), not merely the same prefecture city. Coordinates are approximate."""
    province = E.table["province"].astype(str).to_numpy()
    city = E.table["city"].fillna("").astype(str).str.lower()
    county = city.str.extract(r"^([a-z'\-]+)", expand=False).fillna("").to_numpy(dtype=object)
    city = city.to_numpy(dtype=object)
    km = np.nan_to_num(np.asarray(km, dtype=np.float64), nan=np.inf)
    same_place = np.array([bool(c) and c in m for c, m in zip(county[cluster], city[market], strict=True)], dtype=bool)
    return (province[cluster] == province[market]) & ((km <= HOME_KM) | ((km <= HOME_KM_SAME_PLACE) & same_place))


def home_markets(E: Entities) -> np.ndarray:
    """Per entity, the row positions of its home markets (an object array of int arrays; empty for
    markets and for entities with none). Cached on ``E``."""
    if "home_markets" not in E.indexes:
        types = E.table["entity_type"].astype(str).to_numpy()
        clusters, markets = np.flatnonzero(types == "cluster"), np.flatnonzero(types == "market")
        out = np.empty(len(E), dtype=object)
        out[:] = [np.zeros(0, np.int64)] * len(E)
        if len(clusters) and len(markets):
            ci, mi = np.repeat(clusters, len(markets)), np.tile(markets, len(clusters))
            home = home_market(E, ci, mi, distance_km(E, ci, mi))
            for c in np.unique(ci[home]):
                out[c] = mi[home & (ci == c)]
        E.indexes["home_markets"] = out
    return E.indexes["home_markets"]


def peer_gain(E: Entities, learner: np.ndarray, teacher: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Share of the capability flags the teacher has (true) and the learner does not.

    Transfer-park experience counts only for learners in central and western regions.
    Returns ``(value, flags_text)`` with the flags named ``;``-joined.
    """
    names = list(FLAGS)
    has = np.stack([np.nan_to_num(E.flags[f][teacher], nan=0.0) for f in names], axis=1) > 0
    lacks = np.stack([np.nan_to_num(E.flags[f][learner], nan=0.0) for f in names], axis=1) <= 0
    # transfer-park experience is for receiving regions: an eastern cluster sends, it does not receive
    receiving = E.table["region"].astype(str).to_numpy()[learner] != "east"
    lacks[:, names.index("transfer_park")] &= receiving
    gain = has & lacks
    text = np.array([";".join(n for n, g in zip(names, row, strict=True) if g) for row in gain], dtype=object)
    return (gain.sum(axis=1) / len(names)).astype(np.float32), text


def market_channel(E: Entities, cluster: np.ndarray, market: np.ndarray,
                   garments: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Share of the cluster's making stages whose goods the market trades; the stage named: the most
    finished one traded (``FINISHED``: a denim town sells fabric, not yarn, in a yarn-and-fabric market).
    ``garments`` (per pair) scales the apparel stage's share: a market for other apparel lines."""
    made = E.stages[cluster] * MAKING_MASK
    traded = made * E.buys[market]
    if garments is not None:
        traded[:, _APPAREL] *= garments
    total = made.sum(axis=1)
    value = np.divide(traded.sum(axis=1), total, out=np.zeros(len(cluster), np.float32), where=total > 0)
    return value, np.where(value > 0, (traded * (1 + FINISHED)).argmax(axis=1), -1)


def home_supply(E: Entities) -> np.ndarray:
    """Per entity, the stages whose goods its home markets trade (entities x stages, 0/1; all 0 for an
    entity without a home market). Cached on ``E``."""
    if "home_supply" not in E.indexes:
        out = np.zeros_like(E.buys)
        for c, homes in enumerate(home_markets(E)):
            if len(homes):
                out[c] = E.buys[homes].max(axis=0)
        E.indexes["home_supply"] = out
    return E.indexes["home_supply"]


def market_sourcing(E: Entities, cluster: np.ndarray, market: np.ndarray,
                    home_supplied: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The market as a source of the cluster's inputs: the need of its best-supplied input stage
    against the strongest input any of the cluster's stages has in the IO table (a declared purchase
    counts 1), so a fabric market is the whole main source of a garment cluster (weaving -> apparel is
    a weaker IO link than spinning -> weaving, but it is the garment cluster's main one), while an
    input the cluster partly makes itself still counts half; best stage. An input the cluster's own
    home market already trades counts ``home_supplied`` (Keqiao buys its yarn at Qianqing, next door,
    not in Shenyang)."""
    prod = E.buys[market] * E.need[cluster]
    if home_supplied != 1.0:
        prod = prod * np.where(home_supply(E)[cluster] > 0, np.float32(home_supplied), np.float32(1.0))
    stage = prod.argmax(axis=1)
    strongest = np.maximum((E.stages[cluster] * E.strength.max(axis=0)[None, :]).max(axis=1),
                           E.buys[cluster].max(axis=1))
    value = np.divide(prod[np.arange(len(cluster)), stage], strongest, out=np.zeros(len(cluster), np.float32),
                      where=strongest > 0)
    value = np.minimum(value, 1.0).astype(np.float32)
    return value, np.where(value > 0, stage, -1)


# --- the features --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Feature:
    """One feature: labels for people and the function that computes it (with its detail columns)."""

    name: str
    label_zh: str
    label_en: str
    compute: Callable[..., dict]
    #: Features whose columns this one reads (computed first, passed as ``compute``'s fourth argument).
    needs: tuple[str, ...] = ()

    def label(self, lang: str) -> str:
        return self.label_zh if lang == "zh" else self.label_en


#: Two directions of a chain motive closer than this, or both covering at least CHAIN_BOTH of the
#: buyer's needs, are a tie: the stronger input-output link is named.
CHAIN_TIE = 0.1
CHAIN_BOTH = 0.5


def chain_direction(E: Entities | ChainProfiles, lr: np.ndarray, rl: np.ndarray, lr_from: np.ndarray,
                    lr_to: np.ndarray, rl_from: np.ndarray, rl_to: np.ndarray) -> np.ndarray:
    """True where the right entity feeds the left one (the flow a reason names): the direction that
    covers more of the buyer's input needs, or, when both cover about as much (``CHAIN_TIE``) or both
    cover much of them (``CHAIN_BOTH``), the one whose named link is the stronger input-output flow (Fengxin's yarn feeding Keqiao's
    weaving, not Keqiao's greige feeding Fengxin's yarn dyeing)."""
    def link(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        ok = (a >= 0) & (b >= 0)
        return np.where(ok, E.strength[np.maximum(a, 0), np.maximum(b, 0)], -1.0)

    lr, rl = np.asarray(lr, np.float64), np.asarray(rl, np.float64)
    tie = (np.abs(lr - rl) <= CHAIN_TIE) | (np.minimum(lr, rl) >= CHAIN_BOTH)
    return np.where(tie, link(rl_from, rl_to) > link(lr_from, lr_to), rl > lr)


def _chain(E, pairs, params) -> dict:
    lr, lr_from, lr_to, rl, rl_from, rl_to = chain_values(E, pairs.left, pairs.right)
    fit = material_factor(E, pairs.left, pairs.right, params)
    lr, rl = lr * fit, rl * fit
    return {"chain": np.maximum(lr, rl).astype(np.float32), "lr_chain": lr, "rl_chain": rl,
            "lr_from": lr_from, "lr_to": lr_to, "rl_from": rl_from, "rl_to": rl_to,
            "d_chain_rl": chain_direction(E, lr, rl, lr_from, lr_to, rl_from, rl_to)}


def _transfer(E, pairs, params) -> dict:
    both = (E.stages[pairs.left] * E.stages[pairs.right] * MAKING_MASK) > 0
    names = np.array(STAGE_NAMES, dtype=object)
    shared = np.array([";".join(names[row]) for row in both], dtype=object)
    value = capacity_transfer(E, pairs.left, pairs.right) * material_factor(E, pairs.left, pairs.right, params)
    return {"transfer": value.astype(np.float32), "d_shared": shared}


#: Material families a cluster specialises in (every family but the common cotton and man-made fibres),
#: with their labels: a shared one is a base the same industry moves along (cashmere from Qinghe to
#: Ordos and Ningxia, silk westwards, fur and leather to leather towns).
SPECIALTIES = {"wool": ("羊毛羊绒", "wool and cashmere"), "silk": ("丝绸", "silk"),
               "leather": ("皮革毛皮", "leather and fur"), "down": ("羽绒", "down"), "bast": ("麻类", "bast fibres")}


def _specialty(E, pairs, params) -> dict:
    """1 when both sides name the same specialty material (``SPECIALTIES``) or the same apparel line
    (``materials.APPAREL_LINES``: Zhili's children's wear moves to the kidswear parks of Anhui), else 0;
    the detail names them (materials first)."""
    bits = material_bits(E)
    shared = bits[pairs.left] & bits[pairs.right]
    families = list(MATERIALS)
    mask = sum(1 << families.index(f) for f in SPECIALTIES)
    lines = materials.apparel_lines(E)[0]
    same_line = lines[pairs.left] & lines[pairs.right]
    value = (((shared & mask) > 0) | (same_line > 0)).astype(np.float32)
    names = np.array([";".join(f for f in SPECIALTIES if b & (1 << families.index(f))) for b in range(mask + 1)],
                     dtype=object)
    line_names = np.array([";".join(n for k, n in enumerate(materials.APPAREL_LINES) if b >> k & 1)
                           for b in range(1 << len(materials.APPAREL_LINES))], dtype=object)
    named = np.char.strip(np.char.add(np.char.add(names[shared & mask].astype(str), ";"),
                                      line_names[same_line].astype(str)), ";")
    return {"specialty": value, "d_specialty": named.astype(object)}


def _product(E, pairs, params) -> dict:
    return {"product": saturate(product_cosine(E, pairs.left, pairs.right))}


def _policy(E, pairs, params) -> dict:
    value, name = policy_pairing(E, pairs.left, pairs.right)
    return {"policy": value, "d_policy": name}


def _transfer_park(E, pairs, params) -> dict:
    return {"transfer_park": E.flags["transfer_park"][pairs.right]}


def _distance(E, pairs, params) -> dict:
    km = np.asarray(pairs.km, dtype=np.float32)
    return {"distance": distance_decay(km, params["distance_scale_km"]), "d_km": km}


def _nearby(E, pairs, params) -> dict:
    """How near the sender is among the receiver's possible senders: the receiver's nearest eastern
    cluster's distance over this sender's (both at least ``geo.FLOOR_KM``), 1 for the nearest.
    Scale-free: Xinjiang's receivers, far from every sender, do not lose to Jiangxi's; within a
    receiver's list the nearer senders lead (Fujian's and Guangdong's for Ganzhou). Unknown without
    coordinates."""
    km = np.asarray(pairs.km, dtype=np.float64)
    nearest = nearest_sender_km(E, pairs.right)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = np.maximum(nearest, FLOOR_KM) / np.maximum(km, FLOOR_KM)
    return {"nearby": np.clip(value, 0.0, 1.0).astype(np.float32), "d_nearest_km": nearest.astype(np.float32)}


#: ``d_trade`` bits: the market sells the cluster's goods (1), supplies its inputs (2).
TRADE_SELLS, TRADE_SUPPLIES = 1, 2


def _trade(E, pairs, params) -> dict:
    """The market as the cluster's sales channel (the share of its making stages whose goods the
    market trades) or as the source of its inputs (how much of its input needs the market trades),
    whichever is stronger: one trading link, not counted twice (a fabric market is where a weaving
    cluster sells and a garment cluster buys). Both sides scaled down when materials do not match."""
    # goods of other materials, or a market for knitters only and a cluster that does not knit: no trade;
    # a market for other apparel lines: no channel for the cluster's garments
    factor = material_factor(E, pairs.left, pairs.right, params) * end_use_factor(E, pairs.left, pairs.right, params)
    channel, channel_stage = market_channel(E, pairs.left, pairs.right, line_factor(E, pairs.left, pairs.right, params))
    sourcing, sourcing_stage = market_sourcing(E, pairs.left, pairs.right, float(params.get("home_supplied", 1.0)))
    channel = (channel * factor).astype(np.float32)
    sourcing = (sourcing * factor).astype(np.float32)
    roles = E.table["roles"].fillna("").astype(str).to_numpy()[pairs.right]
    ways = np.where(channel > 0, TRADE_SELLS, 0) | np.where(sourcing > 0, TRADE_SUPPLIES, 0)
    return {"trade": np.maximum(channel, sourcing), "lr_channel": channel, "rl_sourcing": sourcing,
            "d_channel_stage": channel_stage, "d_sourcing_stage": sourcing_stage, "d_roles": roles,
            "d_trade": ways.astype(np.int8)}


def _labour(E, pairs, params) -> dict:
    """Labour-cost gradient from the sender (left) to the receiver (right): the share by which the
    receiver's minimum wage is below the sender's, full at ``wage_gap_full``; unknown when a wage is."""
    P = E.provinces
    ws, wr = P.min_wage[E.province[pairs.left]], P.min_wage[E.province[pairs.right]]
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = (ws - wr) / ws
    value = np.clip(gap / params.get("wage_gap_full", 0.25), 0.0, 1.0).astype(np.float32)
    return {"labour": value, "d_wage_left": ws.astype(np.float32), "d_wage_right": wr.astype(np.float32)}


#: Stages whose receivers need a raw-material base, and the sender stages that make or use yarn.
_SPINNING = np.array([s in ("fiber", "spinning") for s in STAGES], dtype=np.float32)
_YARN = np.array([s in ("spinning", "weaving", "knitting", "home_textile") for s in STAGES], dtype=np.float32)


def uses_cotton(E: Entities, rows: np.ndarray) -> np.ndarray:
    """True where an entity's texts name cotton or man-made fibres, or name no material (unknown is
    never a mismatch): a cotton base is no raw material for a cashmere, silk or leather cluster."""
    bits = material_bits(E)[rows]
    return (bits == 0) | ((bits & (1 << list(MATERIALS).index("cotton_synthetic"))) > 0)


def _raw_material(E, pairs, params) -> dict:
    """Cotton output of a spinning receiver's province (10k t, full at ``cotton_full``) when the
    sender spins or uses yarn and both sides work cotton (or name no material); 0 when either side has
    no use for it; unknown when output is."""
    cotton = E.provinces.cotton[E.province[pairs.right]]
    applies = ((E.stages[pairs.right] @ _SPINNING) > 0) & ((E.stages[pairs.left] @ _YARN) > 0)
    applies &= uses_cotton(E, pairs.left) & uses_cotton(E, pairs.right)
    base = np.clip(cotton / params.get("cotton_full", 100.0), 0.0, 1.0)
    value = np.where(applies, base, 0.0).astype(np.float32)
    return {"raw_material": value, "d_cotton": np.where(applies, cotton, np.nan).astype(np.float32)}


def _framework(E, pairs, params) -> dict:
    """1 when both provinces belong to one regional cooperation framework or river economic belt,
    ``neighbour_value`` when they border each other, else 0; unknown when a province is not listed."""
    P = E.provinces
    a, b = E.province[pairs.left], E.province[pairs.right]
    shared = P.shared(a, b)
    listed = (a < len(P.names)) & (b < len(P.names))
    value = np.where(shared != "", 1.0, np.where(P.neighbours[a, b], params.get("neighbour_value", 0.5), 0.0))
    value = np.where(listed, value, np.nan).astype(np.float32)
    return {"framework": value, "d_framework": shared, "d_neighbours": P.neighbours[a, b] & listed}


def national_market(E: Entities, market: np.ndarray) -> np.ndarray:
    """1 for a market whose registered name carries "China" (中国), which needs national approval in
    China and marks a market that trades nationwide (the first was China Textile City, 1992); else 0."""
    names = E.table["name_zh"].fillna("").astype(str).str.contains("中国", regex=False).to_numpy()
    return names[market].astype(np.float32)


def branch_networks(E: Entities) -> tuple[np.ndarray, np.ndarray]:
    """Per market, the Chinese and the English names of its bundled branch markets elsewhere
    (``;``-joined; "" for none): a
    market whose Chinese name, without "中国", is part of another market's name in another city
    (海宁中国皮革城 -> 佟二堡海宁皮革城, 成都海宁皮革城). Cached on ``E``."""
    if "branches" not in E.indexes:
        names = E.table["name_zh"].fillna("").astype(str).to_numpy(dtype=object)
        english = E.table["name_en"].fillna("").astype(str).to_numpy(dtype=object)
        cities = E.table["city"].fillna("").astype(str).to_numpy(dtype=object)
        markets = np.flatnonzero(E.table["entity_type"].astype(str).to_numpy() == "market")
        zh, en = np.full(len(E), "", dtype=object), np.full(len(E), "", dtype=object)
        for b in markets:
            core = re.sub(r"[\W_]+|中国", "", names[b])
            if len(core) < 4:
                continue  # "轻纺城" alone names many unrelated markets
            found = [a for a in markets if a != b and core in re.sub(r"[\W_]+", "", names[a])
                     and cities[a] != cities[b]]
            zh[b], en[b] = ";".join(names[found]), ";".join(english[found])
        E.indexes["branches"] = (zh, en)
    return E.indexes["branches"]


#: The branch motive for a cluster without its own trading: a branch market needs a wholesale town.
BRANCH_WITHOUT_TRADING = 0.5


def _branch(E, pairs, params, done) -> dict:
    """A market with branch markets elsewhere and a cluster in another province whose goods it trades:
    where such a market opens its next branch (Haining China Leather City's chain markets in
    Tong'erbao, Wuhan and Quliang). The value is the market's channel for the cluster (materials
    checked), in full where the cluster trades itself (a wholesale town where a branch can sit) and
    ``BRANCH_WITHOUT_TRADING`` of it elsewhere."""
    zh, en = (names[pairs.right] for names in branch_networks(E))
    province = E.table["province"].astype(str).to_numpy()
    trading = E.stages[pairs.left, STAGE_NAMES.index("trading")] > 0
    channel = done["lr_channel"] * np.where(trading, 1.0, BRANCH_WITHOUT_TRADING)
    value = np.where((zh != "") & (province[pairs.left] != province[pairs.right]), channel, 0.0)
    return {"branch": value.astype(np.float32), "d_branches_zh": np.where(value > 0, zh, ""),
            "d_branches_en": np.where(value > 0, en, "")}


def _reach(E, pairs, params, done) -> dict:
    """A national market for a cluster in another province: a cross-region channel (a market's own
    province's clusters already trade through it; docking reaches further)."""
    province = E.table["province"].astype(str).to_numpy()
    across = province[pairs.left] != province[pairs.right]
    return {"reach": (national_market(E, pairs.right) * across * done["trade"]).astype(np.float32)}


#: Production bases sit within a day's trucking of their market: the base motive decays at this scale
#: (km) unless the kind's parameters say otherwise.
BASE_SCALE_KM = 150.0


def _base(E, pairs, params, done) -> dict:
    """The market's production base: a cluster near the market whose goods the market sells, the
    "market plus production base" model of China's wholesale markets (Wuhan's Hanzhengjie and the
    garment towns of Hanchuan and Tianmen; China Textile City and Xinchang's greige weavers). The
    cluster's sales channel in the market, decaying with distance at ``base_scale_km``; unknown
    without coordinates. A cluster's own home market is no candidate at all."""
    km = np.asarray(pairs.km, dtype=np.float32)
    scale = float(params.get("base_scale_km", BASE_SCALE_KM))
    return {"base": (done["lr_channel"] * distance_decay(km, scale)).astype(np.float32)}


def _traders(E, pairs, params) -> dict:
    """The sender has its own wholesale market and the receiver is a trading hub: market operators
    and traders move with the cluster and open branch markets (Haining's fur market in Quliang)."""
    has_market = np.array([len(m) > 0 for m in home_markets(E)], dtype=bool)
    trading = E.stages[:, STAGE_NAMES.index("trading")] > 0
    value = (has_market[pairs.left] & trading[pairs.right]).astype(np.float32)
    return {"traders": value}


def _experience(E, pairs, params) -> dict:
    rows = evidence.documented_rows(E)  # filtered once, for the counts and the pair's own items
    counts = evidence.experience_counts(E, rows=rows)
    return {"experience": evidence.experience_value(counts, pairs.left, pairs.right),
            "d_experience_left": counts[pairs.left], "d_experience_right": counts[pairs.right],
            "d_documented": evidence.pair_items(E, pairs.left, pairs.right, rows)}


def _corridor(E, pairs, params) -> dict:
    """The docking corridor: documented dockings between the two sides' provinces (both the pairs and
    the dockings a page names only by province or city), as ``experience`` counts an entity's own:
    transfer runs along corridors (Zhejiang to Xinjiang under counterpart aid, Guangdong to Guangxi,
    Fujian to Jiangxi), and a pair on a documented corridor has the channels, chambers and policies
    that carried the others."""
    counts = evidence.corridor_counts(E)
    value = evidence.corridor_value(E, counts, pairs.left, pairs.right)
    return {"corridor": value, "d_corridor": counts[E.province[pairs.left], E.province[pairs.right]]}


def _capacity(E, pairs, params) -> dict:
    a, b = E.capacity[pairs.left], E.capacity[pairs.right]
    hi = np.fmax(a, b)
    with np.errstate(invalid="ignore", divide="ignore"):
        fit = np.where(hi > 0, np.fmin(a, b) / hi, np.nan)
    return {"capacity": fit.astype(np.float32)}


def _same_cluster(E, pairs, params) -> dict:
    cl, cr = E.cluster[pairs.left], E.cluster[pairs.right]
    same = np.where((cl >= 0) & (cr >= 0), (cl == cr).astype(np.float32), np.float32(np.nan))
    return {"same_cluster": same.astype(np.float32)}


def _peer(E, pairs, params) -> dict:
    gain, text = peer_gain(E, pairs.left, pairs.right)
    return {"peer": gain, "d_peer_flags": text}


def _similar(E, pairs, params) -> dict:
    return {"similar": shared_stages(E, pairs.left, pairs.right)}


FEATURES: dict[str, Feature] = {f.name: f for f in (
    Feature("chain", "产业链互补", "chain complementarity", _chain),
    Feature("transfer", "产能转移", "capacity transfer", _transfer),
    Feature("specialty", "同类专长（原料或品类）", "same specialty", _specialty),
    Feature("product", "产品相近", "similar products", _product),
    Feature("policy", "省际结对政策", "provincial pairing policy", _policy),
    Feature("transfer_park", "转移试点园区", "transfer pilot park", _transfer_park),
    Feature("distance", "距离", "distance", _distance),
    Feature("nearby", "就近转移", "nearby transfer", _nearby),
    Feature("trade", "市场购销", "market trade link", _trade),
    Feature("capacity", "产能匹配", "capacity fit", _capacity),
    Feature("labour", "劳动力成本梯度", "labour-cost gradient", _labour),
    Feature("raw_material", "原料基地", "raw-material base", _raw_material),
    Feature("framework", "区域合作框架", "regional cooperation", _framework),
    Feature("reach", "跨区域全国性市场", "national market across regions", _reach, needs=("trade",)),
    Feature("branch", "市场开设分市场", "branch-market network", _branch, needs=("trade",)),
    Feature("base", "市场周边生产基地", "production base near the market", _base, needs=("trade",)),
    Feature("traders", "市场随产业转移", "traders move with the cluster", _traders),
    Feature("experience", "对接经验", "docking experience", _experience),
    Feature("corridor", "省际对接通道", "docking corridor", _corridor),
    Feature("peer", "可借鉴的能力", "capabilities to learn", _peer),
    Feature("similar", "业务相近", "similar activities", _similar),
    Feature("same_cluster", "同一集群", "same cluster", _same_cluster),
)}


def compute(E: Entities, pairs: CandidatePairs | Pairs, names: Iterable[str], params: dict) -> dict[str, np.ndarray]:
    """Feature and detail columns of ``pairs`` for the features ``names`` (each computed once, after
    the features it ``needs``)."""
    out: dict[str, np.ndarray] = {}
    for name in _in_order(names, []):
        feature = FEATURES[name]
        out.update(feature.compute(E, pairs, params, out) if feature.needs else feature.compute(E, pairs, params))
    return out


def _in_order(names: Iterable[str], order: list[str]) -> list[str]:
    """``names`` and the features they need, each after what it needs (no closure over the block's
    data: a self-referencing closure kept every block's pairs alive until a full garbage collection,
    3 GB at a million firms)."""
    for name in names:
        if name not in order:
            _in_order(FEATURES[name].needs, order)
            order.append(name)
    return order


def feature_frame(columns: dict, names: Iterable[str]) -> pd.DataFrame:
    """The features ``names`` as a float32 frame: what a scorer reads."""
    return pd.DataFrame({n: np.asarray(columns[n], dtype=np.float32) for n in names})


@dataclass
class Pairs:
    """Pairs given by the caller (not by candidate rules): positions and their distance."""

    left: np.ndarray
    right: np.ndarray
    km: np.ndarray


def pairs_of(E: Entities, li: np.ndarray, ri: np.ndarray) -> Pairs:
    li, ri = np.asarray(li, dtype=np.int64), np.asarray(ri, dtype=np.int64)
    return Pairs(li, ri, distance_km(E, li, ri))
