"""When to refresh: an annual schedule after BLS's spring OEWS release, and a sensor that notices
a new release as soon as BLS posts it.

The sensor polls `oe.release` (a few hundred bytes) with a conditional GET through the same
cached downloader as the pipeline, so an unchanged file costs a 304. It requests one run per
release and warehouse (run key + cursor) and only when the warehouse doesn't hold that release
yet; the cursor remembers the last release requested for each warehouse file, so pointing
`CCP_WAREHOUSE_PATH` at another warehouse under the same Dagster instance still gets its run.
A requested release the warehouse still lacks once every run for it has ended (failed: BLS was
mid-publication, a 403, a network error) is requested again at the next tick, under a new key,
up to MAX_ATTEMPTS runs in all.
Both start stopped: turn them on in the UI (Automation) under `dagster dev`, whose daemon runs
them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from urllib.parse import urljoin

import duckdb
from dagster import (
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    ScheduleEvaluationContext,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    schedule,
    sensor,
)

from pipelines.releases import RELEASES, add_release
from pipelines.resources import SourcesResource
from pipelines.sources.files import SourceError
from pipelines.sources.oews import read_release_codes
from pipelines.warehouse import WarehouseResource

JOB = "refresh_warehouse"
# BLS publishes the May OEWS estimates each spring (late March to early April); mid-April leaves
# room for a late release. The sensor catches any other timing.
ANNUAL_CRON = "0 6 15 4 *"
TIMEZONE = "America/New_York"
log = logging.getLogger(__name__)
ENDED = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}
# a release whose runs keep failing (a cause no wait will mend: a parser, a policy file) is
# asked for this many times, then left to the researcher
MAX_ATTEMPTS = 5


def published_releases(sources: SourcesResource) -> list[str]:
    """Release codes in BLS's current `oe.release` (e.g. ['2025A01']), via the cache."""
    url = urljoin(sources.bls_base_url, "oe.release")
    with sources.downloader(log) as downloader:
        file = downloader.fetch(url, source="oews-release-check", name="oe.release", expect="text")
    return read_release_codes(file)


def warehouse_releases(path: Path) -> set[str] | None:
    """Releases the warehouse holds; None when the file is busy (a run is writing)."""
    if not path.exists():
        return set()
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.IOException:
        return None
    try:
        tables = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
        if "stg_oews__release" not in tables:
            return set()
        return {r[0] for r in con.execute("SELECT release_code FROM stg_oews__release").fetchall()}
    finally:
        con.close()


def requested_releases(cursor: str | None, warehouse: str) -> dict[str, str]:
    """The sensor's cursor: warehouse file -> the last release requested for it. A cursor from
    before there was one entry per warehouse (a bare release code) stands for this warehouse."""
    if not cursor:
        return {}
    if not cursor.startswith("{"):
        return {warehouse: cursor}
    try:
        entries = json.loads(cursor)
    except ValueError:  # set by hand in the UI, say: forget it rather than fail every tick
        return {}
    if not isinstance(entries, dict):
        return {}
    return {str(k): str(v) for k, v in entries.items()}


def earlier_runs(context: SensorEvaluationContext, release: str, key: str) -> list:
    """The runs this sensor requested for `release` and this warehouse (run key `key`, or
    `key-N` for a retry), newest first."""
    runs = context.instance.get_runs(filters=RunsFilter(tags={"ccp/oews_release": release}))
    return [
        run
        for run in runs
        if (run_key := run.tags.get("dagster/run_key", "")) == key or run_key.startswith(f"{key}-")
    ]


@sensor(
    job_name=JOB,
    minimum_interval_seconds=6 * 3600,
    default_status=DefaultSensorStatus.STOPPED,
    description="Polls BLS's oe.release (conditional GET) and requests one refresh per OEWS "
    "release the warehouse doesn't hold yet. Needs CCP_CONTACT; runs only in live mode. "
    "Settings are read when the UI starts: after setting one, restart make dev.",
)
def oews_new_release_sensor(
    context: SensorEvaluationContext, sources: SourcesResource, warehouse: WarehouseResource
):
    if not sources.contact:
        return SkipReason("BLS requires a contact in the User-Agent: set CCP_CONTACT.")
    try:
        published = published_releases(sources)
    except SourceError as err:
        return SkipReason(f"could not read oe.release: {err}")
    path = Path(warehouse.database).resolve()
    held = warehouse_releases(path)
    if held is None:
        return SkipReason("the warehouse is busy (a run is writing); will check again next tick.")
    requested = requested_releases(context.cursor, str(path))
    new = [code for code in published if code not in held]
    if not new:
        return SkipReason(
            f"BLS's current release {', '.join(published) or '(none)'} is already in the "
            f"warehouse ({path})."
        )
    release = new[-1]
    key = f"oews-{release}-{hashlib.sha256(bytes(path)).hexdigest()[:12]}"
    if release == requested.get(str(path)):
        runs = earlier_runs(context, release, key)
        if not runs:  # requested, and its run not recorded (yet): don't ask twice
            return SkipReason(f"OEWS {release} was already requested for the warehouse ({path}).")
        if any(run.status not in ENDED for run in runs):
            return SkipReason(f"OEWS {release} is being loaded: run {runs[0].run_id} is not over.")
        if len(runs) >= MAX_ATTEMPTS:
            return SkipReason(
                f"OEWS {release} is still not in the warehouse after {len(runs)} runs; the last, "
                f"{runs[0].run_id}, ended {runs[0].status.value}. The sensor stops asking: its "
                f"log says what went wrong; once that is mended, `ccp run --release {release}` "
                "(live mode) loads it."
            )
        context.log.info(
            f"OEWS {release} is still not in the warehouse: its run {runs[0].run_id} ended "
            f"{runs[0].status.value}. Requesting it again."
        )
        key = f"{key}-{len(runs) + 1}"
    if sources.source_mode != "live":
        return SkipReason(
            f"BLS has published OEWS {release}, which the warehouse doesn't hold. Set "
            "CCP_SOURCE_MODE=live (and CCP_CONTACT) to ingest it; the offline snapshot can't."
        )
    return SensorResult(
        run_requests=[
            RunRequest(run_key=key, partition_key=release, tags={"ccp/oews_release": release})
        ],
        dynamic_partitions_requests=[RELEASES.build_add_request([release])],
        cursor=json.dumps({**requested, str(path): release}, sort_keys=True),
    )


@schedule(
    job_name=JOB,
    cron_schedule=ANNUAL_CRON,
    execution_timezone=TIMEZONE,
    default_status=DefaultScheduleStatus.STOPPED,
    description="Annual refresh of every source and everything downstream, mid-April (after "
    "BLS's spring OEWS release), for the release the configured source holds: BLS's current "
    "one in live mode; offline, the embedded snapshot's, so it rebuilds the same release "
    "(with the sources and rules as they are then).",
)
def annual_refresh(
    context: ScheduleEvaluationContext, sources: SourcesResource
) -> RunRequest | SkipReason:
    """Refresh the release the configured source holds (BLS's current one in live mode), not
    a history backfill's year left configured (the sensor does the same)."""
    year = context.scheduled_execution_time.year
    try:
        release = sources.current_release(log, backfill=False)
    except SourceError as err:
        return SkipReason(f"could not tell which OEWS release to refresh: {err}")
    # a schedule can't return partition requests: add the release here (idempotent)
    add_release(context.instance, release)
    return RunRequest(
        run_key=f"annual-{year}-{release}",
        partition_key=release,
        tags={"ccp/trigger": "schedule", "ccp/oews_release": release},
    )


AUTOMATION = [oews_new_release_sensor, annual_refresh]
