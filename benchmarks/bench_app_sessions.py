"""Benchmark: the served app's speed as planners feel it, replayed over Streamlit's websocket (no browser).

Run with ``.venv/bin/python benchmarks/bench_app_sessions.py`` (``--help`` for the options), or
``python -m matcher bench --only app_sessions``. It starts ``streamlit run app.py`` itself (headless,
on 127.0.0.1 and a free port, with a fresh temporary ``MATCHER_WORKSPACE``, as the browser test
does) and stops it at the end; ``--keep-server URL`` measures a server that is already running.

Each session speaks the browser's protocol on ``/_stcore/stream``: it sends ``BackMsg.rerun_script``
with the query string, page script hash (or page name from the url, on the first run), every
widget value it holds (the browser sends back the current value of every widget it shows, as
registered when the widget first appeared or as the server last set it), the hashes of the large
messages it has cached (so the server sends references to them, as it does for a browser) and the
browser's context. It reads every ``ForwardMsg`` of the run: the pages (``navigation``), the
deltas (widget ids and values come from ``delta.new_element``) and ``script_finished``.

**Server time** is the time from sending the ``BackMsg`` (for a new session: from opening the
websocket) to receiving the run's ``script_finished``, with all of the run's deltas received and
parsed on the way: what the planner waits for, minus the browser's drawing (and, for a new
session, minus loading the page's JavaScript).

Prints three figures, then a table with PASS/FAIL against each target and a last line
``RESULT PASS`` or ``RESULT FAIL``:

1. ``first page``: new sessions opening the default page (overview); the first session after the
   server started is reported alone as ``cold`` (it imports the app and loads the data), the
   others as ``warm``. Target: every one within 2 s.
2. ``interactions``: one planner on the explore page moves a weight slider, changes "show top N",
   picks another weight preset, and goes explore -> overview -> profile -> explore; ``--repeats``
   of each. Target: median server time within 300 ms per kind of interaction (p95 shown too).
3. ``planners``: ``--planners`` sessions at once on the explore page. Each planner moves a weight
   slider, waits for the result, thinks ``--think`` s (0.5), and moves again, ``--moves`` times;
   the moves start once every planner has its page. Target: p95 server time per move within 1 s.

Sanity checks (the benchmark breaks, exit 1, when one fails): no run shows an exception, a page
switch runs the page asked for, and slider moves, top-N changes and preset picks re-rank the table
(the ranked table's content changes; how often is printed). A figure over its target is reported
as ``RESULT FAIL`` with exit 0.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import statistics
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: TID251 - speaks the app's protocol
from streamlit.proto.ClientState_pb2 import ContextInfo  # noqa: TID251
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: TID251
from streamlit.proto.WidgetStates_pb2 import WidgetState  # noqa: TID251
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException
from websockets.typing import Subprotocol

sys.path.insert(0, str(Path(__file__).resolve().parent))
from served_app import AppNotServed, served_app, served_behind_proxy, wait_healthy  # noqa: E402 - the shared way to serve app.py

FIRST_PAGE_TARGET_S = 2.0
INTERACTION_TARGET_S = 0.3
PLANNERS_TARGET_S = 1.0
RUN_TIMEOUT_S = 300.0
EXPLORE = "explore"
WEIGHT_SLIDERS = "explore.weights."  # widget keys of the weight sliders: explore.weights.<kind>.w.<feature>
TOP_N = "explore.top"
TABLE = "explore.table."
SLIDER_GRID = [round(i * 0.05, 2) for i in range(21)]
TOP_N_VALUES = [50, 100, 20, 30]
# what a browser in Shanghai tells the server with each rerun
BROWSER = ContextInfo(timezone="Asia/Shanghai", timezone_offset=-480, locale="zh-CN", is_embedded=False,
                      color_scheme="light")


class BenchError(RuntimeError):
    """The benchmark could not measure (server, protocol or app failure): not a slow figure."""


# ---------------------------------------------------------------- one session, as the browser plays it


@dataclass
class Widget:
    """A widget as the session last received it: ``kind`` is the element type (``slider``...)."""

    id: str
    kind: str
    label: str
    script_hash: str  # the script that drew it: the main script (sidebar) or a page
    proto: Any

    @property
    def key(self) -> str:
        """The widget's user key (``$$ID-<hash>-<key>``), or ``""`` for a widget without one."""
        head, _, key = self.id.partition("-")[2].partition("-")
        return key if head and key != "None" else ""


