"""The fast riskiest-first order is exactly numpy's stable descending argsort,
and columns taken in it on two threads are exactly numpy's take."""

from __future__ import annotations

import numpy as np
import pytest

from components.readers.ordering import (
    PARALLEL_TAKE_ROWS,
    falling_order,
    taken_in_order,
)

ROWS = 200_000


def _stable_falling(values: np.ndarray) -> np.ndarray:
    return np.argsort(-values, kind="stable")


def _spread(random) -> np.ndarray:
    return random.normal(size=ROWS)


def _many_ties(random) -> np.ndarray:
    return np.round(random.normal(size=ROWS), 2)


def _alike_in_high_bits(random) -> np.ndarray:
    # Values that differ only in the bits the positions replace.
    return 1.0 + random.normal(size=ROWS) * 1e-13


def _odd_values(random) -> np.ndarray:
    values = random.normal(size=ROWS)
    picks = random.integers(0, ROWS, size=(6, 500))
    values[picks[0]] = np.nan
    values[picks[1]] = np.inf
    values[picks[2]] = -np.inf
    values[picks[3]] = 0.0
    values[picks[4]] = -0.0
    values[picks[5]] = np.finfo("float64").tiny / 4  # subnormal
    return values


@pytest.mark.parametrize("make", [_spread, _many_ties, _alike_in_high_bits,
                                  _odd_values])
def test_order_equals_numpy_stable_argsort(make):
    values = make(np.random.default_rng(7))
    assert np.array_equal(falling_order(values), _stable_falling(values))


@pytest.mark.parametrize("values", [[], [1.0], [np.nan], [np.nan, 2.0, np.nan, 1.0],
                                    [3.0, 3.0, 3.0], [-0.0, 0.0, -0.0]])
def test_small_and_degenerate_inputs(values):
    values = np.array(values, dtype="float64")
    assert np.array_equal(falling_order(values), _stable_falling(values))


def test_float32_scores_are_ordered_as_their_float64_values():
    values = np.random.default_rng(3).random(ROWS).astype("float32")
    assert np.array_equal(falling_order(values),
                          _stable_falling(values.astype("float64")))


@pytest.mark.parametrize("rows", [1_000, PARALLEL_TAKE_ROWS + 7])
def test_columns_taken_in_order_are_numpys_take(rows):
    # Above PARALLEL_TAKE_ROWS the columns are taken on two threads.
    random = np.random.default_rng(rows)
    order = random.permutation(rows)
    columns = [
        random.normal(size=rows),
        random.integers(-1, 120, size=rows).astype("int8"),
        random.integers(0, 2**62, size=rows).astype("datetime64[us]"),
        random.normal(size=rows).astype("float32"),
    ]
    taken = taken_in_order(columns, order)
    assert len(taken) == len(columns)
    for values, result in zip(columns, taken, strict=True):
        assert result.dtype == values.dtype
        np.testing.assert_array_equal(result, values[order])
