"""The live path: BLS-format flat files (and Census/BLS workbooks) served from 127.0.0.1.

The files are written from the embedded release in BLS's exact layout (space padding, CRLF,
`-` with footnote codes), so the live path must produce the same staging rows as the embedded
path for the same cells.
"""

from __future__ import annotations

import html
import tempfile
import zipfile
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from pipelines.resources import SourcesResource
from pipelines.sources.files import SourceError
from tests.support.blsformat import export_embedded_release, open_embedded_release
from tests.support.crosswalk_workbook import SAMPLE_ROWS, write_crosswalk_workbook
from tests.support.loopback import LoopbackServer, Response
from tests.support.pipeline import (
    SHARED_DATA,
    failure_text,
    isolated_settings,
    read,
    run_refresh,
    shared_embedded_build,
    table_digests,
)

# National cross-industry, California cross-industry, hospitals (industry detail), and cells
# carrying each footnote convention (5: at/above the top code, 8: not released).
CELLS = (
    "key LIKE 'OEUN0000000000000%' OR key LIKE 'OEUS0600000000000%' "
    "OR key LIKE 'OEUN0000000622000%' "
    "OR key IN (SELECT key FROM cell WHERE f15 = '5' LIMIT 25) "
    "OR key IN (SELECT key FROM cell WHERE f01 = '8' LIMIT 25)"
)
NAICS_XLSX = SHARED_DATA / "naics" / "2-6 digit_2022_Codes.xlsx"
SOC_XLSX = SHARED_DATA / "soc" / "soc_structure_2018.xlsx"
EP_XLSX = SHARED_DATA / "ep" / "occupation_2024-34.xlsx"
ONET_DIR = SHARED_DATA / "onet"
# A small crosswalk in Advance CTE's published layout (the project ships none of the real one).
CROSSWALK = write_crosswalk_workbook(
    Path(tempfile.mkdtemp(prefix="ccp-crosswalk-")) / "crosswalk.xlsx", SAMPLE_ROWS
)
FILES = [
    "oe.data.0.Current",
    "oe.area",
    "oe.industry",
    "oe.occupation",
    "oe.datatype",
    "oe.footnote",
    "oe.release",
]


@pytest.fixture(scope="module")
def bls_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bls")
    sqlite = open_embedded_release(tmp_path_factory.mktemp("sqlite"))
    export_embedded_release(sqlite, out, cell_filter_sql=CELLS)
    return out


@pytest.fixture(scope="module")
def onet_zip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """An O*NET text-database zip in the publisher's layout, built from the reference files."""
    path = tmp_path_factory.mktemp("onet") / "db_29_1_text.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in ("Job Zones.txt", "Job Zone Reference.txt"):
            archive.write(ONET_DIR / name, f"db_29_1_text/{name}")
    return path.read_bytes()


@pytest.fixture(scope="module")
def embedded_warehouse() -> Path:
    return shared_embedded_build().warehouse


def serve(server: LoopbackServer, bls_files: Path, onet: bytes, **overrides: Response) -> None:
    for name in FILES:
        body = (bls_files / name).read_bytes()
        if name in overrides:
            server.add_sequence(f"/oe/{name}", [overrides[name]])
        else:
            server.add(f"/oe/{name}", body, etag=f'"{name}-1"', content_type="text/plain")
    server.add("/naics.xlsx", NAICS_XLSX.read_bytes(), etag='"naics-1"')
    server.add("/soc.xlsx", SOC_XLSX.read_bytes(), etag='"soc-1"')
    server.add("/emp/occupation.xlsx", EP_XLSX.read_bytes(), etag='"ep-1"')
    server.add("/onet/db_29_1_text.zip", onet, etag='"onet-1"')
    server.add("/crosswalk.xlsx", CROSSWALK.read_bytes(), etag='"crosswalk-1"')


def oews_digests(warehouse: Path) -> dict[str, str]:
    digests = table_digests(warehouse)
    assert len([t for t in digests if "oews" in t]) >= 12
    return {t: d for t, d in digests.items() if "oews" in t}


def live_settings(tmp: Path, server: LoopbackServer, **overrides: object):
    """Live mode with every publisher URL pointing at the loopback server."""
    return isolated_settings(
        tmp,
        source_mode="live",
        contact="ccp-tests@example.org",
        bls_base_url=server.url("/oe/"),
        naics_url=server.url("/naics.xlsx"),
        soc_url=server.url("/soc.xlsx"),
        ep_url=server.url("/emp/occupation.xlsx"),
        onet_url=server.url("/onet/db_29_1_text.zip"),
        crosswalk_url=server.url("/crosswalk.xlsx"),
        **overrides,
    )