@dataclass
class Run:
    """One script run as the session saw it."""

    seconds: float
    page_hash: str
    received_bytes: int = 0
    messages: int = 0
    references: int = 0  # cached messages the server only referred to
    reruns: int = 0  # runs that ended early for a rerun (st.rerun) before the final one
    largest: tuple[int, str] = (0, "")  # the largest message: bytes and element type
    digests: dict[str, str] = field(default_factory=dict)  # widget key or delta path -> content hash
    exceptions: list[str] = field(default_factory=list)

    def digest(self, key_prefix: str) -> str | None:
        return next((d for k, d in self.digests.items() if k.startswith(key_prefix)), None)


def initial_state(kind: str, proto: Any) -> WidgetState | None:
    """The value the browser registers for a widget it draws: the value the server set, or the default.

    None for widgets that hold no value until the user acts (buttons, table and chart selections).
    """
    state = WidgetState(id=proto.id)
    if kind == "slider":
        state.double_array_value.data.extend(proto.value if proto.set_value and proto.value else proto.default)
    elif kind == "number_input":
        if proto.HasField("value") and proto.set_value:
            value = proto.value
        elif proto.HasField("default"):
            value = proto.default
        else:
            return None
        if proto.data_type == type(proto).INT:
            state.int_value = int(value)
        else:
            state.double_value = value
    elif kind == "selectbox":
        if proto.HasField("raw_value"):
            state.string_value = proto.raw_value
        elif proto.HasField("default") and 0 <= proto.default < len(proto.options):
            state.string_value = proto.options[proto.default]
        else:
            return None
    elif kind == "multiselect":
        values = proto.raw_values if proto.set_value else [proto.options[i] for i in proto.default]
        state.string_array_value.data.extend(values)
    elif kind == "button_group":
        values = proto.raw_values if proto.set_value else [proto.options[i].content for i in proto.default]
        state.string_array_value.data.extend(values)
    elif kind in ("text_input", "text_area"):
        if proto.HasField("value") and proto.set_value:
            state.string_value = proto.value
        elif proto.HasField("default"):
            state.string_value = proto.default
        else:
            return None
    elif kind == "checkbox":
        state.bool_value = proto.value if proto.set_value else proto.default
    else:
        return None
    return state


def slider_state(widget_id: str, value: float) -> WidgetState:
    state = WidgetState(id=widget_id)
    state.double_array_value.data.append(value)
    return state


