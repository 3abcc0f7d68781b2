"""Stage 5, profiles: each Career Cluster's industry profile, as tables the reports read.

Headline figures are computed once here, honestly labelled (which wage statistic; duplicated
versus non-duplicated employment), so every report and download shows the same numbers.
"""

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import polars as pl
from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    MetadataValue,
    multi_asset,
)

from assets.qualify import policy_fingerprint
from pipelines.checks import asset_checks, contract_check, sql_check
from pipelines.framework.definition import load_framework
from pipelines.metadata import build_table, markdown_table, previous_release
from pipelines.releases import RELEASES, partition_release
from pipelines.reporting import render
from pipelines.reporting.data import (
    load_cluster,
    load_index,
    release_policy,
    release_sources,
    sources_used,
)
from pipelines.reporting.freshness import (
    ensure_renderable,
    index_out_of_date,
    index_state,
    report_fingerprints,
    stale_note,
    stale_reports,
)
from pipelines.resources import PolicyResource, ReportsResource
from pipelines.review_tables import unapplied_decisions_note
from pipelines.sources.records import record_release_sources
from pipelines.warehouse import WarehouseResource, fetch_one, query_frame

GROUP = "profiles"
POOL = "duckdb"
SUMMARY = "out_profiles__cluster_summary"
OCCUPATIONS = "out_profiles__cluster_occupations"
STATES = "out_profiles__cluster_states"
CHANGES = "out_profiles__cluster_changes"
INDUSTRY_CHANGES = "out_profiles__cluster_industry_changes"
# One report asset per Career Cluster (out_reports__cluster_report/<slug>), each partitioned by
# release: re-rendering one cluster leaves the other 13 alone.
_CLUSTERS = load_framework().clusters
REPORT_KEYS = {AssetKey(["out_reports__cluster_report", c.slug]): c.slug for c in _CLUSTERS}
CLUSTER_NAMES = [c.name for c in _CLUSTERS]


# What a report reads directly; everything else it shows (review decisions, provenance of every
# source) is upstream of these, so Dagster's lineage and staleness still cover it.
REPORT_INPUTS = [
    SUMMARY,
    OCCUPATIONS,
    STATES,
    CHANGES,
    INDUSTRY_CHANGES,
    "out_clusters__cluster_industry",
]


# The five profile tables are built in one step (and their checks in another): each is still
# its own asset in the UI, with its own lineage, metadata and checks, but a one-cluster
# re-render pays Dagster's per-step cost twice instead of ten times.
@dataclass(frozen=True)
class ProfileTable:
    deps: tuple[str, ...]
    description: str
    build: Callable[[AssetExecutionContext, duckdb.DuckDBPyConnection, str], dict[str, Any]]


def _summary(
    context: AssetExecutionContext, con: duckdb.DuckDBPyConnection, release: str
) -> dict[str, Any]:
    meta = _plain(SUMMARY, records=("ep",))(context, con, release)
    overview = query_frame(
        con,
        "SELECT cluster_name, qualifying_occupation_count AS occupations, "
        "qualifying_employment_count AS employment, qualifying_primary_employment_count "
        "AS employment_primary, round(qualifying_wage_annual_mean_usd) AS mean_annual_wage "
        f"FROM {SUMMARY} WHERE release_code = ? ORDER BY cluster_name",
        [release],
    )
    meta["overview"] = MetadataValue.md(markdown_table(overview, 20))
    return meta


def _plain(table: str, records: tuple[str, ...] = ()) -> Callable[..., dict[str, Any]]:
    """Build `table` from its SQL; with `records`, the sources whose files it read are
    recorded for the release in the same swap (raw_sources__release_files)."""

    def build(
        context: AssetExecutionContext, con: duckdb.DuckDBPyConnection, release: str
    ) -> dict[str, Any]:
        record = (
            functools.partial(
                record_release_sources, release=release, read_by=table, sources=records
            )
            if records
            else None
        )
        return build_table(con, table, [release], before_commit=record)

    return build


def _build_changes(
    con: duckdb.DuckDBPyConnection, table: str, release: str, counted: str
) -> tuple[str | None, dict[str, Any], pl.DataFrame]:
    """Build a change table of `release` against the previous release in the warehouse; the
    previous release, the UI metadata (with a count by change_kind) and that count."""
    previous = previous_release(con, release)
    meta = build_table(con, table, [release, previous])
    kinds = query_frame(
        con,
        f"SELECT change_kind, {counted} FROM {table} WHERE release_code = ? GROUP BY 1 ORDER BY 1",
        [release],
    )
    meta["previous_release"] = previous or "none in the warehouse"
    meta["changes"] = MetadataValue.md(markdown_table(kinds, 10))
    return previous, meta, kinds


