"""Read-only access to the pipeline's buckets through fsspec.

MinIO is reached with s3fs; a local folder whose sub-folders are the buckets is
read through fsspec's local filesystem, so both go through the same code.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

import fsspec
import pandas as pd

from .. import get_logger
from .artifacts import ArtifactInfo
from .cache import ArtifactCache
from .config import StoreConfig
from .folders import folder_table

log = get_logger(__name__)

T = TypeVar("T")

MIN_MASKED_LENGTH = 3


class StoreError(RuntimeError):
    """The store could not answer; the message names the object and why."""


class ArtifactStore:
    """List and read the pipeline's artifacts; never writes.

    Parameters
    ----------
    config:
        Where the store is and which buckets hold which artifacts.
    max_object_bytes:
        Objects larger than this are refused without being read; the
        configuration's limit when None.
    cache:
        Parsed artifacts keyed by object and ETag; shared when given.
    """

    def __init__(
        self,
        config: StoreConfig,
        max_object_bytes: int | None = None,
        cache: ArtifactCache | None = None,
    ):
        self.config = config
        self.max_object_bytes = (config.max_object_bytes if max_object_bytes is None
                                 else max_object_bytes)
        self.cache = cache if cache is not None else ArtifactCache()
        self.fs = _open_filesystem(config)
        # Listings in flight, per bucket: callers that arrive meanwhile share
        # the answer, so many sessions (and /readyz) cost one ListObjects.
        self._listings: dict[str, Future] = {}
        self._listings_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ArtifactStore({self.config.protocol}: {self.config.location})"

    @property
    def location(self) -> str:
        return self.config.location

    def bucket(self, role: str) -> str:
        """Name of the bucket that holds ``role`` artifacts (models, eval, ...)."""
        return self.config.buckets[role]

    def list_artifacts(self, bucket: str, folders: bool = False
                       ) -> list[ArtifactInfo]:
        """Every object at the top level of ``bucket``, oldest run first; with
        ``folders``, each folder of Parquet parts too, as one table.

        A call made while another lists the same bucket waits for, and
        returns, that listing instead of asking the store again.
        """
        key = (bucket, folders)
        with self._listings_lock:
            pending = self._listings.get(key)
            leader = pending is None
            if leader:
                pending = self._listings[key] = Future()
        if not leader:
            return list(pending.result())
        try:
            artifacts = self._list_now(bucket, folders)
        except BaseException as exc:
            pending.set_exception(exc)
            raise
        else:
            pending.set_result(artifacts)
            return list(artifacts)
        finally:
            with self._listings_lock:
                self._listings.pop(key, None)

    def _list_now(self, bucket: str, folders: bool) -> list[ArtifactInfo]:
        started = time.perf_counter()
        try:
            entries = self.fs.ls(self._bucket_path(bucket), detail=True, refresh=True)
        except FileNotFoundError as exc:
            raise StoreError(f"Bucket '{bucket}' does not exist") from exc
        except Exception as exc:
            raise StoreError(
                f"Cannot list bucket '{bucket}': {self.failure_reason(exc)}") from exc
        artifacts = [
            _artifact_info(bucket, entry)
            for entry in entries
            if entry.get("type") == "file"
        ]
        if folders:
            artifacts += self._folder_tables(bucket, [
                entry for entry in entries if entry.get("type") == "directory"])
        artifacts.sort(key=lambda info: info.sort_key)
        log.info("listed bucket=%s objects=%d ms=%.0f", bucket, len(artifacts),
                 1000 * (time.perf_counter() - started))
        return artifacts

    def _folder_tables(self, bucket: str, entries: list[dict]) -> list[ArtifactInfo]:
        """Each folder that holds Parquet parts, as one table; a folder that
        cannot be listed is left out (and logged), not the whole bucket."""
        root = f"{self._bucket_path(bucket)}/"
        tables = []
        for entry in entries:
            folder = entry["name"].rstrip("/").removeprefix(root)
            try:
                found = self.fs.find(f"{root}{folder}", detail=True)
            except Exception as exc:
                log.warning("folder not listed path=%s/%s reason=%s", bucket,
                            folder, self.failure_reason(exc))
                continue
            objects = [dataclasses.replace(_artifact_info(bucket, info),
                                           name=name.removeprefix(root))
                       for name, info in found.items()]
            table = folder_table(bucket, folder, objects)
            if table is not None:
                tables.append(table)
        return tables

    def read_bytes(self, info: ArtifactInfo) -> bytes:
        """The object's content, refused above ``max_object_bytes``."""
        if info.partitioned:
            raise StoreError(f"'{info.path}' is a folder of {len(info.parts)} "
                             "Parquet parts, not one object")
        if info.size > self.max_object_bytes:
            raise StoreError(
                f"'{info.path}' is {info.size:,} bytes, over the "
                f"{self.max_object_bytes:,}-byte limit; not read"
            )
        return self._read(info.bucket, info.name)

    def read_part(self, info: ArtifactInfo, name: str) -> bytes:
        """One part of a folder table (``name`` is one of ``info.parts``); the
        limit applies to the folder's size, so check ``info.size`` first."""
        if name not in info.parts:
            raise StoreError(f"'{info.bucket}/{name}' is not a part of '{info.path}'")
        return self._read(info.bucket, name)

    def _read(self, bucket: str, name: str) -> bytes:
        path = f"{bucket}/{name}"
        started = time.perf_counter()
        try:
            data = self.fs.cat_file(self.path_of(bucket, name))
        except FileNotFoundError as exc:
            raise StoreError(f"'{path}' is no longer in the store") from exc
        except Exception as exc:
            raise StoreError(
                f"Cannot read '{path}': {self.failure_reason(exc)}") from exc
        log.info("read object=%s bytes=%d ms=%.0f", path, len(data),
                 1000 * (time.perf_counter() - started))
        return data

    def load(self, info: ArtifactInfo, parse: Callable[[bytes, str], T]) -> T:
        """Read and parse an object once per process and ETag.

        ``parse`` receives the bytes and the object's path (for its messages).
        """
        key = (info.path, info.etag, info.size, _qualified_name(parse))
        return self.cache.get_or_load(
            key, lambda: parse(self.read_bytes(info), info.path)
        )

    def remember(self, key: tuple, compute: Callable[[], T]) -> T:
        """Cache a value derived from artifacts (e.g. scores) for the process."""
        return self.cache.get_or_load(("derived", *key), compute)

    def failure_reason(self, exc: BaseException) -> str:
        """Why a store call failed, in one line, with any credential masked."""
        text = str(exc).strip() or type(exc).__name__
        reason = text.splitlines()[0][:300]
        if isinstance(exc, PermissionError):
            reason += (" (the store refused these credentials: check "
                       "MINIO_ACCESS_KEY, MINIO_SECRET_KEY and their policy)")
        for credential in (self.config.secret_key, self.config.access_key):
            # Masking a one- or two-letter key would garble every message.
            if len(credential) >= MIN_MASKED_LENGTH:
                reason = reason.replace(credential, "***")
        return reason

    def _bucket_path(self, bucket: str) -> str:
        if self.config.protocol == "file":
            return f"{self.config.root}/{bucket}"
        return bucket

    def _object_path(self, info: ArtifactInfo) -> str:
        return self.path_of(info.bucket, info.name)

    def path_of(self, bucket: str, name: str) -> str:
        """Where the object ``name`` of ``bucket`` is on ``fs``."""
        return f"{self._bucket_path(bucket)}/{name}"