class Session:
    """One planner's browser tab, as the server sees it: a websocket, the widget values it holds,
    the large messages it has cached, and the pages the app offers."""

    def __init__(self, ws_url: str, base_url: str) -> None:
        self.ws_url = ws_url
        self.base_url = base_url
        self.ws: ClientConnection | None = None
        self.main_script_hash = ""
        self.page_hash = ""
        self.pages: dict[str, str] = {}  # url path ("" is the default page) -> page script hash
        self.widgets: dict[str, Widget] = {}  # drawn in the last finished run
        self.values: dict[str, WidgetState] = {}  # the values the browser would send back
        self._cached: dict[str, int] = {}  # hash of a cacheable message -> run count when last used
        self._cached_widgets: dict[str, tuple[str, Any]] = {}  # such a hash -> widget kind and proto
        self._runs = 0
        self._max_age = 2
        self.compression = ""

    async def open(self, page: str = "") -> Run:
        """Connect and run the page at url path ``page`` ("" = the default page), as a new tab does."""
        started = time.perf_counter()
        # the browser's subprotocol list is "streamlit", then the XSRF token and a session id to
        # resume; with no Origin header the server checks no token, so a fresh tab needs neither
        self.ws = await connect(self.ws_url, subprotocols=[Subprotocol("streamlit")], max_size=None,
                                ping_interval=None, open_timeout=30)
        self.compression = self.ws.response.headers.get("Sec-WebSocket-Extensions", "") if self.ws.response else ""
        return await self._rerun(started, [], page_name=page, url=page)

    async def set_widget(self, state: WidgetState) -> Run:
        """The planner changes a widget on the current page: rerun with every value, this one changed."""
        self.values[state.id] = state
        return await self._rerun(time.perf_counter(), list(self.values.values()), page_hash=self.page_hash)

    async def go(self, page: str) -> Run:
        """The planner clicks the page at url path ``page`` in the sidebar."""
        if page not in self.pages:
            raise BenchError(f"the app offers no page at /{page}; it offers {sorted(self.pages)}")
        # the browser drops the old page's widgets first and sends the sidebar's (the main script's)
        sidebar = {i for i, w in self.widgets.items() if w.script_hash == self.main_script_hash}
        kept = [v for i, v in self.values.items() if i in sidebar]
        run = await self._rerun(time.perf_counter(), kept, page_hash=self.pages[page], url=page)
        if run.page_hash != self.pages[page]:
            raise BenchError(f"asked for page /{page} but the server ran another page")
        return run

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    def find(self, kind: str, key_prefix: str) -> list[Widget]:
        return [w for w in self.widgets.values() if w.kind == kind and w.key.startswith(key_prefix)]

    async def _rerun(self, started: float, states: Iterable[WidgetState], *, page_hash: str = "",
                     page_name: str = "", url: str | None = None) -> Run:
        if self.ws is None:
            raise BenchError("the session is not connected")
        msg = BackMsg()
        rerun = msg.rerun_script
        rerun.query_string = ""
        rerun.page_script_hash = page_hash
        rerun.page_name = page_name
        rerun.widget_states.SetInParent()
        rerun.widget_states.widgets.extend(states)
        rerun.cached_message_hashes.extend(self._cached)
        rerun.context_info.CopyFrom(BROWSER)
        if url is not None:
            rerun.context_info.url = f"{self.base_url}/{url}"
        try:
            await self.ws.send(msg.SerializeToString())
            return await asyncio.wait_for(self._receive_run(started), RUN_TIMEOUT_S)
        except TimeoutError as error:
            raise BenchError(f"no script_finished within {RUN_TIMEOUT_S:.0f} s") from error
        except WebSocketException as error:
            raise BenchError(f"the websocket failed: {error!r}") from error

    async def _receive_run(self, started: float) -> Run:
        assert self.ws is not None
        run = Run(seconds=0.0, page_hash=self.page_hash)
        drawn: dict[str, Widget] = {}
        while True:
            raw = await self.ws.recv(decode=False)
            run.received_bytes += len(raw)
            run.messages += 1
            msg = ForwardMsg.FromString(raw)
            kind = msg.WhichOneof("type")
            if len(raw) > run.largest[0]:
                element = msg.delta.new_element.WhichOneof("type") if kind == "delta" else None
                run.largest = (len(raw), element or kind or "")
            if kind == "new_session":  # a run starts (again, after an st.rerun)
                self.main_script_hash = msg.new_session.main_script_hash
                self._max_age = msg.new_session.config.max_cached_message_age or self._max_age
                run.digests.clear()
                drawn.clear()
            elif kind == "navigation":
                self.pages = {p.url_pathname: p.page_script_hash for p in msg.navigation.app_pages}
                run.page_hash = msg.navigation.page_script_hash
            elif kind == "page_not_found":
                raise BenchError(f"page not found: {msg.page_not_found.page_name!r}")
            elif kind in ("delta", "ref_hash"):
                self._delta(msg, run, drawn)
            elif kind == "script_finished":
                status = msg.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    run.reruns += 1
                elif status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                    raise BenchError("the app failed to compile")
                elif status == ForwardMsg.FINISHED_SUCCESSFULLY:
                    break
        run.seconds = time.perf_counter() - started
        self._finished(drawn)
        self.page_hash = run.page_hash
        if run.exceptions:
            raise BenchError("the app raised: " + "; ".join(run.exceptions))
        return run

    def _delta(self, msg: ForwardMsg, run: Run, drawn: dict[str, Widget]) -> None:
        path = ".".join(map(str, msg.metadata.delta_path))
        if msg.WhichOneof("type") == "ref_hash":  # a large message this session has cached
            digest = msg.ref_hash
            if digest not in self._cached:
                raise BenchError(f"the server referred to a message this session never cached ({digest})")
            self._cached[digest] = self._runs
            run.references += 1
            kind, proto = self._cached_widgets.get(digest, ("", None))
        else:
            if msg.delta.WhichOneof("type") != "new_element":
                return
            digest = msg.hash
            element = msg.delta.new_element
            kind = element.WhichOneof("type") or ""
            proto = getattr(element, kind) if kind else None
            if kind == "exception":
                run.exceptions.append(f"{proto.type}: {proto.message}")
            if msg.metadata.cacheable and digest:
                self._cached[digest] = self._runs
                if _is_widget(proto):
                    self._cached_widgets[digest] = (kind, proto)
        if not _is_widget(proto):
            run.digests[path] = digest
            return
        widget = Widget(proto.id, kind, getattr(proto, "label", ""), msg.metadata.active_script_hash, proto)
        drawn[widget.id] = widget
        run.digests[widget.key or path] = digest
        if widget.id not in self.values or getattr(proto, "set_value", False):
            state = initial_state(kind, proto)
            if state is not None:
                self.values[widget.id] = state

    def _finished(self, drawn: dict[str, Widget]) -> None:
        """A full run ended: forget the widgets it did not draw, age the cache as the browser does."""
        self.widgets = drawn
        self.values = {i: v for i, v in self.values.items() if i in drawn}
        self._runs += 1
        self._cached = {h: used for h, used in self._cached.items() if self._runs - used <= self._max_age}
        self._cached_widgets = {h: w for h, w in self._cached_widgets.items() if h in self._cached}


