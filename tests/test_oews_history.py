"""History backfill: an earlier OEWS release from BLS's national workbook, beside the current one.

Reads the May 2024 workbook from ../shared/data (tests only; never copied into the project).
"""

from __future__ import annotations

import hashlib
import html
import zipfile
from pathlib import Path

import duckdb
import polars as pl
import pytest
import xlsxwriter

from pipelines.settings import PROJECT_ROOT
from pipelines.sources.files import SourceError
from pipelines.sources.oews_xlsx import COLUMNS, read_national_workbook
from pipelines.warehouse_summary import summary
from tests.support.crosswalk_workbook import SAMPLE_ROWS, write_crosswalk_workbook
from tests.support.loopback import LoopbackServer
from tests.support.pipeline import (
    SHARED_DATA,
    failure_text,
    isolated_settings,
    read,
    run_refresh,
    table_digests,
)

WORKBOOK = SHARED_DATA / "oews" / "national_M2024_dl.xlsx"
SOC_STRUCTURE = SHARED_DATA / "soc" / "soc_structure_2018.xlsx"
pytestmark = pytest.mark.skipif(not WORKBOOK.exists(), reason="needs ../shared/data")

NATIONAL = "area_code = '0000000' AND industry_code = '000000'"
CHANGES_2025 = "SELECT * FROM out_profiles__cluster_changes WHERE release_code = '2025A01'"


def test_workbook_becomes_the_shared_cells_shape() -> None:
    frames, cells = read_national_workbook(WORKBOOK, "2024", "test")
    # 1,403 rows; the 7 broad codes published as detailed appear twice and are kept once
    assert cells.height == 1_396 and cells["cell_key"].is_unique().all()
    software = cells.filter(pl.col("cell_key") == "OEUN0000000000000151252").row(0, named=True)
    assert (software["v01"], software["v08"], software["v13"]) == ("1654440", "63.98", "133080")
    # markers: '#' -> '-' + footnote 5; '*' on the unpublished side of ANNUAL/HOURLY -> 4
    assert cells.filter(pl.col("f08") == "5").height == 19  # H_MEDIAN '#'
    assert cells.filter(pl.col("f08") == "4").height == 83  # H_MEDIAN '*' (ANNUAL=TRUE)
    assert cells.filter(pl.col("f13") == "5").height == 19  # A_MEDIAN '#'
    assert cells.filter(pl.col("f13") == "4").height == 7  # A_MEDIAN '*' (HOURLY=TRUE)
    assert (cells["v08"] == "-").sum() == 19 + 83
    assert cells["v16"].null_count() == cells.height  # no per-1,000 or LQ nationally
    assert frames["release"].row(0) == ("2024A01", "May 2024")
    assert "$115.00 per hour or $239,200 per year" in frames["footnote"]["footnote_text"][1]
    levels = dict(frames["occupation"].group_by("display_level").len().iter_rows())
    assert levels == {"0": 23, "1": 94, "2": 448, "3": 831}


