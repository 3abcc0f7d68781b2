"""The Dagster code location: assets by stage, their checks, resources configured once, the job."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    Definitions,
    JobDefinition,
    define_asset_job,
    in_process_executor,
)

from assets import clusters, profiles, qualify, sources, staging
from assets.profiles import all_clusters_tags
from pipelines.automation import annual_refresh, oews_new_release_sensor
from pipelines.resources import (
    PolicyResource,
    ReportsResource,
    SourcesResource,
    warehouse_from_settings,
)
from pipelines.settings import Settings

__all__ = ["all_clusters_tags", "build_definitions", "defs", "run_tags"]

# Every step opens the same DuckDB file, which allows one writer: run the steps of a run in one
# process, one at a time (see README, "Concurrency").
refresh_warehouse = define_asset_job(
    "refresh_warehouse",
    selection=AssetSelection.all(),
    description="Fetch every source and rebuild every table (the main job).",
)


qualify_occupations = define_asset_job(
    "qualify_occupations",
    selection=AssetSelection.groups("qualify"),
    description="Re-run only the skill and living-wage screen (after editing the policy).",
)


assign_clusters = define_asset_job(
    "assign_clusters",
    selection=AssetSelection.groups("clusters")
    | AssetSelection.assets(
        "out_profiles__cluster_summary",
        "out_profiles__cluster_occupations",
        "out_profiles__cluster_states",
    ),
    description="Re-run the cluster assignment and the profile tables (after a reviewer "
    "decision or rule edit); then re-render the affected reports with render_reports.",
)


apply_review_decisions = define_asset_job(
    "apply_review_decisions",
    selection=AssetSelection.assets("raw_review__decisions").downstream(),
    description="Apply the reviewer decisions file in one run: re-assign clusters, rebuild the "
    "profile tables, re-render the chosen cluster reports and the index (pick the partitions "
    "of the clusters the decisions touch; a move touches two).",
)


render_reports = define_asset_job(
    "render_reports",
    selection=AssetSelection.assets("out_reports__cluster_report", "out_reports__index"),
    description="Re-render the reports from the warehouse (pick one cluster's partition to "
    "re-render only that report, e.g. after a reviewer decision).",
)


def run_tags(job: JobDefinition) -> dict[str, str]:
    """Tags for running `job` over every cluster report in one run (one process, one DuckDB
    writer) when it includes the partitioned report asset; none otherwise."""
    return {} if job.partitions_def is None else all_clusters_tags()


def build_definitions(settings: Settings | None = None) -> Definitions:
    settings = settings or Settings.from_env()
    return Definitions(
        assets=[
            *sources.ASSETS,
            *staging.ASSETS,
            *qualify.ASSETS,
            *clusters.ASSETS,
            *profiles.ASSETS,
        ],
        asset_checks=[*staging.CHECKS, *qualify.CHECKS, *clusters.CHECKS, *profiles.CHECKS],
        jobs=[
            refresh_warehouse,
            qualify_occupations,
            assign_clusters,
            apply_review_decisions,
            render_reports,
        ],
        schedules=[annual_refresh],
        sensors=[oews_new_release_sensor],
        resources={
            "warehouse": warehouse_from_settings(settings),
            "sources": SourcesResource.from_settings(settings),
            "policy": PolicyResource(policy_path=str(settings.resolve(settings.policy_path))),
            "reports": ReportsResource(output_dir=str(settings.output)),
        },
        executor=in_process_executor,
    )


defs = build_definitions()
