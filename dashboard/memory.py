"""Give the memory of closed pages back to the operating system.

Once the server drops a closed page's session, Python frees its objects, but
the C allocator keeps the freed pages in its heap for reuse: the process's
resident memory stays at its peak even with no page open. After a burst of
pages has been dropped, the server collects garbage and asks the allocator
to return whole free pages to the system (``malloc_trim``, glibc's call; a
no-op where the C library has none).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
from collections.abc import Callable
from pathlib import Path

from tornado.ioloop import IOLoop

from components import get_logger

log = get_logger(__name__)

# Panel collects garbage 5 s after the last session it drops; releasing a
# little later lets a burst of drops settle and be released once.
RELEASE_DELAY_SECONDS = 8.0


def _allocator_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has no such call."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None


def resident_megabytes(pid: int | str = "self") -> float | None:
    """A process's resident memory, from the kernel (Linux only); by default
    this process's."""
    status = Path(f"/proc/{pid}/status")
    if not status.exists():
        return None
    for line in status.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return None


class MemoryRelease:
    """Release freed memory once no page has been dropped for a while.

    ``page_dropped`` is called on the server's event loop each time a page's
    session is dropped; the release runs once, ``delay`` seconds after the
    last of a burst.
    """

    def __init__(self, delay: float = RELEASE_DELAY_SECONDS,
                 trim: Callable[[int], int] | str | None = "C library"):
        self.delay = delay
        # ``trim`` is the allocator's call; None where there is none.
        self._trim = _allocator_trim() if trim == "C library" else trim
        self._pending = None

    def page_dropped(self) -> None:
        loop = IOLoop.current()
        if self._pending is not None:
            loop.remove_timeout(self._pending)
        self._pending = loop.call_later(self.delay, self.release)

    def release(self) -> None:
        """Collect garbage and return free heap pages to the system now."""
        self._pending = None
        before = resident_megabytes()
        gc.collect()
        if self._trim is not None:
            self._trim(0)
        after = resident_megabytes()
        # Python's own count of its live memory blocks: whether the closed
        # pages' objects are gone, whatever the allocators kept.
        log.info("memory of closed pages released rss_mb_before=%s "
                 "rss_mb_after=%s python_blocks=%d", _megabytes(before),
                 _megabytes(after), sys.getallocatedblocks())


def _megabytes(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.0f}"
