"""`make bench` is not part of `make test`; its modules must still import, so
that a refactor cannot break the benchmarks unnoticed."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import benchmarks

MODULES = sorted(info.name for info in pkgutil.iter_modules(benchmarks.__path__))


def test_the_benchmarks_are_found():
    assert {"scale", "sessions", "page_load", "dask_scale"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_benchmark_module_imports(name):
    importlib.import_module(f"benchmarks.{name}")
