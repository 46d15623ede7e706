"""A learned model's JSON file, checked field by field before the model is rebuilt from it.

A model file (``python -m matcher learn`` writes it; ``suggest --model`` and ``evaluate --model`` read it)
is edited by hand and passed between colleagues like a weights file, so it is bounded like one: a
coefficient or the intercept is a JSON number (not ``"1"``, not ``true``) that is finite and of at most
:data:`matcher.limits.MAX_WEIGHT` in size (``learn`` writes log-odds of a few units; the bound keeps every
score far inside a suggestions file's :data:`~matcher.limits.MAX_SCORE_MAGNITUDE`, where ``1e308`` gave an
overflow traceback, NaN an empty list and infinity infinite scores); a true-or-false field is ``true`` or
``false`` (``"no"`` was read as true); each feature is given once, with one coefficient. Each refusal is a
:class:`~matcher.exceptions.MatcherError` naming the file and the field, and says to retrain the model. (A
key given twice in one object is refused when the file is read, as in every JSON input:
:func:`matcher.jsonfile.read_json_file`.)

Examples
--------
>>> check_model({"features": ["trade"], "coefficients": {"trade": float("nan")}, "intercept": 0.5,
...              "fallback": False}, "m.json")
Traceback (most recent call last):
...
matcher.exceptions.MatcherError: m.json, coefficients.trade: NaN is not a finite number of at most 1,000,000 in size; retrain it with python -m matcher learn
"""

from __future__ import annotations

import json

from matcher import limits
from matcher.exceptions import MatcherError
from matcher.ingest.validate import clip
from matcher.text import UNPRINTABLE

RETRAIN = "retrain it with python -m matcher learn"


def _number(v: object, low: float = -limits.MAX_WEIGHT) -> bool:
    """A JSON number (not true or false) of ``low`` to ``limits.MAX_WEIGHT``; NaN and infinity are none."""
    return isinstance(v, int | float) and not isinstance(v, bool) and low <= v <= limits.MAX_WEIGHT


def _whole(v: object, low: int = 0, high: float = float("inf")) -> bool:
    """A JSON whole number (not true or false) of ``low`` to ``high``."""
    return isinstance(v, int) and not isinstance(v, bool) and low <= v <= high


#: Longest ``reason`` of a model file: ``learn`` writes one line ("learned from 200 labelled outcomes ...");
#: the CLI and the app show it.
MAX_REASON_CHARS = 500
NUMBER = f"a finite number of at most {limits.MAX_WEIGHT:,.0f} in size"
WEIGHT = f"a weight of 0 to {limits.MAX_WEIGHT:,.0f}"
_WHOLE = "a whole number of 0 or more"
#: Each field of a model file (``params.cv`` is ``cv`` in ``params``): a test of its JSON value, and what it
#: must be, in words. The first four must be there; ``coefficients`` are checked one by one (:func:`check_model`).
MODEL_FIELDS = {
    "features": (lambda v: isinstance(v, list) and all(isinstance(f, str) for f in v) and 0 < len(set(v)) == len(v),
                 "a list of distinct feature names"),
    "coefficients": (lambda v: isinstance(v, dict), "an object of a coefficient per feature"),
    "intercept": (_number, NUMBER),
    "fallback": (lambda v: isinstance(v, bool), "true or false"),
    "kind": (lambda v: v is None or isinstance(v, str), "a docking kind's name"),
    "reason": (lambda v: isinstance(v, str) and len(v) <= MAX_REASON_CHARS and not UNPRINTABLE.search(v),
               f"a text of at most {MAX_REASON_CHARS} characters without control characters"),
    "n_outcomes": (_whole, _WHOLE),
    "n_positive": (_whole, _WHOLE),
    "params": (lambda v: isinstance(v, dict), "an object of the scorer's parameters"),
    "metadata": (lambda v: isinstance(v, dict), "an object"),
    "params.C": (lambda v: _number(v, 0) and v > 0, f"a number above 0, at most {limits.MAX_WEIGHT:,.0f}"),
    "params.calibrate": (lambda v: isinstance(v, bool), "true or false"),
    "params.cv": (lambda v: _whole(v, 2), "a whole number of 2 or more"),
    "params.min_outcomes": (_whole, _WHOLE),
    "params.random_state": (lambda v: _whole(v, 0, limits.MAX_SEED), f"a whole number of 0 to {limits.MAX_SEED:,}"),
    "params.preset": (lambda v: v is None or isinstance(v, str), "a preset's name or null"),
    "params.fallback_weights": (lambda v: v is None or isinstance(v, dict) and all(_number(w, 0) for w in v.values()),
                                f"null or an object of weights of 0 to {limits.MAX_WEIGHT:,.0f}"),
}
_REQUIRED = ("features", "coefficients", "intercept", "fallback")
_MISSING = object()


def _refuse(source: str, name: str, value: object, what: str) -> MatcherError:
    shown = "nothing (it is missing)" if value is _MISSING else clip(json.dumps(value, ensure_ascii=False))
    return MatcherError(f"{source}, {name}: {shown} is not {what}; {RETRAIN}")


def check_model(data: dict, source: str) -> None:
    """Check every field of a model's JSON content ``data`` (its ``format`` and ``version`` already checked).

    Raises
    ------
    MatcherError
        A field is missing, not one :func:`~matcher.learning.learn.model_to_dict` writes, or not what
        :data:`MODEL_FIELDS` says; a coefficient is not a
        finite number of at most ``limits.MAX_WEIGHT`` in size (of 0 or more for a cold start, whose
        coefficients are the preset's weights, at least one above 0 and no intercept); a feature has no
        coefficient or a coefficient no feature. The message names ``source`` and the field.
    """
    params = data.get("params", {})
    for name, (ok, what) in MODEL_FIELDS.items():
        holder, key = (params, name[len("params."):]) if name.startswith("params.") else (data, name)
        value = holder.get(key, _MISSING) if isinstance(holder, dict) else _MISSING
        if (value is _MISSING and name in _REQUIRED) or (value is not _MISSING and not ok(value)):
            raise _refuse(source, name, value, what)
    features, fallback, coefficients = data["features"], data["fallback"], data["coefficients"]
    unknown = {**{k: "a field of a model" for k in data if k not in (*MODEL_FIELDS, "format", "version")},
               **{f"params.{p}": "a parameter of the scorer" for p in params if f"params.{p}" not in MODEL_FIELDS},
               **{f"coefficients.{f}": "one of the model's features" for f in coefficients if f not in features}}
    if unknown:
        name, what = next(iter(unknown.items()))
        raise MatcherError(f"{source}, {clip(name)}: not {what}; {RETRAIN}")
    for f in features:
        value = coefficients.get(f, _MISSING)
        if not _number(value, 0 if fallback else -limits.MAX_WEIGHT):
            raise _refuse(source, f"coefficients.{f}", value, f"{WEIGHT} (fallback is true)" if fallback else NUMBER)
    if fallback and (data["intercept"] != 0 or not any(coefficients[f] > 0 for f in features)):
        raise MatcherError(f"{source}, fallback: true (the weighted preset) needs an intercept of 0 and at least "
                           f"one coefficient above 0; {RETRAIN}")
    if data.get("n_positive", 0) > data.get("n_outcomes", 0):
        raise MatcherError(f"{source}, n_positive: more good outcomes than n_outcomes; {RETRAIN}")


__all__ = ["MODEL_FIELDS", "NUMBER", "RETRAIN", "WEIGHT", "check_model"]