def test_backfill_adds_may_2024_and_leaves_may_2025_untouched(tmp_path: Path) -> None:
    current = isolated_settings(tmp_path)
    assert run_refresh(current).success
    before = read(current.warehouse, "SELECT * FROM stg_oews__estimates ORDER BY ALL")
    outputs = ("out_profiles__cluster_summary", "out_clusters__occupation_cluster")
    outputs_before = {
        t: read(current.warehouse, f"SELECT * FROM {t} ORDER BY ALL") for t in outputs
    }
    pages_before = {p.name: p.read_bytes() for p in (current.output / "2025A01").glob("*.html")}

    history = isolated_settings(
        tmp_path, oews_xlsx_local_path=WORKBOOK, soc_local_path=SOC_STRUCTURE
    )
    result = run_refresh(history)
    assert result.success, failure_text(result)

    releases = read(current.warehouse, "SELECT * FROM stg_oews__release ORDER BY release_code")
    assert releases["release_code"].to_list() == ["2024A01", "2025A01"]
    may_2024 = releases.row(0, named=True)
    assert (
        may_2024["source_mode"] == "xlsx" and "national_M2024_dl.xlsx" in may_2024["source_label"]
    )
    assert (may_2024["top_code_hourly_usd"], may_2024["top_code_annual_usd"]) == (115.0, 239200.0)

    rows = read(
        current.warehouse,
        f"SELECT release_code, occupation_code, employment_count, wage_hourly_median_usd, "
        f"wage_annual_median_usd, wage_annual_median_usd_footnote_codes "
        f"FROM stg_oews__estimates WHERE {NATIONAL} "
        "AND occupation_code IN ('000000', '151252', '291023') ORDER BY 1, 2",
    )
    assert rows.rows() == [
        ("2024A01", "000000", 154_187_380, 23.80, 49_500.0, None),
        ("2024A01", "151252", 1_654_440, 63.98, 133_080.0, None),
        ("2024A01", "291023", 5_150, None, None, "5"),  # Orthodontists: '#', top-coded
        ("2025A01", "000000", 155_495_730, 24.51, rows.row(3)[4], None),
        ("2025A01", "151252", 1_687_890, 65.38, rows.row(4)[4], None),
        ("2025A01", "291023", rows.row(5)[2], rows.row(5)[3], rows.row(5)[4], rows.row(5)[5]),
    ]
    after = read(
        current.warehouse,
        "SELECT * FROM stg_oews__estimates WHERE release_code = '2025A01' ORDER BY ALL",
    )
    assert after.equals(before)
    # partition 2024A01 was built from its own tables; 2025A01's rows and reports are untouched
    for table in outputs:
        rows = read(current.warehouse, f"SELECT * FROM {table} ORDER BY ALL")
        assert rows.filter(pl.col("release_code") == "2025A01").equals(outputs_before[table])
        assert rows.filter(pl.col("release_code") == "2024A01").height > 0
    assert {
        p.name: p.read_bytes() for p in (current.output / "2025A01").glob("*.html")
    } == pages_before
    summary_2024 = read(
        current.warehouse,
        "SELECT count(*) AS n FROM out_profiles__cluster_summary WHERE release_code = '2024A01'",
    )
    assert summary_2024["n"][0] == 14 and (current.output / "2024A01" / "index.html").exists()
    # what `ccp run --release 2024A01` ends with: that release's figures and index, not the
    # newest's; `ccp info` (no release) shows the newest
    text = summary(current, "2024A01")
    assert "Qualification (national, 2024A01)" in text and "Career Clusters (2024A01;" in text
    assert str(current.output / "2024A01" / "index.html") in text and "2025A01/index" not in text
    assert "Qualification (national, 2025A01)" in summary(current)

    # re-materialize 2025A01 (the backfill setting still in place: it comes from the embedded
    # snapshot) so its change tables compare it with May 2024
    result = run_refresh(history, release="2025A01")
    assert result.success, failure_text(result)

    # change tracking, checked against both sources: the May 2024 workbook and May 2025 rows
    workbook = pl.read_excel(WORKBOOK, sheet_name="national_M2024_dl", infer_schema_length=0)
    then = {r["OCC_CODE"]: r for r in workbook.iter_rows(named=True)}
    changes = read(
        current.warehouse,
        "SELECT * FROM out_profiles__cluster_changes WHERE release_code = '2025A01'",
    )
    assert set(changes["previous_release_code"]) == {"2024A01"}
    software = changes.filter(pl.col("soc_code") == "15-1252").row(0, named=True)
    assert software["previous_employment_count"] == int(then["15-1252"]["TOT_EMP"])
    assert software["employment_change_count"] == 1_687_890 - 1_654_440
    assert software["change_kind"] == "still qualifies"
    # Credit Counselors (high skill) crossed the living wage between the two releases
    counselors = changes.filter(pl.col("soc_code") == "13-2071").row(0, named=True)
    assert float(then["13-2071"]["H_MEDIAN"]) < 25.00  # below the living wage in May 2024 ...
    now = read(
        current.warehouse,
        f"SELECT wage_hourly_median_usd FROM stg_oews__estimates "
        f"WHERE {NATIONAL} AND release_code = '2025A01' AND occupation_code = '132071'",
    )
    assert now["wage_hourly_median_usd"][0] >= 25.00  # ... and above it in May 2025
    assert (counselors["previous_status"], counselors["status"], counselors["change_kind"]) == (
        "excluded",
        "qualifies",
        "newly qualifies",
    )
    assert counselors["change_reason"] == (
        f"wage crossed the threshold: ${float(then['13-2071']['H_MEDIAN']):,.2f} → "
        f"${now['wage_hourly_median_usd'][0]:,.2f} per hour (threshold $25.00)"
    )
    retired = changes.filter(pl.col("change_kind") == "code no longer published")
    assert retired["soc_code"].to_list() == ["11-1031"]  # Legislators: not in May 2025
    # listed under the cluster that held it in May 2024, whose report says where its jobs went
    held = read(
        current.warehouse,
        "SELECT DISTINCT cluster_code FROM out_clusters__occupation_cluster "
        "WHERE release_code = '2024A01' AND soc_code = '11-1031'",
    )["cluster_code"]
    assert retired["cluster_code"].to_list() == held.to_list() == ["management-entrepreneurship"]
    page = (current.output / "2025A01" / "management-entrepreneurship.html").read_text()
    section = page[page.index('id="changes"') : page.index('id="occupations"')]
    assert "1 that the cluster held in May 2024 carry a code this release no longer publishes" in (
        " ".join(section.split())
    )
    assert "Legislators" in section and "code no longer published" in section
    page = (current.output / "2025A01" / "financial-services.html").read_text()
    section = page[page.index('id="changes"') : page.index('id="occupations"')]
    assert "What changed since May 2024" in section and "Credit Counselors" in section
    assert "newly qualifies" in section
    assert f">{int(then['13-2071']['TOT_EMP']):,}<" in section  # jobs then, from the workbook
    assert "different\n    policies" not in section and not changes["is_policy_changed"].any()
    # May 2024 came from the national workbook alone: industries are not compared, and say why
    industry = read(
        current.warehouse,
        "SELECT * FROM out_profiles__cluster_industry_changes WHERE release_code = '2025A01'",
    )
    assert industry.height > 100 and set(industry["change_kind"]) == {"not compared"}
    assert not industry["has_both_industry_estimates"].any()
    assert industry["previous_employment_count"].is_null().all()
    assert "oesm24in4.zip" in industry["change_reason"][0]
    assert "has no industry estimates in the warehouse" in section

    # The policy changes (a lower living wage) and only 2025A01 is re-screened: the comparison
    # says May 2024 was screened differently instead of calling the policy's effect a change.
    lower = tmp_path / "policy.yaml"
    text = (PROJECT_ROOT / "pipelines/policy/qualification.yaml").read_text()
    lower.write_text(text.replace("hourly_usd: 25.00", "hourly_usd: 20.00"))
    assert float(then["13-2071"]["H_MEDIAN"]) >= 20.00  # qualifies under both releases now
    changed = history.model_copy(update={"policy_path": lower})
    result = run_refresh(changed, release="2025A01")
    assert result.success, failure_text(result)
    checks = {
        e.check_name: e.passed
        for e in result.get_asset_check_evaluations()
        if e.asset_key.path == ["out_profiles__cluster_changes"]
    }
    assert checks["releases_screened_under_the_same_policy"] is False  # a warning, not a stop
    changes = read(current.warehouse, CHANGES_2025)
    assert changes["is_policy_changed"].all()
    counselors = changes.filter(pl.col("soc_code") == "13-2071").row(0, named=True)
    assert (counselors["previous_status"], counselors["status"]) == ("excluded", "qualifies")
    assert counselors["change_reason"] == (
        "not comparable: 2024A01 was screened under a different policy (re-materialize 2024A01 "
        "to compare like with like)"
    )
    page = (current.output / "2025A01" / "financial-services.html").read_text()
    assert "screened under different" in page and "ccp run --release 2024A01" in page

    # Re-screening May 2024 under the same policy makes the two comparable again, once May
    # 2025's comparison is rebuilt: until then `ccp info` says it is behind, and how to rebuild
    assert "compares with an earlier screen" not in summary(current)
    assert run_refresh(changed, release="2024A01").success
    assert (
        "What changed in 2025A01 compares with an earlier screen of 2024A01 (it was re-screened "
        "since): `ccp run --job apply_review_decisions --release 2025A01`"
    ) in summary(current)
    assert run_refresh(changed, release="2025A01").success
    assert "compares with an earlier screen" not in summary(current)
    changes = read(current.warehouse, CHANGES_2025)
    assert not changes["is_policy_changed"].any()
    counselors = changes.filter(pl.col("soc_code") == "13-2071").row(0, named=True)
    assert (counselors["previous_status"], counselors["change_kind"]) == (
        "qualifies",
        "still qualifies",
    )

    # EP loaded for May 2025 only: a skill tier set by another source is flagged and named, and
    # the report does not call the resulting change of status a change in the data.
    with_ep = changed.model_copy(
        update={"ep_local_path": SHARED_DATA / "ep" / "occupation_2024-34.xlsx"}
    )
    assert run_refresh(with_ep, release="2025A01").success
    changes = read(current.warehouse, CHANGES_2025)
    assert not changes["is_policy_changed"].any()
    flagged = changes.filter(pl.col("is_skill_tier_source_changed"))
    assert flagged.height > 100  # the built-in rules in May 2024, EP now
    tiers = flagged.filter(pl.col("change_reason").str.starts_with("skill tier"))
    assert tiers.height > 0
    assert (
        tiers["change_reason"]
        .str.ends_with("(tier from built-in rule then, BLS Employment Projections now)")
        .all()
    )
    unflagged = changes.filter(~pl.col("is_skill_tier_source_changed"))
    assert not unflagged["change_reason"].str.contains("tier from").any()
    moved = tiers.filter(pl.col("change_kind").is_in(["newly qualifies", "stops qualifying"]))
    assert moved.height > 0
    row = moved.row(0, named=True)
    page = (current.output / "2025A01" / f"{row['cluster_code']}.html").read_text()
    section = " ".join(page[page.index('id="changes"') : page.index('id="occupations"')].split())
    assert "the skill tier came from a different source in each release" in section
    assert html.escape(row["change_reason"]) in section

    # The Sources table speaks of the release it is in: May 2024, re-rendered now that EP is
    # loaded, was screened without it; May 2025, re-rendered after a later run without EP,
    # cites the EP file its tables recorded reading, checksum and all.
    def ep_source_row(release: str) -> str:
        page = (current.output / release / "construction.html").read_text()
        sources = page[page.index('class="sources"') :]
        row = sources[sources.index("BLS Employment Projections</td>") :]
        return " ".join(html.unescape(row[: row.index("</tr>")]).split())

    ep_file = with_ep.ep_local_path
    ep_sha256 = hashlib.sha256(Path(ep_file).read_bytes()).hexdigest()
    assert run_refresh(with_ep, "render_reports", release="2024A01").success
    assert (
        "not used for this release: its tables were made before the file now in the warehouse "
        "was loaded (then: no copy offline"
    ) in ep_source_row("2024A01")
    assert "`ccp run --release 2024A01` rebuilds its skill tiers, outlook figures with it" in (
        ep_source_row("2024A01")
    )
    assert "file used for the skill tiers, outlook figures" in ep_source_row("2025A01")
    assert run_refresh(changed, release="2024A01").success  # a run without EP
    assert run_refresh(changed, "render_reports", release="2025A01").success
    assert read(current.warehouse, "SELECT is_used FROM raw_sources__files WHERE source = 'ep'")[
        "is_used"
    ].to_list() == [False]
    row = ep_source_row("2025A01")
    assert "file used for the skill tiers, outlook figures" in row and ep_sha256 in row
    recorded = read(
        current.warehouse,
        "SELECT release_code, read_by, sha256 FROM raw_sources__release_files "
        "WHERE source = 'ep' ORDER BY ALL",
    )
    reads_ep = [
        "int_qualify__skill_tiers",
        "out_profiles__cluster_occupations",
        "out_profiles__cluster_summary",
    ]
    assert recorded.rows() == [
        *(("2024A01", table, None) for table in reads_ep),
        *(("2025A01", table, ep_sha256) for table in reads_ep),
    ]

    # A warehouse whose release tables an earlier version built (no record of their files):
    # the row is told from the release's own tables instead.
    with duckdb.connect(str(current.warehouse)) as con:
        con.execute("DELETE FROM raw_sources__release_files WHERE release_code = '2025A01'")
    assert run_refresh(changed, "render_reports", release="2025A01").success
    assert "used for this release: by the run that built it" in ep_source_row("2025A01")


