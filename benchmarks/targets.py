"""The scale targets, each as a limit on one median of the benchmark."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


def budget_mb(summary: dict) -> float:
    """Server memory allowed with the table loaded: twice its Arrow size plus
    the idle server."""
    return 2 * summary["arrow_mb"] + summary["rss_idle_mb"]


@dataclass(frozen=True)
class Target:
    text: str
    key: str
    unit: str
    limit: Callable[[dict], float]

    def measured(self, summary: dict) -> float | None:
        return summary.get(self.key)


TARGETS = (
    Target("cold load ≤ 1.5 x bare pyarrow read", "load_ratio", "{:.2f}x",
           lambda _summary: 1.5),
    Target("threshold move ≤ 150 ms (server)", "threshold_ms", "{:,.0f} ms",
           lambda _summary: 150.0),
    Target("host filter move ≤ 150 ms (server)", "host_ms", "{:,.0f} ms",
           lambda _summary: 150.0),
    Target("anomaly view drawn ≤ 2 s after data loaded", "render_s", "{:.2f} s",
           lambda _summary: 2.0),
    Target("server RSS after load ≤ 2 x Arrow + idle", "rss_loaded_mb",
           "{:,.0f} MB", budget_mb),
    Target("each extra browser session ≤ 15 MB", "session_mb", "{:,.1f} MB",
           lambda _summary: 15.0),
)
