"""The Dagster code location: assets by stage, their checks, resources configured once, the job."""

from __future__ import annotations

from dagster import AssetSelection, Definitions, define_asset_job, in_process_executor

from assets import clusters, profiles, qualify, sources, staging
from pipelines.resources import PolicyResource, SourcesResource, warehouse_from_settings
from pipelines.settings import Settings

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
    selection=AssetSelection.groups("clusters"),
    description="Re-run only the cluster assignment (after a reviewer decision or rule edit).",
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
        jobs=[refresh_warehouse, qualify_occupations, assign_clusters],
        resources={
            "warehouse": warehouse_from_settings(settings),
            "sources": SourcesResource.from_settings(settings),
            "policy": PolicyResource(policy_path=str(settings.resolve(settings.policy_path))),
        },
        executor=in_process_executor,
    )


defs = build_definitions()
