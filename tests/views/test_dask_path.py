"""The Dask path gives the answers the single-process path gives.

A score table split into Parquet parts sits in the test S3 server. It is read
twice: in this process into an ``EventSummary``, and by two Dask worker
processes (a ``LocalCluster`` on loopback) into a ``DaskSummary``. Every
aggregate the anomaly view asks for must be the same.
"""

from __future__ import annotations

import socket

import boto3
import datashader as ds
import holoviews as hv
import numpy as np
import pandas as pd
import pytest
from bokeh.document import Document
from bokeh.models import Image, Scatter
from dask.utils import key_split
from distributed import get_task_stream

from components.catalog import Catalog
from components.store import ArtifactStore, StoreConfig, dask_client
from components.store.dask_client import DaskSettings
from components.views import dask_summary
from components.views.alerts_table import COLUMNS
from components.views.anomalies import AnomalyView
from components.views.dask_summary import DaskSummary, summary_of
from components.views.event_summary import EventSummary
from components.views.rasters import _aggregate
from components.views.text import as_text as as_markdown
from dashboard.status import status_markdown
from tests.conftest import ACCESS_KEY, HOST, SECRET_KEY
from tests.partitioned import folder_objects, parquet_bytes, score_rows

SCORES = "soc-copilot-dask-scores"
FOLDER = "scores_20181222_145000"
SINGLE = "scores_20181221_120000.parquet"
ROWS = 4_000
PARTS = 4
THRESHOLDS = (0.0, 0.35, 0.999, 2.0)
HOSTS = ([], ["10.0.0.1"], ["10.0.0.2", "unknown", "nobody"])
# Each sort column with a search: none, an address prefix, any case.
ORDERS = [("risk", ""), ("timestamp", "172.16.1"), ("bytes", ""),
          ("src_ip", "2001:DB8"), ("dst_ip", ""), ("protocol", "172.16.1"),
          ("raw_score", "UDP"), ("flagged", ""), ("action", "")]


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    """ml_score events without flags (the default threshold is then a
    percentile); the last part's scores are all missing."""
    frame = score_rows(ROWS, seed=11)
    frame.loc[ROWS - ROWS // PARTS:, "ml_score"] = np.nan
    return frame


@pytest.fixture(scope="module")
def env(s3_server, table) -> dict[str, str]:
    client = boto3.client("s3", endpoint_url=s3_server.endpoint_url,
                          region_name="us-east-1", aws_access_key_id=ACCESS_KEY,
                          aws_secret_access_key=SECRET_KEY)
    client.create_bucket(Bucket=SCORES)
    objects = folder_objects(table, FOLDER, PARTS)
    flagged = score_rows(1_000, seed=12, score_column="anomaly_score")
    flagged["prediction"] = (flagged["anomaly_score"] < 0).astype(int)
    objects[SINGLE] = parquet_bytes(flagged, row_group_size=300)
    for name, data in objects.items():
        client.put_object(Bucket=SCORES, Key=name, Body=data)
    return {"MINIO_ENDPOINT": f"{HOST}:{s3_server.port}",
            "MINIO_ACCESS_KEY": ACCESS_KEY, "MINIO_SECRET_KEY": SECRET_KEY,
            "SCORES_BUCKET": SCORES}


def catalog(env: dict[str, str], dask: DaskSettings | None = None,
            table: str = FOLDER) -> Catalog:
    """A listed catalog showing ``table`` (the newest by time may be either,
    as both are written within a second or two)."""
    listed = Catalog(store=ArtifactStore(StoreConfig.from_env(env)), dask=dask)
    listed.refresh()
    listed.events = f"{SCORES}/{table}"
    return listed


@pytest.fixture(scope="module")
def settings(dask_cluster) -> DaskSettings:
    return DaskSettings(address=dask_cluster.scheduler_address, timeout=60)


@pytest.fixture(scope="module")
def plain(env) -> EventSummary:
    return EventSummary(catalog(env).load_events())


@pytest.fixture(scope="module")
def dask(env, settings) -> DaskSummary:
    return summary_of(catalog(env, settings).load_events())


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """Text columns as plain strings: the Dask page holds text, not
    categories of the whole table."""
    return frame.assign(**{
        name: column.astype(object).where(column.notna())
        for name, column in frame.items()
        if isinstance(column.dtype, pd.CategoricalDtype)})


def test_the_folder_is_one_table_of_every_part(plain, dask):
    assert dask.rows == len(plain.frame) == ROWS
    assert dask.events.offsets == (0, 1_000, 2_000, 3_000, 4_000)
    assert "Dask" in dask.label and dask.source == plain.source
    assert dask.default_threshold == pytest.approx(plain.default_threshold, abs=1e-12)
    assert set(dask.columns) == set(plain.columns)


def test_histogram_range_and_hosts_are_the_same(plain, dask):
    assert dask.risk_range == plain.risk_range
    np.testing.assert_array_equal(dask.histogram[0], plain.histogram[0])
    np.testing.assert_array_equal(dask.histogram[1], plain.histogram[1])
    assert dask.source_addresses == plain.source_addresses


@pytest.mark.parametrize("threshold", THRESHOLDS)
@pytest.mark.parametrize("hosts", HOSTS)
def test_counts_top_addresses_and_first_page_are_the_same(plain, dask, threshold,
                                                          hosts):
    assert dask.count_alerts(threshold, hosts) == plain.count_alerts(threshold, hosts)
    wanted, got = plain.alert_rows(threshold, hosts), dask.alert_rows(threshold, hosts)
    assert dask.row_count(got) == plain.row_count(wanted)
    for column in ("src_ip", "dst_ip"):
        pd.testing.assert_frame_equal(
            dask.top_addresses(got, column).reset_index(drop=True),
            plain.top_addresses(wanted, column).reset_index(drop=True),
            check_dtype=False)
    first = min(20, plain.row_count(wanted))
    pd.testing.assert_frame_equal(
        dask.alerts_table(got, COLUMNS, 0, first),
        as_text(plain.alerts_table(wanted, COLUMNS, 0, first)), check_dtype=False)


@pytest.mark.parametrize(("column", "search"), ORDERS)
@pytest.mark.parametrize("descending", [True, False])
def test_searched_and_ordered_pages_are_the_same(plain, dask, column, descending,
                                                 search):
    wanted = plain.ordered(plain.matching(plain.alert_rows(0.2, []), search),
                           column, descending)
    got = dask.ordered(dask.matching(dask.alert_rows(0.2, []), search),
                       column, descending)
    matches = plain.row_count(wanted)
    assert dask.row_count(got) == matches > 0
    for start, stop in ((max(matches - 10, 0), matches), (0, 25), (25, 50)):
        pd.testing.assert_frame_equal(
            dask.alerts_table(got, COLUMNS, start, stop),
            as_text(plain.alerts_table(wanted, COLUMNS, start, stop)),
            check_dtype=False)


def test_the_export_is_cut_at_its_limit(plain, dask, monkeypatch):
    monkeypatch.setattr(dask_summary, "EXPORT_ROWS", 300)
    wanted = plain.ordered(plain.alert_rows(0.1, []), "bytes", False)
    got = dask.ordered(dask.alert_rows(0.1, []), "bytes", False)

    rows = dask.alerts_table(got, COLUMNS)

    assert plain.row_count(wanted) > len(rows) == 300
    pd.testing.assert_frame_equal(
        rows, as_text(plain.alerts_table(wanted, COLUMNS, 0, 300)), check_dtype=False)


def test_a_single_object_is_read_by_dask_too(env, settings):
    plain = EventSummary(catalog(env, table=SINGLE).load_events())
    dask = summary_of(catalog(env, settings, table=SINGLE).load_events())

    # Row groups of 300 rows: partitions smaller than the object.
    assert dask.default_threshold == plain.default_threshold == 0.0
    assert dask.count_alerts(0.05, []) == plain.count_alerts(0.05, [])
    wanted, got = plain.alert_rows(0.05, []), dask.alert_rows(0.05, [])
    pd.testing.assert_frame_equal(dask.alerts_table(got, COLUMNS, 0, 40),
                                  as_text(plain.alerts_table(wanted, COLUMNS, 0, 40)),
                                  check_dtype=False)


def test_this_process_holds_no_copy_of_the_table(dask):
    """What the summary and its events keep here is small: counts, a page,
    the addresses; the rows stay with the workers."""
    dask.count_alerts(0.0, [])
    held = [*vars(dask).values(), *vars(dask.events).values(),
            *dask._answers.values()]
    frames = [value for value in _flattened(held)
              if isinstance(value, pd.DataFrame | pd.Series | np.ndarray)]
    assert frames and max(len(frame) for frame in frames) < ROWS // PARTS


def _flattened(values):
    for value in values:
        if isinstance(value, dict):
            yield from _flattened(value.values())
        elif isinstance(value, list | tuple):
            yield from _flattened(value)
        else:
            yield value


def test_the_anomaly_view_draws_a_dask_table_as_images(env, settings, plain):
    shown = catalog(env, settings)
    view = AnomalyView(catalog=shown)
    root = view.__panel__().get_root(Document())

    assert isinstance(view.summary, DaskSummary) and view.error == ""
    view.threshold = 0.5
    alerts, events = plain.count_alerts(0.5, [])
    assert (view._numbers["Alerts"].value, view._numbers["Events"].value) == (
        alerts, events)
    assert view.alerts_table.matches == alerts
    assert len(view.alerts_table._table.value) == view.page_size
    # Events, alerts and the scatter are images; no point is sent.
    assert len(list(root.select({"type": Image}))) >= 3
    assert not list(root.select({"type": Scatter}))
    assert f"**Dask cluster:** {as_markdown(settings.address)}" in (
        status_markdown(shown))


# What a threshold move may run on the cluster: this project's functions,
# and the aliases Dask makes of the persisted partitions.
OWN_TASKS = {"overview", "alert_times", "partition_counts", "merge_counts",
             "normalised_part"}


def test_a_move_counts_alerts_on_the_workers_with_our_functions(env, settings,
                                                                plain):
    """The alert layer's image is counted by functions the workers import,
    not by Datashader's Dask graph, whose compiled closures the scheduler
    pickles anew for every partition's task (over a second per move at
    twenty partitions); and it is the image HoloViews makes of the same
    alerts in one process, pixel for pixel."""
    view = AnomalyView(catalog=catalog(env, settings))
    view.__panel__().get_root(Document())
    summary = view.summary
    with get_task_stream(summary.events.client) as stream:
        view.threshold = 0.35
    assert {"partition_counts", "merge_counts"} <= {
        key_split(task["key"]) for task in stream.data} <= OWN_TASKS

    (key, image), = [(key, image) for key, image in summary.images._images.items()
                     if key[0] == "alerts over time"
                     and dict(key[1])["threshold"] == 0.35]
    _layer, _choices, x_range, y_range, width, height = key
    alerts = plain.alert_points(plain.alert_rows(0.35, []))
    wanted = _aggregate(hv.Points(alerts, kdims=["time", "risk"], vdims=[]),
                        ds.count(), x_range, y_range, width, height)
    name = image.vdims[0].name
    np.testing.assert_array_equal(image.data[name].values,
                                  wanted.data[name].values)
    assert np.nansum(image.data[name].values) > 0


def test_an_unreachable_scheduler_is_named_in_the_view(env, monkeypatch):
    monkeypatch.setattr(dask_client, "CONNECT_SECONDS", 0.5)
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        address = f"tcp://{HOST}:{probe.getsockname()[1]}"

    view = AnomalyView(catalog=catalog(env, DaskSettings(address=address)))

    assert view.summary is None
    assert f"The Dask scheduler at {address} did not answer" in view.error
