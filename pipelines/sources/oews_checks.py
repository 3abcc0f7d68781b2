"""Checks on the OEWS cells, shared by the embedded and the flat-file path, and on the
datatype list that maps BLS's codes to the measures.

`sql/stg_oews__estimates.sql` computes them per cell while it types the values, as check_*
columns of the new table (the flat-file pivot adds its counts of rows it could not place), so
the data is read once. `check_cells` reports them and drops the columns before the contract is
validated; a problem raises a SourceError and the live table is never replaced.
"""

from __future__ import annotations

import duckdb
from dagster import get_dagster_logger

from pipelines.sources.cache import is_length_unverified
from pipelines.sources.files import FetchedFile, SourceError
from pipelines.sources.oews import DATATYPES, NUMBER, check_header, read_csv_sql, reading
from pipelines.warehouse import fetch_all, fetch_one, table_columns, table_exists_in_transaction
from schemas.stg_oews__estimates import DATATYPE_NAMES, MEASURES

CHECK_PREFIX = "check_"


def check_cells(
    con: duckdb.DuckDBPyConnection,
    table: str,
    cells: str,
    known_footnotes: set[str],
    file: FetchedFile,
    release: str,
) -> dict[str, int]:
    """Refuse a new `table` of `release` built from `cells` (the source relation) if its
    check_* columns show a damaged file: long-layout problems, values that are neither numbers
    nor `-` (or that their column cannot hold unchanged), unknown footnote codes. Then drop the
    check_* columns.

    Returns counts for the UI: published values, `-` values, and `-` without a footnote.
    """
    columns = [name for name, _ in table_columns(con, table) if name.startswith(CHECK_PREFIX)]
    if "check_rows" in columns:
        _check_long_layout(con, table, file, release)
        _check_not_cut_short(con, table, file, release)
    row = fetch_one(
        con,
        "SELECT count_if(check_has_bad_value), sum(check_value_count), sum(check_dash_count), "
        f'sum(check_bare_dash_count) FROM "{table}"',
    )
    bad, values, dashes, bare = row or (0, 0, 0, 0)
    if bad:
        _refuse_values(con, cells, file)
    codes = con.execute(  # '' is a stray comma ("4," or ","): damage, not "no footnote"
        "SELECT DISTINCT trim(code) FROM (SELECT unnest(string_split(check_footnote_codes, ',')) "
        f'AS code FROM "{table}" WHERE check_footnote_codes IS NOT NULL)'
    ).fetchall()
    unknown = sorted({c[0] for c in codes} - known_footnotes)
    if unknown:
        raise SourceError(
            f"oews ({file.name})",
            f"footnote codes {unknown} are not in oe.footnote (known: {sorted(known_footnotes)})",
            "BLS added a footnote the pipeline does not know, or the files are from different "
            "releases. Download all oe.* files again; report it if it persists.",
            url=file.url,
        )
    for column in columns:
        con.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    return {
        "value_count": int(values or 0),
        "dash_count": int(dashes or 0),
        "dash_without_footnote_count": int(bare or 0),
    }


def _bad_value(d: str) -> str:
    """SQL: value v<d> is published (not NULL, not '-') but is not a plain decimal number that
    its measure's type holds unchanged (a finite number; a whole one for employment): the rule
    of stg_oews__estimates.sql's check_has_bad_value, per value."""
    kind = "BIGINT" if d == "01" else "DOUBLE"
    whole = f" OR contains(v{d}, '.')" if d == "01" else ""
    return (
        f"(v{d} IS NOT NULL AND v{d} <> '-' AND (NOT regexp_full_match(v{d}, '{NUMBER}')"
        f" OR NOT coalesce(isfinite(TRY_CAST(v{d} AS {kind})), false){whole}))"
    )


