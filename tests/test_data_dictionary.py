"""The data dictionary: every contracted column described, once, and the description reaching
the Dagster UI's metadata, the warehouse's DuckDB comments and docs/data-dictionary.md."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from pipelines.metadata import table_metadata
from schemas import CONTRACTS
from schemas.dictionary import (
    DOC,
    _entries,
    column_description,
    main,
    markdown,
    table_description,
)
from tests.support.pipeline import read, shared_embedded_build


def contract_columns() -> list[tuple[str, str]]:
    return [(t, c) for t, m in CONTRACTS.items() for c in m.to_schema().columns]


@pytest.mark.parametrize("table", list(CONTRACTS))
def test_every_column_of_every_contract_is_described(table: str) -> None:
    for column in CONTRACTS[table].to_schema().columns:
        text = column_description(table, column)
        assert text, f"{table}.{column} has no description in schemas/data_dictionary.yaml"
        assert text.endswith("."), (table, column, text)
        assert "\n" not in text and "`" not in text, (table, column, text)
        assert 20 <= len(text) <= 400, (table, column, len(text))
    assert table_description(table)[0].isupper()
    assert not table_description(table).startswith("Contract of")


def test_every_dictionary_entry_describes_a_column_that_exists() -> None:
    columns, tables = _entries()
    present = contract_columns()
    names = {c for _, c in present}
    assert not set(columns) - names, "stale entries in columns:"
    for table, entries in tables.items():
        assert table in CONTRACTS, table
        assert not set(entries) - set(CONTRACTS[table].to_schema().columns), table
    # a table's own wording only where it differs from the shared one
    for table, entries in tables.items():
        for column, text in entries.items():
            assert columns.get(column) != text, f"{table}.{column} repeats the shared text"


def test_footnote_columns_are_described_from_their_measure() -> None:
    text = column_description("stg_oews__estimates", "wage_annual_median_usd_footnote_codes")
    assert text is not None
    assert "wage_annual_median_usd (the annual median wage)" in text
    assert "raw_oews__footnote" in text


def test_the_document_is_current() -> None:
    assert main(["--check"]) == 0, "run: python -m schemas.dictionary"
    text = DOC.read_text(encoding="utf-8")
    assert text == markdown()
    for table in CONTRACTS:
        assert f"\n## {table}\n" in text
    assert "| `employment_count` | Int64 | yes |" in text


def test_the_check_finds_a_stale_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "data-dictionary.md"
    stale.write_text(markdown().replace("| Int64 |", "| Float64 |", 1), encoding="utf-8")
    monkeypatch.setattr("schemas.dictionary.DOC", stale)
    assert main(["--check"]) == 1
    assert main([]) == 0
    assert stale.read_text(encoding="utf-8") == markdown()


def test_the_warehouse_carries_the_descriptions_as_comments() -> None:
    warehouse = shared_embedded_build().warehouse
    comments = read(
        warehouse,
        "SELECT table_name, column_name, comment FROM duckdb_columns() "
        "WHERE table_name NOT LIKE '%\\_\\_earlier_layout\\_%' ESCAPE '\\'",
    )
    found = {(t, c): text for t, c, text in comments.iter_rows()}
    built = {t for t, _ in found}
    checked = 0
    for table, column in contract_columns():
        if table in built:
            assert found[(table, column)] == column_description(table, column), (table, column)
            checked += 1
    assert checked > 300
    # the applied reviewer decisions are written inside the assignment's swap, not by write_table
    assert "out_clusters__review_decisions" in built
    tables = read(warehouse, "SELECT table_name, comment FROM duckdb_tables()")
    table_comments = dict(tables.iter_rows())
    for table in CONTRACTS:
        if table in built:
            assert table_comments[table] == table_description(table)
    assert table_comments["raw_oews__footnote"] is None  # no contract, no dictionary entry


def test_the_ui_metadata_carries_the_descriptions() -> None:
    warehouse = shared_embedded_build().warehouse
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        meta = table_metadata(con, "out_profiles__cluster_summary")
        raw = table_metadata(con, "raw_oews__footnote")
    finally:
        con.close()
    columns = {c.name: c.description for c in meta["dagster/column_schema"].columns}
    assert set(columns) == set(CONTRACTS["out_profiles__cluster_summary"].to_schema().columns)
    for name, text in columns.items():
        assert text == column_description("out_profiles__cluster_summary", name)
    assert all(c.description is None for c in raw["dagster/column_schema"].columns)
