"""The new-release sensor against a loopback BLS, and the annual schedule."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from dagster import (
    DagsterInstance,
    DagsterRunStatus,
    RunRequest,
    SensorResult,
    SkipReason,
    build_schedule_context,
    build_sensor_context,
    instance_for_test,
)

from pipelines.automation import (
    ANNUAL_CRON,
    JOB,
    MAX_ATTEMPTS,
    annual_refresh,
    oews_new_release_sensor,
)
from pipelines.definitions import build_definitions
from pipelines.releases import RELEASES
from pipelines.resources import SourcesResource, warehouse_from_settings
from pipelines.settings import Settings
from tests.support.loopback import LoopbackServer
from tests.support.pipeline import isolated_settings

CONTACT = "ccp-tests@example.org"


def release_file(code: str, name: str) -> bytes:
    """oe.release as BLS writes it: tab-separated, CRLF."""
    return f"release_date\tdescription\r\n{code}\t{name}\r\n".encode()


def warehouse_holding(path: Path, *codes: str) -> None:
    """A real DuckDB warehouse whose release table (all the sensor reads) holds `codes`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE TABLE stg_oews__release (release_code VARCHAR, release_name VARCHAR)")
        for code in codes:
            con.execute("INSERT INTO stg_oews__release VALUES (?, ?)", [code, code])
    finally:
        con.close()


def tick(
    settings: Settings, cursor: str | None, instance: DagsterInstance | None = None
) -> tuple[RunRequest | SkipReason, str | None]:
    with build_sensor_context(
        cursor=cursor,
        instance=instance or DagsterInstance.ephemeral(),
        resources={
            "sources": SourcesResource.from_settings(settings),
            "warehouse": warehouse_from_settings(settings),
        },
    ) as context:
        result = oews_new_release_sensor(context)
    if isinstance(result, SensorResult):  # a new release: one run and the partition to add
        [request] = result.run_requests
        [added] = result.dynamic_partitions_requests
        assert added.partitions_def_name == RELEASES.name
        assert list(added.partition_keys) == [request.partition_key]
        return request, result.cursor
    return result, context.cursor


@pytest.fixture
def live(tmp_path: Path, loopback_server: LoopbackServer) -> Settings:
    settings = isolated_settings(
        tmp_path,
        source_mode="live",
        contact=CONTACT,
        bls_base_url=loopback_server.url("/oe/"),
    )
    warehouse_holding(settings.warehouse, "2025A01")
    return settings


def test_sensor_fires_once_per_new_release(live: Settings, loopback_server: LoopbackServer) -> None:
    # 1. BLS still has the release the warehouse holds: no run
    loopback_server.add("/oe/oe.release", release_file("2025A01", "May 2025"))
    result, cursor = tick(live, None)
    assert isinstance(result, SkipReason) and "already in the warehouse" in result.skip_message
    assert cursor is None

    # 2. BLS publishes May 2026: exactly one run, for that release, every report partition
    loopback_server.add("/oe/oe.release", release_file("2026A01", "May 2026"))
    result, cursor = tick(live, cursor)
    assert isinstance(result, RunRequest)
    assert result.run_key.startswith("oews-2026A01-")
    assert json.loads(cursor or "") == {str(live.warehouse.resolve()): "2026A01"}
    assert result.tags["ccp/oews_release"] == "2026A01" and result.partition_key == "2026A01"

    # 3. Same release again (the run has not finished yet): no second run; a cheap 304
    loopback_server.clear_requests()
    result, same_cursor = tick(live, cursor)
    assert isinstance(result, SkipReason) and same_cursor == cursor
    [request] = loopback_server.requests
    assert request.header("If-None-Match") and request.header("User-Agent").endswith(
        f"(contact: {CONTACT})"
    )
    # A cursor written before it had one entry per warehouse (a bare release code) still
    # counts for this warehouse: no second run after an upgrade.
    result, _ = tick(live, "2026A01")
    assert isinstance(result, SkipReason)


def test_sensor_requests_the_release_again_for_another_warehouse(
    tmp_path: Path, live: Settings, loopback_server: LoopbackServer
) -> None:
    """The cursor lives in the Dagster instance, not in the warehouse: a researcher who points
    CCP_WAREHOUSE_PATH at a second warehouse under the same instance still gets its run, with
    its own run key (Dagster runs one request per key), and the first warehouse's entry stays."""
    loopback_server.add("/oe/oe.release", release_file("2026A01", "May 2026"))
    first, cursor = tick(live, None)
    assert isinstance(first, RunRequest)
    other = live.model_copy(update={"warehouse_path": tmp_path / "second" / "warehouse.duckdb"})
    warehouse_holding(other.warehouse, "2025A01")
    second, both = tick(other, cursor)
    assert isinstance(second, RunRequest) and second.partition_key == "2026A01"
    assert second.run_key != first.run_key
    assert json.loads(both or "") == {
        str(live.warehouse.resolve()): "2026A01",
        str(other.warehouse.resolve()): "2026A01",
    }
    again, _ = tick(live, both)
    assert isinstance(again, SkipReason) and "already requested" in again.skip_message


