"""Where the artifacts live: read from the pipeline's environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

DEFAULT_BUCKETS = {
    "models": "cybersec-ml-models",
    "eval": "cybersec-ml-eval",
    "silver": "cybersec-ml-silver",
}

# Environment variable that overrides each bucket name, as the pipeline names them.
BUCKET_VARIABLES = {
    "models": "MODELS_BUCKET",
    "eval": "EVAL_BUCKET",
    "silver": "SILVER_BUCKET",
}

# Per-event score tables have no upstream bucket; a newer pipeline may add one.
SCORES_BUCKET_VARIABLE = "SCORES_BUCKET"

TRUE_WORDS = {"1", "true", "yes", "on"}

# More tries than this only delay the banner that tells analysts the store is down.
MAX_ATTEMPTS = 10
# A 64 GiB object would not fit the memory of the pod that reads it.
MAX_OBJECT_MB = 65_536


class ConfigError(ValueError):
    """The environment does not describe a usable store."""


@dataclass(frozen=True)
class StoreConfig:
    """Everything needed to open the artifact store, secrets kept out of ``repr``."""

    protocol: str
    """``s3`` for MinIO/S3, ``file`` for a local folder of bucket folders."""

    root: str = ""
    """For ``file``: the folder whose sub-folders are the buckets."""

    endpoint_url: str = ""
    """For ``s3``: scheme, host and port of the S3 API."""

    buckets: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_BUCKETS))
    """Role (``models``, ``eval``, ``silver``, ``scores``) to bucket name."""

    access_key: str = field(default="", repr=False)
    secret_key: str = field(default="", repr=False)

    connect_timeout: float = 3.0
    """Seconds to wait for the store to accept a connection."""

    read_timeout: float = 10.0
    """Seconds to wait for the store's answer on an open connection."""

    max_object_bytes: int = 512 * 2**20
    """Objects larger than this are refused without being read."""

    attempts: int = 3
    """Tries per store call; transient failures (connection refused or cut,
    time-outs, 5xx, throttling) are tried again after an exponential,
    jittered back-off. A silent store holds a call for at most
    ``attempts * (connect_timeout + read_timeout)`` plus the back-off."""

    @property
    def location(self) -> str:
        """Where the store is, safe to show to a user (never a key)."""
        return without_userinfo(self.endpoint_url) if self.protocol == "s3" else (
            self.root)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> StoreConfig:
        """Build the configuration the pipeline's variables describe.

        ``SOC_COPILOT_STORE`` (a folder or ``file://`` URL) wins over
        ``MINIO_ENDPOINT``; with neither set there is no store to read.
        """
        env = os.environ if environ is None else environ
        buckets = {
            role: env.get(variable) or DEFAULT_BUCKETS[role]
            for role, variable in BUCKET_VARIABLES.items()
        }
        if env.get(SCORES_BUCKET_VARIABLE):
            buckets["scores"] = env[SCORES_BUCKET_VARIABLE]
        timeouts = {
            "connect_timeout": seconds(env, "SOC_COPILOT_CONNECT_TIMEOUT", 3.0),
            "read_timeout": seconds(env, "SOC_COPILOT_READ_TIMEOUT", 10.0),
            "attempts": _count(env, "SOC_COPILOT_STORE_ATTEMPTS", 3, MAX_ATTEMPTS),
            "max_object_bytes": 2**20 * _count(
                env, "SOC_COPILOT_MAX_OBJECT_MB", 512, MAX_OBJECT_MB),
        }
        location = env.get("SOC_COPILOT_STORE", "").strip()
        if location:
            return cls._from_location(location, buckets, env, timeouts)
        endpoint = env.get("MINIO_ENDPOINT", "").strip()
        if not endpoint:
            raise ConfigError(
                "No store configured: set SOC_COPILOT_STORE to a folder of "
                "bucket folders, or MINIO_ENDPOINT (with MINIO_ACCESS_KEY and "
                "MINIO_SECRET_KEY) for MinIO."
            )
        secure = env.get("MINIO_SECURE", "false").strip().lower() in TRUE_WORDS
        return cls(
            protocol="s3",
            endpoint_url=endpoint_url(endpoint, secure),
            buckets=buckets,
            access_key=env.get("MINIO_ACCESS_KEY", ""),
            secret_key=env.get("MINIO_SECRET_KEY", ""),
            **timeouts,
        )

    @classmethod
    def _from_location(cls, location, buckets, env, timeouts) -> StoreConfig:
        parsed = urlparse(location)
        if parsed.scheme in ("", "file"):
            root = parsed.path if parsed.scheme == "file" else location
            return cls(protocol="file", root=os.path.abspath(root),
                       buckets=buckets, **timeouts)
        if parsed.scheme in ("http", "https"):
            return cls(
                protocol="s3", endpoint_url=location.rstrip("/"), buckets=buckets,
                access_key=env.get("MINIO_ACCESS_KEY", ""),
                secret_key=env.get("MINIO_SECRET_KEY", ""), **timeouts,
            )
        raise ConfigError(
            f"SOC_COPILOT_STORE={location!r}: use a folder, a file:// URL or "
            "an http(s):// S3 endpoint."
        )


def endpoint_url(endpoint: str, secure: bool) -> str:
    """Turn ``host:port`` (the pipeline's form) or a full URL into a URL."""
    if "://" in endpoint:
        return endpoint.rstrip("/")
    scheme = "https" if secure else "http"
    return f"{scheme}://{endpoint.rstrip('/')}"


def without_userinfo(url: str) -> str:
    """``url`` with any ``user:password@`` removed, for display and logs."""
    parts = urlparse(url)
    if not (parts.username or parts.password):
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return parts._replace(netloc=host).geturl()


def seconds(env: Mapping[str, str], name: str, default: float) -> float:
    """A positive number of seconds from ``env[name]``, or ``default``."""
    return _setting(env, name, default, float, "a number of seconds",
                    lambda value: 0 < value < float("inf"),
                    "more than 0 seconds and finite")


def _count(env: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    return _setting(env, name, default, int, "a whole number",
                    lambda value: 1 <= value <= maximum,
                    f"between 1 and {maximum}")


def _setting(env, name, default, kind, kind_text, acceptable, bounds_text):
    """``env[name]`` read as ``kind`` and checked, or ``default`` when unset;
    a value that does not fit raises with the variable's name."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError as exc:
        raise ConfigError(f"{name}={raw!r} is not {kind_text}") from exc
    if not acceptable(value):
        raise ConfigError(f"{name}={raw!r} must be {bounds_text}")
    return value