def test_live_path_matches_embedded(
    tmp_path: Path,
    loopback_server: LoopbackServer,
    bls_files: Path,
    onet_zip: bytes,
    embedded_warehouse: Path,
) -> None:
    serve(loopback_server, bls_files, onet_zip)
    settings = live_settings(tmp_path, loopback_server)
    result = run_refresh(settings)
    assert result.success, failure_text(result)
    # The cell checks' counts (computed while the file is typed) match the served file's lines.
    lines = (bls_files / "oe.data.0.Current").read_text().splitlines()[1:]
    values = [line.split("\t")[3].strip() for line in lines]
    (event,) = [
        m
        for m in result.get_asset_materialization_events()
        if m.asset_key.to_user_string() == "stg_oews__estimates"
    ]
    meta = {k: v.value for k, v in event.materialization.metadata.items()}
    assert meta["value_count"] == len(values) > 2_000
    assert meta["dash_count"] == values.count("-") > 0
    assert meta["dash_without_footnote_count"] == 0

    live = read(settings.warehouse, "SELECT * FROM stg_oews__estimates ORDER BY ALL")
    keys = live.select("area_code", "industry_code", "occupation_code")
    assert live.height > 2_000
    embedded = read(embedded_warehouse, "SELECT * FROM stg_oews__estimates ORDER BY ALL")
    assert_frame_equal(live, embedded.join(keys, on=keys.columns, how="semi"))
    # The footnote conventions made it through the padded, CRLF text unchanged.
    assert live["has_top_coded_wage"].sum() >= 25
    assert live.filter(pl.col("employment_count_footnote_codes") == "8").height >= 25

    for table in ("stg_oews__areas", "stg_oews__industries", "stg_oews__occupations"):
        assert_frame_equal(
            read(settings.warehouse, f"SELECT * FROM {table} ORDER BY ALL"),
            read(embedded_warehouse, f"SELECT * FROM {table} ORDER BY ALL"),
        )
    # Live code lists come from the publishers' workbooks, with the same NAICS codes.
    soc = read(settings.warehouse, "SELECT soc_level, count(*) AS n FROM stg_soc__codes GROUP BY 1")
    assert dict(soc.iter_rows()) == {"major": 23, "minor": 98, "broad": 459, "detailed": 867}
    assert_frame_equal(
        read(settings.warehouse, "SELECT naics_code, naics_title FROM stg_naics__codes ORDER BY 1"),
        read(embedded_warehouse, "SELECT naics_code, naics_title FROM stg_naics__codes ORDER BY 1"),
    )

    files = read(settings.warehouse, "SELECT * FROM raw_oews__files ORDER BY file_name")
    assert files["file_name"].to_list() == sorted(FILES)
    data = files.filter(pl.col("file_name") == "oe.data.0.Current").row(0, named=True)
    assert data["url"] == loopback_server.url("/oe/oe.data.0.Current")
    assert data["size_bytes"] == (bls_files / "oe.data.0.Current").stat().st_size
    assert data["etag"] == '"oe.data.0.Current-1"' and data["is_from_cache"] is False
    sources = read(settings.warehouse, "SELECT * FROM raw_sources__files ORDER BY source")
    assert sources["is_used"].all()
    onet = sources.filter(pl.col("source") == "onet").row(0, named=True)
    assert "O*NET 29.1 Database" in onet["note"] and "CC BY 4.0" in onet["note"]
    tiers = read(settings.warehouse, "SELECT skill_tier_source, count(*) AS n "
                                     "FROM int_qualify__skill_tiers GROUP BY 1")  # fmt: skip
    assert dict(tiers.iter_rows()) == {"ep": 830}
    index = next(settings.output.glob("*/index.html")).read_text(encoding="utf-8")
    text = " ".join(html.unescape(index).split())
    assert "Skill tier from BLS Employment Projections' typical entry education" in text
    assert "Where that does not cover" not in text and "first choice" not in text
    assert "Provisional" not in index  # EP for every tier, and the crosswalk: no own rules
    assert "Employment projections: BLS Employment Projections program." in index
    assert "CC BY 4.0" not in index  # O*NET's attribution only where its Job Zones were used
    # with EP loaded, the occupations table has its education and training column
    page = next(settings.output.glob("*/digital-technology.html")).read_text(encoding="utf-8")
    assert ">Typical education / training</th>" in page
    row = page[page.index("<td data-search>15-1252</td>") :]
    assert "Bachelor&#39;s degree" in row[: row.index("</tr>")]
    layers = read(settings.warehouse, "SELECT DISTINCT layer FROM out_clusters__occupation_cluster")
    assert set(layers["layer"]) == {"official", "rules"}
    agents = {r.header("User-Agent") for r in loopback_server.requests}
    assert agents == {"career-cluster-profiles/0.1 (contact: ccp-tests@example.org)"}

    # Second run: every file answers 304, the cache is reused, the tables are unchanged.
    before = table_digests(settings.warehouse)
    loopback_server.clear_requests()
    assert run_refresh(settings).success
    assert all(r.header("If-None-Match") for r in loopback_server.requests)
    files = read(settings.warehouse, "SELECT is_from_cache FROM raw_oews__files")
    assert files["is_from_cache"].all()
    after = table_digests(settings.warehouse)
    # check times and ingest time
    changing = {"raw_oews__files", "stg_oews__files", "stg_oews__release"}
    assert {k: v for k, v in before.items() if k not in changing} == {
        k: v for k, v in after.items() if k not in changing
    }


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (Response.error(403, b"Forbidden"), "User-Agent"),
        (Response.html_page(), "web page"),
        (Response.truncated(b"series_id\tyear\n" * 200), "shorter"),
    ],
    ids=["403", "html-error-page", "truncated"],
)
def test_failed_download_keeps_previous_tables(
    tmp_path: Path,
    loopback_server: LoopbackServer,
    bls_files: Path,
    onet_zip: bytes,
    response: Response,
    expected: str,
) -> None:
    serve(loopback_server, bls_files, onet_zip)
    settings = live_settings(tmp_path, loopback_server)
    assert run_refresh(settings).success
    before = oews_digests(settings.warehouse)

    # Next refresh: the server now misbehaves on the data file, and there is no usable 304
    # (the cache was cleared, as on a new machine).
    fresh = LoopbackServer()
    with fresh:
        serve(fresh, bls_files, onet_zip, **{"oe.data.0.Current": response})
        settings2 = live_settings(tmp_path, fresh, cache_dir=tmp_path / "fresh-cache")
        result = run_refresh(settings2)
    assert not result.success
    message = failure_text(result)
    assert expected in message and "oe.data.0.Current" in message
    # Every OEWS table is as it was (the independent NAICS/SOC steps may refresh).
    assert oews_digests(settings.warehouse) == before