def _refuse_values(con: duckdb.DuckDBPyConnection, cells: str, file: FetchedFile) -> None:
    """Raise with the first offending cells; they are looked up in the source relation again
    (for the flat file, a second read: only on this failure path)."""
    offending = ", ".join(f"CASE WHEN {_bad_value(d)} THEN v{d} END" for d in DATATYPES)
    bad = con.execute(
        f"SELECT cell_key, [{offending}] FROM {cells} "
        f"WHERE {' OR '.join(_bad_value(d) for d in DATATYPES)} ORDER BY cell_key LIMIT 3"
    ).fetchall()
    raise SourceError(
        f"oews ({file.name})",
        f"values that are neither numbers nor '-' (or an employment count that is not a whole "
        f"number, or a number too large to store) in cells {[b[0] for b in bad]}: "
        f"{[[v for v in b[1] if v is not None] for b in bad]}",
        "The file is damaged or BLS changed its conventions; the previous release's tables "
        "are unchanged. Report it so the parser can be updated.",
        url=file.url,
    )


def _check_long_layout(
    con: duckdb.DuckDBPyConnection, table: str, file: FetchedFile, release: str
) -> None:
    """Problems only oe.data.0.Current's one-row-per-series layout can have: rows its cells
    could not place. Which problem it is takes a second read of the file, on this path only."""
    totals = fetch_one(
        con,
        f'SELECT sum(check_rows), sum(check_unplaced_rows), sum(check_bad_key_rows) FROM "{table}"',
    )
    rows, unplaced, bad_keys = (int(x or 0) for x in totals or (0, 0, 0))
    if rows == 0:
        problems = ["no data rows"]
    elif unplaced or bad_keys:
        problems = flat_file_problems(con, file, release[:4], release[4:]) or [
            f"{unplaced} rows placed in no measure of their cell, {bad_keys} rows under a key "
            "that is not an OEWS cell key"
        ]
    else:
        return
    raise SourceError(
        f"oews ({file.name})",
        "; ".join(problems),
        "The file is damaged or its layout changed. Run again (a refused download is set "
        "aside and fetched again) or replace your local copy; if it persists, report it. The "
        "previous release's tables are unchanged.",
        url=file.url,
    )


def _check_not_cut_short(
    con: duckdb.DuckDBPyConnection, table: str, file: FetchedFile, release: str
) -> None:
    """oe.data.0.Current is sorted by series_id, so by area type and code: a file cut at a line
    end loses its last areas whole. When the areas oe.area lists without rows are exactly those
    after the last area with rows, refuse a download whose length the server did not say (the
    cut could not be seen while it arrived), and only warn otherwise: a download of the length
    announced, or a local copy, may be whole and BLS have published nothing for a territory
    that sorts last. A file of a few areas leaves gaps before its last area too, and without
    the area list (the check run on its own) there is nothing to compare."""
    if not table_exists_in_transaction(con, "raw_oews__area"):
        return
    missing = fetch_all(
        con,
        f"""
        WITH listed AS (
          SELECT areatype_code || area_code AS file_order, area_name
          FROM raw_oews__area WHERE release_code = ?
        ), present AS (SELECT DISTINCT areatype_code || area_code AS file_order FROM "{table}")
        SELECT l.file_order > (SELECT max(file_order) FROM present) AS is_after_last,
               l.area_name, (SELECT count(*) FROM listed) AS listed
        FROM listed AS l ANTI JOIN present USING (file_order)
        ORDER BY l.file_order
        """,
        [release],
    )
    if not missing or not all(after for after, _, _ in missing):
        return
    listed = missing[0][2]
    names = [name for _, name, _ in missing]
    shown = ", ".join(names[:3]) + (f" … {names[-1]}" if len(names) > 3 else "")
    last = (
        f"the last of the {listed} areas oe.area lists ({shown}) has no rows"
        if len(names) == 1
        else f"the last {len(names)} of the {listed} areas oe.area lists ({shown}) have no rows"
    )
    them = "it" if len(names) == 1 else "them"
    if not is_length_unverified(file):
        get_dagster_logger("pipelines.sources").warning(
            f"[oews ({file.name})] {last}: BLS published none for {them}, or the file is a "
            "partial copy (then replace it)."
        )
        return
    raise SourceError(
        f"oews ({file.name})",
        f"the file ends early: {last}, while every area before {them} has",
        "The download was probably cut short: the server did not say how long the file is, "
        "so the cut could not be seen as it arrived. Run again: the refused download is set "
        "aside and fetched whole. If it persists, download the file in a browser and point "
        "CCP_OEWS_LOCAL_DIR at the folder. The previous release's tables are unchanged.",
        url=file.url,
    )


