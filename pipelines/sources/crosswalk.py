"""Advance CTE's Framework Crosswalk: SOC occupations -> Career Clusters and Sub-Clusters.

The workbook `Full_Framework_Crosswalk_SOC-Career-Clusters.xlsx` (linked from
https://careertech.org/resource/framework-crosswalk/) holds the sheets `Overview`,
`SOC - CC - Sub-Clusters`, `SOC - CC (Wide)`, `Single Career Cluster SOCs` and
`Interdisciplinary SOCs`. Only the long sheet `SOC - CC - Sub-Clusters` is read: header
`SOC Code`, `Occupation Title`, `Career Cluster`, `Sub-Cluster` (found by content, so a
banner above it is tolerated) and one row per SOC x sub-cluster. An SOC may sit in several
sub-clusters of one cluster and in several clusters.

Names are returned as published, only stripped of surrounding whitespace: serial commas
("Arts, Entertainment, & Design") and odd casing ("software solutions") are kept, because
matching them against the framework definition (and reporting unmatched names) is another
module's job. The file also holds military `55-xxxx` codes (OEWS has none), OEWS aggregate
codes (21-1018, ...) and broad groups shown as detailed occupations (13-1020, ...); they are
kept as they are. SOC codes are accepted with or without the hyphen ("151252") and with
stray spaces; anything else is an error naming the row.

The project never ships this workbook or any extract of it.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import polars as pl

from pipelines.sources.files import SourceError
from pipelines.sources.naics import describe_sheets, find_header, norm_header, read_xlsx_sheets

log = logging.getLogger(__name__)

CROSSWALK_SOURCE = "Advance CTE Framework Crosswalk"
CROSSWALK_SHEET = "SOC - CC - Sub-Clusters"
CROSSWALK_LANDING_URL = "https://careertech.org/resource/framework-crosswalk/"
DEFAULT_CROSSWALK_URL = (
    "https://careertech.org/wp-content/uploads/2025/09/"
    "Full_Framework_Crosswalk_SOC-Career-Clusters.xlsx"
)
CROSSWALK_COLUMNS = {
    "soc": "SOC Code",
    "title": "Occupation Title",
    "cluster": "Career Cluster",
    "sub_cluster": "Sub-Cluster",
}
CROSSWALK_SCHEMA: dict[str, pl.DataType] = {
    "row_number": pl.Int32(),
    "soc_code": pl.String(),
    "occupation_title": pl.String(),
    "cluster_name_raw": pl.String(),
    "sub_cluster_name_raw": pl.String(),
}
CROSSWALK_REMEDY = (
    "Download the Framework Crosswalk again from Advance CTE "
    f"({CROSSWALK_LANDING_URL}, file Full_Framework_Crosswalk_SOC-Career-Clusters.xlsx), "
    f"save it unchanged as .xlsx and point CCP_CROSSWALK_LOCAL_PATH at it. The sheet "
    f"{CROSSWALK_SHEET!r} "
    f"must keep its header {', '.join(repr(c) for c in CROSSWALK_COLUMNS.values())}."
)
_SHOWN_PROBLEMS = 10
_SOC_HYPHEN_RE = re.compile(r"(\d{2})-(\d{4})")
_SOC_DIGITS_RE = re.compile(r"(\d{2})(\d{4})")
_FLOAT_SUFFIX_RE = re.compile(r"\.0+$")  # 151252 stored as a number may read as "151252.0"


def normalize_soc_code(value: str | None) -> str | None:
    """`XX-XXXX` from a crosswalk cell ("15-1252", "151252", " 15-1252 ", "151252.0"), or
    None when the cell is not a SOC code.

    >>> normalize_soc_code("151252 ")
    '15-1252'
    """
    text = " ".join((value or "").split())  # also drops no-break spaces
    text = _FLOAT_SUFFIX_RE.sub("", text) if _SOC_DIGITS_RE.match(text) else text
    match = _SOC_HYPHEN_RE.fullmatch(text) or _SOC_DIGITS_RE.fullmatch(text)
    return f"{match.group(1)}-{match.group(2)}" if match else None


def _cell(value: str | None) -> str:
    """Cell text stripped of surrounding whitespace (incl. no-break spaces); '' if blank."""
    return (value or "").strip()


def _find_sheet(sheets: dict[str, pl.DataFrame], path: Path) -> str:
    """The crosswalk sheet's actual name (compared ignoring case and spacing)."""
    by_name = {norm_header(name): name for name in sheets}
    sheet = by_name.get(norm_header(CROSSWALK_SHEET))
    if sheet is None:
        raise SourceError(
            CROSSWALK_SOURCE,
            f"{path} has no sheet {CROSSWALK_SHEET!r}; sheets found: {describe_sheets(sheets)}",
            "Check that this is Advance CTE's full Framework Crosswalk (SOC to Career "
            "Clusters) workbook and that the sheet was not renamed or deleted. "
            f"{CROSSWALK_REMEDY}",
        )
    return sheet