def test_offline_backfill_needs_no_soc_workbook(tmp_path: Path) -> None:
    """The README's command as written: the workbook alone. Offline, the SOC hierarchy comes
    from the OEWS occupation lists of every release, so the national workbook's broad groups
    (not in the time series' list) are placed by their codes."""
    current = isolated_settings(tmp_path)
    assert run_refresh(current).success
    result = run_refresh(isolated_settings(tmp_path, oews_xlsx_local_path=WORKBOOK))
    assert result.success, failure_text(result)
    levels = read(
        current.warehouse,
        "SELECT soc_level, count(*) AS n, count(major_code) AS majors FROM "
        "stg_oews__occupations WHERE release_code = '2024A01' GROUP BY 1 ORDER BY 1",
    )
    assert levels["soc_level"].to_list() == ["broad", "detailed", "major", "minor", "total"]
    broad = levels.row(0, named=True)
    assert broad["n"] > 250 and broad["majors"] == broad["n"]
    placed = read(
        current.warehouse,
        "SELECT soc_level, major_code, minor_code FROM stg_oews__occupations "
        "WHERE release_code = '2024A01' AND soc_code = '15-1250'",
    )
    assert placed.rows() == [("broad", "15-0000", "15-1200")]
    soc = read(current.warehouse, "SELECT DISTINCT source FROM raw_soc__codes")
    assert soc["source"].to_list() == ["oews"]
    # its reports have no industry estimates to show, and say so instead of an empty chart
    page = (current.output / "2024A01" / "education.html").read_text()
    assert "national workbook alone. The project" in page
    assert 'id="chart-industries"' not in page and "Largest subsectors" not in page
    assert 'id="chart-states"' not in page and "state estimates were not loaded" in page


