"""A report's Sources table: every input with where it came from and its checksum, said of
the release the report is of.

The OEWS files are recorded per release. The other sources (EP, O*NET, the crosswalk, the code
lists) are loaded for the whole warehouse and recorded by the latest run that read them; each
table of a release that reads EP, O*NET or the crosswalk also records, in its own swap, the file
it was built with (raw_sources__release_files), and the table cites those. A release built by a
version without that record is described from its own tables instead (where its skill tiers came
from, whether its assignment has the crosswalk's layer, whether its occupations carry EP
figures), so a later run's file is not cited as the one it was made with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import duckdb
import polars as pl

from pipelines.sources.records import FILES, STAGED, release_files
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
# why a file the release's tables recorded reading shows in none of them
RECORDED_UNUSED_BECAUSE = {
    "ep": UNUSED_BECAUSE["ep"],
    "onet": "its skill tiers came from other sources: the policy's first choice covered them",
    "crosswalk": "loaded when its clusters were assigned, but no occupation was placed by it",
}
# the notes of a source that had no file: unavailable (offline, left out) vs not needed
_UNAVAILABLE = ("no copy offline", "left out", "not available")


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
    """Every input with URL, retrieval time and sha256: the release's OEWS files, then each
    other source's file as the release's tables recorded it or, for a source none of them
    recorded, the latest run's record with `uses` (`release_uses`) correcting what it says."""
    oews = query_frame(
        con,
        """
        SELECT 'oews' AS source, file_name, coalesce(url, local_path) AS url, size_bytes, sha256,
               retrieved_at,
               CASE WHEN is_parsed THEN 'file used' ELSE 'listed in the snapshot' END AS use,
               source_mode AS note
        FROM stg_oews__files WHERE release_code = ?
        """,
        [release],
    )
    latest = (
        query_frame(con, f"SELECT * FROM {FILES} ORDER BY source, file_name NULLS FIRST")
        if table_exists(con, FILES)
        else pl.DataFrame({"source": []}, schema={"source": pl.String})
    )
    recorded = release_files(con, release)
    # the files whose rows the warehouse holds now (a file staging refused is not among them)
    held = query_frame(con, f"SELECT * FROM {STAGED}") if table_exists(con, STAGED) else latest
    rows = oews.to_dicts()
    for source in latest["source"].to_list():
        own = recorded.filter(pl.col("source") == source) if recorded.height else recorded
        if own.height:
            loaded_now = bool(held.filter(pl.col("source") == source)["is_used"].any())
            rows += [
                _recorded_row(row, uses.get(source), release, loaded_now) for row in own.to_dicts()
            ]
        else:
            row = latest.filter(pl.col("source") == source).row(0, named=True)
            rows.append(_latest_row(row, uses.get(source), release))
    return pl.DataFrame(rows, schema=oews.schema)


def _cited(row: dict, use: str, note: str | None = None) -> dict:
    """A Sources-table row: the file's provenance, what the release did with it and why."""
    keys = ("source", "file_name", "url", "size_bytes", "sha256", "retrieved_at")
    return {**{key: row[key] for key in keys}, "use": use, "note": note or row["note"]}


def _without_file(row: dict) -> dict:
    unavailable = (row["note"] or "").startswith(_UNAVAILABLE)
    return _cited(row, "not used" if unavailable else "no file needed")


def _recorded_row(row: dict, used: bool | None, release: str, loaded_now: bool) -> dict:
    """A source as a table of the release recorded it (`read_for`: which tables);
    `loaded_now`: the latest run loaded a file of it, which the release was not built with."""
    if not row["is_used"]:
        if loaded_now:
            return _cited(
                row,
                "not used for this release",
                f"its tables were made before the file now in the warehouse was loaded (then: "
                f"{row['note']}); `ccp run --release {release}` rebuilds its {row['read_for']} "
                "with it",
            )
        return _without_file(row)
    if used is False:  # loaded, but the release's policy had no use for it
        return _cited(row, "not used for this release", RECORDED_UNUSED_BECAUSE[row["source"]])
    return _cited(row, f"file used for the {row['read_for']}")


def _latest_row(row: dict, used: bool | None, release: str) -> dict:
    """The latest run's record of a source none of the release's tables recorded, corrected
    by what the release's tables show."""
    if not row["is_used"]:
        if used and (row["note"] or "").startswith(_UNAVAILABLE):
            return _cited(
                row,
                "used for this release",
                "by the run that built it; this record is of a later run, which did not load "
                "the file",
            )
        return _without_file(row)
    if used is False:
        return _cited(
            row,
            "not used for this release",
            f"the file is in the warehouse, but {release}'s tables were made without it: "
            f"{UNUSED_BECAUSE[row['source']]}",
        )
    return _cited(row, "file used")
