"""SOC Copilot's Dask path with tens of millions of events.

Writes a score table of ``--rows`` rows as ``--parts`` Parquet parts to an S3
server of the benchmark's own on loopback (``benchmarks.dask_data``), starts a
``LocalCluster`` in another process (``benchmarks.dask_cluster``), and then,
in this process, which stands for the app's, reads the table through the
cluster into an ``AnomalyView`` rendered to Bokeh models. It times moves of
the threshold and the host filter (each until every output, the alert
layer's image included, is recomputed, with nothing kept from an earlier
move), a search and two page turns, and records this process's resident
memory, which must stay far below the table's size. Writes the result under
"## Dask" in docs/performance.md.

    python -m benchmarks.dask_scale [--rows 50M] [--parts 50] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from bokeh.document import Document

import dashboard.app  # noqa: F401  (the served app's Panel and HoloViews setup)
from benchmarks.browser_side import chromium_version
from benchmarks.dask_cluster import local_cluster
from benchmarks.dask_data import FolderTable, build_folder
from benchmarks.machine import describe, load_average
from benchmarks.perf_doc import DOC, markdown_table, write_section
from benchmarks.s3_server import ACCESS_KEY, SECRET_KEY, s3_endpoint
from benchmarks.scale_data import parse_size, size_label
from components.catalog import Catalog
from components.store import ArtifactStore, StoreConfig
from components.store.dask_client import DaskSettings, close_clients, shared_client
from components.views.anomalies import AnomalyView
from components.views.dask_summary import DaskSummary, summary_of

SECTION = "Dask"
BUCKET = "bench-dask-scores"
FOLDER = "scores_20181222_145000"
MB = 1e6
# Thresholds as quantiles of risk, from a handful of alerts to a fifth of
# the table; host moves use a threshold of their own.
THRESHOLD_QUANTILES = (0.999, 0.99, 0.95, 0.9, 0.8, 0.97, 0.85)
HOST_QUANTILE = 0.98
SEARCHES = ("192.168", "udp", "tcp", "1.1", "8.8")
THRESHOLD_TARGET_S = 5.0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    rows = parse_size(args.rows)
    with tempfile.TemporaryDirectory() as folder, s3_endpoint(
            Path(folder) / "moto.log") as endpoint:
        print(f"writing {size_label(rows)} rows in {args.parts} parts", flush=True)
        table = build_folder(endpoint.url, (ACCESS_KEY, SECRET_KEY),
                             f"{BUCKET}/{FOLDER}", rows, args.parts)
        print(f"written: {table.object_bytes / MB:,.0f} MB Parquet, "
              f"{table.arrow_bytes / MB:,.0f} MB Arrow, in "
              f"{table.build_seconds:.0f} s", flush=True)
        env = endpoint.app_env(SCORES_BUCKET=BUCKET, SOC_COPILOT_STORE="",
                               SOC_COPILOT_DASK_TIMEOUT="1800")
        with local_cluster(args.workers) as address:
            env["SOC_COPILOT_DASK_SCHEDULER"] = address
            try:
                result = measure(env, args.runs)
            finally:
                # Before the cluster stops, or the client keeps calling it.
                close_clients()
    result["table"] = table.__dict__
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))
    machine = describe(chromium_version())
    body = report(result, table, args, machine)
    print(body)
    if not args.no_doc:
        print(f"written to {write_section(SECTION, body, machine)}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="50M", help="rows in the table (50M)")
    parser.add_argument("--parts", type=int, default=50,
                        help="Parquet parts the table is written in (50)")
    parser.add_argument("--workers", type=int, default=2,
                        help="Dask worker processes, one thread each (2)")
    parser.add_argument("--runs", type=int, default=5,
                        help="moves per measurement; medians are reported")
    parser.add_argument("--note", default="",
                        help="said under the table, e.g. that the machine was shared")
    parser.add_argument("--json", type=Path, help="also save the results here")
    parser.add_argument("--no-doc", action="store_true",
                        help=f"print only; leave {DOC.name} alone")
    return parser


def measure(env: dict[str, str], runs: int) -> dict:
    """Load, render and move an anomaly view over the table; times in
    seconds, memory in MB."""
    result = {"rss_idle_mb": _rss_mb("VmRSS")}
    catalog = Catalog(store=ArtifactStore(StoreConfig.from_env(env)),
                      dask=DaskSettings.from_env(env))
    catalog.refresh()
    result["read_s"], events = _timed(catalog.load_events)
    result["partitions"] = len(events.offsets) - 1
    # The view takes the summary made here: it is one per table.
    result["prepare_s"], summary = _timed(lambda: summary_of(events))
    view = AnomalyView(catalog=catalog)
    result["render_s"], _root = _timed(
        lambda: view.__panel__().get_root(Document()))
    result["rss_loaded_mb"] = _rss_mb("VmRSS")
    thresholds = [_quantile(summary, q) for q in THRESHOLD_QUANTILES][:runs]
    result["threshold_cpu_s"], result["threshold_scheduler_cpu_s"] = [], []
    result["threshold_s"] = _moves(summary, view, "threshold", thresholds,
                                   cpu=result["threshold_cpu_s"],
                                   scheduler_cpu=result["threshold_scheduler_cpu_s"])
    result["alerts_at_thresholds"] = [summary.count_alerts(t, [])[0]
                                      for t in thresholds]
    view.threshold = _quantile(summary, HOST_QUANTILE)
    result["host_s"] = _moves(summary, view, "source_hosts",
                              _host_choices(summary)[:runs])
    table = view.alerts_table
    result["search_s"] = _moves(summary, table, "search", list(SEARCHES[:runs]))
    table.search = ""
    result["page_50_s"] = _moves(summary, table, "page", [50])
    result["last_page_s"] = _moves(summary, table, "page", [table.pages])
    result["rss_moved_mb"] = _rss_mb("VmRSS")
    result["rss_peak_mb"] = _rss_mb("VmHWM")
    result["workers_rss_mb"] = _workers_rss_mb(catalog.dask)
    return result


def _timed(step: Callable[[], object]) -> tuple[float, object]:
    started = time.perf_counter()
    value = step()
    return time.perf_counter() - started, value


def _moves(summary: DaskSummary, owner, name: str, values: list,
           cpu: list | None = None,
           scheduler_cpu: list | None = None) -> list[float]:
    """Seconds per move of ``owner``'s ``name``; every answer ``summary``
    kept from earlier moves is dropped first, so each move asks the cluster
    again. With ``cpu``, the CPU seconds of each move (this process and the
    workers) are appended to it: unlike the wall time, they do not grow when
    other work shares the machine; with ``scheduler_cpu`` too, the
    scheduler's process's, which each move also waits for."""
    seconds = []
    for value in values:
        summary._answers.clear()
        used = _cpu_seconds(summary) if cpu is not None else (0.0, 0.0)
        started = time.perf_counter()
        setattr(owner, name, value)
        seconds.append(time.perf_counter() - started)
        if cpu is not None:
            now = _cpu_seconds(summary)
            cpu.append(now[0] - used[0])
            if scheduler_cpu is not None:
                scheduler_cpu.append(now[1] - used[1])
        print(f"  {name} -> {str(value)[:40]}: {seconds[-1]:.2f} s", flush=True)
    return seconds


def _cpu_seconds(summary: DaskSummary) -> tuple[float, float]:
    """CPU seconds used so far by this process and every worker, and by the
    scheduler's process (the benchmark's cluster process: the scheduler and
    the nannies)."""
    import psutil

    def used() -> float:
        times = psutil.Process().cpu_times()
        return times.user + times.system

    client = summary.events.client
    workers = client.run(used)
    return used() + sum(workers.values()), client.run_on_scheduler(used)


def _quantile(summary: DaskSummary, q: float) -> float:
    """The risk with a share ``q`` of events below it, read off the
    histogram (an aggregate: no row is fetched)."""
    counts, edges = summary.histogram
    below = np.cumsum(counts) / counts.sum()
    return float(edges[1:][np.searchsorted(below, q)])


def _host_choices(summary: DaskSummary) -> list[list[str]]:
    """One host, two by name, none (all), the last one, all backwards:
    each a new choice, as an analyst's clicks would be."""
    hosts = summary.source_addresses
    return [hosts[:1], hosts[:2], [], hosts[-1:], hosts[::-1]]


