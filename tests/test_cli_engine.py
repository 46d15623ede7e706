"""The engine's commands as a planner runs them: suggest, gaps, graph."""

from __future__ import annotations

import json
import re

import openpyxl
import pandas as pd
import pytest

from matcher.cli import main


def test_suggest_writes_csv_xlsx_json(tmp_path, capsys):
    csv_path = tmp_path / "xintang.csv"
    assert main(["suggest", "--kind", "east_west", "--for", "C056", "--top", "10", "--out", str(csv_path)]) == 0
    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM so Chinese opens in Excel
    table = pd.read_csv(csv_path, dtype=str, encoding="utf-8-sig")
    assert len(table) == 10 and set(table["left_id"]) == {"C056"}
    for col in ("rank", "left_name_zh", "right_name_en", "left_region", "right_region", "score", "reason_zh",
                "reason_en", "f_chain", "w_chain", "c_chain", "run_id", "data_version"):
        assert col in table.columns
    xlsx = tmp_path / "all.xlsx"
    assert main(["suggest", "--kind", "cluster_market", "--top", "3", "--out", str(xlsx)]) == 0
    book = openpyxl.load_workbook(xlsx)
    assert {"shortlist", "run", "candidates"} <= set(book.sheetnames)
    js = tmp_path / "peer.json"
    assert main(["suggest", "--kind", "peer_learning", "--top", "2", "--out", str(js)]) == 0
    payload = json.loads(js.read_text(encoding="utf-8"))
    assert payload["run"]["kind"] == "peer_learning" and payload["shortlist"]


def test_suggest_with_weights_file_and_bad_input(tmp_path, capsys):
    weights = tmp_path / "w.json"
    from matcher.docking.kinds import get_kind

    only_distance = {f: 0.0 for f in get_kind("east_west").features} | {"distance": 1.0}
    weights.write_text(json.dumps({"weights": only_distance}), encoding="utf-8")
    out = tmp_path / "near.csv"
    assert main(["suggest", "--kind", "east_west", "--for", "C056", "--top", "3", "--weights", str(weights),
                 "--out", str(out)]) == 0
    near = pd.read_csv(out, encoding="utf-8-sig")
    assert near["d_km"].is_monotonic_increasing
    bad = tmp_path / "bad.json"
    bad.write_text('{"weights": {"charm": 1}}', encoding="utf-8")
    assert main(["suggest", "--kind", "east_west", "--weights", str(bad), "--out", str(out)]) == 2
    assert "unknown features ['charm']" in capsys.readouterr().err
    for value, message in (('"much"', "must be a number, not 'much'"), ("-1", "must be a number of 0 or more")):
        bad.write_text('{"weights": {"chain": ' + value + '}}', encoding="utf-8")
        assert main(["suggest", "--kind", "east_west", "--weights", str(bad), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert str(bad) in err and message in err  # the file is named
    assert main(["suggest", "--kind", "east_west", "--for", "C999", "--out", str(out)]) == 2
    assert "no cluster, market or enterprise has the id 'C999'" in capsys.readouterr().err
    assert main(["suggest", "--kind", "east_west", "--out", str(tmp_path / "x.txt")]) == 2


def test_gaps_and_graph_commands(tmp_path, capsys):
    assert main(["gaps", "--for", "C025"]) == 0
    printed = capsys.readouterr().out
    assert "lacks spinning" in printed and "Keqiao" in printed
    assert "dyeing & finishing" in printed and "dyeing_finishing" not in printed  # words, not codes
    assert main(["gaps", "--for", "C025", "--lang", "zh"]) == 0
    printed = capsys.readouterr().out
    assert "缺少纺纱" in printed and "柯桥" in printed and "印染整理" in printed
    assert not re.search(r"[A-Za-z]{3,}", printed)  # one language: no English words in the Chinese text
    out = tmp_path / "gaps.csv"
    assert main(["gaps", "--out", str(out)]) == 0
    gaps = pd.read_csv(out, encoding="utf-8-sig", dtype=str)
    assert gaps["id"].nunique() > 100
    assert main(["graph", "--out", str(tmp_path / "g.graphml")]) == 0
    assert (tmp_path / "g.graphml").stat().st_size > 10_000


def _commands() -> list[str]:
    import pkgutil

    from matcher import commands

    return sorted(m.name for m in pkgutil.iter_modules(commands.__path__))


def test_top_level_help_lists_every_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    printed = capsys.readouterr().out
    assert all(name in printed for name in _commands())


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_suggest_enterprise_kind_at_scale_path(tmp_path, capsys):
    from matcher.ingest.synth import write_synthetic_dataset

    data = tmp_path / "firms"
    write_synthetic_dataset(data, 1500, seed=5)
    out = tmp_path / "firms.csv"
    assert main(["suggest", "--kind", "enterprise", "--data", str(data), "--top", "5", "--out", str(out)]) == 0
    table = pd.read_csv(out, dtype=str, encoding="utf-8-sig")
    assert table.groupby("left_id").size().max() == 5
    assert {"reason_zh", "reason_en", "f_chain", "c_same_cluster", "run_id", "data_version"} <= set(table.columns)
    xlsx = tmp_path / "one.xlsx"
    first = table["left_id"].iloc[0]
    assert main(["suggest", "--kind", "enterprise", "--data", str(data), "--for", first, "--top", "3",
                 "--out", str(xlsx)]) == 0
    shortlist = pd.read_excel(xlsx, sheet_name="shortlist", dtype=str)
    assert list(shortlist["left_id"].unique()) == [first] and len(shortlist) == 3
    capsys.readouterr()
    assert main(["suggest", "--kind", "east_west", "--neighbours", "8", "--out", str(tmp_path / "x.csv")]) == 2
    assert "--neighbours is not an option of the east_west kind" in capsys.readouterr().err
    # the candidate options reach the scale path: no similar-products source, a radius
    near = tmp_path / "near.csv"
    assert main(["suggest", "--kind", "enterprise", "--data", str(data), "--top", "5", "--neighbours", "8",
                 "--product-neighbours", "0", "--radius-km", "50", "--report", "--out", str(near)]) == 0
    err = capsys.readouterr().err
    assert "chain_adjacent_nearest_8" in err and "similar_products_0" in err
    nearby = pd.read_csv(near, encoding="utf-8-sig")
    assert len(nearby) and (nearby["d_km"] <= 50 + 1e-3).all()
    assert main(["suggest", "--kind", "enterprise", "--data", str(data), "--radius-km", "0",
                 "--out", str(near)]) == 2
    assert "radius must be a positive number" in capsys.readouterr().err


def test_bench_passes_options_to_the_script(capfd):
    assert main(["bench", "--only", "rescore", "--", "--repeats", "2"]) == 0
    assert "over 2 weight changes" in capfd.readouterr().out  # the child process got --repeats 2
    with pytest.raises(SystemExit) as done:
        main(["suggest", "--kind", "east_west", "--out", "x.csv", "--no-such-option"])
    assert done.value.code == 2


def test_gaps_for_an_empty_or_miscased_id_says_so(capsys):
    """``gaps --for ""`` listed every cluster (``suggest --for ""`` refuses); ``--for c056`` did not say C056."""
    from matcher.cli import main

    assert main(["gaps", "--for", " "]) == 2
    assert "--for needs an id" in capsys.readouterr().err
    assert main(["gaps", "--for", "c056"]) == 2
    assert "did you mean C056?" in capsys.readouterr().err
