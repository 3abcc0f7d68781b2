"""The reviewer decisions read from the file and those each release's assignment applied."""

from __future__ import annotations

import duckdb
import pytest

from assets.clusters import _CHECKS as CHECKS_OF_CLUSTERS
from pipelines.checks import _run as run_check
from pipelines.review_tables import (
    APPLIED,
    applied_decisions_table,
    is_recorded,
    record_applied_decisions,
    unapplied_decisions_note,
)
from schemas import ContractError

COLUMNS = (
    "source_file VARCHAR, line INTEGER, soc_code VARCHAR, decision VARCHAR, cluster_code VARCHAR, "
    "sub_cluster_code VARCHAR, to_cluster_code VARCHAR, to_sub_cluster_code VARCHAR, "
    "reviewer VARCHAR, decided_on VARCHAR, rationale VARCHAR"
)


def decision(line: int, soc: str, cluster: str) -> str:
    """One `remove` line of the decisions file, as raw_review__decisions holds it."""
    return (
        f"INSERT INTO raw_review__decisions VALUES ('decisions.csv', {line}, '{soc}', 'remove', "
        f"'{cluster}', NULL, NULL, NULL, 'IAG chair', '2026-11-02', 'not this cluster')"
    )


def rows(con: duckdb.DuckDBPyConnection, release: str) -> list[tuple]:
    return con.execute(
        f"SELECT soc_code, decision FROM {applied_decisions_table(con, release)} ORDER BY 1"
    ).fetchall()


def test_each_release_shows_the_decisions_its_own_assignment_applied() -> None:
    con = duckdb.connect()
    con.execute(f"CREATE TABLE raw_review__decisions ({COLUMNS})")
    con.execute(decision(2, "15-1252", "digital-technology"))
    # 2025A01 is assigned by this version (recorded in the swap); 2024A01 by an earlier one
    con.execute("BEGIN")
    record_applied_decisions(con, "2025A01")
    con.execute("COMMIT")
    assert rows(con, "2025A01") == rows(con, "2024A01") == [("15-1252", "remove")]
    assert unapplied_decisions_note(con, "2025A01") is None

    # a new file is read, then its assignment refused: 2025A01 still shows what it applied
    con.execute(decision(3, "29-1141", "healthcare-human-services"))
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


def test_the_decisions_recorded_meet_their_contract() -> None:
    """A record that breaks out_clusters__review_decisions' contract (here a decision line whose
    date is not a date, which the file's reader would have refused) stops the swap it is in."""
    con = duckdb.connect()
    con.execute(f"CREATE TABLE raw_review__decisions ({COLUMNS})")
    con.execute(decision(2, "15-1252", "digital-technology"))
    con.execute("UPDATE raw_review__decisions SET decided_on = 'last week'")
    con.execute("BEGIN")
    with pytest.raises(ContractError, match=r"(?s)out_clusters__review_decisions.*decided_on"):
        record_applied_decisions(con, "2025A01")
    con.execute("ROLLBACK")
    assert not is_recorded(con, "2025A01")


def test_the_assignment_checks_the_decisions_it_recorded() -> None:
    """The contract of out_clusters__review_decisions is a check of the asset whose step writes
    it (out_clusters__occupation_cluster), run on the live table."""
    check = next(c for c in CHECKS_OF_CLUSTERS if c.name == f"{APPLIED}__contract")
    assert check.asset == "out_clusters__occupation_cluster" and check.table == APPLIED
    con = duckdb.connect()
    con.execute(f"CREATE TABLE raw_review__decisions ({COLUMNS})")
    con.execute(decision(2, "15-1252", "digital-technology"))
    record_applied_decisions(con, "2025A01")
    result = run_check(check, con)
    assert result.passed and result.metadata["rows_checked"].value == 1
    assert result.asset_key.path == ["out_clusters__occupation_cluster"]
    con.execute(f"UPDATE {APPLIED} SET decision = 'keep'")  # changed by hand
    failed = run_check(check, con)
    assert not failed.passed and "decision" in failed.metadata["failure_cases"].value