def _rss_mb(field: str) -> float:
    """This process's resident memory now (VmRSS) or at its peak (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) * 1024 / MB
    raise RuntimeError(f"no {field} in /proc/self/status")


def _workers_rss_mb(settings: DaskSettings) -> float:
    """The workers' resident memory, summed: where the table is."""
    import psutil

    per_worker = shared_client(settings).run(
        lambda: psutil.Process().memory_info().rss)
    return sum(per_worker.values()) / MB


def report(result: dict, table: FolderTable, args, machine: str) -> str:
    """The section's Markdown: how, the figures, the targets."""
    median = statistics.median
    rows = [
        ["Parquet parts (MB)", f"{table.object_bytes / MB:,.0f} in {table.parts}"],
        ["Arrow table in memory (MB)", f"{table.arrow_bytes / MB:,.0f}"],
        ["Dask partitions", f"{result['partitions']}"],
        ["read and persist on the workers (s)", f"{result['read_s']:.1f}"],
        ["summary: range, histogram, addresses (s)", f"{result['prepare_s']:.1f}"],
        ["anomaly view rendered, images included (s)", f"{result['render_s']:.1f}"],
        [f"threshold move, median of {len(result['threshold_s'])} (s)",
         f"{median(result['threshold_s']):.2f}"],
        ["threshold move, slowest (s)", f"{max(result['threshold_s']):.2f}"],
        ["threshold move, CPU time of app and workers, median (s)",
         f"{median(result['threshold_cpu_s']):.2f}"],
        ["threshold move, CPU time of the scheduler's process, median (s)",
         f"{median(result['threshold_scheduler_cpu_s']):.2f}"],
        [f"host filter move, median of {len(result['host_s'])} (s)",
         f"{median(result['host_s']):.2f}"],
        [f"search, median of {len(result['search_s'])} (s)",
         f"{median(result['search_s']):.2f}"],
        ["page 50 of the alerts (s)", f"{result['page_50_s'][0]:.2f}"],
        ["last page of the alerts (s)", f"{result['last_page_s'][0]:.2f}"],
        ["app process RSS idle (MB)", f"{result['rss_idle_mb']:,.0f}"],
        ["app process RSS after load (MB)", f"{result['rss_loaded_mb']:,.0f}"],
        ["app process RSS peak (MB)", f"{result['rss_peak_mb']:,.0f}"],
        ["Dask workers RSS, summed (MB)", f"{result['workers_rss_mb']:,.0f}"],
    ]
    return "\n\n".join(part for part in (
        _method(result, table, args, machine),
        markdown_table([f"{size_label(table.rows)} events", "measured"], rows),
        _targets(result, table)) if part)


