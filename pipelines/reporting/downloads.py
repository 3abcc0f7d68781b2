"""A cluster report's download files: its tables as CSV and as one workbook, and the review
sheet (CSV and XLSX) in the reviewer-decisions format; and the list of links the page shows,
each saying what the file holds."""

from __future__ import annotations

import datetime as dt
import io
import re

import polars as pl
import xlsxwriter

from pipelines.policy.reviews import COLUMNS as REVIEW_COLUMNS
from pipelines.reporting.data import ClusterData, bls_disclaimer
from schemas.dictionary import column_description

XLSX_EPOCH = dt.datetime(2000, 1, 1)  # fixed workbook timestamps: same data, same bytes
# the warehouse table each download is a slice of: its columns mean what the data dictionary says
DOWNLOAD_TABLES = {
    "summary": "out_profiles__cluster_summary",
    "occupations": "out_profiles__cluster_occupations",
    "industries": "out_clusters__cluster_industry",
    "states": "out_profiles__cluster_states",
    "changes": "out_profiles__cluster_changes",
    "industry-changes": "out_profiles__cluster_industry_changes",
}
WIDE = {("about", "about"): 120, ("columns", "meaning"): 120, ("columns", "column"): 40}


def _xlsx(sheets: dict[str, pl.DataFrame], *, for_review: bool = False) -> bytes:
    """One workbook, a sheet per frame, with fixed document timestamps; built in memory, so a
    full temporary folder cannot break the reports. `for_review`: the review sheet, where every
    column is text (Excel would turn a typed 2026-12-01 into a date and save it as 12/1/2026,
    which the decisions file rejects) and `decision` offers its words in a drop-down."""
    buffer = io.BytesIO()
    options = {"strings_to_urls": False, "strings_to_formulas": False, "in_memory": True}
    with xlsxwriter.Workbook(buffer, options) as book:
        book.set_properties({"created": XLSX_EPOCH, "title": "career-cluster-profiles"})
        header = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        text = book.add_format({"num_format": "@"}) if for_review else None
        for name, frame in sheets.items():
            sheet = book.add_worksheet(name[:31])
            for col, column in enumerate(frame.columns):
                sheet.write_string(0, col, column, header)
                width = WIDE.get((name, column)) or min(60, max(10, len(column) + 2))
                sheet.set_column(col, col, width, text)
            if for_review and "decision" in frame.columns:
                col = frame.columns.index("decision")
                sheet.data_validation(
                    1,
                    col,
                    frame.height + 500,
                    col,
                    {
                        "validate": "list",
                        "source": ["add", "remove", "move", "keep"],
                        "error_type": "warning",
                        "input_title": "decision",
                        "input_message": "add, remove or move (blank or keep: no change)",
                    },
                )
            for row_index, row in enumerate(frame.iter_rows(), start=1):
                for col, value in enumerate(row):
                    if value is None:
                        continue
                    if isinstance(value, bool):
                        sheet.write_boolean(row_index, col, value)
                    elif isinstance(value, int | float):
                        sheet.write_number(row_index, col, value)
                    else:
                        sheet.write_string(row_index, col, str(value))
            sheet.freeze_panes(1, 0)
            if frame.width:
                sheet.autofilter(0, 0, frame.height, frame.width - 1)
    return buffer.getvalue()


def review_sheet(data: ClusterData) -> pl.DataFrame:
    """The cluster's occupation x sub-cluster rows in the reviewer-decisions format, with
    context columns after the ten the pipeline reads. The decisions already made for this
    cluster are filled in (and occupations they took out of it are listed with them), so the
    sheet saved as the decisions file keeps them; every other row's decision is left empty."""
    key = ["soc_code", "cluster", "sub_cluster"]
    decided = REVIEW_COLUMNS[4:]
    current = data.assignments.select(
        pl.col("soc_code"),
        pl.col("occupation_name").alias("occupation_title"),
        pl.col("cluster_name").alias("cluster"),
        pl.col("sub_cluster_name").alias("sub_cluster"),
        pl.col("status").alias("context_status"),
        pl.col("employment_count").alias("context_employment_count"),
        pl.col("layer").alias("context_assigned_by"),
        pl.col("is_primary").alias("context_is_primary_cluster"),
        # why it is here ("sub-cluster by default" invites a reviewer's move)
        pl.col("evidence").alias("context_evidence"),
    )
    # the decisions in the order they are applied (file, line): decisions on one occupation
    # can depend on their order, so the sheet keeps it within each occupation
    made = data.sheet_decisions.select(*REVIEW_COLUMNS).with_row_index("applied")
    kept = current.join(made.select(*key, *decided, "applied"), on=key, how="left").with_columns(
        pl.col(decided).fill_null("")
    )
    gone = made.join(current, on=key, how="anti")  # removed or moved out of this cluster
    sheet = (
        pl.concat([kept, gone], how="diagonal_relaxed")
        .sort("soc_code", "applied", "sub_cluster", nulls_last=True)
        .select(*REVIEW_COLUMNS, *current.columns[4:])
    )
    assert sheet.columns[: len(REVIEW_COLUMNS)] == REVIEW_COLUMNS
    return sheet


