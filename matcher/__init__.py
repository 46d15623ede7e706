"""Industry-chain docking matchmaker: the library behind the app and the CLI.

The pipeline: load + validate -> candidates -> features -> score + explain -> select / assign ->
schedule -> export, with a store for decisions and outcomes (``docs/architecture.md``). This package
never imports streamlit. The facade below is all most callers need; names load on first use, so
``import matcher`` stays cheap.

Examples
--------
Load the bundled data, ask the engine for Xintang's (C056) best central and western partners, and
explain the first:

>>> import matcher
>>> data = matcher.load_dataset()
>>> engine = matcher.DockingEngine(data)
>>> top = engine.suggest("east_west", top=5, for_id="C056")
>>> top[["rank", "left_id"]].values.tolist()[0]
[1, 'C056']
>>> kind = matcher.get_kind("east_west")
>>> bool(abs(top[[f"c_{f}" for f in kind.features]].iloc[0].sum() - top["score"].iloc[0]) < 1e-9)
True

Pick one meeting per cluster (one-to-one) and schedule the meetings into slots and tables:

>>> pairs = engine.suggest("east_west", top=3)
>>> chosen = matcher.select(pairs, method="hungarian")
>>> chosen.check_validity()
True
>>> plan = matcher.schedule(chosen, 8, 40)
>>> plan.check_validity()
True

Record decisions in a store (a SQLite file here; PostgreSQL given its URL):

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> store = matcher.Store(f"sqlite:///{folder / 'matcher.db'}")
>>> store.is_empty()
True

Every planner-facing error is a ``MatcherError``:

>>> try:
...     engine.suggest("west_east")
... except matcher.MatcherError as err:
...     print(str(err).split(";")[0])
unknown docking kind 'west_east'
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

#: Public name -> the module that defines it.
_FACADE = {
    "load_dataset": "matcher.ingest.dataset",
    "Dataset": "matcher.ingest.dataset",
    "DockingEngine": "matcher.docking.engine",
    "new_run": "matcher.docking.engine",
    "DockingKind": "matcher.docking.kinds",
    "KINDS": "matcher.docking.kinds",
    "get_kind": "matcher.docking.kinds",
    "WeightedScorer": "matcher.docking.scoring",
    "LearnedScorer": "matcher.learning.learn",
    "select": "matcher.meetings.select",
    "schedule": "matcher.meetings.schedule",
    "Store": "matcher.store",
    "MatcherError": "matcher.exceptions",
    "ValidationError": "matcher.exceptions",
}

__all__ = [
    "KINDS", "Dataset", "DockingEngine", "DockingKind", "LearnedScorer", "MatcherError", "Store", "ValidationError",
    "WeightedScorer", "get_kind", "load_dataset", "new_run", "schedule", "select",
]

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from matcher.docking.engine import DockingEngine, new_run
    from matcher.docking.kinds import KINDS, DockingKind, get_kind
    from matcher.docking.scoring import WeightedScorer
    from matcher.exceptions import MatcherError, ValidationError
    from matcher.ingest.dataset import Dataset, load_dataset
    from matcher.learning.learn import LearnedScorer
    from matcher.meetings.schedule import schedule
    from matcher.meetings.select import select
    from matcher.store import Store


def __getattr__(name: str):
    if name in _FACADE:
        value = getattr(importlib.import_module(_FACADE[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'matcher' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_FACADE])
