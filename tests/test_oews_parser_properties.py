"""Properties of the OEWS flat-file parser (pipelines/sources/oews.py with
sql/src_oews__cells_from_flat_file.sql): any valid rows written in BLS's layout come back exactly,
and a damaged file is either read exactly as the undamaged one or refused with an error; it is
never read as different data.

Damage means what no parser could take for valid data: a byte replaced by one that cannot occur
where it lands (not a digit: 7 -> 8 is still a valid file), a dropped tab, a file cut off
mid-line (the way a download or copy is truncated), a value that is neither a number nor `-`.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipelines.sources.files import FetchedFile, SourceError
from pipelines.sources.oews import CELL_COLUMNS, DATA_FILE, flat_cells, reading
from pipelines.sources.oews_checks import check_cells
from pipelines.warehouse import query_frame, sql_text
from tests.support.blsformat import DATA_HEADER, DATATYPE_CODES, format_data_line

YEAR, PERIOD = "2025", "A01"
FOOTNOTES = {"4", "5", "8"}
VALID_VALUE = re.compile(r"-|[0-9]+(\.[0-9]+)?")
# Bytes that cannot occur where they land: no digit, upper-case letter (industry codes), '.'
# or '-' (values), and no space (padding, trimmed).
GARBAGE_BYTES = b"x#?%*/;~,\x00"
CON = duckdb.connect()  # one in-memory database for every example: the parser's view, tables

cell_keys = st.builds(
    lambda kind, area, industry, occupation: f"OEU{kind}{area}{industry}{occupation}",
    st.sampled_from("NSM"),
    st.from_regex(r"[0-9]{7}", fullmatch=True),
    st.from_regex(r"[0-9A-Z-]{6}", fullmatch=True),
    st.from_regex(r"[0-9]{6}", fullmatch=True),
)
footnote_lists = st.lists(st.sampled_from(sorted(FOOTNOTES)), max_size=2, unique=True).map(",".join)
numbers = st.from_regex(r"[0-9]{1,9}(\.[0-9]{1,2})?", fullmatch=True)
measures = st.one_of(
    st.tuples(numbers, st.just("")),  # most published values carry no footnote
    st.tuples(numbers, footnote_lists),
    st.tuples(st.just("-"), footnote_lists.filter(bool)),
)


def _whole_employment(measures_: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """BLS publishes employment (datatype 01) as a whole number; drop a drawn decimal part."""
    if "01" in measures_:
        value, notes = measures_["01"]
        measures_["01"] = (value.split(".")[0], notes)
    return measures_


releases = st.dictionaries(
    cell_keys,
    st.dictionaries(st.sampled_from(DATATYPE_CODES), measures, min_size=1, max_size=17).map(
        _whole_employment
    ),
    min_size=1,
    max_size=6,
)
garbage_values = st.text(max_size=12).filter(lambda t: not VALID_VALUE.fullmatch(t.strip()))


def lines_of(cells: dict[str, dict[str, tuple[str, str]]]) -> list[str]:
    """The data lines of `cells`, in BLS's order (by series_id)."""
    return [
        format_data_line(key + dt, YEAR, PERIOD, value, notes)
        for key in sorted(cells)
        for dt, (value, notes) in sorted(cells[key].items())
    ]


def expected(cells: dict[str, dict[str, tuple[str, str]]]) -> list[tuple]:
    """The cells relation the parser must produce: values and footnotes as published."""
    rows = []
    for key in sorted(cells):
        measures_ = cells[key]
        values = [measures_.get(dt, (None, ""))[0] for dt in DATATYPE_CODES]
        notes = [measures_.get(dt, (None, ""))[1] or None for dt in DATATYPE_CODES]
        rows.append((key, *values, *notes))
    return rows


