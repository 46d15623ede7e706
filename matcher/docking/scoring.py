"""Scorers: turn a pair-feature table into scores and explanations.

Scorers follow the scikit-learn estimator contract (``__init__`` only stores arguments, ``fit``
returns ``self``, fitted state ends in ``_``), so a weighted preset and a learned model are
interchangeable. ``explain`` returns the explanation as data: ``f_<feature>`` (value),
``w_<feature>`` (weight) and ``c_<feature>`` (contribution) columns whose ``c_`` sum to ``score``.

Examples
--------
>>> import pandas as pd
>>> X = pd.DataFrame({"chain": [1.0, 0.5], "distance": [float("nan"), 0.2]})
>>> WeightedScorer({"chain": 0.6, "distance": 0.4}).fit(X).predict(X).round(2).tolist()
[0.6, 0.38]
>>> WeightedScorer({"chain": 6, "distance": 4}).fit(X).predict(X).round(2).tolist()
[0.6, 0.38]
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from matcher import limits
from matcher.exceptions import MatcherError
from matcher.jsonfile import read_json_file

if TYPE_CHECKING:
    from matcher.docking.kinds import DockingKind


def read_json(path: str | Path, what: str) -> object:
    """A settings JSON file's content (weights, a model), at most ``limits.MAX_SETTINGS_JSON_BYTES``; a
    missing, oversized or malformed file is a planner-readable error naming it."""
    return read_json_file(path, what, max_bytes=limits.MAX_SETTINGS_JSON_BYTES)


def read_weights(path: str | Path, kind: str | DockingKind, preset: str | None = None) -> dict[str, float]:
    """Weights from a JSON file: ``{"weights": {...}}`` or a plain ``{feature: weight}``.

    Each weight is a number of 0 to :data:`matcher.limits.MAX_WEIGHT` (``true`` is not a weight of 1;
    1e308 overflowed the sum the scores are shares of), and with the ``preset`` they override (the
    kind's default when None) at least one weight must be above 0, or every score would be 0.
    """
    from matcher.docking.kinds import get_kind

    kind = get_kind(kind)
    path = Path(path)
    data = read_json(path, "weights")
    weights = data.get("weights", data) if isinstance(data, dict) else None
    if not isinstance(weights, dict):
        raise MatcherError(f"{path}: expected an object of feature weights, e.g. {{\"weights\": {{\"chain\": 0.5}}}}")
    for name, value in weights.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):  # "0.5" in quotes is text, not 0.5
            shown = str(value).lower() if isinstance(value, bool) else repr(value)[:60]
            raise MatcherError(f"{path}: the weight of {name!r} must be a number, not {shown}")
    base = kind.weights(None, preset)  # an unknown preset is said as such, not blamed on the file
    try:
        merged = kind.weights(weights, preset)  # the kind checks names and values (one place for both)
    except MatcherError as err:
        raise MatcherError(f"{path}: {err}") from None
    for name in weights:
        if merged[name] > limits.MAX_WEIGHT:
            raise MatcherError(f"{path}: the weight of {name!r} must be at most {limits.MAX_WEIGHT:,.0f} "
                               f"(only their shares of the total count), not {weights[name]!r}")
    if not any(v > 0 for v in merged.values()):
        zero = ", ".join(name for name in base if name in weights)
        raise MatcherError(f"{path}: at least one weight must be above 0 (it sets {zero} to 0 and the "
                           f"{preset or kind.default_preset} preset weighs nothing else); every score would be 0")
    return {name: merged[name] for name in weights}


class Scorer(Protocol):
    """What the pipeline asks of a fitted scorer (the scikit-learn contract plus ``explain``)."""

    def predict(self, X: pd.DataFrame) -> np.ndarray: ...

    def explain(self, X: pd.DataFrame) -> pd.DataFrame: ...


def _per_feature(scorer: BaseEstimator, X: pd.DataFrame, given: dict[str, float] | None) -> np.ndarray:
    """``given``'s value per column of ``X`` (0 where none), after checking it names only those columns;
    records the columns on ``scorer`` (scikit-learn's ``feature_names_in_``)."""
    X = as_frame(X)
    given = dict(given or {})
    unknown = sorted(set(given) - set(X.columns))
    if unknown:
        raise MatcherError(f"weights name features the data does not have: {unknown}; features: {list(X.columns)}")
    try:
        values = np.array([float(given.get(f, 0.0)) for f in X.columns], dtype=np.float64)
    except (TypeError, ValueError):
        raise MatcherError(f"weights must be numbers: {given}") from None
    if not np.isfinite(values).all():  # a weight of NaN or infinity would make every score NaN or infinite
        raise MatcherError(f"weights must be finite numbers: {given}")
    scorer.feature_names_in_ = np.asarray(X.columns, dtype=object)
    scorer.n_features_in_ = len(scorer.feature_names_in_)
    return values


class WeightedScorer(BaseEstimator):
    """Score = sum of weight share x feature, in 0..1; unknown (NaN) features contribute nothing.

    Weights are divided by their total at ``fit``: ``{"chain": 2, "distance": 2}`` scores as
    ``{"chain": 0.5, "distance": 0.5}``, and an unknown feature lowers the score (it is not re-weighted
    away), so a pair with unknown attributes never outranks an equal pair whose attributes are known.

    Parameters
    ----------
    weights : dict[str, float] or None
        Weight per feature. Features in ``X`` without a weight get weight 0.
    """

    def __init__(self, weights: dict[str, float] | None = None):
        self.weights = weights

    def fit(self, X: pd.DataFrame, y: object = None) -> WeightedScorer:
        """Check the features and freeze the weights; ``y`` is ignored (no learning)."""
        raw = _per_feature(self, X, self.weights)
        total = raw.sum()
        # shares of the total weight: the score stays a 0..1 weighted mean whatever the weights' scale,
        # so raising one weight does not inflate every score and a minimum score means the same
        self.weights_ = raw / total if total > 0 else raw
        return self

    def _values(self, X: pd.DataFrame) -> np.ndarray:
        check_is_fitted(self, "weights_")
        return feature_values(X, self.feature_names_in_)

    def contributions(self, X: pd.DataFrame) -> np.ndarray:
        """Contribution matrix (pairs x features): weight x value, 0 where unknown."""
        return np.nan_to_num(self._values(X), nan=0.0) * self.weights_

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Scores, one per row of ``X``: the contributions summed feature by feature, left to right
        (the same additions, in the same order, as ``contributions(X).sum(axis=1)``, without the
        pairs x features matrix)."""
        check_is_fitted(self, "weights_")
        return weighted_sum(X, self.feature_names_in_, self.weights_)

    decision_function = predict

    def explain(self, X: pd.DataFrame) -> pd.DataFrame:
        """``f_``/``w_``/``c_`` columns per feature and ``score`` (the sum of the ``c_``)."""
        values = self._values(X)
        contrib = np.nan_to_num(values, nan=0.0) * self.weights_
        return explanation_frame(self.feature_names_in_, values, self.weights_, contrib, index=as_frame(X).index)


#: Name of the intercept term in explanations of a linear (learned) model.
BASELINE = "baseline"


class LinearScorer(BaseEstimator):
    """Score = sum of coefficient x feature + intercept: the log-odds a learned model ranks by.

    Coefficients may be of either sign and are used as they are (no division by their total);
    unknown (NaN) features contribute nothing. ``explain`` adds a ``baseline`` term worth 1 whose
    weight is the intercept, so the contributions add up to the score. The learned scorer
    (``matcher.learning.learn.LearnedScorer``) ranks with one of these, and a run recorded with a
    learned model's weights (a ``baseline`` among them) is explained with one again.

    Parameters
    ----------
    coefficients : dict[str, float] or None
        Coefficient per feature. Features in ``X`` without one get 0.
    intercept : float
    """

    def __init__(self, coefficients: dict[str, float] | None = None, intercept: float = 0.0):
        self.coefficients = coefficients
        self.intercept = intercept

    def fit(self, X: pd.DataFrame, y: object = None) -> LinearScorer:
        """Check the features and freeze the coefficients; ``y`` is ignored."""
        self.coef_ = _per_feature(self, X, self.coefficients)
        try:
            self.intercept_ = float(self.intercept)
        except (TypeError, ValueError):
            raise MatcherError(f"the intercept must be a number, not {self.intercept!r}") from None
        if not np.isfinite(self.intercept_):
            raise MatcherError(f"the intercept must be a finite number, not {self.intercept!r}")
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Scores, one per row: ``explain``'s sum in its order (the contributions from zero, then the
        intercept's, 1 x it), so a ranked score and the score shown are the same number to the last bit."""
        check_is_fitted(self, "coef_")
        return weighted_sum(X, self.feature_names_in_, self.coef_) + self.intercept_

    decision_function = predict

    def explain(self, X: pd.DataFrame) -> pd.DataFrame:
        """``f_/w_/c_`` per feature plus ``baseline`` for the intercept, and ``score`` = sum of ``c_``."""
        check_is_fitted(self, "coef_")
        values = feature_values(X, self.feature_names_in_)
        values = np.c_[values, np.ones(len(values))]
        weights = np.r_[self.coef_, self.intercept_]
        contrib = np.nan_to_num(values, nan=0.0) * weights
        return explanation_frame([*self.feature_names_in_, BASELINE], values, weights, contrib,
                                 index=as_frame(X).index)


def explanation_frame(names: Iterable[str], values: np.ndarray, weights: np.ndarray, contrib: np.ndarray,
                      index: pd.Index | None = None) -> pd.DataFrame:
    """Assemble ``f_/w_/c_`` columns and ``score`` = sum of ``c_`` (shared by all scorers)."""
    cols = {}
    for j, name in enumerate(names):
        cols[f"f_{name}"] = values[:, j]
        cols[f"w_{name}"] = np.full(len(values), weights[j]) if np.ndim(weights) == 1 else weights[:, j]
        cols[f"c_{name}"] = contrib[:, j]
    out = pd.DataFrame(cols, index=index, copy=False)  # the columns as they are, not stacked into one block
    score = np.zeros(len(contrib), dtype=np.float64)
    for j in range(contrib.shape[1]):  # left to right from zero, as ``weighted_sum`` ranks (numpy's row sum
        score += contrib[:, j]  # adds eight or more columns pairwise: other last bits)
    out["score"] = score
    return out


def weighted_sum(X: pd.DataFrame, names: Iterable[str], weights: np.ndarray) -> np.ndarray:
    """Per row, the features' contributions (unknown as 0) added from zero, feature by feature: the
    same additions in the same order as ``explanation_frame``'s score, without the pairs x features
    matrix (shared by all scorers, so a ranked score equals the score ``explain`` shows)."""
    names = list(names)
    X = _with_features(X, names)
    score = np.zeros(len(X), dtype=np.float64)
    for name, weight in zip(names, weights, strict=True):
        score += np.nan_to_num(X[name].to_numpy(dtype=np.float64, na_value=np.nan), nan=0.0) * weight
    return score


def feature_values(X: pd.DataFrame, names: Iterable[str]) -> np.ndarray:
    """The ``names`` columns of a feature frame as float64, unknown as NaN (shared by all scorers)."""
    names = list(names)
    X = _with_features(X, names)
    out = np.empty((len(X), len(names)), dtype=np.float64)
    for j, name in enumerate(names):  # column by column: a frame-wide conversion is several times slower
        out[:, j] = X[name].to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _with_features(X: object, names: Iterable[str]) -> pd.DataFrame:
    """``X`` as a frame holding every feature in ``names``, else a planner-readable error."""
    X = as_frame(X)
    missing = [f for f in names if f not in X.columns]
    if missing:
        raise MatcherError(f"features missing for scoring: {missing}")
    return X


def as_frame(X: object) -> pd.DataFrame:
    """``X`` when it is a DataFrame of named features, else a planner-readable error."""
    if isinstance(X, pd.DataFrame):
        return X
    raise MatcherError("scorers take a DataFrame of named features")
