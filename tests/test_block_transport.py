"""What a block carries between processes: a Dask worker answers with its rows in numbers (positions,
codes, compact numbers), the client adds the names; the entities cross as a copy without caches.
Every path must give the rows the in-process pipeline gives, to the last bit."""

from __future__ import annotations

import pickle
import threading
import time

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from matcher.docking import backends
from matcher.docking.job import (
    FOCAL,
    PARTNER,
    _compact,
    block_features,
    rank_block,
    ranked_numbers,
    with_texts,
)
from matcher.docking.kinds import KINDS, get_kind
from matcher.ingest.dataset import load_dataset
from matcher.ingest.synth import write_synthetic_dataset


@pytest.fixture(scope="module")
def firms(tmp_path_factory):
    from matcher.docking.engine import DockingEngine

    folder = tmp_path_factory.mktemp("synth600")
    write_synthetic_dataset(folder, 600, 3)
    return DockingEngine(load_dataset(folder))


def _same_bits(a: pa.Table, b: pa.Table) -> None:
    assert a.schema.equals(b.schema), (a.schema, b.schema)
    for name in a.column_names:
        x, y = a[name].combine_chunks(), b[name].combine_chunks()
        if pa.types.is_floating(x.type):
            width = np.int64 if pa.types.is_float64(x.type) else np.int32
            assert np.array_equal(x.to_numpy(zero_copy_only=False).view(width),
                                  y.to_numpy(zero_copy_only=False).view(width)), name
        else:
            assert x.equals(y), name


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_blocks_rows_in_numbers_finish_as_the_in_process_rows(engine, firms, kind):
    """For every kind: the compact answer of a worker, finished by ``with_texts``, is bit for bit the
    table an in-process block writes (ids, names, stage names, sides, weights and scores)."""
    eng = firms if kind == "enterprise" else engine
    kind = get_kind(kind)
    E, params = eng.entities(kind), eng.params(kind)
    focal = eng.listed(kind)
    scorer = eng.scorer(kind)
    for reasons in (True, False):
        whole = rank_block(kind, E, block_features(kind, E, focal, params), scorer, 7, reasons=reasons)
        compact = ranked_numbers(kind, E, block_features(kind, E, focal, params), scorer, 7, reasons=reasons,
                                 compact=True)
        assert whole.num_rows > 0
        _same_bits(with_texts(kind, E, compact), whole)
        assert not {"left_id", "left_name_zh", "right_name_en", "kind"} & set(compact.column_names)
        assert pa.types.is_int32(compact[FOCAL].type) and pa.types.is_int32(compact[PARTNER].type)
        weights = [c for c in compact.column_names if c.startswith("w_")]
        assert weights and all(pa.types.is_dictionary(compact[c].type) for c in weights)  # one weight a column
        if not reasons and kind.name == "enterprise":
            assert compact.nbytes < 0.5 * whole.nbytes  # what crosses from a worker


def test_compact_numbers_keep_every_value_exactly(engine):
    """Weights (one value), float32 features, other float64 values and unknowns survive the trip."""
    rng = np.random.default_rng(4)
    n = 500
    columns = {
        "w_a": np.full(n, 0.1 / 1.1),  # a weight share: one value, not a float32
        "f_a": rng.random(n).astype(np.float32).astype(np.float64),  # a float32 feature
        "c_a": rng.random(n) / 3.0,  # needs float64
        "f_b": np.where(rng.random(n) < 0.3, np.nan, rng.random(n).astype(np.float32)).astype(np.float64),
        "w_b": np.r_[np.full(n - 1, 0.5), 0.25],  # not one value throughout
        "c_b": np.full(n, np.nan),  # unknown throughout: NaN is not one value
    }
    packed = {name: _compact(values) for name, values in columns.items()}
    assert pa.types.is_dictionary(packed["w_a"].type)
    assert pa.types.is_float32(packed["f_a"].type) and pa.types.is_float32(packed["f_b"].type)
    assert pa.types.is_float64(packed["c_a"].type)
    E = engine.entities("east_west")
    numbers = pa.table({FOCAL: pa.array(np.zeros(n, np.int32)), PARTNER: pa.array(np.ones(n, np.int32)),
                        "rank": pa.array(np.ones(n, np.int32)), "score": pa.array(rng.random(n)), **packed})
    finished = with_texts("east_west", E, numbers)
    for name, values in columns.items():
        got = finished[name].to_numpy()
        assert finished[name].type == pa.float64() and np.array_equal(got.view(np.int64), values.view(np.int64)), name
    assert finished["left_id"].to_pylist() == [E.ids[0]] * n and finished["rank"].type == pa.int64()


def test_entities_cross_as_the_same_table_without_caches(firms):
    """A copy of the entities (what a worker receives) has the same table, the same dtypes (ids stay
    Python strings) and none of the caches built on the client."""
    E = firms.entities("enterprise")
    E.arrow  # noqa: B018 - caches built here
    E.index  # noqa: B018
    copied = pickle.loads(pickle.dumps(E, protocol=5))
    pd.testing.assert_frame_equal(copied.table, E.table, check_exact=True)
    assert copied.table.dtypes.equals(E.table.dtypes)
    assert E.table["id"].dtype == object and isinstance(copied.table["id"].iloc[0], str)
    assert "arrow" not in copied.__dict__ and "index" not in copied.__dict__
    assert np.array_equal(copied.need, E.need) and list(copied.ids) == list(E.ids)
    assert "_text_columns" not in copied.__dict__
    assert copied.arrow["name_zh"].equals(E.arrow["name_zh"])


