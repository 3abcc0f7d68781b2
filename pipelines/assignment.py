"""Cluster assignment helpers: matching people's names to the framework, the rule matches of a
release, the official crosswalk as a layer, the layers combined with reviewer decisions, and how
the rule layer compares with the crosswalk."""

from typing import Any

import duckdb
import polars as pl
from dagster import MetadataValue

from pipelines.metadata import markdown_table
from pipelines.policy.cluster_rules import (
    ClusterRules,
    assign,
    keyword_sub_cluster,
    title_scope,
)
from pipelines.policy.cluster_tables import Resolver
from pipelines.policy.review_apply import apply_decisions, ensure_one_primary
from pipelines.review_tables import decisions_table
from pipelines.warehouse import fetch_all, query_frame


def detailed_socs(con: duckdb.DuckDBPyConnection) -> set[str]:
    """The SOC codes OEWS publishes as detailed occupations."""
    rows = fetch_all(con, "SELECT DISTINCT soc_code FROM stg_oews__occupations WHERE is_detailed")
    return {r[0] for r in rows}


def title_sub_clusters(
    con: duckdb.DuckDBPyConnection, release: str, rules: ClusterRules, resolve: Resolver
) -> pl.DataFrame:
    """For every detailed occupation and cluster, the sub-cluster the cluster's title keywords
    name (int_clusters__title_sub_clusters): how a placement by industry evidence alone, which
    has no rule, gets a sub-cluster from the occupation's title."""
    rows = []
    for occ in fetch_all(
        con,
        "SELECT occupation_code, occupation_name FROM stg_oews__occupations "
        "WHERE release_code = ? AND is_detailed ORDER BY occupation_code",
        [release],
    ):
        scope = title_scope(occ[1] or "")
        for cluster in rules.sub_cluster_keywords:
            hit = keyword_sub_cluster(cluster, scope, rules)
            if hit is not None:
                code, sub_code = resolve(cluster, hit[0])
                rows.append((release, occ[0], code, sub_code, hit[1]))
    columns = ("release_code", "occupation_code", "cluster_code", "sub_cluster_code")
    return pl.DataFrame(
        rows,
        schema={**dict.fromkeys(columns, pl.String), "sub_cluster_method": pl.String},
        orient="row",
    )


def official_layer(con: duckdb.DuckDBPyConnection, release: str) -> pl.DataFrame:
    """Crosswalk rows for OEWS occupations, in the shape of the rule layer."""
    return query_frame(
        con,
        """
        WITH rows AS (
          SELECT DISTINCT x.oews_soc_code AS soc_code, x.cluster_code, x.sub_cluster_code,
                 min(x.row_number) OVER (PARTITION BY x.oews_soc_code, x.cluster_code,
                                         x.sub_cluster_code) AS first_row
          FROM raw_crosswalk__rows x
          WHERE x.problem IS NULL AND x.sub_cluster_code IS NOT NULL
        )
        SELECT o.release_code, o.occupation_code, o.soc_code, o.occupation_name,
               r.cluster_code, r.sub_cluster_code, 'official' AS layer, 'crosswalk' AS method,
               coalesce(ev.industry_share, 0) + CASE WHEN ra.is_primary THEN 1 ELSE 0 END
                 AS score,
               ev.industry_share,
               false AS is_primary,
               format('Advance CTE Framework Crosswalk (row {})', r.first_row)
                 || CASE WHEN ev.industry_share IS NOT NULL THEN format(
                      '; {:.0f}% of employment in the cluster''s sectors',
                      100 * ev.industry_share) ELSE '' END AS evidence
        FROM rows r
        JOIN stg_oews__occupations o ON o.soc_code = r.soc_code AND o.release_code = ?
                                    AND o.is_detailed
        LEFT JOIN int_clusters__industry_evidence ev
          ON ev.release_code = o.release_code AND ev.occupation_code = o.occupation_code
         AND ev.cluster_code = r.cluster_code
        LEFT JOIN (SELECT DISTINCT occupation_code, cluster_code, is_primary
                   FROM int_clusters__rule_assignment WHERE is_primary AND release_code = ?) ra
          ON ra.occupation_code = o.occupation_code AND ra.cluster_code = r.cluster_code
        ORDER BY o.soc_code, r.cluster_code, r.sub_cluster_code
        """,
        [release, release],
    )


