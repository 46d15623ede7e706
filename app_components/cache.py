"""The only place that caches: data sets, engines, chain graphs and the store connection.

Everything is keyed by the data version (the SHA-256 prefix that ``load_dataset`` computes from the
files' bytes), so a new upload or an edited file never serves stale results, and the engine (which
keeps the candidate features of each kind, making slider changes a matrix-vector product) is
built once per data version and shared by every session.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pandas as pd
import streamlit as st

from matcher.docking.chain import build_chain_graph
from matcher.docking.engine import DockingEngine
from matcher.ingest.dataset import BUNDLED_DATA, Dataset, load_dataset
from matcher.store import Store, default_url


def _fingerprint(folder: Path) -> str:
    """Names, sizes and modification times of a data folder's files: cheap, changes with any edit."""
    parts = []
    for file in sorted(folder.glob("*")):
        if file.is_file():
            stat = file.stat()
            parts.append(f"{file.name}:{stat.st_size}:{stat.st_mtime_ns}")
    return "|".join(parts)


@st.cache_resource(show_spinner=False, max_entries=8)
def _load(path: str, fingerprint: str) -> Dataset:
    return load_dataset(None if path == "" else path)


def dataset(path: str = "") -> Dataset:
    """The validated data set in ``path`` ("" = bundled); read once per version of its files.

    Raises ``ValidationError``/``MatcherError`` like ``load_dataset`` (errors are not cached).
    """
    folder = BUNDLED_DATA if path == "" else Path(path)
    return _load(path, _fingerprint(folder) if folder.is_dir() else "")


@st.cache_resource(show_spinner=False, max_entries=8)
def _engine(version: str, _data: Dataset) -> DockingEngine:
    return DockingEngine(_data)


def engine(data: Dataset) -> DockingEngine:
    """The docking engine of a data version (candidate features are cached on it)."""
    return _engine(data.version, data)


@st.cache_resource(show_spinner=False, max_entries=8)
def _graph(version: str, _data: Dataset) -> nx.DiGraph:
    return build_chain_graph(_data)


def chain_graph(data: Dataset) -> nx.DiGraph:
    """The chain graph of a data version."""
    return _graph(data.version, data)


@st.cache_data(show_spinner=False, max_entries=8)
def _entities(version: str, _data: Dataset) -> pd.DataFrame:
    return _data.entities()


def entities(data: Dataset) -> pd.DataFrame:
    """Clusters, markets and enterprises stacked (a fresh copy each call)."""
    return _entities(data.version, data)


@st.cache_resource(show_spinner=False, max_entries=8)
def _learned(path: str, mtime_ns: int):
    from matcher.learning.learn import load_model

    return load_model(path)


def learned_model(kind: str):
    """The learned scorer saved for ``kind`` in the workspace, or None (re-read when the file changes)."""
    from app_components.models import model_path

    path = model_path(kind)
    if not path.exists():
        return None
    return _learned(str(path), path.stat().st_mtime_ns)


@st.cache_resource(show_spinner=False, max_entries=4)
def _store(url: str) -> Store:
    return Store(url)


def store() -> Store:
    """The workspace store (``MATCHER_DB_URL`` or ``$MATCHER_WORKSPACE/matcher.db``), opened once."""
    return _store(default_url())


@st.cache_data(show_spinner=False, max_entries=8)
def search_keys(version: str, ids: tuple[str, ...], names_zh: tuple[str, ...], names_en: tuple[str, ...]) -> dict:
    """The find box's lookup text per id (``finder.search_keys``), once per data version and id list."""
    from app_components.finder import search_keys as build

    return build(ids, names_zh, names_en)


@st.cache_resource(show_spinner=False, max_entries=16)
def _labels(version: str, language: str, _data: Dataset) -> dict[str, str]:
    from app_components.i18n import name_of

    table = _data.entities()
    return {i: f"{name_of(zh, en, i)} ({i})" for i, zh, en in zip(table["id"], table["name_zh"], table["name_en"], strict=True)}


def entity_labels(data: Dataset) -> dict[str, str]:
    """"Name (id)" of every cluster, market and firm in the session's language, for pickers (read-only)."""
    from app_components.i18n import lang

    return _labels(data.version, lang(), data)


@st.cache_data(show_spinner=False, max_entries=256)
def _partners(version: str, cluster_id: str, kind: str, _engine: DockingEngine) -> pd.DataFrame:
    from matcher.exceptions import MatcherError

    try:
        return _engine.suggest(kind, top=5, for_id=cluster_id)
    except MatcherError:
        return pd.DataFrame()


def top_partners(engine: DockingEngine, cluster_id: str, kind: str) -> pd.DataFrame:
    """A cluster's five best partners of ``kind`` with the preset weights (empty when it has none)."""
    return _partners(engine.dataset.version, cluster_id, kind, engine)


@st.cache_data(show_spinner=False, max_entries=256)
def _gaps(version: str, cluster_id: str, _engine: DockingEngine, _graph: nx.DiGraph) -> pd.DataFrame:
    from matcher.docking.chain import chain_gaps

    return chain_gaps(_graph, cluster_id, partner_scores=_engine.partner_scores(cluster_id))


def gaps(engine: DockingEngine, graph: nx.DiGraph, cluster_id: str) -> pd.DataFrame:
    """A cluster's chain gaps and the partners that could fill each (``chain.chain_gaps``)."""
    return _gaps(engine.dataset.version, cluster_id, engine, graph)


@st.cache_resource(show_spinner=False, max_entries=64)
def _chain_figure(version: str, cluster_id: str, language: str, _position: dict, _gaps: tuple, _links: pd.DataFrame):
    from app_components.charts import chain_position

    return chain_position(_position, list(_gaps), chain_links=_links)


def chain_figure(data: Dataset, cluster_id: str, position: dict, gap_stages: list[str]):
    """The chain-position drawing of a cluster (``charts.chain_position``), once per language."""
    from app_components.i18n import lang

    return _chain_figure(data.version, cluster_id, lang(), position, tuple(gap_stages), data.chain_links)
