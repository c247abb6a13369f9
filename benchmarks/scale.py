"""How SOC Copilot scales with the size of a score table.

For each size, builds a score table by resampling the real Zeek rows
(``benchmarks.scale_data``), writes it to an S3 server of the benchmark's own
on loopback, and measures (median of ``--runs``): the bare Parquet read, the
app's cold load, threshold and host-filter moves on the server, the anomaly
view's first render in Chromium and the server's memory. Prints a table and
writes it under "## Scale" in docs/performance.md.

    python -m benchmarks.scale [--sizes 100k,1M,10M] [--runs 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import statistics
import tempfile
from pathlib import Path

import fsspec

from benchmarks import browser_side, server_side
from benchmarks.machine import describe, load_average
from benchmarks.perf_doc import DOC, markdown_table, write_section
from benchmarks.s3_server import ACCESS_KEY, SECRET_KEY, S3Endpoint, s3_endpoint
from benchmarks.scale_data import (
    ScaleTable,
    build_table,
    parse_size,
    scored_sample,
    size_label,
)
from benchmarks.targets import TARGETS, budget_mb
from components.store.config import DEFAULT_BUCKETS

SECTION = "Scale"
# A run time in the name, as the pipeline writes it: the app orders runs by it.
OBJECT_NAME = "scores_{label}_20181222_145000.parquet"
MB = 1e6

# What the report shows per size: label, summary key, format.
ROWS = (
    ("Parquet object (MB)", "object_mb", "{:,.0f}"),
    ("Arrow table in memory (MB)", "arrow_mb", "{:,.0f}"),
    ("bare `pq.read_table` via s3fs (s)", "bare_read_s", "{:.2f}"),
    ("cold load: store to normalised frame (s)", "cold_load_s", "{:.2f}"),
    ("cold load ÷ bare read", "load_ratio", "{:.2f}x"),
    ("table preparation, `EventSummary` (s)", "prepare_s", "{:.2f}"),
    ("of the preparation: riskiest-first order (s)", "order_s", "{:.2f}"),
    ("store to prepared table: load + preparation (s)", "ready_s", "{:.2f}"),
    ("load + preparation ÷ bare read", "ready_ratio", "{:.2f}x"),
    ("threshold move, server side (ms)", "threshold_ms", "{:,.0f}"),
    ("host filter move, server side (ms)", "host_ms", "{:,.0f}"),
    ("first page on a cold server (s)", "cold_page_s", "{:.1f}"),
    ("anomaly view drawn, data loaded (s)", "render_s", "{:.2f}"),
    ("server RSS idle (MB)", "rss_idle_mb", "{:,.0f}"),
    ("server RSS after load (MB)", "rss_loaded_mb", "{:,.0f}"),
    ("server RSS per extra session (MB)", "session_mb", "{:,.1f}"),
    ("RSS budget: 2 x Arrow + idle (MB)", "rss_budget_mb", "{:,.0f}"),
)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    sizes = [parse_size(size) for size in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as folder:
        with s3_endpoint(Path(folder) / "moto.log") as endpoint:
            results = _measure_sizes(endpoint, sizes, args, Path(folder))
    machine = describe(browser_side.chromium_version())
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    body = report(results, args, machine, baseline)
    print(body)
    if not args.no_doc:
        print(f"written to {write_section(SECTION, body, machine)}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,1M,10M",
                        help="comma-separated row counts (default 100k,1M,10M)")
    parser.add_argument("--runs", type=int, default=5,
                        help="runs per measurement; medians are reported")
    parser.add_argument("--no-browser", action="store_true",
                        help="skip the served app and Chromium")
    parser.add_argument("--browser-timeout", type=float, default=180.0,
                        help="seconds a page may take before it counts as failed")
    parser.add_argument("--note", default="",
                        help="said under the table, e.g. that the machine was shared")
    parser.add_argument("--json", type=Path, help="also save the results here")
    parser.add_argument("--baseline", type=Path,
                        help="results saved by an earlier run, to compare with")
    parser.add_argument("--no-doc", action="store_true",
                        help=f"print only; leave {DOC.name} alone")
    return parser


def _measure_sizes(endpoint: S3Endpoint, sizes: list[int], args,
                   folder: Path) -> dict[str, dict]:
    writer = fsspec.filesystem(
        "s3", key=ACCESS_KEY, secret=SECRET_KEY, skip_instance_cache=True,
        client_kwargs={"endpoint_url": endpoint.url})
    for bucket in DEFAULT_BUCKETS.values():
        writer.mkdir(bucket)
    sample = scored_sample()
    return {size_label(rows): _measure_size(endpoint, writer, sample, rows, args,
                                            folder)
            for rows in sizes}


def _measure_size(endpoint, writer, sample, rows: int, args, folder: Path) -> dict:
    label = size_label(rows)
    bucket = f"bench-scores-{label.lower()}"
    writer.mkdir(bucket)
    table = build_table(writer, sample, rows,
                        f"{bucket}/{OBJECT_NAME.format(label=label)}")
    print(f"{label}: {table.object_bytes / MB:,.0f} MB Parquet, "
          f"{table.arrow_bytes / MB:,.0f} MB Arrow, built in "
          f"{table.build_seconds:.1f} s", flush=True)
    env = endpoint.app_env(SCORES_BUCKET=bucket, SOC_COPILOT_STORE="",
                           SOC_COPILOT_REFRESH_SECONDS="0")
    server = server_side.measure(env, table.path, args.runs)
    gc.collect()
    browser, failure = None, ""
    if not args.no_browser:
        try:
            browser = browser_side.measure(env, args.runs, folder / f"{label}.log",
                                           args.browser_timeout)
        except Exception as exc:
            failure = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
            print(f"{label}: browser measurement failed: {failure}", flush=True)
    result = summarise(table, server, browser)
    result["browser_failure"] = failure
    print(f"{label}: {json.dumps(result['summary'])}", flush=True)
    return result


def summarise(table: ScaleTable, server, browser) -> dict:
    """Medians per measurement, and every run's raw value."""
    median = statistics.median
    summary = {
        "object_mb": table.object_bytes / MB, "arrow_mb": table.arrow_bytes / MB,
        "bare_read_s": median(server.bare_read),
        "cold_load_s": median(server.cold_load),
        "prepare_s": median(server.prepare),
        "order_s": median(server.order),
        "threshold_ms": 1000 * median(server.threshold_move),
        "host_ms": 1000 * median(server.host_move),
    }
    summary["load_ratio"] = summary["cold_load_s"] / summary["bare_read_s"]
    summary["ready_s"] = summary["cold_load_s"] + summary["prepare_s"]
    summary["ready_ratio"] = summary["ready_s"] / summary["bare_read_s"]
    if browser is not None:
        summary |= {
            "cold_page_s": browser.cold_page,
            "render_s": median(browser.first_render),
            "rss_idle_mb": browser.rss_idle, "rss_loaded_mb": browser.rss_loaded,
            "session_mb": median(browser.rss_per_session),
        }
        summary["rss_budget_mb"] = budget_mb(summary)
    return {"rows": table.rows, "summary": summary,
            "table": dataclasses.asdict(table),
            "server_runs": dataclasses.asdict(server),
            "browser_runs": dataclasses.asdict(browser) if browser else None}


