"""How the evaluation runs went: the latest against the previous, and history."""

from __future__ import annotations

import html

import hvplot.pandas  # noqa: F401  (registers .hvplot on dataframes)
import pandas as pd
import panel as pn
import param

from ..readers.evaluations import UNLABELLED_METRICS, order_metrics
from .base import CatalogView, notice, problem, shows_problems
from .text import as_text

UNLABELLED_NOTE = (
    "Precision, recall and F1 are computed by the pipeline against an all-zero "
    "ground truth (it has no labels), so they are 0 whenever anything is flagged. "
    "They are not accuracy. Watch anomaly rate, score mean and score spread "
    "across runs for drift and alert volume."
)


class EvaluationView(CatalogView):
    """Latest run's metrics with change since the previous run, and all runs.

    Give it a ``catalog``, or a long ``history`` table (run, run_time, metric,
    value) directly in a notebook.
    """

    title = param.String(default="Evaluation")

    history = param.DataFrame(default=None, allow_None=True, doc="""
        All runs' metrics as a long table; read from the catalog when None.""")

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._heading(), pn.panel(self._content),
                         sizing_mode="stretch_width", name=self.title)

    def _load(self) -> tuple[pd.DataFrame, dict[str, str]]:
        if self.history is not None:
            return self.history, {}
        return self.catalog.load_evaluations()

    @param.depends("history", "catalog.evaluations", "catalog.problems")
    @shows_problems
    def _content(self) -> pn.viewable.Viewable:
        history, failures = self._load()
        parts: list = [problem(reason, f"Cannot read {path}")
                       for path, reason in failures.items()]
        if history.empty:
            reason = ("no evaluation could be read" if failures else
                      self.catalog.why_empty("eval", "evaluation"))
            parts.append(problem(reason, "No evaluations")
                         if "eval" in self.catalog.problems
                         else notice(f"No evaluations to show: {reason}."))
            return pn.Column(*parts, sizing_mode="stretch_width")
        wide = runs_table(history)
        parts += [
            pn.pane.Markdown(f"**Latest run:** {as_text(wide.index[-1])}"),
            indicators(wide),
            pn.pane.Alert(UNLABELLED_NOTE, alert_type="warning"),
            history_plot(history),
            pn.widgets.Tabulator(wide.reset_index(), show_index=False,
                                 layout="fit_data_table",
                                 # Column titles are HTML to the table widget.
                                 titles={c: html.escape(c) for c in wide.columns},
                                 disabled=True, sizing_mode="stretch_width",
                                 css_classes=["evaluation-runs"]),
        ]
        return pn.Column(*parts, sizing_mode="stretch_width")


def runs_table(history: pd.DataFrame) -> pd.DataFrame:
    """One row per run (oldest first), one column per metric."""
    # A metric called like a run column would collide with it in the table.
    clashing = history["metric"].isin(["run", "run_time"])
    history = history.assign(metric=history["metric"].where(
        ~clashing, history["metric"] + " (metric)"))
    wide = history.pivot_table(index=["run_time", "run"], columns="metric",
                               values="value", aggfunc="last")
    wide = wide[order_metrics(list(wide.columns))]
    wide = wide.reset_index(level="run_time").sort_values("run_time")
    wide.columns.name = None
    return wide


def indicators(wide: pd.DataFrame) -> pn.FlexBox:
    """A number per metric of the latest run, with its change since the last."""
    latest = wide.iloc[-1]
    previous = wide.iloc[-2] if len(wide) > 1 else None
    cards = []
    for metric in [c for c in wide.columns if c != "run_time"]:
        value = latest[metric]
        change = "" if previous is None or pd.isna(previous[metric]) or (
            pd.isna(value)) else (
            f"{value - previous[metric]:+.4f} vs previous run")
        label = metric + (" (no labels)" if metric in UNLABELLED_METRICS else "")
        cards.append(pn.Column(
            # The indicator puts its name into HTML as it is: escape it.
            pn.indicators.Number(label=html.escape(label), value=float(value),
                                 format="{value:.4f}",
                                 font_size="24pt", title_size="11pt"),
            pn.pane.Str(change, styles={"color": "#555"}),
            width=190, name=f"metric-{metric}",
        ))
    return pn.FlexBox(*cards)


def history_plot(history: pd.DataFrame):
    """One line per metric across runs, with a point at each run."""
    ordered = history.sort_values("run_time")
    options = dict(x="run_time", y="value", by="metric", height=300,
                   responsive=True, xlabel="run", ylabel="value",
                   title="Metrics across evaluation runs")
    return ordered.hvplot.line(**options) * ordered.hvplot.scatter(
        **options, size=40)
