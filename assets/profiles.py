"""Stage 5, profiles: each Career Cluster's industry profile, as tables the reports read.

Headline figures are computed once here, honestly labelled (which wage statistic; duplicated
versus non-duplicated employment), so every report and download shows the same numbers.
"""

from dagster import MaterializeResult, MetadataValue, asset

from pipelines.checks import contract_check, sql_check
from pipelines.metadata import build_table, latest_release, markdown_table
from pipelines.warehouse import WarehouseResource, query_frame

GROUP = "profiles"
POOL = "duckdb"
SUMMARY = "out_profiles__cluster_summary"


@asset(
    group_name=GROUP,
    pool=POOL,
    kinds={"duckdb"},
    deps=[
        "out_clusters__occupation_cluster",
        "out_qualify__occupation_qualification",
        "stg_oews__estimates",
        "stg_ep__occupations",
        "raw_framework__clusters",
    ],
)
def out_profiles__cluster_summary(warehouse: WarehouseResource) -> MaterializeResult:
    """Headline figures per cluster: qualifying occupations and employment (all, exclusive,
    shared, and non-duplicated by primary cluster), wages by named statistic, skill mix and
    EP openings where available."""
    with warehouse.get_connection() as con:
        release = latest_release(con)
        meta = build_table(con, SUMMARY, [release])
        overview = query_frame(
            con,
            "SELECT cluster_name, qualifying_occupation_count AS occupations, "
            "qualifying_employment_count AS employment, qualifying_primary_employment_count "
            "AS employment_primary, round(qualifying_wage_annual_mean_usd) AS mean_annual_wage "
            f"FROM {SUMMARY} WHERE release_code = ? ORDER BY cluster_name",
            [release],
        )
    meta["overview"] = MetadataValue.md(markdown_table(overview, 20))
    return MaterializeResult(metadata=meta)


CHECKS = [
    contract_check(SUMMARY),
    sql_check(
        SUMMARY,
        "primary_totals_add_up_to_national",
        "Non-duplicated (primary-cluster) qualifying employment adds up across clusters to the "
        "national employment of the qualifying occupations that have a cluster.",
        f"""
        WITH by_cluster AS (
          SELECT release_code, sum(qualifying_primary_employment_count) AS clusters_total
          FROM {SUMMARY} GROUP BY 1
        ), national AS (
          SELECT q.release_code, sum(q.employment_count) AS national_total
          FROM out_qualify__occupation_qualification q
          WHERE q.area_type = 'national' AND q.status = 'qualifies' AND EXISTS (
            SELECT 1 FROM out_clusters__occupation_cluster o
            WHERE o.release_code = q.release_code AND o.occupation_code = q.occupation_code)
          GROUP BY 1
        )
        SELECT * FROM by_cluster JOIN national USING (release_code)
        WHERE clusters_total <> national_total
        """,
    ),
]

ASSETS = [out_profiles__cluster_summary]
