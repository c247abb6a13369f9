"""What each Dask worker computes on its partitions of an events table.

The answers ``EventSummary`` gives in one process, per partition, in a form
that merges: counts add up, address counts add up by address, and a page is
the first rows of every partition in the shown order, merged and cut again.
The functions run on the workers (``merge_*`` also in the app); they take a
partition and small arguments, and return small results.

Rows are ordered as in ``EventSummary``: by the chosen column with missing
values last, then riskiest first, then in table order (``ROW``, the row's
position in the whole table).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .event_summary import HISTOGRAM_BINS, SEARCHED_COLUMNS, log10_1p

ROW, MISSING, KEY, RISK = "__row", "__missing", "__key", "__risk"
ADDRESS_COLUMNS = ("src_ip", "dst_ip")
PLOT_COLUMNS = ("time", "risk", "log10 bytes", "log10 duration (s)")


@dataclass(frozen=True)
class AlertQuery:
    """Which alerts, in which order: what the Dask summary's ``rows`` are."""

    threshold: float
    hosts: tuple[str, ...] = ()
    search: str = ""
    """Lower-case text an address, protocol, host or user contains; blank
    for every alert."""
    column: str = "risk"
    descending: bool = True

    @property
    def overview(self) -> AlertQuery:
        """The same alerts without search and in the stored order: what the
        counts, the top addresses and the first page are computed for."""
        return AlertQuery(self.threshold, self.hosts)


def alert_mask(part: pd.DataFrame, query: AlertQuery) -> np.ndarray:
    """Which rows of ``part`` are alerts the query chooses."""
    with np.errstate(invalid="ignore"):
        mask = part["risk"].to_numpy(dtype="float64") >= query.threshold
    if query.hosts:
        mask &= part["src_ip"].isin(query.hosts).to_numpy(dtype=bool)
    if query.search:
        mask &= search_mask(part, query.search)
    return mask


def search_mask(part: pd.DataFrame, needle: str) -> np.ndarray:
    """Rows whose address, protocol, host or user contains ``needle``; the
    (few) categories are searched, then rows picked by code."""
    keep = np.zeros(len(part), dtype=bool)
    for column in SEARCHED_COLUMNS:
        if column not in part:
            continue
        values = part[column]
        found = np.asarray(values.cat.categories.astype(str).str.lower()
                           .str.contains(needle, regex=False), dtype=bool)
        if found.any():
            # A missing value's code is -1: it lands on the appended False.
            keep |= np.append(found, False)[values.cat.codes.to_numpy()]
    return keep


def table_facts(part: pd.DataFrame, offset: int) -> dict:
    """Finite risk range, each text column's values with the table row where
    they first appear, and events per source address."""
    risk = part["risk"].to_numpy(dtype="float64")
    finite = risk[np.isfinite(risk)]
    first = {}
    for column in part.columns:
        values = part[column]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes, where = np.unique(values.cat.codes.to_numpy(), return_index=True)
            known = codes >= 0
            first[column] = pd.Series(
                offset + where[known],
                index=values.cat.categories.astype(str)[codes[known]])
    return {
        "low": float(finite.min()) if finite.size else None,
        "high": float(finite.max()) if finite.size else None,
        "first": first,
        "sources": _counts(part["src_ip"], np.ones(len(part), dtype=bool)),
    }


def histogram(part: pd.DataFrame, risk_range: tuple[float, float]) -> np.ndarray:
    """Events per bin of risk over ``risk_range``; partitions' counts add up
    to the table's, as every value falls in the bin NumPy gives it alone."""
    risk = part["risk"].to_numpy(dtype="float64")
    counts, _edges = np.histogram(risk[np.isfinite(risk)], bins=HISTOGRAM_BINS,
                                  range=risk_range)
    return counts


def overview(part: pd.DataFrame, offset: int, query: AlertQuery, page: int,
             ranks: dict[str, pd.Series]) -> dict:
    """Alerts of one choice of threshold and hosts: how many, per address,
    and the first ``page`` of them in the stored order; one pass."""
    mask = alert_mask(part, query)
    return {
        "alerts": int(mask.sum()),
        **{column: _counts(part[column], mask) for column in ADDRESS_COLUMNS},
        "page": candidates(part, offset, query, page, ranks, mask),
    }


def count(part: pd.DataFrame, query: AlertQuery) -> int:
    return int(alert_mask(part, query).sum())


def candidates(part: pd.DataFrame, offset: int, query: AlertQuery, first: int,
               ranks: dict[str, pd.Series], mask: np.ndarray | None = None,
               reverse: bool = False) -> pd.DataFrame:
    """The first ``first`` alerts of ``part`` in the query's order (the last,
    last first, with ``reverse``), with the sort keys ``merge_pages`` orders
    by across partitions."""
    if mask is None:
        mask = alert_mask(part, query)
    positions = np.flatnonzero(mask)
    missing, key = sort_keys(part, positions, query, ranks)
    risk = part["risk"].to_numpy(dtype="float64")[positions]
    rows = offset + positions
    order = _first_in_order(rows, risk, key, missing, first, reverse)
    chosen = part.iloc[positions[order]].reset_index(drop=True)
    for column in chosen.columns:
        if isinstance(chosen[column].dtype, pd.CategoricalDtype):
            # Partitions have categories of their own: merge as text.
            chosen[column] = chosen[column].astype(object)
    return chosen.assign(**{ROW: rows[order], MISSING: missing[order],
                            KEY: key[order], RISK: risk[order]})


