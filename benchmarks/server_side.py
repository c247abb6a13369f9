"""Server-side timings through the app's own components, without a browser.

Each measurement runs what the served app runs: the catalog reads the selected
table through a fresh ``ArtifactStore`` (so nothing is cached), and moves of
the threshold or the host filter go through an ``AnomalyView`` whose page has
been rendered to Bokeh models, so every output that depends on them is
recomputed and its models updated, as in a browser session. Sending the
resulting patch to a browser is not included.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow.parquet as pq
from bokeh.document import Document

import dashboard.app  # noqa: F401  (the served app's Panel and HoloViews setup)
from components.catalog import Catalog
from components.readers.ordering import falling_order
from components.store import ArtifactStore, StoreConfig
from components.views.anomalies import AnomalyView
from components.views.event_summary import EventSummary

# Thresholds as quantiles of risk, cycled: from many alerts to a handful, so
# each move changes what is shown.
THRESHOLD_QUANTILES = (0.999, 0.99, 0.95, 0.9, 0.8)


@dataclass(frozen=True)
class ServerTimings:
    """Per-run seconds of each measurement at one table size.

    ``prepare`` is the anomaly view's ``EventSummary`` of a loaded table: once
    per table and server process (every page built its own before the summary
    was shared). ``order`` is the part of it that finds the riskiest-first
    order, so later moves are binary searches and prefixes.
    """

    bare_read: list[float]
    cold_load: list[float]
    prepare: list[float]
    order: list[float]
    threshold_move: list[float]
    host_move: list[float]


def measure(env: dict[str, str], path: str, runs: int) -> ServerTimings:
    """Time ``runs`` of each step on the table at ``bucket/name`` ``path``."""
    config = StoreConfig.from_env(env)
    bare = _repeat(runs, lambda: _bare_read(config, path))
    cold = _repeat(runs, lambda: _cold_load(config))
    catalog = _catalog(config)
    scored = catalog.load_events()
    prepare = _repeat(runs, lambda: EventSummary(scored))
    risk = scored.frame["risk"].to_numpy()
    order = _repeat(runs, lambda: falling_order(risk))
    view = AnomalyView(catalog=catalog)
    page = view.__panel__()
    root = page.get_root(Document())
    thresholds = list(_cycle(_thresholds(view), runs))
    threshold_move = _moves(view, "threshold", thresholds)
    view.threshold = view.summary.default_threshold
    host_move = _moves(view, "source_hosts", list(_cycle(_host_choices(view), runs)))
    # Panel keeps rendered pages alive until they are cleaned up, as a closed
    # browser session's are; without this the table stays in memory.
    page._cleanup(root)
    return ServerTimings(bare, cold, prepare, order, threshold_move, host_move)


def _bare_read(config: StoreConfig, path: str) -> None:
    """The I/O floor: Arrow reads the object through the app's filesystem."""
    pq.read_table(path, filesystem=ArtifactStore(config).fs)


def _cold_load(config: StoreConfig) -> None:
    """Store to normalised dataframe, with an empty cache."""
    _catalog(config).load_events()


def _catalog(config: StoreConfig) -> Catalog:
    catalog = Catalog(store=ArtifactStore(config))
    catalog.refresh()
    return catalog


def _repeat(runs: int, step: Callable[[], object]) -> list[float]:
    seconds = []
    for _ in range(runs):
        gc.collect()
        started = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - started)
    gc.collect()
    return seconds


def _moves(view: AnomalyView, name: str, values: list) -> list[float]:
    seconds = []
    for value in values:
        started = time.perf_counter()
        setattr(view, name, value)
        seconds.append(time.perf_counter() - started)
    return seconds


def _thresholds(view: AnomalyView) -> list[float]:
    risk = view.summary.risk
    finite = risk[np.isfinite(risk)]
    return [float(np.quantile(finite, q)) for q in THRESHOLD_QUANTILES]


def _host_choices(view: AnomalyView) -> list[list[str]]:
    """One host, all hosts by name, none (all), the other host, and so on."""
    hosts = view.summary.source_addresses
    return [hosts[:1], hosts[:2], [], hosts[-1:]]


def _cycle(values: list, count: int) -> Iterator:
    for index in range(count):
        yield values[index % len(values)]
