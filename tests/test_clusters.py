"""Cluster assignment: official crosswalk, explainable rules, reviewer decisions."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import zipfile
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from pipelines.framework.definition import load_framework
from pipelines.policy.cluster_tables import framework_resolver
from pipelines.policy.reviews import ReviewError, load_decisions
from pipelines.settings import Settings
from tests.support.crosswalk_workbook import SAMPLE_ROWS, write_crosswalk_workbook
from tests.support.pipeline import (
    failure_text,
    isolated_settings,
    read,
    run_refresh,
    shared_embedded_build,
    table_digests,
)

OC = "out_clusters__occupation_cluster"
HEADER = (
    "soc_code,occupation_title,cluster,sub_cluster,decision,to_cluster,to_sub_cluster,"
    "reviewer,date,rationale\n"
)


def clusters_of(warehouse: Path, soc: str) -> pl.DataFrame:
    return read(
        warehouse,
        f"SELECT cluster_name, sub_cluster_name, is_primary, layer, evidence FROM {OC} "
        "WHERE soc_code = ? ORDER BY is_primary DESC, cluster_name, sub_cluster_name",
        [soc],
    )


@pytest.fixture(scope="module")
def offline() -> Path:
    return shared_embedded_build().warehouse


def test_every_occupation_has_clusters_and_one_primary(offline: Path) -> None:
    frame = read(
        offline,
        f"SELECT soc_code, count(*) AS rows, count_if(is_primary) AS primaries FROM {OC} "
        "GROUP BY 1",
    )
    assert frame.height == 830
    assert (frame["primaries"] == 1).all()
    layers = read(offline, f"SELECT DISTINCT layer FROM {OC}")["layer"].to_list()
    assert layers == ["rules"]


@pytest.mark.parametrize(
    ("soc", "cluster", "sub_cluster"),
    [
        ("15-1252", "Digital Technology", "Software Solutions"),
        ("29-1141", "Healthcare & Human Services", "Physical Health"),
        ("47-2111", "Construction", "Skilled Trades"),
        ("13-2011", "Financial Services", "Accounting"),
        ("53-3032", "Supply Chain & Transportation", "Ground & Rail Transportation"),
    ],
)
def test_well_known_occupations(offline: Path, soc: str, cluster: str, sub_cluster: str) -> None:
    primary = clusters_of(offline, soc).row(0, named=True)
    assert (primary["cluster_name"], primary["sub_cluster_name"]) == (cluster, sub_cluster)
    assert primary["is_primary"] and "rule SOC" in primary["evidence"]
    assert "% of employment in" in primary["evidence"]


@pytest.mark.parametrize(
    ("soc", "expected"),
    [
        # not placed by the industries that employ them: stockers by retail (Hospitality),
        # research assistants and technicians by universities (Education), medical equipment
        # repairers by wholesalers (Supply Chain)
        ("53-7065", {"Marketing & Sales": "Retail & Customer Experience",
                     "Supply Chain & Transportation": "Purchasing & Warehousing"}),
        ("19-4061", {"Marketing & Sales": "Market Research, Analytics, & Ethics"}),
        ("19-4099", {"Energy & Natural Resources": "Ecological Research & Development"}),
        ("49-9062", {"Healthcare & Human Services": "Physical Health",
                     "Advanced Manufacturing": "Industrial Machinery"}),
        # dry cleaners and laundries are a personal service, not manufacturing
        ("51-6011", {"Healthcare & Human Services": "Personal Care Services"}),
        ("51-6021", {"Healthcare & Human Services": "Personal Care Services"}),
        # wellhead pumpers run wells; other pump operators also move goods
        ("53-7073", {"Energy & Natural Resources": "Resource Extraction"}),
        ("53-7072", {"Energy & Natural Resources": "Resource Extraction",
                     "Supply Chain & Transportation": "Planning & Logistics"}),
        # most home health aides work in services for the elderly and disabled (NAICS 624)
        ("31-1120", {"Healthcare & Human Services": "Community & Social Services"}),
    ],
)  # fmt: skip
def test_placements_the_rules_correct(offline: Path, soc: str, expected: dict[str, str]) -> None:
    rows = clusters_of(offline, soc)
    assert dict(zip(rows["cluster_name"], rows["sub_cluster_name"], strict=True)) == expected


def test_exceptions_keep_their_cluster_out_even_by_industry(offline: Path) -> None:
    """A weight-0 rule removes a cluster a less specific rule gives. Industry evidence could add
    it back for an occupation a by_industry rule or no rule places: none of the shipped
    exceptions has one (the rule file's header says so)."""
    from dataclasses import replace

    from pipelines.policy.cluster_rules import assign, load_cluster_rules

    rules = load_cluster_rules()
    # the exceptions, made to place, say which (occupation, cluster) pairs they keep out
    flagged = replace(
        rules, rules=tuple(replace(r, weight=1e-9) if r.weight == 0 else r for r in rules.rules)
    )
    occupations = read(
        offline,
        "SELECT soc_code, occupation_name, major_code, minor_code, broad_code, "
        "is_broad_as_detailed FROM stg_oews__occupations WHERE is_detailed",
    )
    excepted = assign(occupations, flagged).filter(pl.col("weight") == 1e-9)
    assert excepted.height >= 13  # one pair per shipped exception at least
    placed = read(offline, f"SELECT DISTINCT soc_code, cluster_name FROM {OC}")
    leaked = excepted.join(
        placed, left_on=["soc_code", "cluster"], right_on=["soc_code", "cluster_name"]
    )
    assert leaked.is_empty(), leaked


def test_evidence_reads_cleanly(offline: Path) -> None:
    """A rule's reason ends its clause without doubling the punctuation ('.;')."""
    assert read(offline, f"SELECT count(*) FROM {OC} WHERE evidence LIKE '%.;%'").item() == 0


def test_marketing_managers_are_cross_cutting(offline: Path) -> None:
    names = set(clusters_of(offline, "11-2021")["cluster_name"])
    assert {"Marketing & Sales", "Management & Entrepreneurship"} <= names


def test_industry_evidence_alone_takes_sub_cluster_from_title_or_subsector(offline: Path) -> None:
    """A placement by industry evidence alone has no rule: its sub-cluster comes from the
    cluster's title keywords, else from the subsector employing most of it in the cluster's
    sectors (the rule file's alignment), never silently from the cluster's default."""
    rows = read(
        offline,
        f"SELECT soc_code, cluster_name, sub_cluster_name, evidence FROM {OC} "
        "WHERE method = 'industry' ORDER BY soc_code, cluster_name",
    )
    by_soc = {r["soc_code"]: r for r in rows.iter_rows(named=True)}

    def top_within(occupation: str, level: int, prefixes: tuple[str, ...]) -> tuple[str, str]:
        """The NAICS industry at `level` digits employing most of it, under those prefixes."""
        return read(
            offline,
            "SELECT i.naics_code, i.industry_name FROM stg_oews__estimates e "
            "JOIN stg_oews__industries i USING (release_code, industry_code) "
            "WHERE e.area_code = '0000000' AND e.occupation_code = ? "
            "AND i.industry_kind = 'naics' AND i.naics_level = ? "
            "AND list_has_any([left(i.naics_code, 2), left(i.naics_code, 3)], ?) "
            "ORDER BY e.employment_count DESC NULLS LAST LIMIT 1",
            [occupation, level, list(prefixes)],
        ).row(0)

    # Fundraisers: within HHS's sectors (62, 81) mostly in 813, and within it in a group the
    # rule file aligns with Community & Social Services (813's groups but 8139)
    assert top_within("131131", 3, ("62", "81"))[0] == "813"
    group, name = top_within("131131", 4, ("813",))
    assert group in {"8131", "8132", "8133", "8134"}
    fundraisers = by_soc["13-1131"]
    assert (fundraisers["cluster_name"], fundraisers["sub_cluster_name"]) == (
        "Healthcare & Human Services",
        "Community & Social Services",
    )
    assert fundraisers["evidence"].endswith(f"sub-cluster by industry: NAICS {group} {name}")
    # Economists in Public Service & Safety: government, which OEWS does not split by
    # subsector, outweighs sector 56's subsectors, so no subsector decides
    economists = by_soc["19-3011"]
    assert economists["cluster_name"] == "Public Service & Safety"
    assert economists["evidence"].endswith("sub-cluster by default")
    receptionists = by_soc["43-4171"]  # in HHS by its industries, at the front desk
    assert receptionists["sub_cluster_name"] == "Health Data & Administration"
    assert receptionists["evidence"].endswith('sub-cluster by title keyword "receptionist"')
    for row in rows.iter_rows(named=True):
        assert "sub-cluster by " in row["evidence"], row


def test_an_unaligned_subsector_leaves_the_default_and_says_so(
    offline: Path, tmp_path: Path
) -> None:
    """Were the group that employs most of the fundraisers aligned with no sub-cluster, they
    would take the cluster's default, and the evidence would name the group for a reviewer."""
    import duckdb

    from assets.clusters import MIN_INDUSTRY_SHARE
    from pipelines.warehouse import sql_text

    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(offline, copy)
    con = duckdb.connect(str(copy))
    try:
        group = con.execute(
            "SELECT top_industry_group_code FROM int_clusters__industry_evidence "
            "WHERE cluster_code = 'healthcare-human-services' AND occupation_code = '131131'"
        ).fetchall()[0][0]
        con.execute("DELETE FROM raw_policy__sub_cluster_industries WHERE naics_code = ?", [group])
        evidence = con.execute(
            f"SELECT sub_cluster_code, evidence FROM ({sql_text('int_clusters__rule_assignment')}) "
            "WHERE occupation_code = '131131' AND cluster_code = 'healthcare-human-services'",
            ["2025A01", MIN_INDUSTRY_SHARE],
        ).fetchall()
    finally:
        con.close()
    assert evidence[0][0] == "healthcare-human-services/physical-health"  # the default
    assert f"sub-cluster by default (most of its jobs there are in NAICS {group} " in evidence[0][1]
    assert evidence[0][1].endswith("which the rule file aligns with no sub-cluster)")


def test_government_is_not_education_evidence(offline: Path) -> None:
    """OEWS's government sector excludes state and local schools (they are in sector 61), so
    the rule file excludes it from Education's industry evidence: Education's share is the
    occupation's share in sector 61 alone, and federal economists are not Education."""
    evidence = read(
        offline,
        "SELECT f.cluster_name, ev.occupation_code, ev.industry_share, ev.counted_sectors "
        "FROM int_clusters__industry_evidence ev JOIN raw_framework__clusters f "
        "USING (cluster_code) WHERE ev.occupation_code = '193011'",
    )
    education = evidence.filter(pl.col("cluster_name") == "Education").row(0, named=True)
    assert education["counted_sectors"] == "61"
    shares = read(
        offline,
        "SELECT sum(employment_count) FILTER (WHERE industry_code = '61--62') AS education, "
        "sum(employment_count) AS sectors FROM stg_oews__estimates e "
        "JOIN stg_oews__industries i USING (release_code, industry_code) "
        "WHERE e.area_code = '0000000' AND e.occupation_code = '193011' "
        "AND i.industry_kind = 'sector'",
    ).row(0, named=True)
    assert education["industry_share"] == pytest.approx(
        int(shares["education"]) / int(shares["sectors"])
    )
    assert education["industry_share"] < 0.2
    public = evidence.filter(pl.col("cluster_name") == "Public Service & Safety").row(0)
    assert public[3] == (  # OEWS writes 92 as sector 99
        "92 = OEWS 99, 56 less NAICS 5611, 5612, 5613, 5614, 5615, 5617, 5619"
    )
    assert "Education" not in set(clusters_of(offline, "19-3011")["cluster_name"])
    excluded = read(offline, "SELECT * FROM raw_policy__evidence_sector_exclusions")
    assert excluded.select("naics_sector").to_series().to_list() == ["92"]
    assert "state and local schools" in excluded["reason"][0]


HHS_NAME = "Healthcare & Human Services"
# the groups of NAICS 561 that are not Public Service & Safety evidence: all but 5616
PSS_GROUPS = ["5611", "5612", "5613", "5614", "5615", "5617", "5619"]


def test_repair_and_associations_are_not_healthcare_evidence(offline: Path) -> None:
    """Sector 81 counts for Healthcare & Human Services, but not its 811 Repair and Maintenance
    or 8139 associations and labor unions: HHS's share is sectors 62 and 81 less those cells,
    so labor relations specialists (labor unions) and home appliance repairers are not HHS."""
    evidence = read(
        offline,
        "SELECT ev.occupation_code, ev.industry_share, ev.counted_sectors "
        "FROM int_clusters__industry_evidence ev "
        "WHERE ev.cluster_code = 'healthcare-human-services' "
        "AND ev.occupation_code IN ('131131', '131075')",
    )
    assert set(evidence["counted_sectors"]) == {"62, 81 less NAICS 811, 8139"}
    for occupation, share in evidence.select("occupation_code", "industry_share").iter_rows():
        cells = read(
            offline,
            "SELECT sum(employment_count) FILTER (WHERE i.industry_kind = 'sector') AS sectors, "
            "sum(employment_count) FILTER (WHERE i.industry_code IN ('62--63', '81--82')) AS hhs, "
            "sum(employment_count) FILTER (WHERE i.industry_kind = 'naics' "
            "AND i.naics_code IN ('811', '8139')) AS excluded "
            "FROM stg_oews__estimates e JOIN stg_oews__industries i "
            "USING (release_code, industry_code) "
            "WHERE e.area_code = '0000000' AND e.occupation_code = ?",
            [occupation],
        ).row(0, named=True)
        expected = (int(cells["hhs"]) - int(cells["excluded"] or 0)) / int(cells["sectors"])
        assert share == pytest.approx(expected), occupation
    labor = evidence.filter(pl.col("occupation_code") == "131075")["industry_share"].item()
    assert labor < 0.2  # 80% with 8139 counted
    for soc in ("13-1075", "49-9031"):  # labor relations, home appliance repairers
        assert HHS_NAME not in set(clusters_of(offline, soc)["cluster_name"]), soc
    parts = read(
        offline,
        "SELECT * FROM raw_policy__evidence_industry_exclusions ORDER BY cluster_code, naics_code",
    )
    assert parts.select("cluster_code", "naics_code").rows() == [
        ("healthcare-human-services", "811"),
        ("healthcare-human-services", "8139"),
        *(("public-service-safety", g) for g in PSS_GROUPS),
    ]
    assert "labor unions" in parts["reason"][0]


def test_building_services_are_not_public_service_evidence(offline: Path) -> None:
    """Sector 56 counts for Public Service & Safety, but not the groups of its 561 other than
    5616 Investigation and Security Services (offices, staffing, call centers, cleaning and pest
    control of buildings): janitors and pest control workers are not Public Service & Safety;
    security guards are, and their evidence still counts the security services they work in."""
    janitors = read(
        offline,
        "SELECT industry_share, counted_sectors FROM int_clusters__industry_evidence "
        "WHERE cluster_code = 'public-service-safety' AND occupation_code = '372011'",
    ).row(0, named=True)
    cells = read(
        offline,
        "SELECT sum(employment_count) FILTER (WHERE i.industry_kind = 'sector') AS sectors, "
        "sum(employment_count) FILTER (WHERE i.industry_code IN ('56--57', '99-100')) AS pss, "
        "sum(employment_count) FILTER (WHERE i.industry_kind = 'naics' AND i.naics_code IN "
        f"({', '.join(repr(g) for g in PSS_GROUPS)})) AS excluded "
        "FROM stg_oews__estimates e JOIN stg_oews__industries i "
        "USING (release_code, industry_code) WHERE e.area_code = '0000000' "
        "AND e.occupation_code = '372011'",
    ).row(0, named=True)
    expected = (int(cells["pss"]) - int(cells["excluded"])) / int(cells["sectors"])
    assert janitors["industry_share"] == pytest.approx(expected)
    assert janitors["industry_share"] < 0.1  # 47% with 561 counted
    name = "Public Service & Safety"
    for soc in ("37-2011", "37-1011", "37-2021"):  # janitors, their supervisors, pest control
        assert name not in set(clusters_of(offline, soc)["cluster_name"]), soc
    guards = clusters_of(offline, "33-9032").filter(pl.col("is_primary"))
    assert guards["cluster_name"].to_list() == [name]
    assert int(guards["evidence"][0].split("%")[0]) > 50  # 5616 still counts


def test_rule_file_naics_codes_are_checked_against_naics_2022(offline: Path) -> None:
    """A mistyped code in the rule file's industry sections would count for nothing: the
    checks name it (and pass on the shipped file)."""
    import duckdb

    from pipelines.policy.cluster_tables import POLICY_CHECKS

    con = duckdb.connect()
    con.execute(f"ATTACH '{offline}' AS w (READ_ONLY)")
    con.execute("CREATE VIEW stg_naics__codes AS SELECT * FROM w.stg_naics__codes")
    for check in POLICY_CHECKS:
        con.execute(f"CREATE TABLE {check.asset} AS SELECT * FROM w.{check.asset}")
        assert con.execute(check.failing_rows_sql).fetchall() == [], check.asset
        con.execute(
            f"INSERT INTO {check.asset} BY NAME "
            "SELECT 'healthcare-human-services' AS cluster_code, '8193' AS naics_code"
        )
        assert con.execute(check.failing_rows_sql).fetchall() == [
            ("healthcare-human-services", "8193")
        ], check.asset


def test_industry_profile_of_healthcare(offline: Path) -> None:
    top = read(
        offline,
        "SELECT industry_name, employment_share FROM out_clusters__cluster_industry "
        "WHERE cluster_code = (SELECT cluster_code FROM raw_framework__clusters "
        "WHERE cluster_name = 'Healthcare & Human Services') AND sub_cluster_code IS NULL "
        "AND industry_level = 'sector' ORDER BY employment_count DESC LIMIT 1",
    ).row(0)
    assert top[0].startswith("Sector 62") and top[1] > 0.5


def test_industry_shares_are_of_the_clusters_jobs_in_all_industries(offline: Path) -> None:
    """A sector and a subsector holding the same jobs show the same share: both are shares of
    the cluster's qualifying jobs in all industries (the headline total, each occupation at
    least as BLS's industry figures add it up), not of what BLS happened to publish at that
    level (government has no subsectors). Recomputed here with polars from the estimates."""
    rows = read(
        offline,
        "SELECT c.*, s.qualifying_employment_count FROM out_clusters__cluster_industry AS c "
        "JOIN out_profiles__cluster_summary AS s USING (release_code, cluster_code)",
    )
    expected = rows["employment_count"] / rows["share_base_employment_count"]
    assert ((rows["employment_share"] - expected).abs() < 1e-12).all()
    cells = read(
        offline,
        "SELECT e.occupation_code, e.industry_code, i.industry_kind, i.naics_level, "
        "e.employment_count FROM stg_oews__estimates AS e JOIN stg_oews__industries AS i "
        "USING (release_code, industry_code) WHERE e.area_code = '0000000'",
    )
    level = (
        pl.when(pl.col("industry_code") == "000000")
        .then(pl.lit("total"))
        .when(pl.col("industry_kind") == "sector")
        .then(pl.lit("sector"))
        .when((pl.col("industry_kind") == "naics") & (pl.col("naics_level") == 3))
        .then(pl.lit("subsector"))
    )
    per_occupation = (
        cells.with_columns(level=level)
        .drop_nulls("level")
        .group_by("occupation_code")
        .agg(
            *[
                pl.col("employment_count").filter(pl.col("level") == name).sum().alias(name)
                for name in ("total", "sector", "subsector")
            ]
        )
        .with_columns(base=pl.max_horizontal("total", "sector", "subsector"))
    )
    members = read(
        offline,
        "SELECT DISTINCT cluster_code, occupation_code FROM out_clusters__occupation_cluster "
        "WHERE status = 'qualifies'",
    )
    bases = (
        members.join(per_occupation, on="occupation_code")
        .group_by("cluster_code")
        .agg(pl.col("base").sum(), pl.col("total").sum())
    )
    clusters = rows.filter(pl.col("sub_cluster_code").is_null())
    found = clusters.group_by("cluster_code").agg(
        pl.col("share_base_employment_count").unique(),
        pl.col("qualifying_employment_count").first(),
    )
    joined = found.join(bases, on="cluster_code")
    assert joined.height == 14
    for row in joined.iter_rows(named=True):
        assert row["share_base_employment_count"] == [row["base"]], row["cluster_code"]
        # the headline is the cross-industry total; rounding adds at most a few jobs per 10,000
        assert row["total"] == row["qualifying_employment_count"]
        assert 0 <= row["base"] - row["total"] < row["total"] * 1e-4
    # professional services: the sector (54) and its one subsector (541) share a figure
    dt = clusters.filter(pl.col("cluster_code") == "digital-technology")
    by_code = {r["naics_code"]: r for r in dt.iter_rows(named=True)}
    assert by_code["54"]["employment_count"] == by_code["541"]["employment_count"]
    assert by_code["54"]["employment_share"] == pytest.approx(by_code["541"]["employment_share"])
    # every cluster and sub-cluster: no share passes 100%, by row or added up by level
    sums = rows.group_by("cluster_code", "sub_cluster_code", "industry_level").agg(
        pl.col("employment_share").sum()
    )
    assert (sums["employment_share"] <= 1 + 1e-12).all()
    by_sector = clusters.filter(pl.col("industry_level") == "sector").group_by("cluster_code")
    assert (by_sector.agg(pl.col("employment_share").sum())["employment_share"] > 0.9).all()


def test_an_unpublished_national_total_cannot_push_a_share_past_100_percent(
    offline: Path, tmp_path: Path
) -> None:
    """An occupation whose national total BLS did not publish still counts with the sum of its
    industry figures, so no share of its sub-cluster passes 100% (the contract would stop the
    run) - the cluster-industry SQL run on a copy where one total is unpublished."""
    import duckdb

    from pipelines.warehouse import sql_text

    copy = tmp_path / "w.duckdb"
    shutil.copy(offline, copy)
    con = duckdb.connect(str(copy))
    try:
        con.execute(  # farm equipment mechanics: most of an Agriculture sub-cluster's jobs
            "UPDATE stg_oews__estimates SET employment_count = NULL WHERE area_code = '0000000' "
            "AND industry_code = '000000' AND occupation_code = '493041'"
        )
        shares = con.execute(
            f"SELECT max(employment_share), max(s) FROM (SELECT employment_share, sum("
            f"employment_share) OVER (PARTITION BY cluster_code, sub_cluster_code, "
            f"industry_level) AS s FROM ({sql_text('out_clusters__cluster_industry')}))",
            ["2025A01"],
        ).fetchall()[0]
    finally:
        con.close()
    assert 0 < shares[0] <= 1 and shares[1] <= 1 + 1e-12


def test_official_crosswalk_layer(offline: Path, tmp_path: Path) -> None:
    workbook = write_crosswalk_workbook(tmp_path / "crosswalk.xlsx", SAMPLE_ROWS)
    shutil.copy(offline, tmp_path / "warehouse.duckdb")
    settings = isolated_settings(tmp_path, crosswalk_local_path=workbook)
    result = run_refresh(settings, "assign_clusters")
    assert result.success, failure_text(result)
    # the job renders what the assignment changes: every report and the index
    assert (settings.output / "2025A01" / "index.html").exists()
    assert len(list((settings.output / "2025A01").glob("*.html"))) == 15
    (materialization,) = result.asset_materializations_for_node(OC)
    meta = {k: v.value for k, v in materialization.metadata.items()}
    assert meta["official_occupations"] >= 30
    assert " of " in meta["cluster_agreement"] and "%" in meta["sub_cluster_agreement"]
    assert "| soc_code | occupation_name | rules | official |" in meta["largest_disagreements"]
    rows = read(settings.warehouse, "SELECT * FROM raw_crosswalk__rows")
    assert rows.height == len(SAMPLE_ROWS)
    problems = rows.filter(pl.col("problem").is_not_null())
    assert "Softwear Solutions" in problems["sub_cluster_name_raw"].to_list()
    military = problems.filter(pl.col("soc_code").str.starts_with("55-"))
    assert military["problem"].unique().to_list() == ["SOC code not published by OEWS"]
    assert problems.filter(pl.col("soc_code") == "13-1020").height == 0  # broad-as-detailed ok
    dev = clusters_of(settings.warehouse, "15-1252")
    assert set(dev["layer"]) == {"official"}
    assert "Advance CTE Framework Crosswalk" in dev["evidence"][0]
    lower = clusters_of(settings.warehouse, "15-1253")
    assert "Software Solutions" in set(lower["sub_cluster_name"])
    arts = read(
        settings.warehouse,
        f"SELECT DISTINCT cluster_name FROM {OC} WHERE layer = 'official' "
        "AND cluster_name LIKE 'Arts%'",
    )
    assert arts["cluster_name"].to_list() in ([], ["Arts, Entertainment & Design"])


def decisions_file(tmp: Path, body: str) -> Path:
    path = tmp / "decisions.csv"
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def assigned_with_decisions(offline: Path, tmp_path: Path, body: str) -> Settings:
    """A copy of the offline warehouse, re-assigned with the decisions lines `body`."""
    shutil.copy(offline, tmp_path / "warehouse.duckdb")
    path = decisions_file(tmp_path, body)
    settings = isolated_settings(tmp_path, review_decisions_path=path)
    result = run_refresh(settings, "assign_clusters")
    assert result.success, failure_text(result)
    return settings


def test_reviewer_move_changes_output_and_shows_rationale(offline: Path, tmp_path: Path) -> None:
    settings = assigned_with_decisions(
        offline,
        tmp_path,
        "53-3032,Heavy and Tractor-Trailer Truck Drivers,Supply Chain & Transportation,"
        "Ground & Rail Transportation,move,Supply Chain & Transportation,Planning & Logistics,"
        'A. Reviewer,2026-11-20,"Our IAG places long-haul drivers in logistics"\n',
    )
    rows = clusters_of(settings.warehouse, "53-3032")
    moved = rows.filter(pl.col("sub_cluster_name") == "Planning & Logistics").row(0, named=True)
    assert moved["layer"] == "reviewer" and moved["is_primary"]
    assert "Our IAG places long-haul drivers in logistics" in moved["evidence"]
    assert "Ground & Rail Transportation" not in set(rows["sub_cluster_name"])


def test_a_reviewer_row_shows_the_industry_share_of_its_own_cluster(
    offline: Path, tmp_path: Path
) -> None:
    """A move to another cluster does not carry over the share of the cluster it left, and an
    add shows the occupation's share in the cluster it joins, as the other layers would."""
    settings = assigned_with_decisions(
        offline,
        tmp_path,
        "53-3032,x,Supply Chain & Transportation,Ground & Rail Transportation,move,"
        "Construction,Equipment Operation & Maintenance,A,2026-11-20,r\n"
        "47-2111,x,Energy & Natural Resources,Utilities,add,,,"
        "A,2026-11-20,r\n",
    )
    shares = read(
        settings.warehouse,
        f"SELECT oc.soc_code, oc.cluster_code, oc.layer, oc.industry_share AS shown, "
        f"ev.industry_share AS evidence FROM {OC} oc JOIN int_clusters__industry_evidence ev "
        "USING (release_code, occupation_code, cluster_code) "
        "WHERE oc.soc_code IN ('53-3032', '47-2111')",
    )
    reviewer = shares.filter(pl.col("layer") == "reviewer").sort("soc_code")
    assert reviewer["cluster_code"].to_list() == ["energy-natural-resources", "construction"]
    assert reviewer["shown"].to_list() == reviewer["evidence"].to_list()
    # 53-3032's 71% in supply chain's sectors stays there; construction's sectors hold 6.7%
    assert 0.05 < reviewer["shown"][1] < 0.1
    assert shares["shown"].eq_missing(shares["evidence"]).all()


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("99-9999,x,Construction,Skilled Trades,add,,,A,2026-01-01,r\n", "line 2: SOC code"),
        ("47-2111,x,Construction,Skilled Tradez,add,,,A,2026-01-01,r\n", "line 2: cluster/sub"),
        (
            "47-2111,x,Construction,Skilled Trades,remove,,,A,2026-01-01,r\n"
            "47-2111,x,Construction,Skilled Trades,add,,,B,2026-01-02,r\n",
            "line 3: it conflicts",
        ),
        ("47-2111,x,Construction,Skilled Trades,remove,,,A,01/02/2026,r\n", "not a date"),
        ("47-2111,x,Construction,Skilled Trades,remove,,,,2026-01-01,r\n", "reviewer is empty"),
    ],
)
def test_malformed_review_file_keeps_previous_assignment(
    offline: Path, tmp_path: Path, body: str, fragment: str
) -> None:
    shutil.copy(offline, tmp_path / "warehouse.duckdb")
    settings = isolated_settings(tmp_path, review_decisions_path=decisions_file(tmp_path, body))
    before = table_digests(settings.warehouse)
    result = run_refresh(settings, "assign_clusters")
    assert not result.success
    message = failure_text(result)
    assert fragment in message and "What to do" in message
    assert table_digests(settings.warehouse)[OC] == before[OC]


