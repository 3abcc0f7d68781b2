"""Bad content in BLS's flat files at pipeline level: each refresh fails with a message naming
the file, the problem and the remedy, and the previous release's tables and reports stay.

The files are served with a new ETag, as BLS would serve a changed file, so the damaged bytes
really replace the cached copy and reach the parser. (An empty file is refused by the
downloader: see tests/test_faults_network.py.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.faults import NATIONAL_KEY, Case, assert_explained, report_epoch
from tests.support.pipeline import failure_text, read

DATA = "oe.data.0.Current"
Damage = Callable[[Path], tuple[str, bytes]]  # the good files -> (file name, damaged bytes)


def national_row(data: bytes) -> bytes:
    """The national all-occupations employment line (datatype 01), as written."""
    start = data.index(NATIONAL_KEY.encode() + b"01")
    return data[start : data.index(b"\r\n", start) + 2]


def renamed_column(files: Path) -> tuple[str, bytes]:
    data = (files / DATA).read_bytes()
    return DATA, data.replace(b"\tfootnote_codes\r\n", b"\tfootnotes\r\n", 1)


def added_column(files: Path) -> tuple[str, bytes]:
    data = (files / DATA).read_bytes()
    return DATA, data.replace(b"\tfootnote_codes\r\n", b"\tfootnote_codes\tseries_title\r\n", 1)


def short_series_id(files: Path) -> tuple[str, bytes]:
    """One series_id loses a character (the padding keeps the column width)."""
    data = (files / DATA).read_bytes()
    line = national_row(data)
    return DATA, data.replace(line, line[:4] + line[5:30] + b" " + line[30:], 1)


def non_numeric_value(files: Path) -> tuple[str, bytes]:
    """A thousands separator, as a spreadsheet export would write it."""
    data = (files / DATA).read_bytes()
    line = national_row(data)
    return DATA, data.replace(line, line.replace(b"  155495730", b"155,495,730"), 1)


def unknown_footnote(files: Path) -> tuple[str, bytes]:
    data = (files / DATA).read_bytes()
    line = national_row(data)
    return DATA, data.replace(line, line[:-2] + b"9\r\n", 1)


def older_release(files: Path) -> tuple[str, bytes]:
    return "oe.release", b"release_date\tdescription\r\n2024A01\tMay 2024\r\n"


def cut_off_file(files: Path) -> tuple[str, bytes]:
    """The data file ends mid-line, as a truncated copy does (served whole, so the download
    itself succeeds)."""
    data = (files / DATA).read_bytes()
    return DATA, data[: data.rindex(b"\t")]


CASES = [
    (
        renamed_column,
        "oews (oe.data.0.Current)",
        ["unexpected header", "missing ['footnote_codes']", "unexpected ['footnotes']"],
    ),
    (added_column, "oews (oe.data.0.Current)", ["unexpected ['series_title']", "report it"]),
    (
        older_release,
        "oews (oe.release)",
        [
            "release 2024A01, older than the newest release in the warehouse, 2025A01",
            "hold only the current release",
            "CCP_OEWS_XLSX_YEAR",
            "CCP_OEWS_XLSX_LOCAL_PATH",
        ],
    ),
    (cut_off_file, "oews (oe.data.0.Current)", ["does not end with a line break", "truncated"]),
]
# Found only while the 6-million-row file is pivoted in staging, after the sources stage has
# recorded the fetch: the fetched file's row in raw_oews__files is then the one thing changed.
# stg_oews__files, what reports cite, still names the file behind the estimates.
STAGING_CASES = [
    (short_series_id, ["not 25 characters of the OEWS pattern", "a refused download is set aside"]),
    (non_numeric_value, ["neither numbers nor '-'", "'155,495,730'", NATIONAL_KEY]),
    (unknown_footnote, ["footnote codes ['9'] are not in oe.footnote", "Download all oe.*"]),
]


def serve_changed(case: Case, name: str, body: bytes) -> None:
    case.server.add(f"/oe/{name}", body, etag=f'"{name}-changed"')


def assert_set_aside(case: Case, name: str, body: bytes, message: str) -> None:
    """The refused download is kept beside the cache as `.refused`, and the copy it replaced
    is the cached file again, with its validators (so a server serving it again answers 304)."""
    cached = case.folder / "cache" / "oews" / name
    assert cached.with_name(f"{name}.refused").read_bytes() == body
    assert cached.read_bytes() == (case.bls_files / name).read_bytes()
    assert not cached.with_name(f"{name}.previous").exists()
    assert "and the copy cached before it is back in the cache" in message


@pytest.mark.parametrize(
    ("damage", "source", "fragments"), CASES, ids=[c[0].__name__ for c in CASES]
)
def test_bad_file_is_refused_before_anything_is_written(
    fault: Case, damage: Damage, source: str, fragments: list[str]
) -> None:
    name, body = damage(fault.bls_files)
    serve_changed(fault, name, body)
    result = fault.run()
    assert not result.success
    assert_explained(failure_text(result), source, *fragments)
    fault.assert_intact()
    if damage is older_release:  # a whole file of another release: kept, not set aside
        assert not list((fault.folder / "cache").rglob("*.refused"))
        return
    assert_set_aside(fault, name, body, failure_text(result))
    if damage is cut_off_file:
        # BLS serves the good file again, as it was: revalidated (304), the copy put back is used
        fault.baseline.serve_good()
        again = fault.run()
        assert again.success, failure_text(again)
        fault.assert_intact(may_change=frozenset({"raw_oews__files", "stg_oews__files"}))


@pytest.mark.parametrize(
    ("damage", "fragments"), STAGING_CASES, ids=[c[0].__name__ for c in STAGING_CASES]
)
def test_bad_values_are_refused_and_the_tables_stay(
    fault: Case, damage: Damage, fragments: list[str]
) -> None:
    name, body = damage(fault.bls_files)
    serve_changed(fault, name, body)
    result = fault.run()
    assert not result.success
    assert_explained(failure_text(result), f"oews ({DATA})", *fragments)
    assert_set_aside(fault, name, body, failure_text(result))
    fault.assert_intact(may_change=frozenset({"raw_oews__files"}))
    # raw_oews__files records the fetch that was refused, and nothing else changed in it.
    sql = "SELECT file_name, sha256, etag, retrieved_at FROM raw_oews__files ORDER BY 1"
    before = dict((r[0], r[1:]) for r in read(fault.baseline.root / "warehouse.duckdb", sql).rows())
    after = dict((r[0], r[1:]) for r in read(fault.settings().warehouse, sql).rows())
    assert after[DATA][:2] == (hashlib.sha256(body).hexdigest(), f'"{DATA}-changed"')
    assert {n: v for n, v in after.items() if n != DATA} == {
        n: v for n, v in before.items() if n != DATA
    }
    # Reports rendered now cite the file the estimates came from, not the refused one: byte for
    # byte the pages and downloads of before.
    with report_epoch():
        rendered = fault.run("render_reports")
    assert rendered.success, failure_text(rendered)
    fault.assert_intact(may_change=frozenset({"raw_oews__files"}))


def test_a_failure_of_the_machine_does_not_set_the_download_aside(fault: Case) -> None:
    """DuckDB out of memory while reading a changed, good data file: the message says so, not
    that the file is damaged, and the file stays cached (no .refused, no earlier copy back)."""
    serve_changed(fault, DATA, (fault.bls_files / DATA).read_bytes())  # a new ETag
    result = fault.run(duckdb_memory_limit="1MB")
    assert not result.success
    message = failure_text(result)
    assert "reading it failed for a reason outside the file" in message, message
    assert "CCP_DUCKDB_MEMORY_LIMIT" in message
    assert not list((fault.folder / "cache").rglob("*.refused"))