def check_datatypes(con: duckdb.DuckDBPyConnection, release: str) -> None:
    """The datatype codes must mean what the parser assumes; a shifted list would corrupt wages."""
    found = dict(
        con.execute(
            "SELECT datatype_code, datatype_name FROM raw_oews__datatype WHERE release_code = ?",
            [release],
        ).fetchall()
    )
    wrong = {
        code: (name, found.get(code))
        for code, name in DATATYPE_NAMES.items()
        if (found.get(code) or "").lower() != name.lower()
    }
    if wrong or set(found) - set(MEASURES):
        raise SourceError(
            "oews (oe.datatype)",
            "datatype codes do not match the known OEWS measures: "
            + "; ".join(f"{c}: expected {e!r}, found {f!r}" for c, (e, f) in wrong.items())
            + (
                f"; unknown codes {sorted(set(found) - set(MEASURES))}"
                if set(found) - set(MEASURES)
                else ""
            ),
            "BLS changed the datatype list; the parser must be updated before this release can "
            "be loaded. The previous release's tables are unchanged.",
        )


def flat_file_problems(
    con: duckdb.DuckDBPyConnection, file: FetchedFile, year: str, period: str
) -> list[str]:
    """What is wrong with the rows of oe.data.0.Current, by kind: a second read of the file,
    run only after its cells showed rows that could not be placed (see the pivot's SQL)."""
    series = r"OEU[NSM][0-9]{7}[0-9A-Z-]{6}[0-9]{6}(0[1-9]|1[0-7])"
    bad = f"NOT coalesce(regexp_full_match(series_id, '{series}'), false)"
    other = "year IS DISTINCT FROM $1 OR period IS DISTINCT FROM $2"
    with reading(file):
        rows, bad_ids, other_release, found, duplicates, empty, examples = con.execute(
            f"""
            SELECT
              count(*),
              count(*) FILTER (WHERE {bad}),
              count(*) FILTER (WHERE {other}),
              mode(year || ' ' || period) FILTER (WHERE {other}),
              count(series_id) - count(DISTINCT series_id),
              count(*) FILTER (WHERE value IS NULL OR value = ''),
              min(series_id, 3) FILTER (WHERE {bad})
            FROM (
              SELECT rtrim(series_id) AS series_id, trim("year") AS year,
                     trim("period") AS period, trim("value") AS value
              FROM {read_csv_sql(file.path, check_header(file))}
            )
            """,
            [year, period],
        ).fetchall()[0]
    problems = []
    if bad_ids:
        problems.append(
            f"{bad_ids} rows whose series_id is not 25 characters of the OEWS pattern "
            f"(e.g. {examples})"
        )
    if other_release and other_release == rows and not bad_ids:
        mismatch = (
            f"every row of the data file is of {found}, while oe.release names {year} {period}"
        )
        if file.url.startswith("file:"):  # a local folder: its files are of two releases
            problem = f"{mismatch}: the folder holds files of two releases"
            remedy = (
                "Copy all seven oe.* files of one release into the folder (CCP_OEWS_LOCAL_DIR)."
            )
        else:
            problem = f"{mismatch}: BLS is most likely replacing its files one at a time"
            remedy = (
                "Run again later, once BLS has finished publishing (the new-release sensor, "
                "when it is on, asks again by itself)."
            )
        raise SourceError(
            f"oews ({file.name})",
            problem,
            f"{remedy} The previous release's tables are unchanged.",
            url=file.url,
            is_damaged=False,
        )
    if other_release:
        problems.append(
            f"{other_release} rows whose year/period differ from oe.release's {year} {period} "
            f"(e.g. {found})"
        )
    if duplicates:
        problems.append(f"{duplicates} duplicate series_id rows")
    if empty:
        problems.append(f"{empty} rows with an empty value (BLS writes '-' for no value)")
    return problems