def _raise_problems(where: str, problems: list[str]) -> None:
    if problems:
        more = len(problems) - _SHOWN_PROBLEMS
        raise SourceError(
            CROSSWALK_SOURCE,
            f"{where}: {len(problems)} row(s) below the header are not usable crosswalk rows: "
            f"{'; '.join(problems[:_SHOWN_PROBLEMS])}" + (f"; and {more} more" if more > 0 else ""),
            "Every row needs a SOC code written XX-XXXX (or XXXXXX), an occupation title and "
            "a Career Cluster. Remove notes or stray cells below the header, or fetch an "
            f"unmodified copy. {CROSSWALK_REMEDY}",
        )


def _check_duplicates(where: str, records: list[tuple[int, str, str, str, str | None]]) -> None:
    """Raise when a (SOC, cluster, sub-cluster) triple appears on more than one row; names
    are compared ignoring case and spacing."""
    seen: dict[tuple[str, str, str], list[int]] = {}
    for row, code, _, cluster, sub in records:
        seen.setdefault((code, norm_header(cluster), norm_header(sub)), []).append(row)
    by_row = {r[0]: r for r in records}
    dups = [rows for rows in seen.values() if len(rows) > 1]
    if not dups:
        return
    shown = []
    for rows in dups[:_SHOWN_PROBLEMS]:
        _, code, _, cluster, sub = by_row[rows[0]]
        at = " and ".join(f"row {r}" for r in rows)
        shown.append(f"{code} / {cluster!r} / {sub!r} on {at}")
    more = len(dups) - _SHOWN_PROBLEMS
    raise SourceError(
        CROSSWALK_SOURCE,
        f"{where}: {len(dups)} (SOC code, Career Cluster, Sub-Cluster) combination(s) appear "
        f"on more than one row (names compared ignoring case and spacing): {'; '.join(shown)}"
        + (f"; and {more} more" if more > 0 else ""),
        "Each SOC code is listed once per sub-cluster; the sheet looks edited or "
        f"concatenated. Delete the repeated rows or fetch an unmodified copy. {CROSSWALK_REMEDY}",
    )


def read_crosswalk(path: Path) -> pl.DataFrame:
    """The `SOC - CC - Sub-Clusters` sheet of the Framework Crosswalk workbook, one row per
    SOC x sub-cluster in sheet order (see `CROSSWALK_SCHEMA`):

    * `row_number` (Int32): the spreadsheet row the record came from;
    * `soc_code`: `XX-XXXX` (a code stored as `XXXXXX` or with stray spaces is repaired);
    * `occupation_title`, `cluster_name_raw`: stripped, otherwise as published;
    * `sub_cluster_name_raw`: stripped, as published; null when the cell is blank.

    Fully blank rows are skipped. Raises SourceError (naming the file, the problem and what
    to do) for a file that is not a readable xlsx (HTML page, corrupt zip, password-
    protected workbook), a missing sheet, a header not found or with a renamed or missing
    column, rows with a malformed SOC code, no title or no cluster, no data rows, and
    duplicate (SOC, cluster, sub-cluster) rows.
    """
    path = Path(path)
    sheets = read_xlsx_sheets(path, source=CROSSWALK_SOURCE, remedy=CROSSWALK_REMEDY)
    sheet = _find_sheet(sheets, path)
    match = find_header(
        {sheet: sheets[sheet]},
        {"Framework Crosswalk": CROSSWALK_COLUMNS},
        path=path,
        source=CROSSWALK_SOURCE,
        remedy=CROSSWALK_REMEDY,
    )
    cols = [match.columns[role] for role in CROSSWALK_COLUMNS]
    where = f"{path} (sheet {sheet!r}, header on row {match.row + 1})"

    records: list[tuple[int, str, str, str, str | None]] = []
    problems: list[str] = []
    below = sheets[sheet].slice(match.row + 1)
    for i, row in enumerate(below.iter_rows(), start=match.row + 2):
        raw_code, title, cluster, sub = (_cell(row[j]) for j in cols)
        if not (raw_code or title or cluster or sub):
            continue  # blank (trailing) rows
        code = normalize_soc_code(raw_code)
        if not raw_code:
            problems.append(f"row {i}: no SOC code (title {title!r}, cluster {cluster!r})")
        elif code is None:
            problems.append(f"row {i}: SOC code {raw_code!r} is not a SOC code (XX-XXXX)")
        elif not cluster:
            problems.append(f"row {i}: {code} ({title!r}) has an empty Career Cluster")
        elif not title:
            problems.append(f"row {i}: {code} has an empty Occupation Title")
        else:
            records.append((i, code, title, cluster, sub or None))
    _raise_problems(where, problems)
    if not records:
        raise SourceError(
            CROSSWALK_SOURCE,
            f"{where}: no crosswalk rows below the header row (only the header and blank rows)",
            f"The file looks truncated or emptied. {CROSSWALK_REMEDY}",
        )
    _check_duplicates(where, records)

    log.info(
        "%s: %d rows, %d SOC codes, %d distinct cluster names, %d distinct sub-cluster names",
        where,
        len(records),
        len({r[1] for r in records}),
        len({r[3] for r in records}),
        len({r[4] for r in records if r[4] is not None}),
    )
    return pl.DataFrame(
        {
            "row_number": [r[0] for r in records],
            "soc_code": [r[1] for r in records],
            "occupation_title": [r[2] for r in records],
            "cluster_name_raw": [r[3] for r in records],
            "sub_cluster_name_raw": [r[4] for r in records],
        },
        schema=CROSSWALK_SCHEMA,
    )
