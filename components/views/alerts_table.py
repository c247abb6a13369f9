"""The alerts, one page at a time: searched, sorted and cut on the server.

A table widget holding every alert would keep a copy of them per page and
rebuild it on every move of the threshold; here a session holds the positions
of its alerts (none at all in the default, riskiest-first order) and the
widget holds one page, which is all the browser receives.
"""

from __future__ import annotations

import asyncio
import io

import numpy as np
import pandas as pd
import panel as pn
import param

from .event_summary import EventSummary

ROW_PX, TABLE_CHROME_PX = 32, 60
COLUMNS = ["timestamp", "src_ip", "dst_ip", "protocol", "bytes", "duration",
           "risk", "raw_score", "flagged", "host", "user", "action"]
# Names of the columns in the table and the sort choices, where they differ.
SHOWN_NAMES = {"timestamp": "time (UTC)"}
DOWNLOAD_LABEL = "Download alerts (CSV)"
# A cell starting with one of these is a formula to a spreadsheet.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


class AlertsTable(pn.viewable.Viewer):
    """One page of the alerts chosen by the anomaly view, with a search, a sort
    order, paging and a CSV of every matching alert in the shown order."""

    page = param.Integer(default=1, bounds=(1, None), doc="""
        The page shown, from 1.""")

    page_size = param.Integer(default=20, bounds=(5, 200), doc="""
        Alerts per page.""")

    search = param.String(default="", doc="""
        Only alerts whose source or destination address, protocol, host or
        user contains this text (any case); all alerts when blank.""")

    sort_by = param.Selector(default="risk", objects=["risk"], doc="""
        Column the alerts are ordered by.""")

    order = param.Selector(default="descending", objects={
        "highest first": "descending", "lowest first": "ascending"}, doc="""
        Highest (latest, last alphabetically) first, or lowest first.""")

    csv_limit = param.Integer(default=50_000, bounds=(100, 1_000_000), doc="""
        Most alerts a CSV download holds: the first in the shown order. The
        file is built in the server's memory and sent through the page.""")

    matches = param.Integer(default=0, bounds=(0, None), constant=True, doc="""
        How many alerts match the search, over all pages.""")

    def __init__(self, **params):
        super().__init__(**params)
        self._summary: EventSummary | None = None
        self._columns: list[str] = []
        self._alerts: slice | np.ndarray = slice(0, 0)
        self._shown: slice | np.ndarray = slice(0, 0)
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(), show_index=False, disabled=True,
            # Sorting by header would order only the page the browser holds.
            configuration={"headerSort": False},
            height=TABLE_CHROME_PX + ROW_PX * self.page_size,
            sizing_mode="stretch_width", css_classes=["alerts-table"])
        self._position = pn.pane.Markdown("", css_classes=["alerts-position"],
                                          margin=(12, 10))
        self._previous = pn.widgets.Button(label="◀ Previous", width=110)
        self._next = pn.widgets.Button(label="Next ▶", width=110)
        self._previous.on_click(lambda _event: self._turn(-1))
        self._next.on_click(lambda _event: self._turn(+1))
        self._download = pn.widgets.FileDownload(
            callback=self._csv_off_loop, filename="soc-copilot-alerts.csv",
            label=DOWNLOAD_LABEL, color="primary", width=260)
        self.param.watch(self._arrange, ["search", "sort_by", "order"])
        self.param.watch(self._fill_page, ["page", "page_size"])
        self.param.watch(self._label_download, ["matches", "csv_limit"])
        self._layout = self._lay_out()

    @property
    def pages(self) -> int:
        return max(1, -(-self.matches // self.page_size))

    def show(self, summary: EventSummary, alerts: slice | np.ndarray) -> None:
        """Show ``alerts`` (rows of ``summary``) from the first page."""
        if summary is not self._summary:
            self._summary = summary
            self._columns = [c for c in COLUMNS if c in summary.columns]
            self.param.sort_by.objects = {SHOWN_NAMES.get(c, c): c
                                          for c in self._columns}
            if self.sort_by not in self._columns:
                with param.parameterized.discard_events(self):
                    self.sort_by = "risk"
        self._alerts = alerts
        self._arrange()

    def rows(self) -> pd.DataFrame:
        """Every matching alert, in the shown order, as the table shows them."""
        if self._summary is None:
            return pd.DataFrame()
        return self._summary.alerts_table(self._shown, self._columns)

    def csv(self) -> io.StringIO:
        """The matching alerts as CSV, at most ``csv_limit`` of them; text
        that a spreadsheet would run as a formula starts with a quote."""
        buffer = io.StringIO()
        if self._summary is not None:
            first = min(self.matches, self.csv_limit)
            frame = self._summary.alerts_table(self._shown, self._columns, 0, first)
            _defused(frame).to_csv(buffer, index=False)
        buffer.seek(0)
        return buffer

    async def _csv_off_loop(self) -> io.StringIO:
        # Tens of thousands of rows take seconds to write: on the event loop
        # they would hold every page and the health probes meanwhile.
        return await asyncio.to_thread(self.csv)

    def _arrange(self, *_events) -> None:
        """Search and order the alerts, then show the first page."""
        if self._summary is None:
            return
        found = self._summary.matching(self._alerts, self.search)
        self._shown = self._summary.ordered(found, self.sort_by,
                                            self.order == "descending")
        with param.edit_constant(self):
            self.matches = self._summary.row_count(self._shown)

        if self.page != 1:
            self.page = 1  # fills the page through its watcher
        else:
            self._fill_page()

    def _label_download(self, *_events) -> None:
        self._download.label = (
            DOWNLOAD_LABEL if self.matches <= self.csv_limit
            else f"Download first {self.csv_limit:,} alerts (CSV)")

    def _fill_page(self, *_events) -> None:
        if self._summary is None:
            return
        self.page = min(self.page, self.pages)
        start = (self.page - 1) * self.page_size
        stop = min(start + self.page_size, self.matches)
        self._table.value = self._summary.alerts_table(
            self._shown, self._columns, start, stop)
        self._table.height = TABLE_CHROME_PX + ROW_PX * self.page_size
        self._position.object = _position_text(start, stop, self.matches,
                                               self.page, self.pages)
        self._previous.disabled = self.page <= 1
        self._next.disabled = self.page >= self.pages

    def _turn(self, step: int) -> None:
        self.page = int(np.clip(self.page + step, 1, self.pages))

    def __panel__(self) -> pn.viewable.Viewable:
        return self._layout

    def _lay_out(self) -> pn.Column:
        search = pn.widgets.TextInput.from_param(
            self.param.search, name="", width=300, css_classes=["alerts-search"],
            placeholder="Search address, protocol, host or user")
        sort_by = pn.widgets.Select.from_param(self.param.sort_by, name="",
                                               width=140, css_classes=["alerts-sort"])
        order = pn.widgets.Select.from_param(self.param.order, name="", width=140,
                                             css_classes=["alerts-order"])
        return pn.Column(
            pn.Row(search, pn.pane.Markdown("Sort by", margin=(12, 4)), sort_by,
                   order, self._download),
            self._table,
            pn.Row(self._previous, self._next, self._position),
            sizing_mode="stretch_width")


def _defused(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells a spreadsheet would run as formulas, quoted to stay text.

    Whoever writes to the store chooses these values; an analyst opening the
    CSV must not run them.
    """
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(
                column) or pd.api.types.is_datetime64_any_dtype(column):
            continue
        text = column.astype("string")
        risky = text.str.startswith(FORMULA_STARTS).fillna(False)
        if risky.any():
            frame[name] = text.mask(risky, "'" + text)
    return frame


def _position_text(start: int, stop: int, matches: int, page: int,
                   pages: int) -> str:
    if matches == 0:
        return "No alert matches."
    return (f"Alerts {start + 1:,} to {stop:,} of {matches:,} · "
            f"page {page:,} of {pages:,}")