def test_sensor_requests_a_release_again_after_its_run_failed(
    live: Settings, loopback_server: LoopbackServer
) -> None:
    """BLS replaces its files one at a time: a tick mid-publication starts a run that fails
    (oe.release says 2026, the data file is still 2025). The release is requested again at the
    next tick, under a new run key, once that run is over; never while a run for it goes on."""
    from dagster._core.test_utils import create_run_for_test

    loopback_server.add("/oe/oe.release", release_file("2026A01", "May 2026"))
    with instance_for_test() as instance:
        first, cursor = tick(live, None, instance)
        assert isinstance(first, RunRequest)

        def recorded(key: str, status: DagsterRunStatus) -> None:
            tags = {"ccp/oews_release": "2026A01", "dagster/run_key": key}
            create_run_for_test(instance, job_name=JOB, status=status, tags=tags)

        recorded(first.run_key, DagsterRunStatus.STARTED)
        waiting, _ = tick(live, cursor, instance)
        assert isinstance(waiting, SkipReason) and "is being loaded" in waiting.skip_message
        instance.report_run_failed(instance.get_runs()[0])
        retry, cursor = tick(live, cursor, instance)
        assert isinstance(retry, RunRequest) and retry.partition_key == "2026A01"
        assert retry.run_key == f"{first.run_key}-2"
        recorded(retry.run_key, DagsterRunStatus.FAILURE)
        third, _ = tick(live, cursor, instance)
        assert isinstance(third, RunRequest) and third.run_key == f"{first.run_key}-3"
        # a cause no wait mends: after MAX_ATTEMPTS runs the sensor stops asking, and says so
        for n in range(3, MAX_ATTEMPTS + 1):
            recorded(f"{first.run_key}-{n}", DagsterRunStatus.FAILURE)
        given_up, _ = tick(live, cursor, instance)
        assert isinstance(given_up, SkipReason)
        assert f"after {MAX_ATTEMPTS} runs" in given_up.skip_message
        assert "ccp run --release 2026A01" in given_up.skip_message
        # once the warehouse holds it, nothing more
        con = duckdb.connect(str(live.warehouse))
        con.execute("INSERT INTO stg_oews__release VALUES ('2026A01', 'May 2026')")
        con.close()
        done, _ = tick(live, cursor, instance)
        assert isinstance(done, SkipReason) and "already in the warehouse" in done.skip_message


@pytest.mark.parametrize("cursor", ["{not json", '["2026A01"]', "{}"])
def test_a_cursor_the_sensor_cannot_read_is_forgotten_not_fatal(
    live: Settings, loopback_server: LoopbackServer, cursor: str
) -> None:
    """A cursor edited by hand in the UI: every tick would otherwise fail for ever."""
    loopback_server.add("/oe/oe.release", release_file("2026A01", "May 2026"))
    result, written = tick(live, cursor)
    assert isinstance(result, RunRequest) and result.partition_key == "2026A01"
    assert json.loads(written or "") == {str(live.warehouse.resolve()): "2026A01"}


def test_sensor_explains_why_it_cannot_run(
    tmp_path: Path, live: Settings, loopback_server: LoopbackServer
) -> None:
    loopback_server.add("/oe/oe.release", release_file("2026A01", "May 2026"))
    offline = live.model_copy(update={"source_mode": "embedded"})
    result, cursor = tick(offline, None)
    assert isinstance(result, SkipReason) and "CCP_SOURCE_MODE=live" in result.skip_message
    assert cursor is None  # it will ask again once the mode is live

    anonymous = live.model_copy(update={"contact": None})
    result, _ = tick(anonymous, None)
    assert isinstance(result, SkipReason) and "CCP_CONTACT" in result.skip_message

    loopback_server.add("/oe/oe.release", b"<html><body>Access Denied</body></html>", status=403)
    broken = isolated_settings(
        tmp_path / "other", source_mode="live", contact=CONTACT, bls_base_url=live.bls_base_url
    )
    warehouse_holding(broken.warehouse, "2025A01")
    result, cursor = tick(broken, None)
    assert isinstance(result, SkipReason) and "could not read oe.release" in result.skip_message
    assert "403" in result.skip_message and cursor is None