def _method(result: dict, table: FolderTable, args, machine: str) -> str:
    note = f" {args.note.strip()}" if args.note.strip() else ""
    alerts = ", ".join(f"{count:,}" for count in result["alerts_at_thresholds"])
    return (
        f"Run by `make bench` (`python -m benchmarks.dask_scale --rows {args.rows} "
        f"--parts {args.parts} --runs {args.runs}`) on {machine}; load average "
        f"at the end {load_average()}.{note}\n\n"
        f"The table resamples the real IoT-23 rows as the scale benchmark does, "
        f"written as {table.parts} Parquet parts (one folder) to a moto S3 "
        f"server on loopback in {table.build_seconds:.0f} s. A `LocalCluster` "
        f"of {args.workers} worker processes with one thread each runs beside "
        "the measuring process, which plays the app: its `AnomalyView` reads "
        "the folder through the cluster and is rendered to Bokeh models. Each "
        "move drops every answer kept from earlier moves, then sets the "
        "threshold (quantiles 99.9 % to 80 % of risk, from the histogram: "
        f"{alerts} alerts) or the host filter, and stops when the counts, top "
        "addresses, first page of the table and the alert layer's image are "
        "recomputed. CPU time is this process's and the workers' together: "
        "divided by the cores, it is what a move would take with the machine "
        "to itself; the scheduler's process, whose work a move also waits "
        "for, is given apart. RSS is this process's, from /proc; the "
        "workers' is summed apart.")


def _targets(result: dict, table: FolderTable) -> str:
    move = statistics.median(result["threshold_s"])
    held = result["rss_peak_mb"] - result["rss_idle_mb"]
    arrow = table.arrow_bytes / MB
    rows = [
        [f"threshold change ≤ {THRESHOLD_TARGET_S:.0f} s (median)", f"{move:.2f} s",
         "met" if move <= THRESHOLD_TARGET_S else "**not met**"],
        ["the app process never holds the whole table (RSS peak above idle "
         "< Arrow size)", f"{held:,.0f} MB above idle vs {arrow:,.0f} MB",
         "met" if held < arrow else "**not met**"],
    ]
    return (f"Targets at {size_label(table.rows)} events:\n\n"
            + markdown_table(["target", "measured", ""], rows))


if __name__ == "__main__":
    raise SystemExit(main())
