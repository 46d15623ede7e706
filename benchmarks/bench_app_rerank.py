"""Benchmark: moving a weight slider re-ranks the explore page's list (target: under 1 s).

Run with ``.venv/bin/python benchmarks/bench_app_rerank.py`` (``--help`` for the options). Prints two
figures on the bundled data, east-west docking (the largest cluster kind):

1. ``rerank``: the library work behind one slider move - re-score every candidate pair, sort, and
   build the shown top list with names and bilingual reasons (``app_components.ranking``);
2. ``page``: a whole AppTest rerun of the explore page after a slider move (script, table, arc map
   and the protobufs Streamlit sends), which is what the planner waits for minus the browser's paint.

Each is the median of ``--repeats`` moves, after one warm-up that builds the cached features.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app_components.ranking import ranked_pairs  # noqa: E402
from matcher.docking.engine import DockingEngine  # noqa: E402
from matcher.docking.kinds import EAST_WEST  # noqa: E402
from matcher.ingest.dataset import load_dataset  # noqa: E402

TARGET_S = 1.0
KIND = EAST_WEST.name
SLIDER = f"explore.weights.{KIND}.w.chain"


def bench_rerank(repeats: int, top: int) -> list[float]:
    engine = DockingEngine(load_dataset())
    weights = engine.weights(KIND)
    ranked_pairs(engine, KIND, weights, top=top)  # warm-up: candidate features are built once
    times = []
    for i in range(repeats):
        weights = {**weights, "chain": (i % 20) / 20}
        start = time.perf_counter()
        ranked_pairs(engine, KIND, weights, top=top)
        times.append(time.perf_counter() - start)
    return times


def bench_page(repeats: int) -> list[float]:
    from streamlit.testing.v1 import AppTest  # noqa: TID251 - drives the app

    os.environ["MATCHER_WORKSPACE"] = tempfile.mkdtemp(prefix="bench-app-")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    at.switch_page("app_pages/explore.py").run()
    if at.exception:
        raise SystemExit(f"the explore page failed: {at.exception[0].value}")
    times = []
    for i in range(repeats):
        slider = at.slider(key=SLIDER)
        start = time.perf_counter()
        slider.set_value(round(((i + 1) % 20) / 20, 2)).run()
        times.append(time.perf_counter() - start)
        if at.exception:
            raise SystemExit(f"the explore page failed: {at.exception[0].value}")
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10, help="slider moves to time (default 10)")
    parser.add_argument("--top", type=int, default=30, help="rows in the shown list (default 30, the page's)")
    parser.add_argument("--no-page", action="store_true", help="skip the AppTest page rerun timing")
    # `python -m matcher bench --only app_rerank -- --no-page` passes the "--" through
    args = parser.parse_args([a for a in (sys.argv[1:] if argv is None else argv) if a != "--"])
    rerank = bench_rerank(args.repeats, args.top)
    print(f"rerank (library, {KIND}, top {args.top}): median {statistics.median(rerank) * 1000:.1f} ms, "
          f"max {max(rerank) * 1000:.1f} ms over {len(rerank)} moves")
    worst = statistics.median(rerank)
    if not args.no_page:
        print("page rerun: starting the app in AppTest (first run loads the data)...", file=sys.stderr)
        page = bench_page(args.repeats)
        print(f"page (AppTest rerun of the explore page after a slider move): median "
              f"{statistics.median(page) * 1000:.0f} ms, max {max(page) * 1000:.0f} ms over {len(page)} moves")
        worst = max(worst, statistics.median(page))
    verdict = "OK" if worst < TARGET_S else "TOO SLOW"
    print(f"target under {TARGET_S:.0f} s: {verdict}")
    return 0 if worst < TARGET_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