def test_sensor_waits_while_a_run_holds_the_warehouse(
    live: Settings, loopback_server: LoopbackServer
) -> None:
    loopback_server.add("/oe/oe.release", release_file("2026A01", "May 2026"))
    writer = duckdb.connect(str(live.warehouse))  # a run writing: the file is locked
    try:
        import multiprocessing as mp

        ctx = mp.get_context("spawn")
        with ctx.Pool(1) as pool:
            result = pool.apply(_tick_in_other_process, (live.model_dump_json(),))
    finally:
        writer.close()
    assert "busy" in result


def _tick_in_other_process(settings_json: str) -> str:
    settings = Settings.model_validate_json(settings_json)
    result, _ = tick(settings, None)
    return result.skip_message if isinstance(result, SkipReason) else repr(result)


def test_annual_schedule_refreshes_the_current_release_after_the_spring_release(
    tmp_path: Path, loopback_server: LoopbackServer
) -> None:
    defs = build_definitions()
    schedule = defs.resolve_schedule_def("annual_refresh")
    assert schedule.cron_schedule == ANNUAL_CRON == "0 6 15 4 *"
    assert schedule.job_name == "refresh_warehouse"
    loopback_server.add("/oe/oe.release", release_file("2027A01", "May 2027"))
    offline = isolated_settings(tmp_path / "offline")
    live = isolated_settings(
        tmp_path / "live",
        source_mode="live",
        contact=CONTACT,
        bls_base_url=loopback_server.url("/oe/"),
    )
    # a history backfill's setting left in place (README: it may stay) is not the yearly target
    backfilled = live.model_copy(
        update={"oews_xlsx_local_path": tmp_path / "national_M2024_dl.xlsx"}
    )
    # offline: the embedded snapshot's release; live: the one BLS's oe.release names
    for settings, release in ((offline, "2025A01"), (live, "2027A01"), (backfilled, "2027A01")):
        request, partitions = annual_tick(settings)
        assert isinstance(request, RunRequest), request
        assert request.run_key == f"annual-2027-{release}"
        assert request.partition_key == release
        # the partition exists before the run starts (a schedule can't return requests)
        assert partitions == [release]
    # a backfill workbook whose name hides its year: any run would read it, so the schedule
    # skips, saying why, rather than load it as the current release
    unnamed = live.model_copy(update={"oews_xlsx_local_path": tmp_path / "may2024.xlsx"})
    skipped, _ = annual_tick(unnamed)
    assert isinstance(skipped, SkipReason)
    assert "may2024.xlsx is not named like BLS's national workbook" in skipped.skip_message


def annual_tick(settings: Settings) -> tuple[RunRequest | SkipReason, list[str]]:
    """The schedule's tick of 15 April 2027 on a fresh instance, and the partitions then."""
    with (
        instance_for_test() as instance,
        build_schedule_context(
            instance=instance,
            scheduled_execution_time=dt.datetime(2027, 4, 15, 6, tzinfo=dt.UTC),
            resources={"sources": SourcesResource.from_settings(settings)},
        ) as context,
    ):
        return annual_refresh(context), instance.get_dynamic_partitions(RELEASES.name)


def test_no_values_pass_between_steps(tmp_path: Path) -> None:
    """Assets write tables and return metadata only: the code location's IO manager stores
    nothing, and an asset that returns a value, or asks for one, fails saying what to do."""
    from dagster import DagsterInstance, asset, materialize

    io_manager = build_definitions(isolated_settings(tmp_path)).resources["io_manager"]

    @asset
    def returns_a_frame() -> list[int]:
        return [1, 2]

    @asset
    def reads_a_value(returns_a_frame: list[int]) -> None:
        del returns_a_frame

    def failure(assets: list, selection: list[str]) -> str:
        with DagsterInstance.ephemeral() as instance:
            result = materialize(
                assets,
                selection=selection,
                resources={"io_manager": io_manager},
                instance=instance,
                raise_on_error=False,
            )
        assert not result.success
        event = next(e for e in result.all_events if e.is_step_failure)
        return event.step_failure_data.error.to_string()

    stored = failure([returns_a_frame], ["returns_a_frame"])
    assert "produced a value (list)" in stored and "return metadata only" in stored
    loaded = failure([returns_a_frame, reads_a_value], ["reads_a_value"])
    assert "input 'returns_a_frame' of reads_a_value asks for an upstream value" in loaded
    assert "deps=" in loaded
