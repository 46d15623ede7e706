"""A learned model file is bounded like a weights file: every field checked, the file and the field named.

A model (``python -m matcher learn`` writes it) is edited by hand and passed between colleagues. Before these
checks ``coefficients.trade = 1e308`` gave a pyarrow traceback, NaN an empty suggestions file with exit 0,
an intercept of Infinity infinite scores, and ``"1"`` for a number or ``"no"`` for false were accepted
(``"no"`` read as true: the preset used without a word).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from matcher.cli import main
from matcher.exceptions import MatcherError
from matcher.learning import learn
from matcher.limits import MAX_WEIGHT

KIND = "cluster_market"


@pytest.fixture(scope="module")
def learned(engine, tmp_path_factory) -> dict:
    """A model as ``learn`` writes it (learned from simulated outcomes, not the cold start)."""
    outcomes = learn.simulate_outcomes(engine, KIND, n_pairs=200, seed=0)
    scorer = learn.train_from_outcomes(engine, KIND, outcomes).scorer
    assert not scorer.fallback_
    path = learn.save_model(scorer, tmp_path_factory.mktemp("model") / "m.json", {"data_name": "bundled"})
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def cold(engine, tmp_path_factory) -> dict:
    """A cold-start model: the kind's preset weights, no intercept."""
    scorer = learn.LearnedScorer(kind=KIND).fit(engine.features(KIND).X)
    return json.loads(learn.save_model(scorer, tmp_path_factory.mktemp("cold") / "c.json").read_text(encoding="utf-8"))


def _edited(model: dict, field: str, value: object) -> dict:
    """``model`` with ``field`` (``coefficients.trade``: ``trade`` in ``coefficients``) set to ``value``."""
    out = json.loads(json.dumps(model))
    *parents, key = field.split(".")
    holder = out
    for parent in parents:
        holder = holder[parent]
    holder[key] = value
    return out