def test_live_backfill_downloads_the_zip(tmp_path: Path, loopback_server: LoopbackServer) -> None:
    archive = tmp_path / "oesm24nat.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(WORKBOOK, "oesm24nat/national_M2024_dl.xlsx")
    loopback_server.add(
        "/oes/special-requests/oesm24nat.zip", archive.read_bytes(), content_type="application/zip"
    )
    settings = isolated_settings(
        tmp_path / "w",
        source_mode="live",
        contact="ccp-tests@example.org",
        oews_xlsx_year=2024,
        oews_xlsx_base_url=loopback_server.url("/oes/special-requests/"),
        soc_local_path=SOC_STRUCTURE,
        naics_local_path=SHARED_DATA / "naics" / "2-6 digit_2022_Codes.xlsx",
        ep_local_path=SHARED_DATA / "ep" / "occupation_2024-34.xlsx",
        onet_local_path=SHARED_DATA / "onet",
        crosswalk_local_path=write_crosswalk_workbook(tmp_path / "crosswalk.xlsx", SAMPLE_ROWS),
    )
    result = run_refresh(settings)
    assert result.success, failure_text(result)
    label = read(settings.warehouse, "SELECT source_label FROM stg_oews__release")["source_label"]
    assert label.to_list() == [
        f"xlsx: {loopback_server.url('/oes/special-requests/oesm24nat.zip')}#national_M2024_dl.xlsx"
    ]
    total = read(
        settings.warehouse,
        f"SELECT employment_count FROM stg_oews__estimates WHERE {NATIONAL} "
        "AND occupation_code = '000000'",
    )
    assert total["employment_count"].to_list() == [154_187_380]

    # BLS serves a changed zip whose workbook the reader refuses: the download is set aside
    # (found through the workbook unpacked from it) and the zip cached before is back
    renamed = [("EMPLOYMENT" if c == "TOT_EMP" else c) for c in COLUMNS]
    changed = tmp_path / "changed.zip"
    with zipfile.ZipFile(changed, "w") as zf:
        zf.write(_workbook(tmp_path / "bad.xlsx", renamed), "oesm24nat/national_M2024_dl.xlsx")
    loopback_server.add(
        "/oes/special-requests/oesm24nat.zip", changed.read_bytes(), content_type="application/zip"
    )
    result = run_refresh(settings)
    assert not result.success
    assert "the copy cached before it is back" in failure_text(result)
    cached = settings.cache / "oews" / "oesm24nat.zip"
    assert cached.read_bytes() == archive.read_bytes()
    assert cached.with_name("oesm24nat.zip.refused").read_bytes() == changed.read_bytes()


