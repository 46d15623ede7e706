"""The learned-scorer benchmark's own checks run in the default test run (on a small registry)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_learned_scorer_benchmark_checks_every_backend(tmp_path):
    done = subprocess.run(
        [sys.executable, "benchmarks/bench_learned.py", "--enterprises", "1500", "--no-dask", "--cache", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "learned scorer: learned from" in out  # not the preset's cold start
    assert "learned differs from the preset: yes" in out and "memory == blocks: yes" in out
    assert out.strip().endswith("RESULT PASS")
