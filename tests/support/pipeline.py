"""Run the real pipeline (Dagster job, real DuckDB file) from tests and inspect the warehouse."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb
import polars as pl
from dagster import DagsterInstance, ExecuteInProcessResult

from pipelines.definitions import build_definitions
from pipelines.releases import run_job
from pipelines.resources import SourcesResource
from pipelines.settings import Settings
from pipelines.warehouse import query_frame

REPO = Path(__file__).resolve().parents[2]
CCP = str(Path(sys.executable).with_name("ccp"))
SHARED_DATA = REPO.parent / "shared" / "data"


def isolated_settings(tmp: Path, **overrides: object) -> Settings:
    """Settings isolated in `tmp`, ignoring the developer's CCP_* environment."""
    base: dict[str, object] = {
        "warehouse_path": tmp / "warehouse.duckdb",
        "cache_dir": tmp / "cache",
        "output_dir": tmp / "reports",
        "http_backoff_s": 0.01,
        "http_min_interval_s": 0.0,
        "http_timeout_s": 5.0,
        "lock_wait_s": 0.5,
    }
    base.update(overrides)
    return Settings.from_env(environ={}, **base)


def ccp(tmp: Path, *args: str, cwd: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    """`ccp ARGS` as a user runs it (a subprocess, from `cwd` or the test's folder), with its
    folders in `tmp` unless `env` (CCP_* variables) points elsewhere; the developer's own
    CCP_* settings are ignored."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CCP_")}
    environ |= {
        "DAGSTER_HOME": str(tmp / "dagster_home"),
        "CCP_WAREHOUSE_PATH": str(tmp / "warehouse.duckdb"),
        "CCP_CACHE_DIR": str(tmp / "cache"),
        "CCP_OUTPUT_DIR": str(tmp / "reports"),
        **env,
    }
    return subprocess.run(
        [CCP, *args], env=environ, capture_output=True, text=True, timeout=300, cwd=cwd
    )


def run_refresh(
    settings: Settings,
    job_name: str = "refresh_warehouse",
    *,
    release: str | None = None,
    only_clusters: list[str] | None = None,
    instance: DagsterInstance | None = None,
    run_config: dict | None = None,
) -> ExecuteInProcessResult:
    """Run `job_name` as `ccp run` does: for `release` (default: the release the configured
    source holds), on `instance` (default: a fresh in-memory one)."""
    job = build_definitions(settings).resolve_job_def(job_name)
    release = release or SourcesResource.from_settings(settings).current_release()
    return run_job(
        job,
        instance or DagsterInstance.ephemeral(),
        release,
        only_clusters=only_clusters,
        run_config=run_config,
    )


_SHARED_BUILD: list[Settings] = []


def shared_embedded_build() -> Settings:
    """One default offline refresh (warehouse + reports) per test process, shared by the
    modules that only read it: copy it before changing anything (PUDL-style fast path: the
    same code, built once)."""
    if not _SHARED_BUILD:
        settings = isolated_settings(Path(tempfile.mkdtemp(prefix="ccp-shared-build-")))
        result = run_refresh(settings)
        assert result.success, failure_text(result)
        _SHARED_BUILD.append(settings)
    return _SHARED_BUILD[0]


def failure_text(result: ExecuteInProcessResult) -> str:
    """Every step failure's message, joined (what a user sees in the UI or from `ccp run`)."""
    parts = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error:
            error = event.step_failure_data.error
            parts.append(error.message)
            cause = error.cause
            while cause is not None:
                parts.append(cause.message)
                cause = cause.cause
    return "\n".join(parts)


def read(path: Path, sql: str, params: list | None = None) -> pl.DataFrame:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return query_frame(con, sql, params)
    finally:
        con.close()


def table_digests(path: Path) -> dict[str, str]:
    """A content hash per table (rows sorted), to prove tables were left untouched."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [
            r[0]
            for r in con.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
                "AND NOT starts_with(table_name, '_')"  # bookkeeping, e.g. _contract_validations
            ).fetchall()
        ]
        digests = {}
        for name in sorted(names):
            frame = query_frame(con, f'SELECT * FROM "{name}"')
            frame = frame.sort(frame.columns)
            digests[name] = hashlib.sha256(frame.write_csv().encode()).hexdigest()
        return digests
    finally:
        con.close()
