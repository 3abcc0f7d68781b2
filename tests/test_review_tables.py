"""The reviewer decisions read from the file and those each release's assignment applied."""

from __future__ import annotations

import duckdb

from pipelines.review_tables import (
    applied_decisions_table,
    record_applied_decisions,
    unapplied_decisions_note,
)

DECISION = (
    "'decisions.csv' AS source_file, 2 AS line, '15-1252' AS soc_code, "
    "'digital-technology' AS cluster_code, 'remove' AS decision"
)


def rows(con: duckdb.DuckDBPyConnection, release: str) -> list[tuple]:
    return con.execute(
        f"SELECT soc_code, decision FROM {applied_decisions_table(con, release)} ORDER BY 1"
    ).fetchall()


def test_each_release_shows_the_decisions_its_own_assignment_applied() -> None:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE raw_review__decisions AS SELECT {DECISION}")
    # 2025A01 is assigned by this version (recorded in the swap); 2024A01 by an earlier one
    con.execute("BEGIN")
    record_applied_decisions(con, "2025A01")
    con.execute("COMMIT")
    assert rows(con, "2025A01") == rows(con, "2024A01") == [("15-1252", "remove")]
    assert unapplied_decisions_note(con, "2025A01") is None

    # a new file is read, then its assignment refused: 2025A01 still shows what it applied
    con.execute(
        "INSERT INTO raw_review__decisions SELECT 'decisions.csv', 3, '29-1141', "
        "'healthcare-human-services', 'remove'"
    )
    assert rows(con, "2025A01") == [("15-1252", "remove")]
    note = unapplied_decisions_note(con, "2025A01")
    assert note and "(1 decision line(s) differ)" in note
    assert "apply_review_decisions --release 2025A01" in note
    # the release with no record shows (and is judged by) the decisions read, as before
    assert len(rows(con, "2024A01")) == 2 and unapplied_decisions_note(con, "2024A01") is None

    # a refused swap records nothing: the record rolls back with it
    con.execute("BEGIN")
    record_applied_decisions(con, "2025A01")
    con.execute("ROLLBACK")
    assert rows(con, "2025A01") == [("15-1252", "remove")]