def test_removing_a_qualifying_occupations_only_cluster_is_refused_before_the_swap(
    offline: Path, tmp_path: Path
) -> None:
    """A well-formed decision the assignment's own checks reject: the run stops, says which
    check and what to do, and the live table is the one from before (not swapped in first and
    checked after)."""
    shutil.copy(offline, tmp_path / "warehouse.duckdb")
    soc, cluster, sub = read(
        offline,
        f"SELECT soc_code, cluster_name, sub_cluster_name FROM {OC} "
        "WHERE status = 'qualifies' AND soc_code IN "
        f"(SELECT soc_code FROM {OC} GROUP BY soc_code HAVING count(*) = 1) "
        "ORDER BY soc_code LIMIT 1",
    ).row(0)
    path = decisions_file(tmp_path, f"{soc},x,{cluster},{sub},remove,,,A,2026-01-01,r\n")
    settings = isolated_settings(tmp_path, review_decisions_path=path)
    before = table_digests(settings.warehouse)
    result = run_refresh(settings, "assign_clusters")
    assert not result.success
    message = failure_text(result)
    assert "check every_qualifying_occupation_has_a_cluster failed for 1 row(s)" in message
    assert soc in message and "decision 'move'" in message
    assert table_digests(settings.warehouse)[OC] == before[OC]
    scratch = "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name LIKE '%layers'"
    assert read(settings.warehouse, scratch)["n"][0] == 0  # no scratch table left behind
    # what `ccp run` prints: the check's own message, and what the run did update
    from pipelines.cli import failure_lines

    printed = "\n".join(failure_lines(result))
    assert "out_clusters__occupation_cluster: [out_clusters__occupation_cluster] check " in printed
    assert "Error occurred while executing" not in printed
    assert "Updated by this run before it stopped (each passed its contract): " in printed
    assert "raw_review__decisions" in printed.split("Updated by this run")[1]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (
            (
                HEADER + "47-2111,Zo\xeb,Construction,Skilled Trades,remove,,,A,2026-01-01,r\n"
            ).encode("cp1252"),
            "is not UTF-8 text (line 2 has the byte 0xeb",
        ),
        (b"PK\x03\x04 a damaged workbook", "is not a readable .xlsx workbook"),
        (  # a rationale over two lines (Alt+Enter in Excel) and a blank line: real line numbers
            (
                HEADER + '47-2111,x,Construction,Skilled Trades,remove,,,A,2026-01-01,"one\ntwo"\n'
                "\n47-2111,x,Construction,Skilled Trades,add,,,B,2026-01-02,r\n"
            ).encode(),
            "line 5: it conflicts with the decision on line 2",
        ),
        (None, "does not exist"),
        (  # saved by a spreadsheet set to a European locale
            (HEADER + "47-2111,x,Construction,Skilled Trades,remove,,,A,2026-01-01,r\n")
            .replace(",", ";")
            .encode(),
            "The file is separated by semicolons, not commas",
        ),
        (  # a bare CR inside a quoted field is a line break too
            (
                HEADER + '47-2111,x,Construction,Skilled Trades,remove,,,A,2026-01-01,"a\rb"\n'
                "47-2111,x,Construction,Skilled Trades,add,,,B,2026-01-02,r\n"
            ).encode(),
            "line 4: it conflicts with the decision on line 2",
        ),
    ],
)
def test_unreadable_review_file_is_named_and_keeps_previous_assignment(
    offline: Path, tmp_path: Path, content: bytes | None, fragment: str
) -> None:
    shutil.copy(offline, tmp_path / "warehouse.duckdb")
    path = tmp_path / "decisions.csv"
    if content is not None:  # None: a path that does not exist (a typo in the setting)
        path.write_bytes(content)
    settings = isolated_settings(tmp_path, review_decisions_path=path)
    before = table_digests(settings.warehouse)
    result = run_refresh(settings, "assign_clusters")
    assert not result.success
    message = failure_text(result)
    assert fragment in message and "What to do" in message, message
    assert table_digests(settings.warehouse) == before