# What each download holds, for a reader choosing one (keyed by the part after the slug).
DOWNLOAD_DESCRIPTIONS = {
    "summary.csv": "the headline figures",
    "occupations.csv": "every occupation assigned to the cluster: wages, skill tier, status, "
    "reason and evidence",
    "industries.csv": "the sectors and subsectors that employ the qualifying occupations, "
    "for the cluster and for each of its sub-clusters",
    "states.csv": "qualifying jobs and location quotients by state",
    "changes.csv": "what changed for each occupation since the previous release",
    "industry-changes.csv": "what changed for each industry since the previous release",
    "xlsx": "the six tables above, one sheet each, after a sheet on their sources and one "
    "saying what each column means",
    "review-sheet.csv": "the review sheet (CSV), to fill in as described above",
    "review-sheet.xlsx": "the review sheet (Excel), to fill in as described above",
}


def download_links(
    data: ClusterData, files: dict[str, bytes], tables: dict[str, pl.DataFrame]
) -> list[tuple[str, str, int, str]]:
    """(name, href, bytes, description) per download of `files`, written from `tables`; a
    table without rows says so, and why when it is a comparison without an earlier release."""
    slug = data.cluster["cluster_code"]
    rows = {f"{name}.csv": frame.height for name, frame in tables.items()}
    links = []
    for name, blob in files.items():
        part = name.removeprefix(f"{slug}-") if name != f"{slug}.xlsx" else "xlsx"
        text = DOWNLOAD_DESCRIPTIONS[part]
        if rows.get(part, 1) == 0:
            text += (
                ": no rows (no earlier release was compared with this one)"
                if "changes" in part
                else ": no rows"
            )
        links.append((name, f"downloads/{slug}/{name}", len(blob), text))
    return links


def download_tables(data: ClusterData) -> dict[str, pl.DataFrame]:
    """The cluster's tables, by download name: each a CSV and a sheet of the workbook."""
    # the cluster's own rows first, then each sub-cluster's (sub_cluster_code names it)
    industries = pl.concat([data.sectors, data.subsectors, data.sub_cluster_industries]).sort(
        pl.col("sub_cluster_code").is_not_null(),
        "sub_cluster_code",
        "industry_level",
        "employment_count",
        "industry_code",
        descending=[False, False, False, True, False],
        nulls_last=False,
    )
    return {
        "summary": pl.DataFrame([data.summary]),
        "occupations": data.occupations,
        "industries": industries,
        "states": data.states,
        "changes": data.changes,
        "industry-changes": data.industry_changes,
    }


def about_sheet(data: ClusterData, skill_item: str) -> pl.DataFrame:
    """The workbook's first sheet: what it is, where its figures come from, and the
    attributions its sources require (O*NET's CC BY 4.0 where its Job Zones set skill tiers),
    so the file carries them wherever it is sent."""
    release = data.release
    lines = [
        f"{data.cluster['cluster_name']}: Career Cluster industry profile, "
        f"{release['release_name']} (career-cluster-profiles)",
        f"Data: BLS Occupational Employment and Wage Statistics (OEWS), "
        f"{release['release_name']} ({release['source_label']}).",
        # the screen, so the margins and statuses can be read without the report
        f"Screen: an occupation qualifies when it is middle- or high-skill and its national "
        f"{data.wage_statistic} wage meets the living wage of {data.threshold_label}; "
        "living_wage_margin_usd and _pct compare that wage with it.",
        # in the order the screen tried the sources, each with its rule, as the report says
        skill_item,
        bls_disclaimer(data.projection is not None),
        *([data.used.onet_attribution] if data.used.onet_attribution else []),
        "The National Career Clusters® Framework is © Advance CTE; this workbook is not "
        "produced or endorsed by Advance CTE.",
        "The columns sheet says what each column of the other sheets means. Each of them is "
        "also a CSV file beside this workbook.",
        "The industries sheet holds the cluster's own rows (sub_cluster_code empty), then each "
        "sub-cluster's, whose jobs are part of the cluster's: to add up jobs, take the "
        "cluster's rows or one sub-cluster's, never both.",
    ]
    return pl.DataFrame({"about": lines})


def for_a_workbook(text: str) -> str:
    """A description as a spreadsheet reader meets it: a NULL is an empty cell."""
    text = re.sub(r"\bNULL\b", "empty", text)
    return re.sub(r"(^|\. )empty", lambda m: m.group(1) + "Empty", text)


def columns_sheet(tables: dict[str, pl.DataFrame]) -> pl.DataFrame:
    """The workbook's second sheet: what every column of the other sheets means (from the
    data dictionary), so a reader far from the warehouse and its docs can still tell a median
    from a weighted average of medians."""
    rows = [
        (name, column, for_a_workbook(column_description(DOWNLOAD_TABLES[name], column) or ""))
        for name, frame in tables.items()
        for column in frame.columns
    ]
    return pl.DataFrame(rows, schema=["sheet", "column", "meaning"], orient="row")


def downloads(
    data: ClusterData, tables: dict[str, pl.DataFrame], skill_item: str
) -> dict[str, bytes]:
    """File name -> bytes for the cluster's download folder: `tables` (download_tables), the
    workbook of them all (after an `about` sheet and a `columns` sheet) and the review sheet.
    `skill_item`: the policy's sentence on where the skill tiers came from, as the report
    states it (QualificationPolicy.skill_item)."""
    slug = data.cluster["cluster_code"]
    sheet = review_sheet(data)
    files = {f"{slug}-{name}.csv": frame.write_csv().encode() for name, frame in tables.items()}
    files[f"{slug}.xlsx"] = _xlsx(
        {"about": about_sheet(data, skill_item), "columns": columns_sheet(tables), **tables}
    )
    files[f"{slug}-review-sheet.csv"] = sheet.write_csv().encode()
    files[f"{slug}-review-sheet.xlsx"] = _xlsx({"review": sheet}, for_review=True)
    return files
