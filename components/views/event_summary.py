"""Arrays prepared once per events table so the analyst's moves stay cheap.

Risk is sorted once: a count at a threshold is a binary search, and the alerts
in table order (riskiest first) are a prefix of that order, or that order
filtered by a mask; nothing re-sorts or copies the whole table. Addresses are
category codes, so the top addresses are a ``bincount``. The histogram is
counted once. Plot columns are float32: the plots never show exact values.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..readers import ScoredEvents

HISTOGRAM_BINS = 60
TOP_ADDRESSES = 10


class EventSummary:
    """Normalised events plus what the anomaly view derives from them."""

    def __init__(self, scored: ScoredEvents):
        frame = scored.frame
        self.scored = scored
        self.frame = frame
        self.source = scored.source
        self.score_column = scored.score_column
        self.default_threshold = scored.default_threshold
        self.scored_with = scored.model_source
        self.risk = frame["risk"].to_numpy(dtype="float64")
        finite = self.risk[np.isfinite(self.risk)]
        if finite.size == 0:
            raise ValueError(f"'{scored.source}' has no finite score to show")
        self.finite_range = (float(finite.min()), float(finite.max()))
        # Riskiest first; NaN last and never an alert, +inf always one.
        self.order = _riskiest_first(self.risk)
        scored_rows = int(np.count_nonzero(~np.isnan(self.risk)))
        self.sorted_risk = self.risk[self.order[:scored_rows][::-1]]
        self.codes = {name: frame[name].cat.codes.to_numpy()
                      for name in ("src_ip", "dst_ip")}
        self.addresses = {name: frame[name].cat.categories.astype(str)
                          for name in ("src_ip", "dst_ip")}
        self.src_codes = self.codes["src_ip"]
        self.source_addresses = list(self.addresses["src_ip"])
        self.histogram = np.histogram(self.sorted_risk, bins=HISTOGRAM_BINS,
                                      range=self.risk_range)
        self.plot_frame = _plot_frame(frame)
        self._last_mask: tuple = (None, None)

    @property
    def label(self) -> str:
        return f"{self.source} ({len(self.frame):,} events; score: {self.score_column})"

    @property
    def risk_range(self) -> tuple[float, float]:
        low, high = self.finite_range
        return (low, high) if high > low else (low - 0.5, high + 0.5)

    def host_mask(self, hosts: list[str]) -> np.ndarray | None:
        if not hosts:
            return None
        wanted = np.zeros(len(self.source_addresses), dtype=bool)
        for host in hosts:
            if host in self.source_addresses:
                wanted[self.source_addresses.index(host)] = True
        # A lookup per row in a table per address: one pass, no set search.
        return wanted[self.src_codes]

    def alert_mask(self, threshold: float, hosts: list[str]) -> np.ndarray:
        """Alerts among the chosen hosts. One move of the threshold redraws
        several outputs; they share the last mask instead of each recomputing."""
        key = (threshold, tuple(hosts))
        if self._last_mask[0] != key:
            mask = self.risk >= threshold
            host_mask = self.host_mask(hosts)
            self._last_mask = (key, mask if host_mask is None else mask & host_mask)
        return self._last_mask[1]

    def count_alerts(self, threshold: float, hosts: list[str]) -> tuple[int, int]:
        """Alerts and events among the chosen hosts (all hosts when none)."""
        if not hosts:
            return self._alerts_at(threshold), int(self.risk.size)
        chosen = self.host_mask(hosts)
        alerts = self.alert_mask(threshold, hosts)
        return int(np.count_nonzero(alerts)), int(np.count_nonzero(chosen))

    def alert_rows(self, threshold: float, hosts: list[str]) -> np.ndarray:
        """Row numbers of the alerts, riskiest first."""
        if not hosts:
            return self.order[:self._alerts_at(threshold)]
        return self.order[self.alert_mask(threshold, hosts)[self.order]]

    def top_addresses(self, mask: np.ndarray, column: str) -> pd.DataFrame:
        """The most frequent addresses in ``column`` among alerts, most last."""
        codes = self.codes[column][mask]
        counts = np.bincount(codes[codes >= 0], minlength=len(self.addresses[column]))
        top = np.argsort(-counts, kind="stable")[:TOP_ADDRESSES]
        top = top[counts[top] > 0]
        return pd.DataFrame({"address": self.addresses[column][top],
                             "alerts": counts[top]}).iloc[::-1]

    def alerts_table(self, rows: np.ndarray, columns: list[str]) -> pd.DataFrame:
        """The given rows (riskiest first) as plain values for display."""
        present = [c for c in columns if c in self.frame]
        alerts = self.frame[present].take(rows).reset_index(drop=True)
        for name in alerts.columns:
            if isinstance(alerts[name].dtype, pd.CategoricalDtype):
                alerts[name] = alerts[name].astype(str)
        if "timestamp" in alerts:
            alerts["timestamp"] = alerts["timestamp"].dt.tz_localize(None)
        return alerts.rename(columns={"timestamp": "time (UTC)"})

    def alert_points(self, mask: np.ndarray) -> pd.DataFrame:
        """Time and risk of the alerts, with their addresses for hovering."""
        points = self.plot_frame.loc[mask, ["time", "risk"]]
        for name in ("src_ip", "dst_ip"):
            points[name] = self.addresses[name].take(self.codes[name][mask])
        return points

    def _alerts_at(self, threshold: float) -> int:
        below = np.searchsorted(self.sorted_risk, threshold, side="left")
        return int(self.sorted_risk.size - below)


def _riskiest_first(risk: np.ndarray) -> np.ndarray:
    """Row numbers by falling risk, ties in table order, NaN last."""
    dtype = "int32" if risk.size < 2**31 else "int64"
    return np.argsort(-risk, kind="stable").astype(dtype, copy=False)


def _plot_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns the plots draw, with time as naive UTC for Bokeh's axis."""
    return pd.DataFrame({
        "time": frame["timestamp"].dt.tz_localize(None),
        "risk": frame["risk"].astype("float32"),
        "log10 bytes": _log10_1p(frame["bytes"]),
        "log10 duration (s)": _log10_1p(frame["duration"]),
    })


def _log10_1p(values: pd.Series) -> np.ndarray:
    numbers = values.to_numpy(dtype="float32", na_value=np.nan)
    return np.log10(1 + np.clip(numbers, 0, None))
