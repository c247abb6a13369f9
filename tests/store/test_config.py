import os

import pytest

from components.store import ConfigError, StoreConfig

SECRET = "do-not-show-this-secret"


def minio(**extra: str) -> dict[str, str]:
    return {"MINIO_ENDPOINT": "minio.local:9000", "MINIO_ACCESS_KEY": "reader",
            "MINIO_SECRET_KEY": SECRET, **extra}


def test_config_host_port_becomes_http_url():
    config = StoreConfig.from_env(minio())

    assert config.protocol == "s3"
    assert config.endpoint_url == "http://minio.local:9000"
    assert (config.access_key, config.secret_key) == ("reader", SECRET)


@pytest.mark.parametrize("secure", ["true", "TRUE", "1", "yes"])
def test_config_minio_secure_selects_https(secure):
    config = StoreConfig.from_env(minio(MINIO_SECURE=secure))

    assert config.endpoint_url == "https://minio.local:9000"


@pytest.mark.parametrize("secure", ["false", "0", "", "no"])
def test_config_minio_secure_false_keeps_http(secure):
    config = StoreConfig.from_env(minio(MINIO_SECURE=secure))

    assert config.endpoint_url.startswith("http://")


def test_config_endpoint_url_is_kept_as_given():
    config = StoreConfig.from_env(
        minio(MINIO_ENDPOINT="https://s3.example.test:443/", MINIO_SECURE="false"))

    assert config.endpoint_url == "https://s3.example.test:443"


def test_config_buckets_default_to_pipeline_names():
    buckets = StoreConfig.from_env(minio()).buckets

    assert buckets["models"] == "cybersec-ml-models"
    assert buckets["eval"] == "cybersec-ml-eval"
    assert buckets["silver"] == "cybersec-ml-silver"
    assert "scores" not in buckets


def test_config_bucket_variables_override_defaults():
    config = StoreConfig.from_env(minio(
        MODELS_BUCKET="m", EVAL_BUCKET="e", SILVER_BUCKET="s", SCORES_BUCKET="x"))

    assert dict(config.buckets) == {
        "models": "m", "eval": "e", "silver": "s", "scores": "x"}


def test_config_store_folder_wins_over_minio(tmp_path):
    config = StoreConfig.from_env(minio(SOC_COPILOT_STORE=str(tmp_path)))

    assert config.protocol == "file"
    assert config.root == str(tmp_path)
    assert config.location == str(tmp_path)


def test_config_relative_store_folder_is_made_absolute():
    config = StoreConfig.from_env({"SOC_COPILOT_STORE": "demo-store"})

    assert config.root == os.path.abspath("demo-store")


def test_config_store_file_url_gives_folder(tmp_path):
    config = StoreConfig.from_env({"SOC_COPILOT_STORE": tmp_path.as_uri()})

    assert (config.protocol, config.root) == ("file", str(tmp_path))


def test_config_store_http_url_gives_s3():
    config = StoreConfig.from_env(
        {"SOC_COPILOT_STORE": "http://127.0.0.1:9000/",
         "MINIO_ACCESS_KEY": "reader", "MINIO_SECRET_KEY": SECRET})

    assert config.protocol == "s3"
    assert config.endpoint_url == "http://127.0.0.1:9000"
    assert config.secret_key == SECRET


def test_config_store_unknown_scheme_raises():
    with pytest.raises(ConfigError, match="ftp://"):
        StoreConfig.from_env({"SOC_COPILOT_STORE": "ftp://host/store"})


@pytest.mark.parametrize("environ", [{}, {"MINIO_ENDPOINT": "  "},
                                     {"SOC_COPILOT_STORE": ""}])
def test_config_without_store_raises(environ):
    with pytest.raises(ConfigError, match="No store configured"):
        StoreConfig.from_env(environ)


@pytest.mark.parametrize("value", ["soon", "0", "-2"])
def test_config_bad_timeout_raises_naming_variable(value):
    with pytest.raises(ConfigError, match="SOC_COPILOT_READ_TIMEOUT"):
        StoreConfig.from_env(minio(SOC_COPILOT_READ_TIMEOUT=value))


def test_config_timeouts_are_read_in_seconds():
    config = StoreConfig.from_env(minio(SOC_COPILOT_CONNECT_TIMEOUT="1.5",
                                        SOC_COPILOT_READ_TIMEOUT="12"))

    assert (config.connect_timeout, config.read_timeout) == (1.5, 12.0)


def test_config_repr_never_shows_secret():
    config = StoreConfig.from_env(minio())

    assert SECRET not in repr(config)
    assert SECRET not in str(config)
    assert SECRET not in config.location


def test_location_never_shows_credentials_written_into_the_endpoint():
    config = StoreConfig.from_env({
        "MINIO_ENDPOINT": "http://canary-key:canary-secret@127.0.0.1:9000"})
    assert config.location == "http://127.0.0.1:9000"


def test_config_store_attempts_and_object_limit_are_read():
    config = StoreConfig.from_env(minio(SOC_COPILOT_STORE_ATTEMPTS="5",
                                        SOC_COPILOT_MAX_OBJECT_MB="64"))

    assert config.attempts == 5
    assert config.max_object_bytes == 64 * 2**20


@pytest.mark.parametrize(("name", "value"), [
    ("SOC_COPILOT_STORE_ATTEMPTS", "0"), ("SOC_COPILOT_STORE_ATTEMPTS", "11"),
    ("SOC_COPILOT_STORE_ATTEMPTS", "two"), ("SOC_COPILOT_MAX_OBJECT_MB", "-1"),
])
def test_config_out_of_bounds_counts_raise_naming_variable(name, value):
    with pytest.raises(ConfigError, match=name):
        StoreConfig.from_env(minio(**{name: value}))