def test_a_folder_of_returned_sheets_is_one_decisions_file(offline: Path, tmp_path: Path) -> None:
    """CCP_REVIEW_DECISIONS_PATH may name a folder: each IAG's returned sheet is a file in it.
    All are applied; a decision in one file that conflicts with another's names both."""
    shutil.copy(offline, tmp_path / "warehouse.duckdb")
    folder = tmp_path / "decisions"
    folder.mkdir()
    move = (
        "53-3032,x,Supply Chain & Transportation,Ground & Rail Transportation,move,"
        "Supply Chain & Transportation,Planning & Logistics,A,2026-11-20,logistics\n"
    )
    (folder / "a-supply-chain.csv").write_text(HEADER + move, encoding="utf-8")
    soc, cluster, sub = read(
        offline,
        f"SELECT soc_code, cluster_name, sub_cluster_name FROM {OC} WHERE soc_code IN "
        f"(SELECT soc_code FROM {OC} GROUP BY soc_code HAVING count(*) > 1) "
        "AND soc_code <> '53-3032' ORDER BY soc_code LIMIT 1",
    ).row(0)
    remove = f"{soc},x,{cluster},{sub},remove,,,B,2026-11-21,not ours\n"
    (folder / "b-other.csv").write_text(HEADER + remove, encoding="utf-8")
    (folder / "notes.txt").write_text("not a decisions file\n", encoding="utf-8")
    settings = isolated_settings(tmp_path, review_decisions_path=folder)
    result = run_refresh(settings, "assign_clusters")
    assert result.success, failure_text(result)
    moved = clusters_of(settings.warehouse, "53-3032")
    assert "Planning & Logistics" in set(moved["sub_cluster_name"])
    assert "a-supply-chain.csv line 2" in moved.filter(pl.col("layer") == "reviewer")["evidence"][0]
    assert (cluster, sub) not in set(
        clusters_of(settings.warehouse, soc).select("cluster_name", "sub_cluster_name").iter_rows()
    )

    # Office's lock file and macOS's metadata file are not decisions files
    for name in ("~$a-supply-chain.csv", "._a-supply-chain.csv", "~$c-returned.xlsx"):
        (folder / name).write_bytes(b"\x00 not a decisions file")
    # a review sheet returned as the workbook the report offers is one (a date Excel stored as
    # a date reads as YYYY-MM-DD)
    other, other_cluster, other_sub = read(
        offline,
        f"SELECT soc_code, cluster_name, sub_cluster_name FROM {OC} WHERE soc_code IN "
        f"(SELECT soc_code FROM {OC} GROUP BY soc_code HAVING count(*) > 1) "
        f"AND soc_code NOT IN ('53-3032', '{soc}') ORDER BY soc_code LIMIT 1",
    ).row(0)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "review"
    sheet.append([*HEADER.strip().split(","), "context_status"])
    sheet.append([other, "x", other_cluster, other_sub, "remove", None, None, "C", None, "no"])
    sheet.cell(2, 9).value = dt.datetime(2026, 11, 22)
    book.save(folder / "c-returned.xlsx")
    result = run_refresh(settings, "assign_clusters")
    assert result.success, failure_text(result)
    assert (other_cluster, other_sub) not in set(
        clusters_of(settings.warehouse, other)
        .select("cluster_name", "sub_cluster_name")
        .iter_rows()
    )
    applied = read(
        settings.warehouse,
        "SELECT source_file, line, decided_on FROM raw_review__decisions WHERE soc_code = ?",
        [other],
    )
    assert applied.rows() == [("c-returned.xlsx", 2, "2026-11-22")]

    (folder / "c-again.CSV").write_text(HEADER + "\n" + move, encoding="utf-8")
    before = table_digests(settings.warehouse)
    result = run_refresh(settings, "assign_clusters")
    assert not result.success
    message = failure_text(result)
    assert (
        "c-again.CSV, line 3: it conflicts with the decision on line 2 of a-supply-chain.csv"
        in (message)
    )
    assert table_digests(settings.warehouse)[OC] == before[OC]

    # a damaged workbook is named, not skipped
    (folder / "c-again.CSV").unlink()
    (folder / "d-damaged.xlsx").write_bytes(b"PK\x03\x04 cut off")
    result = run_refresh(settings, "assign_clusters")
    assert not result.success
    assert "d-damaged.xlsx is not a readable .xlsx workbook" in failure_text(result)

    # nothing to read: an error that says so, not zero decisions
    for file in folder.iterdir():
        file.unlink()
    result = run_refresh(settings, "assign_clusters")
    assert not result.success
    assert "holds no CSV file or .xlsx review sheet" in failure_text(result)
    assert table_digests(settings.warehouse)[OC] == before[OC]


