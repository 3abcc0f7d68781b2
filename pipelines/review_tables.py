"""The reviewer decisions in the warehouse: the ones read from the decisions file
(raw_review__decisions) and the ones the cluster assignment applied
(out_clusters__review_decisions).

They differ after a run that read a new decisions file and then refused the assignment (a
`remove` that leaves a qualifying occupation in no cluster): raw_review__decisions was replaced,
out_clusters__occupation_cluster was not. Reports list, and are fingerprinted by, the decisions
applied, recorded in the transaction that swaps the assignment in; `ccp info` and the reports
step say when the two differ.
"""

from __future__ import annotations

import duckdb

from pipelines.warehouse import (
    fetch_one,
    query_frame,
    table_columns,
    table_exists,
    table_exists_in_transaction,
)
from schemas import validate_table
from schemas.dictionary import comment_on_table

RAW = "raw_review__decisions"
APPLIED = "out_clusters__review_decisions"
# The releases whose assignment recorded its decisions (none applied leaves no row in APPLIED):
# a release an earlier version assigned has none, and its decisions are the ones read.
RECORDED = "_review_decisions_recorded"


# Every reviewer decision with the framework's and SOC's names ($1 is the release).
_NAMED_DECISIONS = """
SELECT d.*, coalesce(o.occupation_name, '') AS occupation_name, c.cluster_name,
       s.sub_cluster_name, tc.cluster_name AS to_cluster_name,
       ts.sub_cluster_name AS to_sub_cluster_name
FROM {decisions} d
JOIN raw_framework__clusters c ON c.cluster_code = d.cluster_code
LEFT JOIN raw_framework__sub_clusters s
  ON s.cluster_code = d.cluster_code AND s.sub_cluster_code = d.sub_cluster_code
LEFT JOIN raw_framework__clusters tc ON tc.cluster_code = d.to_cluster_code
LEFT JOIN raw_framework__sub_clusters ts
  ON ts.cluster_code = d.to_cluster_code AND ts.sub_cluster_code = d.to_sub_cluster_code
LEFT JOIN stg_oews__occupations o
  ON o.release_code = $1 AND o.soc_code = d.soc_code AND o.is_detailed
"""
# The decisions keyed to one cluster (its adds, removes and moves away), in the review sheet's
# columns with framework names: the cluster's next review sheet carries them, so a sheet filled
# in and saved as the decisions file keeps the decisions already made ($2 is the cluster).
SHEET_DECISIONS = f"""
SELECT soc_code, occupation_name AS occupation_title, cluster_name AS cluster,
       coalesce(sub_cluster_name, '') AS sub_cluster, decision,
       coalesce(to_cluster_name, '') AS to_cluster,
       coalesce(to_sub_cluster_name, '') AS to_sub_cluster,
       reviewer, decided_on AS date, rationale
FROM ({_NAMED_DECISIONS}) WHERE cluster_code = $2 ORDER BY source_file, line
"""
# The decisions that name the cluster (from or to), for the report's table of decisions applied.
APPLIED_DECISIONS = f"""
SELECT * FROM ({_NAMED_DECISIONS})
WHERE cluster_code = $2 OR to_cluster_code = $2 ORDER BY source_file, line
"""


def decisions_table(con: duckdb.DuckDBPyConnection) -> str:
    """raw_review__decisions, or, as an earlier version built it (one file, no source_file
    column), that table with an empty source_file: rendering needs no re-assignment first."""
    if any(name == "source_file" for name, _ in table_columns(con, RAW)):
        return RAW
    return f"(SELECT NULL::VARCHAR AS source_file, * FROM {RAW})"


def applied_decisions_table(con: duckdb.DuckDBPyConnection, release: str) -> str:
    """The decisions the assignment of `release` applied, in raw_review__decisions' columns;
    for a warehouse whose assignment an earlier version built (no record), the decisions read."""
    return _recorded(release) if is_recorded(con, release) else decisions_table(con)


def _recorded(release: str) -> str:
    """The decisions recorded for `release` (check `is_recorded` first)."""
    quoted = release.replace("'", "''")
    return f"(SELECT * EXCLUDE (release_code) FROM {APPLIED} WHERE release_code = '{quoted}')"


def is_recorded(con: duckdb.DuckDBPyConnection, release: str) -> bool:
    """Whether the assignment of `release` recorded the decisions it applied."""
    if not (table_exists(con, RECORDED) and table_exists(con, APPLIED)):
        return False
    found = fetch_one(con, f"SELECT count(*) FROM {RECORDED} WHERE release_code = ?", [release])
    return bool(found and found[0])


def record_applied_decisions(con: duckdb.DuckDBPyConnection, release: str) -> None:
    """Inside the transaction that swaps in the assignment of `release`: record the decisions
    it applied (all of raw_review__decisions), replacing the release's earlier record."""
    source = decisions_table(con)
    if table_exists_in_transaction(con, APPLIED):  # BY NAME: another version's layout joins
        con.execute(
            f"CREATE OR REPLACE TABLE {APPLIED} AS SELECT * FROM {APPLIED} "
            "WHERE release_code <> $1 "
            f"UNION ALL BY NAME SELECT $1 AS release_code, * FROM {source}",
            [release],
        )
    else:
        con.execute(
            f"CREATE TABLE {APPLIED} AS SELECT $1 AS release_code, * FROM {source}", [release]
        )
    # its contract, on the rows recorded: a refusal rolls back the assignment's swap with them
    validate_table(
        APPLIED, query_frame(con, f"SELECT * FROM {APPLIED} WHERE release_code = ?", [release])
    )
    comment_on_table(con, APPLIED)
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {RECORDED} (release_code VARCHAR PRIMARY KEY, "
        "recorded_at TIMESTAMPTZ)"
    )
    con.execute(f"INSERT OR REPLACE INTO {RECORDED} VALUES (?, now())", [release])


def unapplied_decisions_note(con: duckdb.DuckDBPyConnection, release: str) -> str | None:
    """What to tell the user when the decisions read from the file are not the ones the
    assignment of `release` applied; None when they are, or nothing is recorded to compare."""
    if not table_exists(con, RAW) or not is_recorded(con, release):
        return None  # nothing recorded: the decisions read are the ones shown
    read, applied = decisions_table(con), _recorded(release)
    columns = ", ".join(f'"{name}"' for name, _ in table_columns(con, RAW))
    differ = fetch_one(
        con,
        f"SELECT (SELECT count(*) FROM (SELECT {columns} FROM {read} EXCEPT ALL "
        f"SELECT {columns} FROM {applied})) + (SELECT count(*) FROM (SELECT {columns} "
        f"FROM {applied} EXCEPT ALL SELECT {columns} FROM {read}))",
    )
    if not differ or not differ[0]:
        return None
    return (
        f"the reviewer decisions last read from the decisions file are not the ones the cluster "
        f"assignment of {release} applied ({differ[0]} decision line(s) differ): either the run "
        "that read them stopped before the assignment (its message says why, e.g. a remove "
        f"that leaves a qualifying occupation in no cluster), or it assigned another release "
        f"than {release}. The reports show the decisions applied. Fix the file "
        "(CCP_REVIEW_DECISIONS_PATH) if a run refused it, and run `ccp run --job "
        f"apply_review_decisions --release {release}`"
    )
