"""Workloads beyond the ingest: the pandas comparisons, full refreshes and a one-cluster re-render.

Each runs in a fresh child process started by `suite` (through `workloads.main`) and
returns the same kind of result dict: `seconds` is the timed work only, after imports and setup.

- `pandas_read`: `pandas.read_csv` of `oe.data.0.Current` + strip + numeric cast: the ingest a
  notebook would do.
- `pandas_notebook`: `tests.benchmarks.pandas_notebook` end to end (read, pivot, screen, assign,
  aggregate, 14 Plotly pages), imports included in its timing only from the script's start.
- `refresh`: the `refresh_warehouse` job through Dagster's own execution, exactly as `ccp run`
  runs it (the instance in $DAGSTER_HOME, every asset, the release's 14 cluster reports), from the
  embedded release or, with `--base-url`, from the full-size flat files on loopback.
- `rerender`: on the warehouse a `refresh` left in the same state folder, a reviewer removes
  one shared occupation from one cluster; timed: the `apply_review_decisions` job with only
  that cluster's report (decisions → clusters → profile tables → that report and the index), as
  a researcher runs it in the UI.
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path
from typing import Any

from tests.benchmarks.probes import cpu_s, rss_mb

RELEASE_GLOB = "20*"
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
# Local copies of the other live sources, used by the live refresh when present (the benchmark
# serves only the OEWS files; these come from the publishers in a real live run).
SHARED_SOURCES = {
    "naics_local_path": SHARED_DATA / "naics" / "2-6 digit_2022_Codes.xlsx",
    "soc_local_path": SHARED_DATA / "soc" / "soc_structure_2018.xlsx",
    "ep_local_path": SHARED_DATA / "ep" / "occupation_2024-34.xlsx",
    "onet_local_path": SHARED_DATA / "onet",
}
RERENDER_CLUSTER = "digital-technology"


def _clock() -> tuple[float, float]:
    return time.perf_counter(), cpu_s()


def _since(start: tuple[float, float]) -> dict[str, float]:
    return {"seconds": time.perf_counter() - start[0], "cpu_s": cpu_s() - start[1]}


def pandas_read(args: argparse.Namespace) -> dict[str, Any]:
    """`pandas.read_csv` + strip + numeric cast of the data file (no pivot, no storage)."""
    import pandas as pd

    before = rss_mb()
    start = _clock()
    data = pd.read_csv(args.file, sep="\t", dtype=str, keep_default_na=False)
    data.columns = data.columns.str.strip()
    for col in data.columns:
        data[col] = data[col].str.strip()
    data["value"] = pd.to_numeric(data["value"].replace("-", None), errors="coerce")
    out = _since(start)
    return {
        **out,
        "rss_before_work_mb": before,
        "rows": len(data),
        "pandas": pd.__version__,
    }


def pandas_notebook(args: argparse.Namespace) -> dict[str, Any]:
    """The plain-pandas script, from reading the flat files to writing 14 pages."""
    from tests.benchmarks import pandas_notebook as notebook

    out_dir = args.state / "pages"
    before = rss_mb()
    start = _clock()
    notebook.main(["--data", str(args.file.parent), "--out", str(out_dir)])
    pages = sorted(out_dir.glob("*.html"))
    return {
        **_since(start),
        "rss_before_work_mb": before,
        "pages": len(pages),
        "page_bytes_median": sorted(p.stat().st_size for p in pages)[len(pages) // 2],
    }


def _settings(args: argparse.Namespace, **extra: object) -> Any:
    from pipelines.settings import Settings

    overrides: dict[str, object] = {
        "warehouse_path": args.state / "warehouse.duckdb",
        "cache_dir": args.state / "cache",
        "output_dir": args.state / "reports",
        "duckdb_threads": args.threads,
        "duckdb_memory_limit": args.memory_limit,
        "http_min_interval_s": 0.0,
        **extra,
    }
    if args.base_url:
        missing = [str(p) for p in SHARED_SOURCES.values() if not p.exists()]
        if missing:
            raise RuntimeError(f"live refresh needs local copies of {missing}")
        # No public copy of Advance CTE's crosswalk here: a small one in its published layout.
        from tests.support.crosswalk_workbook import SAMPLE_ROWS, write_crosswalk_workbook

        args.state.mkdir(parents=True, exist_ok=True)
        crosswalk = write_crosswalk_workbook(args.state / "crosswalk.xlsx", SAMPLE_ROWS)
        overrides.update(
            source_mode="live",
            contact="bench@example.org",
            bls_base_url=args.base_url,
            crosswalk_local_path=crosswalk,
            **SHARED_SOURCES,
        )
    return Settings.from_env(environ={}, **overrides)


def _job_and_instance(settings: Any, job_name: str) -> tuple[Any, Any, str]:
    """The job, the $DAGSTER_HOME instance and the release, found before the clock starts (the
    UI and `ccp run` have all three before a run starts)."""
    from dagster import DagsterInstance

    from pipelines.cli import ensure_dagster_home
    from pipelines.definitions import build_definitions
    from pipelines.resources import SourcesResource

    ensure_dagster_home(settings)
    release = SourcesResource.from_settings(settings).current_release()
    job = build_definitions(settings).resolve_job_def(job_name)
    return job, DagsterInstance.get(), release


def _execute(
    job: Any, instance: Any, release: str, only_clusters: list[str] | None = None
) -> dict[str, float]:
    """Run one job as `ccp run` does (INFO logs shown as WARNING here)."""
    from pipelines.releases import run_job

    result = run_job(
        job,
        instance,
        release,
        only_clusters=only_clusters,
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    if not result.success:
        errors = [
            e.step_failure_data.error.to_string()
            for e in result.all_events
            if e.is_step_failure and e.step_failure_data.error
        ]
        raise RuntimeError(f"{job.name} failed:\n" + "\n".join(errors))
    return {
        s.step_key: round((s.end_time or 0) - (s.start_time or 0), 3)
        for s in instance.get_run_step_stats(result.run_id)
    }


def report_weights(output: Path) -> dict[str, Any]:
    """Bytes of each report page (plotly.js is a separate, shared file) and of the index."""
    folder = max(output.glob(RELEASE_GLOB))
    pages = {p.stem: p.stat().st_size for p in folder.glob("*.html") if p.stem != "index"}
    return {
        "release_folder": folder.name,
        "report_bytes": pages,
        "report_bytes_max": max(pages.values()),
        "report_bytes_median": sorted(pages.values())[len(pages) // 2],
        "index_bytes": (folder / "index.html").stat().st_size,
        "plotly_js_bytes": (folder / "plotly.min.js").stat().st_size,
        "downloads_bytes": sum(p.stat().st_size for p in (folder / "downloads").rglob("*")),
    }


def refresh(args: argparse.Namespace) -> dict[str, Any]:
    """Every asset and all 14 reports, as `ccp run` runs them."""
    import duckdb

    settings = _settings(args)
    job, instance, release = _job_and_instance(settings, "refresh_warehouse")
    before = rss_mb()
    start = _clock()
    steps = _execute(job, instance, release)
    out = _since(start)
    instance.dispose()
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    try:
        rows = con.execute("SELECT count(*) FROM stg_oews__estimates").fetchall()[0][0]
    finally:
        con.close()
    slowest = dict(sorted(steps.items(), key=lambda kv: -kv[1])[:12])
    return {
        **out,
        "rss_before_work_mb": before,
        "rows": rows,
        "steps": len(steps),
        "steps_slowest_s": slowest,
        "steps_total_s": sum(steps.values()),
        **report_weights(settings.output),
    }


def _remove_one(settings: Any, decisions: Path) -> str:
    """Fill the cluster's review sheet as a reviewer would: remove its largest shared occupation."""
    folder = max(settings.output.glob(RELEASE_GLOB)) / "downloads" / RERENDER_CLUSTER
    with (folder / f"{RERENDER_CLUSTER}-review-sheet.csv").open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fields, rows = list(reader.fieldnames or []), list(reader)
    # an occupation whose primary cluster is another one, so it keeps a cluster
    shared = [r for r in rows if r["context_is_primary_cluster"] == "false"]
    chosen = max(shared, key=lambda r: float(r["context_employment_count"] or 0))
    chosen.update(decision="remove", reviewer="bench", date="2026-11-23", rationale="benchmark")
    with decisions.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return chosen["soc_code"]


def rerender(args: argparse.Namespace) -> dict[str, Any]:
    """A reviewer decision applied and one cluster's report re-rendered (two runs)."""
    decisions = args.state / "decisions.csv"
    settings = _settings(args, review_decisions_path=decisions)
    if not settings.warehouse.exists():
        raise RuntimeError(f"rerender needs the warehouse a refresh left in {args.state}")
    soc = _remove_one(settings, decisions)
    page = max(settings.output.glob(RELEASE_GLOB)) / f"{RERENDER_CLUSTER}.html"
    old = page.read_bytes()
    job, instance, release = _job_and_instance(settings, "apply_review_decisions")
    before = rss_mb()
    start = _clock()
    steps = _execute(job, instance, release, only_clusters=[RERENDER_CLUSTER])
    out = _since(start)
    instance.dispose()
    if page.read_bytes() == old:
        raise RuntimeError(f"the {RERENDER_CLUSTER} report did not change after removing {soc}")
    return {
        **out,
        "rss_before_work_mb": before,
        "removed_soc": soc,
        "steps_s": steps,
        "steps_total_s": sum(steps.values()),
    }
