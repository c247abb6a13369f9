"""Work for a served page done off the server's event loop.

One event loop serves every page and the probes; reading from a slow store,
unpickling or scoring there would hold them all. Work runs on worker threads
and its result is applied in the page's document, entered through
``add_next_tick_callback``, the one thread-safe way into a Bokeh document.
Outside a served page (a notebook, a test) the work runs at once.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial
from typing import Any

import panel as pn
from bokeh.document import Document
from panel.io.state import set_curdoc

from .. import get_logger

log = get_logger(__name__)

# Shared by every page of the process; store calls are bounded by their
# time-outs, so a silent store ties up a thread for at most that long.
WORKER_THREADS = 4
_POOL = ThreadPoolExecutor(max_workers=WORKER_THREADS,
                           thread_name_prefix="soc-copilot-worker")


def served_document() -> Document | None:
    """The page's document when running under a server, else None."""
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        return None
    return doc


def run_now(work: Callable[[], Any]) -> Future:
    """``work`` done here, its result or error held in a finished future."""
    future: Future = Future()
    try:
        future.set_result(work())
    except Exception as exc:
        future.set_exception(exc)
    return future


def run_off_loop(doc: Document, work: Callable[[], Any],
                 apply: Callable[[Future], None]) -> Future:
    """Run ``work`` on a worker thread, then ``apply(future)`` in ``doc``."""
    future = _POOL.submit(work)
    future.add_done_callback(partial(_deliver, doc, apply))
    return future


def _deliver(doc: Document, apply: Callable[[Future], None], future: Future):
    try:
        doc.add_next_tick_callback(partial(_apply_in, doc, apply, future))
    except Exception:
        # The page closed while the work ran: nothing is left to update.
        log.debug("work done after its page closed", exc_info=True)


def _apply_in(doc: Document, apply: Callable[[Future], None], future: Future):
    with set_curdoc(doc):
        apply(future)
