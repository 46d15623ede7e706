"""Learn a docking scorer from recorded outcomes, with the weighted preset as the cold start.

Outcomes recorded months after a docking meeting say which suggested pairs were worth it. A
:class:`LearnedScorer` turns them into a calibrated logistic model over the kind's features and
plugs into :meth:`matcher.docking.engine.DockingEngine.suggest` exactly like the
:class:`~matcher.docking.scoring.WeightedScorer` does (same estimator contract, same ``f_/w_/c_``
explanation columns).

Labels (:data:`POSITIVE_OUTCOMES`, :data:`NEGATIVE_OUTCOMES`): an agreement or a started
negotiation is a good pair (1); no further contact or a declined pair is a poor one (0). "Valuable
contact", "met" and "no show" say nothing sure about the pair's fit and are left out.

Explanations of the learned model: the score is the model's log-odds that the pair leads to a
negotiation or agreement, ``score = intercept + sum_j w_j x f_j``. For each feature ``w_`` is the
(calibrated) coefficient and ``c_ = w x f`` (0 when the feature is unknown, as for the weighted
scorer); an extra ``baseline`` feature (``f_baseline = 1``, ``w_baseline = c_baseline = intercept``)
carries the intercept, so the ``c_`` still sum to ``score``. ``probability(X)`` is the sigmoid of
the score.

Cold start: with fewer than ``min_outcomes`` labelled outcomes, or only one kind of label, the
scorer keeps the kind's weighted preset and behaves exactly like the ``WeightedScorer`` (same
scores, same explanation columns); ``fallback_`` is True and ``status()`` says so.

Examples
--------
>>> import pandas as pd
>>> X = pd.DataFrame({"chain": [1.0, 0.0], "product": [0.5, 1.0]})
>>> scorer = LearnedScorer(fallback_weights={"chain": 0.6, "product": 0.4}).fit(X, [1, 0])
>>> scorer.fallback_
True
>>> scorer.predict(X).round(2).tolist()
[0.8, 0.4]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, ndcg_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.utils.validation import check_is_fitted

from matcher.docking.kinds import get_kind
from matcher.docking.scoring import BASELINE, LinearScorer, WeightedScorer, as_frame, read_json
from matcher.exceptions import MatcherError, ValidationError
from matcher.learning.modelfile import RETRAIN, check_model
from matcher.outputs.atomic import write_text

if TYPE_CHECKING:
    from matcher.docking.engine import DockingEngine
    from matcher.store import Store

#: Outcomes that make a pair a good one (label 1).
POSITIVE_OUTCOMES = ("agreement_reached", "negotiation_started")
#: Outcomes that make a pair a poor one (label 0).
NEGATIVE_OUTCOMES = ("no_further_contact", "declined")
#: Outcomes recorded but not used as labels (they say nothing sure about the pair's fit).
IGNORED_OUTCOMES = ("valuable_contact", "met", "no_show")
#: Chinese labels accepted in outcome files, as in the store's vocabulary.
OUTCOME_ZH = {
    "已达成协议": "agreement_reached",
    "已开始洽谈": "negotiation_started",
    "无后续联系": "no_further_contact",
    "拒绝": "declined",
    "已拒绝": "declined",
    "有价值的联系": "valuable_contact",
    "已会谈": "met",
    "未到场": "no_show",
}
#: Default number of labelled outcomes below which the weighted preset is kept.
MIN_OUTCOMES = 30
MODEL_FORMAT = "matcher-learned-scorer"
MODEL_VERSION = 1


def outcome_label(outcome: str) -> float:
    """1.0 for a good outcome, 0.0 for a poor one, NaN for one that is not used as a label.

    Raises
    ------
    MatcherError
        The outcome is not one of the known values (English or Chinese).
    """
    value = OUTCOME_ZH.get(str(outcome).strip(), str(outcome).strip().lower().replace(" ", "_"))
    if value in POSITIVE_OUTCOMES:
        return 1.0
    if value in NEGATIVE_OUTCOMES:
        return 0.0
    if value in IGNORED_OUTCOMES:
        return float("nan")
    valid = ", ".join(POSITIVE_OUTCOMES + NEGATIVE_OUTCOMES + IGNORED_OUTCOMES)
    raise MatcherError(f"unknown outcome {outcome!r}; valid outcomes: {valid}")


# --- the scorer ------------------------------------------------------------------------------

class LearnedScorer(BaseEstimator):
    """Calibrated logistic model over pair features; the weighted preset until outcomes suffice.

    Parameters
    ----------
    kind : str, optional
        Docking kind; its default preset gives the cold-start weights when ``fallback_weights``
        is None.
    fallback_weights : dict[str, float], optional
        Weights used (exactly as a ``WeightedScorer``) while there are too few outcomes.
    preset : str, optional
        Name of the kind's preset for the cold start (default: the kind's default preset).
    min_outcomes : int
        Fewest labelled outcomes to learn from (default 30); fewer keeps the weighted preset.
    C : float
        Inverse L2 regularisation strength of the logistic regression.
    calibrate : bool
        Platt-calibrate the logistic scores with cross-validation (``CalibratedClassifierCV``,
        sigmoid, one calibrator), which keeps the model linear in the features.
    cv : int
        Folds for calibration.
    random_state : int
        Seed of the calibration folds.

    Attributes
    ----------
    fallback_ : bool
        True when the scorer kept the weighted preset.
    reason_ : str
        Why it learned or fell back, in plain words.
    coef_ : ndarray
        Weight per feature (the preset's weights when ``fallback_``).
    intercept_ : float
        Log-odds of a pair whose features are all 0 or unknown (0.0 when ``fallback_``).
    n_outcomes_, n_positive_ : int
        Labelled outcomes seen, and how many of them were good.
    """

    def __init__(
        self,
        kind: str | None = None,
        fallback_weights: dict[str, float] | None = None,
        preset: str | None = None,
        min_outcomes: int = MIN_OUTCOMES,
        C: float = 1.0,
        calibrate: bool = True,
        cv: int = 3,
        random_state: int = 0,
    ):
        self.kind = kind
        self.fallback_weights = fallback_weights
        self.preset = preset
        self.min_outcomes = min_outcomes
        self.C = C
        self.calibrate = calibrate
        self.cv = cv
        self.random_state = random_state

    def _cold_start_weights(self) -> dict[str, float]:
        if self.fallback_weights is not None:
            return dict(self.fallback_weights)
        if self.kind is not None:
            return get_kind(self.kind).preset_weights(self.preset)
        return {}

    def fit(self, X: pd.DataFrame, y: np.ndarray | None = None) -> LearnedScorer:
        """Learn from labelled pairs (``y``: 1 good, 0 poor), or keep the preset when too few."""
        X = as_frame(X)
        names = np.asarray(X.columns, dtype=object)
        self.feature_names_in_ = names
        self.n_features_in_ = len(names)
        labels = np.zeros(0) if y is None else np.asarray(y, dtype=np.float64).ravel()
        if len(labels) and len(labels) != len(X):
            raise MatcherError(f"{len(labels)} outcomes for {len(X)} pairs; give one outcome per pair")
        known = ~np.isnan(labels)
        labels = labels[known]
        n_pos = int((labels == 1).sum())
        n_neg = int((labels == 0).sum())
        self.n_outcomes_ = int(len(labels))
        self.n_positive_ = n_pos
        # calibration needs every fold to see both labels
        enough = self.n_outcomes_ >= self.min_outcomes and min(n_pos, n_neg) >= max(self.cv, 2)
        if not enough:
            weights = self._cold_start_weights()
            self.weighted_ = WeightedScorer(weights).fit(X)
            self.coef_ = self.weighted_.weights_.copy()
            self.intercept_ = 0.0
            self.fallback_ = True
            self.reason_ = (
                f"only {self.n_outcomes_} labelled outcomes ({n_pos} good, {n_neg} poor); at least "
                f"{self.min_outcomes} with at least {max(self.cv, 2)} of each are needed to learn, so the "
                "weighted preset is used unchanged"
            )
            return self
        values = np.nan_to_num(X.to_numpy(dtype=np.float64, na_value=np.nan), nan=0.0)[known]
        base = LogisticRegression(C=self.C, max_iter=2000)
        if self.calibrate:
            folds = StratifiedKFold(self.cv, shuffle=True, random_state=self.random_state)
            model = CalibratedClassifierCV(base, method="sigmoid", cv=folds, ensemble=False).fit(values, labels)
            inner = model.calibrated_classifiers_[0]
            a, b = float(inner.calibrators[0].a_), float(inner.calibrators[0].b_)
            # Platt: p = 1 / (1 + exp(a * f + b)) with f = w.x + w0, so the log-odds stay linear
            self.coef_ = -a * inner.estimator.coef_[0].astype(np.float64)
            self.intercept_ = float(-(a * inner.estimator.intercept_[0] + b))
        else:
            model = base.fit(values, labels)
            self.coef_ = model.coef_[0].astype(np.float64)
            self.intercept_ = float(model.intercept_[0])
        self.fallback_ = False
        self.reason_ = f"learned from {self.n_outcomes_} labelled outcomes ({n_pos} good, {n_neg} poor)"
        return self

    # -- scoring --------------------------------------------------------------------------
    def _linear(self) -> LinearScorer:
        """The fitted model as the linear scorer it ranks with (coefficients and intercept)."""
        check_is_fitted(self, "coef_")
        linear = LinearScorer(dict(zip(self.feature_names_in_, self.coef_.tolist(), strict=True)), self.intercept_)
        linear.feature_names_in_, linear.n_features_in_ = self.feature_names_in_, self.n_features_in_
        linear.coef_, linear.intercept_ = self.coef_, float(self.intercept_)
        return linear

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """Scores, one per row: log-odds of a good outcome (the weighted score when ``fallback_``)."""
        if self._is_fallback():
            return self.weighted_.predict(X)
        return self._linear().predict(X)

    decision_function = predict

    def probability(self, X: pd.DataFrame) -> np.ndarray:
        """Calibrated probability that a pair leads to a negotiation or agreement.

        Raises
        ------
        MatcherError
            The scorer is still on the weighted preset (its scores are not probabilities).
        """
        if self._is_fallback():
            raise MatcherError("no probabilities yet: " + self.reason_)
        return 1.0 / (1.0 + np.exp(-self.predict(X)))

    def explain(self, X: pd.DataFrame) -> pd.DataFrame:
        """``f_/w_/c_`` per feature (plus ``baseline`` for the intercept) and ``score`` = sum of ``c_``."""
        if self._is_fallback():
            return self.weighted_.explain(X)
        return self._linear().explain(X)

    def _is_fallback(self) -> bool:
        check_is_fitted(self, "coef_")
        return bool(self.fallback_)

    def weights(self) -> dict[str, float]:
        """Weight per feature (with ``baseline`` = intercept for a learned model)."""
        check_is_fitted(self, "coef_")
        out = {str(f): float(w) for f, w in zip(self.feature_names_in_, self.coef_, strict=True)}
        if not self.fallback_:
            out[BASELINE] = float(self.intercept_)
        return out

    def status(self) -> str:
        """One sentence for planners: learned or cold start, and why."""
        check_is_fitted(self, "coef_")
        if self.fallback_:
            return "cold start: behaves exactly like the weighted preset (" + self.reason_ + ")"
        return "learned scorer: " + self.reason_


# --- saving and loading (JSON, never pickle) --------------------------------------------------

def model_to_dict(scorer: LearnedScorer, metadata: dict | None = None) -> dict:
    """The fitted scorer as plain JSON-ready data."""
    check_is_fitted(scorer, "coef_")
    return {
        "format": MODEL_FORMAT,
        "version": MODEL_VERSION,
        "kind": scorer.kind,
        "features": [str(f) for f in scorer.feature_names_in_],
        "fallback": bool(scorer.fallback_),
        "reason": scorer.reason_,
        "coefficients": {str(f): float(w) for f, w in zip(scorer.feature_names_in_, scorer.coef_, strict=True)},
        "intercept": float(scorer.intercept_),
        "n_outcomes": int(scorer.n_outcomes_),
        "n_positive": int(scorer.n_positive_),
        "params": {k: v for k, v in scorer.get_params().items() if k != "kind"},
        "metadata": dict(metadata or {}),
    }


def model_from_dict(data: dict, source: str = "the model") -> LearnedScorer:
    """Rebuild a fitted :class:`LearnedScorer` from :func:`model_to_dict` output (no refitting); every field
    is checked first (:func:`matcher.learning.modelfile.check_model`: a :class:`MatcherError` naming
    ``source`` and the field for NaN, infinity, a number too large, ``"1"`` for a number, ``"no"`` for false)."""
    if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
        raise MatcherError(f"{source} is not a learned-scorer model (expected \"format\": \"{MODEL_FORMAT}\")")
    if type(data.get("version")) is not int or data["version"] != MODEL_VERSION:  # true is no version 1
        raise MatcherError(f"{source} has model version {data.get('version')!r}; this program reads version "
                           f"{MODEL_VERSION}")
    check_model(data, source)
    features, fallback, intercept = data["features"], data["fallback"], float(data["intercept"])
    coef = np.array([float(data["coefficients"][f]) for f in features], dtype=np.float64)
    if data.get("kind") is not None:
        try:
            get_kind(data["kind"])
        except MatcherError as err:
            raise MatcherError(f"{source}, kind: {err}; {RETRAIN}") from None
    scorer = LearnedScorer(kind=data.get("kind"), **data.get("params", {}))
    scorer.feature_names_in_ = np.asarray(features, dtype=object)
    scorer.n_features_in_ = len(features)
    scorer.coef_ = coef
    scorer.intercept_ = intercept
    scorer.fallback_ = fallback
    scorer.reason_ = str(data.get("reason", ""))
    scorer.n_outcomes_ = int(data.get("n_outcomes", 0))
    scorer.n_positive_ = int(data.get("n_positive", 0))
    if fallback:
        weighted = WeightedScorer(dict(zip(features, coef.tolist(), strict=True)))
        weighted.feature_names_in_ = scorer.feature_names_in_
        weighted.n_features_in_ = len(features)
        weighted.weights_ = coef.copy()
        scorer.weighted_ = weighted
    return scorer


def save_model(scorer: LearnedScorer, path: str | Path, metadata: dict | None = None) -> Path:
    """Write the fitted scorer as JSON (UTF-8, sorted keys) and return the path."""
    path = Path(path)
    text = json.dumps(model_to_dict(scorer, metadata), ensure_ascii=False, indent=2, sort_keys=True)
    try:
        write_text(path, text + "\n")
    except OSError as err:
        raise MatcherError(f"cannot write the model to {path}: {err.strerror}") from None
    return path


def load_model(path: str | Path, kind: str | None = None) -> LearnedScorer:
    """Read a model written by :func:`save_model`; with ``kind``, check it was trained for it. Every field
    is checked (:func:`model_from_dict`), naming the file and the field of what is wrong."""
    path = Path(path)
    scorer = model_from_dict(read_json(path, "model"), source=str(path))
    if kind is not None and scorer.kind is not None and scorer.kind != kind:
        raise MatcherError(f"{path} was trained for kind {scorer.kind!r}, not {kind!r}")
    if scorer.kind is not None:
        gone = [f for f in scorer.feature_names_in_ if f not in get_kind(scorer.kind).features]
        if gone:
            raise MatcherError(f"{path} was trained on feature(s) {', '.join(gone)} that the {scorer.kind} kind no "
                               f"longer has (its features: {', '.join(get_kind(scorer.kind).features)}); retrain "
                               "it with python -m matcher learn")
        missing = [f for f in get_kind(scorer.kind).features if f not in scorer.feature_names_in_]
        if missing:  # a model saved before the kind gained a motive: it cannot score or explain it
            raise MatcherError(f"{path} was trained without feature(s) {', '.join(missing)}, which the "
                               f"{scorer.kind} kind now has (its features: {', '.join(get_kind(scorer.kind).features)}); "
                               "retrain it with python -m matcher learn")
    return scorer


# --- outcomes: from the store or a CSV --------------------------------------------------------

OUTCOME_COLUMNS = ["left_id", "right_id", "kind", "outcome"]


def read_outcomes_csv(path: str | Path) -> pd.DataFrame:
    """Outcomes from a CSV with columns ``left_id, right_id, kind, outcome``.

    Raises
    ------
    ValidationError
        A column is missing or an outcome is not a known value; ``problems`` lists every bad row.
    """
    from matcher.ingest.read import read_table

    raw = read_table(path, common_aliases=False)
    missing = [c for c in OUTCOME_COLUMNS if c not in raw.columns]
    if missing:
        raise MatcherError(f"{path}: missing column(s) {', '.join(missing)}; an outcomes file needs "
                           f"{', '.join(OUTCOME_COLUMNS)}")
    problems = []
    first: dict[tuple, tuple] = {}  # a file has no time order: a good and a bad outcome of one pair contradict
    for row, record in raw.iterrows():
        for column in OUTCOME_COLUMNS:
            if not str(record[column]).strip():
                problems.append({"file": str(path), "row": row, "column": column, "value": "",
                                 "reason": "required cell is empty"})
        if str(record["outcome"]).strip():
            try:
                label = outcome_label(record["outcome"])
            except MatcherError as err:
                problems.append({"file": str(path), "row": row, "column": "outcome",
                                 "value": record["outcome"], "reason": str(err)})
                continue
            if label != label:  # "met" is no label: it contradicts none
                continue
            pair = frozenset(str(record[c]).strip() for c in ("left_id", "right_id"))
            seen = first.setdefault((str(record["kind"]).strip(), pair), (row, record["outcome"], label))
            if seen[2] != label:
                problems.append({"file": str(path), "row": row, "column": "outcome", "value": record["outcome"],
                                 "reason": f"row {seen[0]} gives the same pair the outcome {seen[1]}; keep the one "
                                           "that holds (the outcomes contradict each other)"})
    if problems:
        frame = pd.DataFrame(problems)
        raise ValidationError(f"{path}: {len(frame)} problem(s) in the outcomes file", frame)
    out = raw[OUTCOME_COLUMNS].apply(lambda s: s.str.strip())  # indexed by the file's rows (``row``, as in Excel)
    out["outcome"] = [OUTCOME_ZH.get(v, v.lower().replace(" ", "_")) for v in out["outcome"]]
    return out


def outcomes_from_store(store: Store | None = None) -> pd.DataFrame:
    """Follow-up outcomes recorded in the store (``matcher.store.Store``), one row per pair and kind.

    The follow-up stage is what the pair came to months later; meeting-stage records (met, no
    show) are not labels of the pair's fit and are left out.
    """
    from matcher.store import Store

    store = store if store is not None else Store()
    table = store.outcomes()
    if table is None or table.empty:
        return pd.DataFrame({c: pd.Series([], dtype=object) for c in OUTCOME_COLUMNS})
    followup = table[table["stage"] == "followup"]
    out = followup.rename(columns={"value": "outcome"})[OUTCOME_COLUMNS].astype(str)
    return out.reset_index(drop=True)


@dataclass
class LabelledPairs:
    """Outcomes matched to the engine's candidate pairs of one kind."""

    kind: str
    X: pd.DataFrame
    y: np.ndarray
    pairs: pd.DataFrame
    skipped: pd.DataFrame = field(default_factory=pd.DataFrame)


def labelled_pairs(engine: DockingEngine, kind: str, outcomes: pd.DataFrame) -> LabelledPairs:
    """Features and labels of the recorded pairs of ``kind``.

    A pair may be recorded with either side first; it is matched to the canonical candidate pair.
    Rows whose outcome is not a label, or whose pair is not among the engine's candidates, are
    returned in ``skipped`` with the reason. When a pair has several labelled outcomes the last
    one recorded counts.
    """
    kind = get_kind(kind).name
    pf = engine.features(kind)
    mine = outcomes[outcomes["kind"].astype(str) == kind].copy()
    mine["label"] = [outcome_label(v) for v in mine["outcome"]]
    position = {(a, b): i for i, (a, b) in enumerate(zip(pf.pairs["left_id"], pf.pairs["right_id"], strict=True))}
    rows, skipped = [], []
    for record in mine.itertuples(index=False):
        key = (str(record.left_id), str(record.right_id))
        pos = position.get(key)
        if pos is None and get_kind(kind).two_sided:
            pos = position.get(key[::-1])
        if np.isnan(record.label):
            skipped.append({**record._asdict(), "reason": "outcome is not used as a label"})
        elif pos is None:
            skipped.append({**record._asdict(), "reason": f"pair is not among the {kind} candidates"})
        else:
            rows.append({"position": pos, "left_id": pf.pairs["left_id"].iat[pos],
                         "right_id": pf.pairs["right_id"].iat[pos], "outcome": record.outcome,
                         "label": record.label})
    table = pd.DataFrame(rows, columns=["position", "left_id", "right_id", "outcome", "label"])
    table = table.drop_duplicates(["position"], keep="last").reset_index(drop=True)
    X = pf.X.iloc[table["position"].to_numpy()].reset_index(drop=True)
    return LabelledPairs(kind, X, table["label"].to_numpy(dtype=np.float64), table, pd.DataFrame(skipped))


# --- comparing scorers on held-out outcomes ---------------------------------------------------

def ranking_metrics(y: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """AUC, average precision and NDCG of ranking held-out pairs by score (NaN with one label only)."""
    y = np.asarray(y, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    if len(np.unique(y)) < 2:
        return {"auc": float("nan"), "average_precision": float("nan"), "ndcg": float("nan")}
    return {
        "auc": float(roc_auc_score(y, scores)),
        "average_precision": float(average_precision_score(y, scores)),
        "ndcg": float(ndcg_score(y[None, :], scores[None, :])),
    }


def compare_scorers(scorers: dict, X: pd.DataFrame, y: np.ndarray) -> pd.DataFrame:
    """One row per scorer: held-out pairs, good ones, AUC, average precision, NDCG."""
    y = np.asarray(y, dtype=np.float64)
    rows = []
    for name, scorer in scorers.items():
        rows.append({"scorer": name, "pairs": len(y), "good": int((y == 1).sum()),
                     **ranking_metrics(y, scorer.predict(X))})
    return pd.DataFrame(rows)


@dataclass
class TrainingResult:
    """What :func:`train_from_outcomes` produced: the scorer and how it compares."""

    scorer: LearnedScorer
    comparison: pd.DataFrame
    data: LabelledPairs
    messages: list[str]

    def summary(self) -> str:
        lines = [self.scorer.status(), *self.messages]
        if not self.comparison.empty:
            lines.append("held-out comparison (higher is better):")
            lines.append(self.comparison.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        lines.append("weights: " + ", ".join(f"{k}={v:+.3f}" for k, v in self.scorer.weights().items()))
        return "\n".join(lines)


def train_from_outcomes(
    engine: DockingEngine,
    kind: str,
    outcomes: pd.DataFrame | None = None,
    store: Store | None = None,
    preset: str | None = None,
    min_outcomes: int = MIN_OUTCOMES,
    test_size: float = 0.3,
    seed: int = 0,
) -> TrainingResult:
    """Train the kind's scorer from outcomes (a frame, else the store) and compare it with the preset.

    With enough outcomes, a stratified, seeded ``test_size`` share is held out, a scorer is fitted
    on the rest and compared with the weighted preset on the held-out pairs; the returned scorer is
    then refitted on all outcomes. With too few, the returned scorer is the cold start.

    This is the function the app calls after planners record outcomes.
    """
    kind = get_kind(kind).name
    if outcomes is None:
        outcomes = outcomes_from_store(store)
    data = labelled_pairs(engine, kind, outcomes)
    messages = [f"{len(data.y)} labelled {kind} pairs ({int((data.y == 1).sum())} good)"]
    if len(data.skipped):
        reasons = data.skipped["reason"].value_counts()
        messages.append("left out: " + "; ".join(f"{n} {r}" for r, n in reasons.items()))
    params = dict(kind=kind, preset=preset, min_outcomes=min_outcomes, random_state=seed)
    comparison = pd.DataFrame()
    n_pos, n_neg = int((data.y == 1).sum()), int((data.y == 0).sum())
    if len(data.y) >= min_outcomes and min(n_pos, n_neg) >= 6:
        X_tr, X_te, y_tr, y_te = train_test_split(data.X, data.y, test_size=test_size, random_state=seed,
                                                  stratify=data.y)
        held_out = LearnedScorer(**{**params, "min_outcomes": min(min_outcomes, len(y_tr))}).fit(X_tr, y_tr)
        weighted = WeightedScorer(get_kind(kind).preset_weights(preset)).fit(data.X)
        comparison = compare_scorers({"weighted preset": weighted, "learned": held_out}, X_te, y_te)
        messages.append(f"compared on {len(y_te)} held-out pairs; the model below is refitted on all of them")
    scorer = LearnedScorer(**params).fit(data.X, data.y)
    return TrainingResult(scorer, comparison, data, messages)


# --- simulated outcomes (for tests, the notebook and the documented figures) -----------------

def simulate_outcomes(
    engine: DockingEngine,
    kind: str,
    n_pairs: int = 400,
    seed: int = 0,
    hidden_weights: dict[str, float] | None = None,
    noise: float = 0.5,
) -> pd.DataFrame:
    """Outcomes of ``n_pairs`` candidate pairs drawn from a hidden utility (seeded).

    Utility = hidden weights x features (unknown = 0), standardised, plus logistic noise of scale
    ``noise``; the better 40 % of pairs reach a negotiation or an agreement, the rest end with no
    further contact or a decline. The hidden weights default to a seeded random vector that
    differs from the presets; they are returned in ``attrs["hidden_weights"]``.
    """
    kind = get_kind(kind).name
    if int(n_pairs) < 2:
        raise MatcherError(f"simulate at least 2 outcomes (one good, one not), not {n_pairs}")
    rng = np.random.default_rng(seed)
    pf = engine.features(kind)
    n = min(n_pairs, len(pf.pairs))
    picked = np.sort(rng.choice(len(pf.pairs), size=n, replace=False))
    if hidden_weights is None:
        hidden_weights = {f: float(w) for f, w in zip(pf.features, rng.normal(0.0, 1.0, len(pf.features)),
                                                      strict=True)}
    w = np.array([hidden_weights.get(f, 0.0) for f in pf.features])
    X = np.nan_to_num(pf.X.iloc[picked].to_numpy(dtype=np.float64, na_value=np.nan), nan=0.0)
    utility = X @ w
    utility = (utility - utility.mean()) / (utility.std() or 1.0)
    noisy = utility + noise * rng.logistic(size=n)
    good = noisy >= np.quantile(noisy, 0.6)
    strong = rng.random(n) < 0.5
    outcome = np.where(good, np.where(strong, "agreement_reached", "negotiation_started"),
                       np.where(strong, "no_further_contact", "declined"))
    out = pd.DataFrame({"left_id": pf.pairs["left_id"].to_numpy()[picked],
                        "right_id": pf.pairs["right_id"].to_numpy()[picked], "kind": kind, "outcome": outcome})
    out.attrs["hidden_weights"] = dict(hidden_weights)
    return out


__all__ = [
    "LearnedScorer", "LabelledPairs", "TrainingResult", "compare_scorers", "labelled_pairs", "load_model",
    "model_from_dict", "model_to_dict", "outcome_label", "outcomes_from_store", "ranking_metrics",
    "read_outcomes_csv", "save_model", "simulate_outcomes", "train_from_outcomes",
]
