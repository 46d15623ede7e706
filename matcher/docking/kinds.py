"""The kind registry: one ``DockingKind`` object per docking kind, and the only place a kind's name
is written (besides the presets file).

A kind says who may dock with whom (its two ``Side``s and how a pair is oriented), which features
its score reads and in what order, which detail columns its explanations carry, which candidate
rules (blocking) propose its pairs, which backend runs it by default, and where its presets and
parameters are (``matcher/presets/presets.json``). Everything else asks the registry:

>>> kind = get_kind("east_west")
>>> kind.features
('chain', 'transfer', 'specialty', 'product', 'policy', 'framework', 'labour', 'raw_material', 'traders', 'transfer_park', 'experience', 'corridor', 'distance', 'nearby')
>>> kind.label("en"), kind.default_preset
('east-west docking (capacity transfer)', 'balanced')
>>> kind.feature_labels("zh")["transfer"]
'产能转移'

Adding a kind is one ``DockingKind`` entry below and one block in the presets file
(``docs/architecture.md``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

import numpy as np

from matcher.docking import candidates as C
from matcher.docking.features import FEATURES
from matcher.exceptions import MatcherError
from matcher.vocab import CLUSTER, ENTERPRISE, MARKET

if TYPE_CHECKING:
    import pandas as pd

    from matcher.docking.entities import Entities
    from matcher.ingest.dataset import Dataset

#: How a kind's canonical pair is oriented.
#: ``oriented``: left from the left side, right from the right side (the sides differ);
#: ``unordered``: one side, left = the lower id; ``ordered``: one side, left -> right as meant
#: (e.g. the learner and its teacher); ``directed``: one side, each focal entity's own candidates
#: (focal, partner) of a symmetric relation.
PAIRINGS = ("oriented", "unordered", "ordered", "directed")


@dataclass(frozen=True)
class Side:
    """Which entities may stand on one side of a pair: an entity type, optionally some regions."""

    entity_type: str
    regions: tuple[str, ...] = ()
    label_zh: str = ""
    label_en: str = ""

    def mask(self, table: pd.DataFrame) -> np.ndarray:
        mask = table["entity_type"].to_numpy() == self.entity_type
        if self.regions:
            mask &= table["region"].isin(list(self.regions)).to_numpy()
        return mask

    def members(self, E: Entities) -> np.ndarray:
        """Row positions of the prepared entities on this side."""
        return np.flatnonzero(self.mask(E.table))


@dataclass(frozen=True)
class DockingKind:
    """One docking kind (see the module docstring)."""

    name: str
    label_zh: str
    label_en: str
    left: Side
    right: Side
    pairing: str
    both_sides: bool
    features: tuple[str, ...]
    details: tuple[str, ...]
    rules: tuple
    universe: str
    all_pairs: Callable
    describe: str
    entity_types: tuple[str, ...] = (CLUSTER, MARKET)
    default_backend: str = "memory"
    run_params: tuple[str, ...] = field(default=())
    excludes: tuple = field(default=())
    #: The columns of ``Entities.table`` its blocks read (candidates and features), or None for all:
    #: a Dask worker receives only these (a million firms: 0.7 s to send instead of 3.4 s).
    #: ``tests/test_block_transport.py`` ranks every kind with only these columns.
    block_columns: tuple[str, ...] | None = None
    #: A short name for a table's kind column, whose header already says "kind" (Chinese, English).
    short: tuple[str, str] = ("", "")

    def __post_init__(self) -> None:
        # a mistake in the registry fails at import, with the kind named
        if self.pairing not in PAIRINGS:
            raise ValueError(f"kind {self.name}: pairing must be one of {PAIRINGS}, not {self.pairing!r}")
        unknown = [f for f in self.features if f not in FEATURES]
        if unknown:
            raise ValueError(f"kind {self.name}: features {unknown} are not in matcher.docking.features.FEATURES")

    def label(self, lang: str, short: bool = False) -> str:
        if short and all(self.short):
            return self.short[0] if lang == "zh" else self.short[1]
        return self.label_zh if lang == "zh" else self.label_en

    def feature_labels(self, lang: str) -> dict[str, str]:
        """The kind's features, in display order, with their labels in ``lang`` ("zh" or "en")."""
        return {f: FEATURES[f].label(lang) for f in self.features}

    # -- presets and parameters (data in presets.json) ---------------------------------------
    @property
    def _block(self) -> dict:
        return _bundled_presets()[self.name]

    @property
    def default_preset(self) -> str:
        return self._block["default"]

    @property
    def presets(self) -> dict[str, dict[str, float]]:
        """Preset name -> weights."""
        return {name: dict(p["weights"]) for name, p in self._block["presets"].items()}

    @property
    def params(self) -> dict:
        return dict(self._block.get("params", {}))

    @property
    def chosen_params(self) -> dict[str, list]:
        """Parameters whose value was chosen with the evaluation in view -> the values it was chosen
        among: the cross-validated evaluation chooses each again inside every fold (``evaluate``)."""
        return {name: list(values) for name, values in self._block.get("chosen_params", {}).items()}

    def preset_weights(self, preset: str | None = None) -> dict[str, float]:
        """Weights of a named preset (the default when ``preset`` is None)."""
        name = preset or self.default_preset
        if name not in self._block["presets"]:
            raise MatcherError(f"kind {self.name!r} has no preset {name!r}; valid presets: "
                               f"{', '.join(sorted(self._block['presets']))}")
        return dict(self._block["presets"][name]["weights"])

    def weights(self, weights: dict[str, float] | None = None, preset: str | None = None) -> dict[str, float]:
        """The preset's weights with ``weights`` overriding some; unknown features refused."""
        base = self.preset_weights(preset)
        if weights:
            unknown = sorted(set(weights) - set(base))
            if unknown:
                raise MatcherError(f"unknown features {unknown} for {self.name}; valid: {', '.join(base)}")
            for name, value in weights.items():
                try:
                    base[name] = float(value)
                except (TypeError, ValueError):
                    raise MatcherError(f"the weight of {name!r} must be a number, not {value!r}") from None
                if not np.isfinite(base[name]) or base[name] < 0:
                    raise MatcherError(f"the weight of {name!r} must be a number of 0 or more, not {value!r}")
        return base

    # -- who may pair with whom ---------------------------------------------------------------
    @property
    def search_rules(self) -> list:
        """Its candidate rules that search (k-d trees, the similar-products index): their structures
        are built once before the blocks (``backends.prepare_searches``)."""
        return [rule for rule in self.rules if C.is_search(rule)]

    @property
    def two_sided(self) -> bool:
        """Both entities of a pair see it as a partner (all kinds but the learner -> teacher one)."""
        return self.pairing != "ordered"

    def partner_mask(self, table: pd.DataFrame) -> np.ndarray:
        """``mask[u, v]``: v may be u's partner (both directions for two-sided kinds)."""
        left, right = self.left.mask(table), self.right.mask(table)
        m = np.outer(left, right)
        if self.pairing == "oriented":
            return m | m.T
        m[np.arange(len(table)), np.arange(len(table))] = False
        return m

    def orient(self, a: str, b: str, table: pd.DataFrame) -> tuple[str, str] | None:
        """A pair of ids in this kind's canonical orientation, or None when it is not such a pair."""
        if a == b:
            return None
        row = {i: n for n, i in enumerate(table["id"].astype(str))}
        left, right = self.left.mask(table), self.right.mask(table)
        ia, ib = row[a], row[b]
        if self.pairing in ("unordered", "directed"):
            return (min(a, b), max(a, b)) if left[ia] and left[ib] else None
        if left[ia] and right[ib]:
            return a, b
        if self.pairing == "oriented" and left[ib] and right[ia]:
            return b, a
        return None


