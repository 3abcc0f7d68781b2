"""BLS Employment Projections occupation.xlsx parser (pipelines.sources.ep).

The reference workbook is read in place from ../shared/data (never copied into the repo);
synthetic and broken workbooks are built with openpyxl in tmp_path.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines.sources.ep import (
    EDUCATION_CATEGORIES,
    EP_SCHEMA,
    EXPERIENCE_CATEGORIES,
    OJT_CATEGORIES,
    ep_occupations_from_xlsx,
)
from pipelines.sources.files import SourceError
from tests.support.workbooks import NOT_A_WORKBOOK, write_rows
from tests.support.workbooks import assert_clear as assert_clear_message

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
EP_XLSX = DATA / "ep" / "occupation_2024-34.xlsx"

EDUCATION_COUNTS = {
    "High school diploma or equivalent": 326,
    "Bachelor's degree": 178,
    "No formal educational credential": 109,
    "Doctoral or professional degree": 73,
    "Postsecondary nondegree award": 51,
    "Associate's degree": 48,
    "Master's degree": 40,
    "Some college, no degree": 7,
}
EXPERIENCE_COUNTS = {"None": 716, "Less than 5 years": 88, "5 years or more": 28}
OJT_COUNTS = {
    "None": 322,
    "Moderate-term on-the-job training": 229,
    "Short-term on-the-job training": 174,
    "Long-term on-the-job training": 56,
    "Internship/residency": 36,
    "Apprenticeship": 15,
}


# ---- reference file ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ep() -> pl.DataFrame:
    if not EP_XLSX.exists():
        pytest.skip(f"{EP_XLSX} not found")
    return ep_occupations_from_xlsx(EP_XLSX)


def line_items(ep: pl.DataFrame) -> pl.DataFrame:
    return ep.filter(pl.col("occupation_type") == "Line item")


def test_reference_shape_and_schema(ep: pl.DataFrame) -> None:
    assert ep.schema == pl.Schema(EP_SCHEMA)
    assert Counter(ep["occupation_type"]) == {"Line item": 832, "Summary": 281}
    assert ep["base_year"].unique().to_list() == [2024]
    assert ep["projection_year"].unique().to_list() == [2034]
    assert ep["soc_code"].str.contains(r"^\d{2}-\d{4}$").all()
    assert ep["soc_code"].n_unique() == ep.height
    assert not ep["ep_title"].str.contains(r"^\s|\s$").any()  # hierarchy indent stripped


def test_reference_categories(ep: pl.DataFrame) -> None:
    items = line_items(ep)
    assert dict(Counter(items["typical_education"])) == EDUCATION_COUNTS
    assert dict(Counter(items["work_experience"])) == EXPERIENCE_COUNTS
    assert dict(Counter(items["typical_ojt"])) == OJT_COUNTS
    assert set(EDUCATION_CATEGORIES) == set(EDUCATION_COUNTS)
    assert set(EXPERIENCE_CATEGORIES) == set(EXPERIENCE_COUNTS)
    assert set(OJT_CATEGORIES) == set(OJT_COUNTS)
    # "None" is a category (no experience / no training needed), never a null
    assert items["work_experience"].null_count() == 0
    assert items["typical_ojt"].null_count() == 0
    # summary rows show "—" in the category columns
    summary = ep.filter(pl.col("occupation_type") == "Summary")
    for col in ("typical_education", "work_experience", "typical_ojt"):
        assert summary[col].null_count() == summary.height


def test_reference_software_developers(ep: pl.DataFrame) -> None:
    row = ep.filter(pl.col("soc_code") == "15-1252").row(0, named=True)
    assert row == {
        "soc_code": "15-1252",
        "ep_title": "Software developers",
        "occupation_type": "Line item",
        "base_year": 2024,
        "projection_year": 2034,
        "employment_base_thousands": 1693.8,
        "employment_projected_thousands": 1961.4,
        "employment_change_thousands": 267.7,
        "employment_change_pct": 15.8,
        "self_employed_pct": 1.6,
        "openings_annual_thousands": 115.2,
        "median_wage_annual_usd": 133080.0,
        "is_median_wage_top_coded": False,
        "typical_education": "Bachelor's degree",
        "work_experience": "None",
        "typical_ojt": "None",
    }


def test_reference_total(ep: pl.DataFrame) -> None:
    row = ep.row(0, named=True)
    assert row["soc_code"] == "00-0000"
    assert row["ep_title"] == "Total, all occupations"
    assert row["occupation_type"] == "Summary"
    assert row["employment_base_thousands"] == 169956.1
    assert row["employment_projected_thousands"] == 175167.9
    assert row["employment_change_thousands"] == 5211.8
    assert row["employment_change_pct"] == 3.1
    assert row["openings_annual_thousands"] == 18863.3
    assert row["median_wage_annual_usd"] == 49500.0
    assert row["typical_education"] is None


def test_reference_unavailable_and_top_coded(ep: pl.DataFrame) -> None:
    items = line_items(ep)
    top = items.filter(pl.col("is_median_wage_top_coded"))
    assert top.height == 17
    assert top["median_wage_annual_usd"].to_list() == [239200.0] * 17
    assert items["median_wage_annual_usd"].null_count() == 6
    assert items["self_employed_pct"].null_count() == 199
    assert (
        items.filter(pl.col("median_wage_annual_usd").is_null())[
            "is_median_wage_top_coded"
        ].to_list()
        == [False] * 6
    )
    # top-coded wages are the highest; no other wage reaches the top code
    assert items.filter(~pl.col("is_median_wage_top_coded"))["median_wage_annual_usd"].max() < (
        239200
    )


def test_reference_numbers_unchanged(ep: pl.DataFrame) -> None:
    """Every number equals the cell value openpyxl reads (no rounding on the text route)."""
    wb = openpyxl.load_workbook(EP_XLSX, read_only=True)
    rows = list(wb["Table 1.2"].iter_rows(min_row=3, values_only=True))
    wb.close()
    cells = {r[1]: r for r in rows if r[2] in ("Line item", "Summary")}
    cols = {
        "employment_base_thousands": 3,
        "employment_projected_thousands": 4,
        "employment_change_thousands": 7,
        "employment_change_pct": 8,
        "self_employed_pct": 9,
        "openings_annual_thousands": 10,
        "median_wage_annual_usd": 11,
    }
    checked = 0
    for row in ep.iter_rows(named=True):
        for name, j in cols.items():
            value = cells[row["soc_code"]][j]
            if isinstance(value, int | float):
                assert row[name] == value, (row["soc_code"], name)
                checked += 1
    assert checked > 7000


# ---- synthetic workbooks -----------------------------------------------------------------------
def header(base: int = 2024, dash: str = "–") -> list[str]:
    period = f"{base}{dash}{(base + 10) % 100:02d}"
    return [
        f"{base} National Employment Matrix title",
        f"{base} National Employment Matrix code",
        "Occupation type",
        f"Employment, {base}",
        f"Employment, {base + 10}",
        f"Employment distribution, percent, {base}",
        f"Employment distribution, percent, {base + 10}",
        f"Employment change, numeric, {period}",
        f"Employment change, percent, {period}",
        f"Percent self employed, {base}",
        f"Occupational openings, {period} annual average",
        f"Median annual wage, dollars, {base}[1]",
        "Typical education needed for entry",
        "Work experience in a related occupation",
        "Typical on-the-job training needed to attain competency in the occupation",
        "Related Occupational Outlook Handbook (OOH) content xlsx",
    ]


ROWS = [
    ["Total, all occupations", "00-0000", "Summary", 170000.5, 175000.25, 100, 100, 4999.75,
     2.9, 5.8, 18000.1, 50000, "—", "—", "—", "—"],
    ["  Computer occupations", "15-1200", "Summary", 5000, 5600, 3, 3.2, 600, 12, 2, 400.5,
     110000, "—", "—", "—", "—"],
    ["    Software developers", "15-1252", "Line item", 1700.3, 1990.7, 1, 1.1, 290.4, 17.1,
     1.6, 120.2, 135000, "Bachelor's degree", "None", "None", "OOH Content"],
    ["    Surgeons", "29-1249", "Line item", 20.1, 20.5, 0, 0, 0.4, 2, "—", 0.9,
     ">=$250,000", "Doctoral or professional degree", "None", "Internship/residency", "—"],
    ["    Legislators", "11-1031", "Line item", 40, 41, 0, 0, 1, 2.5, "—", 3, "—",
     "Bachelor's degree", "Less than 5 years", "None", "—"],
]  # fmt: skip
NOTES = [
    ["Footnotes:"],
    ["[1] Data are from the Occupational Employment and Wage Statistics program."],
    ['Note: Data is unavailable for values denoted with a "—".'],
    ["Source: Employment Projections program, U.S. Bureau of Labor Statistics"],
]


def write_ep(
    path: Path,
    *,
    head: list[str] | None = None,
    rows: list[list] | None = None,
    banner_rows: int = 1,
    sheet: str = "Table 1.2",
) -> Path:
    """An occupation.xlsx look-alike: Index and Table 1.1 sheets, then `sheet` with a title
    banner, the header, data rows and note rows."""
    wb = openpyxl.Workbook()
    wb.active.title = "Index"
    wb["Index"]["A1"] = "Employment Projections"
    wb.create_sheet("Table 1.1")["A1"] = "Table 1.1 Employment by major occupational group"
    ws = wb.create_sheet(sheet)
    content = [
        *[["Table 1.2 Occupational projections, 2024–2034 (Employment in thousands)"]]
        * banner_rows,
        head or header(),
        *(ROWS if rows is None else rows),
        *NOTES,
    ]
    write_rows(ws, content)
    wb.save(path)
    return path


def assert_clear(err: SourceError, path: Path, *fragments: str) -> str:
    """A clear message (tests.support.workbooks) from the EP source."""
    assert err.source == "ep (occupation.xlsx)"
    return assert_clear_message(err, path, *fragments)


def parse_error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as exc:
        ep_occupations_from_xlsx(path)
    return exc.value


def test_synthetic_2025_35_with_hyphen(tmp_path: Path) -> None:
    path = write_ep(tmp_path / "occupation.xlsx", head=header(2025, "-"))
    df = ep_occupations_from_xlsx(path)
    assert df.schema == pl.Schema(EP_SCHEMA)
    assert df["base_year"].to_list() == [2025] * 5
    assert df["projection_year"].to_list() == [2035] * 5
    assert df["soc_code"].to_list() == ["00-0000", "15-1200", "15-1252", "29-1249", "11-1031"]
    assert df["ep_title"].to_list()[1:3] == ["Computer occupations", "Software developers"]
    assert df["employment_projected_thousands"].to_list()[:3] == [175000.25, 5600.0, 1990.7]
    assert df["employment_change_thousands"][0] == 4999.75
    surgeons = df.row(3, named=True)
    assert surgeons["median_wage_annual_usd"] == 250000.0  # bound read from the text
    assert surgeons["is_median_wage_top_coded"] is True
    assert surgeons["self_employed_pct"] is None
    legislators = df.row(4, named=True)
    assert legislators["median_wage_annual_usd"] is None
    assert legislators["is_median_wage_top_coded"] is False
    assert legislators["work_experience"] == "Less than 5 years"
    assert df["work_experience"].to_list() == [None, None, "None", "None", "Less than 5 years"]


def test_synthetic_full_period_and_em_dash_headers(tmp_path: Path) -> None:
    head = [h.replace("2024–34", "2024—2034") for h in header()]
    df = ep_occupations_from_xlsx(write_ep(tmp_path / "occupation.xlsx", head=head))
    assert (df["base_year"][0], df["projection_year"][0]) == (2024, 2034)


@pytest.mark.parametrize("banner_rows", [0, 6])
def test_moved_header_still_parses(tmp_path: Path, banner_rows: int) -> None:
    path = write_ep(tmp_path / "occupation.xlsx", banner_rows=banner_rows)
    df = ep_occupations_from_xlsx(path)
    assert df.height == 5 and df["soc_code"][2] == "15-1252"


# ---- errors -----------------------------------------------------------------------------------
def test_missing_sheet(tmp_path: Path) -> None:
    path = write_ep(tmp_path / "occupation.xlsx", sheet="Table 1.7")
    assert_clear(parse_error(path), path, "no sheet 'Table 1.2'", "'Index'", "'Table 1.7'")


def test_header_not_found(tmp_path: Path) -> None:
    path = write_ep(tmp_path / "occupation.xlsx", head=["Occupation", "Code", "Jobs"])
    assert_clear(parse_error(path), path, "no header row", "first 20 rows")


def test_renamed_column(tmp_path: Path) -> None:
    head = header()
    head[10] = "Annual job openings, 2024–34"
    path = write_ep(tmp_path / "occupation.xlsx", head=head)
    assert_clear(
        parse_error(path),
        path,
        "row 2",
        "'Occupational openings, YYYY–YY annual average'",
        "found: ",
        "'Annual job openings, 2024–34'",
        "renamed or removed",
    )


def test_missing_projection_employment_column(tmp_path: Path) -> None:
    head = header()
    head[4] = "Jobs, 2034"
    path = write_ep(tmp_path / "occupation.xlsx", head=head)
    assert_clear(parse_error(path), path, "'Employment, YYYY (exactly twice")


def test_header_years_disagree(tmp_path: Path) -> None:
    head = header()
    head[10] = "Occupational openings, 2023–33 annual average"
    path = write_ep(tmp_path / "occupation.xlsx", head=head)
    assert_clear(parse_error(path), path, "years disagree", "2023–33")


def test_unknown_category(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[2][12] = "Bachelor's degree or higher"
    rows[3][14] = "Residency"
    path = write_ep(tmp_path / "occupation.xlsx", rows=rows)
    msg = assert_clear(
        parse_error(path), path, '"Bachelor\'s degree or higher"', "'Residency'", "15-1252"
    )
    assert "policy mapping" in msg and "qualification.yaml" in msg


@pytest.mark.parametrize(
    ("col", "value", "column_name"),
    [
        (3, "n/a", "Employment, 2024"),
        (10, "—", "Occupational openings, 2024–34 annual average"),
        (11, "about 50k", "Median annual wage, dollars, 2024[1]"),
        (9, ">=95", "Percent self employed, 2024"),
    ],
)
def test_non_numeric_value(tmp_path: Path, col: int, value: str, column_name: str) -> None:
    rows = [list(r) for r in ROWS]
    rows[2][col] = value
    path = write_ep(tmp_path / "occupation.xlsx", rows=rows)
    assert_clear(parse_error(path), path, "row 5 (15-1252)", repr(column_name), repr(value))


def test_blank_category_cell(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[2][13] = None  # what a reader that turns "None" into null would produce
    path = write_ep(tmp_path / "occupation.xlsx", rows=rows)
    assert_clear(parse_error(path), path, "row 5 (15-1252)", "empty cell")


def test_row_without_code(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[4][1] = rows[4][2] = None
    path = write_ep(tmp_path / "occupation.xlsx", rows=rows)
    assert_clear(parse_error(path), path, "row 7: values but no matrix code")


def test_unknown_occupation_type(tmp_path: Path) -> None:
    rows = [list(r) for r in ROWS]
    rows[4][2] = "Aggregate"
    path = write_ep(tmp_path / "occupation.xlsx", rows=rows)
    assert_clear(parse_error(path), path, "row 7 (11-1031)", "'Aggregate'")


def test_zero_line_items(tmp_path: Path) -> None:
    path = write_ep(tmp_path / "occupation.xlsx", rows=ROWS[:2])
    assert_clear(parse_error(path), path, "no 'Line item' rows")


def test_duplicate_line_item_codes(tmp_path: Path) -> None:
    path = write_ep(tmp_path / "occupation.xlsx", rows=[*ROWS, ROWS[2]])
    assert_clear(parse_error(path), path, "more than one line item", "15-1252")


BAD_FILES = {
    **NOT_A_WORKBOOK,
    "random_bytes": (bytes(range(256)) * 4, "not an xlsx workbook"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_not_a_workbook(tmp_path: Path, kind: str) -> None:
    content, fragment = BAD_FILES[kind]
    path = tmp_path / f"occupation_{kind}.xlsx"
    path.write_bytes(content)
    assert_clear(parse_error(path), path, fragment)