def _open_filesystem(config: StoreConfig) -> Any:
    if config.protocol == "file":
        return fsspec.filesystem("file")
    filesystem = fsspec.filesystem("s3", skip_instance_cache=True,
                                   **s3_options(config))
    # s3fs would try each call again on top of botocore, multiplying the
    # wait on a silent store; one s3fs try keeps the bound in the config.
    filesystem.retries = 1
    return filesystem


def s3_options(config: StoreConfig) -> dict[str, Any]:
    """s3fs's options for the store: endpoint, credentials and time-outs.

    They hold the credentials: never log or show them.
    """
    return {
        "key": config.access_key or None,
        "secret": config.secret_key or None,
        "anon": not (config.access_key or config.secret_key),
        "client_kwargs": {"endpoint_url": config.endpoint_url,
                          "region_name": "us-east-1"},
        "config_kwargs": {
            "connect_timeout": config.connect_timeout,
            "read_timeout": config.read_timeout,
            # botocore's standard mode backs off exponentially with jitter
            # on transient errors; it is the only layer that tries again.
            "retries": {"total_max_attempts": config.attempts, "mode": "standard"},
        },
    }


def _artifact_info(bucket: str, entry: dict) -> ArtifactInfo:
    name = entry["name"].rstrip("/").rpartition("/")[2]
    size = int(entry.get("size") or 0)
    if "LastModified" in entry:
        modified = pd.Timestamp(entry["LastModified"])
        etag = str(entry.get("ETag", "")).strip('"')
    else:
        # Local files have no ETag: size and modification time stand in for it.
        mtime = float(entry.get("mtime") or 0.0)
        modified = pd.Timestamp(mtime, unit="s")
        etag = f"{size}-{mtime!r}"
    modified = modified.tz_localize("UTC") if modified.tz is None else (
        modified.tz_convert("UTC"))
    return ArtifactInfo(bucket=bucket, name=name, size=size,
                        last_modified=modified, etag=etag)


def _qualified_name(function: Callable) -> str:
    return f"{getattr(function, '__module__', '')}.{function.__qualname__}"


_SHARED_STORES: dict[tuple, ArtifactStore] = {}
_SHARED_LOCK = threading.Lock()


def shared_store(config: StoreConfig) -> ArtifactStore:
    """One store (and so one cache) per configuration and server process."""
    key = (config.protocol, config.root, config.endpoint_url,
           tuple(sorted(config.buckets.items())), config.access_key,
           config.secret_key, config.connect_timeout, config.read_timeout,
           config.attempts, config.max_object_bytes)
    with _SHARED_LOCK:
        if key not in _SHARED_STORES:
            _SHARED_STORES[key] = ArtifactStore(config)
            log.info("opened store location=%s", config.location)
        return _SHARED_STORES[key]
