"""Provenance of the non-OEWS sources (code lists, EP, O*NET, the crosswalk): which file each
run loaded, and which file each release's tables were built with.

The sources are loaded once for the whole warehouse (`raw_sources__files`, one row per source,
replaced by every run that reads it), but a release's tables are built when that release runs:
a release built last year keeps last year's EP-based skill tiers after this year's EP file
replaced the record. So the record of the file the warehouse holds (`stg_sources__files`,
written when staging accepts the file's rows) is copied by each release-partitioned step that
reads the source into `raw_sources__release_files`, inside the transaction that swaps its rows
in, and a report cites the files its release was built with.
"""

from __future__ import annotations

import duckdb
import polars as pl

from pipelines.sources.files import FetchedFile
from pipelines.warehouse import query_frame, table_exists_in_transaction, write_frame

FILES = "raw_sources__files"
RELEASE_FILES = "raw_sources__release_files"
STAGED = "stg_sources__files"

SOURCE_FILES_SCHEMA = {
    "source": pl.String,
    "file_name": pl.String,
    "url": pl.String,
    "size_bytes": pl.Int64,
    "sha256": pl.String,
    "last_modified": pl.String,
    "etag": pl.String,
    "retrieved_at": pl.String,
    "is_used": pl.Boolean,
    "note": pl.String,
}

_SQL_TYPES = {pl.String: "VARCHAR", pl.Int64: "BIGINT", pl.Boolean: "BOOLEAN"}

# which release-partitioned table reads which source, in the words a report uses
READ_FOR = {
    "int_qualify__skill_tiers": "skill tiers",
    "out_clusters__occupation_cluster": "cluster assignment",
    "out_profiles__cluster_occupations": "outlook figures",
    "out_profiles__cluster_summary": "outlook figures",
}


def record_source(
    con: duckdb.DuckDBPyConnection, source: str, file: FetchedFile | None, note: str
) -> None:
    """One provenance row per non-OEWS source in raw_sources__files (replacing the last one).

    In embedded mode there is no file: the row says what was used instead."""
    row = {
        "source": source,
        "file_name": file.name if file else None,
        "url": file.url if file else None,
        "size_bytes": file.bytes if file else None,
        "sha256": file.sha256 if file else None,
        "last_modified": file.last_modified if file else None,
        "etag": file.etag if file else None,
        "retrieved_at": file.retrieved_at if file else None,
        "is_used": file is not None,
        "note": note,
    }
    frame = pl.DataFrame([row], schema=SOURCE_FILES_SCHEMA)
    write_frame(con, FILES, frame, keep_where=f"source <> '{source}'")


def _table(con: duckdb.DuckDBPyConnection, table: str, keys: str) -> None:
    """Create `table` (`keys` columns, then the record's) if it is not there, and add any
    record column a later version introduced, so an earlier warehouse's table takes the rows."""
    types = ", ".join(f"{c} {_SQL_TYPES[t]}" for c, t in SOURCE_FILES_SCHEMA.items())
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({keys}{types})")
    for column, dtype in SOURCE_FILES_SCHEMA.items():
        con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} {_SQL_TYPES[dtype]}")


def _validated(con: duckdb.DuckDBPyConnection, table: str, where: str, params: list) -> None:
    """The rows just written, against `table`'s contract (a refusal rolls the swap back), and
    the table's descriptions as DuckDB comments."""
    from schemas import validate_table
    from schemas.dictionary import comment_on_table

    validate_table(table, query_frame(con, f"SELECT * FROM {table} WHERE {where}", params))
    comment_on_table(con, table)


def record_staged_source(con: duckdb.DuckDBPyConnection, source: str) -> None:
    """Inside the transaction that swaps in the table the release tables read of `source`
    (its staging table; the crosswalk's raw table): the latest run's record of it becomes the
    record of the file the warehouse holds. A file that run loaded but staging refused leaves
    the record of the one before, whose rows are still there."""
    if not table_exists_in_transaction(con, FILES):
        return
    _table(con, STAGED, "")
    columns = ", ".join(SOURCE_FILES_SCHEMA)
    con.execute(f"DELETE FROM {STAGED} WHERE source = ?", [source])
    con.execute(
        f"INSERT INTO {STAGED} ({columns}) SELECT {columns} FROM {FILES} WHERE source = ?",
        [source],
    )
    _validated(con, STAGED, "true", [])


def record_release_sources(
    con: duckdb.DuckDBPyConnection, release: str, read_by: str, sources: tuple[str, ...]
) -> None:
    """Inside the transaction that swaps in `read_by`'s rows of `release`: copy the record of
    each of `sources` the warehouse holds (stg_sources__files; in a warehouse an earlier
    version built, the latest run's) as the file that table was built with, replacing what an
    earlier build of it recorded. With no record to copy, the earlier one stays."""
    held = next((t for t in (STAGED, FILES) if table_exists_in_transaction(con, t)), None)
    if held is None:
        return
    columns = ", ".join(SOURCE_FILES_SCHEMA)
    _table(con, RELEASE_FILES, "release_code VARCHAR, read_by VARCHAR, ")
    con.execute(
        f"DELETE FROM {RELEASE_FILES} WHERE release_code = ? AND read_by = ? "
        f"AND source IN (SELECT source FROM {held} WHERE list_contains(?, source))",
        [release, read_by, list(sources)],
    )
    con.execute(
        f"INSERT INTO {RELEASE_FILES} (release_code, read_by, {columns}) "
        f"SELECT ?, ?, {columns} FROM {held} WHERE list_contains(?, source)",
        [release, read_by, list(sources)],
    )
    _validated(con, RELEASE_FILES, "release_code = ?", [release])


def release_files(con: duckdb.DuckDBPyConnection, release: str) -> pl.DataFrame:
    """What `release`'s tables recorded reading, one row per source and file (the tables that
    read it joined with ', ' in `read_for`); empty for a release no step has recorded yet."""
    if not table_exists_in_transaction(con, RELEASE_FILES):
        return pl.DataFrame()
    read_for = " ".join(f"WHEN '{t}' THEN '{words}'" for t, words in READ_FOR.items())
    return query_frame(
        con,
        f"""
        SELECT {", ".join(SOURCE_FILES_SCHEMA)},
               string_agg(DISTINCT CASE read_by {read_for} ELSE read_by END, ', '
                          ORDER BY CASE read_by {read_for} ELSE read_by END DESC) AS read_for
        FROM {RELEASE_FILES} WHERE release_code = ?
        GROUP BY ALL ORDER BY source, file_name NULLS FIRST
        """,
        [release],
    )


def files_read_by(con: duckdb.DuckDBPyConnection, release: str, table: str) -> pl.DataFrame:
    """The files `table`'s rows of `release` were built with (empty if none was recorded)."""
    columns = ["source", "file_name", "url", "sha256", "retrieved_at", "is_used", "note"]
    if not table_exists_in_transaction(con, RELEASE_FILES):
        return pl.DataFrame(schema={c: SOURCE_FILES_SCHEMA[c] for c in columns})
    return query_frame(
        con,
        f"SELECT {', '.join(columns)} FROM {RELEASE_FILES} "
        "WHERE release_code = ? AND read_by = ? ORDER BY source",
        [release, table],
    )
