"""Advance CTE Framework Crosswalk parser (pipelines.sources.crosswalk).

Workbooks are small stand-ins built with openpyxl in tmp_path (tests/support/
crosswalk_workbook.py); the real workbook is never shipped.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines.sources.crosswalk import (
    CROSSWALK_SCHEMA,
    CROSSWALK_SHEET,
    normalize_soc_code,
    read_crosswalk,
)
from pipelines.sources.files import SourceError
from tests.support.crosswalk_workbook import (
    CROSSWALK_HEADER,
    SAMPLE_EXPECTED,
    SAMPLE_ROWS,
    write_crosswalk_workbook,
)
from tests.support.workbooks import NOT_A_WORKBOOK, assert_clear

FILE_NAME = "Full_Framework_Crosswalk_SOC-Career-Clusters.xlsx"
NURSE = ("29-1141", "Registered Nurses", "Healthcare & Human Services", "Physical Health")
ELECTRICIAN = ("47-2111", "Electricians", "Construction", "Skilled Trades")
ACCOUNTANT = ("13-2011", "Accountants and Auditors", "Financial Services", "Accounting")


def parse_error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as exc:
        read_crosswalk(path)
    return exc.value


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    path = tmp_path_factory.mktemp("crosswalk") / FILE_NAME
    return read_crosswalk(write_crosswalk_workbook(path, SAMPLE_ROWS))


# ---- parsing -----------------------------------------------------------------------------------
def test_sample_rows_parse_as_published(sample: pl.DataFrame) -> None:
    assert sample.schema == pl.Schema(CROSSWALK_SCHEMA)
    assert sample.height == len(SAMPLE_ROWS) >= 40
    assert sample["row_number"].to_list() == list(range(2, len(SAMPLE_ROWS) + 2))
    records = sample.drop("row_number").rows()
    assert records == SAMPLE_EXPECTED
    assert sample["soc_code"].str.contains(r"^\d{2}-\d{4}$").all()
    for column in ("occupation_title", "cluster_name_raw", "sub_cluster_name_raw"):
        assert (sample[column] == sample[column].str.strip_chars()).all(), column


def test_sample_quirks_kept(sample: pl.DataFrame) -> None:
    clusters = set(sample["cluster_name_raw"])
    assert {"Arts, Entertainment, & Design", "Hospitality, Events, & Tourism"} <= clusters
    subs = set(sample["sub_cluster_name_raw"])
    assert {"software solutions", "Software Solutions", "Softwear Solutions"} <= subs
    assert "Teaching, Training, & Facilitation" in subs
    by_code = {code: group for (code,), group in sample.group_by("soc_code")}
    assert by_code["15-1252"]["cluster_name_raw"].to_list() == ["Digital Technology"] * 2
    assert sorted(by_code["11-2021"]["cluster_name_raw"]) == [
        "Management & Entrepreneurship",
        "Marketing & Sales",
    ]
    assert {"55-1011", "21-1018", "13-1020"} <= set(by_code)


def test_stripping_and_hyphen_restored(sample: pl.DataFrame) -> None:
    assert ("472111", "Electricians", " Construction ", "Skilled Trades\u00a0") in SAMPLE_ROWS
    row = sample.filter(pl.col("occupation_title") == "Electricians").row(0, named=True)
    assert (row["soc_code"], row["cluster_name_raw"], row["sub_cluster_name_raw"]) == (
        "47-2111",
        "Construction",
        "Skilled Trades",
    )
    nurse = sample.filter(pl.col("soc_code") == "29-1141").row(0, named=True)
    assert nurse["occupation_title"] == "Registered Nurses"


@pytest.mark.parametrize("header_row", [2, 4, 30])
def test_moved_header_row(tmp_path: Path, header_row: int) -> None:
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, SAMPLE_ROWS, header_row=header_row)
    df = read_crosswalk(path)
    assert df.height == len(SAMPLE_ROWS)
    assert df["row_number"][0] == header_row + 1
    assert df.drop("row_number").rows() == SAMPLE_EXPECTED


def test_header_compared_ignoring_case_and_spacing(tmp_path: Path) -> None:
    columns = (" soc code", "Occupation  Title", "CAREER CLUSTER", "Sub-Cluster\u00a0")
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, [NURSE], columns=columns)
    assert read_crosswalk(path).drop("row_number").rows() == [NURSE]


def test_sheet_alone_and_extra_column(tmp_path: Path) -> None:
    columns = (*CROSSWALK_HEADER, "Notes")
    rows = [(*NURSE, "extra")]
    path = write_crosswalk_workbook(
        tmp_path / FILE_NAME,
        rows,  # type: ignore[arg-type]
        columns=columns,
        extra_sheets=False,
    )
    assert read_crosswalk(path).drop("row_number").rows() == [NURSE]


def test_numeric_code_blank_sub_cluster_and_blank_rows(tmp_path: Path) -> None:
    rows = [
        ("15-1252", "Software Developers", "Digital Technology", "Software Solutions"),
        (*ACCOUNTANT[:3], None),
        (" ", "", None, " "),
        ELECTRICIAN,
        (" ", None, "  ", None),
        ("", " ", None, None),
    ]
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, rows)
    wb = openpyxl.load_workbook(path)
    wb[CROSSWALK_SHEET]["A2"] = 151252  # a code stored as a number
    wb.save(path)
    df = read_crosswalk(path)
    assert df.drop("row_number").rows() == [
        ("15-1252", "Software Developers", "Digital Technology", "Software Solutions"),
        ("13-2011", "Accountants and Auditors", "Financial Services", None),
        ELECTRICIAN,
    ]
    assert df["row_number"].to_list() == [2, 3, 5]


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("15-1252", "15-1252"),
        ("151252", "15-1252"),
        (" 15-1252  ", "15-1252"),
        ("151252.0", "15-1252"),
        ("\u00a055-1011", "55-1011"),
        ("15-125", None),
        ("1512520", None),
        ("15.1252", None),
        ("15-1252.00", None),
        ("15 1252", None),
        ("Software Developers", None),
        ("", None),
        (None, None),
    ],
)
def test_normalize_soc_code(raw: str | None, code: str | None) -> None:
    assert normalize_soc_code(raw) == code


# ---- errors ------------------------------------------------------------------------------------
def test_missing_sheet(tmp_path: Path) -> None:
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, [NURSE], sheet="SOC - CC Sub Clusters")
    err = parse_error(path)
    assert_clear(
        err, path, f"no sheet {CROSSWALK_SHEET!r}", "'Overview'", "'SOC - CC Sub Clusters'"
    )


def test_sheet_name_compared_ignoring_case(tmp_path: Path) -> None:
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, [NURSE], sheet="soc - cc - sub-clusters")
    assert read_crosswalk(path).height == 1


def test_header_not_found(tmp_path: Path) -> None:
    columns = ("Code", "Name", "Group", "Subgroup")
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, [NURSE], columns=columns)
    err = parse_error(path)
    assert_clear(err, path, "no sheet has the expected header row", "'SOC Code'", "'Subgroup'")


def test_header_below_scanned_rows(tmp_path: Path) -> None:
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, [NURSE], header_row=150)
    assert_clear(parse_error(path), path, "no sheet has the expected header row")


@pytest.mark.parametrize(
    ("renamed", "missing", "found"),
    [
        ({"Sub-Cluster": "Subcluster"}, "Sub-Cluster", "Subcluster"),
        ({"Occupation Title": "Occupation"}, "Occupation Title", "Occupation"),
        ({"Career Cluster": None}, "Career Cluster", "Sub-Cluster"),
        ({"SOC Code": "2018 SOC Code"}, "SOC Code", "2018 SOC Code"),
    ],
)
def test_renamed_or_missing_column(
    tmp_path: Path, renamed: dict[str, str | None], missing: str, found: str
) -> None:
    columns = tuple(c for c in (renamed.get(n, n) for n in CROSSWALK_HEADER) if c)
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, [NURSE], columns=columns)
    err = parse_error(path)
    assert_clear(err, path, f"has no column {missing!r}", "Expected columns:", repr(found), "row 1")


@pytest.mark.parametrize(
    "bad", ["15-125", "15.1252", "Software Developers", "15-1252.00", "1512520"]
)
def test_bad_soc_code_names_row_and_value(tmp_path: Path, bad: str) -> None:
    rows = [NURSE, ELECTRICIAN, (bad, "Software Developers", "Digital Technology", None)]
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, rows, header_row=3)
    err = parse_error(path)
    assert_clear(err, path, f"row 6: SOC code {bad!r} is not a SOC code", CROSSWALK_SHEET)


def test_missing_soc_code(tmp_path: Path) -> None:
    rows = [NURSE, (None, "Electricians", "Construction", "Skilled Trades")]
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, rows)
    assert_clear(parse_error(path), path, "row 3: no SOC code", "'Electricians'")


def test_empty_cluster_names_row(tmp_path: Path) -> None:
    rows = [NURSE, ("47-2111", "Electricians", "  ", "Skilled Trades"), ACCOUNTANT]
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, rows)
    assert_clear(parse_error(path), path, "row 3: 47-2111 ('Electricians') has an empty Career")


def test_empty_title_names_row(tmp_path: Path) -> None:
    rows = [NURSE, ACCOUNTANT, ("47-2111", None, "Construction", "Skilled Trades")]
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, rows)
    assert_clear(parse_error(path), path, "row 4: 47-2111 has an empty Occupation Title")


def test_many_problems_are_counted_and_truncated(tmp_path: Path) -> None:
    rows = [(f"X{k}", "Title", "Construction", None) for k in range(15)]
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, rows)
    msg = assert_clear(parse_error(path), path, "15 row(s)", "row 2: SOC code 'X0'", "and 5 more")
    assert "'X10'" not in msg


def test_zero_rows(tmp_path: Path) -> None:
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, [])
    assert_clear(parse_error(path), path, "no crosswalk rows below the header row")


def test_only_blank_rows(tmp_path: Path) -> None:
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, [(" ", " ", " ", " ")] * 3)
    assert_clear(parse_error(path), path, "no crosswalk rows")


def test_duplicate_rows_name_both_rows(tmp_path: Path) -> None:
    rows = [NURSE, ELECTRICIAN, ACCOUNTANT, (" 291141", *NURSE[1:])]
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, rows)
    err = parse_error(path)
    assert_clear(err, path, "29-1141", "'Physical Health'", "row 2 and row 5")


def test_duplicate_ignores_case_and_spacing_of_names(tmp_path: Path) -> None:
    rows = [ELECTRICIAN, NURSE, ("47-2111", "Electricians", "Construction", "skilled  trades")]
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, rows)
    assert_clear(parse_error(path), path, "47-2111", "row 2 and row 4")


def test_same_soc_other_sub_cluster_or_cluster_is_not_duplicate(tmp_path: Path) -> None:
    rows = [
        ELECTRICIAN,
        ("47-2111", "Electricians", "Construction", None),
        ("47-2111", "Electricians", "Energy & Natural Resources", "Utilities"),
        ("47-2111", "Electricians", "Construction", "Equipment Operation & Maintenance"),
    ]
    path = write_crosswalk_workbook(tmp_path / FILE_NAME, rows)
    assert read_crosswalk(path).height == 4


BAD_FILES = {
    **NOT_A_WORKBOOK,
    "csv": (b"SOC Code,Occupation Title\n15-1252,Software Developers\n", "not an xlsx"),
    "zero_bytes": (b"", "empty (0 bytes)"),
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_not_a_workbook(tmp_path: Path, kind: str) -> None:
    content, fragment = BAD_FILES[kind]
    path = tmp_path / f"{kind}_{FILE_NAME}"
    path.write_bytes(content)
    msg = assert_clear(parse_error(path), path, fragment)
    assert "Advance CTE" in msg and "framework-crosswalk" in msg


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    assert_clear(parse_error(path), path, "file not found")


def test_empty_workbook(tmp_path: Path) -> None:
    path = tmp_path / FILE_NAME
    openpyxl.Workbook().save(path)
    assert_clear(parse_error(path), path, "contains no data")
