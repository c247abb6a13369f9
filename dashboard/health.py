"""Liveness and readiness probes, served beside the app.

``/healthz`` answers while the process runs. ``/readyz`` lists every bucket the
app reads and answers 503 with the reason when the store does not answer.
Neither ever includes a credential.
"""

from __future__ import annotations

import asyncio
import json
import os

from tornado.web import RequestHandler

from components import get_logger
from components.store import ConfigError, StoreConfig
from components.store.config import seconds
from components.store.store import shared_store

log = get_logger(__name__)

# Under the Deployment's 5 s probe time-out, so the kubelet gets the reason.
DEFAULT_READY_SECONDS = 4.0


class HealthHandler(RequestHandler):
    """200 while the server process can answer at all."""

    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps({"status": "alive"}))


class ReadyHandler(RequestHandler):
    """200 with object counts when every bucket lists; 503 with the reason."""

    async def get(self) -> None:
        status, body = await READINESS.answer()
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body))


def readiness(environ=None) -> tuple[int, dict]:
    """Probe the configured store; the HTTP status and a JSON-able body."""
    try:
        store = shared_store(StoreConfig.from_env(environ))
    except ConfigError as exc:
        return 503, {"status": "unavailable", "reason": str(exc)}
    counts, failures = {}, {}
    for bucket in store.config.buckets.values():
        try:
            counts[bucket] = len(store.list_artifacts(bucket))
        except Exception as exc:
            failures[bucket] = str(exc)
    if failures:
        log.warning("not ready location=%s failures=%s", store.location, failures)
        return 503, {"status": "unavailable", "location": store.location,
                     "reason": "; ".join(failures.values()), "objects": counts}
    return 200, {"status": "ready", "location": store.location, "objects": counts}


class ReadinessProbe:
    """Runs ``readiness`` on a worker thread, one probe at a time.

    Listing waits on the store, so it never runs on the event loop: a slow
    store delays this answer but not /healthz or the pages. Requests that
    arrive while a probe runs share it, and none waits longer than
    ``deadline`` seconds: a silent store is reported as such, in time for
    the kubelet's probe time-out.
    """

    def __init__(self, deadline: float):
        self.deadline = deadline
        self._running: asyncio.Future | None = None

    async def answer(self) -> tuple[int, dict]:
        if self._running is None or self._running.done():
            loop = asyncio.get_running_loop()
            self._running = loop.run_in_executor(None, readiness)
        try:
            return await asyncio.wait_for(asyncio.shield(self._running),
                                          self.deadline)
        except TimeoutError:
            reason = f"the store did not answer within {self.deadline:g} s"
            log.warning("not ready: %s", reason)
            return 503, {"status": "unavailable", "reason": reason}


def ready_seconds() -> float:
    return seconds(os.environ, "SOC_COPILOT_READY_TIMEOUT", DEFAULT_READY_SECONDS)


READINESS = ReadinessProbe(ready_seconds())

ROUTES = [(r"/healthz", HealthHandler), (r"/readyz", ReadyHandler)]
