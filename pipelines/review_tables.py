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

from pipelines.warehouse import fetch_one, table_columns, table_exists

RAW = "raw_review__decisions"
APPLIED = "out_clusters__review_decisions"
ASSIGNMENT = "out_clusters__occupation_cluster"


def decisions_table(con: duckdb.DuckDBPyConnection) -> str:
    """raw_review__decisions, or, as an earlier version built it (one file, no source_file
    column), that table with an empty source_file: rendering needs no re-assignment first."""
    if any(name == "source_file" for name, _ in table_columns(con, RAW)):
        return RAW
    return f"(SELECT NULL::VARCHAR AS source_file, * FROM {RAW})"


def applied_decisions_table(con: duckdb.DuckDBPyConnection, release: str) -> str:
    """The decisions the assignment of `release` applied, in raw_review__decisions' columns;
    for a warehouse whose assignment an earlier version built (no record), the decisions read."""
    if not table_exists(con, APPLIED):
        return decisions_table(con)
    quoted = release.replace("'", "''")
    return f"(SELECT * EXCLUDE (release_code) FROM {APPLIED} WHERE release_code = '{quoted}')"


def record_applied_decisions(con: duckdb.DuckDBPyConnection, release: str) -> None:
    """Inside the transaction that swaps in the assignment of `release`: record the decisions
    it applied (all of raw_review__decisions), replacing the release's earlier record."""
    source = decisions_table(con)
    exists = fetch_one(  # not table_exists: inside a transaction a failed lookup aborts it
        con,
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?",
        [APPLIED],
    )
    if exists and exists[0]:  # BY NAME: a decisions layout of another version still joins
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


def unapplied_decisions_note(con: duckdb.DuckDBPyConnection, release: str) -> str | None:
    """What to tell the user when the decisions read from the file are not the ones the
    assignment of `release` applied; None when they are, or nothing is recorded to compare."""
    if not all(table_exists(con, t) for t in (RAW, APPLIED, ASSIGNMENT)):
        return None
    assigned = fetch_one(
        con, f"SELECT count(*) FROM {ASSIGNMENT} WHERE release_code = ?", [release]
    )
    if not assigned or not assigned[0]:
        return None  # the release is not assigned to clusters: nothing was applied to it
    read, applied = decisions_table(con), applied_decisions_table(con, release)
    differ = fetch_one(
        con,
        f"SELECT (SELECT count(*) FROM (SELECT * FROM {read} EXCEPT ALL SELECT * FROM {applied}))"
        f" + (SELECT count(*) FROM (SELECT * FROM {applied} EXCEPT ALL SELECT * FROM {read}))",
    )
    if not differ or not differ[0]:
        return None
    return (
        f"the reviewer decisions last read from the decisions file are not the ones the cluster "
        f"assignment of {release} applied ({differ[0]} decision line(s) differ): the run that "
        "read them stopped before the assignment, whose message says why (e.g. a remove that "
        "leaves a qualifying occupation in no cluster). The reports show the decisions applied. "
        "Fix the file (CCP_REVIEW_DECISIONS_PATH) and run `ccp run --job "
        f"apply_review_decisions --release {release}`"
    )
