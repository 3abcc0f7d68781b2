"""OEWS history from BLS's annual national workbook (`oesmYYnat.zip` -> `national_MYYYY_dl.xlsx`).

BLS's time-series files hold only the current release; earlier years exist as these workbooks.
This reader turns one into the same two things the other OEWS paths produce (code lists as text,
and the cells relation `cell_key, v01..v17, f01..f17` with values as published and `-` for no
value), so the one SQL parser in `sql/stg_oews__estimates.sql` types all three paths alike.

The workbook's markers become the time series' conventions: `#` (at or above the top code) is
`-` with footnote 5, `**` (employment not available) and `*` (wage not available) are `-` with
footnote 8, except that `*` on the hourly side of an ANNUAL=TRUE occupation (or the annual side
of HOURLY=TRUE) is footnote 4, "paid only annually/hourly". The top-code threshold for footnote
5 is read from the workbook's Field Descriptions sheet, since it changes between releases.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import polars as pl

from pipelines.sources.files import FetchedFile, SourceError
from pipelines.sources.oews import CELL_COLUMNS

COLUMNS = [
    "AREA", "AREA_TITLE", "AREA_TYPE", "PRIM_STATE", "NAICS", "NAICS_TITLE", "I_GROUP",
    "OWN_CODE", "OCC_CODE", "OCC_TITLE", "O_GROUP", "TOT_EMP", "EMP_PRSE", "JOBS_1000",
    "LOC_QUOTIENT", "PCT_TOTAL", "PCT_RPT", "H_MEAN", "A_MEAN", "MEAN_PRSE", "H_PCT10",
    "H_PCT25", "H_MEDIAN", "H_PCT75", "H_PCT90", "A_PCT10", "A_PCT25", "A_MEDIAN", "A_PCT75",
    "A_PCT90", "ANNUAL", "HOURLY",
]  # fmt: skip
# workbook column -> OEWS datatype code (the time series' vNN)
DATATYPE_OF = {
    "TOT_EMP": "01", "EMP_PRSE": "02", "H_MEAN": "03", "A_MEAN": "04", "MEAN_PRSE": "05",
    "H_PCT10": "06", "H_PCT25": "07", "H_MEDIAN": "08", "H_PCT75": "09", "H_PCT90": "10",
    "A_PCT10": "11", "A_PCT25": "12", "A_MEDIAN": "13", "A_PCT75": "14", "A_PCT90": "15",
    "JOBS_1000": "16", "LOC_QUOTIENT": "17",
}  # fmt: skip
HOURLY_WAGES = {"H_MEAN", "H_PCT10", "H_PCT25", "H_MEDIAN", "H_PCT75", "H_PCT90"}
ANNUAL_WAGES = {"A_MEAN", "A_PCT10", "A_PCT25", "A_MEDIAN", "A_PCT75", "A_PCT90"}
O_GROUP_LEVEL = {"total": "0", "major": "0", "minor": "1", "broad": "2", "detailed": "3"}
DATATYPE_NAMES = [
    ("01", "Employment"), ("02", "Employment percent relative standard error"),
    ("03", "Hourly mean wage"), ("04", "Annual mean wage"),
    ("05", "Wage percent relative standard error"), ("06", "Hourly 10th percentile wage"),
    ("07", "Hourly 25th percentile wage"), ("08", "Hourly median wage"),
    ("09", "Hourly 75th percentile wage"), ("10", "Hourly 90th percentile wage"),
    ("11", "Annual 10th percentile wage"), ("12", "Annual 25th percentile wage"),
    ("13", "Annual median wage"), ("14", "Annual 75th percentile wage"),
    ("15", "Annual 90th percentile wage"), ("16", "Employment per 1,000 jobs"),
    ("17", "Location Quotient"),
]  # fmt: skip
FOOTNOTE_4 = (
    "Wages for some occupations that do not generally work year-round, full time, are reported "
    "either as hourly wages or annual salaries depending on how they are typically paid."
)
FOOTNOTE_8 = "Estimate not released."
TOP_CODE = re.compile(r"\$([\d,]+\.\d\d) per hour or \$([\d,]+) per year")
WORKBOOK = re.compile(r"^national_M(\d{4})_dl\.xlsx$")
REMEDY = (
    "Use BLS's national workbook as published (https://www.bls.gov/oes/tables.htm, 'All data' "
    "national file, oesmYYnat.zip); the previous release's tables are unchanged."
)


def workbook_from(file: FetchedFile, cache_dir: Path) -> tuple[Path, str]:
    """The national workbook (unzipped into the cache when given the zip) and its year."""
    path = file.path
    if path.suffix.lower() == ".zip":  # (an xlsx is a zip too: go by the name)
        try:
            with zipfile.ZipFile(path) as archive:
                names = [n for n in archive.namelist() if WORKBOOK.match(Path(n).name)]
                if len(names) != 1:
                    raise SourceError(
                        f"oews history ({file.name})",
                        f"the zip holds no single national_MYYYY_dl.xlsx (found "
                        f"{archive.namelist()})",
                        REMEDY,
                        url=file.url,
                    )
                target = cache_dir / "oews-history" / Path(names[0]).name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(names[0]))
                path = target
        except zipfile.BadZipFile as err:
            raise SourceError(
                f"oews history ({file.name})", f"corrupt zip: {err}", REMEDY, url=file.url
            ) from None
    match = WORKBOOK.match(path.name)
    if not match:
        raise SourceError(
            f"oews history ({file.name})",
            f"{path.name} is not named like BLS's national workbook (national_MYYYY_dl.xlsx), "
            "so its release year is unknown",
            "Keep BLS's file name, or point to the oesmYYnat.zip it came in.",
            url=file.url,
        )
    return path, match.group(1)


def _sheet(path: Path, name: str, source: str, **kw) -> pl.DataFrame:
    try:
        return pl.read_excel(path, sheet_name=name, infer_schema_length=0, **kw)
    except Exception as err:  # calamine reports broken files and missing sheets in many types
        raise SourceError(source, f"cannot read sheet {name!r}: {err}", REMEDY) from None


def _cell(column: str) -> list[pl.Expr]:
    """One workbook column as the time series' value (`-` for a marker) and footnote code."""
    raw = pl.col(column).str.strip_chars()
    paid_other = (
        (pl.col("ANNUAL") == "TRUE")
        if column in HOURLY_WAGES
        else ((pl.col("HOURLY") == "TRUE") if column in ANNUAL_WAGES else pl.lit(False))
    )
    is_marker = raw.is_in(["*", "**", "#", "~"])
    code = DATATYPE_OF[column]
    value = pl.when(is_marker).then(pl.lit("-")).otherwise(raw).alias(f"v{code}")
    note = (
        pl.when(raw == "#").then(pl.lit("5"))
        .when((raw == "*") & paid_other.fill_null(False)).then(pl.lit("4"))
        .when(raw.is_in(["*", "**", "~"])).then(pl.lit("8"))
        .otherwise(pl.lit(None, pl.String))
        .alias(f"f{code}")
    )  # fmt: skip
    return [value, note]


