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

from pipelines.sources.http import SourceError, describe_local_file
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
def workbooks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("workbooks")
    sqlite = open_embedded_release(folder / "sqlite")
    return write_annual_workbooks(sqlite, folder / "2025", "2025", INDUSTRIES)


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