def _write(tmp_path: Path, model: dict, name: str = "m.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(model), encoding="utf-8")  # NaN and Infinity as Python writes them
    return path


@pytest.mark.parametrize(("field", "value", "said"), [
    ("coefficients.trade", 1e308, "coefficients.trade: 1e+308 is not a finite number of at most 1,000,000 in size"),
    ("coefficients.trade", math.nan, "coefficients.trade: NaN is not a finite number"),
    ("coefficients.trade", -math.inf, "coefficients.trade: -Infinity is not a finite number"),
    ("coefficients.trade", "1", 'coefficients.trade: "1" is not a finite number'),
    ("coefficients.trade", True, "coefficients.trade: true is not a finite number"),
    ("coefficients.trade", None, "coefficients.trade: null is not a finite number"),
    ("coefficients.trade", -2e6, "coefficients.trade: -2000000.0 is not a finite number of at most 1,000,000"),
    ("intercept", math.inf, "intercept: Infinity is not a finite number of at most 1,000,000 in size"),
    ("intercept", "2.5", 'intercept: "2.5" is not a finite number'),
    ("fallback", "no", 'fallback: "no" is not true or false'),
    ("fallback", 0, "fallback: 0 is not true or false"),
    ("n_outcomes", "200", 'n_outcomes: "200" is not a whole number of 0 or more'),
    ("n_positive", 1.5, "n_positive: 1.5 is not a whole number"),
    ("params.calibrate", "yes", 'params.calibrate: "yes" is not true or false'),
    ("params.cv", -1, "params.cv: -1 is not a whole number of 2 or more"),
    ("params.C", math.nan, "params.C: NaN is not a number above 0"),
    ("params.random_state", 2**40, "params.random_state: 1099511627776 is not a whole number of 0 to 4,294,967,295"),
    ("params.fallback_weights", {"trade": "1"}, "params.fallback_weights: {\"trade\": \"1\"} is not null or an object"),
    ("params.bogus", 1, "params.bogus: not a parameter of the scorer"),
    ("scaler", {"mean": [0.0]}, "scaler: not a field of a model"),
    ("coefficients.bogus", 0.5, "coefficients.bogus: not one of the model's features"),
    ("features", ["trade", "trade"], 'features: ["trade", "trade"] is not a list of distinct feature names'),
    ("features", "trade", 'features: "trade" is not a list'),
    ("kind", "bogus", "kind: "),
])
def test_a_damaged_field_is_refused_naming_the_file_and_the_field(learned, tmp_path, field, value, said):
    path = _write(tmp_path, _edited(learned, field, value))
    with pytest.raises(MatcherError) as caught:
        learn.load_model(path, KIND)
    message = str(caught.value)
    assert message.startswith(f"{path}, ") and said in message, message
    assert message.endswith("retrain it with python -m matcher learn")


def test_a_missing_coefficient_or_field_is_named(learned, tmp_path):
    model = json.loads(json.dumps(learned))
    del model["coefficients"]["trade"]
    with pytest.raises(MatcherError, match=r"coefficients\.trade: nothing \(it is missing\) is not a finite number"):
        learn.load_model(_write(tmp_path, model))
    del model["intercept"]
    with pytest.raises(MatcherError, match=r"intercept: nothing \(it is missing\)"):
        learn.load_model(_write(tmp_path, model))


def test_a_model_learn_writes_loads_and_the_bound_is_the_weights_files(engine, learned, cold, tmp_path):
    """The bound is the weights file's (``MAX_WEIGHT``): far above what ``learn`` writes (log-odds of a few
    units), so a real model loads, and a model at the bound still loads and scores every pair within a
    suggestions file's ``MAX_SCORE_MAGNITUDE`` (1e9); past the bound, it is refused."""
    assert max(abs(v) for v in learned["coefficients"].values()) < 100 and abs(learned["intercept"]) < 100
    assert learn.load_model(_write(tmp_path, learned), KIND).fallback_ is False
    assert learn.load_model(_write(tmp_path, cold), KIND).fallback_ is True
    at_bound = dict(learned, intercept=MAX_WEIGHT, coefficients={f: MAX_WEIGHT for f in learned["features"]})
    scores = learn.load_model(_write(tmp_path, at_bound), KIND).predict(engine.features(KIND).X)
    assert np.isfinite(scores).all() and np.abs(scores).max() < 1e9
    with pytest.raises(MatcherError, match="intercept: 1000000.1 is not a finite number of at most 1,000,000"):
        learn.load_model(_write(tmp_path, _edited(learned, "intercept", MAX_WEIGHT + 0.1)), KIND)


def test_a_cold_start_model_holds_weights_only(cold, tmp_path):
    """A cold start ranks with the preset's weights (shares of their total): no negative weight, no
    intercept, and not all zero (every score would be 0)."""
    with pytest.raises(MatcherError, match=r"coefficients\.trade: -0.5 is not a weight of 0 to 1,000,000 "
                                           r"\(fallback is true\)"):
        learn.load_model(_write(tmp_path, _edited(cold, "coefficients.trade", -0.5)), KIND)
    with pytest.raises(MatcherError, match="fallback: true .* needs an intercept of 0"):
        learn.load_model(_write(tmp_path, _edited(cold, "intercept", 2.0)), KIND)
    zero = _edited(cold, "coefficients", {f: 0.0 for f in cold["features"]})
    with pytest.raises(MatcherError, match="at least one coefficient above 0"):
        learn.load_model(_write(tmp_path, zero), KIND)


def test_a_version_of_true_is_not_version_1(learned, tmp_path):
    with pytest.raises(MatcherError, match="has model version True"):
        learn.load_model(_write(tmp_path, _edited(learned, "version", True)), KIND)


def test_long_values_are_cut_in_the_message(learned, tmp_path):
    with pytest.raises(MatcherError) as caught:
        learn.load_model(_write(tmp_path, _edited(learned, "coefficients.trade", "9" * 100_000)), KIND)
    assert len(str(caught.value)) < 500 and "(100,002 characters)" in str(caught.value)


@pytest.mark.parametrize("command", ["suggest", "evaluate"])
def test_the_cli_refuses_a_damaged_model_with_exit_2(learned, tmp_path, capsys, command):
    """As the review ran it: ``suggest --model`` (a pyarrow traceback for 1e308; 0 rows and exit 0 for NaN)
    and ``evaluate --model`` (plausible metrics from a NaN model)."""
    out = tmp_path / "s.csv"
    for value, shown in ((1e308, "1e+308"), (math.nan, "NaN"), (math.inf, "Infinity")):
        path = _write(tmp_path, _edited(learned, "coefficients.trade", value))
        args = (["suggest", "--kind", KIND, "--model", str(path), "--out", str(out)] if command == "suggest" else
                ["evaluate", "--kind", KIND, "--model", str(path)])
        assert main(args) == 2
        captured = capsys.readouterr()
        assert f"error: {path}, coefficients.trade: {shown} is not a finite number" in captured.err
        assert "Traceback" not in captured.err and not out.exists()
