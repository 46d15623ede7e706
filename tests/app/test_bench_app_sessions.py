"""The served-app benchmark (``benchmarks/bench_app_sessions.py``) measures and reports, on tiny settings.

The end-to-end check starts the app's server (through ``python -m matcher bench``, as the lead runs
it) and replays two planners over the websocket; the others check the client's pieces without one.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.proto.Selectbox_pb2 import Selectbox
from streamlit.proto.Slider_pb2 import Slider

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks" / "bench_app_sessions.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_app_sessions", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_widget_values_as_the_browser_sends_them():
    bench = _bench()
    slider = Slider(id="$$ID-abc-explore.weights.east_west.w.chain", default=[0.3])
    assert list(bench.initial_state("slider", slider).double_array_value.data) == [0.3]
    slider.value.append(0.8)
    slider.set_value = True  # the server set it (a preset): the browser takes the new value
    assert list(bench.initial_state("slider", slider).double_array_value.data) == [0.8]
    box = Selectbox(id="$$ID-def-explore.kind", options=["东西部对接", "市场对接"], default=1)
    assert bench.initial_state("selectbox", box).string_value == "市场对接"
    assert bench.Widget(slider.id, "slider", "", "", slider).key == "explore.weights.east_west.w.chain"
    assert bench.Widget("$$ID-abc-None", "slider", "", "", slider).key == ""
    assert bench.quantile([1.0, 2.0, 3.0, 4.0, 5.0], 0.5) == 3.0
    assert bench.quantile([1.0], 0.95) == 1.0


@pytest.mark.browser
def test_benchmark_reports_every_figure():
    done = subprocess.run(
        [sys.executable, "-m", "matcher", "bench", "--only", "app_sessions", "--",
         "--planners", "2", "--moves", "2", "--repeats", "1", "--sessions", "2", "--think", "0.2"],
        cwd=ROOT, capture_output=True, text=True, timeout=180,
    )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr[-3000:]
    for figure in ("first page, cold", "first page, warm", "explore: move a weight slider",
                   "explore: change 'show top N'", "explore: pick a weight preset", "page: explore -> overview",
                   "page: overview -> profile", "page: profile -> explore", "2 planners at once: slider move"):
        assert re.search(rf"^{re.escape(figure)}.*\b(PASS|FAIL)$", out, re.M), f"no row for {figure!r}:\n{out}"
    # the planners' moves really re-ranked the table (the benchmark breaks when none does)
    assert re.search(r"slider moves: .* table re-ranked in [1-4]/4$", out, re.M), out
    assert out.splitlines()[-1] in ("RESULT PASS", "RESULT FAIL"), out
