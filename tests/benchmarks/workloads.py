"""One measurement's work, run in a fresh child process by `suite`.

    python -m tests.benchmarks.workloads --one NAME --state DIR [options]

Each workload imports what it needs and sets up first, then times only the work with
`time.perf_counter`, and prints one line `BENCH_RESULT <json>` on stdout. The parent reads the
child's peak RSS from `os.wait4` (that includes the imports); the child also reports its RSS just
before the work and the high-water mark after each phase.

Workloads:
- `bare_read_varchar` / `bare_read_auto`: `CREATE TABLE t AS SELECT * FROM read_csv(...)` of the
  data file into a fresh on-disk DuckDB file, with all columns as text or with type auto-detection.
  The checkpoint when the connection closes is timed separately (`close_s`).
- `bare_read_durable`: `bare_read_varchar` timed until the connection is closed (checkpoint
  included), the way the ingest is timed until its warehouse connections are closed.
- `bare_read_temp`: the same as a TEMP table (in memory, spilling beyond memory_limit), the way
  the pipeline holds its intermediate cells: DuckDB's parse cost without the storage write.
- `ingest`: `dagster.materialize` of `raw_oews` + `stg_oews__estimates` with live settings pointed
  at the loopback server. With an empty state folder this downloads everything; run again on the
  same folder it revalidates the cache (304s) and only re-parses.
- `pandas_read`, `pandas_notebook`, `refresh`, `rerender`: see `workloads_refresh`.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tests.benchmarks import workloads_refresh
from tests.benchmarks.probes import cpu_s, maxrss_mb, rss_mb

RESULT_PREFIX = "BENCH_RESULT "
WORKLOADS = (
    "bare_read_varchar",
    "bare_read_auto",
    "bare_read_temp",
    "bare_read_durable",
    "ingest",
    "pandas_read",
    "pandas_notebook",
    "refresh",
    "rerender",
)
INGEST_ASSETS = ("raw_oews", "stg_oews__estimates")

# Wrapped with timers during `ingest`: (label, module, attribute path). Labels starting with two
# spaces run inside the row above them. A missing attribute is skipped (the code moved).
PHASES: tuple[tuple[str, str, str], ...] = (
    ("download/revalidate 7 files (GET + sha256)", "pipelines.sources.http", "Downloader.fetch"),
    ("code lists (read_csv of 6 small files)", "assets.sources", "flat_code_lists"),
    ("sha256 re-verify of cached files", "assets.staging", "verify_unchanged"),
    (
        "typed table: pivot+type+check+validate+swap (write_table)",
        "pipelines.metadata",
        "write_table",
    ),
    ("  cell checks on the check_* columns (check_cells)", "assets.staging", "check_cells"),
    ("  fetch table to polars (query_frame)", "pipelines.warehouse", "query_frame"),
    ("  pandera validation (validate_table)", "schemas", "validate_table"),
    ("table metadata (count + preview)", "pipelines.metadata", "table_metadata"),
)


@dataclass
class Phase:
    """Accumulated time of one wrapped function, and the RSS high-water mark after it."""

    label: str
    seconds: float = 0.0
    calls: int = 0
    maxrss_after_mb: float = 0.0


@dataclass
class Recorder:
    """Phase timers and (optionally) a trace of SQL statements on warehouse connections."""

    phases: dict[str, Phase] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    statements: list[dict[str, Any]] = field(default_factory=list)

    def wrap(self, label: str, module: str, path: str) -> None:
        owner: Any = importlib.import_module(module)
        *parents, attr = path.split(".")
        for part in parents:
            owner = getattr(owner, part, None)
        original = getattr(owner, attr, None) if owner is not None else None
        if not callable(original):
            self.skipped.append(f"{module}.{path}")
            return
        phase = self.phases.setdefault(label, Phase(label))

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                phase.seconds += time.perf_counter() - started
                phase.calls += 1
                phase.maxrss_after_mb = maxrss_mb()

        setattr(owner, attr, timed)

    def trace_sql(self) -> None:
        """Make warehouse connections record each execute() with its time and RSS peak."""
        warehouse = importlib.import_module("pipelines.warehouse")
        connect = warehouse.connect
        statements = self.statements

        class Traced:
            def __init__(self, con: Any):
                self._con = con

            def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return self._con.execute(sql, *args, **kwargs)
                finally:
                    statements.append(
                        {
                            "sql": " ".join(sql.split())[:110],
                            "seconds": round(time.perf_counter() - started, 4),
                            "maxrss_after_mb": round(maxrss_mb(), 1),
                        }
                    )

            def __getattr__(self, name: str) -> Any:
                return getattr(self._con, name)

        warehouse.connect = lambda *a, **kw: Traced(connect(*a, **kw))


def duckdb_config(threads: int, memory_limit: str) -> dict[str, Any]:
    """The pipeline's connection settings (pipelines.warehouse.connection_config), without
    importing it: that module imports dagster, which the bare-read children must not pay for."""
    return {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
        "threads": threads,
        "memory_limit": memory_limit,
    }


def bare_read(
    args: argparse.Namespace, *, all_varchar: bool, temp: bool = False, durable: bool = False
) -> dict[str, Any]:
    """Materialize the whole data file as a DuckDB table (TEMP: in memory), nothing else.

    `durable` adds the checkpoint at close to `seconds`: the table is then in the file itself.
    """
    import duckdb

    args.state.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(
        str(args.state / "bare.duckdb"), config=duckdb_config(args.threads, args.memory_limit)
    )
    path = str(args.file).replace("'", "''")
    options = "delim='\t', header=true" + (", all_varchar=true" if all_varchar else "")
    kind = "TEMP TABLE" if temp else "TABLE"
    sql = f"CREATE {kind} t AS SELECT * FROM read_csv('{path}', {options})"
    before, cpu_before = rss_mb(), cpu_s()
    started = time.perf_counter()
    con.execute(sql)
    seconds = time.perf_counter() - started
    cpu = cpu_s() - cpu_before
    rows = con.execute("SELECT count(*) FROM t").fetchall()[0][0]
    types = [f"{r[0]} {r[1]}" for r in con.execute("DESCRIBE t").fetchall()]
    closing = time.perf_counter()
    con.close()  # checkpoints the database file: not part of `seconds`, reported beside it
    close_s = time.perf_counter() - closing
    if durable:
        seconds += close_s
        cpu = cpu_s() - cpu_before  # the untimed count(*) and DESCRIBE are negligible
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "close_s": close_s,
        "rss_before_work_mb": before,
        "rows": rows,
        "sql": sql,
        "columns": types,
    }


def ingest(args: argparse.Namespace) -> dict[str, Any]:
    """Materialize raw_oews + stg_oews__estimates from the live (loopback) source."""
    import duckdb
    from dagster import DagsterInstance, materialize

    from assets.sources import raw_oews
    from assets.staging import stg_oews__estimates
    from pipelines.releases import add_release
    from pipelines.resources import (
        NO_VALUES_IO_MANAGER,
        SourcesResource,
        warehouse_from_settings,
    )
    from pipelines.settings import Settings

    settings = Settings.from_env(
        environ={},
        warehouse_path=args.state / "warehouse.duckdb",
        cache_dir=args.state / "cache",
        output_dir=args.state / "reports",
        source_mode="live",
        contact="bench@example.org",
        bls_base_url=args.base_url,
        http_min_interval_s=0.0,
        duckdb_threads=args.threads,
        duckdb_memory_limit=args.memory_limit,
    )
    resources = {  # as the code location configures them (pipelines/definitions.py)
        "warehouse": warehouse_from_settings(settings),
        "sources": SourcesResource.from_settings(settings),
        "io_manager": NO_VALUES_IO_MANAGER,
    }
    recorder = Recorder()
    for label, module, path in PHASES:
        recorder.wrap(label, module, path)
    if args.trace_sql:
        recorder.trace_sql()
    instance = DagsterInstance.ephemeral()
    # The release partition, as `ccp run` finds it before a run starts (oe.release, one small
    # conditional GET before the clock).
    release = resources["sources"].current_release()
    add_release(instance, release)
    before, cpu_before = rss_mb(), cpu_s()
    started = time.perf_counter()
    result = materialize(
        [raw_oews, stg_oews__estimates],
        resources=resources,
        instance=instance,
        partition_key=release,
        raise_on_error=False,
    )
    seconds = time.perf_counter() - started
    cpu = cpu_s() - cpu_before
    if not result.success:
        failures = [
            e.step_failure_data.error.to_string()
            for e in result.all_events
            if e.is_step_failure and e.step_failure_data.error
        ]
        raise RuntimeError("ingest failed:\n" + "\n".join(failures))
    steps = {
        s.step_key: round((s.end_time or 0) - (s.start_time or 0), 4)
        for s in instance.get_run_step_stats(result.run_id)
    }
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        rows = con.execute("SELECT count(*) FROM stg_oews__estimates").fetchall()[0][0]
        cached = con.execute("SELECT bool_and(is_from_cache) FROM raw_oews__files").fetchall()
    finally:
        con.close()
    return {
        "seconds": seconds,
        "cpu_s": cpu,
        "rss_before_work_mb": before,
        "rows": rows,
        "from_cache": bool(cached[0][0]),
        "steps": steps,
        "phases": [asdict(p) for p in recorder.phases.values()],
        "skipped_phases": recorder.skipped,
        "statements": recorder.statements,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run one workload and print its result line."""
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.workloads")
    parser.add_argument("--one", required=True, choices=WORKLOADS)
    parser.add_argument("--state", type=Path, required=True, help="folder for this measurement")
    parser.add_argument("--file", type=Path, help="the data file on disk")
    parser.add_argument("--base-url", help="BLS base URL on the loopback server (served runs)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--memory-limit", default="512MB")
    parser.add_argument("--trace-sql", action="store_true", help="time each SQL statement")
    args = parser.parse_args(argv)
    os.environ.setdefault("NO_PROXY", "127.0.0.1,localhost")
    os.environ.setdefault("no_proxy", "127.0.0.1,localhost")
    runners: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
        "bare_read_varchar": functools.partial(bare_read, all_varchar=True),
        "bare_read_auto": functools.partial(bare_read, all_varchar=False),
        "bare_read_temp": functools.partial(bare_read, all_varchar=True, temp=True),
        "bare_read_durable": functools.partial(bare_read, all_varchar=True, durable=True),
        "ingest": ingest,
        "pandas_read": workloads_refresh.pandas_read,
        "pandas_notebook": workloads_refresh.pandas_notebook,
        "refresh": workloads_refresh.refresh,
        "rerender": workloads_refresh.rerender,
    }
    result = runners[args.one](args)
    result.update(workload=args.one, maxrss_self_mb=maxrss_mb(), pid=os.getpid())
    sys.stdout.write(RESULT_PREFIX + json.dumps(result) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