def _changes(
    context: AssetExecutionContext, con: duckdb.DuckDBPyConnection, release: str
) -> dict[str, Any]:
    previous, meta, _ = _build_changes(con, CHANGES, release, "count(*) AS occupations")
    mixed = fetch_one(
        con, f"SELECT bool_or(is_policy_changed) FROM {CHANGES} WHERE release_code = ?", [release]
    )
    if mixed and mixed[0]:
        meta["policy"] = f"{previous} was screened under another policy: statuses not comparable"
        context.log.warning(
            f"{previous} was screened under a different qualification policy than {release}; "
            f"status changes are not comparable until {previous} is re-materialized "
            f"(ccp run --release {previous})."
        )
    return meta


def _industry_changes(
    context: AssetExecutionContext, con: duckdb.DuckDBPyConnection, release: str
) -> dict[str, Any]:
    _, meta, kinds = _build_changes(
        con, INDUSTRY_CHANGES, release, "count(DISTINCT industry_code) AS industries"
    )
    if "not compared" in kinds["change_kind"].to_list():
        # the reason names the release without industry estimates and the workbooks to add
        reason = fetch_one(
            con,
            f"SELECT any_value(change_reason) FROM {INDUSTRY_CHANGES} "
            "WHERE release_code = ? AND change_kind = 'not compared'",
            [release],
        )
        context.log.warning(
            f"Industries are not compared: {reason[0] if reason else ''} "
            "(CCP_OEWS_XLSX_INDUSTRY_LOCAL_PATH, or CCP_OEWS_XLSX_INDUSTRIES=true live)."
        )
    return meta


_SCREENED = ("out_clusters__occupation_cluster", "out_qualify__occupation_qualification")
PROFILE_TABLES = {
    SUMMARY: ProfileTable(
        (*_SCREENED, "stg_oews__estimates", "stg_ep__occupations", "raw_framework__clusters"),
        "Headline figures per cluster: qualifying occupations and employment (all, exclusive, "
        "shared, and non-duplicated by primary cluster), wages by named statistic, skill mix "
        "and EP openings where available.",
        _summary,
    ),
    OCCUPATIONS: ProfileTable(
        (*_SCREENED, "int_qualify__skill_tiers", "stg_oews__estimates", "stg_ep__occupations"),
        "Each report's occupations table: every assigned occupation once per cluster, with wage "
        "percentiles, education and training, skill tier, living-wage margin, status and "
        "reason, and how it was assigned.",
        _plain(OCCUPATIONS, records=("ep",)),
    ),
    STATES: ProfileTable(
        ("out_clusters__occupation_cluster", "stg_oews__estimates", "stg_oews__areas"),
        "Each cluster's qualifying employment and location quotient by state (suppressed state "
        "cells counted, never filled) for the reports' state map.",
        _plain(STATES),
    ),
    CHANGES: ProfileTable(
        (*_SCREENED, "stg_oews__estimates"),
        "What changed in each cluster since the previous release in the warehouse: employment "
        "and median wage per occupation, occupations that newly qualify or stop qualifying (and "
        "why), and SOC codes that are new or no longer published. Empty until a second release "
        "is loaded.",
        _changes,
    ),
    INDUSTRY_CHANGES: ProfileTable(
        ("out_clusters__cluster_industry", "stg_oews__industries"),
        "How each cluster's industries changed since the previous release: qualifying "
        "employment per sector and subsector then and now, and industry codes that are new or "
        "no longer published. 'Not compared' when the previous release has no industry "
        "estimates.",
        _industry_changes,
    ),
}


