"""Where the Dask cluster is, one client to it per process, and how its workers
reach the store.

Only with ``SOC_COPILOT_DASK_SCHEDULER`` set: then score tables are read and
summarised by the cluster's workers, and this process holds aggregates only.
Dask itself is an optional dependency (``soc-copilot[dask]``), imported here
only when a client is first needed.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from .. import get_logger
from .config import ConfigError, StoreConfig, seconds, without_userinfo
from .store import s3_options

log = get_logger(__name__)

SCHEDULER_VARIABLE = "SOC_COPILOT_DASK_SCHEDULER"
TIMEOUT_VARIABLE = "SOC_COPILOT_DASK_TIMEOUT"
# Schemes of Dask's own protocols; a bare host:port means tcp.
SCHEMES = ("tcp", "tls")
# A scheduler that has not answered by then is reported as down; the page
# tries again on its next refresh.
CONNECT_SECONDS = 10.0
DEFAULT_TIMEOUT_SECONDS = 120.0


class DaskUnavailable(RuntimeError):
    """The Dask scheduler cannot be used; the message says which and why."""


@dataclass(frozen=True)
class DaskSettings:
    """The cluster that reads score tables, from the environment."""

    address: str
    """The scheduler, ``tcp://host:port`` or ``tls://host:port``."""

    timeout: float = DEFAULT_TIMEOUT_SECONDS
    """Seconds one computation on the cluster may take before it is given up."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> DaskSettings | None:
        """The settings ``SOC_COPILOT_DASK_SCHEDULER`` describes; None when it
        is unset, so that everything runs in this process as before."""
        raw = environ.get(SCHEDULER_VARIABLE, "").strip()
        if not raw:
            return None
        return cls(address=scheduler_address(raw),
                   timeout=seconds(environ, TIMEOUT_VARIABLE,
                                   DEFAULT_TIMEOUT_SECONDS))

    @property
    def location(self) -> str:
        """The scheduler's address, safe to show."""
        return without_userinfo(self.address)


def scheduler_address(raw: str) -> str:
    """``raw`` as a scheduler address with its scheme; refused, naming the
    variable, unless it is ``[tcp|tls]://host:port``."""
    text = raw.strip()
    parts = urlparse(text if "://" in text else f"tcp://{text}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in SCHEMES or not parts.hostname or port is None or (
            parts.path not in ("", "/")):
        raise ConfigError(
            f"{SCHEDULER_VARIABLE}={raw!r} is not a Dask scheduler address: use "
            "tcp://host:port (or tls://host:port), e.g. tcp://dask-scheduler:8786")
    return f"{parts.scheme}://{parts.netloc}"


def check_installed() -> None:
    """Refuse a configured scheduler when Dask is not installed here."""
    missing = [name for name in ("dask", "distributed")
               if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(
            f"{SCHEDULER_VARIABLE} is set but {' and '.join(missing)} "
            "cannot be imported: install soc-copilot[dask]")


_CLIENTS: dict[str, Any] = {}
_CLIENTS_LOCK = threading.Lock()


def shared_client(settings: DaskSettings) -> Any:
    """One ``distributed.Client`` per scheduler and process, made the default
    scheduler so that HoloViews' rasters of Dask frames run on the cluster.

    Connecting waits at most ``CONNECT_SECONDS``; a failure is not kept, so
    the next call tries again.
    """
    with _CLIENTS_LOCK:
        client = _CLIENTS.get(settings.address)
        if client is not None and client.status in ("running", "connecting"):
            return client
        client = _connect(settings)
        _CLIENTS[settings.address] = client
        return client


def _connect(settings: DaskSettings) -> Any:
    check_installed()
    from distributed import Client

    try:
        client = Client(settings.address, timeout=CONNECT_SECONDS,
                        set_as_default=True)
    except Exception as exc:
        reason = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else (
            type(exc).__name__)
        raise DaskUnavailable(
            f"The Dask scheduler at {settings.location} did not answer: "
            f"{reason}") from exc
    log.info("connected to dask scheduler=%s workers=%d", settings.location,
             len(client.scheduler_info().get("workers", {})))
    return client


def close_clients() -> None:
    """Close every client this process opened (tests, and a clean exit)."""
    with _CLIENTS_LOCK:
        clients = list(_CLIENTS.values())
        _CLIENTS.clear()
    for client in clients:
        client.close()


def storage_options(config: StoreConfig) -> dict[str, Any]:
    """What the workers need to read the store as this process does.

    The credentials travel inside each read's task to the scheduler and the
    workers, so the workers need no secret of their own; this value must
    never be logged or shown.
    """
    return s3_options(config) if config.protocol == "s3" else {}


def dataset_path(config: StoreConfig, bucket: str, name: str) -> str:
    """The URL a worker opens for object ``name`` of ``bucket``."""
    if config.protocol == "file":
        return f"{config.root}/{bucket}/{name}"
    return f"s3://{bucket}/{name}"
