"""Backends: where the blocks of one run are computed. Results are identical on every backend.

- ``memory``: one block of every listed entity, its features cached by the engine (the app's
  interactive re-ranking; the ~200 clusters and markets);
- ``blocks``: spatial tiles of ``block_size`` focal entities in this process, so memory is bounded by
  the block size, not by N x K (registries of 10^5-10^6 firms);
- ``dask``: the same blocks on a Dask distributed cluster (``scheduler=ADDRESS`` or a
  ``distributed.Client``): the prepared entities are broadcast once and blocks come back in order.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from itertools import islice
from typing import TYPE_CHECKING

import numpy as np

from matcher.docking.job import BlockResult, Job, finish_block, run_block
from matcher.docking.kinds import get_kind
from matcher.docking.search import z_order
from matcher.exceptions import MatcherError

if TYPE_CHECKING:
    from distributed import Client

    from matcher.docking.entities import Entities
    from matcher.docking.kinds import DockingKind

BACKENDS = ("memory", "blocks", "dask")
DEFAULT_BLOCK_SIZE = 20_000
#: Blocks ranked at once by the ``blocks`` backend (threads of this process): the machine's cores, at most 2
#: (memory grows with the blocks in flight).
LOCAL_THREADS = min(2, os.cpu_count() or 1)


#: The blocks backend gives each thread at least this many blocks when the lists allow (with 5 blocks
#: on 2 threads the last one ran alone: 100k firms took 9.3 s in blocks of 20,000, 7.9 s in 8 blocks).
BLOCKS_PER_THREAD = 4
#: ... but never blocks smaller than this for balance alone (each block has a fixed cost).
MIN_BALANCED_BLOCK = 2_000

#: Blocks in flight on each Dask worker (one ranked, one waiting, so a worker never idles), and at
#: most this many per worker in flight or finished and waiting for an earlier block (bounds memory).
PER_WORKER = 2
WINDOW_PER_WORKER = 4


def balanced_block_size(n: int, block_size: int, threads: int | None = None) -> int:
    """The block size the ``blocks`` backend uses for ``n`` lists: at most ``block_size`` (the memory
    bound), and small enough that ``threads`` threads share the blocks evenly."""
    threads = LOCAL_THREADS if threads is None else threads
    if threads <= 1 or block_size <= MIN_BALANCED_BLOCK:
        return block_size
    even = -(-n // (BLOCKS_PER_THREAD * threads))
    return min(block_size, max(even, MIN_BALANCED_BLOCK))


def make_blocks(focal: np.ndarray, block_size: int, lat: np.ndarray | None = None,
                lon: np.ndarray | None = None) -> list[np.ndarray]:
    """Focal entities in blocks of ``block_size``, each block sorted by position (= id).

    With coordinates, blocks are spatial tiles (Z-order): a block's k-d tree queries then touch a
    small part of each tree, which keeps large trees in cache. The blocks depend only on the data,
    so every backend sees the same blocks.
    """
    if block_size < 1:
        raise MatcherError("block size must be at least 1")
    if lat is not None and lon is not None and len(focal) > block_size:
        focal = focal[np.lexsort((focal, z_order(lat[focal], lon[focal])))]
    return [np.sort(focal[s:s + block_size]) for s in range(0, len(focal), block_size)]


def prepare_searches(E: Entities, rules: list, params: dict, threads: int | None = None) -> None:
    """Build the search structures of ``rules`` once, before the blocks: on ``threads`` (default
    ``LOCAL_THREADS``) threads at once (k-d trees and sorts release the GIL). Built already: nothing."""
    threads = LOCAL_THREADS if threads is None else threads
    if threads <= 1 or len(rules) <= 1:
        for rule in rules:
            rule.prepare(E, params)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="prepare") as pool:
        for done in [pool.submit(rule.prepare, E, params) for rule in rules]:
            done.result()


def check_backend(backend: str) -> str:
    if backend not in BACKENDS:
        raise MatcherError(f"unknown backend {backend!r}; use one of {', '.join(BACKENDS)}")
    return backend


def run_local(E: Entities, blocks: list[np.ndarray], job: Job, threads: int | None = None) -> Iterator[BlockResult]:
    """Blocks in this process, yielded in block order; ``threads`` blocks are ranked at once (numpy,
    pyarrow and the k-d trees release the GIL for their heavy work), at most ``threads`` in flight."""
    threads = LOCAL_THREADS if threads is None else threads
    if threads <= 1 or len(blocks) <= 1:
        for block in blocks:
            yield run_block(E, block, job)
        return
    from concurrent.futures import ThreadPoolExecutor

    E.arrow  # noqa: B018 - built once here, not by two blocks at once
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="block") as pool:
        queue = iter(blocks)
        pending = [pool.submit(run_block, E, block, job) for block in islice(queue, threads)]
        try:
            while pending:
                result = pending.pop(0).result()
                nxt = next(queue, None)
                if nxt is not None:
                    pending.append(pool.submit(run_block, E, nxt, job))
                yield result
        finally:
            for future in pending:
                future.cancel()


def _dask_client(scheduler: str | Client | None) -> tuple[Client, bool]:
    try:
        from distributed import Client, get_client
    except ImportError:  # pragma: no cover - distributed is pinned in requirements.txt
        raise MatcherError("the Dask backend needs the 'distributed' package") from None
    if scheduler is None:
        try:
            return get_client(), False
        except ValueError:
            raise MatcherError("backend 'dask' needs a scheduler: pass scheduler=ADDRESS "
                               "(e.g. tcp://127.0.0.1:8786) or start a distributed.Client first") from None
    if isinstance(scheduler, str):
        try:
            return Client(scheduler, timeout="5s"), True
        except (OSError, ValueError, TypeError) as err:
            raise MatcherError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
    return scheduler, False


def connect(address: str) -> Client:
    """A client of the Dask scheduler at ``address`` (the caller closes it)."""
    return _dask_client(address)[0]


def warm_up(client: Client) -> list:
    """Have every worker import the pipeline now, without waiting: a worker's first block would
    otherwise start with two seconds of imports (numpy, pandas, pyarrow, scipy, scikit-learn), after
    the data is loaded; meanwhile the client loads and prepares the data."""
    workers = list(client.scheduler_info().get("workers", {}))
    return [client.submit(_import_pipeline, workers=[w], allow_other_workers=False, pure=False) for w in workers]


def _import_pipeline() -> bool:
    import matcher.docking.job  # noqa: F401 - the modules a block runs
    import matcher.outputs.writers  # noqa: F401

    _worker_setup()
    return True


#: The C library's allocator on a worker (glibc ``mallopt``): memory blocks from this size on are
#: mapped from the system one by one, and free memory above the heap is returned from this size on.
#: 32 MiB and 64 MiB are where glibc's own adaptive thresholds end, i.e. what a plain process uses.
WORKER_MMAP_THRESHOLD = 32 << 20
WORKER_TRIM_THRESHOLD = 64 << 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's <malloc.h> codes


_WORKER_MALLOC: bool | None = None  # set once per worker process
_BUILDING = threading.Lock()


def set_worker_malloc() -> bool:
    """Give this worker process the allocator thresholds of a plain process (glibc only; True if set).

    A Dask nanny starts its worker with ``MALLOC_TRIM_THRESHOLD_=65536``, which also freezes glibc's
    threshold for mapping memory from the system at 128 KiB: every array of a block above that size
    was then mapped, zeroed by the kernel page by page and unmapped when freed. Workers ranked their
    blocks about half as fast as the same blocks in one process (1M firms: 20 s of system time a
    worker against 7 s for the whole in-process run). A block's memory is bounded by its size, so the
    usual thresholds keep a worker's memory bounded too.
    """
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):  # another C library (e.g. musl): left as it is
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, WORKER_MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, WORKER_TRIM_THRESHOLD))


def _worker_block(E: Entities, structures: dict | None, focal: np.ndarray, job: Job) -> BlockResult:
    """``run_block`` on a Dask worker: the rows in numbers (the client adds the names it holds).
    ``structures``: the search structures the client built (any missing one is built here)."""
    _worker_setup()
    started = time.perf_counter()
    with _BUILDING:  # a worker's blocks share its entities: the first one attaches the search structures
        for key, value in (structures or {}).items():
            E.indexes.setdefault(key, value)
        prepare_searches(E, get_kind(job.kind).search_rules, job.params, threads=1)
    built = time.perf_counter() - started
    result = run_block(E, focal, job, texts=False)
    if built > 0.001:
        result.seconds["prepare"] = result.seconds.get("prepare", 0.0) + built
    return result


def _worker_setup() -> None:
    """Once per worker process: the allocator thresholds of a plain process (``set_worker_malloc``)."""
    global _WORKER_MALLOC
    if _WORKER_MALLOC is None:
        _WORKER_MALLOC = set_worker_malloc()


def check_scheduler(address: str, timeout_s: float = 3.0) -> None:
    """Say at once when a ``tcp://host:port`` scheduler address is malformed or nothing listens there
    (before a long job loads its data); other schemes are left to Dask."""
    import socket
    from urllib.parse import urlsplit

    if not str(address).startswith("tcp://"):
        return
    try:
        parts = urlsplit(str(address))
        host, port = parts.hostname, parts.port
    except ValueError:
        raise MatcherError(f"the Dask scheduler address {address!r} is not tcp://HOST:PORT") from None
    if not host or port is None:
        raise MatcherError(f"the Dask scheduler address {address!r} is not tcp://HOST:PORT")
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as err:
        raise MatcherError(f"cannot reach the Dask scheduler at {address}: {err.strerror or err}") from None


def run_dask(E: Entities, blocks: list[np.ndarray], job: Job, scheduler: str | Client | None = None) -> Iterator[BlockResult]:
    """Blocks on a Dask cluster, yielded in block order, with a bounded number in flight.

    Every worker gets its own copy of what its blocks read (``for_blocks``) straight from this
    client; while it travels, the client builds the search structures, then sends those too (a
    million firms: 0.6 s to send, 2 s for a worker to build). Each worker ranks the blocks sent to
    it, at most ``PER_WORKER`` at a time; a new block goes to the worker with the fewest as soon as
    any block is back (results come out in block order). Workers send their rows back in numbers;
    the names are added here, from the same entities. A block is meant for the worker holding its
    copy, not bound to it: should that worker leave, the block fails (its copy is lost) instead of
    waiting forever.
    """
    from concurrent.futures import ThreadPoolExecutor

    from distributed import as_completed
    from distributed.client import FutureCancelledError
    from distributed.scheduler import KilledWorker

    client, own = _dask_client(scheduler)
    # a worker's threads are its share of the machine: its k-d tree queries use one thread each
    # (with every core per query, two 1-thread workers ran their blocks a fifth slower)
    job = replace(job, params={**job.params, "query_workers": 1})
    try:
        workers = sorted(client.scheduler_info().get("workers", {}))
        if not workers:
            raise MatcherError("the Dask cluster has no workers")
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="send") as pool:
            sending = pool.submit(_send_each, client, for_blocks(E, get_kind(job.kind)), workers)
            prepare_searches(E, get_kind(job.kind).search_rules, job.params)
            copies = sending.result()
        structures = _send_each(client, dict(E.indexes), workers)
        prepared = time.perf_counter() - started
        load = dict.fromkeys(workers, 0)  # blocks in flight per worker
        where: dict[str, tuple[int, str]] = {}  # future key -> (block number, worker)
        done: dict[int, BlockResult] = {}  # finished out of order, waiting for the blocks before them
        queue = enumerate(blocks)
        running = as_completed()
        yielded = 0

        def fill() -> None:
            """Blocks to the workers with fewer than ``PER_WORKER`` in flight, fewest first, while
            the window (in flight and finished ahead of order) has room."""
            while len(where) + len(done) < WINDOW_PER_WORKER * len(workers):
                worker = min(workers, key=lambda w: (load[w], workers.index(w)))
                item = next(queue, None) if load[worker] < PER_WORKER else None
                if item is None:
                    return
                future = client.submit(_worker_block, copies[worker], structures[worker], item[1], job,
                                       workers=[worker], allow_other_workers=True, pure=False)
                load[worker] += 1
                where[future.key] = (item[0], worker)
                running.add(future)

        fill()
        for future in running:
            number, worker = where.pop(future.key)
            try:
                done[number] = future.result()
            except (FutureCancelledError, KilledWorker) as err:
                raise MatcherError(f"the Dask worker {worker} left during the run and its copy of the data was lost; "
                                   "nothing was written: run again (on the workers still there)") from err
            future.release()
            load[worker] -= 1
            while yielded in done:  # in block order
                result = done.pop(yielded)
                result.seconds["prepare"] = result.seconds.get("prepare", 0.0) + prepared
                prepared = 0.0
                yielded += 1
                yield finish_block(E, job, result)
            fill()
    finally:
        if own:
            client.close()


def for_blocks(E: Entities, kind: DockingKind) -> Entities:
    """What a worker needs of ``E`` to rank ``kind``'s blocks: the arrays, the table's columns the
    kind reads (``DockingKind.block_columns``), no search structures (they follow separately)."""
    columns = kind.block_columns
    return replace(E, indexes={}, table=E.table if columns is None else E.table[list(columns)])


def _send_each(client: Client, value: object, workers: list[str]) -> dict:
    """A copy of ``value`` on each worker, sent by this client straight to all of them at once (a
    broadcast went through the scheduler: the entities of 1M firms took 6.2 s instead of 3.4 s)."""
    futures = client.scatter([value] * len(workers), workers=workers, direct=True, hash=False)
    where = client.who_has(futures)
    copies = {}
    for future in futures:
        worker = next((w for w in where.get(future.key, ()) if w in workers and w not in copies), None)
        if worker is not None:
            copies[worker] = future
    for worker in workers:  # the scatter put two copies on one worker: send the missing ones alone
        if worker not in copies:
            copies[worker] = client.scatter(value, workers=[worker], direct=True, hash=False)
    return copies