@lru_cache(maxsize=1)
def _bundled_presets() -> dict:
    text = resources.files("matcher").joinpath("presets/presets.json").read_text(encoding="utf-8")
    return json.loads(text)


def _unordered(entity_type: str) -> Callable:
    def count(E: Entities) -> int:
        n = len(E.of_type(entity_type))
        return n * (n - 1) // 2
    return count


def _ordered(entity_type: str) -> Callable:
    def count(E: Entities) -> int:
        n = len(E.of_type(entity_type))
        return n * (n - 1)
    return count


def _across(a: str, b: str) -> Callable:
    def count(E: Entities) -> int:
        return len(E.of_type(a)) * len(E.of_type(b))
    return count


_CLUSTERS = Side(CLUSTER, (), "集群", "cluster")
_CHAIN_DETAILS = ("lr_chain", "rl_chain", "lr_from", "lr_to", "rl_from", "rl_to", "d_chain_rl")

EAST_WEST = DockingKind(
    name="east_west", label_zh="东西部对接（产能转移）", label_en="east-west docking (capacity transfer)",
    short=("东西部对接", "east-west"),
    left=Side(CLUSTER, ("east",), "东部集群", "eastern cluster"),
    right=Side(CLUSTER, ("central", "west"), "中西部集群", "central or western cluster"),
    pairing="oriented", both_sides=True,
    features=("chain", "transfer", "specialty", "product", "policy", "framework", "labour", "raw_material",
              "traders", "transfer_park", "experience", "corridor", "distance", "nearby"),
    details=(*_CHAIN_DETAILS, "d_km", "d_policy", "d_shared", "d_specialty", "d_framework", "d_neighbours",
             "d_wage_left", "d_wage_right", "d_cotton", "d_experience_left", "d_experience_right", "d_documented", "d_corridor",
             "d_nearest_km"),
    rules=(C.PairRule("chain_adjacent", C.chain_adjacent), C.PairRule("shared_activity", C.shared_activity),
           C.PairRule("policy_pairing", C.policy_paired), C.PairRule("similar_products", C.similar_products)),
    universe="all pairs of clusters", all_pairs=_unordered(CLUSTER),
    describe="an eastern cluster and a central or western one",
)

