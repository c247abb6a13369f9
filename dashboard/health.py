"""Liveness and readiness probes, served beside the app.

``/healthz`` answers while the process runs. ``/readyz`` lists every bucket the
app reads and answers 503 with the reason when the store does not answer.
Neither ever includes a credential.
"""

from __future__ import annotations

import json

from tornado.ioloop import IOLoop
from tornado.web import RequestHandler

from components import get_logger
from components.store import ConfigError, StoreConfig
from components.store.store import shared_store

log = get_logger(__name__)


class HealthHandler(RequestHandler):
    """200 while the server process can answer at all."""

    def get(self) -> None:
        self.set_header("Content-Type", "application/json")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps({"status": "alive"}))


class ReadyHandler(RequestHandler):
    """200 with object counts when every bucket lists; 503 with the reason."""

    async def get(self) -> None:
        # Listing waits on the store: off the event loop, so a slow store
        # delays this answer but not /healthz or the pages.
        status, body = await IOLoop.current().run_in_executor(None, readiness)
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


ROUTES = [(r"/healthz", HealthHandler), (r"/readyz", ReadyHandler)]
