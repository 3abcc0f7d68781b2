"""The release's estimate cells as one relation, `src_oews__cells`, from whichever source the
sources stage recorded for it: the embedded snapshot, BLS's annual workbooks (a history backfill)
or the flat file `oe.data.0.Current`. Staging types every path's cells with the same SQL."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from pipelines.sources.files import FetchedFile
from pipelines.sources.oews import DATA_FILE, embedded_cells, flat_cells, reading
from pipelines.sources.oews_history import read_recorded_history
from pipelines.sources.oews_xlsx import WORKBOOK
from pipelines.warehouse import registered_frames

CELLS = "src_oews__cells"


@dataclass(frozen=True)
class CellsSource:
    """Where the cells come from, and how to read them."""

    data: FetchedFile  # the file the values are in: named when one of them is refused
    relation: AbstractContextManager[Any]  # provides CELLS for its `with` block
    read_errors: AbstractContextManager[Any] | None  # DuckDB's errors reading the flat file,
    # as a SourceError naming it (the other paths are read before the build)


def parsed_files(con: duckdb.DuckDBPyConnection, release: str) -> list[FetchedFile]:
    """The files the sources stage read for `release`, as recorded (source = the mode)."""
    rows = con.execute(
        "SELECT source_mode, file_name, url, local_path, size_bytes, sha256, last_modified, etag, "
        "retrieved_at, checked_at, is_from_cache FROM raw_oews__files "
        "WHERE release_code = ? AND is_parsed ORDER BY file_name",
        [release],
    ).fetchall()
    return [FetchedFile(r[0], r[1], r[2], Path(r[3]), *r[4:]) for r in rows]


def cells_source(
    con: duckdb.DuckDBPyConnection, files: list[FetchedFile], release: str
) -> CellsSource:
    """`src_oews__cells` for `release` from its parsed `files`. The flat file's is a view, so the
    build reads (and pivots) the 6-million-row file once; the others are registered frames."""
    mode = files[0].source
    if mode == "embedded":
        data = files[0]
        return CellsSource(data, registered_frames(con, {CELLS: embedded_cells(data.path)}), None)
    if mode == "xlsx":  # history backfill: BLS's annual workbooks
        data = next((f for f in files if WORKBOOK.match(f.name)), files[0])
        cells = read_recorded_history(files)[1]
        return CellsSource(data, registered_frames(con, {CELLS: cells}), None)
    data = next(f for f in files if f.name == DATA_FILE)
    return CellsSource(data, flat_cells(con, data, release[:4], release[4:]), reading(data))