def _is_widget(proto: Any) -> bool:
    return proto is not None and "id" in proto.DESCRIPTOR.fields_by_name and bool(proto.id)


# ---------------------------------------------------------------- the three figures


@dataclass
class Sample:
    """Timings of one kind of run, and how often it changed the ranked table."""

    seconds: list[float] = field(default_factory=list)
    megabytes: list[float] = field(default_factory=list)
    table_changed: int = 0
    largest: tuple[int, str] = (0, "")

    def add(self, run: Run) -> None:
        self.seconds.append(run.seconds)
        self.megabytes.append(run.received_bytes / 1e6)
        self.largest = max(self.largest, run.largest)


def _weight_sliders(session: Session) -> list[Widget]:
    sliders = session.find("slider", WEIGHT_SLIDERS)
    if not sliders:
        found = sorted(f"{w.kind}:{w.key or w.label}" for w in session.widgets.values())
        raise BenchError(f"no weight slider ({WEIGHT_SLIDERS}*) on the explore page; widgets: {found}")
    return sliders


def _other_value(current: float, rng: random.Random) -> float:
    return rng.choice([v for v in SLIDER_GRID if abs(v - current) > 1e-9])


async def move_slider(session: Session, slider: Widget, rng: random.Random) -> Run:
    current = session.values.get(slider.id)
    now = current.double_array_value.data[0] if current is not None and current.double_array_value.data else 0.0
    return await session.set_widget(slider_state(slider.id, _other_value(now, rng)))


async def first_page(ws_url: str, base_url: str, sessions: int) -> list[Run]:
    runs = []
    for _ in range(sessions):
        session = Session(ws_url, base_url)
        try:
            runs.append(await session.open())
        finally:
            await session.close()
    return runs


def _changed(before: Run, after: Run) -> bool:
    return before.digest(TABLE) != after.digest(TABLE)


async def interactions(ws_url: str, base_url: str, repeats: int, seed: int) -> tuple[dict[str, Sample], str]:
    rng = random.Random(seed)
    samples: dict[str, Sample] = {}
    session = Session(ws_url, base_url)
    try:
        await session.open()
        last = await session.go(EXPLORE)
        for i in range(repeats):
            sliders = _weight_sliders(session)
            run = await move_slider(session, sliders[i % len(sliders)], rng)
            _record(samples, "explore: move a weight slider", last, run)
            last = run

            tops = session.find("number_input", TOP_N)
            if not tops:
                raise BenchError(f"no '{TOP_N}' number input on the explore page")
            top = tops[0]
            state = WidgetState(id=top.id)
            current = session.values[top.id].int_value if top.id in session.values else 30
            state.int_value = next(v for v in TOP_N_VALUES[i % 4:] + TOP_N_VALUES if v != current)
            run = await session.set_widget(state)
            _record(samples, "explore: change 'show top N'", last, run)
            last = run

            presets = [w for w in session.find("selectbox", WEIGHT_SLIDERS) if w.key.endswith(".preset")]
            if not presets:
                raise BenchError("no weight preset picker on the explore page")
            picker = presets[0]
            options = list(picker.proto.options)
            current_label = session.values[picker.id].string_value if picker.id in session.values else options[0]
            state = WidgetState(id=picker.id)
            state.string_value = options[(options.index(current_label) + 1) % len(options)] \
                if current_label in options else options[0]
            run = await session.set_widget(state)
            _record(samples, "explore: pick a weight preset", last, run)
            last = run

            for page, name in (("", "page: explore -> overview"), ("profile", "page: overview -> profile"),
                               (EXPLORE, "page: profile -> explore")):
                run = await session.go(page)
                samples.setdefault(name, Sample()).add(run)
                last = run
    finally:
        await session.close()
    return samples, session.compression


