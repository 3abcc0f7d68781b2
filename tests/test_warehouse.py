"""The warehouse: one writer at a time, tables swapped in only after they validate."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.cli import failure_lines
from pipelines.warehouse import (
    WarehouseResource,
    fetch_one,
    registered_frames,
    write_frame,
    write_table,
)
from pipelines.warehouse_lock import WarehouseLockedError, connect
from tests.support.pipeline import failure_text, isolated_settings, read, run_refresh

HOLD_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("CREATE TABLE IF NOT EXISTS held AS SELECT 1 AS x")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
"""


def hold_lock(path: Path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_locked_warehouse_fails_fast_naming_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    holder = hold_lock(path, 30)
    try:
        started = time.monotonic()
        with pytest.raises(WarehouseLockedError) as err:
            connect(path, {}, lock_wait_s=1.0)
        assert time.monotonic() - started < 10
        message = str(err.value)
        assert f"process {holder.pid}" in message
        assert "one writing process" in message and "What to do" in message
    finally:
        holder.kill()
        holder.wait()


def test_lock_released_within_wait_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    holder = hold_lock(path, 1.0)
    try:
        con = connect(path, {}, lock_wait_s=20.0)
        assert fetch_one(con, "SELECT count(*) FROM held") == (1,)
        con.close()
    finally:
        holder.wait()


def test_pipeline_run_against_locked_warehouse_explains(tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path)
    holder = hold_lock(settings.warehouse, 60)
    try:
        result = run_refresh(settings)
    finally:
        holder.kill()
        holder.wait()
    assert not result.success
    assert "is locked by process" in failure_text(result)
    # The holder's data is intact and nothing else was written.
    assert read(settings.warehouse, "SELECT count(*) AS n FROM held")["n"][0] == 1


def test_a_run_that_found_the_warehouse_locked_writes_nothing_after(tmp_path: Path) -> None:
    """The lock is released while the run goes on: its later steps do not write then (a UI
    run and `ccp run` at once would otherwise leave the warehouse half of each)."""
    settings = isolated_settings(tmp_path, lock_wait_s=0.5)
    holder = hold_lock(settings.warehouse, 3)
    try:
        result = run_refresh(settings)
    finally:
        holder.wait()
    assert not result.success
    assert result.get_asset_materialization_events() == []
    tables = read(settings.warehouse, "SELECT table_name FROM duckdb_tables()")["table_name"]
    assert tables.to_list() == ["held"]
    lines = "".join(failure_lines(result))
    assert lines.count("is locked by process") == 1
    assert "Not run, as the warehouse was locked:" in lines
    assert "The warehouse keeps its previous tables." in lines


def test_failed_validation_keeps_the_previous_table(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    write_frame(con, "t", pl.DataFrame({"release_code": ["2024A01"], "v": [1]}))

    def reject(frame: pl.DataFrame) -> pl.DataFrame:
        raise ValueError("bad rows")

    with pytest.raises(ValueError, match="bad rows"):
        write_table(con, "t", "SELECT '2025A01' AS release_code, 2 AS v", validate=reject)
    assert con.execute("SELECT * FROM t").fetchall() == [("2024A01", 1)]
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    assert tables == {"t"}  # no half-built t__new left behind
    con.close()


def test_refresh_of_one_release_keeps_the_others(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    frame = pl.DataFrame({"release_code": ["2024A01", "2025A01"], "v": [1, 2]})
    write_frame(con, "t", frame)
    write_table(
        con, "t", "SELECT '2025A01' AS release_code, 3 AS v", keep_where="release_code <> '2025A01'"
    )
    assert con.execute("SELECT * FROM t ORDER BY 1").fetchall() == [("2024A01", 1), ("2025A01", 3)]
    con.close()


def test_rows_of_an_earlier_layout_are_set_aside_not_lost(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A table another version built with a column this one no longer has (`old_flag`,
    renamed): the other releases' rows cannot join the new layout, so they move, unchanged and
    in the same transaction as the swap, to a side table named in a warning; the refresh goes
    through. A column only added since is NULL in the kept rows, as before."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    earlier = pl.DataFrame(
        {"release_code": ["2024A01", "2024A01", "2025A01"], "v": [1, 2, 3], "old_flag": [True] * 3}
    )
    write_frame(con, "t", earlier)

    def reject(frame: pl.DataFrame) -> pl.DataFrame:
        raise ValueError("bad rows")

    new_rows = "SELECT '2025A01' AS release_code, 4 AS v, false AS new_flag"
    keep = "release_code <> '2025A01'"
    with pytest.raises(ValueError, match="bad rows"):  # a refused build moves nothing
        write_table(con, "t", new_rows, keep_where=keep, validate=reject)
    assert con.execute("SELECT count(*) FROM t").fetchall() == [(3,)]
    assert not con.execute("SELECT * FROM duckdb_tables() WHERE table_name <> 't'").fetchall()

    with caplog.at_level("WARNING"):
        assert write_table(con, "t", new_rows, keep_where=keep) == 1
    assert con.execute("SELECT * FROM t").fetchall() == [("2025A01", 4, False)]
    (aside,) = [
        r[0]
        for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, 't__earlier')"
        ).fetchall()
    ]
    assert con.execute(f'SELECT * FROM "{aside}" ORDER BY v').fetchall() == [
        ("2024A01", 1, True),
        ("2024A01", 2, True),
    ]
    warning = " ".join(r.getMessage() for r in caplog.records if r.levelname == "WARNING")
    assert "2 rows from earlier runs (release 2024A01)" in warning and aside in warning

    # the same earlier layout again (a downgrade and back): the side table gets nothing twice
    write_frame(con, "t", earlier)
    write_table(con, "t", new_rows, keep_where=keep)
    assert con.execute(f'SELECT count(*) FROM "{aside}"').fetchall() == [(2,)]

    # a column added since: the kept rows come along, NULL in it
    write_table(
        con,
        "t",
        "SELECT '2024A01' AS release_code, 5 AS v, true AS new_flag, 'x' AS added",
        keep_where="release_code <> '2024A01'",
    )
    assert con.execute("SELECT * FROM t ORDER BY 1").fetchall() == [
        ("2024A01", 5, True, "x"),
        ("2025A01", 4, False, None),
    ]
    assert con.execute(f'SELECT count(*) FROM "{aside}"').fetchall() == [(2,)]
    con.close()


def test_contract_checks_trust_only_the_exact_content_that_was_validated(tmp_path: Path) -> None:
    """A contract validated before the swap is not re-validated by its check while the live
    table is that content under that contract; a row changed by hand, or another contract,
    means a full validation (which catches the bad row)."""
    import shutil

    from dagster import AssetCheckResult

    from pipelines.checks import _run, contract_check
    from pipelines.resources import warehouse_from_settings
    from tests.support.pipeline import shared_embedded_build

    built = shared_embedded_build()
    settings = isolated_settings(tmp_path)
    shutil.copy(built.warehouse, settings.warehouse)
    warehouse = warehouse_from_settings(settings)
    check = contract_check("out_profiles__cluster_summary")

    def run_check() -> AssetCheckResult:
        with warehouse.get_connection() as con:
            return _run(check, con)

    result = run_check()
    assert result.passed and result.metadata["rows_checked"].value == 14
    assert "validated" in result.metadata  # recorded by the asset: not validated twice

    table = "out_profiles__cluster_summary"
    with warehouse.get_connection() as con:
        con.execute(f"UPDATE {table} SET qualifying_occupation_count = -1 WHERE cluster_code = "
                    "'digital-technology'")  # fmt: skip
    result = run_check()
    assert not result.passed and result.metadata["failures"].value >= 1

    with warehouse.get_connection() as con:
        con.execute(f"UPDATE {table} SET qualifying_occupation_count = 0 WHERE cluster_code = "
                    "'digital-technology'")  # fmt: skip
    result = run_check()  # a valid edit: passes, but only by a full validation
    assert result.passed and "validated" not in result.metadata

    with warehouse.get_connection() as con:  # the original content, recorded under a new contract
        con.execute(f"DROP TABLE {table}")
        con.execute(f"ATTACH '{built.warehouse}' AS built (READ_ONLY)")
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM built.{table}")
        con.execute("UPDATE _contract_validations SET contract_sha256 = 'older contract'")
    result = run_check()
    assert result.passed and "validated" not in result.metadata


def test_a_renamed_column_is_not_the_validated_content(tmp_path: Path) -> None:
    from pipelines.warehouse import table_digest

    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    con.execute("CREATE TABLE t AS SELECT 1 AS a, 'x' AS b")
    before = table_digest(con, "t")
    con.execute("ALTER TABLE t RENAME COLUMN a TO c")
    assert table_digest(con, "t") != before  # same values, other columns
    con.execute("ALTER TABLE t RENAME COLUMN c TO a")
    assert table_digest(con, "t") == before
    con.close()


def test_a_run_shares_one_connection_and_a_failed_step_leaves_nothing_behind(
    tmp_path: Path,
) -> None:
    """Steps of one run share the warehouse connection; a step that raises (mid-transaction,
    with a temp table) closes it, so later steps start clean; the run's end closes it."""
    from dagster import asset, materialize

    path = tmp_path / "warehouse.duckdb"
    used: list[tuple[str, object]] = []

    @asset
    def breaks(warehouse: WarehouseResource) -> None:
        with warehouse.get_connection() as con:
            used.append(("breaks", con))
            con.execute("CREATE TEMP TABLE scratch AS SELECT 1 AS x")
            con.execute("BEGIN TRANSACTION")
            con.execute("CREATE TABLE half_done AS SELECT 1 AS x")
            raise RuntimeError("failing on purpose")

    @asset
    def writes(warehouse: WarehouseResource) -> None:
        with warehouse.get_connection() as con:
            used.append(("writes", con))
            con.execute("CREATE TABLE kept AS SELECT 42 AS x")

    @asset(deps=[writes])
    def reads(warehouse: WarehouseResource) -> None:
        with warehouse.get_connection() as con:
            used.append(("reads", con))
            leftovers = con.execute(
                "SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('scratch', 'half_done')"
            ).fetchall()[0][0]
            assert leftovers == 0
            assert con.execute("SELECT x FROM kept").fetchall() == [(42,)]

    result = materialize(
        [breaks, writes, reads],
        resources={"warehouse": WarehouseResource(database=str(path))},
        raise_on_error=False,
    )
    failed = {e.step_key for e in result.all_events if e.is_step_failure}
    succeeded = {e.step_key for e in result.all_events if e.is_step_success}
    assert failed == {"breaks"} and succeeded == {"writes", "reads"}
    names = [name for name, _ in used]
    assert sorted(names) == ["breaks", "reads", "writes"]
    after = used[names.index("breaks") + 1 :]
    before = used[: names.index("breaks")]
    # steps on either side of the failure each share one connection, never the broken one
    assert (
        all(con is after[0][1] for _, con in after)
        and after[0][1] is not used[names.index("breaks")][1]
    )
    assert all(con is before[0][1] for _, con in before)
    # closed when the run ended: the file opens read-only in this same process
    con = duckdb.connect(str(path), read_only=True)
    try:
        assert con.execute("SELECT x FROM kept").fetchall() == [(42,)]
        assert "half_done" not in {r[0] for r in con.execute("SHOW TABLES").fetchall()}
    finally:
        con.close()


def test_registered_frames_are_gone_after_the_block_even_when_it_fails(tmp_path: Path) -> None:
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    frames = {"v_one": pl.DataFrame({"x": [1, 2]}), "v_two": pl.DataFrame({"y": ["a"]})}
    with registered_frames(con, frames):
        assert fetch_one(con, "SELECT sum(x) FROM v_one") == (3,)
        assert fetch_one(con, "SELECT y FROM v_two") == ("a",)
    with pytest.raises(RuntimeError, match="boom"), registered_frames(con, frames):
        raise RuntimeError("boom")
    for name in frames:
        with pytest.raises(duckdb.CatalogException):
            con.execute(f"SELECT * FROM {name}")
    con.close()


class _SourceUnreadable(Exception):
    pass


@contextmanager
def _source_read() -> Iterator[None]:
    try:
        yield
    except duckdb.Error as err:
        raise _SourceUnreadable(str(err)) from None


def test_source_errors_name_only_the_read_and_inspect_runs_before_the_swap(
    tmp_path: Path,
) -> None:
    """`source_errors` maps errors of the statement that reads the sources, not later ones;
    `inspect` sees the new table before it replaces the live one, and can refuse it."""
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    write_table(con, "t", "SELECT 1 AS a, 'x' AS check_note")
    with pytest.raises(_SourceUnreadable, match="No files found"):
        write_table(con, "t", f"SELECT * FROM read_csv('{tmp_path}/missing.csv')",
                    source_errors=_source_read())  # fmt: skip

    def refuse(table: str) -> None:
        assert fetch_one(con, f'SELECT a FROM "{table}"') == (2,)
        con.execute("SELECT * FROM no_such_table")  # a later error: not the source's

    with pytest.raises(duckdb.CatalogException):
        write_table(con, "t", "SELECT 2 AS a", inspect=refuse, source_errors=_source_read())
    assert fetch_one(con, "SELECT a, check_note FROM t") == (1, "x")
    assert fetch_one(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 't__new'") == (
        0,
    )
