"""The planners' notebook runs top to bottom with the python3 kernel, fast, without errors."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "evaluate_and_retrain.ipynb"


def test_evaluate_and_retrain_notebook_runs(tmp_path):
    nb = nbformat.read(NOTEBOOK, as_version=4)
    started = time.monotonic()
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    elapsed = time.monotonic() - started
    assert elapsed < 60, f"notebook took {elapsed:.0f} s; keep it under 60 s"
    outputs = "\n".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", ""))
        for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])
    )
    assert "docking_popularity" in outputs and "learned scorer" in outputs
    assert "cold start" in outputs and "ambiguous" in outputs
    # nothing is written next to the notebook
    assert not list(NOTEBOOK.parent.glob("*.json"))
