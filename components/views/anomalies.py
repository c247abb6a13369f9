"""Which events are anomalous at the analyst's threshold, when, and from where."""

from __future__ import annotations

import html
import io
from concurrent.futures import Future

import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.models import ColumnDataSource
from bokeh.plotting import figure as bokeh_figure

from .. import get_logger
from ..readers import ScoredEvents, normalise_events
from ..store import latest
from .background import run_now, run_off_loop, served_document
from .base import CatalogView, notice, problem, shows_problems
from .event_summary import EventSummary
from .lifetime import forget_links_on_close
from .rasters import event_raster, mean_raster
from .text import as_text

log = get_logger(__name__)

ALERT_COLOR = "#d62728"
EVENT_COLOR = "#9aa5b1"
ROW_PX, TABLE_CHROME_PX = 32, 130
TABLE_COLUMNS = ["timestamp", "src_ip", "dst_ip", "protocol", "bytes", "duration",
                 "risk", "raw_score", "flagged", "host", "user", "action"]


class AnomalyView(CatalogView):
    """Score distribution, threshold, alerts over time and by address, and the
    alerts table with a CSV download.

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
        Alerts per table page; only one page is sent to the browser.""")

    raster_above = param.Integer(default=50_000, bounds=(1_000, None), doc="""
        Above this many events the timeline and the scatter are drawn as
        images aggregated on the server (and again on zoom), so the browser
        gets pixels rather than every point; alert points lose their hover.""")

    summary = param.ClassSelector(class_=EventSummary, allow_None=True,
                                  precedence=-1, doc="""
        Arrays prepared once per events table for fast recomputation.""")

    error = param.String(default="", precedence=-1, doc="""
        Why the events could not be shown; empty when they can.""")

    loading = param.Boolean(default=False, precedence=-1, doc="""
        Whether events are being read and prepared on a worker thread.""")

    def __init__(self, **params):
        super().__init__(**params)
        self._slider = pn.widgets.EditableFloatSlider(
            label="Risk threshold (alerts at and above)", width=360,
            value=self.threshold, step=0.001, format="0.0000")
        self._slider.param.watch(self._typed_threshold, "value")
        self.param.watch(lambda event: setattr(self._slider, "value", event.new),
                         "threshold")
        doc = served_document()
        if doc is not None:
            # Otherwise Panel's registry of the slider's browser-side callback
            # keeps this view, and so the closed page, for good.
            forget_links_on_close(doc, self._slider)
        self._hosts = pn.widgets.MultiChoice.from_param(
            self.param.source_hosts, label="Source hosts (empty: all)", width=360)
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(), pagination="remote", page_size=self.page_size,
            header_filters=True, disabled=True, show_index=False,
            # A fixed height keeps a short last page from resizing the layout.
            height=TABLE_CHROME_PX + ROW_PX * self.page_size,
            sizing_mode="stretch_width", css_classes=["alerts-table"])
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
        self._download = pn.widgets.FileDownload(
            callback=self._alerts_csv, filename="soc-copilot-alerts.csv",
            label="Download alerts (CSV)", color="primary", width=240)
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
        """Take a typed threshold when it is a number; an emptied box shows the
        threshold in force again instead of failing."""
        value = event.new
        if isinstance(value, int | float) and np.isfinite(value):
            self.threshold = float(value)
        else:
            self._slider.value = self.threshold

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
        # Typed values are held to the range of the scores, like the slider.
        self._slider.param.update(start=low, end=high, fixed_start=low,
                                  fixed_end=high,
                                  step=max((high - low) / 500, 1e-6))
        # A re-read of the same table keeps the analyst's choices.
        start = self.threshold if same_table else summary.default_threshold
        threshold = float(np.clip(start, low, high))
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
        controls = pn.Row(self._slider, self._hosts)
        plots = pn.GridBox(
            self._histogram(summary), self._timeline(summary),
            self._size_scatter(summary),
            pn.Column(*[bars.pane for bars in self._top_bars.values()],
                      sizing_mode="stretch_width"),
            ncols=2, sizing_mode="stretch_width")
        return pn.Column(
            pn.pane.Markdown(self._events_line(summary), css_classes=["events-source"]),
            controls, pn.Row(*self._numbers.values(), css_classes=["alert-counts"]),
            plots, pn.Row(self._alerts_title, self._download), self._table,
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
        self._table.value = summary.alerts_table(rows, TABLE_COLUMNS)
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
        return text + ("\n\nThe column filters narrow the table and the CSV "
                       "only, not the counts and charts above.")

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
        return len(summary.plot_frame) > self.raster_above

    def _timeline(self, summary: EventSummary):
        events = hv.Points(summary.plot_frame, kdims=["time", "risk"], vdims=[])
        if self._rasterised(summary):
            layers = (event_raster(events, EVENT_COLOR)
                      * event_raster(hv.DynamicMap(self._alert_times), ALERT_COLOR))
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

    @param.depends("threshold", "source_hosts")
    def _alert_times(self):
        alerts = self.summary.plot_frame[["time", "risk"]].iloc[self._alert_rows()]
        return hv.Points(alerts, kdims=["time", "risk"], vdims=[])

    def _size_scatter(self, summary: EventSummary):
        points = hv.Points(summary.plot_frame, kdims=["log10 duration (s)",
                                                      "log10 bytes"],
                           vdims=["risk"])
        style = {"cmap": "inferno_r", "colorbar": True, "tools": ["hover"]}
        if self._rasterised(summary):
            points = mean_raster(points, "risk").opts(**style)
        else:
            points = points.opts(color="risk", size=4, alpha=0.7, **style)
        return points.opts(title="Bytes against duration (log10 of 1 + value)",
                           responsive=True, height=280)

    def _alerts_csv(self) -> io.StringIO:
        """Exactly the rows the table holds after its filters and sorting."""
        buffer = io.StringIO()
        self._table.current_view.to_csv(buffer, index=False)
        buffer.seek(0)
        return buffer


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