def test_a_worker_gets_a_plain_processes_allocator():
    """A nanny starts its worker with MALLOC_TRIM_THRESHOLD_, which pinned glibc's mmap threshold at
    128 KiB; the worker setup sets the thresholds of a plain process (glibc's mallopt says yes)."""
    import sys

    if not sys.platform.startswith("linux"):
        pytest.skip("glibc's allocator exists on Linux only")
    assert backends.set_worker_malloc() is True


def test_each_worker_gets_its_own_copy_and_the_clients_search_structures(firms):
    """The entities go to each worker straight from the client, as a copy without search structures;
    the structures the client built go after them; a worker attaches them and ranks the same rows."""
    from dataclasses import replace

    from distributed import Client, LocalCluster

    E = firms.entities("enterprise")
    firms.suggest("enterprise", 3)  # builds the search structures here
    assert E.indexes
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as local, \
            Client(local.scheduler_address) as client:
        workers = sorted(client.scheduler_info()["workers"])
        copies = backends._send_each(client, replace(E, indexes={}), workers)
        structures = backends._send_each(client, dict(E.indexes), workers)
        assert sorted(copies) == sorted(structures) == workers
        where = client.who_has([*copies.values(), *structures.values()])
        for worker in workers:
            assert list(where[copies[worker].key]) == list(where[structures[worker].key]) == [worker]
            held = client.submit(lambda e, s: (len(e), len(e.indexes), sorted(map(str, s))), copies[worker],
                                 structures[worker], workers=[worker], pure=False)
            assert held.result() == (len(E), 0, sorted(map(str, E.indexes)))
        remote = firms.suggest("enterprise", 3, backend="dask", block_size=100)
        assert all(client.run(lambda: __import__("matcher.docking.backends").docking.backends._WORKER_MALLOC).values())
    pd.testing.assert_frame_equal(remote, firms.suggest("enterprise", 3), check_exact=True)


_CALLS: list[int] = []
_LOCK = threading.Lock()
_REAL_WORKER_BLOCK = backends._worker_block


def _slow_first(E, structures, focal, job):  # module level: the task refers to it by name
    with _LOCK:
        _CALLS.append(len(focal))
        first = len(_CALLS) == 1
    if first:
        time.sleep(2.0)
    return _REAL_WORKER_BLOCK(E, structures, focal, job)


def test_dask_blocks_come_back_in_block_order_whatever_order_they_finish(firms, monkeypatch, tmp_path):
    """The first block is slow, so later ones finish before it; the file still holds the blocks in
    order: byte for byte the in-process file."""
    from distributed import Client, LocalCluster

    _CALLS.clear()
    monkeypatch.setattr(backends, "_worker_block", _slow_first)
    with LocalCluster(n_workers=2, processes=False, threads_per_worker=1, dashboard_address=None) as local, \
            Client(local.scheduler_address):
        firms.suggest("enterprise", 4, backend="dask", block_size=50, out=tmp_path / "dask.csv")
    firms.suggest("enterprise", 4, block_size=50, out=tmp_path / "local.csv")
    assert len(_CALLS) == 12  # 600 firms in blocks of 50, all through the slow path
    assert (tmp_path / "dask.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_a_kinds_blocks_read_only_the_table_columns_it_declares(engine, firms, kind):
    """A worker receives only ``block_columns`` of the table (``for_blocks``): the kind's candidates
    and features must not read another (a KeyError here), and the rows are the same."""
    eng = firms if kind == "enterprise" else engine
    kind = get_kind(kind)
    E, params = eng.entities(kind), eng.params(kind)
    slim = backends.for_blocks(E, kind)
    assert slim.indexes == {} and E.table is not slim.table or kind.block_columns is None
    if kind.block_columns is not None:
        assert list(slim.table.columns) == list(kind.block_columns) and len(slim.table) == len(E)
    focal, scorer = eng.listed(kind), eng.scorer(kind)
    whole = ranked_numbers(kind, E, block_features(kind, E, focal, params), scorer, 7, compact=True)
    alone = ranked_numbers(kind, slim, block_features(kind, slim, focal, params), scorer, 7, compact=True)
    _same_bits(alone, whole)
    assert get_kind("enterprise").block_columns == ()  # a registry's worker gets no text at all


def test_a_worker_leaving_mid_run_is_a_clear_error_and_writes_nothing(firms, monkeypatch, tmp_path):
    """A worker dies after the first block is back: its blocks (and its copy of the data) are lost.
    The run says so at once, names the worker, and leaves no file; it never waits forever."""
    import os

    from distributed import Client, LocalCluster

    from matcher.exceptions import MatcherError

    real, killed = backends.finish_block, []

    def kill_after_first(E, job, result):
        if not killed:
            from distributed import get_client

            client = get_client()
            victim = sorted(client.scheduler_info()["workers"])[0]
            client.run(os._exit, 1, workers=[victim], on_error="ignore")
            killed.append(victim)
        return real(E, job, result)

    monkeypatch.setattr(backends, "finish_block", kill_after_first)
    target = tmp_path / "s.parquet"
    with LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None) as local, \
            Client(local.scheduler_address):
        started = time.perf_counter()
        with pytest.raises(MatcherError, match="left during the run") as raised:
            firms.suggest("enterprise", 4, backend="dask", block_size=20, out=target)
        assert killed and killed[0] in str(raised.value)
        assert time.perf_counter() - started < 60
    assert not target.exists() and list(tmp_path.iterdir()) == []
