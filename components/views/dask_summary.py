"""The anomaly view's summary of a table held by a Dask cluster.

It answers what ``EventSummary`` answers, with the same methods, but asks the
workers for aggregates only: counts, the histogram, the top addresses, one
page of alerts, and (through HoloViews and Datashader) images of the points.
Alerts are not positions here but an ``AlertQuery``: the threshold, hosts,
search and order that describe them.

One move of the threshold or the host filter costs one pass over the table
for the counts, the top addresses and the first page together, plus the
alert layer's image; the answer is kept for the pages that ask next.
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd

from .. import get_logger
from ..readers.dask_events import DaskEvents, merged_in_tree
from . import dask_partitions as parts
from .dask_partitions import AlertQuery
from .event_summary import HISTOGRAM_BINS, TOP_ADDRESSES
from .rasters import SharedImages

log = get_logger(__name__)

# Rows of the first page computed with each move: the largest page size, so
# that any page size's first page needs no second pass.
FIRST_ROWS = 200
# The CSV of a Dask table's alerts holds at most this many rows: the app
# process must never hold the whole table, and alerts may be most of it.
EXPORT_ROWS = 100_000
# What the reader writes for a missing address, protocol, host or user.
MISSING_TEXT = "unknown"
# Answers kept per summary (all sessions showing the table share them).
KEPT_ANSWERS = 16


def summary_of(events: DaskEvents) -> DaskSummary:
    """One summary per table held by Dask, kept with it for every page."""
    with _MADE_LOCK:
        if "summary" not in events.derived:
            events.derived["summary"] = DaskSummary(events)
        return events.derived["summary"]


_MADE_LOCK = threading.Lock()


class DaskSummary:
    """What the anomaly view derives from events held by a Dask cluster."""

    always_raster = True
    """Points are never sent to the browser: every plot is an image."""

    def __init__(self, events: DaskEvents):
        self.events = events
        self.source = events.source
        self.score_column = events.score_column
        self.default_threshold = events.default_threshold
        self.scored_with = events.model_source
        self.columns = list(events.frame.columns)
        self._offsets = events.offsets
        self._answers: OrderedDict[tuple, Any] = OrderedDict()
        # Plot images of this table, aggregated once for every page.
        self.images = SharedImages()
        self._lock = threading.Lock()
        self._describe(events)
        meta = parts.plot_columns(events.frame._meta)
        # Held on the workers beside the events, as each image (and each
        # range HoloViews asks for) passes over every point again.
        self.plot_frame = events.client.persist(
            events.frame.map_partitions(parts.plot_columns, meta=meta))
        self._alert_meta = parts.alert_times(events.frame._meta, AlertQuery(0.0))

    def _describe(self, events: DaskEvents) -> None:
        """Risk range, histogram, addresses and their order: two passes."""
        facts = events.compute(*self._tasks(parts.table_facts, with_offset=True))
        lows = [f["low"] for f in facts if f["low"] is not None]
        if not lows:
            raise ValueError(f"'{self.source}' has no finite score to show")
        self.finite_range = (min(lows), max(f["high"] for f in facts
                                            if f["high"] is not None))
        if not np.isfinite(self.finite_range[1] - self.finite_range[0]):
            raise ValueError(
                f"'{self.source}' has scores from {self.finite_range[0]:g} to "
                f"{self.finite_range[1]:g}, a span too wide to bin or slide over")
        counts = events.compute(*self._tasks(parts.histogram, self.risk_range))
        edges = np.histogram_bin_edges([], bins=HISTOGRAM_BINS, range=self.risk_range)
        self.histogram = (np.sum(counts, axis=0), edges)
        self._first_seen = _first_seen(facts)
        self._ranks = {column: parts.text_ranks(first.index)
                       for column, first in self._first_seen.items()}
        self._sources = pd.concat([f["sources"] for f in facts]).groupby(
            level=0, sort=False).sum()
        self.source_addresses = list(self._first_seen["src_ip"].index)

    @property
    def rows(self) -> int:
        return self.events.rows

    @property
    def label(self) -> str:
        return (f"{self.source} ({self.rows:,} events; score: "
                f"{self.score_column}; held by the Dask cluster)")

    @property
    def risk_range(self) -> tuple[float, float]:
        low, high = self.finite_range
        return (low, high) if high > low else (low - 0.5, high + 0.5)

    def alert_rows(self, threshold: float, hosts: list[str]) -> AlertQuery:
        """The alerts among the chosen hosts, riskiest first, as a query."""
        return AlertQuery(float(threshold), tuple(hosts))

    def count_alerts(self, threshold: float, hosts: list[str]) -> tuple[int, int]:
        """Alerts and events among the chosen hosts (all hosts when none)."""
        alerts = self._overview(self.alert_rows(threshold, hosts))["alerts"]
        if not hosts:
            return alerts, self.rows
        chosen = self._sources.reindex(list(dict.fromkeys(hosts))).fillna(0)
        return alerts, int(chosen.sum())

    def top_addresses(self, rows: AlertQuery, column: str) -> pd.DataFrame:
        """The most frequent addresses in ``column`` among the alerts, most
        last; ties in the order the addresses first occur in the table."""
        counts = self._overview(rows)[column]
        first = self._first_seen[column].reindex(counts.index)
        order = np.lexsort((first.to_numpy(), -counts.to_numpy()))[:TOP_ADDRESSES]
        top = counts.iloc[order]
        return pd.DataFrame({"address": top.index.astype(str),
                             "alerts": top.to_numpy()}).iloc[::-1]

    def row_count(self, rows: AlertQuery) -> int:
        """How many alerts the query chooses."""
        if not rows.search:
            return self._overview(rows)["alerts"]
        return self._remember(("count", rows), lambda: sum(self.events.compute(
            *self._tasks(parts.count, rows))))

    def matching(self, rows: AlertQuery, text: str) -> AlertQuery:
        """Those of ``rows`` whose address, protocol, host or user contains
        ``text`` (any case); all of them when the text is blank."""
        return dataclasses.replace(rows, search=text.strip().lower())

    def ordered(self, rows: AlertQuery, column: str, descending: bool) -> AlertQuery:
        """``rows`` ordered by ``column``; ties keep the riskiest first."""
        return dataclasses.replace(rows, column=column, descending=descending)

    def alerts_table(self, rows: AlertQuery, columns: list[str], start: int = 0,
                     stop: int | None = None) -> pd.DataFrame:
        """Alerts ``start`` to ``stop`` in the query's order, for display;
        without ``stop``, the first ``EXPORT_ROWS`` at most."""
        if stop is None:
            stop = min(self.row_count(rows), EXPORT_ROWS)
            if stop == EXPORT_ROWS:
                log.warning("alerts cut at rows=%d table=%s", stop, self.source)
        page = self._page(rows, start, stop)
        present = [c for c in columns if c in page]
        shown = page[present].reset_index(drop=True)
        return shown.rename(columns={"timestamp": "time (UTC)"})

    def alert_times(self, rows: AlertQuery) -> Any:
        """Time and risk of the alerts as a Dask frame, filtered on the
        workers, for the alert layer's image."""
        return self.events.frame.map_partitions(parts.alert_times, rows,
                                                meta=self._alert_meta)

    def alert_points(self, rows: AlertQuery) -> pd.DataFrame:
        raise TypeError("alerts of a table held by Dask are drawn as an image, "
                        "never as points")

    def _overview(self, rows: AlertQuery) -> dict:
        """Counts, addresses and first page of the query's threshold and
        hosts, in one pass over the table, kept for the next callers."""
        query = rows.overview
        return self._remember(("overview", query), lambda: _merged_overview(
            self.events.compute(*self._tasks(parts.overview, query, FIRST_ROWS,
                                             self._ranks, with_offset=True))))

    def _page(self, rows: AlertQuery, start: int, stop: int) -> pd.DataFrame:
        """Alerts ``start`` to ``stop`` of the query; the first ones come with
        each move, the others are cut out on the workers."""
        if rows == rows.overview and stop <= FIRST_ROWS:
            return self._overview(rows)["page"].iloc[start:stop]
        return self._remember(("page", rows, start, stop),
                              lambda: self._merged_page(rows, start, stop))

    def _merged_page(self, rows: AlertQuery, start: int,
                     stop: int) -> pd.DataFrame:
        """One page merged on the workers: each partition offers its first
        rows up to the page's end, merged in a tree. A page nearer the end
        is taken from the end, so the workers sort at most half the alerts."""
        from dask import delayed

        matches = self.row_count(rows)
        stop = min(stop, matches)
        start = min(start, stop)
        reverse = matches - start < stop
        first = matches - start if reverse else stop
        ranks = {rows.column: self._ranks[rows.column]} if (
            rows.column in self._ranks) else {}
        level = self._tasks(parts.candidates, rows, first, ranks, None, reverse,
                            with_offset=True)
        merged = merged_in_tree(level, parts.merge_pages, first, reverse)
        (page,) = self.events.compute(
            delayed(parts.page_of)(merged, start, stop, reverse))
        return page

    def _tasks(self, function, *args, with_offset: bool = False) -> list:
        """``function`` applied to every partition, as delayed tasks."""
        from dask import delayed

        task = delayed(function, pure=True)
        if with_offset:
            return [task(part, offset, *args) for part, offset
                    in zip(self.events.partitions, self._offsets, strict=False)]
        return [task(part, *args) for part in self.events.partitions]

    def _remember(self, key: tuple, compute) -> Any:
        """The answer kept under ``key``, else ``compute()``'s, then kept."""
        with self._lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
        value = compute()
        with self._lock:
            self._answers[key] = value
            while len(self._answers) > KEPT_ANSWERS:
                self._answers.popitem(last=False)
        return value


def _first_seen(facts: list[dict]) -> dict[str, pd.Series]:
    """Per text column, the table row where each value first occurs, in
    that order: the order of the categories of a table read in one process,
    where a missing value's "unknown" comes after every value read."""
    seen = {}
    for column in facts[0]["first"]:
        first = pd.concat([f["first"][column] for f in facts]).groupby(
            level=0).min()
        if MISSING_TEXT in first.index:
            first[MISSING_TEXT] = np.iinfo(np.int64).max
        seen[column] = first.sort_values(kind="stable")
    return seen


def _merged_overview(answers: list[dict]) -> dict:
    merged = {"alerts": sum(answer["alerts"] for answer in answers)}
    for column in parts.ADDRESS_COLUMNS:
        merged[column] = pd.concat([answer[column] for answer in answers]).groupby(
            level=0, sort=False).sum()
    merged["page"] = parts.merge_pages([a["page"] for a in answers], FIRST_ROWS)
    return merged
