"""The DuckDB warehouse: one file, one writer, tables replaced only after they pass their contract.

DuckDB allows a single writing process per file. `WarehouseResource` shares one connection per
run, waits a bounded time for a lock held by another process (pipelines/warehouse_lock.py) and
stops the run's writing once a step found the file locked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from dagster import InitResourceContext, get_dagster_logger
from dagster_duckdb import DuckDBResource
from pydantic import Field, PrivateAttr

from pipelines.warehouse_lock import RunStoppedError, WarehouseLockedError, connect

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

# Offline machines cannot download extensions; never try (read_xlsx etc. would hang or fail).
BASE_CONNECTION_CONFIG: dict[str, Any] = {
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
}


class WarehouseResource(DuckDBResource):
    """DuckDB warehouse connection with bounded lock waiting and a clear error.

    Inside a run (in-process executor: resources are set up once per run) every step shares one
    connection, opened at the first step that needs it and closed when the run ends: opening the
    file and checkpointing it at close cost ~40 ms per step, and the run holds the writer lock
    from its first warehouse step to its end instead of dropping it between steps. A step that
    raises closes the shared connection (no half-done transaction or temp table reaches the next
    step); the next one reopens it. Outside a run (tests, scripts) each use opens and closes.
    """

    lock_wait_s: float = Field(10.0, description="seconds to wait for another process's lock")
    _in_run: bool = PrivateAttr(default=False)
    _shared: duckdb.DuckDBPyConnection | None = PrivateAttr(default=None)
    _locked: bool = PrivateAttr(default=False)

    def setup_for_execution(self, context: InitResourceContext) -> None:
        self._in_run = True
        self._locked = False

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        self._close_shared()
        self._in_run = False

    def _close_shared(self) -> None:
        con, self._shared = self._shared, None
        if con is not None:
            con.close()

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if not self._in_run:
            con = connect(Path(self.database), self.connection_config, self.lock_wait_s)
            try:
                yield con
            finally:
                con.close()
            return
        if self._locked:
            # Once another process held the file, the run stops writing: its later steps would
            # otherwise write whenever the lock frees, leaving the warehouse half this run's.
            raise RunStoppedError(
                "[warehouse] not run: an earlier step of this run found the warehouse locked by "
                "another process, so this run writes nothing more."
            )
        if self._shared is None:
            try:
                self._shared = connect(
                    Path(self.database), self.connection_config, self.lock_wait_s
                )
            except WarehouseLockedError:
                self._locked = True
                raise
        con = self._shared
        try:
            yield con
        except BaseException:
            if self._shared is con:  # not one a later step has opened since
                self._close_shared()
            raise


def connection_config(threads: int, memory_limit: str) -> dict[str, Any]:
    return {**BASE_CONNECTION_CONFIG, "threads": threads, "memory_limit": memory_limit}


# ---- moving frames in and out (Arrow C stream interface; no pyarrow needed) ------------------
class _ArrowStream:
    """Hands DuckDB a polars frame through `__arrow_c_stream__` (its polars path needs pyarrow)."""

    def __init__(self, frame: pl.DataFrame):
        self._frame = frame

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self._frame.__arrow_c_stream__(requested_schema)


def register_frame(con: duckdb.DuckDBPyConnection, name: str, frame: pl.DataFrame) -> None:
    """Make `frame` queryable as `name` in this connection (zero-copy)."""
    con.register(name, _ArrowStream(frame))


@contextmanager
def registered_frames(
    con: duckdb.DuckDBPyConnection, frames: dict[str, pl.DataFrame]
) -> Iterator[None]:
    """`register_frame` each of `frames` for the `with` block only: a run's steps share one
    connection, so a view left behind would be seen by later steps."""
    try:
        for name, frame in frames.items():
            register_frame(con, name, frame)
        yield
    finally:
        for name in frames:
            con.unregister(name)  # a name never registered is ignored


def query_frame(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> pl.DataFrame:
    """Run a query and return the result as a polars frame."""
    return pl.DataFrame(con.sql(sql, params=params) if params else con.sql(sql))


def fetch_one(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> tuple | None:
    """First row of a query. Drains the result: in DuckDB 2.0 a half-read result blocks the
    connection ("unfinished result from execute()")."""
    rows = con.execute(sql, params or []).fetchall()
    return rows[0] if rows else None


def fetch_all(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | None = None
) -> list[tuple]:
    """All rows of a query as tuples."""
    return con.execute(sql, params or []).fetchall()


# ---- reading SQL files ---------------------------------------------------------------------
def sql_text(name: str) -> str:
    """The SELECT statement in `sql/<name>.sql` (one file per derived table)."""
    path = SQL_DIR / f"{name}.sql"
    return path.read_text(encoding="utf-8").strip().rstrip(";")


# ---- writing tables safely -----------------------------------------------------------------
def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """Whether `main.<table>` (a table or view) exists.

    Binding an empty query against it takes 0.1 ms, information_schema.tables 3-4 ms (it lists
    every object), and a run asks this dozens of times. Not for use inside an explicit
    transaction: there, the failed lookup of a missing table would abort the transaction."""
    try:
        con.execute(f'SELECT 1 FROM main."{table}" LIMIT 0')
    except duckdb.CatalogException:
        return False
    return True


def table_exists_in_transaction(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    """`table_exists` inside an explicit transaction, where its failed lookup would abort it."""
    found = fetch_one(
        con,
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?",
        [table],
    )
    return bool(found and found[0])


# What passed a contract: (table, contract fingerprint, row count, content digest), written in
# the transaction that swaps the validated table in. The table's contract check recomputes the
# digest and, when the live table is still exactly that content under the same contract, does
# not validate the same rows a second time.
VALIDATIONS = "_contract_validations"


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    """(name, type) of each column, in order, with the type spelled as information_schema.columns
    spells it; from DESCRIBE, which takes 1 ms where information_schema takes 7 ms."""
    return [(name, kind) for name, kind, *_ in fetch_all(con, f'DESCRIBE main."{table}"')]


def column_signature(columns: list[tuple[str, str]]) -> str:
    """'name type, name type, …': the layout a digest or a side table's name is made from."""
    return ", ".join(f"{name} {kind}" for name, kind in columns)


