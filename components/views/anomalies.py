"""Which events are anomalous at the analyst's threshold, when, and from where."""

from __future__ import annotations

import html
from concurrent.futures import Future
from functools import partial

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure as bokeh_figure

from .. import get_logger
from ..readers import ScoredEvents, normalise_events
from ..readers.dask_events import DaskEvents
from ..store import latest
from .alerts_table import AlertsTable
from .background import run_now, run_off_loop, served_document
from .base import CatalogView, notice, problem, shows_problems
from .dask_summary import DaskSummary, summary_of
from .event_summary import EventSummary
from .rasters import event_raster, mean_raster
from .text import as_text
from .threshold import ThresholdControl

log = get_logger(__name__)

ALERT_COLOR = "#d62728"
EVENT_COLOR = "#9aa5b1"


class AnomalyView(CatalogView):
    """Score distribution, threshold, alerts over time and by address, and the
    alerts table (paged on the server) with a CSV download.

    Give it a ``catalog`` (it follows the selected events table and model) or,
    in a notebook, any scored ``data`` frame with a score column.
    """

    title = param.String(default="Anomalies")

    data = param.DataFrame(default=None, allow_None=True, doc="""
        A scored events table to show instead of the catalog's selection.""")

    threshold = param.Number(default=0.0, doc="""
        Risk at and above which an event is an alert (higher is more
        anomalous; for the pipeline's model, 0 is its own boundary).""")

    source_hosts = param.ListSelector(default=[], objects=[], doc="""
        Only events from these source addresses; all when empty.""")

    page_size = param.Integer(default=20, bounds=(5, 200), doc="""
        Alerts per table page; a session holds one page, and so does the
        browser.""")

    raster_above = param.Integer(default=50_000, bounds=(1_000, None), doc="""
        Above this many events the timeline and the scatter are drawn as
        images aggregated on the server (and again on zoom), so the browser
        gets pixels rather than every point; alert points lose their hover.""")

    summary = param.ClassSelector(class_=(EventSummary, DaskSummary),
                                  allow_None=True,
                                  precedence=-1, doc="""
        Arrays prepared once per events table for fast recomputation.""")

    error = param.String(default="", precedence=-1, doc="""
        Why the events could not be shown; empty when they can.""")

    loading = param.Boolean(default=False, precedence=-1, doc="""
        Whether events are being read and prepared on a worker thread.""")

    def __init__(self, **params):
        super().__init__(**params)
        self._slider = ThresholdControl(
            label="Risk threshold (alerts at and above)", value=self.threshold)
        self._slider.param.watch(self._typed_threshold, "value")
        self.param.watch(lambda event: setattr(self._slider, "value", event.new),
                         "threshold")
        self._moving_range = False
        self._threshold_note = pn.pane.Markdown(
            "", css_classes=["threshold-note"], margin=(18, 10, 0, 10))
        self._hosts = pn.widgets.MultiChoice.from_param(
            self.param.source_hosts, label="Source hosts (empty: all)", width=360)
        self.alerts_table = AlertsTable(page_size=self.page_size)
        self.param.watch(lambda event: setattr(self.alerts_table, "page_size",
                                               event.new), "page_size")
        # Updated in place on every move: replacing them would make Panel
        # walk the whole page's models each time.
        self._numbers = {name: pn.indicators.Number(
            label=name, value=0, format=fmt, font_size="26pt", title_size="11pt")
            for name, fmt in (("Alerts", "{value:,.0f}"),
                              ("Alert rate", "{value:.2f} %"),
                              ("Events", "{value:,.0f}"))}
        self._alerts_title = pn.pane.Markdown("", css_classes=["alerts-heading"])
        self._top_bars = {"src_ip": AddressBars("source", "#4a6fa5"),
                          "dst_ip": AddressBars("destination", "#e07b39")}
        self._outputs_key: tuple | None = None
        self._pending: Future | None = None
        self._selection: tuple | None = None
        self.param.watch(self._reload, ["data"])
        if self.catalog is not None:
            # ``problems`` too: a failed listing changes why the view is empty.
            self.catalog.param.watch(self._reload, ["events", "model",
                                                    "event_tables", "models",
                                                    "problems"])
        self._reload()

    def _typed_threshold(self, event) -> None:
        """Take a typed threshold when it is a number, held to the range of
        the scores with a note saying so; an emptied box shows the threshold
        in force again instead of failing."""
        value = event.new
        if self._moving_range:
            return
        if not (isinstance(value, int | float) and np.isfinite(value)):
            self._slider.value = self.threshold
            return
        note = ""
        if self.summary is not None:
            low, high = self.summary.risk_range
            if not low <= value <= high:
                side = "above the highest" if value > high else "below the lowest"
                value = float(np.clip(value, low, high))
                note = (f"{event.new:g} is {side} risk in these events; "
                        f"the threshold is {value:.4f}.")
        self.threshold = float(value)
        if self._slider.value != self.threshold:
            self._slider.value = self.threshold  # comes back here, in range
        self._threshold_note.object = note

    def _load(self) -> ScoredEvents:
        if self.data is not None:
            return normalise_events(self.data, "data")
        if self.catalog is None:
            raise LookupError("no catalog and no data given")
        return self.catalog.load_events()

    def _reload(self, *_events) -> None:
        """Prepare the selected events; on a served page off the event loop,
        showing the newest request's result when it arrives."""
        if self._already_shown_or_loading():
            return
        doc = served_document()
        if doc is None:
            self._show(run_now(self._prepare))
            return
        self.loading = True
        self._pending = run_off_loop(doc, self._prepare, self._show_if_newest)

    def _already_shown_or_loading(self) -> bool:
        """Whether the selection is the one shown or being read.

        Each listing offers new (equal) lists, which wakes this view; only a
        selection that failed is tried again, so a store that comes back is
        read again without the analyst doing anything.
        """
        if self.data is not None:
            key = ("data", id(self.data))
        elif self.catalog is not None:
            key = (self.catalog.selected_events, self.catalog.selected_model)
        else:
            key = None
        same = key == self._selection
        self._selection = key
        running = self._pending is not None and not self._pending.done()
        return same and (running or (self.summary is not None and not self.error))

    def _prepare(self) -> EventSummary:
        return self._summary_of(self._load())

    def _show_if_newest(self, future: Future) -> None:
        if future is self._pending:
            self.loading = False
            self._show(future)

    def _show(self, future: Future) -> None:
        try:
            summary = future.result()
        except Exception as exc:
            log.warning("events not shown reason=%s", exc)
            with param.parameterized.batch_call_watchers(self):
                self.summary, self.error = None, str(exc)
            return
        if summary is not self.summary:
            self._apply_summary(summary)

    def _summary_of(self, scored: ScoredEvents) -> EventSummary:
        """One summary per loaded table and process, shared by every page."""
        if isinstance(scored, DaskEvents):
            return summary_of(scored)
        store = self.catalog.store if self.catalog is not None else None
        if self.data is not None or store is None:
            return EventSummary(scored)
        # The summary holds ``scored``, so its id names it while both live.
        return store.remember(("event summary", id(scored)),
                              lambda: EventSummary(scored))

    def _apply_summary(self, summary: EventSummary) -> None:
        previous = self.summary
        same_table = previous is not None and (
            (previous.source, previous.scored_with)
            == (summary.source, summary.scored_with))
        low, high = summary.risk_range
        # A re-read of the same table keeps the analyst's choices.
        start = self.threshold if same_table else summary.default_threshold
        threshold = float(np.clip(start, low, high))
        self._set_slider_range(low, high, threshold)
        hosts = [h for h in self.source_hosts
                 if h in summary.source_addresses] if same_table else []
        # The outputs get their values (the table its rows, and so its
        # columns) before they are laid out: changing the columns of a table
        # the browser is still building makes it throw.
        self._fill_outputs(summary, threshold, hosts)
        with param.parameterized.batch_call_watchers(self):
            # The choices widget renders option labels as HTML: escape them.
            self.param.source_hosts.objects = {
                html.escape(address): address
                for address in summary.source_addresses}
            self.source_hosts = hosts
            self.threshold = threshold
            self.error = ""
            self.summary = summary

    def _set_slider_range(self, low: float, high: float, value: float) -> None:
        """Move the threshold control to another table's range of risk."""
        self._threshold_note.object = ""
        # Not yet the view's threshold: its outputs follow with the summary.
        self._moving_range = True
        try:
            self._slider.param.update(value=value, start=low, end=high,
                                      step=max((high - low) / 500, 1e-6))
        finally:
            self._moving_range = False

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._heading(), pn.panel(self._loading_line),
                         pn.panel(self._content), sizing_mode="stretch_width",
                         name=self.title)

    @param.depends("loading")
    def _loading_line(self) -> pn.viewable.Viewable:
        """While another table is prepared, the shown one stays, with a note."""
        if self.loading and self.summary is not None:
            return pn.pane.Markdown("*Reading and preparing the chosen events…*",
                                    css_classes=["events-loading"])
        return pn.Spacer(height=0)

    @param.depends("summary", "error")
    @shows_problems
    def _content(self) -> pn.viewable.Viewable:
        if self.summary is None and not self.error:
            return notice("Reading and preparing the events…")
        if self.summary is None:
            return problem(self.error, "No events to show")
        summary = self.summary
        controls = pn.Row(self._slider, self._threshold_note, self._hosts)
        plots = pn.GridBox(
            self._histogram(summary), self._timeline(summary),
            self._size_scatter(summary),
            pn.Column(*[bars.pane for bars in self._top_bars.values()],
                      sizing_mode="stretch_width"),
            ncols=2, sizing_mode="stretch_width")
        return pn.Column(
            pn.pane.Markdown(self._events_line(summary), css_classes=["events-source"]),
            controls, pn.Row(*self._numbers.values(), css_classes=["alert-counts"]),
            plots, self._alerts_title, self.alerts_table,
            sizing_mode="stretch_width")

    def _events_line(self, summary: EventSummary) -> str:
        line = f"**Events:** {as_text(summary.label)}"
        catalog = self.catalog
        if self.data is None and catalog is not None and catalog.models:
            chosen, newest = catalog.selected_model, latest(catalog.models)
            if summary.scored_with is not None and chosen != newest:
                line += " — **not the latest model**"
        return line

    @param.depends("threshold", "source_hosts", watch=True)
    def _refresh_outputs(self) -> None:
        """Recount and refill everything that follows the threshold and hosts."""
        if self.summary is not None:
            self._fill_outputs(self.summary, self.threshold, self.source_hosts)

    def _fill_outputs(self, summary: EventSummary, threshold: float,
                      hosts: list[str]) -> None:
        """Counts, heading, top addresses and table for one choice, once."""
        key = (summary, threshold, tuple(hosts))
        if key == self._outputs_key:
            return
        alerts, total = summary.count_alerts(threshold, hosts)
        self._update_counts(alerts, total)
        self._alerts_title.object = self._alerts_text(alerts, threshold)
        rows = summary.alert_rows(threshold, hosts)
        for column, bars in self._top_bars.items():
            bars.update(summary.top_addresses(rows, column))
        self.alerts_table.show(summary, rows)
        self._outputs_key = key

    def _update_counts(self, alerts: int, total: int) -> None:
        rate = 100 * alerts / total if total else 0.0
        values = {"Alerts": alerts, "Alert rate": rate, "Events": total}
        for name, value in values.items():
            self._numbers[name].value = value

    def _alerts_text(self, alerts: int, threshold: float) -> str:
        text = f"### Alerts at risk ≥ {threshold:.4f}: {alerts:,}"
        if alerts == 0:
            return text + ("\n\nNo event reaches this threshold for the chosen "
                           "hosts; lower the threshold to see alerts.")
        return text + ("\n\nThe search narrows the table and the CSV only, "
                       "not the counts and charts above.")

    def _alert_rows(self) -> slice | np.ndarray:
        return self.summary.alert_rows(self.threshold, self.source_hosts)

    def _histogram(self, summary: EventSummary):
        counts, edges = summary.histogram
        bars = hv.Histogram((edges, counts), kdims=["risk"], vdims=["events"])
        line = hv.DynamicMap(self._threshold_line)
        # A log axis needs a positive floor; half an event keeps 1 visible.
        return (bars.opts(color=EVENT_COLOR, line_color=None, logy=True,
                          ylim=(0.5, None))
                * line).opts(title="Risk distribution (line: threshold)",
                             responsive=True, height=280)

    @param.depends("threshold")
    def _threshold_line(self):
        return hv.VLine(self.threshold).opts(color=ALERT_COLOR, line_width=2)

    def _rasterised(self, summary: EventSummary) -> bool:
        return summary.always_raster or len(summary.plot_frame) > self.raster_above

    def _timeline(self, summary: EventSummary):
        events = hv.Points(summary.plot_frame, kdims=["time", "risk"], vdims=[])
        if self._rasterised(summary):
            choices = hv.streams.Params(self, ["threshold", "source_hosts"])
            layers = (event_raster(summary.images, "events over time",
                                   lambda: events, EVENT_COLOR)
                      * event_raster(summary.images, "alerts over time",
                                     partial(_alert_times, summary), ALERT_COLOR,
                                     (choices,)))
        else:
            layers = (events.opts(color=EVENT_COLOR, size=3, alpha=0.5)
                      * hv.DynamicMap(self._alert_points))
        return layers.opts(title="Events over time (red: alerts)",
                           responsive=True, height=280)

    @param.depends("threshold", "source_hosts")
    def _alert_points(self):
        alerts = self.summary.alert_points(self._alert_rows())
        return hv.Points(alerts, kdims=["time", "risk"],
                         vdims=["src_ip", "dst_ip"]).opts(
            color=ALERT_COLOR, size=4, tools=["hover"])

    def _size_scatter(self, summary: EventSummary):
        points = hv.Points(summary.plot_frame, kdims=["log10 duration (s)",
                                                      "log10 bytes"],
                           vdims=["risk"])
        style = {"cmap": "inferno_r", "colorbar": True, "tools": ["hover"]}
        if self._rasterised(summary):
            shown = mean_raster(summary.images, "bytes against duration",
                                lambda: points, "risk").opts(**style)
        else:
            shown = points.opts(color="risk", size=4, alpha=0.7, **style)
        return shown.opts(title="Bytes against duration (log10 of 1 + value)",
                           responsive=True, height=280)