def crosswalk_problems(frame: pl.DataFrame, log: Any) -> dict:
    """Asset metadata for the crosswalk rows whose names do not match the framework; a warning
    in the run's log for each row whose cluster matches none."""
    unmatched = frame.filter(pl.col("problem").is_not_null())
    for row in unmatched.filter(pl.col("cluster_code").is_null()).iter_rows(named=True):
        log.warning(
            f"crosswalk row {row['row_number']}: {row['cluster_name_raw']!r} / "
            f"{row['sub_cluster_name_raw']!r} does not match the framework definition"
        )
    return {
        "rows_with_problems": unmatched.height,
        "problems": MetadataValue.md(
            markdown_table(
                unmatched.select(
                    "row_number", "soc_code", "cluster_name_raw", "sub_cluster_name_raw", "problem"
                ),
                200,
            )
        ),
    }


def method_summary(con: duckdb.DuckDBPyConnection, release: str) -> MetadataValue:
    """The rule layer's rows and occupations per method (rule, industry), as markdown."""
    return MetadataValue.md(
        markdown_table(
            query_frame(
                con,
                "SELECT method, count(*) AS rows, count(DISTINCT occupation_code) AS occupations "
                "FROM int_clusters__rule_assignment WHERE release_code = ? GROUP BY 1 ORDER BY 1",
                [release],
            )
        )
    )


def rule_matches(
    con: duckdb.DuckDBPyConnection, release: str, rules: ClusterRules, resolve: Resolver
) -> pl.DataFrame:
    """Every cluster rule that places one of the release's detailed occupations, with the
    framework codes of the cluster and sub-cluster it names: int_clusters__rule_matches."""
    occupations = query_frame(
        con,
        "SELECT occupation_code, soc_code, occupation_name, major_code, minor_code, "
        "broad_code, is_broad_as_detailed FROM stg_oews__occupations "
        "WHERE release_code = ? AND is_detailed",
        [release],
    )
    matches = assign(occupations, rules)
    codes = [resolve(r["cluster"], r["sub_cluster"]) for r in matches.iter_rows(named=True)]
    return (
        matches.with_columns(
            pl.Series("cluster_code", [c[0] for c in codes], pl.String),
            pl.Series("sub_cluster_code", [c[1] for c in codes], pl.String),
            pl.lit(release).alias("release_code"),
        )
        .join(occupations.select("soc_code", "occupation_code"), on="soc_code")
        .select(
            "release_code",
            "occupation_code",
            "soc_code",
            "cluster_code",
            "sub_cluster_code",
            "weight",
            "rule_group",
            "rule_reason",
            "sub_cluster_method",
            "needs_industry_evidence",
        )
    )


