"""Materialization metadata shown in the Dagster UI: row count, column schema, a preview."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import duckdb
import polars as pl
from dagster import MetadataValue, TableColumn, TableSchema

from pipelines.warehouse import fetch_all, fetch_one, query_frame, sql_text, write_table

PREVIEW_ROWS = 10


def markdown_table(frame: pl.DataFrame, max_rows: int = PREVIEW_ROWS, max_chars: int = 160) -> str:
    """A small markdown table (pipes escaped) for the UI's preview; a cell longer than
    `max_chars` is cut there and ends in "…", so a cut text never reads as a whole one."""

    def cell(value: Any) -> str:
        text = "" if value is None else str(value).replace("\n", " ")
        if len(text) > max_chars:
            text = text[: max_chars - 1].rstrip() + "…"
        return text.replace("|", "\\|")

    head = frame.head(max_rows)
    lines = [
        "| " + " | ".join(head.columns) + " |",
        "| " + " | ".join("---" for _ in head.columns) + " |",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in head.iter_rows()]
    return "\n".join(lines)


def table_metadata(
    con: duckdb.DuckDBPyConnection, table: str, where: str = "true", params: list | None = None
) -> dict[str, Any]:
    """Row count, schema (with the data dictionary's descriptions) and a preview of `table`
    (optionally of the rows matching `where`)."""
    params = params or []
    count = fetch_one(con, f'SELECT count(*) FROM "{table}" WHERE {where}', params)
    preview = query_frame(
        con, f'SELECT * FROM "{table}" WHERE {where} LIMIT {PREVIEW_ROWS}', params
    )
    from schemas import CONTRACTS
    from schemas.dictionary import column_description

    described = table in CONTRACTS
    schema = TableSchema(
        columns=[
            TableColumn(
                name=name,
                type=str(dtype),
                description=column_description(table, name) if described else None,
            )
            for name, dtype in preview.schema.items()
        ]
    )
    return {
        "dagster/row_count": int(count[0]) if count else 0,
        "dagster/column_schema": schema,
        "table": MetadataValue.text(table),
        "preview": MetadataValue.md(markdown_table(preview)),
    }


def previous_release(con: duckdb.DuckDBPyConnection, release: str) -> str | None:
    """The newest release in staging older than `release`, if any."""
    return fetch_all(
        con, "SELECT max(release_code) FROM stg_oews__release WHERE release_code < ?", [release]
    )[0][0]


def build_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    params: list,
    *,
    per_release: bool = True,
    unordered: bool = False,
    inspect: Callable[[str], None] | None = None,
    source_errors: AbstractContextManager[Any] | None = None,
    before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> dict[str, Any]:
    """Run sql/<table>.sql, validate against the table's contract (if it has one), swap it in
    keeping other releases' rows, and return the UI metadata for the new rows. `inspect`,
    `source_errors` and `before_commit`: see `write_table`."""
    from schemas import enforce_contract

    release = params[0] if per_release else None
    write_table(
        con,
        table,
        sql_text(table),
        params=params,
        **enforce_contract(table),
        keep_where=f"release_code <> '{release}'" if per_release else None,
        unordered=unordered,
        inspect=inspect,
        source_errors=source_errors,
        before_commit=before_commit,
    )
    if not per_release:
        return table_metadata(con, table)
    meta = table_metadata(con, table, "release_code = ?", [release])
    meta["release"] = release
    return meta