def table_digest(con: duckdb.DuckDBPyConnection, table: str) -> tuple[int, str]:
    """Row count and an order-independent digest of the table: its column names and types, and
    every row's content (sum of row hashes)."""
    row = fetch_one(
        con,
        f'SELECT count(*), CAST(coalesce(sum(hash(t)::HUGEINT), 0) AS VARCHAR) FROM "{table}" t',
    )
    columns = column_signature(table_columns(con, table))
    assert row is not None
    return int(row[0]), f"{row[1]} {hashlib.sha256(columns.encode()).hexdigest()[:16]}"


def passed_contract(con: duckdb.DuckDBPyConnection, table: str, fingerprint: str) -> int | None:
    """The row count if the live `table` is content that passed contract `fingerprint` before
    its swap, else None."""
    if not table_exists(con, VALIDATIONS) or not table_exists(con, table):
        return None
    rows, digest = table_digest(con, table)
    found = fetch_one(
        con,
        f"SELECT 1 FROM {VALIDATIONS} WHERE table_name = ? AND contract_sha256 = ? "
        "AND row_count = ? AND content_digest = ?",
        [table, fingerprint, rows, digest],
    )
    return rows if found else None


def write_table(
    con: duckdb.DuckDBPyConnection,
    table: str,
    select_sql: str,
    *,
    params: list[Any] | None = None,
    validate: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
    contract_sha256: str | None = None,
    keep_where: str | None = None,
    unordered: bool = False,
    inspect: Callable[[str], None] | None = None,
    source_errors: AbstractContextManager[Any] | None = None,
    before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    describe: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> int:
    """Build `table` from `select_sql` beside the live one, validate, then swap atomically.

    `keep_where` keeps rows of the current table that match it (e.g. other releases), so a
    refresh of one release never deletes another. `unordered` lets DuckDB write rows in any
    order (faster for large tables nobody reads in insertion order). `inspect` is called with
    the new table's name right after it is built, before anything else: source checks that
    read helper columns the SELECT computed, raise on a problem, and drop them. Until the swap,
    readers see the old table; a failed check or validation leaves it untouched.
    Rows `keep_where` would keep from a `table` with a column the new one lacks (another version
    built it) are not carried over: they move, unchanged, to a side table named in a warning.
    `source_errors` wraps the statement that builds the table (the one that reads the sources),
    to turn their read errors into errors that name the source. With `contract_sha256` (the
    fingerprint of the contract `validate` enforces) the validated content is recorded in
    VALIDATIONS. `before_commit` runs inside the swap's transaction, where `table` already is
    the new one: checks that read it together with other tables raise there, and the swap is
    rolled back. `describe` also runs inside it, to store the new table's descriptions as
    DuckDB comments. Returns the new row count.
    """
    staging = f"{table}__new"
    con.execute(f'DROP TABLE IF EXISTS "{staging}"')
    if unordered:  # row order is meaningless for this table; not keeping it halves the write
        con.execute("SET preserve_insertion_order = false")
    try:
        with source_errors if source_errors is not None else nullcontext():
            con.execute(f'CREATE TABLE "{staging}" AS {select_sql}', params or [])
    finally:
        if unordered:
            con.execute("RESET preserve_insertion_order")
    try:
        if inspect is not None:
            inspect(staging)
        is_earlier_layout = False
        if keep_where and table_exists(con, table):
            # Carried over as always when every old column is still there (DuckDB casts between
            # types; a column added since is NULL in the old rows, for the contract to judge).
            # A column renamed or dropped since: another version built the table, and its rows
            # cannot join the new ones as they are; they are set aside at the swap.
            old, new = ({n.lower() for n, _ in table_columns(con, t)} for t in (table, staging))
            is_earlier_layout = not old <= new
            if not is_earlier_layout:
                con.execute(
                    f'INSERT INTO "{staging}" BY NAME SELECT * FROM "{table}" WHERE {keep_where}'
                )
        if validate is not None:
            validate(query_frame(con, f'SELECT * FROM "{staging}"'))
        recorded = table_digest(con, staging) if validate and contract_sha256 else None
        con.execute("BEGIN TRANSACTION")
        set_aside = _set_aside(con, table, keep_where) if is_earlier_layout else None
        con.execute(f'DROP TABLE IF EXISTS "{table}"')
        con.execute(f'ALTER TABLE "{staging}" RENAME TO "{table}"')
        if describe is not None:
            describe(con)
        if recorded:
            con.execute(
                f"CREATE TABLE IF NOT EXISTS {VALIDATIONS} (table_name VARCHAR PRIMARY KEY, "
                "contract_sha256 VARCHAR, row_count BIGINT, content_digest VARCHAR, "
                "validated_at TIMESTAMPTZ)"
            )
            con.execute(
                f"INSERT OR REPLACE INTO {VALIDATIONS} VALUES (?, ?, ?, ?, now())",
                [table, contract_sha256, *recorded],
            )
        if before_commit is not None:
            before_commit(con)
        con.execute("COMMIT")
    except BaseException:
        # Undo whatever got done; never let cleanup hide the original error.
        with suppress(duckdb.Error):
            con.execute("ROLLBACK")
        with suppress(duckdb.Error):
            con.execute(f'DROP TABLE IF EXISTS "{staging}"')
        raise
    if set_aside:
        get_dagster_logger("pipelines.warehouse").warning(set_aside)
    row = fetch_one(con, f'SELECT count(*) FROM "{table}"')
    return int(row[0]) if row else 0


def _set_aside(con: duckdb.DuckDBPyConnection, table: str, keep_where: str) -> str | None:
    """Inside the swap's transaction: copy the rows `keep_where` would have kept (other
    releases) from a `table` that has columns the new one lacks (another version of the
    pipeline built it) into `<table>__earlier_layout_<digest of its columns>`, unchanged and
    once, so nothing is lost; return what to tell the user, or None when there were none."""
    found = fetch_one(con, f'SELECT count(*) FROM "{table}" WHERE {keep_where}')
    if not found or not found[0]:
        return None
    rows = int(found[0])
    columns = table_columns(con, table)
    digest = hashlib.sha256(column_signature(columns).encode()).hexdigest()[:8]
    aside = f"{table}__earlier_layout_{digest}"
    if table_exists_in_transaction(con, aside):
        # set aside before (a downgrade and back): add only what is new
        con.execute(
            f'INSERT INTO "{aside}" SELECT * FROM "{table}" WHERE {keep_where} '
            f'EXCEPT ALL SELECT * FROM "{aside}"'
        )
    else:
        con.execute(f'CREATE TABLE "{aside}" AS SELECT * FROM "{table}" WHERE {keep_where}')
    releases = ""
    if "release_code" in {name.lower() for name, _ in columns}:
        codes = fetch_all(con, f'SELECT DISTINCT release_code FROM "{table}" WHERE {keep_where}')
        releases = ", ".join(sorted(str(c[0]) for c in codes))
    counted = "1 row" if rows == 1 else f"{rows} rows"
    return (
        f"{table}: {counted} from earlier runs{f' (release {releases})' if releases else ''} "
        f"{'was' if rows == 1 else 'were'} built by another version of the pipeline, with "
        "columns this version no longer has, and cannot join the new rows; they are kept "
        f"unchanged in {aside}. Materialize {table} again"
        f"{f' for release {releases}' if releases else ''} to rebuild them in the current "
        f"layout; keep {aside} until then."
    )


def write_frame(
    con: duckdb.DuckDBPyConnection,
    table: str,
    frame: pl.DataFrame,
    *,
    validate: Callable[[pl.DataFrame], pl.DataFrame] | None = None,
    contract_sha256: str | None = None,
    keep_where: str | None = None,
    describe: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    before_commit: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> int:
    """`write_table` for a polars frame built in Python (moved in via Arrow)."""
    view = f"_frame_{table}"
    with registered_frames(con, {view: frame}):
        return write_table(
            con,
            table,
            f'SELECT * FROM "{view}"',
            validate=validate,
            contract_sha256=contract_sha256,
            keep_where=keep_where,
            describe=describe,
            before_commit=before_commit,
        )