def _record(samples: dict[str, Sample], name: str, before: Run, after: Run) -> None:
    sample = samples.setdefault(name, Sample())
    sample.add(after)
    sample.table_changed += _changed(before, after)


async def planners(ws_url: str, base_url: str, count: int, moves: int, think: float, seed: int,
                   ) -> tuple[Sample, list[float]]:
    """``count`` planners at once on the explore page; returns the moves and the pages' first loads."""
    ready = asyncio.Barrier(count)
    sample = Sample()
    loads: list[float] = []

    async def planner(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        session = Session(ws_url, base_url)
        try:
            last = await session.open(EXPLORE)
            loads.append(last.seconds)
            sliders = _weight_sliders(session)
            await ready.wait()
            await asyncio.sleep(rng.uniform(0, think))  # the planners do not move in lockstep
            for move in range(moves):
                run = await move_slider(session, sliders[(number + move) % len(sliders)], rng)
                sample.add(run)
                sample.table_changed += _changed(last, run)
                last = run
                await asyncio.sleep(think)
        finally:
            await session.close()

    try:
        async with asyncio.TaskGroup() as group:
            for number in range(count):
                group.create_task(planner(number))
    except ExceptionGroup as failures:
        raise BenchError(f"a planner failed: {failures.exceptions[0]}") from failures
    return sample, loads


# ---------------------------------------------------------------- the server


# ---------------------------------------------------------------- report


def quantile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile, linear between the closest ranks (so p95 of few values is near the max)."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    low, high = math.floor(k), math.ceil(k)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


@dataclass
class Row:
    name: str
    seconds: list[float]
    megabytes: list[float]
    target: float
    judged: str  # "max", "median" or "p95"

    @property
    def value(self) -> float:
        return {"max": max, "median": statistics.median, "p95": lambda v: quantile(v, 0.95)}[self.judged](self.seconds)

    @property
    def passed(self) -> bool:
        return self.value <= self.target


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.0f}"


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _client_usage(since: tuple[float, float]) -> str:
    """This process's CPU time since ``since``: the share of the machine the replaying client took."""
    wall, cpu = (now - then for now, then in zip(_clock(), since, strict=True))
    return f"   (this client used {cpu:.1f} s of CPU in {wall:.1f} s)"


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def print_table(rows: list[Row]) -> None:
    print()
    header = f"{'figure':<38} {'n':>4} {'median ms':>10} {'p95 ms':>8} {'max ms':>8} {'MB/run':>7}  {'target':<18} verdict"
    print(header)
    print("-" * len(header))
    for row in rows:
        target = f"{row.judged} <= {_ms(row.target)} ms"
        print(f"{row.name:<38} {len(row.seconds):>4} {_ms(statistics.median(row.seconds)):>10} "
              f"{_ms(quantile(row.seconds, 0.95)):>8} {_ms(max(row.seconds)):>8} "
              f"{statistics.median(row.megabytes):>7.2f}  {target:<18} {'PASS' if row.passed else 'FAIL'}")


