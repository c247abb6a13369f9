"""Arrays prepared once per events table so the analyst's moves stay cheap.

Moving the threshold or the host filter recomputes only masks and counts over
these arrays; nothing copies or re-sorts the whole table.
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
        # NaN is never an alert; +inf always is: counts and masks agree on it.
        self.sorted_risk = np.sort(self.risk[~np.isnan(self.risk)])
        self.src_codes = frame["src_ip"].cat.codes.to_numpy()
        self.source_addresses = list(frame["src_ip"].cat.categories.astype(str))
        self.plot_frame = _plot_frame(frame)
        self._last_mask: tuple = (None, None)

    @property
    def label(self) -> str:
        return f"{self.source} ({len(self.frame):,} events; score: {self.score_column})"

    @property
    def risk_range(self) -> tuple[float, float]:
        low, high = self.finite_range
        return (low, high) if high > low else (low - 0.5, high + 0.5)

    @property
    def histogram(self) -> tuple[np.ndarray, np.ndarray]:
        return np.histogram(self.sorted_risk, bins=HISTOGRAM_BINS,
                            range=self.risk_range)

    def host_mask(self, hosts: list[str]) -> np.ndarray | None:
        if not hosts:
            return None
        wanted = [self.source_addresses.index(h) for h in hosts
                  if h in self.source_addresses]
        return np.isin(self.src_codes, wanted)

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
        host_mask = self.host_mask(hosts)
        if host_mask is None:
            below = np.searchsorted(self.sorted_risk, threshold, side="left")
            return int(self.sorted_risk.size - below), int(self.risk.size)
        return int((host_mask & (self.risk >= threshold)).sum()), int(host_mask.sum())

    def top_addresses(self, mask: np.ndarray, column: str) -> pd.DataFrame:
        """The most frequent addresses in ``column`` among alerts, most last."""
        return _top(self.frame[column], mask)

    def alerts_table(self, mask: np.ndarray, columns: list[str]) -> pd.DataFrame:
        """The alert rows, riskiest first, as plain values for display."""
        present = [c for c in columns if c in self.frame]
        alerts = self.frame.loc[mask, present]
        alerts = alerts.sort_values("risk", ascending=False, ignore_index=True)
        for name in alerts.columns:
            if isinstance(alerts[name].dtype, pd.CategoricalDtype):
                alerts[name] = alerts[name].astype(str)
        if "timestamp" in alerts:
            alerts["timestamp"] = alerts["timestamp"].dt.tz_localize(None)
        return alerts.rename(columns={"timestamp": "time (UTC)"})


def _top(addresses: pd.Series, mask: np.ndarray) -> pd.DataFrame:
    counts = addresses[mask].value_counts().head(TOP_ADDRESSES)
    counts = counts[counts > 0]
    return pd.DataFrame({"address": counts.index.astype(str),
                         "alerts": counts.to_numpy()}).iloc[::-1]


def _plot_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns the plots draw, with time as naive UTC for Bokeh's axis."""
    return pd.DataFrame({
        "time": frame["timestamp"].dt.tz_localize(None),
        "risk": frame["risk"],
        "log10 bytes": np.log10(1 + frame["bytes"].clip(lower=0).astype(float)),
        "log10 duration (s)": np.log10(
            1 + frame["duration"].clip(lower=0).astype(float)),
        "src_ip": frame["src_ip"].astype(str),
        "dst_ip": frame["dst_ip"].astype(str),
    })
