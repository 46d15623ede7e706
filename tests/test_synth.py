"""The synthetic enterprise generator: determinism, schema, consistency with the real clusters,
safe writing, the CLI and a small run of its benchmark."""

from __future__ import annotations

import doctest
import hashlib
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import matcher.ingest.synth as synth
import matcher.ingest.synth_rules as rules
from matcher.cli import main
from matcher.columns import ENTERPRISES
from matcher.exceptions import MatcherError
from matcher.ingest.dataset import BUNDLED_DATA, load_dataset
from matcher.vocab import LIST_SEPARATOR, STAGE_ORDER

REPO = Path(__file__).resolve().parents[1]
N = 2_000
SEED = 7


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def written(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "dataset"
    synth.write_synthetic_dataset(out, N, SEED)
    return out


@pytest.fixture(scope="module")
def enterprises(written) -> pd.DataFrame:
    return pd.read_csv(written / "enterprises.csv", dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def clusters() -> pd.DataFrame:
    return load_dataset().clusters.set_index("id")


def test_same_seed_gives_byte_identical_files(written, tmp_path):
    again = tmp_path / "again"
    synth.write_synthetic_dataset(again, N, SEED)
    for name in synth.OUTPUT_FILES:
        assert sha256(again / name) == sha256(written / name), name


def test_different_seed_gives_a_different_file(written, tmp_path):
    other = tmp_path / "other"
    synth.write_synthetic_dataset(other, N, SEED + 1)
    assert sha256(other / "enterprises.csv") != sha256(written / "enterprises.csv")


def test_clusters_and_markets_are_the_bundled_files_unchanged(written):
    for name in ("clusters.csv", "markets.csv"):
        assert (written / name).read_bytes() == (BUNDLED_DATA / name).read_bytes()
    assert sorted(p.name for p in written.iterdir()) == sorted(synth.OUTPUT_FILES)  # no temp files left


def test_columns_ids_and_names(enterprises):
    assert list(enterprises.columns) == ENTERPRISES.names
    assert len(enterprises) == N
    assert enterprises["id"].tolist() == [f"E{i:07d}" for i in range(1, N + 1)]
    assert enterprises["name_zh"].is_unique and enterprises["name_en"].is_unique
    assert enterprises["name_zh"].str.match(r"^\S+\d{5}$").all()
    assert enterprises["name_en"].str.match(r"^.+ \d{5}$").all()


def test_every_enterprise_sits_in_a_real_cluster_and_shares_its_place(enterprises, clusters):
    assert enterprises["cluster_id"].isin(clusters.index).all()
    home = clusters.loc[enterprises["cluster_id"]]
    for column in ("province", "city", "region"):
        assert (enterprises[column].to_numpy() == home[column].astype(str).to_numpy()).all(), column
    dlat_km = (enterprises["lat"].astype(float).to_numpy() - home["lat"].astype(float).to_numpy()) * 111
    dlon_km = (
        (enterprises["lon"].astype(float).to_numpy() - home["lon"].astype(float).to_numpy())
        * 111
        * np.cos(np.radians(home["lat"].astype(float).to_numpy()))
    )
    assert np.abs(dlat_km).max() <= rules.JITTER_MAX_KM + 0.01
    assert np.abs(dlon_km).max() <= rules.JITTER_MAX_KM + 0.01
    assert np.hypot(dlat_km, dlon_km).mean() > 1.0  # really moved, not the cluster's point


def test_stages_are_one_or_two_of_the_clusters_own_in_chain_order(enterprises, clusters):
    own = clusters["stages"].str.split(LIST_SEPARATOR).map(set)
    for cluster_id, stages in zip(enterprises["cluster_id"], enterprises["stages"], strict=True):
        parts = stages.split(LIST_SEPARATOR)
        assert 1 <= len(parts) <= 2
        assert parts == sorted(parts, key=STAGE_ORDER.get)
        assert set(parts) <= own[cluster_id], (cluster_id, stages)
    two = enterprises["stages"].str.contains(LIST_SEPARATOR).mean()
    assert 0.1 < two < 0.3


def test_buys_are_upstream_stages_from_the_chain_links(enterprises):
    links = load_dataset().chain_links
    strong = links[links["strength"].astype(float) >= rules.MIN_BUY_STRENGTH]
    upstream: dict[str, set[str]] = {}
    for supplier, buyer in zip(strong["supplier_stage"], strong["buyer_stage"], strict=True):
        upstream.setdefault(buyer, set()).add(supplier)
    unknown = 0
    for stages, buys in zip(enterprises["stages"], enterprises["buys"], strict=True):
        own = set(stages.split(LIST_SEPARATOR))
        expected = set().union(*(upstream.get(s, set()) for s in own)) - own
        if buys == "":
            unknown += expected != set()
            continue
        assert set(buys.split(LIST_SEPARATOR)) == expected, (stages, buys)
    assert 0.15 < unknown / N < 0.35  # about a quarter left unknown on purpose


def test_products_are_bilingual_and_fit_the_stages(enterprises):
    texts = {s: {f"{en} {zh}" for en, zh, _ in items} for s, items in rules.PRODUCTS.items()}
    for stages, products in zip(enterprises["stages"], enterprises["products"], strict=True):
        items = products.split("; ")
        assert len(items) == len(stages.split(LIST_SEPARATOR))
        for stage, item in zip(stages.split(LIST_SEPARATOR), items, strict=True):
            assert item in texts[stage], (stages, products)
            assert re.search(r"[a-z]", item) and re.search(r"[\u4e00-\u9fff]", item)


def test_capacity_workers_flag_and_provenance(enterprises):
    capacity = pd.to_numeric(enterprises["capacity"].replace("", np.nan))
    workers = pd.to_numeric(enterprises["n_workers"].replace("", np.nan))
    assert 0.08 < capacity.isna().mean() < 0.25 and 0.12 < workers.isna().mean() < 0.3
    assert (capacity.dropna() >= 1).all() and (workers.dropna() >= 3).all()
    # Medians follow the stage: spinning mills are bigger in tonnes than garment factories.
    by_stage = capacity.groupby(enterprises["stages"]).median()
    assert by_stage["spinning"] > 3 * by_stage["apparel"]
    assert (enterprises["synthetic"] == "true").all()
    assert (
        enterprises["provenance"] == f"synthetic, seed {SEED}, matcher synth v{synth.SYNTH_VERSION}"
    ).all()


def test_the_cluster_specialty_dominates_and_trading_is_rare():
    frame = synth.synthesize_enterprises(20_000, 3)
    main_stage = frame["stages"].str.split(LIST_SEPARATOR).explode()
    cluster = frame.loc[main_stage.index, "cluster_id"]
    share = main_stage.groupby(cluster.to_numpy()).value_counts(normalize=True)
    # Datang: socks & hosiery first; machinery and trading are side lines.
    assert share["C030"]["knitting"] > 0.6
    assert share["C030"].get("trading", 0) < 0.15 and share["C030"].get("machinery", 0) < 0.2
    # Jianhu has only machinery: it stays machinery (the one way a rare stage dominates).
    assert set(share["C011"].index) == {"machinery"}
    overall = main_stage.value_counts(normalize=True)
    assert overall.get("trading", 0) + overall.get("machinery", 0) < 0.08
    counts = synth.enterprise_counts(20_000, 3, load_dataset().clusters)
    assert counts.sum() == 20_000
    seen = frame["cluster_id"].value_counts().reindex(counts.index, fill_value=0)
    assert seen.tolist() == counts.tolist()


def test_the_folder_loads_as_a_dataset(written):
    data = load_dataset(written)
    assert len(data.enterprises) == N
    assert data.enterprises["synthetic"].all()
    assert str(data.enterprises["capacity"].dtype) == "Float64"
    assert str(data.enterprises["n_workers"].dtype) == "Int64"


def test_validate_command_accepts_the_folder(written):
    done = subprocess.run(
        [sys.executable, "-m", "matcher", "validate", str(written)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{N} enterprises" in done.stdout


def test_cli_refuses_a_folder_that_is_not_empty_unless_forced(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("keep me")
    assert main(["synth", "--enterprises", "50", "--seed", "1", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "--force" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert main(["synth", "--enterprises", "50", "--seed", "1", "--out", str(tmp_path), "--force"]) == 0
    assert "wrote 50 synthetic enterprises" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*synth.OUTPUT_FILES, "notes.txt"])


def test_cli_help_and_bad_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit) as stop:
        main(["synth", "--help"])
    assert stop.value.code == 0
    assert "--enterprises" in capsys.readouterr().out
    assert main(["synth", "--enterprises", "0", "--out", str(tmp_path / "a")]) == 2
    assert "at least 1" in capsys.readouterr().err
    assert main(["synth", "--enterprises", "5", "--seed", "-1", "--out", str(tmp_path / "b")]) == 2
    with pytest.raises(MatcherError, match="whole number"):
        synth.write_synthetic_dataset(tmp_path / "c", 2.5, 1)
    file = tmp_path / "file.csv"
    file.write_text("x")
    assert main(["synth", "--enterprises", "5", "--out", str(file)]) == 2
    assert "is a file" in capsys.readouterr().err


def test_an_interrupted_run_leaves_no_half_written_file(tmp_path, monkeypatch):
    real = synth.iter_enterprise_csv

    def breaks_midway(*args, **kwargs):
        blocks = real(*args, **kwargs)
        yield next(blocks)
        raise KeyboardInterrupt

    monkeypatch.setattr(synth, "BLOCK_ROWS", 100)
    monkeypatch.setattr(synth, "iter_enterprise_csv", breaks_midway)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        synth.write_synthetic_dataset(out, 1_000, 1)
    assert list(out.iterdir()) == []


def test_block_size_only_splits_the_text(monkeypatch):
    clusters, links = load_dataset().clusters, load_dataset().chain_links
    whole = "".join(text for _, text in synth.iter_enterprise_csv(500, 4, clusters, links))
    monkeypatch.setattr(synth, "BLOCK_ROWS", 500)
    single = [text for _, text in synth.iter_enterprise_csv(500, 4, clusters, links)]
    assert len(single) == 1 and single[0] == whole
    assert whole.count("\n") == 500


def test_vocabulary_needs_no_csv_quoting_and_doc_examples_hold():
    for items in rules.PRODUCTS.values():
        for en, zh, _ in items:
            assert synth.csv_field(f"{en} {zh}") == f"{en} {zh}"
    assert synth.csv_field('say "hi", then') == '"say ""hi"", then"'
    assert doctest.testmod(synth).failed == 0


def test_benchmark_runs_and_prints_both_figures():
    done = subprocess.run(
        [sys.executable, "benchmarks/bench_synth.py", "--enterprises", "20000"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"wall time\s+\d+\.\d+ s", done.stdout)
    assert re.search(r"peak RSS\s+[\d,]+ MiB", done.stdout)
    assert "output checks          OK" in done.stdout