def parse(data: bytes, url: str | None = None) -> list[tuple]:
    """Run the real parser and checks on `data` as oe.data.0.Current (the typed table built
    from the cells view, whose check columns are then checked); the cells, sorted. `url`: where
    the file came from (default: a local copy)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / DATA_FILE
        path.write_bytes(data)
        file = FetchedFile("oews", DATA_FILE, url or path.as_uri(), path, len(data), "", None,
                           None, "", "", False)  # fmt: skip
        with flat_cells(CON, file, YEAR, PERIOD) as cells:
            with reading(file):
                CON.execute(
                    "CREATE OR REPLACE TEMP TABLE typed AS " + sql_text("stg_oews__estimates"),
                    [YEAR + PERIOD],
                )
            check_cells(CON, "typed", cells, FOOTNOTES, file, YEAR + PERIOD)
            columns = ", ".join(CELL_COLUMNS)
            return query_frame(CON, f"SELECT {columns} FROM {cells} ORDER BY 1").rows()


def encode(lines: list[str]) -> bytes:
    return (DATA_HEADER + "".join(lines)).encode("utf-8")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(releases)
def test_valid_rows_round_trip_exactly(cells: dict) -> None:
    assert parse(encode(lines_of(cells))) == expected(cells)


@st.composite
def damaged(draw: st.DrawFn) -> tuple[dict, bytes, str]:
    """A valid file and one damage to it: (cells, damaged bytes, what was done)."""
    cells = draw(releases)
    lines = lines_of(cells)
    header, body = len(DATA_HEADER), encode(lines)[len(DATA_HEADER) :]
    kind = draw(st.sampled_from(["byte", "tab", "cut", "value"]))
    if kind == "byte":
        at = draw(st.integers(0, len(body) - 1))
        new = draw(st.sampled_from(list(GARBAGE_BYTES)))
        body = body[:at] + bytes([new]) + body[at + 1 :]
    elif kind == "tab":
        tabs = [i for i, b in enumerate(body) if b == 9]
        at = draw(st.sampled_from(tabs))
        body = body[:at] + body[at + 1 :]
    elif kind == "cut":  # the file ends mid-line (a truncated download or copy)
        starts = [0, *(i + 1 for i, b in enumerate(body[:-1]) if b == 10)]
        line = draw(st.sampled_from(starts))
        end = body.index(b"\n", line)
        body = body[: draw(st.integers(line + 1, end))]
    else:
        i = draw(st.integers(0, len(lines) - 1))
        series, _, _, _, notes = lines[i].rstrip("\r\n").split("\t")
        lines[i] = format_data_line(series.strip(), YEAR, PERIOD, draw(garbage_values), notes)
        body = encode(lines)[header:]
    return cells, DATA_HEADER.encode() + body, kind


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damage_is_refused_or_harmless_never_silent(case: tuple[dict, bytes, str]) -> None:
    cells, data, _ = case
    try:
        parsed = parse(data)
    except SourceError as err:
        assert "What to do" in str(err) and DATA_FILE in str(err)
        return
    assert parsed == expected(cells)


KEY = "OEUN0000000000000000001"
GOOD = [
    format_data_line(f"{KEY}{dt}", YEAR, PERIOD, v, "") for dt, v in (("01", "125"), ("02", "12.5"))
]
LONG_LAYOUT_PROBLEMS = {
    "repeated series": (GOOD + GOOD[:1], "1 duplicate series_id rows"),
    "row of another release": (
        [*GOOD, format_data_line(f"{KEY}03", "2024", PERIOD, "1", "")],
        f"1 rows whose year/period differ from oe.release's {YEAR} {PERIOD} (e.g. 2024 {PERIOD})",
    ),
    "empty value": (
        [*GOOD, format_data_line(f"{KEY}03", YEAR, PERIOD, "", "")],
        "1 rows with an empty value",
    ),
    "datatype code 18": (
        [*GOOD, format_data_line(f"{KEY}18", YEAR, PERIOD, "1", "")],
        f"1 rows whose series_id is not 25 characters of the OEWS pattern (e.g. ['{KEY}18'])",
    ),
    "value of padding only, with a footnote": (
        [*GOOD, format_data_line(f"{KEY}03", YEAR, PERIOD, "", "4")],
        "1 rows with an empty value",
    ),
    "series_id padded on the left": (
        [*GOOD, format_data_line(f" {KEY}03", YEAR, PERIOD, "1", "")],
        f"1 rows whose series_id is not 25 characters of the OEWS pattern (e.g. [' {KEY}03'])",
    ),
    "no rows": ([], "no data rows"),
    "empty series_id": (
        [*GOOD, format_data_line("", YEAR, PERIOD, "1", "")],
        "1 rows whose series_id is not 25 characters of the OEWS pattern",
    ),
}


def test_a_data_file_of_the_previous_release_is_named_as_publication_in_progress() -> None:
    """oe.release already names the new release, the data file is still last year's: not a
    damaged file (kept, not set aside) but BLS mid-publication, with when to try again."""
    lines = [format_data_line(f"{KEY}{dt}", "2024", PERIOD, "1", "") for dt in ("01", "02")]
    with pytest.raises(SourceError) as err:
        parse(encode(lines), "https://download.bls.gov/pub/time.series/oe/oe.data.0.Current")
    assert f"every row of the data file is of 2024 {PERIOD}, while oe.release names {YEAR}" in (
        str(err.value)
    )
    assert "replacing its files one at a time" in str(err.value) and "Run again later" in str(
        err.value
    )
    assert not err.value.is_damaged
    with pytest.raises(SourceError) as local:  # a local folder: nobody is publishing
        parse(encode(lines))
    assert "the folder holds files of two releases" in str(local.value)
    assert "CCP_OEWS_LOCAL_DIR" in str(local.value) and "BLS" not in str(local.value)


@pytest.mark.parametrize("case", list(LONG_LAYOUT_PROBLEMS))
def test_long_layout_problems_are_named(case: str) -> None:
    """Rows the pivot could not place in a cell are refused, and a second read says why."""
    lines, fragment = LONG_LAYOUT_PROBLEMS[case]
    with pytest.raises(SourceError) as err:
        parse(encode(lines))
    assert fragment in str(err.value) and "a refused download is set aside" in str(err.value)


BAD_VALUES = {
    "employment that is not a whole number": ("01", "12.5"),
    "employment too large for an integer": ("01", "9" * 20),
    "a wage too large for a double (it would be infinite)": ("03", "9" * 400),
    "a NUL byte inside a number": ("03", "12\x0034"),
    "an exponent": ("03", "1e5"),
    "a sign": ("04", "+5"),
}


@pytest.mark.parametrize("case", list(BAD_VALUES))
def test_values_the_estimates_cannot_hold_unchanged_are_refused(case: str) -> None:
    """A value that is not '-' or a plain decimal number its measure's type holds unchanged
    is refused, with the value named (never rounded, made infinite or turned into NULL)."""
    datatype, value = BAD_VALUES[case]
    bad = format_data_line(f"{KEY}{datatype}", YEAR, PERIOD, value)
    # in place of GOOD's row of that datatype, if it has one; sorted, as BLS orders the file
    lines = sorted([*(line for line in GOOD if not line.startswith(f"{KEY}{datatype}")), bad])
    with pytest.raises(SourceError) as err:
        parse(encode(lines))
    assert "neither numbers nor '-'" in str(err.value) and repr(value) in str(err.value)


def test_padded_year_and_period_are_read() -> None:
    """Year and period are compared as published first, then trimmed: padding is accepted."""
    lines = [format_data_line(f"{KEY}01", f" {YEAR} ", f"{PERIOD} ", "120", "")]
    assert parse(encode(lines)) == expected({KEY: {"01": ("120", "")}})


def test_a_footnote_code_with_a_control_character_is_unknown() -> None:
    """Only spaces are padding: a form feed before a code is damage, not code 4."""
    lines = [*GOOD, format_data_line(f"{KEY}03", YEAR, PERIOD, "-", "\x0c4")]
    with pytest.raises(SourceError, match=r"footnote codes \['\\x0c4'\] are not in oe.footnote"):
        parse(encode(lines))