def _alert_times(summary: EventSummary, threshold: float,
                 source_hosts: list[str]) -> hv.Points:
    """Where the alerts of ``summary`` are in time. Bound to the summary a
    plot was drawn for: its images are stored with that table's, and a plot
    left over from the table shown before must not store this one's alerts
    there."""
    alerts = summary.alert_times(summary.alert_rows(threshold, source_hosts))
    return hv.Points(alerts, kdims=["time", "risk"], vdims=[])


class AddressBars:
    """Alert counts per address as horizontal bars, updated in place.

    The data is replaced whole before the axis factors, so the browser never
    sees factors without bars to match (HoloViews, updating the factors first,
    made BokehJS throw "Size mismatch").
    """

    def __init__(self, role: str, color: str):
        self.source = ColumnDataSource({"address": [], "alerts": []})
        self.figure = bokeh_figure(
            y_range=[], height=240, sizing_mode="stretch_width",
            title=f"Top {role}s (alerts)", toolbar_location=None,
            tools="hover", tooltips=[(role, "@address"), ("alerts", "@alerts")])
        self.figure.hbar(y="address", right="alerts", height=0.8, color=color,
                         source=self.source)
        self.figure.x_range.start = 0
        self.figure.xaxis.axis_label = "alerts"
        self.pane = pn.pane.Bokeh(self.figure, sizing_mode="stretch_width")

    def update(self, counts: pd.DataFrame) -> None:
        addresses = counts["address"].tolist()
        self.source.data = {"address": addresses, "alerts": counts["alerts"].tolist()}
        self.figure.y_range.factors = addresses