def test_server_error_then_success(
    tmp_path: Path, loopback_server: LoopbackServer, bls_files: Path, onet_zip: bytes
) -> None:
    body = (bls_files / "oe.release").read_bytes()
    serve(loopback_server, bls_files, onet_zip, **{"oe.release": Response.error(500)})
    loopback_server.add_sequence("/oe/oe.release", [Response.error(500), Response(body=body)])
    settings = live_settings(tmp_path, loopback_server)
    result = run_refresh(settings)  # finds the release first (oe.release: 500, then 200)
    assert result.success, failure_text(result)
    # the release check retried after the 500; the run's own fetch then got the file
    statuses = [r.status for r in loopback_server.requests_for("/oe/oe.release")]
    assert statuses == [500, 200, 200]


def test_live_download_refused_without_contact(
    tmp_path: Path, loopback_server: LoopbackServer, bls_files: Path, onet_zip: bytes
) -> None:
    serve(loopback_server, bls_files, onet_zip)
    settings = isolated_settings(
        tmp_path, source_mode="live", bls_base_url=loopback_server.url("/oe/")
    )
    with pytest.raises(SourceError, match="CCP_CONTACT"):  # `ccp run` finding the release
        SourcesResource.from_settings(settings).current_release()
    result = run_refresh(settings, release="2025A01")  # a run of a named partition
    assert not result.success
    assert "CCP_CONTACT" in failure_text(result)
    assert loopback_server.requests == []


def test_local_copy(tmp_path: Path, bls_files: Path, embedded_warehouse: Path) -> None:
    settings = isolated_settings(tmp_path, oews_local_dir=bls_files)
    result = run_refresh(settings)
    assert result.success, failure_text(result)
    release = read(settings.warehouse, "SELECT source_mode, source_label FROM stg_oews__release")
    assert release.row(0)[0] == "local"
    assert str(bls_files) in release.row(0)[1]
    count = read(settings.warehouse, "SELECT count(*) AS n FROM stg_oews__estimates")["n"][0]
    lines = (bls_files / "oe.data.0.Current").read_text().splitlines()[1:]
    assert count == len({line[:23] for line in lines})  # one row per cell (series minus datatype)


def test_data_file_changed_after_its_fetch_is_refused_by_staging(
    tmp_path: Path, loopback_server: LoopbackServer, bls_files: Path, onet_zip: bytes
) -> None:
    """Staging re-checks the cached file against the sha256 recorded at fetch time. This process
    hashed it moments before, so an untouched file is not read again; an edited one (same size,
    other bytes) must still be caught."""
    from dagster import DagsterInstance, materialize

    from assets.staging import stg_oews__estimates
    from pipelines.releases import add_release
    from pipelines.resources import warehouse_from_settings

    serve(loopback_server, bls_files, onet_zip)
    settings = live_settings(tmp_path, loopback_server)
    assert run_refresh(settings).success
    before = oews_digests(settings.warehouse)
    resources = {
        "warehouse": warehouse_from_settings(settings),
        "sources": SourcesResource.from_settings(settings),
    }
    instance = DagsterInstance.ephemeral()
    add_release(instance, "2025A01")

    def stage() -> object:
        return materialize(
            [stg_oews__estimates],
            resources=resources,
            instance=instance,
            partition_key="2025A01",
            raise_on_error=False,
        )

    assert stage().success  # unchanged file: accepted
    [data] = [p for p in settings.cache.rglob("oe.data.0.Current") if p.is_file()]
    body = bytearray(data.read_bytes())
    at = body.index(b"\t2025\tA01\t") + len(b"\t2025\tA01\t")
    while not chr(body[at]).isdigit():
        at += 1
    body[at] = ord("1") if body[at] != ord("1") else ord("2")  # one digit of one value
    data.write_bytes(bytes(body))
    result = stage()
    assert not result.success
    assert "changed or disappeared since it was fetched" in failure_text(result)
    assert oews_digests(settings.warehouse) == before