@multi_asset(
    name="out_profiles__tables",
    specs=[
        AssetSpec(
            table,
            group_name=GROUP,
            kinds={"duckdb"},
            partitions_def=RELEASES,
            deps=list(spec.deps),
            description=spec.description,
        )
        for table, spec in PROFILE_TABLES.items()
    ],
    can_subset=True,
    pool=POOL,
)
def out_profiles__tables(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> Iterator[MaterializeResult]:
    """The profile tables the reports read, one release at a time (those selected)."""
    release = partition_release(context)
    selected = {key.path[-1] for key in context.selected_asset_keys}
    with warehouse.get_connection() as con:
        for table, spec in PROFILE_TABLES.items():
            if table in selected:
                yield MaterializeResult(asset_key=table, metadata=spec.build(context, con, release))


INDEX = AssetKey("out_reports__index")


@multi_asset(
    name="out_reports__cluster_reports",
    specs=[
        *(
            AssetSpec(
                key,
                group_name=GROUP,
                kinds={"html"},
                partitions_def=RELEASES,
                deps=REPORT_INPUTS,
                description=f"The {name} industry profile report (HTML with Plotly charts, "
                "tables, downloads, methodology, review sheet) for IAG review.",
            )
            for key, name in zip(REPORT_KEYS, CLUSTER_NAMES, strict=True)
        ),
        AssetSpec(
            INDEX,
            group_name=GROUP,
            kinds={"html"},
            partitions_def=RELEASES,
            deps=[SUMMARY],
            description="The release's index page: all 14 clusters grouped by Cluster Grouping, "
            "with headline figures and links to the reports present (rendered after the "
            "reports selected with it, in their step); plus a top-level page listing every "
            "release in the output folder.",
        ),
    ],
    can_subset=True,
    pool=POOL,
)
def out_reports__cluster_reports(
    context: AssetExecutionContext,
    warehouse: WarehouseResource,
    policy: PolicyResource,
    reports: ReportsResource,
) -> Iterator[MaterializeResult]:
    """The Career Cluster industry profile reports of one release, one asset per cluster, and
    the index, made in one step (those selected): re-rendering one cluster leaves the other 13
    alone.

    The index links to the reports in the folder, so it is rendered last. It does not declare
    them as upstream assets: its figures come from the summary table, and each declared
    partitioned upstream asset costs Dagster a lookup of its partitions' data versions in every
    run (about 0.2 s for the 14 reports).
    """
    rules = policy.load()
    release = partition_release(context)
    release_dir = reports.path / release
    selected = context.selected_asset_keys
    with warehouse.get_connection() as con:
        ensure_renderable(
            con, release, lambda: policy_fingerprint(con, rules), policy.policy_path, SUMMARY
        )
        # the policy as the release was screened with it, naming the tiers' actual sources;
        # read once for every report rendered here
        screened = release_policy(con, release)
        used = sources_used(con, release, screened)
        sources = release_sources(con, release, used)
        summary = rules.summary_items(screened["skill_sources"])
        fingerprints = report_fingerprints(con, release)
        render.write_static(release_dir)
        for key in sorted(selected - {INDEX}, key=lambda k: REPORT_KEYS[k]):
            cluster = REPORT_KEYS[key]
            data = load_cluster(con, release, cluster, screened, used, sources)
            sizes = render.write_cluster(release_dir, data, summary, fingerprints[cluster])
            page = sizes.pop(f"{cluster}.html")
            context.log.info(f"report: {release_dir / (cluster + '.html')}")
            yield MaterializeResult(
                asset_key=key,
                metadata={
                    "path": MetadataValue.path(str(release_dir / f"{cluster}.html")),
                    "release_code": release,
                    "page_kb": round(page / 1024),
                    "downloads_kb": round(sum(sizes.values()) / 1024),
                    "assigned_occupations": data.occupations.height,
                    "qualifying_occupations": data.summary["qualifying_occupation_count"],
                },
            )
        stale = stale_reports(con, reports.path, release, fingerprints)
        if stale:  # rebuilt tables, but those reports were not selected in this run
            context.log.warning(f"[reports] {stale_note(release, stale)}")
        if note := unapplied_decisions_note(con, release):
            context.log.warning(f"[reports] {note[0].upper()}{note[1:]}.")
        if INDEX not in selected:
            if note := index_out_of_date(con, reports.path, release, stale):
                context.log.warning(f"[reports] {note}.")
            return
        info, clusters = load_index(con, release, used)
        state = index_state(con, reports.path, release, stale)
        path = render.write_index(reports.path, info, clusters, summary, stale, state)
        yield MaterializeResult(
            asset_key=INDEX,
            metadata={
                "path": MetadataValue.path(str(path)),
                "clusters": clusters.height,
                "reports_out_of_date": ", ".join(stale) or "none",
            },
        )


_CHECKS = [
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

_CHECKS += [
    contract_check(OCCUPATIONS),
    contract_check(STATES),
    contract_check(CHANGES),
    contract_check(INDUSTRY_CHANGES),
    sql_check(
        CHANGES,
        "releases_screened_under_the_same_policy",
        "Both releases of a comparison were screened under the same policy (settings, skill "
        "rules, state living wages); otherwise re-materialize the previous release.",
        f"SELECT DISTINCT release_code, previous_release_code FROM {CHANGES} "
        "WHERE is_policy_changed",
        blocking=False,
    ),
]

CHECKS = asset_checks(_CHECKS, one_step_for=set(PROFILE_TABLES), step_name="out_profiles__tables")

ASSETS = [out_profiles__tables, out_reports__cluster_reports]
