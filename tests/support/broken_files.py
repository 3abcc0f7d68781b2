"""Broken copies of the workbooks and user files the pipeline reads, one way of breaking each.

Workbook kinds (the same five for every workbook): a missing sheet, a header row moved where
the parser does not look (EP and the crosswalk find their header by content in the first 20 /
100 rows, so a small move is tolerated; BLS's national workbook must start with it), a renamed
column, a corrupt zip, and a password-protected (encrypted) file.
"""

from __future__ import annotations

from pathlib import Path

import xlsxwriter
import yaml

from pipelines.sources.oews_xlsx import COLUMNS as OEWS_COLUMNS
from tests.support.crosswalk_workbook import CROSSWALK_HEADER, SAMPLE_ROWS
from tests.support.crosswalk_workbook import write_crosswalk_workbook as write_crosswalk
from tests.support.workbooks import NOT_A_WORKBOOK
from tests.test_ep import header as ep_header
from tests.test_ep import write_ep

WORKBOOK_KINDS = ["missing-sheet", "moved-header", "renamed-column", "corrupt-zip", "password"]
POLICY = Path(__file__).resolve().parents[2] / "pipelines" / "policy" / "qualification.yaml"
REVIEW_HEADER = (
    "soc_code,occupation_title,cluster,sub_cluster,decision,to_cluster,to_sub_cluster,"
    "reviewer,date,rationale\n"
)


def _not_a_workbook(path: Path, kind: str) -> Path | None:
    blob = {"corrupt-zip": "corrupt_zip", "password": "cfb_encrypted"}.get(kind)
    if blob is None:
        return None
    path.write_bytes(NOT_A_WORKBOOK[blob][0])
    return path


def ep_workbook(folder: Path, kind: str) -> Path:
    """BLS Employment Projections occupation.xlsx, broken one way."""
    path = folder / "occupation.xlsx"
    if _not_a_workbook(path, kind):
        return path
    if kind == "missing-sheet":
        return write_ep(path, sheet="Table 1.7")
    if kind == "moved-header":
        return write_ep(path, banner_rows=25)
    head = ep_header()
    head[10] = "Annual job openings, 2024–34"
    return write_ep(path, head=head)


def crosswalk_workbook(folder: Path, kind: str) -> Path:
    """Advance CTE's Framework Crosswalk, broken one way."""
    path = folder / "crosswalk.xlsx"
    if _not_a_workbook(path, kind):
        return path
    if kind == "missing-sheet":
        return write_crosswalk(path, SAMPLE_ROWS, sheet="SOC - CC Sub Clusters")
    if kind == "moved-header":
        return write_crosswalk(path, SAMPLE_ROWS, header_row=150)
    columns = tuple("Subcluster" if c == "Sub-Cluster" else c for c in CROSSWALK_HEADER)
    return write_crosswalk(path, SAMPLE_ROWS, columns=columns)


def oews_workbook(folder: Path, kind: str) -> Path:
    """BLS's national OEWS workbook (history backfill), broken one way."""
    path = folder / "national_M2024_dl.xlsx"
    if _not_a_workbook(path, kind):
        return path
    columns = [
        "EMPLOYMENT" if c == "TOT_EMP" and kind == "renamed-column" else c for c in OEWS_COLUMNS
    ]
    with xlsxwriter.Workbook(str(path)) as book:
        sheet = book.add_worksheet("national" if kind == "missing-sheet" else "national_M2024_dl")
        top = 0
        if kind == "moved-header":
            sheet.write(0, 0, "May 2024 National Occupational Employment and Wage Estimates")
            top = 1
        sheet.write_row(top, 0, columns)
        sheet.write_row(top + 1, 0, ["99", "U.S.", "1", "US", "000000", "Cross-industry"])
        book.add_worksheet("Field Descriptions").write(
            0, 0, "# = wage >= $115.00 per hour or $239,200 per year"
        )
    return path


def review_decisions(folder: Path, rows: str) -> Path:
    """A reviewer-decisions CSV with the review sheet's header and `rows`."""
    path = folder / "reviewer_decisions.csv"
    path.write_text(REVIEW_HEADER + rows, encoding="utf-8")
    return path


def policy(folder: Path, *, living_wage_csv: str | None = None, hourly_usd: float = 25.0) -> Path:
    """A copy of the qualification policy with a state living-wage CSV and/or a threshold."""
    data = yaml.safe_load(POLICY.read_text(encoding="utf-8"))
    data["living_wage"]["hourly_usd"] = hourly_usd
    if living_wage_csv is not None:
        csv = folder / "state_living_wages.csv"
        csv.write_text("state,hourly,source,year\n" + living_wage_csv, encoding="utf-8")
        data["living_wage"]["state_thresholds_csv"] = str(csv)
    path = folder / "qualification.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
