"""A release BLS publishes again. Cut at a line end by a server that did not say its length
(no Content-Length, not chunked), the download looks whole, so staging must see the cut in the
rows, refuse it, keep the previous tables and let the next run recover. Revised, it replaces
the release's estimates, and the run says so."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize

from assets.sources import raw_oews
from assets.staging import stg_oews__estimates
from pipelines.releases import add_release
from pipelines.resources import NO_VALUES_IO_MANAGER, SourcesResource, warehouse_from_settings
from tests.support.blsformat import export_embedded_release, open_embedded_release
from tests.support.loopback import LoopbackServer, Response
from tests.support.pipeline import failure_text, isolated_settings, read, table_digests

DATA = "oe.data.0.Current"
CODE_FILES = ["oe.area", "oe.industry", "oe.occupation", "oe.datatype", "oe.footnote", "oe.release"]
# every area's cross-industry, all-occupations cell: a file in which every listed area has rows
EVERY_AREA = "substr(key, 12) = '000000000000'"


@pytest.fixture(scope="module")
def every_area(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bls-every-area")
    export_embedded_release(
        open_embedded_release(tmp_path_factory.mktemp("sqlite")), out, cell_filter_sql=EVERY_AREA
    )
    return out


def serve(server: LoopbackServer, folder: Path, data: bytes) -> None:
    """The code lists of `folder` and `data` as the data file, each with an ETag."""
    for name in CODE_FILES:
        server.add(f"/oe/{name}", (folder / name).read_bytes(), etag=f'"{name}"')
    server.add(f"/oe/{DATA}", data, etag='"v1"')


def load_whole(tmp_path: Path, server: LoopbackServer, every_area: Path):
    """The first, good ingest of the whole file: (its bytes, the run's result, its settings)."""
    whole = (every_area / DATA).read_bytes()
    serve(server, every_area, whole)
    result, settings = ingest(tmp_path, server)
    assert result.success, failure_text(result)
    return whole, result, settings


def staged(warehouse: Path) -> dict[str, str]:
    """The staged OEWS tables' digests (the raw ones record every fetch, refused or not)."""
    return {t: d for t, d in table_digests(warehouse).items() if t.startswith("stg_oews__")}


def ingest(folder: Path, server: LoopbackServer, instance: DagsterInstance | None = None):
    """The OEWS ingest alone (raw_oews + stg_oews__estimates), live from `server`."""
    settings = isolated_settings(
        folder, source_mode="live", contact="ccp-tests@example.org", bls_base_url=server.url("/oe/")
    )
    sources = SourcesResource.from_settings(settings)
    instance = instance or DagsterInstance.ephemeral()
    release = sources.current_release()
    add_release(instance, release)
    result = materialize(
        [raw_oews, stg_oews__estimates],
        resources={
            "warehouse": warehouse_from_settings(settings),
            "sources": sources,
            "io_manager": NO_VALUES_IO_MANAGER,
        },
        instance=instance,
        partition_key=release,
        raise_on_error=False,
    )
    return result, settings


def test_a_data_file_cut_at_a_line_end_is_refused_and_the_next_run_recovers(
    tmp_path: Path, loopback_server: LoopbackServer, every_area: Path
) -> None:
    whole, result, settings = load_whole(tmp_path, loopback_server, every_area)
    areas = read(
        settings.warehouse, "SELECT count(DISTINCT area_code) AS n FROM stg_oews__estimates"
    )
    assert areas["n"][0] == 583  # the fixture's premise: every area BLS lists has rows
    before = staged(settings.warehouse)

    # BLS re-publishes the file; the connection drops at a line end 90% of the way in, and
    # the server said no length: the client cannot tell the cut from the end of the file
    cut = whole[: whole.index(b"\r\n", int(len(whole) * 0.9)) + 2]
    loopback_server.add_sequence(f"/oe/{DATA}", [Response.close_delimited(cut, etag='"v2"')])
    result, _ = ingest(tmp_path, loopback_server)
    assert not result.success
    message = failure_text(result)
    assert f"oews ({DATA})" in message and "the file ends early: the last " in message
    assert "of the 583 areas oe.area lists" in message and "(Virgin Islands" not in message
    assert "Run again" in message and "set aside" in message
    assert staged(settings.warehouse) == before
    cache = tmp_path / "cache" / "oews"
    assert (cache / f"{DATA}.refused").read_bytes() == cut
    assert (cache / DATA).read_bytes() == whole  # the copy it replaced is back

    # the publisher serves the whole file again: the next run loads it
    loopback_server.add(f"/oe/{DATA}", whole, etag='"v1"')
    result, _ = ingest(tmp_path, loopback_server)
    assert result.success, failure_text(result)
    assert loopback_server.requests_for(f"/oe/{DATA}")[-1].status == 304  # the good copy, kept
    after = staged(settings.warehouse)  # stg_oews__files: the same file, checked again
    assert after["stg_oews__estimates"] == before["stg_oews__estimates"]
    recorded = read(
        settings.warehouse, "SELECT sha256 FROM stg_oews__files WHERE file_name = ?", [DATA]
    )
    assert recorded["sha256"].to_list() == [hashlib.sha256(whole).hexdigest()]


def test_a_whole_file_without_rows_for_the_last_area_loads_with_a_warning(
    tmp_path: Path, loopback_server: LoopbackServer, every_area: Path
) -> None:
    """The same pattern as a cut, from a server that said the length: BLS may have published
    nothing for the Virgin Islands (the area that sorts last), so the file loads, with a
    warning, rather than being refused on every run."""
    whole = (every_area / DATA).read_bytes()
    lines = whole.split(b"\r\n")
    without = b"\r\n".join(line for line in lines if not line.startswith(b"OEUS78"))
    assert len(without) < len(whole)
    serve(loopback_server, every_area, without)
    instance = DagsterInstance.ephemeral()
    result, settings = ingest(tmp_path, loopback_server, instance)
    assert result.success, failure_text(result)
    logged = [e.user_message for e in instance.all_logs(result.run_id) if e.level >= 30]
    expected = (
        f"[oews ({DATA})] the last of the 583 areas oe.area lists (Virgin Islands) has no rows: "
        "BLS published none for it, or the file is a partial copy"
    )
    assert any(m.startswith(expected) for m in logged), logged
    areas = read(settings.warehouse, "SELECT count(DISTINCT area_code) n FROM stg_oews__estimates")
    assert areas["n"][0] == 582


def test_a_revised_release_replaces_its_estimates_and_says_so(
    tmp_path: Path, loopback_server: LoopbackServer, every_area: Path
) -> None:
    whole, result, settings = load_whole(tmp_path, loopback_server, every_area)
    assert "files_changed_since_staged" not in estimates_event(result).metadata

    # national all-occupations employment, revised by BLS in place (same width, same layout)
    national = b"OEUN000000000000000000001     \t2025\tA01\t"
    start = whole.index(national) + len(national)
    old = whole[start : whole.index(b"\t", start)]
    new = old.replace(b"155495730", b"155495731")
    assert new != old
    revised = whole[:start] + new + whole[start + len(old) :]
    loopback_server.add(f"/oe/{DATA}", revised, etag='"v2"')
    instance = DagsterInstance.ephemeral()
    result, _ = ingest(tmp_path, loopback_server, instance)
    assert result.success, failure_text(result)
    said = estimates_event(result).metadata["files_changed_since_staged"].value
    was, now = hashlib.sha256(whole).hexdigest()[:12], hashlib.sha256(revised).hexdigest()[:12]
    assert said == f"{DATA} changed (sha256 {was}… → {now}…)"
    logged = [e.user_message for e in instance.all_logs(result.run_id) if e.level >= 30]
    expected = f"2025A01 was staged before from other files: {said}. BLS revised the release"
    assert any(m.startswith(expected) for m in logged), logged
    employment = read(
        settings.warehouse,
        "SELECT employment_count FROM stg_oews__estimates WHERE area_code = '0000000' "
        "AND industry_code = '000000' AND occupation_code = '000000'",
    )
    assert employment["employment_count"].to_list() == [155_495_731]


def estimates_event(result):
    """The run's materialization of stg_oews__estimates (its step also writes stg_oews__files)."""
    [event] = [
        m
        for m in result.asset_materializations_for_node("stg_oews__estimates")
        if m.asset_key.path == ["stg_oews__estimates"]
    ]
    return event
