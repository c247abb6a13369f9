"""Many points drawn as images aggregated on the server.

Above some hundred thousand points a browser spends seconds receiving and
drawing every glyph; an image the size of the plot costs the same whatever the
table's size. HoloViews' ``rasterize`` aggregates with Datashader and aggregates
again for the visible range when the analyst zooms or pans.
"""

from __future__ import annotations

import datashader as ds
import holoviews as hv
from holoviews.operation.datashader import rasterize


def event_raster(points: hv.Points | hv.DynamicMap, color: str) -> hv.DynamicMap:
    """Where events are, in one colour; empty pixels are transparent."""
    return rasterize(points, aggregator=ds.count()).opts(
        cmap=[color, color], nodata=0, colorbar=False)


def mean_raster(points: hv.Points, column: str) -> hv.DynamicMap:
    """Each pixel coloured by the mean of ``column`` over its points."""
    return rasterize(points, aggregator=ds.mean(column)).opts(clabel=column)