CLUSTER_MARKET = DockingKind(
    name="cluster_market", label_zh="集群—市场对接", label_en="cluster-market docking",
    short=("集群—市场", "cluster-market"),
    left=_CLUSTERS, right=Side(MARKET, (), "专业市场", "market"),
    pairing="oriented", both_sides=True,
    features=("trade", "product", "reach", "branch", "base", "experience", "distance"),
    details=("lr_channel", "rl_sourcing", "d_channel_stage", "d_sourcing_stage", "d_roles", "d_trade", "d_km",
             "d_experience_left", "d_experience_right", "d_documented", "d_branches_zh", "d_branches_en"),
    rules=(C.PairRule("market_trades_cluster_stages", C.market_trades_cluster_stages),
           C.PairRule("market_supplies_inputs", C.market_supplies_inputs),
           C.PairRule("similar_products", C.similar_products),
           C.PairRule("within_300_km", C.within_km(300))),
    excludes=(C.PairRule("home_market", C.home_market), C.PairRule("no_trade_link", C.no_trade_link)),
    universe="all cluster x market pairs", all_pairs=_across(CLUSTER, MARKET),
    describe="a cluster and a market",
)

CLUSTER_CLUSTER = DockingKind(
    name="cluster_cluster", label_zh="集群—集群（产业链）", label_en="cluster-cluster along the chain",
    short=("集群—集群", "cluster-cluster"),
    left=_CLUSTERS, right=_CLUSTERS,
    pairing="unordered", both_sides=True,
    features=("chain", "product", "distance", "policy", "capacity"),
    details=(*_CHAIN_DETAILS, "d_km", "d_policy"),
    rules=(C.PairRule("chain_adjacent", C.chain_adjacent), C.PairRule("similar_products", C.similar_products),
           C.PairRule("within_150_km", C.within_km(150))),
    universe="all pairs of clusters", all_pairs=_unordered(CLUSTER),
    describe="two different clusters",
)

PEER_LEARNING = DockingKind(
    name="peer_learning", label_zh="集群互学", label_en="peer learning between clusters",
    short=("集群互学", "peer learning"),
    left=Side(CLUSTER, (), "学习方集群", "learning cluster"), right=Side(CLUSTER, (), "借鉴对象", "teacher cluster"),
    pairing="ordered", both_sides=False,
    features=("peer", "similar", "product", "distance"),
    details=("d_peer_flags", "d_km"),
    rules=(C.PairRule("teacher_has_what_learner_lacks", C.teacher_has_what_learner_lacks),),
    universe="all ordered pairs of clusters", all_pairs=_ordered(CLUSTER),
    describe="a learning cluster and another cluster",
)

ENTERPRISE_DOCKING = DockingKind(
    name="enterprise", label_zh="企业—企业（供需）", label_en="enterprise-enterprise (supplier-buyer)",
    short=("企业—企业", "enterprise"),
    left=Side(ENTERPRISE, (), "企业", "enterprise"), right=Side(ENTERPRISE, (), "企业", "enterprise"),
    pairing="directed", both_sides=False,
    features=("chain", "product", "distance", "capacity", "same_cluster"),
    details=(*_CHAIN_DETAILS, "d_km"),
    rules=(C.NearestRule(), C.SimilarProductsRule()),
    universe="all ordered pairs of enterprises", all_pairs=_ordered(ENTERPRISE),
    describe="two different enterprises",
    entity_types=(ENTERPRISE,), default_backend="blocks",
    run_params=("neighbours", "product_neighbours", "radius_km"),
    block_columns=(),  # the entities' arrays only
)

#: Every kind, by name, in the order planners see them.
KINDS: dict[str, DockingKind] = {
    k.name: k for k in (EAST_WEST, CLUSTER_MARKET, CLUSTER_CLUSTER, ENTERPRISE_DOCKING, PEER_LEARNING)}


def get_kind(kind: str | DockingKind) -> DockingKind:
    """The registered kind of this name (a kind object is returned as it is)."""
    if isinstance(kind, DockingKind):
        return kind
    try:
        return KINDS[kind]
    except (KeyError, TypeError):
        raise MatcherError(f"unknown docking kind {kind!r}; valid kinds: {', '.join(KINDS)}") from None


def available(dataset: Dataset, entity_type: str | None = None) -> list[str]:
    """Kinds the dataset has entities for (and, given ``entity_type``, whose lists it can be in)."""
    rows = {CLUSTER: len(dataset.clusters), MARKET: len(dataset.markets), ENTERPRISE: len(dataset.enterprises)}
    out = []
    for kind in KINDS.values():
        sides = {kind.left.entity_type, kind.right.entity_type}
        if all(rows[t] for t in sides) and (entity_type is None or entity_type in sides):
            out.append(kind.name)
    return out
