"""An upload into a full or unwritable workspace gives a planner's message and changes nothing."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from app_components import datasets
from matcher.exceptions import MatcherError
from matcher.ingest.dataset import BUNDLED_DATA


def test_full_workspace_upload_is_refused_cleanly(workspace, monkeypatch):
    content = (BUNDLED_DATA / "clusters.csv").read_bytes()

    def disk_full(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    with pytest.raises(MatcherError, match="could not be stored .*No space left on device.*nothing was changed"):
        datasets.stage_upload("clusters.csv", content, "clusters")
    assert list(datasets.datasets_dir().glob("*")) == []  # no staging folder left behind


def test_unwritable_workspace_is_named(workspace, monkeypatch):
    blocker = workspace.parent / "blocked"
    blocker.write_text("a file where the workspace folder should be", encoding="utf-8")
    monkeypatch.setenv("MATCHER_WORKSPACE", str(blocker))
    with pytest.raises(MatcherError, match="cannot be written"):
        datasets.stage_upload("clusters.csv", b"id\n", "clusters")
