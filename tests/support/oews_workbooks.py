"""BLS's annual OEWS workbooks written from the embedded release, for tests of the history path.

`national_MYYYY_dl.xlsx` (national cross-industry rows) and `oesmYYin4.zip` (the national
industry workbooks natsector_, nat3d_, nat4d_, nat5d_6d_, plus an `_owner` variant the reader
must leave out) in the layout of ../shared/docs/data-sources.md §2: 32 columns, numbers as
numeric cells, markers for values BLS did not publish (`#` at or above the top code, `*` a wage
not available, `**` employment not available), ANNUAL/HOURLY = TRUE for occupations paid only
one way. Reading them back must give the embedded path's estimates.
"""

from __future__ import annotations

import sqlite3
import zipfile
from pathlib import Path

import xlsxwriter

from pipelines.sources.oews_xlsx import COLUMNS, DATATYPE_OF

NATIONAL_CELLS = "OEUN0000000000000"
I_GROUP = {2: "sector", 3: "3-digit", 4: "4-digit"}
O_GROUP = {0: "major", 1: "minor", 2: "broad", 3: "detailed"}
HOURLY = ("03", "06", "07", "08", "09", "10")
ANNUAL = ("04", "11", "12", "13", "14", "15")
FILE_OF_LEVEL = {2: "natsector", 3: "nat3d", 4: "nat4d", 5: "nat5d_6d"}


def workbook_naics(industry_code: str) -> str:
    """The workbooks' NAICS value for a time-series industry code (`31--34` -> `31-33`)."""
    if "-" not in industry_code:
        return industry_code
    first, last = industry_code.replace("--", "-").split("-")
    end = int(last) - 1
    if first == "99":
        return "99"
    return first if int(first) == end else f"{first}-{end:02d}"


def _i_group(code: str, level: int) -> str:
    if level in I_GROUP:
        return I_GROUP[level]
    return "6-digit" if code[5] != "0" else "5-digit"


def _marker(datatype: str, footnote: str | None) -> str:
    if footnote == "5":
        return "#"
    return "**" if datatype in ("01", "02") else "*"


def _rows(con: sqlite3.Connection, prefix_sql: str, params: list[str]) -> list[list[object]]:
    """Workbook rows for the cells whose key matches, in key order."""
    values = ", ".join(f"c.v{d}, c.f{d}" for d in DATATYPE_OF.values())
    query = f"""
        SELECT substr(c.key, 12, 6) AS industry_code, i.industry_name, i.display_level,
               substr(c.key, 18, 6) AS occupation_code, o.occupation_name, o.display_level,
               {values}
        FROM cell c
        JOIN industry i ON i.industry_code = substr(c.key, 12, 6)
        JOIN occupation o ON o.occupation_code = substr(c.key, 18, 6)
        WHERE {prefix_sql} ORDER BY c.key
    """
    rows = []
    for record in con.execute(query, params):
        industry, industry_name, industry_level, occ, occ_name, occ_level = record[:6]
        pairs = zip(record[6::2], record[7::2], strict=True)
        cells = dict(zip(DATATYPE_OF.values(), pairs, strict=True))
        annual_only = any(cells[d][1] == "4" for d in HOURLY)
        hourly_only = any(cells[d][1] == "4" for d in ANNUAL)
        by_column: dict[str, object] = {}
        for column, datatype in DATATYPE_OF.items():
            value, footnote = cells[datatype]
            by_column[column] = (
                None if value is None else _marker(datatype, footnote) if value == "-"
                else float(value)
            )  # fmt: skip
        soc = f"{occ[:2]}-{occ[2:]}"
        row = {
            "AREA": "99", "AREA_TITLE": "U.S.", "AREA_TYPE": "1", "PRIM_STATE": "US",
            "NAICS": workbook_naics(industry), "NAICS_TITLE": industry_name,
            "I_GROUP": "cross-industry" if industry == "000000"
                       else _i_group(industry, industry_level),
            "OWN_CODE": "1235", "OCC_CODE": soc, "OCC_TITLE": occ_name,
            "O_GROUP": "total" if occ == "000000" else O_GROUP[occ_level],
            "PCT_TOTAL": None, "PCT_RPT": None, "ANNUAL": "TRUE" if annual_only else None,
            "HOURLY": "TRUE" if hourly_only else None, **by_column,
        }  # fmt: skip
        rows.append([row[c] for c in COLUMNS])
    return rows


def _write(path: Path, sheet: str, rows: list[list[object]], top_code: str | None) -> Path:
    with xlsxwriter.Workbook(str(path)) as book:
        data = book.add_worksheet(sheet)
        data.write_row(0, 0, COLUMNS)
        for number, row in enumerate(rows, start=1):
            data.write_row(number, 0, row)
        if top_code:
            notes = book.add_worksheet("Field Descriptions")
            notes.write(0, 0, "Field")
            notes.write(1, 0, f"# = {top_code}")
    return path


def write_annual_workbooks(
    sqlite: Path,
    folder: Path,
    year: str,
    industries: list[str],
    recode: dict[str, tuple[str, str]] | None = None,
) -> tuple[Path, Path]:
    """`national_M{year}_dl.xlsx` and `oesm{yy}in4.zip` holding `industries` (time-series codes).

    `recode` publishes an industry's cells under another code and title (time-series code ->
    workbook NAICS, NAICS_TITLE), as a NAICS revision does."""
    renamed = {workbook_naics(c): new for c, new in (recode or {}).items()}
    naics, title = COLUMNS.index("NAICS"), COLUMNS.index("NAICS_TITLE")
    folder.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(sqlite)
    try:
        (top,) = con.execute(
            "SELECT footnote_text FROM footnote WHERE footnote_code = '5'"
        ).fetchone()
        national = _write(
            folder / f"national_M{year}_dl.xlsx",
            f"national_M{year}_dl",
            _rows(con, "substr(c.key, 1, 17) = ?", [NATIONAL_CELLS]),
            top.removeprefix("This wage is equal to or greater than ").rstrip("."),
        )
        levels = dict(
            con.execute(
                f"SELECT industry_code, display_level FROM industry WHERE industry_code IN "
                f"({', '.join('?' * len(industries))})",
                industries,
            ).fetchall()
        )
        archive = folder / f"oesm{year[2:]}in4.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for level, stem in FILE_OF_LEVEL.items():
                codes = [c for c in industries if levels[c] == level]
                rows = _rows(
                    con,
                    f"substr(c.key, 1, 11) = 'OEUN0000000' AND substr(c.key, 12, 6) IN "
                    f"({', '.join('?' * len(codes))})",
                    codes,
                ) if codes else []  # fmt: skip
                for row in rows:
                    if row[naics] in renamed:
                        row[naics], row[title] = renamed[row[naics]]
                name = f"{stem}_M{year}_dl"
                written = _write(folder / f"{name}.xlsx", name, rows, None)
                zf.write(written, f"oesm{year[2:]}in4/{name}.xlsx")
                # the ownership split of the same industries: never to be added to the others
                owner = [[*r[:7], "5", *r[8:11], 1.0, *r[12:]] for r in rows]
                owner_name = f"{stem}_owner_M{year}_dl"
                zf.write(
                    _write(folder / f"{owner_name}.xlsx", owner_name, owner, None),
                    f"oesm{year[2:]}in4/{owner_name}.xlsx",
                )
    finally:
        con.close()
    return national, archive