def layered_assignment(
    con: duckdb.DuckDBPyConnection, release: str
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The release's assignments, layer over layer: the official crosswalk where it places an
    occupation, the rule layer for the others, one primary cluster each, then the reviewer
    decisions in file order. Returns (rule layer, official layer, decisions, result)."""
    rules = query_frame(
        con,
        "SELECT *, 'rules' AS layer FROM int_clusters__rule_assignment WHERE release_code = ?",
        [release],
    )
    official = official_layer(con, release)
    base = pl.concat(
        [
            official.select(rules.columns),
            rules.filter(~pl.col("soc_code").is_in(official["soc_code"].implode())),
        ],
        how="vertical_relaxed",
    )
    base = ensure_one_primary(base)  # official rows: the best-scoring cluster is primary
    decisions = query_frame(con, f"SELECT * FROM {decisions_table(con)} ORDER BY source_file, line")
    return (
        rules,
        official,
        decisions,
        _reviewer_rows_sharing(con, release, apply_decisions(base, decisions)),
    )


def _reviewer_rows_sharing(
    con: duckdb.DuckDBPyConnection, release: str, result: pl.DataFrame
) -> pl.DataFrame:
    """A reviewer's row carries the occupation's industry share in the cluster it is now in
    (a move to another cluster would otherwise keep the share of the one it left, and an add
    would have none), the same figure the other layers show for that occupation and cluster."""
    shares = query_frame(
        con,
        "SELECT soc_code, cluster_code, industry_share AS cluster_share "
        "FROM int_clusters__industry_evidence WHERE release_code = ?",
        [release],
    ).unique(["soc_code", "cluster_code"])
    return (
        result.join(shares, on=["soc_code", "cluster_code"], how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("layer") == "reviewer")
            .then(pl.col("cluster_share"))
            .otherwise(pl.col("industry_share"))
            .alias("industry_share")
        )
        .drop("cluster_share")
    )


def layer_summary(con: duckdb.DuckDBPyConnection, table: str, where: str) -> dict:
    """Asset metadata for the assignment `table` (rows `where`): rows and occupations by the
    layer that placed them, and each cluster's occupations and qualifying ones."""
    by_layer = query_frame(
        con,
        f"SELECT layer, count(*) AS rows, count(DISTINCT occupation_code) AS occupations "
        f"FROM {table} WHERE {where} GROUP BY 1 ORDER BY 1",
    )
    by_cluster = query_frame(
        con,
        f"SELECT cluster_name, count(DISTINCT occupation_code) AS occupations, "
        f"count(DISTINCT occupation_code) FILTER (WHERE status = 'qualifies') AS qualifying "
        f"FROM {table} WHERE {where} GROUP BY 1 ORDER BY 1",
    )
    return {
        "by_layer": MetadataValue.md(markdown_table(by_layer)),
        "qualifying_by_cluster": MetadataValue.md(markdown_table(by_cluster, 20)),
    }


def agreement(rules: pl.DataFrame, official: pl.DataFrame) -> dict:
    """How the rule layer compares with the official crosswalk, for reviewers."""
    socs = official["soc_code"].unique()
    r = rules.filter(pl.col("soc_code").is_in(socs.implode()))

    def overlap(keys: list[str]) -> tuple[int, pl.DataFrame]:
        a = r.group_by("soc_code").agg(pl.concat_str(keys, separator="/").unique().alias("rules"))
        b = official.group_by("soc_code").agg(
            pl.concat_str(keys, separator="/").unique().alias("official")
        )
        both = b.join(a, on="soc_code", how="left").with_columns(
            pl.col("rules").fill_null(pl.lit([], pl.List(pl.String)))
        )
        both = both.with_columns(
            (pl.col("rules").list.set_intersection("official").list.len() > 0).alias("agrees")
        )
        return int(both["agrees"].sum()), both

    clusters, both = overlap(["cluster_code"])
    subs, _ = overlap(["cluster_code", "sub_cluster_code"])
    worst = both.filter(~pl.col("agrees")).join(
        rules.select("soc_code", "occupation_name").unique(), on="soc_code", how="left"
    )
    return {
        "official_occupations": len(socs),
        "cluster_agreement": f"{clusters} of {len(socs)} ({clusters / max(len(socs), 1):.1%})",
        "sub_cluster_agreement": f"{subs} of {len(socs)} ({subs / max(len(socs), 1):.1%})",
        "largest_disagreements": MetadataValue.md(
            markdown_table(
                worst.with_columns(
                    pl.col("rules").list.join(", "), pl.col("official").list.join(", ")
                ).select("soc_code", "occupation_name", "rules", "official"),
                25,
            )
        ),
    }


CROSSWALK_SCHEMA = {
    "row_number": pl.Int32,
    "soc_code": pl.String,
    "occupation_title": pl.String,
    "cluster_name_raw": pl.String,
    "sub_cluster_name_raw": pl.String,
}


def match_crosswalk(
    con: duckdb.DuckDBPyConnection, raw: pl.DataFrame | None, resolve: Resolver
) -> pl.DataFrame:
    """The crosswalk's rows (None: no workbook) with their framework codes, the OEWS code each
    SOC is published under (itself, or the OEWS aggregate it belongs to), and the problem that
    keeps a row out of the official layer: a name not in the framework, or a SOC code OEWS does
    not publish. Rows with problems are kept, to be reported."""
    raw = raw if raw is not None else pl.DataFrame(schema=CROSSWALK_SCHEMA)
    resolved = [
        resolve(r["cluster_name_raw"], r["sub_cluster_name_raw"] or "") or (None, None)
        for r in raw.iter_rows(named=True)
    ]
    alignment = query_frame(
        con,
        "SELECT soc_code AS component, oews_soc_code FROM raw_oews__soc_alignment "
        "WHERE alignment_kind = 'oews_aggregate'",
    )
    detailed = list(detailed_socs(con))
    return (
        raw.with_columns(
            pl.Series("cluster_code", [r[0] for r in resolved], pl.String),
            pl.Series("sub_cluster_code", [r[1] for r in resolved], pl.String),
        )
        .join(alignment, left_on="soc_code", right_on="component", how="left")
        .with_columns(
            pl.when(pl.col("soc_code").is_in(detailed))
            .then(pl.col("soc_code"))
            .otherwise(pl.col("oews_soc_code"))
            .alias("oews_soc_code")
        )
        .with_columns(
            pl.when(pl.col("cluster_code").is_null())
            .then(pl.lit("cluster or sub-cluster name not in the framework"))
            .when(pl.col("oews_soc_code").is_null())
            .then(pl.lit("SOC code not published by OEWS"))
            .alias("problem")
        )
    )
