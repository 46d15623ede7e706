"""Retraining from the app: outcomes in the store -> a learned model -> ranking with it on explore."""

from __future__ import annotations

import re

from conftest import go, table

from app_components.models import model_path
from matcher.docking.engine import DockingEngine
from matcher.ingest.dataset import load_dataset
from matcher.learning.learn import simulate_outcomes
from matcher.store import Store


def _record_simulated_outcomes(n: int) -> None:
    store = Store()
    outcomes = simulate_outcomes(DockingEngine(load_dataset()), "east_west", n_pairs=n, seed=3)
    for row in outcomes.itertuples():
        value = "no_further_contact" if row.outcome == "declined" else row.outcome
        store.record_outcome(row.left_id, row.right_id, row.kind, stage="followup", value=value, planner="li")


def test_too_few_outcomes_keep_the_preset(app, workspace):
    _record_simulated_outcomes(10)
    go(app, "outcomes")
    app.button(key="outcomes.retrain").click().run()
    assert not app.exception
    assert any("对有结果的配对" in c.value for c in app.caption)  # said in the page's language
    assert not [f for f in app.dataframe if "auc" in f.value.columns]  # nothing to compare
    assert not model_path("east_west").exists()
    go(app, "explore")
    assert not [w for w in app.toggle if w.key == "explore.learned.east_west"]


def test_retrain_saves_a_model_that_explore_ranks_with(app, workspace):
    _record_simulated_outcomes(120)
    go(app, "outcomes")
    app.selectbox(key="outcomes.retrain_kind").set_value("east_west").run()
    app.button(key="outcomes.retrain").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert not app.text  # no English summary in the Chinese page
    report = table(app, "auc")  # held-out comparison: weighted preset vs learned
    assert list(report["scorer"]) == ["权重方案", "学习得到的模型"]
    assert "基线（截距）" in set(table(app, "权重")["特征"])
    assert model_path("east_west").exists()
    go(app, "explore")
    preset_order = list(app.dataframe(key="explore.table.east_west").value["score"])
    app.toggle(key="explore.learned.east_west").set_value(True).run()
    assert not app.exception
    learned = app.dataframe(key="explore.table.east_west").value
    assert list(learned["score"]) != preset_order
    assert learned["score"].is_monotonic_decreasing


def test_a_pair_ticked_while_the_learned_model_ranked_keeps_the_models_reason(app, workspace, monkeypatch):
    """Pairs added while the learned model ranked were recorded with the slider weights, so the shortlist
    and its downloads explained them under the preset, not under the model that ranked them. The run now
    keeps the model's coefficients and intercept, and its preset reads "learned model"."""
    import io

    from openpyxl import load_workbook

    from app_components import downloads

    files = {}
    monkeypatch.setattr(downloads, "button", lambda label, data, file_name, key: files.__setitem__(file_name, data))
    _record_simulated_outcomes(120)
    go(app, "outcomes")
    app.selectbox(key="outcomes.retrain_kind").set_value("east_west").run()
    app.button(key="outcomes.retrain").click().run()
    go(app, "explore")
    app.toggle(key="explore.learned.east_west").set_value(True).run()
    ticked = app.dataframe(key="explore.table.east_west").value.iloc[0]
    app.session_state["explore.table.east_west"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    app.run()
    app.button(key="explore.add").click().run()
    assert not app.exception, [e.value for e in app.exception]
    runs = Store().runs()
    assert list(runs["preset"]) == ["learned"] and "baseline" in runs["weights"].iloc[0]
    go(app, "shortlist")
    shown = table(app, "reason")
    named = re.split(r"；\s*另有", ticked["reason"])[0]
    assert shown["reason"].iloc[0].startswith(named), (shown["reason"].iloc[0], named)
    book = load_workbook(io.BytesIO(next(data for name, data in files.items() if name.endswith(".xlsx"))))
    run = {str(k): v for k, v in book.worksheets[-1].iter_rows(values_only=True)}
    assert next(v for k, v in run.items() if k.startswith("权重方案")) == "学习得到的模型", run
    assert any("基线（截距）" in k for k in run), run  # the intercept in words, not "baseline"
