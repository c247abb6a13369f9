"""Freed memory is released once after a burst of closed pages, on the loop."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
from tornado.ioloop import IOLoop

from dashboard.memory import MemoryRelease, _allocator_trim, resident_megabytes


@pytest.fixture
def loop():
    loop = IOLoop(make_current=False)
    yield loop
    loop.close()


def _drops_then_wait(loop: IOLoop, release: MemoryRelease, drops: int,
                     gap: float, wait: float) -> None:
    """``drops`` pages dropped ``gap`` s apart on ``loop``, then ``wait`` s."""
    async def scenario():
        for _ in range(drops):
            release.page_dropped()
            await asyncio.sleep(gap)
        await asyncio.sleep(wait)

    loop.run_sync(scenario, timeout=30)


def test_a_burst_of_drops_releases_once_after_the_last(loop, caplog):
    real_trim = _allocator_trim()
    assert real_trim is not None, "this machine's C library has malloc_trim"
    calls: list[float] = []
    release = MemoryRelease(delay=0.2, trim=lambda pad: (
        calls.append(time.monotonic()), real_trim(pad))[1])
    caplog.set_level(logging.INFO, logger="soc_copilot")

    started = time.monotonic()
    _drops_then_wait(loop, release, drops=5, gap=0.05, wait=0.5)

    assert len(calls) == 1
    # Five drops 0.05 s apart: the release waits for 0.2 s after the last.
    assert calls[0] - started >= 0.2 + 4 * 0.05
    lines = [r.getMessage() for r in caplog.records
             if "memory of closed pages released" in r.getMessage()]
    assert len(lines) == 1
    assert "python_blocks=" in lines[0] and "rss_mb_after=" in lines[0]


def test_drops_far_apart_release_each_time(loop):
    calls: list[int] = []
    release = MemoryRelease(delay=0.05, trim=calls.append)

    _drops_then_wait(loop, release, drops=3, gap=0.2, wait=0.2)

    assert calls == [0, 0, 0]


def test_without_malloc_trim_the_release_still_collects_and_logs(loop, caplog):
    # As with a C library that has no malloc_trim.
    release = MemoryRelease(delay=0.01, trim=None)
    caplog.set_level(logging.INFO, logger="soc_copilot")

    _drops_then_wait(loop, release, drops=1, gap=0.0, wait=0.1)

    assert any("memory of closed pages released" in r.getMessage()
               for r in caplog.records)


def test_resident_memory_is_read_from_the_kernel():
    megabytes = resident_megabytes()
    assert megabytes is not None and 10 < megabytes < 100_000
