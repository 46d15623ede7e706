"""The contribution waterfall of a ticked pair draws the features the weights score, and adds up to
the pair's score."""

from __future__ import annotations

import pytest

from app_components import charts, i18n
from matcher.docking.engine import DockingEngine
from matcher.docking.kinds import get_kind
from matcher.ingest.dataset import load_dataset


@pytest.fixture(scope="module")
def row():
    engine = DockingEngine(load_dataset())
    listed = engine.suggest("east_west", for_id="C025", top=5)
    return listed[listed["right_id"] == "C123"].iloc[0]


def test_a_feature_weighed_at_zero_gets_no_bar_and_the_bars_add_up_to_the_score(row):
    features = list(get_kind("east_west").features)
    zero = [f for f in features if row[f"w_{f}"] == 0]
    assert {"corridor", "traders"} <= set(zero)  # the presets leave them at 0 (docs/scoring.md)
    bars = charts.waterfall(row, features).data[0]
    labels = list(bars.x)
    assert labels[-1] == i18n.t("col_score")
    assert len(labels) == len(features) - len(zero) + 1
    assert not {i18n.feature_label(f) for f in zero} & set(labels)
    assert i18n.feature_label("policy") in labels
    assert sum(bars.y[:-1]) == pytest.approx(bars.y[-1])
