"""Listing the store for a served page without holding the server's event loop.

The store may be slow or silent; the page, the other sessions and the probes
must not wait for it. Listings, and the first reads and scoring they lead to,
run on worker threads (``components.views.background``) and the result is
applied in the page's document.
"""

from __future__ import annotations

from concurrent.futures import Future

from bokeh.document import Document

from components import get_logger
from components.catalog import Catalog, StoreListing
from components.views.background import run_off_loop

log = get_logger(__name__)


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
        run_off_loop(self.doc, self._list_and_preload, self._apply)

    def _list_and_preload(self) -> StoreListing:
        """On a worker thread: list, then read what the page shows first, so
        that applying the listing on the event loop finds it cached."""
        listing = self.catalog.fetch_listing()
        self.catalog.preload(listing)
        return listing

    def _apply(self, future: Future) -> None:
        self.catalog.listing = False
        try:
            listing = future.result()
        except Exception:
            log.exception("listing the store failed unexpectedly")
            return
        self.catalog.apply_listing(listing)