def workbook_cells(rows: pl.DataFrame) -> pl.DataFrame:
    """National workbook rows (with `industry_code` and `occupation_code` in the time series'
    codes) as cells: `cell_key` (series_id minus datatype), v01..v17, f01..f17."""
    return rows.select(
        (pl.lit("OEUN0000000") + pl.col("industry_code") + pl.col("occupation_code")).alias(
            "cell_key"
        ),
        *[e for column in DATATYPE_OF for e in _cell(column)],
    ).select(CELL_COLUMNS)


def check_columns(rows: pl.DataFrame, source: str, remedy: str = REMEDY) -> None:
    """The workbook has BLS's 32 columns, in order."""
    if rows.columns != COLUMNS:
        missing = [c for c in COLUMNS if c not in rows.columns]
        extra = [c for c in rows.columns if c not in COLUMNS]
        raise SourceError(
            source,
            f"unexpected columns: missing {missing}, unexpected {extra}"
            if missing or extra
            else "the columns are in an unexpected order",
            remedy,
        )


def read_national_workbook(path: Path, year: str, source: str) -> tuple[dict, pl.DataFrame]:
    """Code lists and cells of one national workbook, in the shared shapes."""
    rows = _sheet(path, f"national_M{year}_dl", source)
    check_columns(rows, source)
    notes = _sheet(path, "Field Descriptions", source, has_header=False)
    text = " ".join(v for row in notes.iter_rows() for v in row if v)
    top = TOP_CODE.search(text)
    if not top:
        raise SourceError(
            source,
            "the Field Descriptions sheet states no top-code threshold "
            "for '#' ($ per hour or $ per year)",
            REMEDY,
        )
    national = rows.filter(
        (pl.col("AREA_TYPE") == "1") & (pl.col("NAICS") == "000000")
    ).with_columns(occupation_code=pl.col("OCC_CODE").str.replace("-", "", literal=True))
    if national.is_empty() or not national["occupation_code"].str.contains(r"^\d{6}$").all():
        raise SourceError(source, "no national cross-industry rows with SOC codes found", REMEDY)
    # broad codes published as detailed appear twice; the time series lists them once, detailed
    national = (
        national.with_columns(level=pl.col("O_GROUP").replace_strict(O_GROUP_LEVEL, default=None))
        .sort("occupation_code", "level", descending=[False, True])
        .unique("occupation_code", keep="first", maintain_order=True)
    )
    if national["level"].null_count():
        raise SourceError(source, f"unknown O_GROUP values {set(national['O_GROUP'])}", REMEDY)

    cells = workbook_cells(national.with_columns(industry_code=pl.lit("000000")))
    release = f"{year}A01"
    hourly, annual = top.group(1), top.group(2)
    frames = {
        "area": pl.DataFrame([["0000000", "N", "00", "National"]],
                             schema=["area_code", "areatype_code", "state_code", "area_name"],
                             orient="row"),
        "industry": pl.DataFrame([["000000", national["NAICS_TITLE"][0], "0"]],
                                 schema=["industry_code", "industry_name", "display_level"],
                                 orient="row"),
        "occupation": national.select(
            pl.col("occupation_code"), pl.col("OCC_TITLE").alias("occupation_name"),
            pl.col("level").alias("display_level"),
        ),
        "datatype": pl.DataFrame(DATATYPE_NAMES, schema=["datatype_code", "datatype_name"],
                                 orient="row"),
        "footnote": pl.DataFrame(
            [["4", FOOTNOTE_4],
             ["5", f"This wage is equal to or greater than ${hourly} per hour or ${annual} per "
                   "year."],
             ["8", FOOTNOTE_8]],
            schema=["footnote_code", "footnote_text"], orient="row",
        ),
        "release": pl.DataFrame([[release, f"May {year}"]],
                                schema=["release_code", "release_name"], orient="row"),
    }  # fmt: skip
    return frames, cells


def read_recorded_workbook(file: FetchedFile) -> tuple[dict, pl.DataFrame]:
    """Code lists and cells of the workbook a history backfill parsed (always the .xlsx itself:
    a zip was unpacked and the workbook recorded beside it)."""
    path, year = workbook_from(file, file.path.parent)
    return read_national_workbook(path, year, f"oews history ({file.name})")
