"""Freed memory is released once after a burst of closed pages, on the loop."""

from __future__ import annotations

import asyncio
import logging
import threading
import time

from dashboard.memory import MemoryRelease, _allocator_trim, resident_megabytes


def _drops_then_wait(release: MemoryRelease, drops: int, gap: float,
                     wait: float) -> None:
    """``drops`` pages dropped ``gap`` s apart on an event loop, then ``wait`` s.

    The loop runs on its own thread, as the server's does: the browser tests'
    Playwright keeps a loop running on this one.
    """
    async def scenario():
        for _ in range(drops):
            release.page_dropped()
            await asyncio.sleep(gap)
        await asyncio.sleep(wait)

    failures: list[BaseException] = []

    def run():
        try:
            asyncio.run(scenario())
        except BaseException as exc:
            failures.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive() and not failures, failures


def test_a_burst_of_drops_releases_once_after_the_last(caplog):
    real_trim = _allocator_trim()
    assert real_trim is not None, "this machine's C library has malloc_trim"
    calls: list[float] = []
    release = MemoryRelease(delay=0.2, trim=lambda pad: (
        calls.append(time.monotonic()), real_trim(pad))[1])
    caplog.set_level(logging.INFO, logger="soc_copilot")

    started = time.monotonic()
    _drops_then_wait(release, drops=5, gap=0.05, wait=0.5)

    assert len(calls) == 1
    # Five drops 0.05 s apart: the release waits for 0.2 s after the last.
    assert calls[0] - started >= 0.2 + 4 * 0.05
    lines = [r.getMessage() for r in caplog.records
             if "memory of closed pages released" in r.getMessage()]
    assert len(lines) == 1
    assert "python_blocks=" in lines[0] and "rss_mb_after=" in lines[0]


def test_drops_far_apart_release_each_time():
    calls: list[int] = []
    release = MemoryRelease(delay=0.05, trim=calls.append)

    _drops_then_wait(release, drops=3, gap=0.2, wait=0.2)

    assert calls == [0, 0, 0]


def test_without_malloc_trim_the_release_still_collects_and_logs(caplog):
    # As with a C library that has no malloc_trim.
    release = MemoryRelease(delay=0.01, trim=None)
    caplog.set_level(logging.INFO, logger="soc_copilot")

    _drops_then_wait(release, drops=1, gap=0.0, wait=0.1)

    assert any("memory of closed pages released" in r.getMessage()
               for r in caplog.records)


def test_resident_memory_is_read_from_the_kernel():
    megabytes = resident_megabytes()
    assert megabytes is not None and 10 < megabytes < 100_000