def _workbook(path: Path, header: list[str]) -> Path:
    with xlsxwriter.Workbook(str(path)) as book:
        sheet = book.add_worksheet("national_M2024_dl")
        sheet.write_row(0, 0, header)
        sheet.write_row(1, 0, ["99", "U.S.", "1", "US", "000000"])
        book.add_worksheet("Field Descriptions").write(
            0, 0, "# = wage >= $115.00 per hour or $239,200 per year"
        )
    return path


def test_a_changed_workbook_is_a_clear_error(tmp_path: Path) -> None:
    renamed = [("EMPLOYMENT" if c == "TOT_EMP" else c) for c in COLUMNS]
    path = _workbook(tmp_path / "national_M2024_dl.xlsx", renamed)
    with pytest.raises(SourceError) as err:
        read_national_workbook(path, "2024", "oews history (national_M2024_dl.xlsx)")
    message = str(err.value)
    assert "national_M2024_dl.xlsx" in message and "missing ['TOT_EMP']" in message
    assert "unexpected ['EMPLOYMENT']" in message and "What to do" in message


def test_a_failed_backfill_keeps_every_table(tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path)
    assert run_refresh(settings).success
    before = table_digests(settings.warehouse)
    broken = tmp_path / "oesm24nat.zip"
    broken.write_bytes(b"PK\x03\x04 this is not a whole zip")
    result = run_refresh(isolated_settings(tmp_path, oews_xlsx_local_path=broken))
    assert not result.success
    assert "oesm24nat.zip" in failure_text(result) and "zip" in failure_text(result).lower()
    assert table_digests(settings.warehouse) == before


def test_a_release_the_source_does_not_hold_is_a_clear_error(tmp_path: Path) -> None:
    """Partition 2023A01 from the embedded snapshot (May 2025): refused before any write."""
    settings = isolated_settings(tmp_path)
    result = run_refresh(settings, release="2023A01")
    assert not result.success
    message = failure_text(result)
    assert "partition 2023A01 was requested" in message and "holds release 2025A01" in message
    assert "CCP_OEWS_XLSX_YEAR=2023" in message and "national_M2023_dl.xlsx" in message
    assert (
        not settings.warehouse.exists()
        or "raw_oews__files"
        not in read(
            settings.warehouse,
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'",
        )["table_name"].to_list()
    )
