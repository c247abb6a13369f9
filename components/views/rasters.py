"""Many points drawn as images aggregated on the server, shared by every page.

Above some hundred thousand points a browser spends seconds receiving and
drawing every glyph; an image the size of the plot costs the same whatever the
table's size. HoloViews' ``rasterize`` aggregates with Datashader, and again
for the visible range when the analyst zooms or pans.

Every page opens on the same table at the same ranges, so most images are the
same for all of them: each is aggregated once per table and kept in a small
store shared by the process, rather than aggregated and held by every page.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

import datashader as ds
import holoviews as hv
from holoviews.operation.datashader import rasterize
from holoviews.streams import PlotSize, RangeXY

from .. import get_logger
from .dask_rasters import count_image, on_dask

log = get_logger(__name__)

# Images kept per table: a few plot sizes and zoom levels, each ~1-2 MB.
KEPT_IMAGES = 24


class SharedImages:
    """The images aggregated from one table, newest kept, for every page."""

    def __init__(self, kept: int = KEPT_IMAGES):
        self._kept = kept
        self._images: OrderedDict[Hashable, hv.Image] = OrderedDict()
        self._lock = threading.Lock()
        self.aggregated = 0

    def image(self, key: Hashable, aggregate: Callable[[], hv.Image]) -> hv.Image:
        with self._lock:
            if key in self._images:
                self._images.move_to_end(key)
                return self._images[key]
        # Aggregated outside the lock: two pages asking at once may both
        # aggregate, which costs time once but never blocks other images.
        image = aggregate()
        with self._lock:
            self.aggregated += 1
            self._images[key] = image
            while len(self._images) > self._kept:
                self._images.popitem(last=False)
        return image


def shared_raster(images: SharedImages, layer: Hashable,
                  points: Callable[..., hv.Points], aggregator: ds.reductions.Reduction,
                  streams: tuple = ()) -> hv.DynamicMap:
    """``points(**choices)`` as an image, for the plot's size and visible
    ranges, where the choices are the values of ``streams``.

    ``layer`` with the choices names what ``points`` returns: pages asking for
    the same layer, choices, size and ranges get the same image.
    """

    def draw(x_range=None, y_range=None, width=None, height=None, scale=1.0,
             **choices):
        key = (layer, _hashable(choices), _hashable(x_range), _hashable(y_range),
               width, height)
        return images.image(key, lambda: _aggregate(
            points(**choices), aggregator, x_range, y_range, width, height))

    return hv.DynamicMap(draw, streams=[RangeXY(), PlotSize(), *streams])


def event_raster(images: SharedImages, layer: Hashable,
                 points: Callable[..., hv.Points], color: str,
                 streams: tuple = ()) -> hv.DynamicMap:
    """Where events are, in one colour; empty pixels are transparent."""
    return shared_raster(images, layer, points, ds.count(), streams).opts(
        cmap=[color, color], colorbar=False)


def mean_raster(images: SharedImages, layer: Hashable,
                points: Callable[..., hv.Points], column: str) -> hv.DynamicMap:
    """Each pixel coloured by the mean of ``column`` over its points."""
    return shared_raster(images, layer, points, ds.mean(column)).opts(clabel=column)


def _aggregate(points: hv.Points, aggregator, x_range, y_range, width,
               height) -> hv.Image:
    sizes = {name: value for name, value in (("width", width), ("height", height))
             if value}
    ranges = {name: value for name, value in (("x_range", x_range),
                                              ("y_range", y_range)) if value}
    if log.isEnabledFor(logging.DEBUG):
        # Counting the points of a Dask frame is a pass over the cluster.
        log.debug("aggregating %s points ranges=%s size=%s", len(points), ranges,
                  sizes)
    counts = isinstance(aggregator, ds.count)
    if counts and on_dask(points):
        # Datashader's own Dask graph costs the scheduler seconds per image.
        image = count_image(points, sizes, ranges)
    else:
        image = rasterize(points, aggregator=aggregator, dynamic=False, **sizes,
                          **ranges)
    return _empty_as_missing(image) if counts else image


def _empty_as_missing(image: hv.Image) -> hv.Image:
    """Counts with empty pixels as NaN, so they are drawn transparent.

    Done once here: asked to treat 0 as missing at draw time, HoloViews makes
    a float64 copy of the image for every page, every time it is drawn.
    """
    name = image.vdims[0].name
    counts = image.data[name]
    return image.clone(image.data.assign(
        {name: counts.astype("float32").where(counts > 0)}))


def _hashable(value):
    if isinstance(value, dict):
        return tuple(sorted((name, _hashable(item)) for name, item in value.items()))
    if isinstance(value, list | tuple):
        return tuple(_hashable(item) for item in value)
    return value
