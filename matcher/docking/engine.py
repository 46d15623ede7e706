"""The docking engine: the public facade over candidates, features, scoring and explanations.

>>> from matcher.ingest.dataset import load_dataset
>>> engine = DockingEngine(load_dataset())
>>> top = engine.suggest("east_west", top=3, for_id="C056")
>>> list(top["rank"])
[1, 2, 3]

Features are computed once per kind and cached on the engine, so re-scoring after a weight change
is a matrix-vector product (see ``benchmarks/bench_rescore.py``).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable

import numpy as np
import pandas as pd

from matcher.docking import features as F
from matcher.docking import kinds as K
from matcher.docking.explain import reasons
from matcher.docking.scoring import KINDS, WeightedScorer, check_kind, kind_params, merge_weights
from matcher.exceptions import MatcherError

NAME_COLUMNS = ["name_zh", "name_en", "region", "province", "entity_type"]
#: Leading columns of every suggestions table, in order.
SUGGESTION_COLUMNS = [
    "kind", "rank", "left_id", "right_id", "left_name_zh", "left_name_en", "right_name_zh", "right_name_en",
    "left_region", "right_region", "left_province", "right_province", "left_type", "right_type",
    "score", "reason_zh", "reason_en",
]


def weights_hash(weights: dict[str, float]) -> str:
    return hashlib.sha256(json.dumps(weights, sort_keys=True).encode()).hexdigest()[:12]


class DockingEngine:
    """Propose and explain docking pairs of every kind for one dataset.

    Parameters
    ----------
    dataset : matcher.ingest.dataset.Dataset
        The loaded, validated data.
    progress : callable, optional
        ``progress(message)`` is called before each step that may take a while.
    """

    def __init__(self, dataset, progress: Callable[[str], None] | None = None):
        self.dataset = dataset
        self.progress = progress or (lambda message: None)
        self._entities: dict[bool, F.Entities] = {}
        self._features: dict[str, K.PairFeatures] = {}

    # -- cached building blocks ----------------------------------------------------------
    def entities(self, include_enterprises: bool = False) -> F.Entities:
        if include_enterprises not in self._entities:
            self.progress("preparing entities")
            self._entities[include_enterprises] = F.prepare(self.dataset, include_enterprises)
        return self._entities[include_enterprises]

    def features(self, kind: str) -> K.PairFeatures:
        """Candidate pairs of ``kind`` with their features (cached)."""
        check_kind(kind)
        if kind not in self._features:
            E = self.entities(include_enterprises=(kind == "enterprise"))
            self.progress(f"building {kind} candidates and features")
            self._features[kind] = K.build(kind, E, self.dataset.policies)
        return self._features[kind]

    def candidate_report(self, kind: str) -> pd.DataFrame:
        """Pairs produced by each candidate rule and its reduction ratio against all pairs."""
        return self.features(kind).report.copy()

    # -- scoring -------------------------------------------------------------------------
    def weights(self, kind: str, weights: dict[str, float] | None = None, preset: str | None = None) -> dict:
        """The preset's weights with ``weights`` overriding some (see ``scoring.merge_weights``)."""
        return merge_weights(kind, weights, preset)

    def scorer(self, kind: str, weights: dict | None = None, preset: str | None = None) -> WeightedScorer:
        pf = self.features(kind)
        return WeightedScorer(self.weights(kind, weights, preset)).fit(pf.X)

    def score(self, kind: str, weights: dict | None = None, preset: str | None = None, scorer=None) -> pd.DataFrame:
        """All canonical candidate pairs with ``f_/w_/c_`` columns and ``score``."""
        pf = self.features(kind)
        scorer = scorer or self.scorer(kind, weights, preset)
        explained = scorer.explain(pf.X)
        detail = pf.pairs.drop(columns=pf.features)
        return pd.concat([detail, explained], axis=1)

    def rescore(self, kind: str, weights: dict[str, float]) -> np.ndarray:
        """Scores of every cached candidate pair under new weights (the fast path for sliders)."""
        pf = self.features(kind)
        w = np.array([weights.get(f, 0.0) for f in pf.features], dtype=np.float32)
        return pf.matrix @ w

    # -- suggestions ---------------------------------------------------------------------
    def suggest(
        self,
        kind: str,
        top: int | None = 10,
        for_id: str | list[str] | None = None,
        weights: dict | None = None,
        preset: str | None = None,
        scorer=None,
        min_score: float | None = None,
    ) -> pd.DataFrame:
        """For each entity (or only ``for_id``), its ``top`` partners of ``kind``, ranked and explained.

        Ranking: score descending, ties broken by partner id ascending. Columns:
        ``SUGGESTION_COLUMNS``, then ``f_/w_/c_`` per feature, directional ``lr_/rl_`` columns and
        details. ``left_id`` is the entity whose list the row belongs to.
        """
        check_kind(kind)
        if top is not None and top < 1:
            raise MatcherError("--top must be at least 1")
        scored = self.score(kind, weights, preset, scorer)
        focal = K.focal_view(scored, kind)
        if for_id is not None:
            wanted = [for_id] if isinstance(for_id, str) else list(for_id)
            self._check_ids(wanted, kind)
            focal = focal[focal["left_id"].isin(wanted)]
        if min_score is not None:
            focal = focal[focal["score"] >= min_score]
        focal = focal.sort_values(["left_id", "score", "right_id"], ascending=[True, False, True], kind="stable")
        focal["rank"] = focal.groupby("left_id", sort=False).cumcount() + 1
        if top is not None:
            focal = focal[focal["rank"] <= top]
        focal = focal.reset_index(drop=True)
        return self._decorate(focal, kind)

    def _check_ids(self, ids: list[str], kind: str) -> None:
        E = self.entities(include_enterprises=(kind == "enterprise"))
        missing = [i for i in ids if i not in E.index]
        if missing:
            raise MatcherError(f"no cluster, market or enterprise has the id {', '.join(map(repr, missing))}")

    def _decorate(self, rows: pd.DataFrame, kind: str) -> pd.DataFrame:
        E = self.entities(include_enterprises=(kind == "enterprise"))
        table = E.table
        out = rows.copy()
        li, ri = out["li"].to_numpy(), out["ri"].to_numpy()
        for col in NAME_COLUMNS:
            target = "type" if col == "entity_type" else col
            out[f"left_{target}"] = table[col].to_numpy()[li]
            out[f"right_{target}"] = table[col].to_numpy()[ri]
        feats = K.KIND_FEATURES[kind]
        zh, en = reasons(out, feats)
        out["reason_zh"], out["reason_en"] = zh, en
        out["kind"] = kind
        stage_names = np.array([*F.STAGE_NAMES, ""], dtype=object)  # index -1 -> ""
        for col in ("lr_from", "lr_to", "rl_from", "rl_to", "d_channel_stage", "d_sourcing_stage"):
            if col in out.columns:
                out[col] = stage_names[out[col].to_numpy(dtype=np.int64)]
        fwc = [f"{p}_{f}" for f in feats for p in ("f", "w", "c")]
        rest = [c for c in out.columns if c not in SUGGESTION_COLUMNS and c not in fwc and c not in ("li", "ri")]
        return out[SUGGESTION_COLUMNS + fwc + rest]


def new_run(dataset, kind: str, weights: dict, planner: str = "", preset: str | None = None) -> dict:
    """A run record, carried by every export and kept in the store: run id, data version, kind,
    weights and time."""
    return {
        "run_id": uuid.uuid4().hex[:12],
        "data_version": getattr(dataset, "version", ""),
        "data_name": getattr(dataset, "name", ""),
        "kind": kind,
        "preset": preset or "",
        "weights": dict(sorted(weights.items())),
        "weights_hash": weights_hash(weights),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "planner": planner,
    }


__all__ = ["DockingEngine", "KINDS", "SUGGESTION_COLUMNS", "kind_params", "new_run", "weights_hash"]