def report(results: dict[str, dict], args, machine: str,
           baseline: dict | None) -> str:
    """The section's Markdown: how, the table, the targets, any comparison."""
    labels = list(results)
    rows = [[label] + [_cell(results[size]["summary"], key, fmt) for size in labels]
            for label, key, fmt in ROWS]
    parts = [
        _method(args, machine),
        markdown_table([f"median of {args.runs} runs", *labels], rows),
        _failures(results),
        _targets(results),
    ]
    if baseline:
        parts.append(_comparison(results, baseline))
    return "\n\n".join(part for part in parts if part)


def _method(args, machine: str) -> str:
    note = f" {args.note.strip()}" if args.note.strip() else ""
    return (
        f"Run by `make bench` (`python -m benchmarks.scale --runs {args.runs}`) on "
        f"{machine}; load average at the end {load_average()}.{note}\n\n"
        "Each score table resamples the 23,145 real IoT-23 Zeek rows with "
        "jitter on time, bytes, duration and score (`benchmarks/scale_data.py`, "
        "seeded) and is written as Parquet to a moto S3 server on loopback. "
        "The cold load is the catalog's read of it to the normalised frame, "
        "rows in the order written; the table preparation (`EventSummary`, "
        "once per table and server process) finds the riskiest-first order "
        "and takes in it what every move reads. "
        "Server-side moves set the threshold or the host filter on an "
        "`AnomalyView` already rendered to Bokeh models and stop when every "
        "output is recomputed (thresholds cycle through the 99.9th to 80th "
        "percentiles of risk; hosts through one, both, none). Browser times run "
        "from navigation to the anomaly view's counts and five plot canvases, "
        "each in a new session kept open; memory is the served process's RSS.")


def _failures(results: dict[str, dict]) -> str:
    failed = [f"- {label}: the browser measurement failed ({result['browser_failure']})"
              for label, result in results.items() if result["browser_failure"]]
    return "\n".join(failed)


def _targets(results: dict[str, dict]) -> str:
    label = list(results)[-1]
    summary = results[label]["summary"]
    rows = []
    for target in TARGETS:
        measured = target.measured(summary)
        if measured is None:
            rows.append([target.text, "not measured", "—"])
            continue
        rows.append([target.text, target.unit.format(measured),
                     "met" if measured <= target.limit(summary) else "**not met**"])
    return (f"Targets at {label} events:\n\n"
            + markdown_table(["target", "measured", ""], rows))


def _comparison(results: dict[str, dict], baseline: dict) -> str:
    labels = [label for label in results if label in baseline]
    rows = []
    for text, key, _fmt in ROWS:
        cells = [_ratio(baseline[label]["summary"].get(key),
                        results[label]["summary"].get(key)) for label in labels]
        if any(cell != "—" for cell in cells) and key.endswith(("_s", "_ms", "_mb")):
            rows.append([text, *cells])
    return ("Before ÷ after, against the saved baseline (above 1: now faster or "
            "smaller):\n\n" + markdown_table(["measurement", *labels], rows))


def _ratio(before, after) -> str:
    if before is None or after is None or after <= 0:
        return "—"
    return f"{before / after:.1f}x"


def _cell(summary: dict, key: str, fmt: str) -> str:
    value = summary.get(key)
    return "—" if value is None else fmt.format(value)


if __name__ == "__main__":
    raise SystemExit(main())