async def measure(base: str, args: argparse.Namespace, cold_label: str) -> list[Row]:
    ws_url = base.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
    rows: list[Row] = []

    print(f"1. first page: {args.sessions} new sessions, one after another, on the default page", flush=True)
    since = _clock()
    runs = await first_page(ws_url, base, args.sessions)
    print(f"   {cold_label}: {_ms(runs[0].seconds)} ms; warm: "
          + ", ".join(_ms(r.seconds) for r in runs[1:]) + " ms", flush=True)
    rows.append(Row(f"first page, {cold_label}", [runs[0].seconds], [runs[0].received_bytes / 1e6],
                    FIRST_PAGE_TARGET_S, "max"))
    if len(runs) > 1:
        rows.append(Row("first page, warm", [r.seconds for r in runs[1:]],
                        [r.received_bytes / 1e6 for r in runs[1:]], FIRST_PAGE_TARGET_S, "max"))
    print(_client_usage(since))

    print(f"2. interactions: one planner, {args.repeats} of each", flush=True)
    since = _clock()
    samples, compression = await interactions(ws_url, base, args.repeats, args.seed)
    print(f"   (websocket compression: {compression or 'none'})")
    for name, sample in samples.items():
        changed = f"; table re-ranked in {sample.table_changed}/{len(sample.seconds)}" \
            if name.startswith("explore") else ""
        print(f"   {name}: median {_ms(statistics.median(sample.seconds))} ms, "
              f"p95 {_ms(quantile(sample.seconds, 0.95))} ms, {statistics.median(sample.megabytes):.2f} MB "
              f"(largest message: {sample.largest[1]}, {sample.largest[0] / 1e6:.2f} MB){changed}", flush=True)
        if name.startswith("explore") and not sample.table_changed:
            raise BenchError(f"'{name}' never changed the ranked table: the interaction had no effect")
        rows.append(Row(name, sample.seconds, sample.megabytes, INTERACTION_TARGET_S, "median"))
    print(_client_usage(since))

    print(f"3. {args.planners} planners at once on the explore page, {args.moves} slider moves each, "
          f"{args.think:g} s thinking between a result and the next move", flush=True)
    since = _clock()
    sample, loads = await planners(ws_url, base, args.planners, args.moves, args.think, args.seed)
    print(f"   the {args.planners} explore pages opening at once: max {_ms(max(loads))} ms (no target)")
    print(f"   slider moves: p50 {_ms(statistics.median(sample.seconds))} ms, "
          f"p95 {_ms(quantile(sample.seconds, 0.95))} ms, max {_ms(max(sample.seconds))} ms; "
          f"{statistics.median(sample.megabytes):.2f} MB each; "
          f"table re-ranked in {sample.table_changed}/{len(sample.seconds)}", flush=True)
    print(_client_usage(since))
    if not sample.table_changed:
        raise BenchError("the planners' slider moves never changed the ranked table")
    rows.append(Row(f"{args.planners} planners at once: slider move", sample.seconds, sample.megabytes,
                    PLANNERS_TARGET_S, "p95"))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--planners", type=int, default=8, help="sessions at once in figure 3 (default 8)")
    parser.add_argument("--moves", type=int, default=20, help="slider moves per planner in figure 3 (default 20)")
    parser.add_argument("--think", type=float, default=0.5,
                        help="seconds a planner thinks between a result and the next move (default 0.5)")
    parser.add_argument("--repeats", type=int, default=8, help="times each interaction of figure 2 (default 8)")
    parser.add_argument("--sessions", type=int, default=5,
                        help="new sessions of figure 1, the first one cold (default 5)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the slider values (default 1)")
    parser.add_argument("--port", type=int, default=0, help="port of the started server (default: a free one)")
    parser.add_argument("--processes", type=int, default=1,
                        help="app processes to start; more than 1 puts nginx in front with sticky sessions, "
                        "as deploy/nginx.conf does (default 1)")
    parser.add_argument("--keep-server", metavar="URL",
                        help="measure the server already running at URL (e.g. http://127.0.0.1:8501) "
                        "instead of starting one; its first session is then not necessarily cold")
    # `python -m matcher bench --only app_sessions -- --planners 4` passes the "--" through
    args = parser.parse_args([a for a in (sys.argv[1:] if argv is None else argv) if a != "--"])
    if min(args.planners, args.moves, args.repeats, args.sessions, args.processes) < 1:
        parser.error("--planners, --moves, --repeats, --sessions and --processes must be at least 1")
    print(f"before: {_load()}; the server and this client share the machine", flush=True)
    try:
        if args.keep_server:
            base = args.keep_server.rstrip("/")
            wait_healthy(base)
            print(f"measuring the running server at {base}", flush=True)
            rows = asyncio.run(measure(base, args, "first session"))
        elif args.processes > 1:
            with served_behind_proxy(args.processes) as base:
                print(f"serving app.py in {args.processes} processes behind nginx at {base} (fresh workspace)",
                      flush=True)
                rows = asyncio.run(measure(base, args, "cold (1st after start)"))
        else:
            with served_app(args.port or None) as base:
                print(f"serving app.py at {base} (fresh workspace)", flush=True)
                rows = asyncio.run(measure(base, args, "cold (1st after start)"))
    except (BenchError, AppNotServed, OSError, WebSocketException) as error:
        print(f"the benchmark broke: {error}")
        print("RESULT FAIL")
        return 1
    print(f"after: {_load()}")
    print_table(rows)
    failed = [row.name for row in rows if not row.passed]
    if failed:
        print(f"{len(failed)} of {len(rows)} figures over target: {'; '.join(failed)}")
    print("RESULT FAIL" if failed else "RESULT PASS")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
