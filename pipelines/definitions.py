"""The Dagster code location: assets by stage, their checks, resources configured once, the job."""

from __future__ import annotations

from dagster import (
    AssetSelection,
    Definitions,
    define_asset_job,
    in_process_executor,
)

from assets import clusters, profiles, qualify, sources, staging
from assets.profiles import REPORT_KEYS
from pipelines.automation import annual_refresh, oews_new_release_sensor
from pipelines.resources import (
    NO_VALUES_IO_MANAGER,
    PolicyResource,
    ReportsResource,
    SourcesResource,
    warehouse_from_settings,
)
from pipelines.settings import Settings

__all__ = ["build_definitions", "defs"]

# Every step opens the same DuckDB file, which allows one writer: run the steps of a run in one
# process, one at a time (see README, "Concurrency").
refresh_warehouse = define_asset_job(
    "refresh_warehouse",
    selection=AssetSelection.all(),
    description="Fetch every source, rebuild every table and render the 14 cluster reports "
    "and the index (the main job).",
)


qualify_occupations = define_asset_job(
    "qualify_occupations",
    selection=AssetSelection.groups("qualify").downstream(),
    description="Re-run the skill and living-wage screen and everything built on it (cluster "
    "assignment, profile tables, the 14 reports and the index), after editing the policy: a "
    "report always states the policy its figures were screened with.",
)


assign_clusters = define_asset_job(
    "assign_clusters",
    selection=AssetSelection.groups("clusters").downstream(),
    description="Re-run the cluster assignment and everything built on it (profile tables, the "
    "14 reports and the index), after editing the cluster rules: a rule edit can change any "
    "cluster.",
)


apply_review_decisions = define_asset_job(
    "apply_review_decisions",
    selection=AssetSelection.assets("raw_review__decisions").downstream(),
    description="Apply the reviewer decisions file in one run: re-assign clusters, rebuild the "
    "profile tables, re-render the cluster reports and the index (`ccp run --job "
    "apply_review_decisions --cluster SLUG` renders that cluster's report, then any other whose "
    "figures the run changed, such as the other cluster of a move).",
)


render_reports = define_asset_job(
    "render_reports",
    selection=AssetSelection.assets(*REPORT_KEYS, "out_reports__index"),
    description="Re-render one release's reports from the warehouse (select one cluster's "
    "report asset and the index to re-render only that report).",
)


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
            "io_manager": NO_VALUES_IO_MANAGER,
        },
        executor=in_process_executor,
    )


defs = build_definitions()
