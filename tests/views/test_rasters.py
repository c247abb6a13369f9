"""Large tables are drawn as images aggregated once and shared by every page."""

import dask.dataframe as dd
import datashader as ds
import holoviews as hv
import numpy as np
import pandas as pd
import panel as pn
import pytest
from bokeh.document import Document
from holoviews.operation.datashader import rasterize

import dashboard.app  # noqa: F401  (the served app's Panel and HoloViews setup)
from components.readers import normalise_events
from components.views.anomalies import AnomalyView
from components.views.dask_rasters import count_image
from components.views.event_summary import EventSummary

EVENTS = 5_000


def events(seed: int, spread: float) -> EventSummary:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "timestamp": pd.Timestamp("2018-12-22", tz="UTC")
        + pd.to_timedelta(rng.integers(0, 86_400, EVENTS), unit="s"),
        "src_ip": rng.choice([f"10.0.0.{i}" for i in range(5)], EVENTS),
        "dst_ip": "192.0.2.9", "protocol": "tcp",
        "bytes": rng.integers(0, 10**6, EVENTS), "duration": rng.random(EVENTS),
        "anomaly_score": rng.normal(0.0, spread, EVENTS),
    })
    return EventSummary(normalise_events(frame, f"events_{seed}.parquet"))


@pytest.fixture(scope="module")
def summary() -> EventSummary:
    return events(3, 0.1)


def drawn_timeline(summary: EventSummary, **params):
    """A page's timeline, rendered as a served page would render it."""
    view = AnomalyView(raster_above=1_000, **params)
    view._apply_summary(summary)
    timeline = view._timeline(summary)
    pn.pane.HoloViews(timeline).get_root(Document())
    return view, timeline


def pixel_totals(timeline) -> list[float]:
    return [float(np.nansum(layer.data[layer.vdims[0].name].values))
            for layer in timeline.last]


def test_images_count_every_event_and_every_alert(summary):
    view, timeline = drawn_timeline(summary)
    alerts, total = summary.count_alerts(view.threshold, [])
    assert 0 < alerts < total == EVENTS
    assert pixel_totals(timeline) == [total, alerts]

    host = summary.source_addresses[0]
    view.param.update(threshold=0.05, source_hosts=[host])
    assert pixel_totals(timeline) == [total, summary.count_alerts(0.05, [host])[0]]


def test_empty_pixels_are_missing_so_they_stay_transparent(summary):
    _view, timeline = drawn_timeline(summary)
    events = timeline.last.get(0)
    values = events.data[events.vdims[0].name].values
    assert values.dtype == np.float32
    assert np.isnan(values).any() and not (values == 0).any()


def test_a_second_page_reuses_the_images_of_the_first(summary):
    drawn_timeline(summary)
    aggregated = summary.images.aggregated
    view, timeline = drawn_timeline(summary)
    assert summary.images.aggregated == aggregated

    view.threshold = 0.123
    # Only the alerts changed: one new image, the events' image is reused.
    assert summary.images.aggregated == aggregated + 1
    assert pixel_totals(timeline)[1] == summary.count_alerts(0.123, [])[0]


def test_a_plot_left_from_the_table_before_stores_nothing_in_it(summary):
    """Switching tables moves the threshold, which the old table's plot still
    follows; what it draws must be its own table's alerts, or every page
    asking for that image later would be shown another table's."""
    other = events(5, 0.3)
    view, _old_timeline = drawn_timeline(summary)
    view._apply_summary(other)
    view.threshold = 0.07
    alert_images = [(dict(key[1]), image)
                    for key, image in summary.images._images.items()
                    if key[0] == "alerts over time"]
    assert len(alert_images) >= 2
    for choices, image in alert_images:
        counted = float(np.nansum(image.data[image.vdims[0].name].values))
        assert counted == summary.count_alerts(choices["threshold"],
                                               list(choices["source_hosts"]))[0]


@pytest.mark.parametrize(("sizes", "ranges", "pixel_ratio"), [
    ({"width": 300, "height": 120}, {}, None),
    ({}, {"y_range": (-0.1, 0.2)}, 2),
    ({"width": 200, "height": 80},
     {"x_range": (pd.Timestamp("2018-12-22 06:00"), pd.Timestamp("2018-12-22 09:00")),
      "y_range": (0.0, 0.3)}, None),
])
def test_counts_of_a_dask_frame_are_holoviews_counts(summary, monkeypatch, sizes,
                                                     ranges, pixel_ratio):
    """Counted partition by partition, the image is the one HoloViews makes
    of every point at once: same pixels, coordinates and bounds."""
    monkeypatch.setattr(rasterize, "pixel_ratio", pixel_ratio)
    points = summary.plot_frame[["time", "risk"]]
    wanted = rasterize(hv.Points(points, kdims=["time", "risk"], vdims=[]),
                       aggregator=ds.count(), dynamic=False, **sizes, **ranges)
    got = count_image(hv.Points(dd.from_pandas(points, npartitions=4),
                                kdims=["time", "risk"], vdims=[]), sizes, ranges)
    name = wanted.vdims[0].name
    assert got.vdims == wanted.vdims and got.bounds.lbrt() == wanted.bounds.lbrt()
    np.testing.assert_array_equal(got.data[name].values, wanted.data[name].values)
    for axis in ("time", "risk"):
        np.testing.assert_array_equal(got.data[axis].values, wanted.data[axis].values)
