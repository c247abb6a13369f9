"""Count images of points held by a Dask cluster, aggregated partition by
partition on the workers.

HoloViews hands a Dask frame to Datashader, whose graph carries functions it
compiles for each image (Numba kernels in closures) inside every partition's
task. The scheduler pickles those by value once per task, with cloudpickle
searching every loaded module for each of them: at twenty partitions that is
over a second of the scheduler's time per image, during which no worker
starts, and the app process spends a few tenths more tokenizing them. Here
each task names a function of this module instead, pickled by reference.

HoloViews still decides the image: its ranges, size (with the page's pixel
ratio) and coordinates, from one point rasterized here. The workers count
their points on that same Datashader canvas, and the counts add up, pixel by
pixel, to the image HoloViews would have made of all the points. Only counts
are aggregated this way: a mean does not add up, and stays with HoloViews.
"""

from __future__ import annotations

import functools
from typing import Any

import datashader as ds
import holoviews as hv
import numpy as np
import pandas as pd
from holoviews.operation.datashader import rasterize

from .. import get_logger
from ..readers.dask_events import merged_in_tree

log = get_logger(__name__)
RANGE_NAMES = ("x_range", "y_range")


def on_dask(points: hv.Points) -> bool:
    """Whether the points are a Dask frame (HoloViews' Dask interface)."""
    return getattr(getattr(points, "interface", None), "datatype", None) == "dask"


def count_image(points: hv.Points, sizes: dict, ranges: dict) -> hv.Image:
    """The count of ``points`` per pixel, as ``rasterize`` gives it for the
    plot's ``sizes`` and ``ranges`` (those missing are the data's, as
    HoloViews takes them), counted on the workers."""
    kdims = [dimension.name for dimension in points.kdims]
    frame = points.data
    parts = frame.to_delayed()
    if len(ranges) < len(RANGE_NAMES):
        ranges = {**_data_ranges(parts, kdims), **ranges}
    if len(ranges) < len(RANGE_NAMES):
        # No point to place: the image HoloViews makes of no data.
        return _counts(frame._meta[kdims], kdims, {**sizes, **ranges})
    # Rasterized here, where the page's pixel ratio is known.
    template = _counts(_one_row(frame._meta[kdims]), kdims, {**sizes, **ranges})
    name = template.vdims[0].name
    shape = template.data[name].shape
    if 0 in shape:
        return template  # no pixel to count in (a range of one value)
    total = _total_counts(parts, kdims, _canvas(template, shape))
    log.debug("counted on the workers partitions=%d pixels=%s", len(parts), shape)
    if total is None:
        total = np.zeros(shape, dtype=template.data[name].dtype)
    return template.clone(template.data.assign(
        {name: template.data[name].copy(data=total)}))


def _total_counts(parts: list, kdims: list[str], canvas: dict) -> np.ndarray | None:
    """Counts per pixel of every partition, added up in a tree on the
    workers: one round trip, one array back."""
    from dask import compute, delayed

    level = [delayed(partition_counts, pure=True)(part, kdims, canvas)
             for part in parts]
    (total,) = compute(merged_in_tree(level, merge_counts))
    return total


def _data_ranges(parts: list, kdims: list[str]) -> dict:
    """The ranges of the data, one pass over the partitions; none when there
    are no points."""
    from dask import compute, delayed

    bounds = [found for found in compute(*[
        delayed(partition_bounds, pure=True)(part, kdims) for part in parts])
        if found is not None]
    if not bounds:
        return {}
    return {name: (min(found[axis][0] for found in bounds),
                   max(found[axis][1] for found in bounds))
            for axis, name in enumerate(RANGE_NAMES)}


def _one_row(meta: pd.DataFrame) -> pd.DataFrame:
    """A row of zeros (the epoch, for times) in ``meta``'s types: enough for
    HoloViews to lay out a Datashader image, wherever the point falls."""
    return pd.DataFrame({name: pd.Series([0], dtype="int64").astype(dtype)
                         for name, dtype in meta.dtypes.items()})


def _canvas(template: hv.Image, shape: tuple[int, int]) -> dict:
    """The Datashader canvas HoloViews laid ``template`` out on: its bounds,
    times as nanoseconds as HoloViews gives them to Datashader."""
    left, bottom, right, top = (_as_number(value)
                                for value in template.bounds.lbrt())
    return {"plot_height": shape[0], "plot_width": shape[1],
            "x_range": (left, right), "y_range": (bottom, top)}


def _as_number(value: Any) -> Any:
    if isinstance(value, np.datetime64 | pd.Timestamp):
        return int(np.datetime64(value, "ns").astype("int64"))
    return value


def partition_bounds(part: pd.DataFrame,
                     kdims: list[str]) -> list[tuple[Any, Any]] | None:
    """Lowest and highest value of each key dimension (on a worker); None
    when the partition has no point to place."""
    values = part[kdims].dropna()
    if values.empty:
        return None
    return [(values[name].min(), values[name].max()) for name in kdims]


def partition_counts(part: pd.DataFrame, kdims: list[str],
                     canvas: dict) -> np.ndarray | None:
    """One partition's points per pixel of ``canvas`` (on a worker); None
    when it has none."""
    if part.empty:
        return None
    x, y = kdims
    # As HoloViews gives them to Datashader: times as int64 nanoseconds.
    columns = pd.DataFrame({name: _as_numbers(part[name]) for name in kdims})
    counts = ds.Canvas(**canvas).points(columns, x, y, agg=ds.count())
    return counts.values


def merge_counts(arrays: list[np.ndarray | None]) -> np.ndarray | None:
    """Counts of the same canvas, added up."""
    present = [array for array in arrays if array is not None]
    return functools.reduce(np.add, present) if present else None


def _as_numbers(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.to_numpy(dtype="datetime64[ns]").view("int64")
    return values.to_numpy()


def _counts(frame: pd.DataFrame, kdims: list[str], options: dict) -> hv.Image:
    return rasterize(hv.Points(frame, kdims=kdims, vdims=[]), aggregator=ds.count(),
                     dynamic=False, **options)
