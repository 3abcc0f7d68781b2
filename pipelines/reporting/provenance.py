"""A report's Sources table: every input with where it came from and its checksum, said of
the release the report is of.

The OEWS files are recorded per release. The other sources (EP, O*NET, the crosswalk, the code
lists) are recorded once, by the latest run that read them, so a release built by an earlier run
may have been made with a file that record no longer lists, or without one it does: a report
re-rendered after a later run with other sources would otherwise cite what that run loaded.
What the release itself used is known from its own tables (where its skill tiers came from,
whether its assignment has the crosswalk's layer, whether its occupations carry EP figures), so
those rows say so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import polars as pl

from pipelines.warehouse import fetch_one, query_frame, table_exists

if TYPE_CHECKING:
    from pipelines.reporting.data import SourcesUsed

# why a release's own tables show they were made without a file the latest run loaded: the
# file came later, or the release's policy had no use for it (EP covering every occupation)
UNUSED_BECAUSE = {
    "ep": "its skill tiers came from other sources and its occupations carry no EP figures",
    "onet": "its skill tiers came from other sources (the policy's first choice covered them, "
    "or O*NET was loaded after they were set)",
    "crosswalk": "its cluster assignment has no layer from the crosswalk",
}


def _has_ep_figures(con: duckdb.DuckDBPyConnection, release: str) -> bool:
    table = "out_profiles__cluster_occupations"
    if not table_exists(con, table):
        return False
    found = fetch_one(
        con,
        f"SELECT count(*) FROM {table} WHERE release_code = ? AND "
        "(openings_annual_thousands IS NOT NULL OR employment_change_pct IS NOT NULL)",
        [release],
    )
    return bool(found and found[0])


def release_uses(
    con: duckdb.DuckDBPyConnection, release: str, used: SourcesUsed
) -> dict[str, bool]:
    """Whether `release`'s own tables (`used`: its `sources_used`) were made with EP, O*NET
    and the crosswalk."""
    return {
        "ep": "ep" in used.skill_sources or _has_ep_figures(con, release),
        "onet": used.uses_onet,
        "crosswalk": used.uses_crosswalk,
    }


def sources_frame(
    con: duckdb.DuckDBPyConnection, release: str, uses: dict[str, bool]
) -> pl.DataFrame:
    """Every input with URL, retrieval time and sha256: the release's OEWS files and the other
    sources, with `uses` (`release_uses`) correcting what the latest run's record says."""
    frame = query_frame(
        con,
        """
        SELECT 'oews' AS source, file_name, coalesce(url, local_path) AS url, size_bytes, sha256,
               retrieved_at,
               CASE WHEN is_parsed THEN 'file used' ELSE 'listed in the snapshot' END AS use,
               source_mode AS note
        FROM stg_oews__files WHERE release_code = ?
        UNION ALL
        SELECT source, file_name, url, size_bytes, sha256, retrieved_at,
               CASE WHEN is_used THEN 'file used'
                    WHEN note LIKE 'no copy offline%' OR note LIKE 'left out%'
                      OR note LIKE 'not available%' THEN 'not used'
                    ELSE 'no file needed' END, note
        FROM raw_sources__files
        ORDER BY source, file_name NULLS FIRST
        """,
        [release],
    )
    rows = []
    for row in frame.iter_rows(named=True):
        used = uses.get(row["source"])
        if used is False and row["use"] == "file used":
            row |= {
                "use": "not used for this release",
                "note": f"the file is in the warehouse, but {release}'s tables were made "
                f"without it: {UNUSED_BECAUSE[row['source']]}",
            }
        elif used and row["use"] == "not used":
            row |= {
                "use": "used for this release",
                "note": "by the run that built it; this record is of a later run, which did "
                "not load the file",
            }
        rows.append(row)
    return pl.DataFrame(rows, schema=frame.schema) if rows else frame
