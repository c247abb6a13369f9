"""What machine a measurement ran on, in one line for the docs."""

from __future__ import annotations

import datetime as dt
import os
import platform
from pathlib import Path


def memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) / 2**20
    raise RuntimeError("no MemTotal in /proc/meminfo")


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor() or "unknown CPU"


def describe(chromium: str) -> str:
    """Cores, memory, CPU, Python, Chromium and today's date."""
    return (f"{os.cpu_count()} cores ({cpu_model()}), {memory_gib():.0f} GiB RAM, "
            f"Linux {platform.release()}, Python {platform.python_version()}, "
            f"Chromium {chromium}, {dt.date.today().isoformat()}")


def load_average() -> str:
    """The 1, 5 and 15 minute load averages: how busy the machine was."""
    return ", ".join(f"{value:.1f}" for value in os.getloadavg())
