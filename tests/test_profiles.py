"""Cluster headline figures: recomputed independently from the underlying tables."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.warehouse import query_frame, sql_text
from tests.support.pipeline import (
    read,
    shared_embedded_build,
)


@pytest.fixture(scope="module")
def warehouse() -> Path:
    return shared_embedded_build().warehouse


def test_summary_matches_an_independent_computation(warehouse: Path) -> None:
    summary = read(warehouse, "SELECT * FROM out_profiles__cluster_summary")
    assert summary.height == 14
    assignments = (
        read(
            warehouse,
            "SELECT DISTINCT occupation_code, cluster_code, is_primary "
            "FROM out_clusters__occupation_cluster",
        )
        .group_by("occupation_code", "cluster_code")
        .agg(pl.col("is_primary").any())
    )
    national = read(
        warehouse,
        "SELECT q.occupation_code, q.status, q.employment_count, e.wage_annual_mean_usd, "
        "e.wage_annual_median_usd "
        "FROM out_qualify__occupation_qualification q JOIN stg_oews__estimates e "
        "USING (release_code, occupation_code, area_code) "
        "WHERE q.area_type = 'national' AND e.industry_code = '000000'",
    )
    qualifying = assignments.join(national, on="occupation_code").filter(
        pl.col("status") == "qualifies"
    )
    spread = assignments.group_by("occupation_code").len("clusters")
    qualifying = qualifying.join(spread, on="occupation_code")
    for row in summary.iter_rows(named=True):
        mine = qualifying.filter(pl.col("cluster_code") == row["cluster_code"])
        assert row["qualifying_occupation_count"] == mine.height
        assert row["qualifying_employment_count"] == mine["employment_count"].sum()
        assert row["qualifying_primary_employment_count"] == (
            mine.filter(pl.col("is_primary"))["employment_count"].sum()
        )
        assert row["qualifying_shared_employment_count"] == (
            mine.filter(pl.col("clusters") > 1)["employment_count"].sum()
        )
        with_mean = mine.filter(pl.col("wage_annual_mean_usd").is_not_null())
        expected_mean = (
            with_mean["employment_count"] * with_mean["wage_annual_mean_usd"]
        ).sum() / (with_mean["employment_count"].sum())
        assert row["qualifying_wage_annual_mean_usd"] == pytest.approx(expected_mean)
        with_median = mine.filter(pl.col("wage_annual_median_usd").is_not_null())
        assert row["qualifying_wage_annual_median_covered_employment_count"] == (
            with_median["employment_count"].sum()
        )
        expected_typical = (
            with_median["employment_count"] * with_median["wage_annual_median_usd"]
        ).sum() / (with_median["employment_count"].sum())
        assert row["qualifying_wage_annual_median_emp_weighted_avg_usd"] == pytest.approx(
            expected_typical
        )
    # Education's teachers are paid by the year: the annual figure covers far more of its jobs
    education = summary.filter(pl.col("cluster_code") == "education").row(0, named=True)
    assert (
        education["qualifying_wage_annual_median_covered_employment_count"]
        > 2 * education["qualifying_wage_hourly_median_covered_employment_count"]
    )


def test_non_duplicated_totals_add_up_to_the_nation(warehouse: Path) -> None:
    total = read(
        warehouse,
        "SELECT sum(qualifying_primary_employment_count) AS n FROM out_profiles__cluster_summary",
    )["n"][0]
    national = read(
        warehouse,
        "SELECT sum(employment_count) AS n FROM out_qualify__occupation_qualification "
        "WHERE area_type = 'national' AND status = 'qualifies'",
    )["n"][0]
    assert total == national > 50_000_000
    shared = read(
        warehouse,
        "SELECT sum(qualifying_employment_count) AS n FROM out_profiles__cluster_summary",
    )["n"][0]
    assert shared > total  # occupations in several clusters count in each


def test_state_figures_match_an_independent_computation(warehouse: Path) -> None:
    """Jobs by state are the published cells; the location quotient compares the state with
    the nation over the same occupations, those published for the state (over all of them, a
    state with withheld cells looked less concentrated than it is)."""
    states = read(warehouse, "SELECT * FROM out_profiles__cluster_states")
    qualifying = read(
        warehouse,
        "SELECT DISTINCT cluster_code, occupation_code FROM out_clusters__occupation_cluster "
        "WHERE status = 'qualifies'",
    )
    cells = read(
        warehouse,
        "SELECT area_code, occupation_code, employment_count FROM stg_oews__estimates "
        "WHERE industry_code = '000000' AND (area_code = '0000000' OR area_code IN "
        "(SELECT area_code FROM stg_oews__areas WHERE area_type = 'state'))",
    )
    national = cells.filter(pl.col("area_code") == "0000000").select(
        "occupation_code", pl.col("employment_count").alias("national")
    )
    totals = dict(
        cells.filter(pl.col("occupation_code") == "000000")
        .select("area_code", "employment_count")
        .iter_rows()
    )
    published = (
        qualifying.join(cells.filter(pl.col("area_code") != "0000000"), on="occupation_code")
        .filter(pl.col("employment_count").is_not_null())
        .join(national, on="occupation_code")
        .group_by("cluster_code", "area_code")
        .agg(
            pl.len().alias("released"),
            pl.col("employment_count").sum().alias("jobs"),
            pl.col("national").sum().alias("national_jobs"),
        )
    )
    assert states.height == qualifying["cluster_code"].n_unique() * 54
    compared = states.join(published, on=["cluster_code", "area_code"], how="left")
    withheld = 0
    for row in compared.iter_rows(named=True):
        assert row["released_occupation_count"] == (row["released"] or 0)
        assert row["employment_count"] == (row["jobs"] or 0)
        if not row["released"]:
            assert row["location_quotient"] is None
            continue
        expected = (row["jobs"] / totals[row["area_code"]]) / (
            row["national_jobs"] / totals["0000000"]
        )
        assert row["location_quotient"] == pytest.approx(expected, rel=1e-12)
        withheld += row["suppressed_occupation_count"] > 0
    assert withheld > 600  # most cluster x state rows have some cell withheld
    # Energy & Natural Resources in the District of Columbia: its withheld occupations are
    # most of the cluster's national jobs, so over all of them DC would look half as concentrated
    dc = compared.filter(
        (pl.col("cluster_code") == "energy-natural-resources") & (pl.col("area_code") == "1100000")
    ).row(0, named=True)
    assert dc["suppressed_occupation_count"] > 0 and dc["location_quotient"] > 1.5


def test_state_quotient_is_over_the_occupations_published_for_the_state() -> None:
    """Two occupations of one cluster: Alabama publishes one, Alaska neither. Alabama's
    quotient compares that one occupation with its national jobs; Alaska's is unknown (NULL),
    not 0, and its jobs a lower bound of 0 with both occupations counted as unpublished."""
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE out_clusters__occupation_cluster AS SELECT * FROM (VALUES "
        "('2025A01', 'c', '111111', 'qualifies'), ('2025A01', 'c', '222222', 'qualifies')) "
        "t(release_code, cluster_code, occupation_code, status)"
    )
    con.execute(
        "CREATE TABLE stg_oews__areas AS SELECT * FROM (VALUES "
        "('2025A01', '0100000', 'Alabama', '01', 'state'), "
        "('2025A01', '0200000', 'Alaska', '02', 'state')) "
        "t(release_code, area_code, area_name, state_code, area_type)"
    )
    cells = [  # area, occupation, employment
        ("0000000", "000000", 1000), ("0000000", "111111", 100), ("0000000", "222222", 300),
        ("0100000", "000000", 50), ("0100000", "111111", 10), ("0100000", "222222", None),
        ("0200000", "000000", 20), ("0200000", "111111", None), ("0200000", "222222", None),
    ]  # fmt: skip
    con.execute(
        "CREATE TABLE stg_oews__estimates (release_code VARCHAR, area_code VARCHAR, "
        "industry_code VARCHAR, occupation_code VARCHAR, employment_count BIGINT)"
    )
    con.executemany("INSERT INTO stg_oews__estimates VALUES ('2025A01', ?, '000000', ?, ?)", cells)
    rows = query_frame(
        con,
        f"SELECT * FROM ({sql_text('out_profiles__cluster_states')}) ORDER BY area_code",
        ["2025A01"],
    ).to_dicts()
    alabama, alaska = rows
    assert (alabama["employment_count"], alabama["suppressed_occupation_count"]) == (10, 1)
    # (10 / 50) / (100 / 1000): the published occupation alone on both sides
    assert alabama["location_quotient"] == pytest.approx(2.0)
    assert (alaska["employment_count"], alaska["suppressed_occupation_count"]) == (0, 2)
    assert alaska["location_quotient"] is None
