"""Arrays prepared once per events table so the analyst's moves stay cheap.

The events are held riskiest first (sorted once per table and process): a count
at a threshold is a binary search, and the alerts are a prefix of the rows, or
positions in it among chosen hosts; nothing re-sorts or copies the whole table.
Addresses are category codes, so the top addresses are a ``bincount``. The
histogram is counted once. Plot columns are float32: the plots never show
exact values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..readers import ScoredEvents
from ..readers.events import riskiest_first
from .rasters import SharedImages

HISTOGRAM_BINS = 60
TOP_ADDRESSES = 10
# Text columns the alerts table's search looks in; all are categorical, so a
# search compares the (few) categories, then picks rows by code.
SEARCHED_COLUMNS = ("src_ip", "dst_ip", "protocol", "host", "user")


class EventSummary:
    """Normalised events, riskiest first, plus what the anomaly view derives.

    The alerts at a threshold are the first rows; among chosen hosts, some of
    those. Either way the plots and the table take a prefix (a view, not a
    copy) or a few positions in it.
    """

    always_raster = False
    """Whether every plot is an image whatever the table's size."""

    def __init__(self, scored: ScoredEvents):
        self.scored = scored
        self.source = scored.source
        self.score_column = scored.score_column
        self.default_threshold = scored.default_threshold
        self.scored_with = scored.model_source
        frame = riskiest_first(scored.frame)
        self.frame = frame
        self.risk = frame["risk"].to_numpy(dtype="float64")
        finite = self.risk[np.isfinite(self.risk)]
        if finite.size == 0:
            raise ValueError(f"'{scored.source}' has no finite score to show")
        self.finite_range = (float(finite.min()), float(finite.max()))
        if not np.isfinite(self.finite_range[1] - self.finite_range[0]):
            raise ValueError(
                f"'{scored.source}' has scores from {self.finite_range[0]:g} to "
                f"{self.finite_range[1]:g}, a span too wide to bin or slide over")
        # NaN is last and never an alert; negated, the rest rises, so a count
        # at a threshold is one binary search.
        scored_rows = int(np.count_nonzero(~np.isnan(self.risk)))
        self._falling = -self.risk[:scored_rows]
        self.codes = {name: frame[name].cat.codes.to_numpy()
                      for name in ("src_ip", "dst_ip")}
        self.addresses = {name: frame[name].cat.categories.astype(str)
                          for name in ("src_ip", "dst_ip")}
        self.src_codes = self.codes["src_ip"]
        self.source_addresses = list(self.addresses["src_ip"])
        # Events per source address: the events among chosen hosts are a sum
        # over the chosen addresses, not a pass over every row.
        known = self.src_codes[self.src_codes >= 0]
        self._events_per_source = np.bincount(
            known, minlength=len(self.source_addresses))
        self.histogram = np.histogram(finite, bins=HISTOGRAM_BINS,
                                      range=self.risk_range)
        self.table_frame = _table_frame(frame)
        self.plot_frame = _plot_frame(frame, self.table_frame["timestamp"])
        self._last_rows: tuple = (None, None)
        # Plot images of this table, aggregated once for every page.
        self.images = SharedImages()

    @property
    def label(self) -> str:
        return f"{self.source} ({len(self.frame):,} events; score: {self.score_column})"

    @property
    def columns(self) -> list[str]:
        """The columns the alerts table can show."""
        return list(self.table_frame.columns)

    @property
    def risk_range(self) -> tuple[float, float]:
        low, high = self.finite_range
        return (low, high) if high > low else (low - 0.5, high + 0.5)

    def host_mask(self, hosts: list[str]) -> np.ndarray | None:
        """Rows from the chosen source addresses; None when all are chosen."""
        if not hosts:
            return None
        return self._host_lookup(hosts)[self.src_codes]

    def alert_rows(self, threshold: float, hosts: list[str]) -> slice | np.ndarray:
        """The alerts among the chosen hosts, riskiest first: a prefix of the
        rows, or positions in it. One move redraws several outputs; they share
        the last answer instead of each recomputing it."""
        key = (threshold, tuple(hosts))
        if self._last_rows[0] != key:
            alerts = self._alerts_at(threshold)
            rows = slice(0, alerts) if not hosts else np.flatnonzero(
                self._host_lookup(hosts)[self.src_codes[:alerts]])
            self._last_rows = (key, rows)
        return self._last_rows[1]

    def count_alerts(self, threshold: float, hosts: list[str]) -> tuple[int, int]:
        """Alerts and events among the chosen hosts (all hosts when none)."""
        if not hosts:
            return self._alerts_at(threshold), int(self.risk.size)
        alerts = self.alert_rows(threshold, hosts)
        chosen = self._events_per_source[self._host_lookup(hosts)].sum()
        return int(alerts.size), int(chosen)

    def top_addresses(self, rows: slice | np.ndarray, column: str) -> pd.DataFrame:
        """The most frequent addresses in ``column`` among ``rows``, most last."""
        codes = self.codes[column][rows]
        counts = np.bincount(codes[codes >= 0], minlength=len(self.addresses[column]))
        top = np.argsort(-counts, kind="stable")[:TOP_ADDRESSES]
        top = top[counts[top] > 0]
        return pd.DataFrame({"address": self.addresses[column][top],
                             "alerts": counts[top]}).iloc[::-1]

    def alerts_table(self, rows: slice | np.ndarray, columns: list[str],
                     start: int = 0, stop: int | None = None) -> pd.DataFrame:
        """The given rows, in the given order, for display; from ``start`` to
        ``stop`` of them when given (a page). Addresses stay categorical: a
        page is turned into text when it is sent."""
        present = [c for c in columns if c in self.table_frame]
        part = _part(rows, start, self.row_count(rows) if stop is None else stop)
        alerts = self.table_frame[present].iloc[part].reset_index(drop=True)
        return alerts.rename(columns={"timestamp": "time (UTC)"})

    @staticmethod
    def row_count(rows: slice | np.ndarray) -> int:
        """How many rows a choice of rows holds."""
        if isinstance(rows, slice):
            return rows.stop - (rows.start or 0)
        return int(rows.size)

    def matching(self, rows: slice | np.ndarray, text: str) -> slice | np.ndarray:
        """Those of ``rows`` whose address, protocol, host or user contains
        ``text`` (any case); all of them when the text is blank."""
        needle = text.strip().lower()
        if not needle:
            return rows
        positions = as_positions(rows)
        keep = np.zeros(positions.size, dtype=bool)
        for column in SEARCHED_COLUMNS:
            if column not in self.table_frame:
                continue
            values = self.table_frame[column]
            found = np.asarray(values.cat.categories.astype(str).str.lower()
                               .str.contains(needle, regex=False), dtype=bool)
            if found.any():
                # A missing value's code is -1: it lands on the appended False.
                keep |= np.append(found, False)[self._codes_of(column)[positions]]
        return positions[keep]

    def ordered(self, rows: slice | np.ndarray, column: str,
                descending: bool) -> slice | np.ndarray:
        """``rows`` ordered by ``column``; ties keep the riskiest first and
        missing values come last in either direction.

        The rows are held riskiest first, so that order costs nothing; any
        other is one stable sort of the chosen rows' keys.
        """
        if column == "risk" and descending:
            return rows
        positions = as_positions(rows)
        keys, missing = self._sort_keys(column, positions)
        present = np.flatnonzero(~missing)
        chosen = keys[present]
        # Negated, a stable ascending sort is descending with ties in order.
        order = np.argsort(-chosen if descending else chosen, kind="stable")
        return positions[np.concatenate([present[order], np.flatnonzero(missing)])]

    def alert_times(self, rows: slice | np.ndarray) -> pd.DataFrame:
        """Time and risk of the alerts, for drawing them as an image."""
        return self.plot_frame[["time", "risk"]].iloc[rows]

    def alert_points(self, rows: slice | np.ndarray) -> pd.DataFrame:
        """Time and risk of the alerts, with their addresses for hovering."""
        points = self.plot_frame[["time", "risk"]].iloc[rows]
        for name in ("src_ip", "dst_ip"):
            points = points.assign(**{
                name: self.addresses[name].take(self.codes[name][rows])})
        return points

    def _codes_of(self, column: str) -> np.ndarray:
        if column not in self.codes:
            self.codes[column] = self.table_frame[column].cat.codes.to_numpy()
        return self.codes[column]

    def _sort_keys(self, column: str, positions: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Numbers ordering ``column`` at ``positions`` as the table shows it,
        text without regard to case as the search does, and which are missing.
        """
        values = self.table_frame[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            ranks = _text_ranks(values.cat.categories)
            codes = self._codes_of(column)[positions]
            return ranks[codes], codes < 0
        chosen = values.iloc[positions]
        missing = chosen.isna().to_numpy()
        if pd.api.types.is_datetime64_any_dtype(chosen):
            # Whole units of the column's own resolution: as floats, close
            # instants would tie, and as nanoseconds far dates overflow.
            stamps = chosen.to_numpy()
            return stamps.view("int64"), missing
        if pd.api.types.is_bool_dtype(chosen) or pd.api.types.is_numeric_dtype(chosen):
            numbers = chosen.to_numpy(dtype="float64", na_value=np.nan)
            return numbers, missing
        text = chosen.astype("string")
        return _text_ranks(pd.Index(text.fillna(""))), missing

    def _alerts_at(self, threshold: float) -> int:
        return int(np.searchsorted(self._falling, -threshold, side="right"))

    def _host_lookup(self, hosts: list[str]) -> np.ndarray:
        """Per source address, whether it is chosen: one lookup per row."""
        wanted = np.zeros(len(self.source_addresses), dtype=bool)
        for host in hosts:
            if host in self.source_addresses:
                wanted[self.source_addresses.index(host)] = True
        return wanted


def _text_ranks(text: pd.Index) -> np.ndarray:
    """Each value's rank in alphabetical order, ignoring case."""
    lowered = np.asarray(text.astype(str).str.lower(), dtype=object)
    _unique, ranks = np.unique(lowered, return_inverse=True)
    return ranks


def as_positions(rows: slice | np.ndarray) -> np.ndarray:
    """Row positions, whether given as a prefix or as positions already."""
    if isinstance(rows, slice):
        return np.arange(rows.start or 0, rows.stop, dtype=np.int64)
    return rows


def _part(rows: slice | np.ndarray, start: int, stop: int) -> slice | np.ndarray:
    """Rows ``start`` to ``stop`` of a choice of rows, without copying a prefix."""
    if isinstance(rows, slice):
        first = rows.start or 0
        return slice(first + start, first + stop)
    return rows[start:stop]


def _table_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The events with time as naive UTC, as the table shows it."""
    return frame.assign(timestamp=frame["timestamp"].dt.tz_localize(None))


def _plot_frame(frame: pd.DataFrame, naive_time: pd.Series) -> pd.DataFrame:
    """Columns the plots draw; time shared with the table, naive UTC for Bokeh."""
    return pd.DataFrame({
        "time": naive_time,
        "risk": frame["risk"].astype("float32"),
        "log10 bytes": _log10_1p(frame["bytes"]),
        "log10 duration (s)": _log10_1p(frame["duration"]),
    })


def _log10_1p(values: pd.Series) -> np.ndarray:
    numbers = values.to_numpy(dtype="float32", na_value=np.nan)
    return np.log10(1 + np.clip(numbers, 0, None))
