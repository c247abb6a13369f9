"""The Dask scheduler setting: read from the environment, checked, and the
store's options handed to the workers."""

from __future__ import annotations

import pytest

from components.store import ConfigError, StoreConfig
from components.store.dask_client import (
    DaskSettings,
    dataset_path,
    scheduler_address,
    storage_options,
)


def test_no_scheduler_means_no_dask():
    assert DaskSettings.from_env({}) is None
    assert DaskSettings.from_env({"SOC_COPILOT_DASK_SCHEDULER": "  "}) is None


@pytest.mark.parametrize(("raw", "address"), [
    ("tcp://dask-scheduler:8786", "tcp://dask-scheduler:8786"),
    ("127.0.0.1:8786", "tcp://127.0.0.1:8786"),
    (" tls://scheduler.mlops.svc:8786 ", "tls://scheduler.mlops.svc:8786"),
    ("tcp://[::1]:8786", "tcp://[::1]:8786"),
])
def test_scheduler_addresses_get_their_scheme(raw, address):
    assert scheduler_address(raw) == address


@pytest.mark.parametrize("raw", [
    "http://dask:8786", "dask-scheduler", "tcp://dask:port", "tcp://:8786",
    "tcp://dask:8786/path", "tcp://dask:99999",
])
def test_a_scheduler_address_that_cannot_work_is_refused(raw):
    with pytest.raises(ConfigError, match="SOC_COPILOT_DASK_SCHEDULER="):
        DaskSettings.from_env({"SOC_COPILOT_DASK_SCHEDULER": raw})


def test_the_computation_time_out_is_a_setting():
    settings = DaskSettings.from_env({"SOC_COPILOT_DASK_SCHEDULER": "dask:8786",
                                      "SOC_COPILOT_DASK_TIMEOUT": "30"})
    assert settings.timeout == 30
    with pytest.raises(ConfigError, match="SOC_COPILOT_DASK_TIMEOUT"):
        DaskSettings.from_env({"SOC_COPILOT_DASK_SCHEDULER": "dask:8786",
                               "SOC_COPILOT_DASK_TIMEOUT": "soon"})


def test_workers_get_the_store_as_this_process_reads_it():
    config = StoreConfig.from_env({"MINIO_ENDPOINT": "minio:9000",
                                   "MINIO_ACCESS_KEY": "reader",
                                   "MINIO_SECRET_KEY": "secret-value"})

    options = storage_options(config)

    assert options["key"] == "reader" and options["secret"] == "secret-value"
    assert options["client_kwargs"]["endpoint_url"] == "http://minio:9000"
    assert options["config_kwargs"]["read_timeout"] == config.read_timeout
    assert dataset_path(config, "scores", "t/part.0.parquet") == (
        "s3://scores/t/part.0.parquet")


def test_a_local_store_needs_no_options():
    config = StoreConfig.from_env({"SOC_COPILOT_STORE": "/data/store"})

    assert storage_options(config) == {}
    assert dataset_path(config, "scores", "t.parquet") == "/data/store/scores/t.parquet"