def sort_keys(part: pd.DataFrame, positions: np.ndarray, query: AlertQuery,
              ranks: dict[str, pd.Series]) -> tuple[np.ndarray, np.ndarray]:
    """Per chosen row, whether ``query.column`` is missing, and a key whose
    rising order is the column's order in the chosen direction: text in
    alphabetical order without regard to case, as the search; times in the
    column's own unit, so that far dates keep their order."""
    values = part[query.column]
    if isinstance(values.dtype, pd.CategoricalDtype):
        # Ranks among every value of the table, shared by the partitions.
        codes = values.cat.codes.to_numpy()[positions]
        category_rank = ranks[query.column].reindex(
            values.cat.categories.astype(str)).to_numpy(dtype="int64")
        keys = np.where(codes >= 0, category_rank[codes], 0)
        missing = codes < 0
    else:
        chosen = values.iloc[positions]
        missing = chosen.isna().to_numpy()
        if pd.api.types.is_datetime64_any_dtype(chosen):
            keys = chosen.to_numpy().view("int64")
        else:
            keys = chosen.to_numpy(dtype="float64", na_value=np.nan)
    keys = np.where(missing, 0, keys)
    return missing.astype("int8"), -keys if query.descending else keys


def text_ranks(texts: pd.Index) -> pd.Series:
    """Each text's rank in alphabetical order ignoring case (equal ranks
    for texts that differ in case only)."""
    lowered = np.asarray(texts.astype(str).str.lower(), dtype=object)
    _unique, ranks = np.unique(lowered, return_inverse=True)
    return pd.Series(ranks.astype("int64"), index=texts.astype(str))


def merge_pages(pages: list[pd.DataFrame], first: int,
                reverse: bool = False) -> pd.DataFrame:
    """The first ``first`` rows of several partitions' candidates, in order
    (the last, last first, with ``reverse``)."""
    merged = pd.concat([page for page in pages if len(page)] or pages[:1],
                       ignore_index=True)
    order = _order(merged[ROW].to_numpy(), merged[RISK].to_numpy(),
                   merged[KEY].to_numpy(), merged[MISSING].to_numpy(), reverse)
    return merged.take(order[:first]).reset_index(drop=True)


def page_of(merged: pd.DataFrame, start: int, stop: int,
            reverse: bool) -> pd.DataFrame:
    """Rows ``start`` to ``stop`` of merged candidates; with ``reverse``
    they hold the last rows, last first, and ``start`` counts from the end
    of them. Only this page leaves the workers."""
    if reverse:
        merged = merged.iloc[::-1].reset_index(drop=True)
        return merged.iloc[:stop - start].reset_index(drop=True)
    return merged.iloc[start:stop].reset_index(drop=True)


def _first_in_order(rows, risk, key, missing, first: int,
                    reverse: bool) -> np.ndarray:
    """Positions of the first ``first`` rows in the shown order. Sorting
    every alert of a partition would cost most of a move: the rows that can
    be among the first are picked by their key alone first (ties kept)."""
    chosen = np.arange(len(rows))
    if 0 < first < len(rows):
        coarse = key.astype("float64")
        coarse = np.where(missing, -np.inf, -coarse) if reverse else np.where(
            missing, np.inf, coarse)
        last = np.partition(coarse, first - 1)[first - 1]
        chosen = np.flatnonzero(coarse <= last)
    order = _order(rows[chosen], risk[chosen], key[chosen], missing[chosen],
                   reverse)
    return chosen[order[:first]]


def _order(rows, risk, key, missing, reverse: bool) -> np.ndarray:
    """Positions in the shown order: the column's key with missing values
    last, then riskiest first, then table order; backwards with ``reverse``."""
    if reverse:
        return np.lexsort((-rows, risk, -key, -missing))
    return np.lexsort((rows, -risk, key, missing))


def plot_columns(part: pd.DataFrame) -> pd.DataFrame:
    """The columns the plots draw: time and risk as the events hold them
    (their memory shared, not copied), sizes as float32 log10(1 + value)."""
    return pd.DataFrame({
        "time": part["timestamp"].rename("time"),
        "risk": part["risk"],
        "log10 bytes": log10_1p(part["bytes"]),
        "log10 duration (s)": log10_1p(part["duration"]),
    }, index=part.index, copy=False)


def alert_times(part: pd.DataFrame, query: AlertQuery) -> pd.DataFrame:
    """Time and risk of the partition's alerts: the alert layer's points."""
    mask = alert_mask(part, query)
    return pd.DataFrame({
        "time": part["timestamp"].to_numpy()[mask],
        "risk": part["risk"].to_numpy(dtype="float64")[mask],
    }, copy=False)


def _counts(values: pd.Series, mask: np.ndarray) -> pd.Series:
    """Chosen rows per value of a categorical column, values that occur only."""
    # Shifted by one, a missing value's -1 lands in a first bin, dropped.
    shifted = values.cat.codes.to_numpy()[mask].astype(np.intp) + 1
    counts = np.bincount(shifted, minlength=len(values.cat.categories) + 1)[1:]
    seen = counts > 0
    return pd.Series(counts[seen], index=values.cat.categories.astype(str)[seen])

