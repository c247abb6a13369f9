"""Arrays prepared once per events table so the analyst's moves stay cheap.

The views number the events riskiest first. The table stays as it was read;
the summary holds the order (found once per table and process) and, in that
order, only what every move touches: the scores, so a count at a threshold is
a binary search; the source and destination addresses, so the alerts among
chosen hosts and their top addresses are a prefix of codes and a
``bincount``; and the plot columns, so the alerts are a prefix of the points.
A page of the alerts table looks its rows up through the order. Nothing
re-sorts or copies the whole table. The histogram is counted once. Plot
columns are float32: the plots never show exact values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..readers import ScoredEvents
from ..readers.ordering import falling_order, taken_in_order
from .rasters import SharedImages

HISTOGRAM_BINS = 60
TOP_ADDRESSES = 10
# Text columns the alerts table's search looks in; all are categorical, so a
# search compares the (few) categories, then picks rows by code.
SEARCHED_COLUMNS = ("src_ip", "dst_ip", "protocol", "host", "user")


class EventSummary:
    """Normalised events, numbered riskiest first, plus what the anomaly view
    derives.

    Row numbers here count from the riskiest event: the alerts at a threshold
    are the first rows; among chosen hosts, some of those. Either way the
    plots take a prefix (a view, not a copy) or a few positions in it, and the
    table looks a page of them up through ``order``.
    """

    always_raster = False
    """Whether every plot is an image whatever the table's size."""

    def __init__(self, scored: ScoredEvents):
        self.scored = scored
        self.source = scored.source
        self.score_column = scored.score_column
        self.default_threshold = scored.default_threshold
        self.scored_with = scored.model_source
        frame = scored.frame
        self.frame = frame
        self.risk = frame["risk"].to_numpy(dtype="float64")
        """Every event's risk, as the table holds them."""
        finite = self.risk[np.isfinite(self.risk)]
        if finite.size == 0:
            raise ValueError(f"'{scored.source}' has no finite score to show")
        self.finite_range = (float(finite.min()), float(finite.max()))
        if not np.isfinite(self.finite_range[1] - self.finite_range[0]):
            raise ValueError(
                f"'{scored.source}' has scores from {self.finite_range[0]:g} to "
                f"{self.finite_range[1]:g}, a span too wide to bin or slide over")
        self.order = falling_order(self.risk)
        """The table's positions of the rows, riskiest first."""
        self.table_frame = _table_frame(frame)
        self._stored_codes: dict[str, np.ndarray] = {}
        self._take_riskiest_first()
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
        self._last_rows: tuple = (None, None)
        # Plot images of this table, aggregated once for every page.
        self.images = SharedImages()

    def _take_riskiest_first(self) -> None:
        """What every move reads, taken once in the riskiest-first order: the
        scores, the source and destination codes, and the plot columns."""
        frame = self.frame
        risk, time, src, dst, log_bytes, log_duration = taken_in_order([
            self.risk, self.table_frame["timestamp"].to_numpy(),
            self._codes_of("src_ip"), self._codes_of("dst_ip"),
            log10_1p(frame["bytes"]), log10_1p(frame["duration"])], self.order)
        # NaN is last and never an alert; negated, the rest rises, so a count
        # at a threshold is one binary search. Negated in place, to spare a
        # copy; the plots negate it back.
        scored_rows = int(np.count_nonzero(~np.isnan(risk)))
        self._falling = np.negative(risk[:scored_rows], out=risk[:scored_rows])
        self.codes = {"src_ip": src, "dst_ip": dst}
        """Address codes, riskiest first."""
        # Not copied into one block: the plots take the columns they draw.
        self.plot_frame = pd.DataFrame({
            "time": time,
            # The rows after the scored ones are NaN, negated or not.
            "risk": np.negative(risk, dtype="float32"),
            "log10 bytes": log_bytes,
            "log10 duration (s)": log_duration,
        }, copy=False)
        """What the plots draw, riskiest first."""

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
        alerts = self.table_frame[present].take(self.order[part])
        alerts = alerts.reset_index(drop=True)
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
        stored = self.order[rows]
        keep = np.zeros(stored.size, dtype=bool)
        for column in SEARCHED_COLUMNS:
            if column not in self.table_frame:
                continue
            values = self.table_frame[column]
            found = np.asarray(values.cat.categories.astype(str).str.lower()
                               .str.contains(needle, regex=False), dtype=bool)
            if found.any():
                # A missing value's code is -1: it lands on the appended False.
                keep |= np.append(found, False)[self._codes_of(column)[stored]]
        return as_positions(rows)[keep]

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
        """Category codes of ``column`` as the table holds them."""
        if column not in self._stored_codes:
            codes = self.table_frame[column].cat.codes.to_numpy()
            self._stored_codes[column] = codes
        return self._stored_codes[column]

    def _sort_keys(self, column: str, positions: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray]:
        """Numbers ordering ``column`` at ``positions`` as the table shows it,
        text without regard to case as the search does, and which are missing.
        """
        values = self.table_frame[column]
        stored = self.order[positions]
        if isinstance(values.dtype, pd.CategoricalDtype):
            ranks = _text_ranks(values.cat.categories)
            codes = self._codes_of(column)[stored]
            return ranks[codes], codes < 0
        chosen = values.iloc[stored]
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


def log10_1p(values: pd.Series) -> np.ndarray:
    """log10(1 + value) as float32, negative values as 0; in place, as each
    pass over 10M rows counts."""
    numbers = values.to_numpy(dtype="float32", na_value=np.nan, copy=True)
    np.clip(numbers, 0, None, out=numbers)
    np.log1p(numbers, out=numbers)
    numbers *= np.float32(1 / np.log(10))
    return numbers
