"""The main job on the embedded May 2025 release: real values, row counts, contracts."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas import CONTRACTS, validate_table
from tests.support.pipeline import (
    isolated_settings,
    read,
    run_refresh,
    shared_embedded_build,
    table_digests,
)

NATIONAL = "area_code = '0000000' AND industry_code = '000000'"


@pytest.fixture(scope="module")
def warehouse() -> Path:
    return shared_embedded_build().warehouse


def national(warehouse: Path, occupation: str, columns: str) -> tuple:
    frame = read(
        warehouse,
        f"SELECT {columns} FROM stg_oews__estimates WHERE {NATIONAL} AND occupation_code = ?",
        [occupation],
    )
    assert frame.height == 1
    return frame.row(0)


def test_all_occupations_national_values(warehouse: Path) -> None:
    row = national(
        warehouse,
        "000000",
        "employment_count, wage_annual_median_usd, wage_hourly_median_usd, wage_annual_mean_usd",
    )
    assert row == (155_495_730, 50_980.0, 24.51, 69_770.0)


def test_software_developers(warehouse: Path) -> None:
    row = national(
        warehouse, "151252", "employment_count, wage_annual_median_usd, wage_hourly_median_usd"
    )
    assert row == (1_687_890, 135_980.0, 65.38)


def test_counts_match_the_source(warehouse: Path) -> None:
    release = read(warehouse, "SELECT * FROM stg_oews__release").row(0, named=True)
    assert release["release_code"] == "2025A01"
    assert release["release_name"] == "May 2025"
    assert release["cell_count"] == 370_172
    assert release["value_count"] == 6_023_970  # rows in oe.data.0.Current
    assert release["dash_count"] == 191_336
    assert (release["top_code_hourly_usd"], release["top_code_annual_usd"]) == (115.0, 239_200.0)
    counts = {
        "stg_oews__areas": 583,
        "stg_oews__industries": 444,
        "stg_oews__occupations": 1_104,
        "stg_naics__codes": 2_125,
    }
    for table, expected in counts.items():
        assert read(warehouse, f"SELECT count(*) AS n FROM {table}")["n"][0] == expected, table


def test_area_types(warehouse: Path) -> None:
    frame = read(warehouse, "SELECT area_type, count(*) AS n FROM stg_oews__areas GROUP BY 1")
    assert dict(frame.iter_rows()) == {
        "national": 1,
        "state": 54,
        "metropolitan": 393,
        "nonmetropolitan": 135,
    }


def test_dashes_keep_their_footnotes(warehouse: Path) -> None:
    # Nationally, 78 occupations publish no hourly wages (annual-only: teachers, pilots...)
    # and 7 publish no annual wages (hourly-only: actors, dancers...).
    frame = read(
        warehouse,
        f"SELECT count_if(is_annual_only) AS annual_only, count_if(is_hourly_only) AS hourly_only "
        f"FROM stg_oews__estimates WHERE {NATIONAL}",
    )
    assert frame.row(0) == (78, 7)
    teacher = national(
        warehouse,
        "252021",  # elementary school teachers: annual only
        "wage_hourly_median_usd, wage_hourly_median_usd_footnote_codes, wage_annual_median_usd, "
        "is_annual_only",
    )
    assert teacher[0] is None and teacher[1] == "4" and teacher[2] > 0 and teacher[3] is True
    top = read(
        warehouse,
        "SELECT count(*) AS n FROM stg_oews__estimates WHERE wage_annual_p90_usd IS NULL "
        "AND wage_annual_p90_usd_footnote_codes = '5'",
    )
    assert top["n"][0] > 0
    unreleased = read(
        warehouse,
        "SELECT count(*) AS n FROM stg_oews__estimates WHERE employment_count IS NULL "
        "AND employment_count_footnote_codes = '8'",
    )
    assert unreleased["n"][0] == 13_419


def test_industry_naics_mapping(warehouse: Path) -> None:
    frame = read(
        warehouse,
        "SELECT industry_code, industry_kind, naics_code, naics_parent_code, naics_sector_code "
        "FROM stg_oews__industries WHERE industry_code IN "
        "('31--34', '44--46', '11--12', '113300', '3250A1', '611102', '999100', '000000', "
        "'221111', '99-100') ORDER BY 1",
    )
    assert {r[0]: r[1:] for r in frame.iter_rows()} == {
        "000000": ("cross_industry", None, None, None),
        "11--12": ("sector", "11", None, "11"),
        "113300": ("naics", "1133", None, "11"),
        "221111": ("naics", "221111", None, "22"),
        "31--34": ("sector", "31-33", None, "31-33"),
        "3250A1": ("oews_aggregate", None, "325", "31-33"),
        "44--46": ("sector", "44-45", None, "44-45"),
        "611102": ("ownership_variant", None, "6111", "61"),
        "999100": ("government", None, None, None),
        "99-100": ("sector", None, None, None),
    }


def test_occupation_hierarchy_flags(warehouse: Path) -> None:
    frame = read(
        warehouse,
        "SELECT count_if(is_detailed) AS detailed, count_if(is_broad_as_detailed) AS broad, "
        "count_if(is_oews_aggregate) AS aggregates FROM stg_oews__occupations",
    )
    assert frame.row(0) == (830, 7, 5)
    dev = read(
        warehouse,
        "SELECT soc_level, major_code, minor_code, broad_code FROM stg_oews__occupations "
        "WHERE soc_code = '15-1252'",
    )
    assert dev.row(0) == ("detailed", "15-0000", "15-1200", "15-1250")


@pytest.mark.parametrize("table", sorted(CONTRACTS))
def test_every_table_meets_its_contract(warehouse: Path, table: str) -> None:
    validate_table(table, read(warehouse, f'SELECT * FROM "{table}"'))


def test_checks_all_passed_and_rerun_is_idempotent(tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path)
    first = run_refresh(settings)
    assert first.success
    evaluations = [
        e.event_specific_data
        for e in first.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert len(evaluations) >= 12 and all(ev.passed for ev in evaluations)
    before = table_digests(settings.warehouse)
    assert run_refresh(settings).success
    after = table_digests(settings.warehouse)
    assert len(after) >= 35
    # Same inputs, same tables (only the fetch and ingest times differ), so a diff between two
    # runs shows real changes.
    timed = {"raw_oews__files", "stg_oews__files", "stg_oews__release"}
    assert {t: d for t, d in after.items() if t not in timed} == {
        t: d for t, d in before.items() if t not in timed
    }
    count = read(settings.warehouse, "SELECT count(*) AS n FROM stg_oews__estimates")["n"][0]
    assert count == 370_172
