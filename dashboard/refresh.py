"""Listing the store for a served page without holding the server's event loop.

The store may be slow or silent; the page, the other sessions and the probes
must not wait for it. Listings, and the first reads and scoring they lead to,
run on worker threads; the result is handed back to the page's document with
``add_next_tick_callback``, the only thread-safe way into it.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial

from bokeh.document import Document
from panel.io.state import set_curdoc

from components import get_logger
from components.catalog import Catalog, StoreListing

log = get_logger(__name__)

# Listings of all sessions share these threads; each listing asks the
# buckets in parallel, and concurrent listings of a bucket share one request.
LISTING_THREADS = 4
_POOL = ThreadPoolExecutor(max_workers=LISTING_THREADS,
                           thread_name_prefix="store-listing")


class BackgroundRefresh:
    """Refreshes one page's catalog on a worker thread, one listing at a time.

    Parameters
    ----------
    catalog:
        The page's catalog; ``catalog.listing`` is True while a listing runs.
    doc:
        The page's Bokeh document, into which the result is applied.
    """

    def __init__(self, catalog: Catalog, doc: Document):
        self.catalog = catalog
        self.doc = doc

    def request(self, *_args) -> None:
        """Start a listing unless one is under way (call on the event loop)."""
        if self.catalog.listing:
            return
        self.catalog.listing = True
        future = _POOL.submit(self._list_and_preload)
        future.add_done_callback(self._deliver)

    def _list_and_preload(self) -> StoreListing:
        """On a worker thread: list, then read what the page shows first, so
        that applying the listing on the event loop finds it cached."""
        listing = self.catalog.fetch_listing()
        self.catalog.preload(listing)
        return listing

    def _deliver(self, future: Future) -> None:
        try:
            self.doc.add_next_tick_callback(partial(self._apply, future))
        except Exception:
            # The page was closed while the store answered: nothing to show.
            log.debug("listing done after its page closed", exc_info=True)

    def _apply(self, future: Future) -> None:
        with set_curdoc(self.doc):
            self.catalog.listing = False
            try:
                listing = future.result()
            except Exception:
                log.exception("listing the store failed unexpectedly")
                return
            self.catalog.apply_listing(listing)
