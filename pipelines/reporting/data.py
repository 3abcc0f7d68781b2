"""Everything one report shows, read from the warehouse in one place (reports never recompute
what a table already holds, so a report always equals the warehouse)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb
import polars as pl

from pipelines.metadata import previous_release
from pipelines.policy.qualification import SKILL_SOURCE_NAMES, SKILL_SOURCE_ORDER
from pipelines.reporting.provenance import release_uses, sources_frame
from pipelines.review_tables import (
    APPLIED_DECISIONS,
    SHEET_DECISIONS,
    applied_decisions_table,
)
from pipelines.sources.onet import attribution
from pipelines.warehouse import fetch_one, query_frame, table_exists


def bls_disclaimer(uses_projections: bool) -> str:
    """BLS's credit line, naming the Employment Projections program only when a run used it."""
    projections = (
        " Employment projections: BLS Employment Projections program." if uses_projections else ""
    )
    return (
        "Employment and wage estimates: U.S. Bureau of Labor Statistics, Occupational Employment "
        f"and Wage Statistics (OEWS).{projections} BLS has not reviewed or endorsed this "
        "analysis; figures derived here (qualification, cluster assignment, totals across "
        "occupations) are the project's, not BLS's."
    )


SOURCE_NAMES = {  # the Sources table's first column, for a reader
    "oews": "BLS OEWS (employment and wages)",
    "ep": "BLS Employment Projections",
    "onet": "O*NET Job Zones",
    "soc": "SOC 2018 hierarchy",
    "naics": "NAICS 2022 codes",
    "crosswalk": "Advance CTE Framework Crosswalk",
}
ASSIGNMENT_LAYER_LABELS = {
    "official": "Advance CTE's official Framework Crosswalk",
    "rules": "the project's rules (SOC groups and industry evidence)",
    "reviewer": "IAG reviewer decisions",
}


@dataclass(frozen=True)
class SourcesUsed:
    """Where a release's skill tiers and cluster assignments came from, for the notice every
    output that used the project's own rules carries (DEVELOPERS.md: "says so")."""

    skill_sources: tuple[str, ...]
    assignment_layers: tuple[str, ...]
    onet_release: str | None = None  # the O*NET release in the warehouse, for its attribution

    @property
    def data_skill_labels(self) -> list[str]:
        """The data sources (not the built-in rules) some tiers came from."""
        return [
            SKILL_SOURCE_NAMES[s]
            for s in SKILL_SOURCE_ORDER
            if s != "fallback" and s in self.skill_sources
        ]

    @property
    def assignment_labels(self) -> list[str]:
        return [ASSIGNMENT_LAYER_LABELS.get(s, s) for s in self.assignment_layers]

    @property
    def skill_fallback(self) -> str | None:
        """'all' when every tier came from the built-in rules, 'some' when some did, else None."""
        if "fallback" not in self.skill_sources:
            return None
        return "all" if set(self.skill_sources) == {"fallback"} else "some"

    @property
    def uses_crosswalk(self) -> bool:
        return "official" in self.assignment_layers

    @property
    def uses_onet(self) -> bool:
        return "job_zone" in self.skill_sources

    @property
    def onet_attribution(self) -> str | None:
        """The CC BY 4.0 attribution, naming the release, for outputs whose tiers used O*NET."""
        if not self.uses_onet:
            return None
        return attribution(self.onet_release or "(release not recorded)")

    @property
    def is_provisional(self) -> bool:
        return self.skill_fallback is not None or not self.uses_crosswalk


