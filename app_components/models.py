"""Learned scorers in the app: retrain a kind's scorer from the store's outcomes and keep it in the
workspace (``<workspace>/models/<kind>.json``) for the explore page to rank with.

No streamlit here (caching of the loaded model lives in ``cache.py``).
"""

from __future__ import annotations

from pathlib import Path

from matcher.learning.learn import TrainingResult, save_model, train_from_outcomes
from matcher.store.store import workspace_dir


def model_path(kind: str) -> Path:
    return workspace_dir() / "models" / f"{kind}.json"


def retrain(engine, store, kind: str, planner: str) -> TrainingResult:
    """Train ``kind``'s scorer from every outcome in the store; save it when it learned something.

    A cold-start result (too few outcomes) is not saved: ranking keeps the weighted preset. The
    saved model ranks for everybody, so retraining is a planner's (or an admin's) work once the store
    holds accounts (:class:`~matcher.exceptions.AccessError` otherwise, before any training).
    """
    store.require(planner, "planner")
    result = train_from_outcomes(engine, kind, store=store)
    if not result.scorer.fallback_:
        path = model_path(kind)
        path.parent.mkdir(parents=True, exist_ok=True)
        save_model(result.scorer, path, metadata={"data_version": engine.dataset.version, "planner": planner})
    return result
