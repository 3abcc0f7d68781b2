"""History backfill with BLS's national industry workbooks (oesmYYin4.zip).

No real in4 download is in ../shared/data, so the workbooks are written from the embedded May
2025 release in BLS's layout (tests/support/oews_workbooks.py): read back through the history
path, they must give the embedded path's staging rows cell for cell.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import polars as pl
import pytest

from pipelines.sources.files import SourceError, describe_local_file
from pipelines.sources.oews_xlsx_industries import (
    industry_workbooks_from,
    oews_industry_code,
    read_industry_workbooks,
)
from tests.support.blsformat import open_embedded_release
from tests.support.crosswalk_workbook import SAMPLE_ROWS, write_crosswalk_workbook
from tests.support.loopback import LoopbackServer
from tests.support.oews_workbooks import write_annual_workbooks
from tests.support.pipeline import (
    SHARED_DATA,
    failure_text,
    isolated_settings,
    read,
    run_refresh,
    shared_embedded_build,
)

SOC_STRUCTURE = SHARED_DATA / "soc" / "soc_structure_2018.xlsx"
WORKBOOK_2024 = SHARED_DATA / "oews" / "national_M2024_dl.xlsx"
pytestmark = pytest.mark.skipif(not SOC_STRUCTURE.exists(), reason="needs ../shared/data")
# Sector ranges, Sector 99, an OEWS government designation and aggregate, and 3- to 6-digit
# industries of the Digital Technology and Construction clusters.
INDUSTRIES = [
    "31--34", "51--52", "99-100", "999101", "513000", "518000", "518200", "3250A1", "236100",
    "237130", "541500",
]  # fmt: skip
NATIONAL_ROWS = "area_code = '0000000' AND industry_code IN ({})".format(
    ", ".join(f"'{c}'" for c in ["000000", *INDUSTRIES])
)


@pytest.fixture(scope="module")
def embedded_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return open_embedded_release(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="module")
def workbooks(embedded_sqlite: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("workbooks")
    return write_annual_workbooks(embedded_sqlite, folder / "2025", "2025", INDUSTRIES)


def test_sector_codes_take_the_time_series_form() -> None:
    assert [oews_industry_code(c) for c in ["11", "31-33", "44-45", "48-49", "99"]] == [
        "11--12", "31--34", "44--46", "48--50", "99-100",
    ]  # fmt: skip
    assert [oews_industry_code(c) for c in ["113300", "3250A1", "999101"]] == [
        "113300", "3250A1", "999101",
    ]  # fmt: skip
    assert oews_industry_code("Total") is None and oews_industry_code("1133") is None


def test_owner_files_are_left_out(workbooks: tuple[Path, Path], tmp_path: Path) -> None:
    _, archive = workbooks
    with zipfile.ZipFile(archive) as zf:
        assert sum("_owner_" in n for n in zf.namelist()) == 4
    given = describe_local_file(archive, source="oews", name=archive.name, expect="zip")
    paths = industry_workbooks_from(given, tmp_path)
    assert sorted(p.name for p in paths) == [
        "nat3d_M2025_dl.xlsx", "nat4d_M2025_dl.xlsx", "nat5d_6d_M2025_dl.xlsx",
        "natsector_M2025_dl.xlsx",
    ]  # fmt: skip
    industries, cells = read_industry_workbooks(paths, "2025")
    assert sorted(industries["industry_code"]) == sorted(INDUSTRIES)
    software = cells.filter(pl.col("cell_key") == "OEUN0000000518000151252")
    assert software.height == 1 and software["v01"][0] is not None


def test_industry_backfill_gives_the_embedded_estimates(
    workbooks: tuple[Path, Path], tmp_path: Path
) -> None:
    national, archive = workbooks
    history = isolated_settings(
        tmp_path,
        oews_xlsx_local_path=national,
        oews_xlsx_industry_local_path=archive,
        soc_local_path=SOC_STRUCTURE,
    )
    result = run_refresh(history)
    assert result.success, failure_text(result)
    embedded = shared_embedded_build()

    sql = f"SELECT * FROM stg_oews__estimates WHERE {NATIONAL_ROWS} ORDER BY ALL"
    from_workbooks, from_snapshot = read(history.warehouse, sql), read(embedded.warehouse, sql)
    assert from_workbooks.height == from_snapshot.height > 5_000
    assert from_workbooks.equals(from_snapshot)
    software = from_workbooks.filter(
        (pl.col("industry_code") == "518000") & (pl.col("occupation_code") == "151252")
    )
    assert software["employment_count"].to_list() == [77_260]  # software developers in 518

    columns = "industry_code, industry_kind, naics_code, naics_level, naics_sector_code"
    sql = f"SELECT {columns} FROM stg_oews__industries ORDER BY 1"
    mapped = read(history.warehouse, sql)
    assert mapped.equals(
        read(embedded.warehouse, sql).filter(
            pl.col("industry_code").is_in(mapped["industry_code"].to_list())
        )
    )
    assert (
        dict(zip(mapped["industry_code"], mapped["naics_code"], strict=True))["31--34"] == "31-33"
    )

    files = read(
        history.warehouse,
        "SELECT file_name FROM stg_oews__files WHERE is_parsed ORDER BY 1",
    )["file_name"].to_list()
    assert files == [
        "nat3d_M2025_dl.xlsx", "nat4d_M2025_dl.xlsx", "nat5d_6d_M2025_dl.xlsx",
        "national_M2025_dl.xlsx", "natsector_M2025_dl.xlsx",
    ]  # fmt: skip
    label = read(history.warehouse, "SELECT source_label FROM stg_oews__release")["source_label"]
    assert "natsector_M2025_dl.xlsx" in label[0] and "national_M2025_dl.xlsx" in label[0]
    # the earlier release gets industry profiles: Digital Technology's industries include 518
    industries = read(
        history.warehouse,
        "SELECT DISTINCT industry_code FROM out_clusters__cluster_industry "
        "WHERE cluster_code = (SELECT cluster_code FROM raw_framework__clusters "
        "WHERE cluster_name = 'Digital Technology')",
    )["industry_code"].to_list()
    assert "518000" in industries and "51--52" in industries


def test_live_backfill_downloads_the_industry_zip(
    workbooks: tuple[Path, Path], tmp_path: Path, loopback_server: LoopbackServer
) -> None:
    national, archive = workbooks
    zipped = tmp_path / "oesm25nat.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        zf.write(national, f"oesm25nat/{national.name}")
    for path in (zipped, archive):
        loopback_server.add(
            f"/oes/special-requests/{path.name}", path.read_bytes(), content_type="application/zip"
        )
    settings = isolated_settings(
        tmp_path / "w",
        source_mode="live",
        contact="ccp-tests@example.org",
        oews_xlsx_year=2025,
        oews_xlsx_industries=True,
        oews_xlsx_base_url=loopback_server.url("/oes/special-requests/"),
        soc_local_path=SOC_STRUCTURE,
        naics_local_path=SHARED_DATA / "naics" / "2-6 digit_2022_Codes.xlsx",
        ep_local_path=SHARED_DATA / "ep" / "occupation_2024-34.xlsx",
        onet_local_path=SHARED_DATA / "onet",
        crosswalk_local_path=write_crosswalk_workbook(tmp_path / "crosswalk.xlsx", SAMPLE_ROWS),
    )
    result = run_refresh(settings)
    assert result.success, failure_text(result)
    in4 = loopback_server.url("/oes/special-requests/oesm25in4.zip")
    files = read(settings.warehouse, "SELECT file_name, url, is_parsed FROM stg_oews__files")
    assert ("oesm25in4.zip", in4, False) in files.rows()
    assert ("nat4d_M2025_dl.xlsx", f"{in4}#nat4d_M2025_dl.xlsx", True) in files.rows()
    sql = (
        f"SELECT count(*) AS n, sum(employment_count) AS jobs FROM stg_oews__estimates "
        f"WHERE {NATIONAL_ROWS} AND industry_code <> '000000'"
    )
    downloaded, embedded = (
        read(settings.warehouse, sql),
        read(shared_embedded_build().warehouse, sql),
    )
    assert downloaded.equals(embedded) and downloaded["n"][0] > 4_000


def _broken_zip(folder: Path, name: str, rows: list[list[str]]) -> Path:
    import xlsxwriter

    book_path = folder / name
    with xlsxwriter.Workbook(str(book_path)) as book:
        sheet = book.add_worksheet(name.removesuffix(".xlsx"))
        for number, row in enumerate(rows):
            sheet.write_row(number, 0, row)
    archive = folder / "oesm25in4.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(book_path, f"oesm25in4/{name}")
    return archive


def test_bad_industry_workbooks_are_clear_errors(
    workbooks: tuple[Path, Path], tmp_path: Path
) -> None:
    from pipelines.sources.oews_xlsx import COLUMNS

    def read_zip(archive: Path) -> None:
        given = describe_local_file(archive, source="oews", name=archive.name, expect="zip")
        read_industry_workbooks(industry_workbooks_from(given, tmp_path / "cache"), "2025")

    renamed = [c if c != "NAICS" else "NAICS_CODE" for c in COLUMNS]
    with pytest.raises(SourceError, match=r"(?s)missing \['NAICS'\].*What to do.*oesmYYin4\.zip"):
        read_zip(_broken_zip(tmp_path, "nat3d_M2025_dl.xlsx", [renamed]))
    row = ["99", "U.S.", "1", "US", "Total", "x", "sector", "1235", "15-1252", "x", "detailed"]
    with pytest.raises(SourceError, match=r"NAICS values \['Total'\]"):
        read_zip(_broken_zip(tmp_path, "natsector_M2025_dl.xlsx", [COLUMNS, row]))
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("readme.txt", "nothing here")
    with pytest.raises(SourceError, match="holds none of natsector_"):
        read_zip(empty)
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(workbooks[1].read_bytes()[:5000])
    with pytest.raises(SourceError, match="corrupt zip"):
        read_zip(corrupt)


def _qualifying_jobs(book: Path, naics: str, soc_codes: set[str]) -> int:
    """Hand sum from a workbook: employment of `soc_codes` in industry `naics` (`**` = none)."""
    rows = pl.read_excel(book, infer_schema_length=0).filter(
        (pl.col("NAICS") == naics) & pl.col("OCC_CODE").is_in(sorted(soc_codes))
    )
    assert rows.height > 0
    return int(rows["TOT_EMP"].cast(pl.Float64, strict=False).sum())


def test_industry_code_changes_between_releases(
    embedded_sqlite: Path, workbooks: tuple[Path, Path], tmp_path: Path
) -> None:
    """May 2024 (BLS's national workbook, industry workbooks in which 513 Publishing is still
    NAICS 2017's 511) then May 2025 (workbooks): each cluster's industries compared, the code
    change reported as one code gone and one new, figures summed by hand from the workbooks."""
    publishing_2017 = ("511000", "Publishing Industries (except Internet)")
    _, archive_2024 = write_annual_workbooks(
        embedded_sqlite, tmp_path / "2024", "2024", INDUSTRIES, recode={"513000": publishing_2017}
    )
    national_2025, archive_2025 = workbooks
    for national, archive in ((WORKBOOK_2024, archive_2024), (national_2025, archive_2025)):
        settings = isolated_settings(
            tmp_path,
            oews_xlsx_local_path=national,
            oews_xlsx_industry_local_path=archive,
            soc_local_path=SOC_STRUCTURE,
        )
        result = run_refresh(settings)
        assert result.success, failure_text(result)

    def changes_of(cluster: str) -> dict[str, dict]:
        rows = read(
            settings.warehouse,
            "SELECT * FROM out_profiles__cluster_industry_changes WHERE release_code = '2025A01' "
            f"AND cluster_code = '{cluster}'",
        )
        assert set(rows["previous_release_code"]) == {"2024A01"}
        assert rows["has_both_industry_estimates"].all()
        return {r["industry_code"]: r for r in rows.iter_rows(named=True)}

    def qualifying(cluster: str, release: str) -> set[str]:
        return set(
            read(
                settings.warehouse,
                "SELECT DISTINCT soc_code FROM out_clusters__occupation_cluster WHERE status = "
                f"'qualifies' AND release_code = '{release}' AND cluster_code = '{cluster}'",
            )["soc_code"]
        )

    book = {
        ("2024", "3d"): tmp_path / "2024" / "nat3d_M2024_dl.xlsx",
        ("2025", "3d"): national_2025.parent / "nat3d_M2025_dl.xlsx",
        ("2024", "sector"): tmp_path / "2024" / "natsector_M2024_dl.xlsx",
        ("2025", "sector"): national_2025.parent / "natsector_M2025_dl.xlsx",
    }
    # Digital Technology: 511 (NAICS 2017) gone, 513 (NAICS 2022) new, 518 in both
    digital = changes_of("digital-technology")
    then_set, now_set = (
        qualifying("digital-technology", "2024A01"),
        qualifying("digital-technology", "2025A01"),
    )
    gone, new = digital["511000"], digital["513000"]
    assert gone["change_kind"] == "industry code no longer published"
    assert gone["change_reason"] == "industry code not in the 2025A01 release (code change)"
    assert gone["previous_employment_count"] == _qualifying_jobs(
        book["2024", "3d"], "511000", then_set
    )
    assert gone["employment_count"] is None
    assert new["change_kind"] == "new industry code" and new["previous_employment_count"] is None
    assert new["employment_count"] == _qualifying_jobs(book["2025", "3d"], "513000", now_set)
    assert {digital[c]["change_kind"] for c in ("518000", "51--52")} == {"same industry code"}

    # Financial Services: Credit Counselors qualify in May 2025 only (their median wage crossed
    # the living wage), so its qualifying employment in the Information sector moves with the
    # occupations that qualify in each release
    finance = changes_of("financial-services")
    then_set, now_set = (
        qualifying("financial-services", "2024A01"),
        qualifying("financial-services", "2025A01"),
    )
    assert "13-2071" in now_set - then_set
    information = finance["51--52"]
    then = _qualifying_jobs(book["2024", "sector"], "51", then_set)
    now = _qualifying_jobs(book["2025", "sector"], "51", now_set)
    assert (information["previous_employment_count"], information["employment_count"]) == (
        then,
        now,
    )
    assert information["employment_change_count"] == now - then != 0

    page = (settings.output / "2025A01" / "financial-services.html").read_text()
    section = page[page.index('id="changes"') : page.index('id="occupations"')]
    assert "Qualifying employment by sector, May 2024 and now" in section
    assert f">{now - then:+,}<" in section
    page = (settings.output / "2025A01" / "digital-technology.html").read_text()
    section = page[page.index('id="changes"') : page.index('id="occupations"')]
    assert "Industry codes new or no longer published since May 2024" in section
    assert "Publishing Industries (except Internet)" in section and "new industry code" in section
    assert f">{gone['previous_employment_count']:,}<" in section  # jobs then

    # May 2025 re-run from its national workbook alone: no industries now, so none compared
    national_only = isolated_settings(
        tmp_path, oews_xlsx_local_path=national_2025, soc_local_path=SOC_STRUCTURE
    )
    result = run_refresh(national_only)
    assert result.success, failure_text(result)
    rows = read(
        settings.warehouse,
        "SELECT * FROM out_profiles__cluster_industry_changes WHERE release_code = '2025A01'",
    )
    assert rows.height > 0 and set(rows["change_kind"]) == {"not compared"}
    assert rows["employment_count"].is_null().all()
    assert rows["change_reason"][0].startswith("2025A01 has no industry estimates")
    assert "oesm25in4.zip" in rows["change_reason"][0]
    page = (settings.output / "2025A01" / "digital-technology.html").read_text()
    section = page[page.index('id="changes"') : page.index('id="occupations"')]
    assert "May 2025 has no industry estimates in the warehouse" in " ".join(section.split())
    assert "oesm25in4.zip" in section and "Industry codes new" not in section