@pytest.mark.parametrize(
    ("to_cluster", "to_sub_cluster", "choices"),
    [
        (
            "Construction",
            "",
            "Construction has Architecture & Civil Engineering; Construction Planning & "
            "Development; Equipment Operation & Maintenance; Skilled Trades.",
        ),
        ("Constructoin", "Skilled Trades", "the clusters are Advanced Manufacturing; Agriculture;"),
    ],
)
def test_a_move_without_a_valid_target_lists_the_choices(
    tmp_path: Path, to_cluster: str, to_sub_cluster: str, choices: str
) -> None:
    path = decisions_file(
        tmp_path,
        f"47-2111,Electricians,Construction,Skilled Trades,move,{to_cluster},{to_sub_cluster},"
        "A. Reviewer,2026-01-05,why\n",
    )
    with pytest.raises(ReviewError) as err:
        load_decisions(path, {"47-2111"}, framework_resolver(load_framework()))
    message = str(err.value)
    assert f"line 2: move target {to_cluster!r} / {to_sub_cluster!r} is not a sub-cluster" in (
        message
    )
    assert choices in message


def _load(path: Path) -> pl.DataFrame:
    return load_decisions(path, {"47-2111"}, framework_resolver(load_framework()))


def _review_workbook(path: Path, rows: list[list[str]]) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "review"
    sheet.append(HEADER.strip().split(","))
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_returned_workbooks_are_read_whole_and_not_beside_their_csv(tmp_path: Path) -> None:
    decision = ["47-2111", "x", "Construction", "Skilled Trades", "remove", "", "", "A"]
    # a workbook whose stated size covers only its header (as some writers leave it)
    path = _review_workbook(tmp_path / "stale.xlsx", [[*decision, "2026-01-05", "r"]])
    with zipfile.ZipFile(path) as old, zipfile.ZipFile(tmp_path / "s.xlsx", "w") as new:
        for item in old.infolist():
            data = old.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:J1"', data)
            new.writestr(item, data)
    assert _load(tmp_path / "s.xlsx")["soc_code"].to_list() == ["47-2111"]
    # a date written another ISO way is not the review sheet's YYYY-MM-DD
    compact = _review_workbook(tmp_path / "compact.xlsx", [[*decision, "20260105", "r"]])
    with pytest.raises(ReviewError, match=re.escape("compact.xlsx, row 2: date '20260105' is")):
        _load(compact)
    # the workbook and the CSV saved from it, side by side: both would be applied
    folder = tmp_path / "returned"
    folder.mkdir()
    _review_workbook(folder / "construction.xlsx", [[*decision, "2026-01-05", "r"]])
    (folder / "construction.csv").write_text(HEADER, encoding="utf-8")
    twice = "the same sheet twice: construction.csv and construction.xlsx"
    with pytest.raises(ReviewError, match=re.escape(twice)):
        _load(folder)