@dataclass
class ClusterData:
    release: dict
    cluster: dict
    sub_clusters: pl.DataFrame
    summary: dict
    occupations: pl.DataFrame
    assignments: pl.DataFrame
    sectors: pl.DataFrame
    subsectors: pl.DataFrame
    sub_cluster_industries: pl.DataFrame  # each sub-cluster's sectors and subsectors
    has_industry_estimates: bool  # False: the release came from the national workbook alone
    has_state_estimates: bool  # the same for states
    sub_cluster_employment: pl.DataFrame
    states: pl.DataFrame
    changes: pl.DataFrame
    industry_changes: pl.DataFrame
    previous_release: str | None
    layers: pl.DataFrame
    exclusions: pl.DataFrame
    decisions: pl.DataFrame
    sheet_decisions: pl.DataFrame
    sources: pl.DataFrame
    used: SourcesUsed
    threshold_label: str
    threshold_hourly_usd: float
    wage_statistic: str
    projection: str | None


def _has_rows(con: duckdb.DuckDBPyConnection, table: str, where: str, release: str) -> bool:
    found = fetch_one(
        con, f"SELECT count(*) FROM {table} WHERE release_code = ? AND {where}", [release]
    )
    return bool(found and found[0])


def _one(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> dict:
    frame = query_frame(con, sql, params)
    if frame.height != 1:
        raise LookupError(f"expected one row, got {frame.height}: {sql.split()[0:6]} {params}")
    return frame.row(0, named=True)


def release_policy(con: duckdb.DuckDBPyConnection, release: str) -> dict:
    """How the release was screened: the living-wage threshold, the wage statistic, and where
    its skill tiers came from (a built-in fallback is named in every output that used it)."""
    return _one(
        con,
        "SELECT any_value(threshold_label) AS label, any_value(threshold_hourly_usd) AS hourly, "
        "any_value(wage_statistic) AS statistic, "
        "list(DISTINCT skill_tier_source ORDER BY skill_tier_source) AS skill_sources "
        "FROM out_qualify__occupation_qualification WHERE release_code = ? "
        "AND area_type = 'national'",
        [release],
    )


def sources_used(con: duckdb.DuckDBPyConnection, release: str, policy: dict) -> SourcesUsed:
    """`policy`: the release's `release_policy`, which the caller has already read."""
    layers = query_frame(
        con,
        "SELECT DISTINCT layer FROM out_clusters__occupation_cluster WHERE release_code = ? "
        "ORDER BY layer",
        [release],
    )
    onet = (
        fetch_one(con, "SELECT max(onet_release) FROM stg_onet__job_zones")
        if table_exists(con, "stg_onet__job_zones")
        else None
    )
    return SourcesUsed(
        skill_sources=tuple(policy["skill_sources"] or []),
        assignment_layers=tuple(layers["layer"]),
        onet_release=onet[0] if onet else None,
    )


def release_sources(
    con: duckdb.DuckDBPyConnection, release: str, used: SourcesUsed
) -> pl.DataFrame:
    """The release's Sources table (every report of it shows the same one): `sources_frame`
    said of what the release's own tables were made with (`used`: its `sources_used`)."""
    return sources_frame(con, release, release_uses(con, release, used))


def cluster_sources_used(
    used: SourcesUsed, layers: pl.DataFrame, has_decisions: bool
) -> SourcesUsed:
    """The release's `used`, with the assignment layers of one cluster's report: those that
    placed its occupations (`layers`, the report's own count by layer), and the reviewer's when
    a decision applied names the cluster (a remove or a move away leaves no row of it). A
    decision about another cluster does not change this report's notice, so it does not leave
    the reports of other clusters stale."""
    found = set(layers["layer"]) | ({"reviewer"} if has_decisions else set())
    return replace(used, assignment_layers=tuple(sorted(found)))


def release_info(con: duckdb.DuckDBPyConnection, release: str) -> dict:
    return _one(
        con,
        "SELECT release_code, release_name, source_mode, source_label FROM stg_oews__release "
        "WHERE release_code = ?",
        [release],
    )


def _with_flag(frame: pl.DataFrame, flag: str) -> pl.DataFrame:
    """`frame` with boolean `flag` false where an earlier version built the rows without it
    (NULL, or the whole column missing in a warehouse not rebuilt since)."""
    if flag not in frame.columns:
        return frame.with_columns(pl.lit(False).alias(flag))
    return frame.with_columns(pl.col(flag).fill_null(False))


def _cluster_rows(
    con: duckdb.DuckDBPyConnection, table: str, release: str, cluster: str, order_by: str
) -> pl.DataFrame:
    """One release's rows of a per-cluster table, for one cluster, in a stable order."""
    return query_frame(
        con,
        f"SELECT * FROM {table} WHERE release_code = ? AND cluster_code = ? ORDER BY {order_by}",
        [release, cluster],
    )


def load_cluster(
    con: duckdb.DuckDBPyConnection,
    release: str,
    cluster_code: str,
    screened: dict,
    used: SourcesUsed,
    sources: pl.DataFrame,
) -> ClusterData:
    """One cluster's report data. `screened` (`release_policy`), `used` (`sources_used`) and
    `sources` (`release_sources`) are the release's, read once by the caller for every
    report it renders."""
    cluster = _one(
        con, "SELECT * FROM raw_framework__clusters WHERE cluster_code = ?", [cluster_code]
    )
    summary = _one(
        con,
        "SELECT * FROM out_profiles__cluster_summary WHERE release_code = ? AND cluster_code = ?",
        [release, cluster_code],
    )
    occupations = _cluster_rows(
        con,
        "out_profiles__cluster_occupations",
        release,
        cluster_code,
        "status = 'qualifies' DESC, employment_count DESC NULLS LAST, occupation_code",
    )
    industries = _cluster_rows(
        con,
        "out_clusters__cluster_industry",
        release,
        cluster_code,
        "employment_count DESC, industry_code",
    )
    cluster_industries = industries.filter(pl.col("sub_cluster_code").is_null())
    sub_cluster_employment = query_frame(
        con,
        """
        SELECT s.sub_cluster_code, s.sub_cluster_name,
               CAST(count(DISTINCT o.occupation_code) FILTER (WHERE o.status = 'qualifies')
                    AS BIGINT) AS occupations,
               CAST(coalesce(sum(o.employment_count) FILTER (WHERE o.status = 'qualifies'), 0)
                    AS BIGINT) AS employment,
               CAST(count(DISTINCT o.occupation_code) AS BIGINT) AS assigned_occupations,
               s.data_note
        FROM raw_framework__sub_clusters AS s
        LEFT JOIN out_clusters__occupation_cluster AS o
          ON o.sub_cluster_code = s.sub_cluster_code AND o.release_code = ?
        WHERE s.cluster_code = ?
        GROUP BY ALL ORDER BY s.sub_cluster_code
        """,
        [release, cluster_code],
    )
    ep_years = query_frame(
        con, "SELECT DISTINCT base_year, projection_year FROM stg_ep__occupations", []
    )
    projection = (
        f"{ep_years['base_year'][0]}–{ep_years['projection_year'][0]}" if ep_years.height else None
    )
    previous = previous_release(con, release)
    decisions = applied_decisions_table(con, release)
    applied = query_frame(
        con, APPLIED_DECISIONS.format(decisions=decisions), [release, cluster_code]
    )
    layers = query_frame(
        con,
        "SELECT layer, CAST(count(DISTINCT occupation_code) AS BIGINT) AS occupations "
        "FROM out_clusters__occupation_cluster WHERE release_code = ? AND cluster_code = ? "
        "GROUP BY 1 ORDER BY 1",
        [release, cluster_code],
    )
    return ClusterData(
        release=release_info(con, release),
        cluster=cluster,
        sub_clusters=query_frame(
            con,
            "SELECT * FROM raw_framework__sub_clusters WHERE cluster_code = ? "
            "ORDER BY sub_cluster_code",
            [cluster_code],
        ),
        summary=summary,
        occupations=occupations,
        assignments=_cluster_rows(
            con,
            "out_clusters__occupation_cluster",
            release,
            cluster_code,
            "occupation_code, sub_cluster_code",
        ),
        sectors=cluster_industries.filter(pl.col("industry_level") == "sector"),
        has_industry_estimates=_has_rows(
            con, "stg_oews__industries", "industry_kind = 'sector'", release
        ),
        has_state_estimates=_has_rows(con, "stg_oews__areas", "areatype_code = 'S'", release),
        subsectors=cluster_industries.filter(pl.col("industry_level") == "subsector"),
        sub_cluster_industries=industries.filter(pl.col("sub_cluster_code").is_not_null()),
        sub_cluster_employment=sub_cluster_employment,
        states=_cluster_rows(
            con, "out_profiles__cluster_states", release, cluster_code, "area_code"
        ),
        changes=_with_flag(
            _cluster_rows(
                con,
                "out_profiles__cluster_changes",
                release,
                cluster_code,
                "change_kind, employment_count DESC NULLS LAST, soc_code",
            ),
            "is_skill_tier_source_changed",
        ),
        industry_changes=_cluster_rows(
            con,
            "out_profiles__cluster_industry_changes",
            release,
            cluster_code,
            "industry_level, change_kind, employment_count DESC NULLS LAST, industry_code",
        ),
        previous_release=release_info(con, previous)["release_name"] if previous else None,
        layers=layers,
        exclusions=query_frame(
            con,
            """
            SELECT CASE
                     WHEN qualification_reason LIKE 'excluded: low skill%'
                       THEN 'low skill (each reason says by which source)'
                     WHEN qualification_reason LIKE '%is below the living wage%'
                       THEN 'pays below the living wage'
                     WHEN status = 'undetermined' THEN 'undetermined (no published wage)'
                     ELSE status END AS why,
                   CAST(count(*) AS BIGINT) AS occupations,
                   CAST(coalesce(sum(employment_count), 0) AS BIGINT) AS employment,
                   -- what a reviewer would look at first: the largest, and those that pay
                   -- a living wage all the same (excluded for skill alone)
                   list(occupation_name ORDER BY employment_count DESC NULLS LAST,
                        occupation_name)[1:3] AS largest_occupations,
                   CAST(count_if(living_wage_margin_usd >= 0) AS BIGINT)
                     AS paying_living_wage_occupations
            FROM out_profiles__cluster_occupations
            WHERE release_code = ? AND cluster_code = ? AND status <> 'qualifies'
            GROUP BY 1 ORDER BY 2 DESC, 1
            """,
            [release, cluster_code],
        ),
        decisions=applied,
        sheet_decisions=query_frame(
            con, SHEET_DECISIONS.format(decisions=decisions), [release, cluster_code]
        ),
        sources=sources,
        used=cluster_sources_used(used, layers, has_decisions=applied.height > 0),
        threshold_label=screened["label"],
        threshold_hourly_usd=screened["hourly"],
        wage_statistic=screened["statistic"],
        projection=projection,
    )


def load_index(
    con: duckdb.DuckDBPyConnection, release: str, used: SourcesUsed
) -> tuple[dict, pl.DataFrame]:
    """The release and every cluster's headline figures, in framework order within groupings;
    `used`: where the release's tiers and assignments came from (`sources_used`)."""
    summary = query_frame(
        con,
        "SELECT s.*, c.grouping_code, c.definition FROM out_profiles__cluster_summary AS s "
        "JOIN raw_framework__clusters AS c USING (cluster_code) WHERE s.release_code = ? "
        "ORDER BY c.grouping_code, s.cluster_name",
        [release],
    )
    info = dict(release_info(con, release))
    # where the tiers and assignments behind every figure came from: the index says so too
    info["used"] = used
    info["has_projections"] = fetch_one(con, "SELECT count(*) > 0 FROM stg_ep__occupations")[0]
    return info, summary
